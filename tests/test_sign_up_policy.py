"""Self-service sign-up honours the organization's settings: turned off, or a blocked domain,
refuses at the email step with no code mailed and nothing created; an unknown flow is a 404."""

import httpx

from tests.sign_up_support import ask_code, result_state, sign_up_row
from tests.factories import make_flow, update_organization
from tests.support import find_user, unique_email


async def test_blocked_domain_and_disabled_sign_up_are_refused(server, mail, organization_id):
    flow_id = await make_flow(organization_id)
    blocked = unique_email("blocked.example")
    try:
        await update_organization(organization_id, domain_list_mode="blockList", domain_list=["blocked.example"])
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            page = await ask_code(client, flow_id, blocked)
            assert page.status_code == 403 and result_state(page.text) == "refused"
            assert "blocked" in page.text
            await update_organization(organization_id, domain_list_mode="none", domain_list=[],
                       self_service_sign_up_enabled=False)
            off = unique_email()
            page = await ask_code(client, flow_id, off)
            assert page.status_code == 403 and result_state(page.text) == "refused"
            assert "turned off" in page.text
            missing = await client.get("/signup/B2X_1_no_such_flow")
            assert missing.status_code == 404
    finally:
        await update_organization(organization_id, self_service_sign_up_enabled=True)
    assert mail.to(blocked) == [] and mail.to(off) == []
    assert (await sign_up_row(blocked)).state == "blocked"
    assert await find_user(blocked) is None and await find_user(off) is None
