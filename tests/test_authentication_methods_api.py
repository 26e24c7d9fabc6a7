"""GET /v1.0/users/{id}/authentication/methods and DELETE …/softwareOathMethods/{id} and
…/fido2Methods/{id}: Graph's shapes (the TOTP secret never shown), read by admins and by the
person themself, removed by admins only, each removal audited."""

import pyotp
from sqlmodel import select

from foyer.db import get_sessionmaker, session_scope
from foyer.models.audit import AuditRecord
from foyer.models.enums import Role
from foyer.usecases import mfa
from tests.webauthn_support import SoftAuthenticator

RP_ID, ORIGIN = "foyer.example", "https://foyer.example"


async def test_list_and_delete_methods(api, admin, make_token, make_member):
    member, other = await make_member("Meg Methods"), await make_member("Oz Other")
    async with get_sessionmaker()() as session:
        enrolment = await mfa.begin_totp_enrolment(session, member)
        await mfa.confirm_totp_enrolment(session, member.id, enrolment.method_id, pyotp.TOTP(enrolment.secret).now())
        options = await mfa.begin_registration(session, member, RP_ID, "Contoso")
        key = await mfa.finish_registration(session, member, SoftAuthenticator().create(options, ORIGIN),
                                            ORIGIN, RP_ID, display_name="Meg's laptop")
        # An enrolment never confirmed is not a method.
        await mfa.begin_totp_enrolment(session, other)
    url = f"/v1.0/users/{member.id}/authentication"

    listed = await api.get(f"{url}/methods", headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json()["value"] == [
        {"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": enrolment.method_id,
         "secretKey": None},
        {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": key.id, "displayName": "Meg's laptop",
         "createdDateTime": listed.json()["value"][1]["createdDateTime"],
         "aaGuid": "00000000-0000-0000-0000-000000000000"}]
    assert enrolment.secret not in listed.text
    assert (await api.get(f"/v1.0/users/{other.id}/authentication/methods", headers=admin)).json()["value"] == []

    own = await make_token(Role.member, user_id=member.id)
    stranger = await make_token(Role.member, user_id=other.id)
    assert (await api.get(f"{url}/methods", headers=own)).status_code == 200
    assert (await api.get(f"{url}/methods", headers=stranger)).status_code == 403
    assert (await api.delete(f"{url}/fido2Methods/{key.id}", headers=own)).status_code == 403

    # The id under the other kind's collection, or under another person, is not found.
    assert (await api.delete(f"{url}/softwareOathMethods/{key.id}", headers=admin)).status_code == 404
    assert (await api.delete(f"/v1.0/users/{other.id}/authentication/fido2Methods/{key.id}",
                             headers=admin)).status_code == 404
    assert (await api.delete(f"{url}/fido2Methods/{key.id}", headers=admin)).status_code == 204
    assert (await api.delete(f"{url}/fido2Methods/{key.id}", headers=admin)).status_code == 404
    assert (await api.delete(f"{url}/softwareOathMethods/{enrolment.method_id}", headers=admin)).status_code == 204
    assert (await api.get(f"{url}/methods", headers=admin)).json()["value"] == []

    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == member.id,
            AuditRecord.activity_display_name == "Admin deleted security info"))).all()
    assert sorted(r.details["methodType"] for r in records) == ["fido2Methods", "softwareOathMethods"]
    assert all(r.category == "UserManagement" and r.initiated_by_name == "Ada Admin" for r in records)
