"""SamlMetadataWorkflow, under time skipping: when the last certificate a federation trusts
expires and the partner's metadata publishes no newer one, the organization's administrators are
mailed 30 days and 7 days before (once each, however often the metadata is refreshed), and the
metadata is refreshed daily meanwhile."""

import uuid
from datetime import timedelta

from tests.factories import make_person
from tests.saml_idp import SigningKey
from tests.saml_support import federation_row, idp_for, keep_healthy, make_federation, thumbprint, warnings_for


async def test_admins_are_mailed_30_and_7_days_before(time_env, organization_id, mail):
    admin, _ = await make_person(organization_id, "Global Administrator", "Ada Federation")
    now = await time_env.get_current_time()
    key = SigningKey(not_after=now + timedelta(days=40))
    name = f"Fabrikam {uuid.uuid4().hex[:6]}"
    async with idp_for(organization_id) as idp:
        idp.keys, idp.sign_with = [key], key
        federation = await make_federation(organization_id, idp, display_name=name)
        handle = await keep_healthy(time_env.client, federation)

        await time_env.sleep(timedelta(days=9))  # 31 days left: nothing yet
        assert await warnings_for(federation.id) == []
        refreshed = idp.metadata_requests
        assert refreshed >= 9  # daily

        await time_env.sleep(timedelta(days=2))  # 29 days left
        [first] = await mail.wait_for(admin.mail, 1)
        assert name in first.subject and "30 days" in first.subject
        assert key.not_after.strftime("%Y-%m-%d") in first.text

        await time_env.sleep(timedelta(days=20))  # 9 days left: still only the first
        assert len(await warnings_for(federation.id)) == 1
        await time_env.sleep(timedelta(days=3))  # 6 days left
        messages = await mail.wait_for(admin.mail, 2)
        assert "7 days" in messages[1].subject
        assert await warnings_for(federation.id) == [
            f"saml-certificate-expiring:{federation.id}:{thumbprint(key)}:30",
            f"saml-certificate-expiring:{federation.id}:{thumbprint(key)}:7"]

        row = await federation_row(federation.id)
        assert row.metadata_refreshed_date_time is not None and row.metadata_refresh_error is None
        assert (await handle.describe()).status.name == "RUNNING"
