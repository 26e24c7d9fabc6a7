"""An address that already belongs to someone in the directory is answered exactly as a new one
(the page must not reveal who has an account): the same "we emailed a code" page. Its mail says
it already has an account and links to sign-in; it holds no code, no code works for the attempt,
nothing is revealed and nothing is created or changed."""

import re

import httpx

from tests.factories import make_user
from tests.sign_up_support import ask_code, result_state, sign_up_id_in, sign_up_row
from tests.factories import make_flow
from tests.support import find_user


async def test_existing_address_is_mailed_a_pointer_to_sign_in(server, mail, organization_id):
    member = await make_user(organization_id, "Ella Existing")
    flow_id = await make_flow(organization_id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        page = await ask_code(client, flow_id, member.mail.upper())
        assert page.status_code == 200
        assert result_state(page.text) is None and 'id="verify-form"' in page.text
        assert f"We emailed a code to {member.mail.upper()}" in page.text
        assert "Ella" not in page.text and "account" not in page.text
        sign_up_id = sign_up_id_in(page.text)

        messages = await mail.wait_for(member.mail)
        assert len(messages) == 1
        assert "already have an account" in messages[0].subject
        assert f"{server}/signin" in messages[0].text
        assert re.search(r"\b\d{8}\b", messages[0].text) is None

        # Whatever is typed fails as a wrong code does.
        for code, left in (("12345678", 4), ("00000000", 3)):
            tried = await client.post(f"/signup/{flow_id}/verify",
                                      data={"sign_up_id": sign_up_id, "code": code, "email": member.mail})
            assert tried.status_code == 400 and f"{left} tries left" in tried.text

    row = await sign_up_row(member.mail)
    assert row.state == "codeSent" and row.user_id is None
    user = await find_user(member.mail)
    assert user.id == member.id and user.display_name == "Ella Existing"
    assert user.creation_type is None
