"""Self-service sign-up: user flows (Graph's b2xIdentityUserFlow), API connectors (Graph's
identityApiConnector), custom user-flow attributes, and the sign-up attempts themselves.

An attempt's row is the read model of its SignUpWorkflow (`signup:{sign_up_id}`): approvers list
the pending ones from here, and the pages show its state. Only the workflow's activities write it.
"""

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from foyer.security import seal, unseal
from foyer.models.base import json_field, new_id, utc_field

# The connector credentials Foyer must keep to send: stored sealed (foyer.security.seal).
SEALED_CONNECTOR_COLUMNS = ("basic_password", "certificate_pkcs12", "certificate_password")


def connector_credential_context(connector_id: str, column: str) -> str:
    """What a sealed credential is bound to: copied to another row or column, it does not open."""
    return f"api_connectors.{column}:{connector_id}"


class UserFlowAttribute(SQLModel, table=True):
    """A custom attribute a user flow may collect (Graph's identityUserFlowAttribute with
    `userFlowAttributeType` custom). Built-in attributes (displayName, givenName, surname,
    jobTitle, city, country, …) are not stored: they are a fixed list in code."""

    __tablename__ = "user_flow_attributes"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: str = Field(primary_key=True)  # extension_<appId without dashes>_<name>, as Graph names it
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    name: str  # the short name, e.g. "LoyaltyNumber"
    display_name: str
    description: str | None = None
    data_type: str = "string"  # string | boolean | int64
    created_date_time: datetime = utc_field(default_now=True, nullable=False)


class ApiConnector(SQLModel, table=True):
    """An external system called during sign-up (Graph's identityApiConnector).

    `authentication_type` is `basic` (username + password, kept to send), `certificate` (a PKCS#12
    client certificate, kept to present) or `signature` (Foyer's HMAC header, with a secret derived
    from FOYER_SECRET_KEY and the connector id, so none is stored). Whatever the type, the system
    signs its callbacks (verification outcome, approval decision) with the connector's derived
    secret, so a callback is authenticated without a stored secret either.

    The password, the PKCS#12 and its password are stored encrypted (SEALED_CONNECTOR_COLUMNS):
    write them with set_credentials, read them with credential / credentials.
    """

    __tablename__ = "api_connectors"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str
    target_url: str
    authentication_type: str = "signature"  # basic | certificate | signature
    basic_username: str | None = None
    basic_password: str | None = None  # sealed; needed to send, never returned by the API
    certificate_pkcs12: str | None = None  # sealed base64 PKCS#12; never returned by the API
    certificate_password: str | None = None  # sealed
    certificate_thumbprint: str | None = None
    timeout_seconds: float = 10.0
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    modified_date_time: datetime = utc_field(default_now=True, nullable=False)

    def set_credentials(self, **clear: str | None) -> None:
        """Store credentials (basic_password=…, certificate_pkcs12=…, certificate_password=…)."""
        for column, value in clear.items():
            if column not in SEALED_CONNECTOR_COLUMNS:
                raise ValueError(f"{column} is not a sealed credential")
            setattr(self, column, seal(value, connector_credential_context(self.id, column)))

    def credential(self, column: str) -> str | None:
        """One stored credential in clear; foyer.security.SealedValueError if it cannot be opened."""
        if column not in SEALED_CONNECTOR_COLUMNS:
            raise ValueError(f"{column} is not a sealed credential")
        return unseal(getattr(self, column), connector_credential_context(self.id, column))

    def credentials(self) -> dict[str, str | None]:
        return {column: self.credential(column) for column in SEALED_CONNECTOR_COLUMNS}


class UserFlow(SQLModel, table=True):
    """A self-service sign-up user flow (Graph's b2xIdentityUserFlow, `signUpOrSignIn`)."""

    __tablename__ = "user_flows"

    id: str = Field(primary_key=True)  # Graph names them `B2X_1_<name>`; also the page's path
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    display_name: str | None = None
    user_flow_type: str = "signUpOrSignIn"
    user_flow_type_version: float = 1.0
    identity_provider_ids: list[str] = json_field()  # ["EmailOtpSignup-OAUTH"]
    # Graph's userAttributeAssignments: [{"id", "displayName", "isOptional", "userInputType",
    #  "userAttribute": {"id"}, "userAttributeValues": [{"name", "value", "isDefault"}], "order"}]
    user_attribute_assignments: list[dict] = json_field()
    application_ids: list[str] = json_field()  # apps a signed-up guest is added to
    post_federation_signup_connector_id: str | None = Field(default=None, foreign_key="api_connectors.id")
    post_attribute_collection_connector_id: str | None = Field(default=None, foreign_key="api_connectors.id")
    # Foyer's durable steps (None: the step is off).
    # {"apiConnectorId", "timeout": ISO 8601 duration}
    identity_verification: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # {"approverIds": [...], "apiConnectorId": optional external approval system,
    #  "timeout": ISO 8601, "reminderInterval": ISO 8601}
    approval: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    modified_date_time: datetime = utc_field(default_now=True, nullable=False)


# A sign-up row in one of these states is over; in any other, its workflow is still running.
SIGN_UP_ENDED = ("completed", "denied", "blocked", "expired")


class SignUp(SQLModel, table=True):
    """One sign-up attempt through a user flow."""

    __tablename__ = "sign_ups"

    id: str = Field(primary_key=True)  # also in the workflow id `signup:{id}`
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    user_flow_id: str = Field(index=True)
    email: str = Field(index=True)  # lower-cased
    # started | codeSent | collectingAttributes | verifying | pendingApproval | completed
    # | denied | blocked | expired
    state: str = Field(default="started", index=True)
    attributes: dict = json_field(dict)  # what was collected, after connector overwrites
    # Set when the person signed up at their own identity provider: the guest's identities.
    identities: list[dict] = json_field()
    verification_reference: str | None = None
    user_id: str | None = None  # the guest created on approval
    decided_by_id: str | None = None
    decided_by_name: str | None = None
    reason: str | None = None  # deny reason / block message shown to the person
    workflow_id: str
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
    updated_date_time: datetime = utc_field(default_now=True, nullable=False)


class CallbackReceipt(SQLModel, table=True):
    """A signed callback already accepted: the same signature seen again is a replay."""

    __tablename__ = "callback_receipts"

    signature: str = Field(primary_key=True)  # the v1 HMAC of the callback
    connector_id: str = Field(index=True)
    received_date_time: datetime = utc_field(default_now=True, nullable=False)
