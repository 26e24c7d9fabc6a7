"""Activities of the SamlMetadataWorkflow (`saml-metadata:{federation}`). Both are safe to retry:
a refresh only adds what is missing and audits under keys; the warning is written to the outbox
under a key per certificate and threshold, and the outbox never sends a key twice."""

from temporalio import activity

from foyer.activities import mail
from foyer.audit import audit
from foyer.db import session_scope
from foyer.templating import render_mail
from foyer.usecases import saml_metadata
from foyer.workflows.messages.saml_metadata import (
    CertificateState, ExpiryWarningInput, RefreshInput, RefreshResult,
)


@activity.defn
async def refresh_saml_metadata(data: RefreshInput) -> RefreshResult:
    found = await saml_metadata.refresh(data.federation_id, data.now)
    return RefreshResult(exists=found.exists, added=found.added, error=found.error, certificates=[
        CertificateState(thumbprint=c.thumbprint, not_after=c.not_after) for c in found.certificates])


def warning_key(data: ExpiryWarningInput) -> str:
    return f"saml-certificate-expiring:{data.federation_id}:{data.thumbprint}:{data.days}"


@activity.defn
async def mail_saml_certificate_expiring(data: ExpiryWarningInput) -> int:
    """Mail the organization's administrators that the federation's last certificate expires in
    `days` days; answers how many were mailed (0 when none has an address: audited as a failure)."""
    key = warning_key(data)
    async with session_scope() as session:
        found = await saml_metadata.expiry_warning(session, data.federation_id)
        if found is None:
            return 0
        federation, org, to = found
        target = {"organization_id": federation.organization_id, "category": "DirectoryManagement",
                  "target_type": "FederationConfiguration", "target_id": federation.id,
                  "target_name": federation.display_name, "workflow_id": activity.info().workflow_id}
        if not to:
            await audit(session, key=f"{key}:nobody", activity="Warn of expiring federation certificate",
                        result="failure", reason="no administrator has an email address", **target,
                        details={"thumbprint": data.thumbprint, "days": data.days})
            return 0
        subject, text, html = render_mail(
            "saml_certificate_expiring", organization=org.display_name if org else "",
            federation=federation.display_name, issuer=federation.issuer_uri, days=data.days,
            not_after=data.not_after, metadata_url=federation.metadata_exchange_uri,
            federation_id=federation.id)
        await mail.enqueue(session, key=key, to=to, subject=subject, text=text, html=html)
        await audit(session, key=f"{key}:queued", activity="Warn of expiring federation certificate", **target,
                    details={"thumbprint": data.thumbprint, "days": data.days, "to": ", ".join(to)})
    await mail.deliver(key)
    return len(to)


ALL = [refresh_saml_metadata, mail_saml_certificate_expiring]
