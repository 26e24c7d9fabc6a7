"""Self-service sign-up in Graph's shapes: API connectors (identityApiConnector), user flows
(b2xIdentityUserFlow with its userAttributeAssignments, apiConnectorConfiguration and
identityProviders), user flow attributes, the authenticationFlowsPolicy, and Foyer's own
sign-up attempts under /v1.0/identity/signUps.

The connector's Graph shape (`connector_body`) is here because two routers answer with it: the
connectors' own and the user flows' apiConnectorConfiguration (`$expand`)."""

import base64
import binascii
import time
from typing import Annotated, Any, Literal, Union

from pydantic import Field

from foyer.api.schemas import Collection, GraphResource
from foyer.security import SealedValueError, connector_secret
from foyer.models.sign_up import ApiConnector

BASIC = "#microsoft.graph.basicAuthentication"
CERTIFICATE = "#microsoft.graph.clientCertificateAuthentication"
PKCS12 = "#microsoft.graph.pkcs12Certificate"
SIGNATURE = "#microsoft.foyer.signatureAuthentication"


# --- API connectors -----------------------------------------------------------------------------

def certificate_info(pkcs12_value: str, password: str | None) -> dict:
    """Thumbprint (SHA-1, as Graph shows it) and validity (NumericDate seconds) of a PKCS#12;
    ValueError if it cannot be read with the password, has no key, or has expired."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = base64.b64decode(pkcs12_value, validate=True)
        key, certificate, _ = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, binascii.Error, TypeError):
        raise ValueError("pkcs12Value is not a base64 PKCS#12 that opens with the password") from None
    if key is None or certificate is None:
        raise ValueError("the PKCS#12 must hold the client certificate and its private key")
    not_before = int(certificate.not_valid_before_utc.timestamp())
    not_after = int(certificate.not_valid_after_utc.timestamp())
    if not_after <= time.time():
        raise ValueError("the client certificate has expired")
    return {"thumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),
            "notBefore": not_before, "notAfter": not_after, "isActive": True}


def authentication_body(row: ApiConnector) -> dict:
    if row.authentication_type == "basic":
        return {"@odata.type": BASIC, "username": row.basic_username, "password": "******"}
    if row.authentication_type == "certificate":
        certificates = []
        if row.certificate_pkcs12:
            try:
                certificates = [certificate_info(row.credential("certificate_pkcs12"),
                                                 row.credential("certificate_password"))]
            except (ValueError, SealedValueError):
                # Expired since the upload, or sealed under a key since retired: shown, not active.
                certificates = [{"thumbprint": row.certificate_thumbprint, "isActive": False}]
        return {"@odata.type": CERTIFICATE, "certificateList": certificates}
    return {"@odata.type": SIGNATURE}


def connector_body(row: ApiConnector, *, with_secret: bool = False) -> dict:
    body: dict[str, Any] = {
        "id": row.id, "displayName": row.display_name, "targetUrl": row.target_url,
        "authenticationConfiguration": authentication_body(row),
        "foyerTimeoutSeconds": row.timeout_seconds,
    }
    if with_secret:
        # Shown once: the receiver verifies Foyer's calls with it and signs its callbacks.
        body["foyerSigningSecret"] = connector_secret(row.id)
    return body


class BasicAuthentication(GraphResource):
    odata_type: Literal["#microsoft.graph.basicAuthentication"] = Field(alias="@odata.type")
    username: str | None = None
    password: str | None = None  # always "******": the password is kept to send, never shown


class Pkcs12CertificateInformation(GraphResource):
    thumbprint: str | None = None
    not_before: int | None = None  # seconds since 1970 (Graph's NumericDate)
    not_after: int | None = None
    is_active: bool | None = None


class ClientCertificateAuthentication(GraphResource):
    odata_type: Literal["#microsoft.graph.clientCertificateAuthentication"] = Field(alias="@odata.type")
    certificate_list: list[Pkcs12CertificateInformation] | None = None


class SignatureAuthentication(GraphResource):
    """Foyer's own: only the X-Foyer-Signature every call carries."""
    odata_type: Literal["#microsoft.foyer.signatureAuthentication"] = Field(alias="@odata.type")


ApiAuthenticationConfiguration = Annotated[
    Union[BasicAuthentication, ClientCertificateAuthentication, SignatureAuthentication],
    Field(discriminator="odata_type")]


class IdentityApiConnector(GraphResource):
    id: str | None = None
    display_name: str | None = None
    target_url: str | None = None
    authentication_configuration: ApiAuthenticationConfiguration | None = None
    foyer_timeout_seconds: float | None = None
    foyer_signing_secret: str | None = None  # in the create's answer only


IdentityApiConnectorCollection = Collection[IdentityApiConnector]


# --- user flow attributes ---------------------------------------------------------------------

class IdentityUserFlowAttribute(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    user_flow_attribute_type: str | None = None  # builtIn | custom
    data_type: str | None = None  # string | boolean | int64


IdentityUserFlowAttributeCollection = Collection[IdentityUserFlowAttribute]


class UserAttributeValuesItem(GraphResource):
    name: str | None = None
    value: str | None = None
    is_default: bool | None = None


class IdentityUserFlowAttributeAssignment(GraphResource):
    id: str | None = None
    display_name: str | None = None
    is_optional: bool | None = None
    requires_verification: bool | None = None
    user_input_type: str | None = None
    user_attribute_values: list[UserAttributeValuesItem] | None = None
    user_attribute: IdentityUserFlowAttribute | None = None  # its id only


IdentityUserFlowAttributeAssignmentCollection = Collection[IdentityUserFlowAttributeAssignment]


# --- user flows -------------------------------------------------------------------------------

class IdentityProvider(GraphResource):
    """Graph's builtInIdentityProvider (email one-time passcode is the only one Foyer offers)."""
    id: str | None = None
    display_name: str | None = None
    identity_provider_type: str | None = None


IdentityProviderCollection = Collection[IdentityProvider]


class UserFlowApiConnectorConfiguration(GraphResource):
    """Each step's connector: its id, or the whole connector when `$expand`ed; null when none."""
    post_federation_signup: IdentityApiConnector | None = None
    post_attribute_collection: IdentityApiConnector | None = None


class IdentityVerificationSettings(GraphResource):
    """Foyer's own: the system that verifies who signs up, and how long it may take."""
    api_connector_id: str | None = None
    timeout: str | None = None  # ISO 8601 duration


class ApprovalSettings(GraphResource):
    """Foyer's own: who approves sign-ups (people, a system, or both), within what time."""
    approver_ids: list[str] | None = None
    api_connector_id: str | None = None
    timeout: str | None = None  # ISO 8601 duration
    reminder_interval: str | None = None


class B2xIdentityUserFlow(GraphResource):
    id: str | None = None
    user_flow_type: str | None = None
    user_flow_type_version: float | None = None
    identity_providers: list[IdentityProvider] | None = None  # $expand
    user_attribute_assignments: list[IdentityUserFlowAttributeAssignment] | None = None  # $expand
    api_connector_configuration: UserFlowApiConnectorConfiguration | None = None  # $expand
    # Foyer's own.
    foyer_application_ids: list[str] | None = None
    foyer_identity_verification: IdentityVerificationSettings | None = None
    foyer_approval: ApprovalSettings | None = None
    foyer_created_date_time: str | None = None
    foyer_modified_date_time: str | None = None


B2xIdentityUserFlowCollection = Collection[B2xIdentityUserFlow]


class SelfServiceSignUpAuthenticationFlowConfiguration(GraphResource):
    is_enabled: bool | None = None


class AuthenticationFlowsPolicy(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    self_service_sign_up: SelfServiceSignUpAuthenticationFlowConfiguration | None = None


# --- sign-up attempts (Foyer's own) -------------------------------------------------------------

class Actor(GraphResource):
    """Graph's identity: who decided."""
    id: str | None = None
    display_name: str | None = None


class SignUp(GraphResource):
    id: str | None = None
    user_flow_id: str | None = None
    email: str | None = None
    # started | codeSent | collectingAttributes | verifying | pendingApproval | completed | denied
    # | blocked | expired
    state: str | None = None
    # The collected attributes, by the user flow's attribute ids: what the flow collects.
    attributes: dict[str, Any] | None = None
    verification_reference: str | None = None
    user_id: str | None = None
    reason: str | None = None
    decided_by: Actor | None = None
    created_date_time: str | None = None
    last_modified_date_time: str | None = None


SignUpCollection = Collection[SignUp]


class SignUpDecisionResult(GraphResource):
    """The answer to approve, deny and an approval system's callback: the recorded decision."""
    id: str | None = None
    decision: str | None = None  # approve | deny
    state: str | None = None


class SignUpVerificationResult(GraphResource):
    """The answer to a verification system's callback: the recorded outcome."""
    id: str | None = None
    verification: str | None = None  # verified | failed
    state: str | None = None
