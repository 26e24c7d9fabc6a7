"""Graph's authenticationMethod shapes for a person's second factors
(users/{id}/authentication/methods): softwareOathAuthenticationMethod and fido2AuthenticationMethod."""

from foyer.api.schemas import Collection, GraphResource, iso
from foyer.models.mfa import AuthenticationMethod as MethodRow


class AuthenticationMethod(GraphResource):
    id: str | None = None
    # softwareOath: always null (Graph never returns the secret)
    secret_key: str | None = None
    # fido2
    display_name: str | None = None
    created_date_time: str | None = None
    aa_guid: str | None = None


AuthenticationMethodCollection = Collection[AuthenticationMethod]

TYPES = {"softwareOath": "#microsoft.graph.softwareOathAuthenticationMethod",
         "fido2": "#microsoft.graph.fido2AuthenticationMethod"}


def method_body(row: MethodRow) -> dict:
    if row.kind == "softwareOath":
        return {"@odata.type": TYPES[row.kind], "id": row.id, "secretKey": None}
    return {"@odata.type": TYPES[row.kind], "id": row.id, "displayName": row.display_name,
            "createdDateTime": iso(row.created_date_time), "aaGuid": row.aaguid}
