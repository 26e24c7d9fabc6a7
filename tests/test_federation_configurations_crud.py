"""`/v1.0/directory/federationConfigurations`: a Global Administrator creates a SAML direct
federation (201, Graph's shape), lists and reads it (with $expand=domains), changes it (204), adds
and removes domains, and deletes it; the create starts its SamlMetadataWorkflow
(`saml-metadata:{id}`) and the delete ends it; every change is audited."""

import uuid

from sqlmodel import select
from temporalio.client import WorkflowExecutionStatus

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.workflows.messages.saml_metadata import saml_metadata_workflow_id
from tests.saml_idp import SigningKey
from tests.support import until

ROOT = "/v1.0/directory/federationConfigurations"
CREATE = f"{ROOT}/microsoft.graph.samlOrWsFedExternalDomainFederation"


def body(domain: str, **extra) -> dict:
    return {"@odata.type": "microsoft.graph.samlOrWsFedExternalDomainFederation",
            "displayName": "Contoso partners", "issuerUri": f"https://sts.{domain}/adfs/services/trust",
            "metadataExchangeUri": f"https://sts.{domain}/federationmetadata/2007-06/federationmetadata.xml",
            "passiveSignInUri": f"https://sts.{domain}/adfs/ls/", "preferredAuthenticationProtocol": "saml",
            "signingCertificate": SigningKey().certificate,
            "domains": [{"@odata.type": "microsoft.graph.externalDomainName", "id": domain}], **extra}


def domain() -> str:
    return f"partner-{uuid.uuid4().hex[:8]}.example.com"


async def test_lifecycle(api, admin, temporal):
    name = domain()
    sent = body(name, metadataExchangeUri=None)
    created = await api.post(CREATE, json=sent, headers=admin)
    assert created.status_code == 201, created.text
    row = created.json()
    assert row["@odata.type"] == "#microsoft.graph.samlOrWsFedExternalDomainFederation"
    assert {k: row[k] for k in ("displayName", "issuerUri", "passiveSignInUri", "preferredAuthenticationProtocol",
                                "signingCertificate", "metadataExchangeUri")} == {
        "displayName": "Contoso partners", "issuerUri": sent["issuerUri"], "passiveSignInUri": sent["passiveSignInUri"],
        "preferredAuthenticationProtocol": "saml", "signingCertificate": sent["signingCertificate"],
        "metadataExchangeUri": None}
    assert row["domains"] == [{"@odata.type": "#microsoft.graph.externalDomainName", "id": name}]
    federation_id = row["id"]

    handle = temporal.client.get_workflow_handle(saml_metadata_workflow_id(federation_id))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    listed = (await api.get(ROOT, headers=admin)).json()["value"]
    assert federation_id in [r["id"] for r in listed] and "domains" not in listed[0]
    got = (await api.get(f"{ROOT}/{federation_id}?$expand=domains", headers=admin)).json()
    assert got["domains"] == row["domains"]

    changed = await api.patch(f"{ROOT}/{federation_id}", headers=admin, json={
        "displayName": "Contoso B2B", "passiveSignInUri": f"https://login.{name}/saml"})
    assert changed.status_code == 204, changed.text
    assert (await api.get(f"{ROOT}/{federation_id}", headers=admin)).json()["displayName"] == "Contoso B2B"

    domains = f"{ROOT}/{federation_id}/microsoft.graph.samlOrWsFedExternalDomainFederation/domains"
    second = domain()
    added = await api.post(domains, headers=admin, json={"@odata.type": "microsoft.graph.externalDomainName",
                                                          "id": second.upper()})
    assert added.status_code == 201 and added.json()["id"] == second
    assert [d["id"] for d in (await api.get(domains, headers=admin)).json()["value"]] == [name, second]
    assert (await api.get(f"{domains}/{second}", headers=admin)).status_code == 200
    assert (await api.delete(f"{domains}/{second}", headers=admin)).status_code == 204
    assert (await api.get(f"{domains}/{second}", headers=admin)).status_code == 404

    assert (await api.delete(f"{ROOT}/{federation_id}", headers=admin)).status_code == 204
    assert (await api.get(f"{ROOT}/{federation_id}", headers=admin)).status_code == 404
    await until(handle.describe, lambda d: d.status != WorkflowExecutionStatus.RUNNING)

    async with session_scope() as session:
        activities = (await session.exec(select(AuditRecord.activity_display_name).where(
            AuditRecord.target_id == federation_id).order_by(AuditRecord.activity_date_time))).all()
    assert activities == ["Add external domain federation", "Update external domain federation",
                          "Add domain to external domain federation",
                          "Remove domain from external domain federation", "Delete external domain federation"]


async def test_reads_are_for_administrators_and_changes_for_global_administrators(api, make_token):
    member = await make_token("member")
    user_admin = await make_token("User Administrator")
    assert (await api.get(ROOT, headers=member)).status_code == 403
    assert (await api.get(ROOT, headers=user_admin)).status_code == 200
    refused = await api.post(CREATE, json=body(domain()), headers=user_admin)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert (await api.get(ROOT)).status_code == 401
