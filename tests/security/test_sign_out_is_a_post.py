"""Finding 9 (sign-out): signing out is a POST carrying the session's CSRF token, so another site
cannot sign a person out with a link or an image; a GET is 405 and changes nothing."""

import httpx

from tests.factories import make_user
from tests.portal_support import csrf_in, sign_in


async def test_sign_out_needs_a_post_with_the_token(server, mail, organization_id):
    member = await make_user(organization_id, "Out Member")
    async with httpx.AsyncClient(base_url=server, timeout=30, follow_redirects=False) as client:
        await sign_in(client, mail, member.mail)
        page = await client.get("/myaccess")
        assert page.status_code == 200
        token = csrf_in(page.text, "/signout")  # the page's sign-out button is a form

        assert (await client.get("/signout")).status_code == 405
        forged = await client.post("/signout", data={"csrf": "forged"})
        assert forged.status_code == 403
        no_token = await client.post("/signout")
        assert no_token.status_code == 403
        assert (await client.get("/myaccess")).status_code == 200  # still signed in

        out = await client.post("/signout", data={"csrf": token})
        assert out.status_code == 200 and "signed out" in out.text
        assert client.cookies.get("foyer_session") is None
        assert (await client.get("/myaccess")).status_code == 303


async def test_sign_out_without_a_session_just_says_so(server):
    async with httpx.AsyncClient(base_url=server, timeout=30, follow_redirects=False) as client:
        response = await client.post("/signout", data={"csrf": "anything"})
    assert response.status_code == 200 and "signed out" in response.text
