"""SamlMetadataWorkflow, under time skipping: a signing certificate the partner publishes in its
metadata ahead of a rollover is trusted at the next refresh (assertions signed with it verify at
once), becomes the federation's signingCertificate when the old one expires, and the expired one is
dropped; no expiry warning is mailed, since a newer certificate appeared. A metadata URL that
fails is reported on the federation (foyerMetadataRefreshError) and changes nothing. Deleting the
federation ends the workflow."""

from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus

from foyer.db import session_scope
from foyer.models.federation import FederationConfiguration
from tests.saml_idp import SigningKey
from tests.saml_support import (
    federation_row, idp_for, keep_healthy, make_federation, requested, verify, warnings_for,
)
from tests.support import until


async def test_new_certificate_is_picked_up_and_rolled_over(time_env, organization_id):
    now = await time_env.get_current_time()
    old = SigningKey(not_after=now + timedelta(days=40))  # no warning due yet
    async with idp_for(organization_id) as idp:
        idp.keys, idp.sign_with = [old], old
        federation = await make_federation(organization_id, idp)
        handle = await keep_healthy(time_env.client, federation)
        await until(lambda: federation_row(federation.id), lambda r: r.metadata_refreshed_date_time is not None)

        new = idp.rotate(days=400)
        await time_env.sleep(timedelta(days=1, minutes=1))
        row = await until(lambda: federation_row(federation.id), lambda r: len(r.signing_certificates) == 2)
        assert row.signing_certificate == old.certificate
        assert row.signing_certificates == [old.certificate, new.certificate]
        idp.sign_with = new  # the partner switches keys before the old one expires
        request_id = await requested(organization_id, row)
        assert (await verify(row, idp.response(request_id), request_id)).issuer_assigned_id == idp.user.name_id

        await time_env.sleep(timedelta(days=40))  # the old one has expired
        row = await until(lambda: federation_row(federation.id), lambda r: r.signing_certificate == new.certificate)
        assert row.signing_certificates == [new.certificate]
        assert await warnings_for(federation.id) == []

        idp.metadata_status = 503
        await time_env.sleep(timedelta(days=1, minutes=1))
        row = await until(lambda: federation_row(federation.id), lambda r: r.metadata_refresh_error is not None)
        assert "503" in row.metadata_refresh_error and row.signing_certificate == new.certificate

    async with session_scope() as session:
        await session.delete(await session.get(FederationConfiguration, federation.id))
    await time_env.sleep(timedelta(days=1, minutes=1))  # the next refresh finds it gone
    assert await handle.result() == "federationDeleted"
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
