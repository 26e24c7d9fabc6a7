"""My Apps (Entra's Access Panel, /myapps): the applications the signed-in person may open, each
a link to its web.homePageUrl (the app then signs them in through Foyer's OpenID Provider).

Which apps: foyer.usecases.app_access.apps_for — assigned directly, through a group, or through
an access package — the same rule the provider's endpoints ask. Not signed in: the sign-in page,
which comes back here.

`/myapps/{id}` (the application's id or appId) is the direct link to one app, what an invitation's
inviteRedirectUrl or a message can carry ("send a direct link to an app you want to share"): it
sends a person who may use the app to its home page, and tells anyone else why not.
"""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import or_, select

from foyer.api.deps import SessionDep
from foyer.api.pages.deps import PageUser, page
from foyer.usecases.app_access import app_access, apps_for
from foyer.models.directory import Application

router = APIRouter(prefix="/myapps", tags=["pages"], include_in_schema=False)


@router.get("")
async def my_apps(me: PageUser, session: SessionDep) -> HTMLResponse:
    apps = await apps_for(session, me.user)
    return page("myapps", me=me, apps=apps)


@router.get("/{app_id}", response_model=None)
async def open_app(app_id: str, me: PageUser, session: SessionDep) -> HTMLResponse | RedirectResponse:
    app = (await session.exec(select(Application).where(
        Application.organization_id == me.user.organization_id,
        or_(Application.id == app_id, Application.app_id == app_id)))).first()
    if app is None:
        return page("portal_message", status=404, me=me, headline="This application does not exist",
                    explanation="The link may be mistyped, or the application was removed.",
                    link="/myapps", link_text="Back to My Apps")
    access = await app_access(session, me.user, app)
    if not access.allowed:
        return page("portal_message", status=403, me=me, headline=f"You cannot open {app.display_name}",
                    explanation=access.reason, link="/myaccess", link_text="Request access in My Access")
    if not app.home_page_url:
        return page("portal_message", me=me, headline=app.display_name,
                    explanation="No sign-in link: this application has no home page address. "
                                "Open it the way its owner told you.",
                    link="/myapps", link_text="Back to My Apps")
    return RedirectResponse(app.home_page_url, status_code=303)
