"""`/v1.0/identity/apiConnectors` (Graph's identityApiConnector): the external systems a
self-service sign-up calls. Global Administrators change them; administrators read them.

`authenticationConfiguration` is one of
- `#microsoft.graph.basicAuthentication` {username, password} (the password is kept, encrypted, to
  send, and answered as "******");
- `#microsoft.graph.clientCertificateAuthentication` {certificateList: [{thumbprint, notBefore,
  notAfter, isActive}]}, set by uploading a PKCS#12 (`#microsoft.graph.pkcs12Certificate`
  {pkcs12Value, password} in the body, or `POST …/{id}/uploadClientCertificate`, as Graph does);
- `#microsoft.foyer.signatureAuthentication` {} (Foyer's own; the default): only the signature.
Whatever the type, Foyer signs every call with `X-Foyer-Signature` keyed by the connector's
`foyerSigningSecret`, returned once by the create (derived from FOYER_SECRET_KEY, never stored).
"""

from typing import Any
from urllib.parse import urlsplit

from fastapi import Body, Response
from pydantic import Field, field_validator
from sqlmodel import select

from foyer.audit import audit
from foyer.api.deps import AdminCaller, Caller, GlobalAdminCaller, OrganizationDep, SessionDep, get_in_org
from foyer.api.errors import GraphError, bad_request
from foyer.api.graph import GraphRouter
from foyer.usecases.updates import commit
from foyer.api.schemas import GraphModel, refuse_null
from foyer.api.schemas import sign_up as shapes
from foyer.api.schemas.sign_up import BASIC, CERTIFICATE, PKCS12, SIGNATURE, certificate_info, connector_body
from foyer import outbound
from foyer.names import DisplayName
from foyer.models.base import utcnow
from foyer.models.directory import Organization
from foyer.models.sign_up import ApiConnector, UserFlow

router = GraphRouter(prefix="/v1.0/identity/apiConnectors", tags=["self-service sign-up"])

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_target_url(value: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2048:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ValueError("targetUrl must use https (plain http only for 127.0.0.1 / localhost)")
    return value


async def check_destination(target_url: str) -> None:
    """Where the URL points (resolved now) must be a public address; checked again at every call."""
    try:
        await outbound.check_url(target_url)
    except ValueError as error:
        raise bad_request(str(error)) from None


def apply_authentication(row: ApiConnector, config: Any) -> str:
    """Set the connector's authentication from a Graph authenticationConfiguration; its type."""
    if not isinstance(config, dict):
        raise bad_request("authenticationConfiguration must be an object with an @odata.type")
    kind = config.get("@odata.type")
    fields = {k: v for k, v in config.items() if k != "@odata.type"}
    row.basic_username = row.basic_password = None
    if kind == BASIC:
        username, password = fields.get("username"), fields.get("password")
        if set(fields) - {"username", "password"}:
            raise bad_request("basicAuthentication takes username and password only")
        if not isinstance(username, str) or not username.strip() or not isinstance(password, str) or not password:
            raise bad_request("basicAuthentication needs a username and a password")
        if ":" in username:
            raise bad_request("a basicAuthentication username may not contain ':'")
        row.authentication_type, row.basic_username = "basic", username.strip()
        row.set_credentials(basic_password=password)
        row.certificate_pkcs12 = row.certificate_password = row.certificate_thumbprint = None
    elif kind == PKCS12:
        if set(fields) - {"pkcs12Value", "password"} or not isinstance(fields.get("pkcs12Value"), str):
            raise bad_request("pkcs12Certificate takes pkcs12Value (base64) and password")
        set_certificate(row, fields["pkcs12Value"], fields.get("password"))
    elif kind == CERTIFICATE:
        raise bad_request("upload the client certificate as #microsoft.graph.pkcs12Certificate "
                          "{pkcs12Value, password} or with the uploadClientCertificate action")
    elif kind == SIGNATURE:
        if fields:
            raise bad_request("signatureAuthentication takes no properties")
        row.authentication_type = "signature"
        row.certificate_pkcs12 = row.certificate_password = row.certificate_thumbprint = None
    else:
        raise bad_request(f"authenticationConfiguration @odata.type must be {BASIC}, {PKCS12} or {SIGNATURE}")
    if row.authentication_type == "certificate" and urlsplit(row.target_url).scheme != "https":
        raise bad_request("client certificate authentication needs an https targetUrl")
    return row.authentication_type


def set_certificate(row: ApiConnector, pkcs12_value: str, password: Any) -> None:
    if password is not None and not isinstance(password, str):
        raise bad_request("password must be a string")
    try:
        info = certificate_info(pkcs12_value, password)
    except ValueError as error:
        raise bad_request(str(error)) from None
    row.authentication_type = "certificate"
    row.set_credentials(certificate_pkcs12=pkcs12_value, certificate_password=password)
    row.certificate_thumbprint = info["thumbprint"]


class ConnectorCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    target_url: str
    foyer_timeout_seconds: float = Field(default=10, ge=1, le=30, strict=True)

    @field_validator("target_url")
    @classmethod
    def _url(cls, value):
        return check_target_url(value)


class ConnectorUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)
    target_url: str | None = None
    foyer_timeout_seconds: float | None = Field(default=None, ge=1, le=30, strict=True)

    @field_validator("target_url")
    @classmethod
    def _url(cls, value):
        return check_target_url(value)

    _present = refuse_null("display_name", "target_url", "foyer_timeout_seconds")


def split_body(body: Any) -> tuple[dict, Any, bool]:
    """GraphModel drops @odata annotations, so the authenticationConfiguration (whose @odata.type
    matters) is taken out of the raw body first."""
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    rest = {k: v for k, v in body.items() if k != "authenticationConfiguration"}
    return rest, body.get("authenticationConfiguration"), "authenticationConfiguration" in body


async def record(session, org: Organization, caller: Caller, activity: str, row: ApiConnector,
                 **details) -> None:
    await audit(session, key=None, category="SelfServiceSignUp", activity=activity,
                organization_id=org.id, **caller.actor, target_type="ApiConnector",
                target_id=row.id, target_name=row.display_name, details=details)


def parse(model, data: dict):
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as error:
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
                 for e in error.errors()]
        raise bad_request("; ".join(parts)) from None


@router.post("", status_code=201, response_model=shapes.IdentityApiConnector)
async def create_connector(caller: GlobalAdminCaller, session: SessionDep, org: OrganizationDep,
                           body: Any = Body(...)) -> dict:
    rest, auth, _ = split_body(body)
    data = parse(ConnectorCreate, rest)
    row = ApiConnector(organization_id=org.id, display_name=data.display_name, target_url=data.target_url,
                       timeout_seconds=float(data.foyer_timeout_seconds))
    apply_authentication(row, auth if auth is not None else {"@odata.type": SIGNATURE})
    await check_destination(row.target_url)
    session.add(row)
    await record(session, org, caller, "Create API connector", row, targetUrl=row.target_url,
                 authenticationType=row.authentication_type)
    await commit(session, "the API connector could not be saved")
    return connector_body(row, with_secret=True)


@router.get("", response_model=shapes.IdentityApiConnectorCollection)
async def list_connectors(caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = (await session.exec(select(ApiConnector).where(ApiConnector.organization_id == org.id)
                               .order_by(ApiConnector.created_date_time, ApiConnector.id))).all()
    return {"value": [connector_body(r) for r in rows]}


@router.get("/{connector_id}", response_model=shapes.IdentityApiConnector)
async def get_connector(connector_id: str, caller: AdminCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    return connector_body(await get_in_org(session, ApiConnector, org, connector_id, "API connector"))


@router.patch("/{connector_id}", status_code=204)
async def update_connector(connector_id: str, caller: GlobalAdminCaller, session: SessionDep,
                           org: OrganizationDep, body: Any = Body(...)) -> Response:
    row = await get_in_org(session, ApiConnector, org, connector_id, "API connector")
    rest, auth, has_auth = split_body(body)
    data = parse(ConnectorUpdate, rest)
    if not data.model_fields_set and not has_auth:
        raise bad_request("nothing to update: give displayName, targetUrl, authenticationConfiguration "
                          "or foyerTimeoutSeconds")
    changes: dict = {}
    if data.display_name is not None:
        changes["displayName"] = row.display_name = data.display_name
    if data.target_url is not None:
        changes["targetUrl"] = row.target_url = data.target_url
    if data.foyer_timeout_seconds is not None:
        changes["foyerTimeoutSeconds"] = row.timeout_seconds = float(data.foyer_timeout_seconds)
    if has_auth:
        changes["authenticationType"] = apply_authentication(row, auth)
    elif row.authentication_type == "certificate" and urlsplit(row.target_url).scheme != "https":
        raise bad_request("client certificate authentication needs an https targetUrl")
    if data.target_url is not None:
        await check_destination(row.target_url)
    row.modified_date_time = utcnow()
    session.add(row)
    await record(session, org, caller, "Update API connector", row, **changes)
    await commit(session, "the API connector could not be saved")
    return Response(status_code=204)


class CertificateUpload(GraphModel):
    pkcs12_value: str = Field(min_length=1)
    password: str | None = None


@router.post("/{connector_id}/uploadClientCertificate", response_model=shapes.IdentityApiConnector)
async def upload_client_certificate(connector_id: str, body: CertificateUpload, caller: GlobalAdminCaller,
                                    session: SessionDep, org: OrganizationDep) -> dict:
    row = await get_in_org(session, ApiConnector, org, connector_id, "API connector")
    if urlsplit(row.target_url).scheme != "https":
        raise bad_request("client certificate authentication needs an https targetUrl")
    set_certificate(row, body.pkcs12_value, body.password)
    row.basic_username = row.basic_password = None
    row.modified_date_time = utcnow()
    session.add(row)
    await record(session, org, caller, "Upload API connector client certificate", row,
                 thumbprint=row.certificate_thumbprint)
    await commit(session, "the API connector could not be saved")
    return connector_body(row)


def flows_using(flows: list[UserFlow], connector_id: str) -> list[str]:
    return [f.id for f in flows if connector_id in (
        f.post_federation_signup_connector_id, f.post_attribute_collection_connector_id,
        (f.identity_verification or {}).get("apiConnectorId"), (f.approval or {}).get("apiConnectorId"))]


@router.delete("/{connector_id}", status_code=204)
async def delete_connector(connector_id: str, caller: GlobalAdminCaller, session: SessionDep,
                           org: OrganizationDep) -> Response:
    row = await get_in_org(session, ApiConnector, org, connector_id, "API connector")
    flows = (await session.exec(select(UserFlow).where(UserFlow.organization_id == org.id))).all()
    using = flows_using(list(flows), row.id)
    if using:
        raise GraphError(409, "conflictingObject",
                         f"the API connector '{row.display_name}' is used by the user flow(s) "
                         f"{', '.join(using)}: remove it from them first")
    await session.delete(row)
    await record(session, org, caller, "Delete API connector", row)
    await commit(session, "the API connector is still used by a user flow")
    return Response(status_code=204)
