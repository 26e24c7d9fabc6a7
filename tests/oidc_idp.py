"""A real OpenID provider on 127.0.0.1 for the federation tests: `oidc-provider-mock` (Flask and
authlib) served by werkzeug in a thread, with what Foyer needs beyond the package:

- JWT client authentication at its token endpoint (RFC 7523: `client_secret_jwt`, HS256 keyed by
  the client's secret, and `private_key_jwt`, checked against the client's registered JWKS URL,
  e.g. Foyer's own), by authlib's JWTBearerClientAssertion, the library's real verifier;
- clients registered with one method (`register_client`), so a token request with another
  method is refused, as a real provider refuses it;
- a `kid` in its ID tokens' header, and key rotation (`rotate_key`: a new key, a new kid, the old
  key leaves JWKS); `signed(claims)` signs any claims with its current key;
- `userinfo_only`: claims its ID tokens leave out (its userinfo endpoint still answers them).

    with oidc_idp() as idp:              # or the function-scoped `oidc_provider` fixture
        client = idp.register_client("client_secret_post")   # {"client_id", "client_secret"}
        idp.issuer, idp.well_known                            # http://127.0.0.1:<port>[/.well-known/…]
        # Through the API: POST /v1.0/identity/identityProviders with oidc_body(idp, client)
        # (a fresh domain p<hex>.fabrikam.example unless domains=[…] is given); for Google, set
        # get_settings().google_well_known_endpoint = idp.well_known (monkeypatch).
        callback = await idp.sign_in(authorization_url, "sub-1", email="ann@fabrikam.example",
                                     email_verified=True, name="Ann Lee")
        # -> where the provider sends the browser back: the redirect URI with ?code=…&state=…
        #    (deny=True presses Deny instead: error=access_denied)

`sign_in` sets the person's claims (`set_user`) and drives the provider's own authorize form: GET
shows it, POST with `sub` answers the redirect. In Chromium, call `idp.set_user(sub, **claims)`
first, then type the sub into the form's `sub` field and press Authorize. Without a browser,
`provider_row` and `round_trip` run Foyer's side (federation_oidc) against the provider directly.

Importing this module teaches the package's code grant the JWT methods; build mock providers
through `oidc_idp()` only (a bare `oidc_provider_mock.app()` would lack those methods).
"""

import asyncio
import json
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import flask
import httpx
import pytest
import werkzeug.serving
from authlib import jose  # the package keeps its keys as authlib.jose keys
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc.jwk import KeySet, OctKey

import oidc_provider_mock
from oidc_provider_mock import _app as mock_app
from oidc_provider_mock._storage import Client, storage

JWT_METHODS = ("client_secret_jwt", "private_key_jwt")
# The mock's code grant accepts client_secret_basic and client_secret_post; the JWT methods are
# added (every mock server made here registers them, so the names always resolve).
for _method in JWT_METHODS:
    if _method not in mock_app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS:
        mock_app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS = [
            *mock_app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS, _method]

_package_jwt_config = mock_app.OpenIDCode.get_jwt_config


def _jwt_config_with_kid(self, grant, client=None):
    # The package signs ID tokens without a `kid` header; real providers name the key, and Foyer
    # picks the JWKS key by it (and fetches the JWKS again for a kid it does not know).
    config = _package_jwt_config(self, grant, client)
    return {**config, "kid": config["key"].get("kid")}


mock_app.OpenIDCode.get_jwt_config = _jwt_config_with_kid
_package_user_info = mock_app.OpenIDCode.generate_user_info


def _id_token_claims(self, user, scope):
    # What the ID token carries; a provider may keep some claims for its userinfo endpoint only.
    claims = _package_user_info(self, user, scope)
    provider = flask.current_app.config.get("FOYER_TEST_PROVIDER")
    return {k: v for k, v in claims.items() if k not in (provider.userinfo_only if provider else ())}


mock_app.OpenIDCode.generate_user_info = _id_token_claims


class _QuietHandler(werkzeug.serving.WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@dataclass
class Provider:
    base_url: str
    # client_id -> {"method", "secret", "jwks_uri"}: what a JWT client assertion is checked with
    clients: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)
    # every request's path, in order (e.g. to count JWKS fetches)
    paths: list = field(default_factory=list)
    used_jtis: set = field(default_factory=set)
    # claims the ID token leaves out (the userinfo endpoint still answers them)
    userinfo_only: set = field(default_factory=set)

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def well_known(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def provider_row(self, organization_id: str, method: str = "client_secret_post", *,
                     jwks_uri: str | None = None, **fields):
        """A new client of this provider and an (unsaved) oidcIdentityProvider for it, with its
        secret sealed as the API seals it."""
        from foyer.models.federation import IdentityProvider
        from foyer.usecases.federation_oidc import seal_client_secret

        client = self.register_client(method, jwks_uri=jwks_uri)
        row = IdentityProvider(organization_id=organization_id, kind="oidcIdentityProvider",
                               display_name="Fabrikam ID", client_id=client["client_id"], issuer=self.issuer,
                               well_known_endpoint=self.well_known, client_authentication_method=method,
                               **fields)
        if method != "private_key_jwt":
            row.client_secret = seal_client_secret(row.id, client["client_secret"])
        return row

    async def round_trip(self, row, sub: str, *, login_hint: str | None = None, nonce: str | None = None,
                         answered_nonce: str | None = None, **claims):
        """Foyer's side and the browser's: the authorization URL for `row`, the sign-in here as
        `sub` with `claims`, and the VerifiedIdentity Foyer makes of the code. `answered_nonce`
        sends another nonce to the provider than Foyer expects (a mixed-up or replayed answer)."""
        from foyer.usecases import federation_oidc
        from foyer.usecases.federation import oidc_redirect_uri

        nonce = nonce or secrets.token_urlsafe(16)
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        url = await federation_oidc.authorization_url(
            row, state=state, nonce=answered_nonce or nonce, code_verifier=verifier,
            redirect_uri=oidc_redirect_uri(), login_hint=login_hint)
        callback = httpx.URL(await self.sign_in(url, sub, **claims))
        assert callback.params["state"] == state
        return await federation_oidc.verified_identity(row, code=callback.params["code"], nonce=nonce,
                                                       code_verifier=verifier, redirect_uri=oidc_redirect_uri())

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/oauth2/token"

    def register_client(self, method: str = "client_secret_post", *, jwks_uri: str | None = None,
                        redirect_uris: list[str] | None = None) -> dict:
        """A client of the provider that must authenticate with `method` at the token endpoint."""
        answer = httpx.post(f"{self.base_url}/test/clients", json={
            "token_endpoint_auth_method": method, "jwks_uri": jwks_uri, "redirect_uris": redirect_uris})
        answer.raise_for_status()
        return answer.json()

    def set_user(self, sub: str, **claims) -> None:
        httpx.put(f"{self.base_url}/users/{sub}", json=claims).raise_for_status()

    def rotate_key(self) -> str:
        """Sign from now on with a new key (new kid); the old key leaves JWKS. The new kid."""
        answer = httpx.post(f"{self.base_url}/test/rotate-key")
        answer.raise_for_status()
        return answer.json()["kid"]

    def signed(self, claims: dict) -> str:
        """A JWT of `claims` signed with the provider's current key, as its ID tokens are."""
        answer = httpx.post(f"{self.base_url}/test/sign", json=claims)
        answer.raise_for_status()
        return answer.json()["token"]

    def kids(self) -> list[str]:
        return [key.get("kid") for key in httpx.get(f"{self.base_url}/jwks").json()["keys"]]

    async def sign_in(self, authorization_url: str, sub: str, *, deny: bool = False, **claims) -> str:
        """As the person's browser at the provider: open the authorization URL, sign in as `sub`
        (with these claims, e.g. email, email_verified, name, given_name, family_name), and answer
        where the provider sends the browser back (the redirect URI with code and state)."""
        if claims:
            await asyncio.to_thread(self.set_user, sub, **claims)
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
            form = await browser.get(authorization_url)
            assert form.status_code == 200, form.text[:500]
            answer = await browser.post(authorization_url, data={"action": "deny"} if deny else {"sub": sub})
            assert answer.status_code in (302, 303), answer.text[:500]
            return answer.headers["location"]


class _JwtClientAssertion(JWTBearerClientAssertion):
    """RFC 7523 client authentication, for clients registered with this method only."""

    def __init__(self, provider: Provider, method: str):
        super().__init__(validate_jti=True, leeway=30)
        self.provider, self.CLIENT_AUTH_METHOD = provider, method

    def __call__(self, query_client, request):
        # Each method is tried in turn; this one speaks only for clients registered with it.
        assertion = request.form.get("client_assertion")
        if request.form.get("client_assertion_type") == self.CLIENT_ASSERTION_TYPE and assertion:
            _, claims = self.extract_assertion(assertion)
            if (self.provider.clients.get(claims.get("sub")) or {}).get("method") != self.CLIENT_AUTH_METHOD:
                return None
        return super().__call__(query_client, request)

    def get_audiences(self):
        return [self.provider.token_endpoint, self.provider.issuer]

    def validate_jti(self, claims, jti):
        key = f"{claims['sub']}|{jti}"
        if key in self.provider.used_jtis:
            return False
        self.provider.used_jtis.add(key)
        return True

    def resolve_client_public_key(self, client):
        registered = self.provider.clients[client.id]
        if self.CLIENT_AUTH_METHOD == "client_secret_jwt":
            return OctKey.import_key(registered["secret"])
        return KeySet.import_key_set(httpx.get(registered["jwks_uri"], timeout=5).json())


def _flask_app(provider: Provider) -> flask.Flask:
    app = oidc_provider_mock.app(require_client_registration=True, require_nonce=False)
    app.config["FOYER_TEST_PROVIDER"] = provider
    registered: set = set()

    @app.before_request
    def add_jwt_client_authentication():
        # Runs after the package's own hook has put its authorization server in flask.g.
        server = flask.g._authlib_authorization_server
        if id(server) not in registered:
            for method in JWT_METHODS:
                server.register_client_auth_method(method, _JwtClientAssertion(provider, method))
            registered.add(id(server))
        provider.paths.append(flask.request.path)
        if flask.request.path == "/oauth2/token":
            provider.token_requests.append(dict(flask.request.form))

    @app.post("/test/clients")
    def register_client():
        body = flask.request.get_json()
        method = body["token_endpoint_auth_method"]
        client_id, secret = f"client-{secrets.token_hex(6)}", secrets.token_urlsafe(24)
        storage.store_client(Client(
            id=client_id, secret=secret, redirect_uris=body.get("redirect_uris") or mock_app.ClientAllowAny(),
            allowed_scopes=Client.SCOPES_SUPPORTED, token_endpoint_auth_method=method))
        provider.clients[client_id] = {"method": method, "secret": secret, "jwks_uri": body.get("jwks_uri")}
        return flask.jsonify({"client_id": client_id, "client_secret": secret,
                              "token_endpoint_auth_method": method})

    @app.post("/test/sign")
    def sign():
        # Claims of the test's choosing, signed with the provider's current key (to see what
        # Foyer makes of an ID token with a wrong issuer, audience, expiry…).
        from joserfc import jwt as jose_jwt
        from joserfc.jwk import RSAKey

        key = storage.jwk.as_dict(is_private=True)
        header = {"alg": "RS256", "kid": key["kid"], "typ": "JWT"}
        return flask.jsonify({"token": jose_jwt.encode(header, flask.request.get_json(), RSAKey.import_key(key))})

    @app.post("/test/rotate-key")
    def rotate_key():
        storage.jwk = jose.RSAKey.generate_key(is_private=True)
        return flask.jsonify({"kid": storage.jwk.as_dict()["kid"]})

    return app


@contextmanager
def oidc_idp():
    """Start a provider on 127.0.0.1 (a free port); stopped when the block ends."""
    provider = Provider(base_url="")
    server = werkzeug.serving.make_server("127.0.0.1", 0, _flask_app(provider), threaded=True,
                                          request_handler=_QuietHandler)
    provider.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(2)


def oidc_body(idp, client: dict, **extra) -> dict:
    """A POST body of identity/identityProviders for `client` of provider `idp` (client_secret_post)."""
    return {"@odata.type": "#microsoft.graph.oidcIdentityProvider", "displayName": "Fabrikam ID",
            "issuer": idp.issuer, "clientId": client["client_id"], "scope": "openid profile email",
            "responseType": "code", "wellKnownEndpoint": idp.well_known,
            "clientAuthentication": {"@odata.type": "#microsoft.graph.oidcClientSecretAuthentication",
                                     "clientSecret": client["client_secret"]},
            "domains": [f"p{secrets.token_hex(4)}.fabrikam.example"], **extra}


@pytest.fixture
def oidc_provider():
    with oidc_idp() as provider:
        yield provider


def claims_of(token: str) -> dict:
    """The payload of a JWT, unverified (for looking at what a test sent)."""
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
