"""OpenID Connect with a guest's own identity provider (an oidcIdentityProvider, or the
socialIdentityProvider Google): the authorization code flow with PKCE (S256) and a nonce, the
token request with the provider's client authentication, and the ID token's verification.

- `authorization_url` is where the browser is sent; `verified_identity` turns the code the browser
  brought back into a VerifiedIdentity (foyer.usecases.federation), or raises FederationRefused,
  whatever went wrong: no httpx or JOSE error leaves this module.
- The discovery document comes from the provider's wellKnownEndpoint (Google's from the setting
  google_well_known_endpoint). Discovery documents and JWKS are cached per process for
  CACHE_SECONDS; a token signed with a key the cached JWKS lacks makes one fresh fetch (the
  provider rotated its keys) before it is refused.
- Every call goes through foyer.outbound.client: only public addresses (or the networks an
  operator allowed with FOYER_OUTBOUND_ALLOWED_NETWORKS), no redirects, no proxies.
- Client authentication at the token endpoint (Graph refuses client_secret_basic):
  `client_secret_post` (client_id and client_secret in the form), `client_secret_jwt` (an RFC 7523
  assertion, HS256 keyed by the client secret) and `private_key_jwt` (an assertion signed RS256
  with Foyer's own OpenID signing key, foyer.usecases.signing_keys; the provider verifies it with
  Foyer's published JWKS, `client_jwks_uri`, the same keys its apps verify ID tokens with).
- The client secret is sealed (foyer.security.seal) bound to the provider's id: `seal_client_secret`
  and `client_secret`.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from foyer import outbound, security
from foyer.models.federation import IdentityProvider
from foyer.settings import get_settings
from foyer.usecases import signing_keys
from foyer.usecases.federation import FederationRefused, VerifiedIdentity, identity_issuer, public_url

CACHE_SECONDS = 3600.0
TIMEOUT_SECONDS = 10.0
# A discovery document or a JWKS is a few kilobytes; more is not one.
MAX_DOCUMENT_BYTES = 512 * 1024
# Clock difference allowed between Foyer and the provider, and the oldest `iat` accepted for a
# token that was just issued for a code.
LEEWAY_SECONDS = 120
MAX_TOKEN_AGE_SECONDS = 600
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ASSERTION_SECONDS = 300
# ID token signatures Foyer accepts: asymmetric only (never "none", never a MAC keyed by the
# client secret, which anyone holding the secret could make).
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CLIENT_AUTHENTICATION_METHODS = ("client_secret_post", "client_secret_jwt", "private_key_jwt")
# Graph's oidcInboundClaimMappingOverride: Foyer's name -> the provider's claim (same by default).
MAPPED_CLAIMS = ("sub", "name", "given_name", "family_name", "email", "email_verified")
# Google's ID tokens carry either form of its issuer (Google's "Authenticate with a backend server").
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

_discovery_cache: dict[str, tuple[float, dict]] = {}
_jwks_cache: dict[str, tuple[float, dict]] = {}


def forget_cached_documents() -> None:
    """Drop this process's discovery documents and JWKS (tests; after a provider was changed)."""
    _discovery_cache.clear()
    _jwks_cache.clear()


# --- the client secret -----------------------------------------------------------------------------

def _secret_context(provider_id: str) -> str:
    return f"identity_providers.client_secret:{provider_id}"


def seal_client_secret(provider_id: str, secret: str | None) -> str | None:
    return security.seal(secret, _secret_context(provider_id))


def client_secret(provider: IdentityProvider) -> str | None:
    return security.unseal(provider.client_secret, _secret_context(provider.id))


def client_jwks_uri(organization_id: str) -> str:
    """Where a provider finds the keys Foyer's private_key_jwt assertions are signed with: Foyer's
    own OpenID JWKS (foyer.api.routers.openid)."""
    return f"{public_url()}/{organization_id}/discovery/v2.0/keys"


# --- URLs and fetching -----------------------------------------------------------------------------

def url_refusal(url: object, name: str) -> str | None:
    """Why `url` cannot be one of a provider's endpoints: https only, plain http only on this
    machine (127.0.0.1 / localhost, for tests and development)."""
    if not isinstance(url, str) or not url.strip() or len(url) > 2048:
        return f"{name} must be an absolute https URL"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{name} is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name} must be an absolute https URL"
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return f"{name} must use https (plain http only for 127.0.0.1 / localhost)"
    if parts.username or parts.password:
        return f"{name} may not carry a user name or password"
    return None


def well_known_endpoint(provider: IdentityProvider) -> str:
    if provider.kind == "socialIdentityProvider" and provider.identity_provider_type == "Google":
        return get_settings().google_well_known_endpoint
    return provider.well_known_endpoint or ""


def _unavailable(what: str, detail: str) -> FederationRefused:
    refused = FederationRefused("providerUnavailable",
                                f"Your identity provider could not be reached ({what}: {detail}). Try again later.")
    refused.detail = f"the provider's {what} could not be reached ({detail})"  # for an admin
    return refused


def _misconfigured(detail: str) -> FederationRefused:
    refused = FederationRefused("providerMisconfigured",
                                f"Your identity provider is not set up correctly for this organization: {detail}. "
                                "Tell the organization's administrator.")
    refused.detail = detail.replace("its ", "the provider's ", 1)  # for an admin
    return refused


async def _read(response: httpx.Response, what: str) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise _misconfigured(f"its {what} is larger than {MAX_DOCUMENT_BYTES // 1024} KB")
    return body


async def _read_json(response: httpx.Response, what: str) -> object:
    try:
        return json.loads(await _read(response, what))
    except ValueError:
        raise _misconfigured(f"its {what} is not JSON") from None


async def _fetch_json(url: str, what: str) -> dict:
    try:
        async with outbound.client(timeout=TIMEOUT_SECONDS) as client:
            async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise _unavailable(what, f"HTTP {response.status_code}")
                if response.status_code != 200:
                    raise _misconfigured(f"its {what} at {url} answered HTTP {response.status_code}")
                document = await _read_json(response, what)
    except httpx.HTTPError as error:
        raise _transport_refusal(error, what) from None
    if not isinstance(document, dict):
        raise _misconfigured(f"its {what} is not a JSON object")
    return document


def _transport_refusal(error: httpx.HTTPError, what: str) -> FederationRefused:
    refused = outbound.refusal_in(error)
    if refused is not None:
        return _misconfigured(f"its {what} is at an address Foyer does not call ({refused.public_reason})")
    if isinstance(error, httpx.TimeoutException):
        return _unavailable(what, f"no answer within {TIMEOUT_SECONDS:g} s")
    return _unavailable(what, type(error).__name__)


# --- discovery -------------------------------------------------------------------------------------

def _checked_discovery(document: dict) -> dict:
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if name != "issuer" and (why := url_refusal(document.get(name), name)) is not None:
            raise _misconfigured(f"its discovery document's {why}")
    if not isinstance(document.get("issuer"), str) or not document["issuer"].strip():
        raise _misconfigured("its discovery document has no issuer")
    return document


async def discovery(provider: IdentityProvider, *, fresh: bool = False) -> dict:
    """The provider's OpenID discovery document (cached CACHE_SECONDS), checked: issuer and https
    endpoints. For an oidcIdentityProvider its issuer must be the one the admin configured."""
    url = well_known_endpoint(provider)
    if (why := url_refusal(url, "wellKnownEndpoint")) is not None:
        raise _misconfigured(why)
    cached = _discovery_cache.get(url)
    if cached is not None and cached[0] > time.monotonic() and not fresh:
        document = cached[1]
    else:
        document = _checked_discovery(await _fetch_json(url, "discovery document"))
        _discovery_cache[url] = (time.monotonic() + CACHE_SECONDS, document)
    if provider.kind == "oidcIdentityProvider" and provider.issuer and document["issuer"] != provider.issuer:
        raise _misconfigured(f"its discovery document names the issuer {document['issuer']}, "
                             f"not {provider.issuer}")
    return document


async def _jwks(jwks_uri: str, *, fresh: bool = False) -> dict:
    cached = _jwks_cache.get(jwks_uri)
    if cached is not None and cached[0] > time.monotonic() and not fresh:
        return cached[1]
    document = await _fetch_json(jwks_uri, "key set (JWKS)")
    if not isinstance(document.get("keys"), list):
        raise _misconfigured("its key set (JWKS) has no keys")
    _jwks_cache[jwks_uri] = (time.monotonic() + CACHE_SECONDS, document)
    return document


# --- the authorization request ---------------------------------------------------------------------

def code_challenge(code_verifier: str) -> str:
    """PKCE S256 (RFC 7636): base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(url: str, parameters: dict) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in parameters]
    return urlunsplit(parts._replace(query=urlencode([*query, *parameters.items()])))


async def authorization_url(provider: IdentityProvider, *, state: str, nonce: str, code_verifier: str,
                            redirect_uri: str, login_hint: str | None) -> str:
    """Where the browser goes to sign in at the provider (the code flow). FederationRefused when
    its discovery document cannot be had (providerUnavailable) or is unusable."""
    try:
        document = await discovery(provider)
    except FederationRefused:
        raise
    except (ValueError, TypeError, KeyError, httpx.HTTPError) as error:
        raise _misconfigured(f"its discovery document could not be read ({type(error).__name__})") from None
    parameters = {"response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri,
                  "scope": provider.scope or "openid", "state": state, "nonce": nonce,
                  "code_challenge": code_challenge(code_verifier), "code_challenge_method": "S256"}
    if login_hint:
        parameters["login_hint"] = login_hint
    return _with_query(document["authorization_endpoint"], parameters)


# --- the token request -----------------------------------------------------------------------------

async def _client_authentication(provider: IdentityProvider, token_endpoint: str) -> dict:
    method = provider.client_authentication_method
    if method not in CLIENT_AUTHENTICATION_METHODS:
        raise _misconfigured(f"the client authentication {method!r} is not supported")
    if method == "private_key_jwt":
        kid, key = await signing_keys.signing_key()
        assertion = signing_keys.encode(kid, key, _assertion_claims(provider, token_endpoint))
        return {"client_id": provider.client_id, "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": assertion}
    try:
        secret = client_secret(provider)
    except security.SealedValueError:
        raise _misconfigured("its client secret cannot be read (was FOYER_SECRET_KEY changed?)") from None
    if not secret:
        raise _misconfigured("it has no client secret")
    if method == "client_secret_post":
        return {"client_id": provider.client_id, "client_secret": secret}
    assertion = jwt.encode({"alg": "HS256", "typ": "JWT"}, _assertion_claims(provider, token_endpoint),
                           OctKey.import_key(secret.encode()), algorithms=["HS256"])
    return {"client_id": provider.client_id, "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion}


def _assertion_claims(provider: IdentityProvider, token_endpoint: str) -> dict:
    """RFC 7523 §3: issued by and about the client, for the token endpoint, short-lived, unique."""
    now = int(time.time())
    return {"iss": provider.client_id, "sub": provider.client_id, "aud": token_endpoint,
            "jti": secrets.token_urlsafe(16), "iat": now, "nbf": now, "exp": now + CLIENT_ASSERTION_SECONDS}


async def _token_response(provider: IdentityProvider, document: dict, *, code: str, code_verifier: str,
                          redirect_uri: str) -> dict:
    endpoint = document["token_endpoint"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier, **await _client_authentication(provider, endpoint)}
    try:
        async with outbound.client(timeout=TIMEOUT_SECONDS) as client:
            async with client.stream("POST", endpoint, data=form, headers={"Accept": "application/json"}) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise _unavailable("token endpoint", f"HTTP {response.status_code}")
                raw, status = await _read(response, "token response"), response.status_code
    except httpx.HTTPError as error:
        raise _transport_refusal(error, "token endpoint") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if status != 200:
        error = answer.get("error") if isinstance(answer, dict) else None
        raise FederationRefused("codeRejected",
                                "Your identity provider did not complete the sign-in"
                                + (f" ({str(error)[:100]})" if error else f" (HTTP {status})") + ". Start again.")
    if not isinstance(answer, dict) or not isinstance(answer.get("id_token"), str):
        raise FederationRefused("tokenRejected", "Your identity provider answered without an ID token.")
    return answer


# --- the ID token ----------------------------------------------------------------------------------

def _rejected(detail: str) -> FederationRefused:
    return FederationRefused("tokenRejected", f"The answer of your identity provider cannot be trusted: {detail}.")


def _header(id_token: str) -> dict:
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        raise _rejected("the ID token is not a signed JWT") from None
    if not isinstance(header, dict):
        raise _rejected("the ID token's header is not an object")
    return header


def _keys_for(jwks: dict, kid: object, alg: str) -> list[dict]:
    family = {"R": "RSA", "P": "RSA", "E": "EC"}.get(alg[0], "OKP")
    found = []
    for key in jwks.get("keys", []):
        if not isinstance(key, dict) or key.get("kty") != family or key.get("use", "sig") != "sig":
            continue
        if key.get("alg") not in (None, alg):
            continue
        if kid is None or key.get("kid") == kid:
            found.append(key)
    return found


def _signed_claims(id_token: str, keys: list[dict], alg: str) -> dict | None:
    for key in keys:
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set({"keys": [key]}), algorithms=[alg])
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        return dict(decoded.claims)
    return None


async def _verified_signature(id_token: str, document: dict) -> dict:
    header = _header(id_token)
    alg, kid = header.get("alg"), header.get("kid")
    allowed = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    if alg not in SIGNATURE_ALGORITHMS or (isinstance(allowed, list) and alg not in allowed):
        raise _rejected(f"the ID token is signed with {alg!r}, which Foyer does not accept")
    if kid is not None and not isinstance(kid, str):
        raise _rejected("the ID token's kid is not a string")
    claims = _signed_claims(id_token, _keys_for(await _jwks(document["jwks_uri"]), kid, alg), alg)
    if claims is None:
        # A key the cached JWKS lacks (the provider rotated): fetch it once more before refusing.
        claims = _signed_claims(id_token, _keys_for(await _jwks(document["jwks_uri"], fresh=True), kid, alg), alg)
    if claims is None:
        raise _rejected("the ID token's signature does not verify with any of the provider's published keys")
    return claims


def _check_claims(provider: IdentityProvider, document: dict, claims: dict, nonce: str) -> None:
    issuers = (document["issuer"],)
    if provider.kind == "socialIdentityProvider" and document["issuer"] in GOOGLE_ISSUERS:
        issuers = GOOGLE_ISSUERS
    if claims.get("iss") not in issuers:
        raise _rejected(f"the ID token was issued by {str(claims.get('iss'))[:200]!r}, not {document['issuer']}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if provider.client_id not in audiences:
        raise _rejected("the ID token is meant for another application")
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise _rejected("the ID token is meant for several applications and names another one as its party")
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now - LEEWAY_SECONDS:
        raise _rejected("the ID token has expired")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + LEEWAY_SECONDS \
            or iat < now - MAX_TOKEN_AGE_SECONDS - LEEWAY_SECONDS:
        raise _rejected("the ID token's issue time is not now")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
        raise FederationRefused("nonceMismatch",
                                "The answer of your identity provider belongs to another sign-in. Start again.")


async def _userinfo(document: dict, answer: dict, claims: dict) -> dict:
    """The userinfo endpoint's claims, for a provider that keeps the address out of its ID tokens
    (OpenID Connect Core 5.3). Its `sub` must be the ID token's (5.3.2); the ID token's claims
    win over it. Nothing when there is no endpoint or access token."""
    endpoint, access_token = document.get("userinfo_endpoint"), answer.get("access_token")
    if not endpoint or not isinstance(access_token, str) or url_refusal(endpoint, "userinfo_endpoint"):
        return {}
    try:
        async with outbound.client(timeout=TIMEOUT_SECONDS) as client:
            async with client.stream("GET", endpoint, headers={"Accept": "application/json",
                                                                "Authorization": f"Bearer {access_token}"}) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise _unavailable("userinfo endpoint", f"HTTP {response.status_code}")
                if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
                    return {}  # refused, or a signed/encrypted answer Foyer does not read: no more claims
                found = await _read_json(response, "userinfo answer")
    except httpx.HTTPError as error:
        raise _transport_refusal(error, "userinfo endpoint") from None
    if not isinstance(found, dict):
        return {}
    if found.get("sub") != claims.get("sub"):
        raise _rejected("its userinfo answer is about another subject than its ID token")
    return found


def claim_name(provider: IdentityProvider, name: str) -> str:
    """The provider's claim for Foyer's `name` (Graph's inboundClaimMapping; the same by default)."""
    mapped = (provider.inbound_claim_mapping or {}).get(name)
    return mapped if isinstance(mapped, str) and mapped else name


def _text(value: object) -> str | None:
    return value.strip()[:256] or None if isinstance(value, str) else None


def _verified_flag(value: object) -> bool:
    # Some providers send the boolean as a string; anything but true/"true" is not verified.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def identity_from_claims(provider: IdentityProvider, claims: dict) -> VerifiedIdentity:
    subject = claims.get(claim_name(provider, "sub"))
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 255:
        raise _rejected("the ID token names no subject")
    email = _text(claims.get(claim_name(provider, "email")))
    partner = _partner_claims(provider, claims)
    return VerifiedIdentity(**partner,
        issuer=identity_issuer(provider), issuer_assigned_id=subject,
        email=email, email_verified=bool(email) and _verified_flag(claims.get(claim_name(provider, "email_verified"))),
        display_name=_text(claims.get(claim_name(provider, "name"))),
        given_name=_text(claims.get(claim_name(provider, "given_name"))),
        surname=_text(claims.get(claim_name(provider, "family_name"))))


MAX_PARTNER_GROUPS = 200


def _partner_claims(provider: IdentityProvider, claims: dict) -> dict:
    """A partner organization's provider (provider.tenant_id): its token must name that tenant
    (`tid`); the person's object id, groups and sign-in methods there are kept for cross-tenant
    access settings and Conditional Access. Nothing for an ordinary provider."""
    if not provider.tenant_id:
        return {}
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or tenant.lower() != provider.tenant_id:
        raise _rejected(f"the ID token names the tenant {str(tenant)[:64]!r}, not the partner's {provider.tenant_id}")
    groups = claims.get("groups") if isinstance(claims.get("groups"), list) else []
    amr = claims.get("amr") if isinstance(claims.get("amr"), list) else []
    return {"tenant_id": provider.tenant_id, "object_id": _text(claims.get("oid")),
            "group_ids": tuple(g for g in groups if isinstance(g, str) and 0 < len(g) <= 64)[:MAX_PARTNER_GROUPS],
            "amr": tuple(m for m in amr if isinstance(m, str) and 0 < len(m) <= 32)[:16]}


def callback_refusal(error: str | None, description: str | None = None) -> FederationRefused | None:
    """What the provider's answer means when it carries `error` instead of a code (RFC 6749
    4.1.2.1): the person cancelled (access_denied) or the provider refused the request. None when
    there is no error. The description is the provider's text: shortened, shown as text only."""
    if not error:
        return None
    if error == "access_denied":
        return FederationRefused("signInCancelled", "The sign-in at your identity provider was cancelled.")
    detail = f": {description[:200]}" if isinstance(description, str) and description.strip() else ""
    return FederationRefused("providerRefused",
                             f"Your identity provider refused the sign-in ({error[:100]}{detail}).")


async def verified_identity(provider: IdentityProvider, *, code: str, nonce: str, code_verifier: str,
                            redirect_uri: str) -> VerifiedIdentity:
    """Redeem the code at the provider's token endpoint and verify the ID token it answers:
    signature (the provider's JWKS), issuer (the discovery document's), audience (the client id),
    expiry, issue time and nonce; then map its claims. FederationRefused for every failure."""
    if not isinstance(code, str) or not code or len(code) > 4096:
        raise FederationRefused("codeMissing", "Your identity provider sent no sign-in code. Start again.")
    try:
        document = await discovery(provider)
        answer = await _token_response(provider, document, code=code, code_verifier=code_verifier,
                                       redirect_uri=redirect_uri)
        claims = await _verified_signature(answer["id_token"], document)
        _check_claims(provider, document, claims, nonce)
        if claim_name(provider, "email") not in claims:
            claims = {**await _userinfo(document, answer, claims), **claims}
        return identity_from_claims(provider, claims)
    except FederationRefused:
        raise
    except (JoseError, ValueError, TypeError, KeyError, httpx.HTTPError) as error:
        # A shape no check above foresaw: still a refusal, never an error page.
        raise _rejected(f"it could not be read ({type(error).__name__})") from None
