"""An address that already belongs to someone in the directory is told only that it has an
account here and offered sign-in: no code is mailed, nothing else is revealed, nothing created."""

import httpx

from tests.entitlement_support import make_user
from tests.sign_up_support import ask_code, make_flow, result_state, sign_up_row


async def test_existing_address_is_offered_sign_in(server, mail, organization_id):
    member = await make_user(organization_id, "Ella Existing")
    flow_id = await make_flow(organization_id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        page = await ask_code(client, flow_id, member.mail.upper())
    assert page.status_code == 409
    assert result_state(page.text) == "existingUser"
    assert 'href="/signin"' in page.text
    assert "Ella" not in page.text and "Member" not in page.text
    assert mail.to(member.mail) == []
    assert (await sign_up_row(member.mail)).state == "blocked"
