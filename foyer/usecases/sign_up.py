"""Sign-up use cases shared by the sign-up activities and pages."""

from sqlmodel import select

from models.directory import Organization
from models.sign_up import UserFlow, UserFlowAttribute
from workflows.messages.sign_up import SignUpFlow


async def snapshot_flow(session, org: Organization, flow: UserFlow) -> SignUpFlow:
    """What a SignUpWorkflow keeps of its user flow, taken once per attempt."""
    custom = {a.id: a.data_type for a in (await session.exec(select(UserFlowAttribute).where(
        UserFlowAttribute.organization_id == org.id))).all()}
    assignments = []
    for assignment in flow.user_attribute_assignments or []:
        key = (assignment.get("userAttribute") or {}).get("id") or assignment.get("id")
        assignments.append({**assignment, "dataType": custom.get(key, "string")})
    return SignUpFlow(
        id=flow.id, organization_id=org.id, organization_name=org.display_name,
        organization_domain=org.primary_domain, display_name=flow.display_name,
        identity_provider_ids=list(flow.identity_provider_ids or []), assignments=assignments,
        application_ids=list(flow.application_ids or []),
        post_federation_signup_connector_id=flow.post_federation_signup_connector_id,
        post_attribute_collection_connector_id=flow.post_attribute_collection_connector_id,
        identity_verification=flow.identity_verification, approval=flow.approval)
