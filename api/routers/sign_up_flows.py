"""Self-service sign-up configuration in Graph's shapes: `/v1.0/identity/b2xUserFlows` (with
`userAttributeAssignments`, `apiConnectorConfiguration`, `identityProviders`),
`/v1.0/identity/userFlowAttributes` and `/v1.0/policies/authenticationFlowsPolicy`.
Global Administrators change them; administrators read them (the policy: any member).

Custom attributes are named as Graph names them, `extension_<appId>_<name>`: `<appId>` is the
organization's "b2x extensions app" id without dashes, a UUID derived (uuid5) from the
organization id, so it is stable for the life of the organization and the same on every node.
"""

import uuid
from typing import Any, Literal

from fastapi import Body, Query, Response
from pydantic import Field, StrictBool, field_validator
from sqlmodel import col, func, select

from foyer.audit import audit
from foyer.api.deps import (
    AdminCaller, Caller, GlobalAdminCaller, MemberCaller, OrganizationDep, SessionDep, get_in_org,
)
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import GraphRouter, reference_id
from foyer.usecases.updates import commit
from foyer.usecases import identity_providers
from foyer.api.schemas import GraphModel, iso, refuse_null
from foyer.api.schemas import sign_up as shapes
from foyer.api.schemas.sign_up import connector_body
from foyer.durations import check_duration, parse_duration
from foyer.names import DisplayName, MultilineText
from foyer.models.base import utcnow
from foyer.models.directory import Application, Organization, User
from foyer.models.sign_up import SIGN_UP_ENDED, ApiConnector, SignUp, UserFlow, UserFlowAttribute

flows_router = GraphRouter(prefix="/v1.0/identity/b2xUserFlows", tags=["self-service sign-up"])
attributes_router = GraphRouter(prefix="/v1.0/identity/userFlowAttributes", tags=["self-service sign-up"])
policy_router = GraphRouter(prefix="/v1.0/policies", tags=["policies"])
routers = (flows_router, attributes_router, policy_router)

# --- attributes -------------------------------------------------------------------------------

BUILT_IN = {  # Graph's built-in user flow attributes: id → (displayName, description)
    "city": ("City", "The city in which the user is located."),
    "country": ("Country/Region", "The country/region in which the user is located."),
    "displayName": ("Display Name", "Display Name of the User."),
    "email": ("Email Address", "Email address of the user."),
    "givenName": ("Given Name", "The user's given name (also known as first name)."),
    "jobTitle": ("Job Title", "The user's job title."),
    "postalCode": ("Postal Code", "The postal code of the user's address."),
    "state": ("State/Province", "The state or province in user's address."),
    "streetAddress": ("Street Address", "The street address where the user is located."),
    "surname": ("Surname", "The user's surname (also known as family name or last name)."),
}
DATA_TYPES = ("string", "boolean", "int64")


def extensions_app_id(organization_id: str) -> str:
    """The organization's b2x extensions app id (without dashes), stable per organization."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"foyer:b2x-extensions-app:{organization_id}").hex


def built_in_body(attribute_id: str) -> dict:
    name, description = BUILT_IN[attribute_id]
    return {"id": attribute_id, "displayName": name, "description": description,
            "userFlowAttributeType": "builtIn", "dataType": "string"}


def custom_body(row: UserFlowAttribute) -> dict:
    return {"id": row.id, "displayName": row.display_name, "description": row.description,
            "userFlowAttributeType": "custom", "dataType": row.data_type}


async def attribute_data_type(session, org: Organization, attribute_id: str) -> str:
    if attribute_id in BUILT_IN:
        return "string"
    row = await session.get(UserFlowAttribute, attribute_id)
    if row is None or row.organization_id != org.id:
        raise not_found(f"user flow attribute {attribute_id}")
    return row.data_type


class AttributeCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=100)
    description: MultilineText | None = Field(default=None, max_length=1024)
    data_type: Literal["string", "boolean", "int64"]

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str) -> str:
        name = value.replace(" ", "")
        if not name or not (name[0].isascii() and name[0].isalpha()) or \
                not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
            raise ValueError("displayName must start with a letter and hold only letters, digits, "
                             "underscores and spaces")
        return value.strip()


class AttributeUpdate(GraphModel):
    description: MultilineText | None = Field(default=None, max_length=1024)


async def record(session, org: Organization, caller: Caller, activity: str, target_type: str,
                 target_id: str, target_name: str | None, **details) -> None:
    await audit(session, key=None, category="SelfServiceSignUp", activity=activity,
                organization_id=org.id, **caller.actor, target_type=target_type,
                target_id=target_id, target_name=target_name, details=details)


@attributes_router.get("", response_model=shapes.IdentityUserFlowAttributeCollection)
async def list_attributes(caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = (await session.exec(select(UserFlowAttribute).where(UserFlowAttribute.organization_id == org.id)
                               .order_by(UserFlowAttribute.created_date_time, UserFlowAttribute.id))).all()
    return {"value": [built_in_body(a) for a in BUILT_IN] + [custom_body(r) for r in rows]}


@attributes_router.post("", status_code=201, response_model=shapes.IdentityUserFlowAttribute)
async def create_attribute(body: AttributeCreate, caller: GlobalAdminCaller, session: SessionDep,
                           org: OrganizationDep) -> dict:
    name = body.display_name.replace(" ", "")
    if name.lower() in {b.lower() for b in BUILT_IN}:
        raise GraphError(409, "conflictingObject", f"'{name}' is a built-in attribute")
    attribute_id = f"extension_{extensions_app_id(org.id)}_{name}"
    existing = (await session.exec(select(UserFlowAttribute).where(
        UserFlowAttribute.organization_id == org.id))).all()
    if any(r.name.lower() == name.lower() for r in existing):
        raise GraphError(409, "conflictingObject", f"a custom attribute named '{name}' already exists")
    row = UserFlowAttribute(id=attribute_id, organization_id=org.id, name=name, display_name=body.display_name,
                            description=body.description, data_type=body.data_type)
    session.add(row)
    await record(session, org, caller, "Create user flow attribute", "UserFlowAttribute", row.id,
                 row.display_name, dataType=row.data_type)
    await commit(session, f"a custom attribute named '{name}' already exists")
    return custom_body(row)


async def custom_attribute(session, org, attribute_id: str) -> UserFlowAttribute:
    if attribute_id in BUILT_IN:
        raise bad_request(f"'{attribute_id}' is a built-in attribute and cannot be changed or deleted")
    return await get_in_org(session, UserFlowAttribute, org, attribute_id, "user flow attribute")


@attributes_router.get("/{attribute_id}", response_model=shapes.IdentityUserFlowAttribute)
async def get_attribute(attribute_id: str, caller: AdminCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    if attribute_id in BUILT_IN:
        return built_in_body(attribute_id)
    return custom_body(await get_in_org(session, UserFlowAttribute, org, attribute_id, "user flow attribute"))


@attributes_router.patch("/{attribute_id}", status_code=204)
async def update_attribute(attribute_id: str, body: AttributeUpdate, caller: GlobalAdminCaller,
                           session: SessionDep, org: OrganizationDep) -> Response:
    row = await custom_attribute(session, org, attribute_id)
    if "description" not in body.model_fields_set:
        raise bad_request("nothing to update: only description can be changed")
    row.description = body.description
    session.add(row)
    await record(session, org, caller, "Update user flow attribute", "UserFlowAttribute", row.id,
                 row.display_name, description=row.description)
    await commit(session, "the attribute could not be saved")
    return Response(status_code=204)


@attributes_router.delete("/{attribute_id}", status_code=204)
async def delete_attribute(attribute_id: str, caller: GlobalAdminCaller, session: SessionDep,
                           org: OrganizationDep) -> Response:
    row = await custom_attribute(session, org, attribute_id)
    flows = (await session.exec(select(UserFlow).where(UserFlow.organization_id == org.id))).all()
    using = [f.id for f in flows if any(assignment_attribute(a) == row.id for a in f.user_attribute_assignments)]
    if using:
        raise GraphError(409, "conflictingObject", f"the attribute '{row.display_name}' is collected by "
                         f"the user flow(s) {', '.join(using)}: remove it from them first")
    await session.delete(row)
    await record(session, org, caller, "Delete user flow attribute", "UserFlowAttribute", row.id, row.display_name)
    await commit(session, "the attribute is still in use")
    return Response(status_code=204)


# --- user flows -------------------------------------------------------------------------------

IDENTITY_PROVIDERS = {
    "EmailOtpSignup-OAUTH": {"@odata.type": "#microsoft.graph.builtInIdentityProvider",
                             "id": "EmailOtpSignup-OAUTH", "displayName": "Email One Time Passcode",
                             "identityProviderType": "EmailOTP"},
}
STEPS = {"postFederationSignup": "post_federation_signup_connector_id",
         "postAttributeCollection": "post_attribute_collection_connector_id"}


def duration(value: str, field: str) -> str:
    """A timeout or reminder of the flow's steps: PT1M to P90D (the one duration rule), a 400."""
    try:
        check_duration(value, field, at_least="PT1M", at_most="P90D")
    except ValueError as error:
        raise bad_request(str(error)) from None
    return value


def assignment_attribute(assignment: dict) -> str | None:
    return (assignment.get("userAttribute") or {}).get("id") or assignment.get("id")


def flow_body(row: UserFlow) -> dict:
    return {
        "id": row.id, "userFlowType": row.user_flow_type, "userFlowTypeVersion": row.user_flow_type_version,
        "foyerApplicationIds": list(row.application_ids),
        "foyerIdentityVerification": row.identity_verification,
        "foyerApproval": row.approval,
        "foyerCreatedDateTime": iso(row.created_date_time),
        "foyerModifiedDateTime": iso(row.modified_date_time),
    }


class IdentityProviderRef(GraphModel):
    id: str


class VerificationSettings(GraphModel):
    api_connector_id: str
    timeout: str = "P2D"


class ApprovalSettings(GraphModel):
    approver_ids: list[str] = Field(default_factory=list, max_length=50)
    api_connector_id: str | None = None
    timeout: str = "P7D"
    reminder_interval: str | None = None


class FlowSettings(GraphModel):
    foyer_application_ids: list[str] | None = Field(default=None, max_length=50)
    foyer_identity_verification: VerificationSettings | None = None
    foyer_approval: ApprovalSettings | None = None

    _present = refuse_null("foyer_application_ids", message="may not be null; use []")


class FlowCreate(FlowSettings):
    id: str = Field(min_length=1, max_length=64)
    user_flow_type: str
    user_flow_type_version: float = Field(default=1.0, gt=0)
    identity_providers: list[IdentityProviderRef] | None = None
    api_connector_configuration: dict | None = None


async def check_connector(session, org, connector_id: str | None, field: str) -> None:
    if connector_id is None:
        return
    row = await session.get(ApiConnector, connector_id)
    if row is None or row.organization_id != org.id:
        raise not_found(f"{field}: API connector {connector_id}")


async def apply_settings(session, org: Organization, row: UserFlow, body: FlowSettings) -> dict:
    """Validate and set Foyer's own fields that the body gives; the changes, for the audit."""
    changes: dict = {}
    fields = body.model_fields_set
    if "foyer_application_ids" in fields:
        ids = list(dict.fromkeys(body.foyer_application_ids))
        for app_id in ids:
            app = await session.get(Application, app_id)
            if app is None or app.organization_id != org.id:
                raise not_found(f"foyerApplicationIds: application {app_id}")
        changes["foyerApplicationIds"] = row.application_ids = ids
    if "foyer_identity_verification" in fields:
        verification = body.foyer_identity_verification
        if verification is None:
            row.identity_verification = None
        else:
            await check_connector(session, org, verification.api_connector_id,
                                  "foyerIdentityVerification.apiConnectorId")
            row.identity_verification = {
                "apiConnectorId": verification.api_connector_id,
                "timeout": duration(verification.timeout, "foyerIdentityVerification.timeout")}
        changes["foyerIdentityVerification"] = row.identity_verification
    if "foyer_approval" in fields:
        approval = body.foyer_approval
        if approval is None:
            row.approval = None
        else:
            approvers = list(dict.fromkeys(approval.approver_ids))
            if not approvers and approval.api_connector_id is None:
                raise bad_request("foyerApproval needs approverIds, an apiConnectorId, or both")
            for user_id in approvers:
                user = await session.get(User, user_id)
                if user is None or user.organization_id != org.id:
                    raise not_found(f"foyerApproval.approverIds: user {user_id}")
            await check_connector(session, org, approval.api_connector_id, "foyerApproval.apiConnectorId")
            timeout = duration(approval.timeout, "foyerApproval.timeout")
            reminder = None
            if approval.reminder_interval is not None:
                reminder = duration(approval.reminder_interval, "foyerApproval.reminderInterval")
                if parse_duration(reminder) >= parse_duration(timeout):
                    raise bad_request("foyerApproval.reminderInterval must be shorter than its timeout")
            row.approval = {"approverIds": approvers, "apiConnectorId": approval.api_connector_id,
                            "timeout": timeout, "reminderInterval": reminder}
        changes["foyerApproval"] = row.approval
    return changes


async def get_flow(session, org, flow_id: str) -> UserFlow:
    return await get_in_org(session, UserFlow, org, flow_id, "user flow")


async def save_flow(session, org, caller, row: UserFlow, activity: str, **changes) -> None:
    row.modified_date_time = utcnow()
    session.add(row)
    await record(session, org, caller, activity, "UserFlow", row.id, row.id, **changes)
    await commit(session, "the user flow could not be saved")


@flows_router.post("", status_code=201, response_model=shapes.B2xIdentityUserFlow)
async def create_flow(body: FlowCreate, caller: GlobalAdminCaller, session: SessionDep,
                      org: OrganizationDep) -> dict:
    flow_id = body.id.strip()
    if not flow_id.startswith("B2X_1_"):
        flow_id = "B2X_1_" + flow_id
    if len(flow_id) > 70 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in flow_id):
        raise bad_request("id may hold only letters, digits, '_' and '-'")
    if body.user_flow_type != "signUpOrSignIn":
        raise bad_request("userFlowType must be signUpOrSignIn (the only type of self-service sign-up)")
    providers = [p.id for p in body.identity_providers] if body.identity_providers else ["EmailOtpSignup-OAUTH"]
    known = await offered_providers(session, org)
    unknown = [p for p in providers if p not in known]
    if unknown:
        raise bad_request(f"unknown identity provider(s) {', '.join(unknown)}: the organization has "
                          f"{', '.join(known)}")
    existing = await session.get(UserFlow, flow_id)
    if existing is not None:
        raise GraphError(409, "conflictingObject", f"a user flow {flow_id} already exists")
    row = UserFlow(id=flow_id, organization_id=org.id, user_flow_type=body.user_flow_type,
                   user_flow_type_version=body.user_flow_type_version,
                   identity_provider_ids=list(dict.fromkeys(providers)))
    changes = await apply_settings(session, org, row, body)
    for step, reference in (body.api_connector_configuration or {}).items():
        if step not in STEPS:
            raise bad_request(f"apiConnectorConfiguration: unknown step {step} (postFederationSignup, "
                              "postAttributeCollection)")
        connector_id = reference_id(reference, "apiConnectors") if reference is not None else None
        await check_connector(session, org, connector_id, f"apiConnectorConfiguration.{step}")
        setattr(row, STEPS[step], connector_id)
        changes[step] = connector_id
    session.add(row)
    await record(session, org, caller, "Create user flow", "UserFlow", row.id, row.id,
                 identityProviders=row.identity_provider_ids, **changes)
    await commit(session, f"a user flow {flow_id} already exists")
    return flow_body(row)


@flows_router.get("", response_model=shapes.B2xIdentityUserFlowCollection)
async def list_flows(caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = (await session.exec(select(UserFlow).where(UserFlow.organization_id == org.id)
                               .order_by(UserFlow.created_date_time, UserFlow.id))).all()
    return {"value": [flow_body(r) for r in rows]}


EXPANDABLE = ("apiConnectorConfiguration", "identityProviders", "userAttributeAssignments")


@flows_router.get("/{flow_id}", response_model=shapes.B2xIdentityUserFlow)
async def get_flow_route(flow_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                         expand: str | None = Query(None, alias="$expand")) -> dict:
    """Graph's `$expand`: identityProviders, userAttributeAssignments, apiConnectorConfiguration
    (the connectors' ids) or apiConnectorConfiguration/<step> (that step's connector in full)."""
    row = await get_flow(session, org, flow_id)
    body = flow_body(row)
    wanted = [p.strip() for p in (expand or "").split(",") if p.strip()]
    steps = {p.split("/", 1)[1] for p in wanted if p.startswith("apiConnectorConfiguration/")}
    unknown = [p for p in wanted if p not in EXPANDABLE and not p.startswith("apiConnectorConfiguration/")]
    if unknown:
        raise bad_request(f"$expand: unknown {', '.join(unknown)} ({', '.join(EXPANDABLE)}, "
                          "apiConnectorConfiguration/postFederationSignup, …/postAttributeCollection)")
    if "identityProviders" in wanted:
        body["identityProviders"] = await identity_providers_body(session, org, row)
    if "userAttributeAssignments" in wanted:
        body["userAttributeAssignments"] = [assignment_body(a) for a in row.user_attribute_assignments]
    if "apiConnectorConfiguration" in wanted or steps:
        body["apiConnectorConfiguration"] = await connector_configuration_body(session, row, steps)
    return body


@flows_router.patch("/{flow_id}", status_code=204)
async def update_flow(flow_id: str, body: FlowSettings, caller: GlobalAdminCaller, session: SessionDep,
                      org: OrganizationDep) -> Response:
    row = await get_flow(session, org, flow_id)
    if not body.model_fields_set:
        raise bad_request("nothing to update: give foyerApplicationIds, foyerIdentityVerification or foyerApproval")
    changes = await apply_settings(session, org, row, body)
    await save_flow(session, org, caller, row, "Update user flow", **changes)
    return Response(status_code=204)


@flows_router.delete("/{flow_id}", status_code=204)
async def delete_flow(flow_id: str, caller: GlobalAdminCaller, session: SessionDep,
                      org: OrganizationDep) -> Response:
    row = await get_flow(session, org, flow_id)
    # Approvers decide, and verifiers call back, against the flow: keep it while anyone is mid-way.
    in_progress = (await session.exec(select(func.count()).select_from(SignUp).where(
        SignUp.organization_id == org.id, SignUp.user_flow_id == row.id,
        col(SignUp.state).not_in(SIGN_UP_ENDED)))).one()
    if in_progress:
        raise GraphError(409, "conflictingObject", f"{in_progress} sign-up(s) through the user flow "
                         f"'{row.id}' are still in progress: wait for them to end, or deny them, first")
    await session.delete(row)
    await record(session, org, caller, "Delete user flow", "UserFlow", row.id, row.id)
    await commit(session, "the user flow could not be deleted")
    return Response(status_code=204)


# --- userAttributeAssignments -------------------------------------------------------------------

INPUT_TYPES = ("textBox", "dateTimeDropdown", "radioSingleSelect", "dropdownSingleSelect", "emailBox",
               "checkboxMultiSelect")
WITH_VALUES = ("radioSingleSelect", "dropdownSingleSelect", "checkboxMultiSelect")
FOR_TYPE = {"string": INPUT_TYPES, "boolean": ("checkboxMultiSelect", "radioSingleSelect"),
            "int64": ("textBox",)}


class AttributeValue(GraphModel):
    name: str = Field(min_length=1, max_length=256)
    value: str = Field(min_length=1, max_length=256)
    is_default: StrictBool = False


class AttributeRef(GraphModel):
    id: str = Field(min_length=1)


class AssignmentCreate(GraphModel):
    display_name: DisplayName | None = Field(default=None, max_length=256)
    is_optional: StrictBool = False
    requires_verification: StrictBool = False
    user_input_type: str
    user_attribute: AttributeRef
    user_attribute_values: list[AttributeValue] = Field(default_factory=list, max_length=100)


class AssignmentUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, max_length=256)
    is_optional: StrictBool | None = None
    user_input_type: str | None = None
    user_attribute_values: list[AttributeValue] | None = Field(default=None, max_length=100)


def check_input(data_type: str, input_type: str, values: list[dict], attribute_id: str) -> None:
    if input_type not in INPUT_TYPES:
        raise bad_request(f"userInputType must be one of {', '.join(INPUT_TYPES)}")
    if input_type not in FOR_TYPE[data_type]:
        raise bad_request(f"a {data_type} attribute ({attribute_id}) takes userInputType "
                          f"{' or '.join(FOR_TYPE[data_type])}, not {input_type}")
    needs_values = input_type in WITH_VALUES and not (data_type == "boolean" and input_type == "checkboxMultiSelect")
    if needs_values and not values:
        raise bad_request(f"userInputType {input_type} needs userAttributeValues")
    if input_type not in WITH_VALUES and values:
        raise bad_request(f"userInputType {input_type} takes no userAttributeValues")
    if len({v["value"] for v in values}) != len(values):
        raise bad_request("userAttributeValues has the same value twice")
    if input_type != "checkboxMultiSelect" and sum(1 for v in values if v["isDefault"]) > 1:
        raise bad_request(f"userInputType {input_type} allows one default value at most")
    if data_type == "boolean" and any(v["value"] not in ("true", "false") for v in values):
        raise bad_request("the values of a boolean attribute are 'true' and 'false'")


def assignment_body(assignment: dict) -> dict:
    return {"id": assignment["id"], "displayName": assignment.get("displayName"),
            "isOptional": assignment.get("isOptional", False),
            "requiresVerification": assignment.get("requiresVerification", False),
            "userInputType": assignment.get("userInputType"),
            "userAttributeValues": assignment.get("userAttributeValues", []),
            "userAttribute": {"id": assignment_attribute(assignment)}}


def find_assignment(row: UserFlow, assignment_id: str) -> int:
    for index, assignment in enumerate(row.user_attribute_assignments):
        if assignment.get("id") == assignment_id:
            return index
    raise not_found(f"user attribute assignment {assignment_id}")


@flows_router.get("/{flow_id}/userAttributeAssignments",
                  response_model=shapes.IdentityUserFlowAttributeAssignmentCollection)
async def list_assignments(flow_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    row = await get_flow(session, org, flow_id)
    return {"value": [assignment_body(a) for a in row.user_attribute_assignments]}


@flows_router.post("/{flow_id}/userAttributeAssignments", status_code=201,
                   response_model=shapes.IdentityUserFlowAttributeAssignment)
async def create_assignment(flow_id: str, body: AssignmentCreate, caller: GlobalAdminCaller,
                            session: SessionDep, org: OrganizationDep) -> dict:
    row = await get_flow(session, org, flow_id)
    attribute_id = body.user_attribute.id
    data_type = await attribute_data_type(session, org, attribute_id)
    if any(assignment_attribute(a) == attribute_id for a in row.user_attribute_assignments):
        raise GraphError(409, "conflictingObject", f"the user flow already collects {attribute_id}")
    values = [v.model_dump(by_alias=True) for v in body.user_attribute_values]
    check_input(data_type, body.user_input_type, values, attribute_id)
    display_name = body.display_name or (BUILT_IN[attribute_id][0] if attribute_id in BUILT_IN else
                                         (await session.get(UserFlowAttribute, attribute_id)).display_name)
    assignment = {"id": attribute_id, "displayName": display_name, "isOptional": body.is_optional,
                  "requiresVerification": body.requires_verification, "userInputType": body.user_input_type,
                  "userAttributeValues": values, "userAttribute": {"id": attribute_id}, "dataType": data_type}
    row.user_attribute_assignments = [*row.user_attribute_assignments, assignment]
    await save_flow(session, org, caller, row, "Add user flow attribute assignment", attribute=attribute_id,
                    userInputType=body.user_input_type)
    return assignment_body(assignment)


@flows_router.post("/{flow_id}/userAttributeAssignments/setOrder", status_code=204)
async def set_order(flow_id: str, caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                    body: Any = Body(...)) -> Response:
    row = await get_flow(session, org, flow_id)
    input_order = body.get("inputOrder") if isinstance(body, dict) else None
    order = input_order.get("order") if isinstance(input_order, dict) else None
    current = [a["id"] for a in row.user_attribute_assignments]
    if not isinstance(order, list) or not all(isinstance(i, str) for i in order) \
            or sorted(order) != sorted(current):
        raise bad_request('the body must be {"inputOrder": {"order": [every assignment id once]}}; '
                          f"the assignments are {', '.join(current) or 'none'}")
    by_id = {a["id"]: a for a in row.user_attribute_assignments}
    row.user_attribute_assignments = [by_id[i] for i in order]
    await save_flow(session, org, caller, row, "Order user flow attribute assignments", order=order)
    return Response(status_code=204)


@flows_router.get("/{flow_id}/userAttributeAssignments/{assignment_id}",
                  response_model=shapes.IdentityUserFlowAttributeAssignment)
async def get_assignment(flow_id: str, assignment_id: str, caller: AdminCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    row = await get_flow(session, org, flow_id)
    return assignment_body(row.user_attribute_assignments[find_assignment(row, assignment_id)])


@flows_router.patch("/{flow_id}/userAttributeAssignments/{assignment_id}", status_code=204)
async def update_assignment(flow_id: str, assignment_id: str, body: AssignmentUpdate, caller: GlobalAdminCaller,
                            session: SessionDep, org: OrganizationDep) -> Response:
    row = await get_flow(session, org, flow_id)
    index = find_assignment(row, assignment_id)
    if not body.model_fields_set:
        raise bad_request("nothing to update: give displayName, isOptional, userInputType or userAttributeValues")
    assignment = dict(row.user_attribute_assignments[index])
    changes = body.model_dump(by_alias=True, exclude_unset=True)
    for key, value in changes.items():
        if value is None and key != "displayName":
            raise bad_request(f"{key} may not be null")
    assignment.update(changes)
    data_type = await attribute_data_type(session, org, assignment_attribute(assignment))
    check_input(data_type, assignment["userInputType"], assignment.get("userAttributeValues", []), assignment_id)
    assignments = list(row.user_attribute_assignments)
    assignments[index] = assignment
    row.user_attribute_assignments = assignments
    await save_flow(session, org, caller, row, "Update user flow attribute assignment",
                    attribute=assignment_id, **changes)
    return Response(status_code=204)


@flows_router.delete("/{flow_id}/userAttributeAssignments/{assignment_id}", status_code=204)
async def delete_assignment(flow_id: str, assignment_id: str, caller: GlobalAdminCaller, session: SessionDep,
                            org: OrganizationDep) -> Response:
    row = await get_flow(session, org, flow_id)
    index = find_assignment(row, assignment_id)
    row.user_attribute_assignments = [a for i, a in enumerate(row.user_attribute_assignments) if i != index]
    await save_flow(session, org, caller, row, "Remove user flow attribute assignment", attribute=assignment_id)
    return Response(status_code=204)


# --- apiConnectorConfiguration -----------------------------------------------------------------

@flows_router.get("/{flow_id}/apiConnectorConfiguration", response_model=shapes.UserFlowApiConnectorConfiguration)
async def get_connector_configuration(flow_id: str, caller: AdminCaller, session: SessionDep,
                                      org: OrganizationDep, expand: str | None = Query(None, alias="$expand")) -> dict:
    row = await get_flow(session, org, flow_id)
    return await connector_configuration_body(session, row, {p.strip() for p in (expand or "").split(",") if p.strip()})


async def connector_configuration_body(session, row: UserFlow, expanded: set[str]) -> dict:
    """Graph's userFlowApiConnectorConfiguration; the steps in `expanded` carry the whole connector."""
    unknown = expanded - set(STEPS)
    if unknown:
        raise bad_request(f"$expand: unknown {', '.join(sorted(unknown))} (postFederationSignup, postAttributeCollection)")
    body: dict = {}
    for step, column in STEPS.items():
        connector_id = getattr(row, column)
        if connector_id is None:
            body[step] = None
        elif step in expanded:
            connector = await session.get(ApiConnector, connector_id)
            body[step] = connector_body(connector) if connector else None
        else:
            body[step] = {"id": connector_id}
    return body


def step_column(step: str) -> str:
    if step not in STEPS:
        raise not_found(f"apiConnectorConfiguration step {step}")
    return STEPS[step]


@flows_router.put("/{flow_id}/apiConnectorConfiguration/{step}/$ref", status_code=204)
async def set_step_connector(flow_id: str, step: str, caller: GlobalAdminCaller, session: SessionDep,
                             org: OrganizationDep, body: Any = Body(...)) -> Response:
    column = step_column(step)
    row = await get_flow(session, org, flow_id)
    connector_id = reference_id(body, "apiConnectors")
    await check_connector(session, org, connector_id, step)
    setattr(row, column, connector_id)
    await save_flow(session, org, caller, row, "Set user flow API connector", step=step, apiConnectorId=connector_id)
    return Response(status_code=204)


@flows_router.delete("/{flow_id}/apiConnectorConfiguration/{step}/$ref", status_code=204)
async def remove_step_connector(flow_id: str, step: str, caller: GlobalAdminCaller, session: SessionDep,
                                org: OrganizationDep) -> Response:
    column = step_column(step)
    row = await get_flow(session, org, flow_id)
    setattr(row, column, None)
    await save_flow(session, org, caller, row, "Remove user flow API connector", step=step)
    return Response(status_code=204)


# --- identityProviders -------------------------------------------------------------------------

@flows_router.get("/{flow_id}/identityProviders", response_model=shapes.IdentityProviderCollection)
async def list_identity_providers(flow_id: str, caller: AdminCaller, session: SessionDep,
                                  org: OrganizationDep) -> dict:
    return {"value": await identity_providers_body(session, org, await get_flow(session, org, flow_id))}


async def offered_providers(session, org) -> dict[str, dict]:
    """What a user flow may offer: the email one-time passcode and the organization's own
    identity providers (identity/identityProviders: Google, OpenID Connect)."""
    return {**IDENTITY_PROVIDERS, **await identity_providers.offered_by_flows(session, org.id)}


async def identity_providers_body(session, org, row: UserFlow) -> list[dict]:
    known = await offered_providers(session, org)
    return [known[p] for p in row.identity_provider_ids if p in known]


@flows_router.post("/{flow_id}/identityProviders/$ref", status_code=204)
async def add_identity_provider(flow_id: str, caller: GlobalAdminCaller, session: SessionDep,
                                org: OrganizationDep, body: Any = Body(...)) -> Response:
    row = await get_flow(session, org, flow_id)
    provider_id = reference_id(body, "identityProviders")
    known = await offered_providers(session, org)
    if provider_id not in known:
        raise bad_request(f"unknown identity provider {provider_id}: the organization has {', '.join(known)}")
    if provider_id in row.identity_provider_ids:
        raise GraphError(409, "conflictingObject", f"the user flow already offers {provider_id}")
    row.identity_provider_ids = [*row.identity_provider_ids, provider_id]
    await save_flow(session, org, caller, row, "Add user flow identity provider", identityProvider=provider_id)
    return Response(status_code=204)


@flows_router.delete("/{flow_id}/identityProviders/{provider_id}/$ref", status_code=204)
async def remove_identity_provider(flow_id: str, provider_id: str, caller: GlobalAdminCaller,
                                   session: SessionDep, org: OrganizationDep) -> Response:
    row = await get_flow(session, org, flow_id)
    if provider_id not in row.identity_provider_ids:
        raise not_found(f"identity provider {provider_id} of the user flow {flow_id}")
    if len(row.identity_provider_ids) == 1:
        raise bad_request("a user flow needs at least one identity provider")
    row.identity_provider_ids = [p for p in row.identity_provider_ids if p != provider_id]
    await save_flow(session, org, caller, row, "Remove user flow identity provider", identityProvider=provider_id)
    return Response(status_code=204)


# --- authenticationFlowsPolicy --------------------------------------------------------------------

def authentication_flows_body(org: Organization) -> dict:
    return {"id": "authenticationFlowsPolicy", "displayName": "Authentication flows policy",
            "description": "Authentication flows policy allows modifying settings related to "
                           "authentication flows in the tenant.",
            "selfServiceSignUp": {"isEnabled": org.self_service_sign_up_enabled}}


class SelfServiceSignUp(GraphModel):
    is_enabled: StrictBool


class AuthenticationFlowsUpdate(GraphModel):
    self_service_sign_up: SelfServiceSignUp


@policy_router.get("/authenticationFlowsPolicy", response_model=shapes.AuthenticationFlowsPolicy)
async def get_authentication_flows_policy(caller: MemberCaller, org: OrganizationDep) -> dict:
    return authentication_flows_body(org)


@policy_router.patch("/authenticationFlowsPolicy", status_code=204)
async def update_authentication_flows_policy(body: AuthenticationFlowsUpdate, caller: GlobalAdminCaller,
                                             session: SessionDep, org: OrganizationDep) -> Response:
    before = org.self_service_sign_up_enabled
    org.self_service_sign_up_enabled = body.self_service_sign_up.is_enabled
    session.add(org)
    await audit(session, key=None, category="Policy", activity="Update authentication flows policy",
                organization_id=org.id, **caller.actor, target_type="Policy",
                target_id="authenticationFlowsPolicy", target_name="Authentication flows policy",
                details={"selfServiceSignUp.isEnabled": org.self_service_sign_up_enabled,
                         "previousIsEnabled": before})
    await session.commit()
    return Response(status_code=204)
