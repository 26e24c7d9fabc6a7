"""Who app_access refuses gets a page that says why, with a "Return to <app>" link that carries
error=access_denied and the reason (AADSTS number) to the app's redirect URI; the refusal is in
the sign-in log. Unassigned guests, guests who have not redeemed, and people removed from the app
(whose refresh tokens stop too)."""

import html
import re

from sqlalchemy import delete
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.directory import AppRoleAssignment
from foyer.models.openid import SignInLog
from tests.factories import make_user, user_row
from tests.openid_support import assign, browser, relying_party, signed_in


def return_link(page: str) -> str:
    found = re.search(r'<a href="([^"]+)">Return to ([^<]+)</a>', page)
    assert found, page
    return html.unescape(found.group(1))


async def _logged(user_id: str) -> list[int]:
    async with session_scope() as session:
        return list((await session.exec(select(SignInLog.error_code).where(SignInLog.user_id == user_id)
                                        .order_by(SignInLog.created_date_time))).all())


async def test_an_unassigned_guest_is_refused_with_a_page_and_access_denied(server, organization_id):
    guest = await make_user(organization_id, "Una Signed", guest=True)
    async with relying_party(organization_id) as (rp, app):
        async with browser(follow_redirects=True) as client:
            signed_in(client, guest)
            page = await client.get(f"{rp.url}/login")
            assert page.status_code == 403
            assert "<h1>You can&#39;t sign in to Partner Portal</h1>" in page.text
            assert "You are not assigned to Partner Portal" in page.text
            link = return_link(page.text)
            assert link.startswith(rp.redirect_uri + "?error=access_denied")
            back = await client.get(link)
        assert back.status_code == 400
        assert back.json()["error"] == "access_denied" and "AADSTS50105" in back.json()["error_description"]
        assert rp.last_token is None
    assert await _logged(guest.id) == [50105]


async def test_a_guest_who_has_not_redeemed_is_refused(server, organization_id):
    pending = user_row(organization_id, "Penny Ding", guest=True)
    pending.external_user_state = "PendingAcceptance"
    async with session_scope() as session:
        session.add(pending)
    async with relying_party(organization_id) as (rp, app):
        await assign(app, pending)
        async with browser(follow_redirects=True) as client:
            signed_in(client, pending)
            page = await client.get(f"{rp.url}/login")
            assert page.status_code == 403 and "has not been redeemed" in page.text
            back = await client.get(return_link(page.text))
        assert back.json()["error"] == "access_denied" and "AADSTS90072" in back.json()["error_description"]
    assert await _logged(pending.id) == [90072]


async def test_removal_from_the_app_stops_refreshes_and_the_next_sign_in(server, organization_id):
    guest = await make_user(organization_id, "Rémi Moved", guest=True)
    async with relying_party(organization_id) as (rp, app):
        await assign(app, guest)
        async with browser(follow_redirects=True) as client:
            signed_in(client, guest)
            assert (await client.get(f"{rp.url}/login")).status_code == 200
            assert (await client.get(f"{rp.url}/refresh")).status_code == 200
            async with session_scope() as session:
                await session.exec(delete(AppRoleAssignment).where(AppRoleAssignment.principal_id == guest.id))
            refused = await client.get(f"{rp.url}/refresh")
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
            assert "AADSTS50105" in refused.json()["error_description"]
            again = await client.get(f"{rp.url}/login")
            assert again.status_code == 403
    assert await _logged(guest.id) == [0, 0, 50105, 50105]
