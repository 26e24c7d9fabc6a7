"""How a connector call authenticates, proven on real servers: the HTTP Basic header arrives; the
client certificate uploaded through the API is presented over real TLS and accepted, while a
certificate from another CA (or none) is refused in the handshake and the sign-up blocked; and the
X-Foyer-Signature header verifies with the foyerSigningSecret the create returned."""

import base64
import time

from foyer.activities.api_connectors import GENERIC_MESSAGE
from foyer.security import SIGNATURE_HEADER, signature_valid
from tests.connector_server import call, connector_server

URL = "/v1.0/identity/apiConnectors"


async def create(api, admin, target_url: str, auth: dict | None = None) -> dict:
    body = {"displayName": "Auth test", "targetUrl": target_url, "foyerTimeoutSeconds": 5}
    if auth:
        body["authenticationConfiguration"] = auth
    response = await api.post(URL, headers=admin, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_basic_header_and_signature(api, admin):
    async with connector_server() as server:
        connector = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.basicAuthentication", "username": "foyer", "password": "pa:ss w0rd"})
        outcome = await call(connector["id"])
        assert outcome.action == "continue"
        [received] = server.requests
    expected = "Basic " + base64.b64encode(b"foyer:pa:ss w0rd").decode()
    assert received.headers["authorization"] == expected
    assert signature_valid(connector["foyerSigningSecret"], received.headers[SIGNATURE_HEADER.lower()],
                           received.raw, time.time())
    assert not signature_valid("another-secret", received.headers[SIGNATURE_HEADER.lower()],
                               received.raw, time.time())


async def test_signature_only(api, admin):
    async with connector_server() as server:
        connector = await create(api, admin, server.url)
        assert (await call(connector["id"])).action == "continue"
        [received] = server.requests
    assert "authorization" not in received.headers
    assert signature_valid(connector["foyerSigningSecret"], received.headers[SIGNATURE_HEADER.lower()],
                           received.raw, time.time())


async def test_client_certificate_over_tls(api, admin, monkeypatch):
    async with connector_server(tls=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)  # trust the test CA for the server's cert
        connector = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.pkcs12Certificate",
            "pkcs12Value": server.client_pkcs12, "password": server.client_password})
        outcome = await call(connector["id"])
        assert outcome.action == "continue", outcome.detail
        assert len(server.requests) == 1
        assert signature_valid(connector["foyerSigningSecret"],
                               server.requests[0].headers[SIGNATURE_HEADER.lower()], server.requests[0].raw,
                               time.time())

        # A certificate from another CA: the server refuses the handshake; fail closed.
        stranger = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.pkcs12Certificate",
            "pkcs12Value": server.stranger_pkcs12("pw"), "password": "pw"})
        refused = await call(stranger["id"])
        assert refused.action == "block" and refused.user_message == GENERIC_MESSAGE
        assert refused.detail and "CERTIFICATE_VERIFY_FAILED" not in refused.detail, refused.detail

        # No certificate at all (signature only): refused too.
        bare = await create(api, admin, server.url)
        refused = await call(bare["id"])
        assert refused.action == "block" and refused.detail
        assert len(server.requests) == 1  # neither refused call reached the application


async def test_server_certificate_is_verified(api, admin):
    """Without trusting the test CA, Foyer refuses the server's certificate: no call is made."""
    async with connector_server(tls=True) as server:
        connector = await create(api, admin, server.url, {
            "@odata.type": "#microsoft.graph.pkcs12Certificate",
            "pkcs12Value": server.client_pkcs12, "password": server.client_password})
        outcome = await call(connector["id"])
        assert outcome.action == "block" and "CERTIFICATE_VERIFY_FAILED" in outcome.detail
        assert server.requests == []
