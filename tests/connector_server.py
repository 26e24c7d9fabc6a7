"""A real HTTP(S) server on 127.0.0.1 standing in for an external system behind an API connector
(sign-up validation, identity verification, approval). Tests script its answers per call and read
what it received.

    async with connector_server() as server:
        server.reply(json={"version": "1.0.0", "action": "Continue"})      # the next answer
        server.reply(status=400, json={...})                               # the one after
        server.reply(delay=5)                                              # answers after 5 s
        server.reply(body=b"\\x00 not json")                                # raw bytes
        ... server.url ...                                                 # http://127.0.0.1:<port>/connector
        server.requests[0].json, .headers, .raw, .path
        await server.wait_for(1)                                           # until 1 request came

Replies are used in order; the last one keeps answering every later call. With no reply
scripted, the server answers 200 `{"version": "1.0.0", "action": "Continue"}`.

Replies can be scripted per sign-up step (the `step` of the JSON body Foyer posts), which take
precedence over the general ones; a server can stand behind several connectors at once:

        connector_id = await server.connector(organization_id, timeout=5)   # a row targeting
                                                                            # <url>/<connector id>
        server.reply(step="approvalRequested", status=202, json={"action": "Pending", ...})
        server.calls, server.steps()                                        # bodies, their steps

For a path `/connector/<id>` of a connector made with `connector()`, the server checks Foyer's
`X-Foyer-Signature` with that connector's secret and answers 401 to a bad one (counted in
`bad_signatures`, not in `calls`).

`connector_server(tls=True)` serves HTTPS and REQUIRES a client certificate signed by its own
test CA (generated at start with `cryptography`): `server.client_pkcs12` / `client_password` is
the certificate to upload to the connector, `server.ca_file` the CA to trust (set `SSL_CERT_FILE`
to it, which OpenSSL honours, so Foyer verifies the server), and `stranger_pkcs12()` makes a
certificate from another CA, which the server refuses in the handshake.
"""

import asyncio
import base64
import datetime
import ipaddress
import json as jsonlib
import ssl
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.ports import free_port

CONTINUE = {"version": "1.0.0", "action": "Continue"}


@dataclass
class Reply:
    status: int = 200
    json: object = None
    body: bytes | None = None
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict
    raw: bytes
    time: float = field(default_factory=time.time)
    signature_ok: bool | None = None  # checked only on the path of a connector made by connector()

    @property
    def json(self):
        return jsonlib.loads(self.raw)


# --- certificates -------------------------------------------------------------------------------

def _key():
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    key = _key()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca, common_name: str, *, server: bool):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID
    ca_key, ca_cert = ca
    key = _key()
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def pkcs12_base64(key, cert, password: str, ca_cert=None) -> str:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    data = pkcs12.serialize_key_and_certificates(b"client", key, cert, [ca_cert] if ca_cert else None,
                                                 BestAvailableEncryption(password.encode()))
    return base64.b64encode(data).decode()


def _pem(path: Path, *items) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    out = b""
    for item in items:
        if hasattr(item, "private_bytes"):
            out += item.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        else:
            out += item.public_bytes(Encoding.PEM)
    path.write_bytes(out)
    return str(path)


# --- the server --------------------------------------------------------------------------------

class ConnectorServer:
    def __init__(self, tls: bool = False):
        self.tls = tls
        self.port = free_port()
        self.requests: list[Received] = []
        self._replies: list[Reply] = []
        self._step_replies: dict[str, list[Reply]] = {}
        self._secrets: dict[str, str] = {}  # path -> the connector's signing secret
        self.bad_signatures = 0
        self._closing = asyncio.Event()
        self._dir = Path(tempfile.mkdtemp(prefix="foyer-connector-"))
        options = {}
        if tls:
            self.client_password = "client-pass-123"
            ca = make_ca("Foyer Test Connector CA")
            server_key, server_cert = issue(ca, "127.0.0.1", server=True)
            client_key, client_cert = issue(ca, "foyer-client", server=False)
            self.ca_file = _pem(self._dir / "ca.pem", ca[1])
            self.client_certificate = client_cert
            self.client_pkcs12 = pkcs12_base64(client_key, client_cert, self.client_password, ca[1])
            options = {"ssl_keyfile": _pem(self._dir / "server-key.pem", server_key),
                       "ssl_certfile": _pem(self._dir / "server.pem", server_cert),
                       "ssl_ca_certs": self.ca_file, "ssl_cert_reqs": ssl.CERT_REQUIRED}
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "GET", "PUT"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="critical", lifespan="off", **options))

    def stranger_pkcs12(self, password: str = "stranger-pass") -> str:
        """A client certificate the server does not trust (its CA is another one)."""
        other = make_ca("Somebody Else's CA")
        key, cert = issue(other, "stranger", server=False)
        return pkcs12_base64(key, cert, password, other[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/connector"

    def reply(self, json: object = None, *, status: int = 200, body: bytes | None = None,
              delay: float = 0.0, step: str | None = None) -> "ConnectorServer":
        """Script the next answer: a JSON body (default Continue), or raw `body` bytes, after `delay`
        seconds; with `step`, only for calls at that sign-up step. The last scripted answer (of the
        step, or in general) repeats for every later call."""
        if json is None and body is None:
            json = CONTINUE
        queue = self._replies if step is None else self._step_replies.setdefault(step, [])
        queue.append(Reply(status=status, json=json, body=body, delay=delay))
        return self

    def url_for(self, connector_id: str) -> str:
        return f"{self.url}/{connector_id}"

    async def connector(self, organization_id: str, timeout: float = 5.0, **fields) -> str:
        """A connector row (written to the directory) whose targetUrl is `url_for(its id)`, so this
        server checks Foyer's signature on its calls with that connector's secret."""
        from foyer.security import connector_secret
        from foyer.models.base import new_id
        from tests.factories import make_connector

        connector_id = new_id()
        await make_connector(organization_id, self.url_for(connector_id), id=connector_id,
                            display_name=fields.pop("display_name", f"conn {connector_id[:6]}"),
                            authentication_type=fields.pop("authentication_type", "signature"),
                            timeout_seconds=timeout, **fields)
        self._secrets[f"/connector/{connector_id}"] = connector_secret(connector_id)
        return connector_id

    @property
    def calls(self) -> list[dict]:
        """The JSON bodies of the calls that carried a good signature (or were not checked)."""
        return [r.json for r in self.requests if r.signature_ok is not False]

    def steps(self) -> list[str]:
        return [c.get("step") for c in self.calls]

    def _next(self, received: Received) -> Reply:
        step = None
        try:
            body = received.json
            step = body.get("step") if isinstance(body, dict) else None
        except ValueError:
            pass
        for queue in (self._step_replies.get(step) or [], self._replies):
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return Reply(json=CONTINUE)

    async def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} requests, expected {count}")
            await asyncio.sleep(0.02)
        return self.requests

    async def _handle(self, request: Request) -> Response:
        received = Received(path=request.url.path, headers=dict(request.headers), raw=await request.body())
        secret = self._secrets.get(received.path)
        if secret is not None:
            from foyer.security import SIGNATURE_HEADER, signature_valid
            received.signature_ok = signature_valid(secret, request.headers.get(SIGNATURE_HEADER),
                                                    received.raw, time.time())
        self.requests.append(received)
        if received.signature_ok is False:
            self.bad_signatures += 1
            return Response(b'{"error": "bad signature"}', status_code=401, media_type="application/json")
        reply = self._next(received)
        if reply.delay:
            try:
                await asyncio.wait_for(self._closing.wait(), reply.delay)
            except TimeoutError:
                pass
        content = reply.body if reply.body is not None else jsonlib.dumps(reply.json).encode()
        return Response(content, status_code=reply.status, media_type="application/json")

    async def __aenter__(self) -> "ConnectorServer":
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc) -> None:
        self._closing.set()
        self.server.should_exit = True
        await self.task


@asynccontextmanager
async def connector_server(tls: bool = False):
    async with ConnectorServer(tls=tls) as server:
        yield server


# --- calling the activity directly -------------------------------------------------------------

async def call(connector_id: str, *, step: str = "postAttributeCollection", payload: dict | None = None,
               user_flow_id: str = "B2X_1_none", sign_up_id: str | None = None):
    """Run the real `call_api_connector` activity (ActivityEnvironment: real DB, real HTTP)."""
    import uuid

    from temporalio.testing import ActivityEnvironment

    from foyer.activities.api_connectors import call_api_connector
    from foyer.workflows.messages import ConnectorCall

    return await ActivityEnvironment().run(call_api_connector, ConnectorCall(
        connector_id=connector_id, step=step, sign_up_id=sign_up_id or uuid.uuid4().hex,
        user_flow_id=user_flow_id,
        payload=payload if payload is not None else {"email": "sam@fabrikam.test", "ui_locales": "en-US"}))
