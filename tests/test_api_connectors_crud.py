"""`/v1.0/identity/apiConnectors`: Graph-shaped CRUD by a Global Administrator, secrets never
answered, the signing secret shown once, bad input refused with Graph errors, every change audited."""

from sqlmodel import select

from foyer.db import reading
from foyer.security import connector_secret
from foyer.models.audit import AuditRecord
from tests.connector_server import ConnectorServer

URL = "/v1.0/identity/apiConnectors"
BASIC = {"@odata.type": "#microsoft.graph.basicAuthentication", "username": "foyer", "password": "s3cret!"}


# Saved URLs must resolve to an address Foyer may call (tests/security/test_ssrf_destinations.py);
# the suite allows loopback, so these name localhost. They are never called here.

async def test_create_read_update_delete(api, admin):
    created = await api.post(URL, headers=admin, json={
        "displayName": "Loyalty check", "targetUrl": "https://localhost/loyalty/validate",
        "authenticationConfiguration": BASIC})
    assert created.status_code == 201, created.text
    body = created.json()
    connector_id = body["id"]
    assert body["displayName"] == "Loyalty check" and body["foyerTimeoutSeconds"] == 10
    assert body["authenticationConfiguration"] == {"@odata.type": "#microsoft.graph.basicAuthentication",
                                                   "username": "foyer", "password": "******"}
    assert body["foyerSigningSecret"] == connector_secret(connector_id)

    read = (await api.get(f"{URL}/{connector_id}", headers=admin)).json()
    assert "foyerSigningSecret" not in read and "s3cret!" not in str(read)
    listed = (await api.get(URL, headers=admin)).json()["value"]
    assert connector_id in [c["id"] for c in listed] and "s3cret!" not in str(listed)

    patched = await api.patch(f"{URL}/{connector_id}", headers=admin, json={
        "displayName": "Loyalty check v2", "foyerTimeoutSeconds": 3,
        "authenticationConfiguration": {"@odata.type": "#microsoft.foyer.signatureAuthentication"}})
    assert patched.status_code == 204, patched.text
    read = (await api.get(f"{URL}/{connector_id}", headers=admin)).json()
    assert read["displayName"] == "Loyalty check v2" and read["foyerTimeoutSeconds"] == 3
    assert read["authenticationConfiguration"] == {"@odata.type": "#microsoft.foyer.signatureAuthentication"}

    assert (await api.delete(f"{URL}/{connector_id}", headers=admin)).status_code == 204
    gone = await api.get(f"{URL}/{connector_id}", headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "Request_ResourceNotFound"

    async with reading() as session:
        activities = [r.activity_display_name for r in (await session.exec(select(AuditRecord).where(
            AuditRecord.target_id == connector_id).order_by(AuditRecord.activity_date_time))).all()]
    assert activities == ["Create API connector", "Update API connector", "Delete API connector"]


async def test_client_certificate_upload(api, admin):
    server = ConnectorServer(tls=True)  # only for its generated certificates; not started
    created = (await api.post(URL, headers=admin, json={
        "displayName": "Partner KYC", "targetUrl": "https://localhost/kyc/check"})).json()
    assert created["authenticationConfiguration"]["@odata.type"] == "#microsoft.foyer.signatureAuthentication"
    wrong = await api.post(f"{URL}/{created['id']}/uploadClientCertificate", headers=admin,
                           json={"pkcs12Value": server.client_pkcs12, "password": "wrong"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalidRequest"
    uploaded = await api.post(f"{URL}/{created['id']}/uploadClientCertificate", headers=admin,
                              json={"pkcs12Value": server.client_pkcs12, "password": server.client_password})
    assert uploaded.status_code == 200, uploaded.text
    auth = uploaded.json()["authenticationConfiguration"]
    assert auth["@odata.type"] == "#microsoft.graph.clientCertificateAuthentication"
    [certificate] = auth["certificateList"]
    assert certificate["thumbprint"] == server.client_certificate.fingerprint(
        __import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA1"]).SHA1()).hex().upper()
    assert certificate["isActive"] is True and certificate["notBefore"] < certificate["notAfter"]
    assert server.client_pkcs12 not in uploaded.text and server.client_password not in uploaded.text
    # The same in one create, as Graph's pkcs12Certificate.
    again = await api.post(URL, headers=admin, json={
        "displayName": "Partner KYC 2", "targetUrl": "https://localhost/kyc/check",
        "authenticationConfiguration": {"@odata.type": "#microsoft.graph.pkcs12Certificate",
                                        "pkcs12Value": server.client_pkcs12,
                                        "password": server.client_password}})
    assert again.status_code == 201, again.text
    assert again.json()["authenticationConfiguration"]["certificateList"][0]["thumbprint"] == certificate["thumbprint"]


async def test_bad_input(api, admin, make_token):
    cases = [
        {"displayName": "x", "targetUrl": "http://fabrikam.test/hook"},  # plain http off loopback
        {"displayName": "x", "targetUrl": "not a url"},
        {"displayName": "", "targetUrl": "https://fabrikam.test/hook"},
        {"displayName": "x", "targetUrl": "https://fabrikam.test/hook", "foyerTimeoutSeconds": 31},
        {"displayName": "x", "targetUrl": "https://fabrikam.test/hook", "foyerTimeoutSeconds": 0},
        {"displayName": "x", "targetUrl": "https://fabrikam.test/hook", "unknownThing": 1},
        {"displayName": "x", "targetUrl": "https://fabrikam.test/hook",
         "authenticationConfiguration": {"@odata.type": "#microsoft.graph.basicAuthentication", "username": "u"}},
        {"displayName": "x", "targetUrl": "https://fabrikam.test/hook",
         "authenticationConfiguration": {"@odata.type": "#microsoft.graph.somethingElse"}},
        {"displayName": "x", "targetUrl": "https://fabrikam.test/hook",
         "authenticationConfiguration": {"@odata.type": "#microsoft.graph.pkcs12Certificate",
                                         "pkcs12Value": "bm90IGEgY2VydA==", "password": "p"}},
        {"displayName": "x", "targetUrl": "http://127.0.0.1:9/hook",
         "authenticationConfiguration": {"@odata.type": "#microsoft.graph.pkcs12Certificate",
                                         "pkcs12Value": ConnectorServer(tls=True).client_pkcs12,
                                         "password": "client-pass-123"}},  # certificates need https
    ]
    for case in cases:
        response = await api.post(URL, headers=admin, json=case)
        assert response.status_code == 400, (case, response.text)
        assert response.json()["error"]["code"] == "invalidRequest"
    local = await api.post(URL, headers=admin, json={"displayName": "dev", "targetUrl": "http://localhost:9/hook"})
    assert local.status_code == 201
    assert (await api.patch(f"{URL}/{local.json()['id']}", headers=admin, json={})).status_code == 400
    assert (await api.patch(f"{URL}/nope", headers=admin, json={"displayName": "y"})).status_code == 404
    assert (await api.delete(f"{URL}/nope", headers=admin)).status_code == 404

    for role in ("User Administrator", "member"):
        headers = await make_token(role)
        denied = await api.post(URL, headers=headers, json={"displayName": "x", "targetUrl": "https://a.test/"})
        assert denied.status_code == 403
    assert (await api.get(URL, headers=await make_token("member"))).status_code == 403
    assert (await api.get(URL, headers=await make_token("User Administrator"))).status_code == 200
