"""Client secrets (addPassword / removePassword): the secret text is in addPassword's response
only, stored as a digest (foyer.usecases.openid_clients checks it), listed with its hint and
dates but never its text; removing one by keyId; bad dates and unknown keyIds refused."""

import json
import uuid
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import Application
from foyer.usecases.openid_clients import client_secret_matches, new_client_secret


def test_a_new_secret_matches_its_digest_only():
    text, digest = new_client_secret()
    other, _ = new_client_secret()
    assert len(text) >= 32 and text != other and text not in digest
    assert client_secret_matches(text, digest)
    assert not client_secret_matches(other, digest) and not client_secret_matches(text[:-1], digest)


async def test_add_list_and_remove_a_client_secret(api, admin):
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Secretive"})).json()
    url = f"/v1.0/applications/{app['id']}"
    end = (datetime.now(timezone.utc) + timedelta(days=90)).replace(microsecond=0)
    added = await api.post(f"{url}/addPassword", headers=admin, json={
        "passwordCredential": {"displayName": "CI", "endDateTime": end.isoformat()}})
    assert added.status_code == 200, added.text
    credential = added.json()
    secret = credential["secretText"]
    assert secret and credential["hint"] == secret[:3] and credential["displayName"] == "CI"
    assert credential["endDateTime"] == end.isoformat().replace("+00:00", "Z")
    uuid.UUID(credential["keyId"])

    # A default lifetime (two years) when no end is given.
    second = (await api.post(f"{url}/addPassword", headers=admin, json={})).json()
    lifetime = datetime.fromisoformat(second["endDateTime"]) - datetime.fromisoformat(second["startDateTime"])
    assert lifetime == timedelta(days=730)

    listed = (await api.get(url, headers=admin)).json()["passwordCredentials"]
    assert [c["keyId"] for c in listed] == [credential["keyId"], second["keyId"]]
    assert all(c["secretText"] is None for c in listed) and listed[0]["hint"] == secret[:3]

    async with session_scope() as session:
        row = await session.get(Application, app["id"])
        stored = row.password_credentials
        audits = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == app["id"]))).all()
    assert secret not in json.dumps(stored) and secret not in json.dumps([a.details for a in audits])
    assert client_secret_matches(secret, stored[0]["secretHash"])
    assert not client_secret_matches(second["secretText"], stored[0]["secretHash"])

    removed = await api.post(f"{url}/removePassword", headers=admin, json={"keyId": credential["keyId"]})
    assert removed.status_code == 204, removed.text
    listed = (await api.get(url, headers=admin)).json()["passwordCredentials"]
    assert [c["keyId"] for c in listed] == [second["keyId"]]
    again = await api.post(f"{url}/removePassword", headers=admin, json={"keyId": credential["keyId"]})
    assert again.status_code == 404


async def test_bad_password_requests_are_refused(api, admin, make_token):
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Secretive"})).json()
    url = f"/v1.0/applications/{app['id']}"
    now = datetime.now(timezone.utc)
    for body in ({"passwordCredential": {"endDateTime": (now - timedelta(days=1)).isoformat()}},
                 {"passwordCredential": {"startDateTime": now.isoformat(), "endDateTime": now.isoformat()}},
                 {"passwordCredential": {"endDateTime": (now + timedelta(days=4000)).isoformat()}},
                 {"passwordCredential": {"secretText": "my-own-secret"}},
                 {"passwordCredential": {"endDateTime": "soon"}}):
        refused = await api.post(f"{url}/addPassword", headers=admin, json=body)
        assert refused.status_code == 400, (body, refused.text)
    assert (await api.post(f"{url}/removePassword", headers=admin, json={})).status_code == 400
    member = await make_token("member")
    assert (await api.post(f"{url}/addPassword", headers=member, json={})).status_code == 403
    assert (await api.post(f"/v1.0/applications/{uuid.uuid4()}/addPassword", headers=admin, json={})).status_code == 404
    assert (await api.get(url, headers=admin)).json()["passwordCredentials"] == []
