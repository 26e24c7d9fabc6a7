"""My Apps (Entra's Access Panel, /myapps): the applications the signed-in person may open, each
a link to its web.homePageUrl (the app then signs them in through Foyer's OpenID Provider).

Which apps: foyer.usecases.app_access.apps_for — assigned directly, through a group, or through
an access package — the same rule the provider's endpoints ask. Not signed in: the sign-in page,
which comes back here.
"""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from foyer.api.deps import SessionDep
from foyer.api.pages.deps import PageUser, page
from foyer.usecases.app_access import apps_for

router = APIRouter(prefix="/myapps", tags=["pages"], include_in_schema=False)


@router.get("")
async def my_apps(me: PageUser, session: SessionDep) -> HTMLResponse:
    apps = await apps_for(session, me.user)
    return page("myapps", me=me, apps=apps)
