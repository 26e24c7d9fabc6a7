"""What the OpenID Provider tests share: applications registered by writing their rows (the Graph
API that registers them is tested on its own), assignments, a browser signed in to Foyer (a
session cookie from foyer.sessions, skipping the mail), the relying party served, and the code
flow by hand for the protocol negatives."""

import base64
import hashlib
import secrets
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx

from foyer import sessions
from foyer.db import session_scope
from foyer.models.directory import Application, AppRoleAssignment, User
from foyer.settings import get_settings
from foyer.usecases.openid_clients import new_client_secret, secret_hint
from tests.ports import free_port
from tests.relying_party import RelyingParty, serving

READER = "11111111-1111-1111-1111-111111111111"
APP_ROLES = [{"id": READER, "value": "Reader", "displayName": "Reader", "description": "Reads",
              "isEnabled": True, "allowedMemberTypes": ["User"], "origin": "Application"}]


def tenant_url(organization_id: str) -> str:
    return f"{get_settings().public_url}/{organization_id}"


def discovery_url(organization_id: str) -> str:
    return f"{tenant_url(organization_id)}/v2.0/.well-known/openid-configuration"


async def register_app(organization_id: str, *, web: list[str] = (), spa: list[str] = (),
                       public: list[str] = (), secret: bool = True, name: str = "Partner Portal",
                       assignment_required: bool = True, group_claims: str | None = None) -> tuple[Application, str | None]:
    """An application row with these redirect URIs and, if `secret`, one password credential:
    (the row, the secret's text)."""
    text, digest = new_client_secret() if secret else (None, None)
    now = datetime.now(timezone.utc)
    credentials = [{"keyId": str(uuid.uuid4()), "displayName": "test", "hint": secret_hint(text),
                    "startDateTime": now.isoformat(), "endDateTime": (now + timedelta(days=30)).isoformat(),
                    "secretHash": digest}] if text else []
    async with session_scope() as session:
        app = Application(organization_id=organization_id, display_name=name, web_redirect_uris=list(web),
                          spa_redirect_uris=list(spa), public_client_redirect_uris=list(public),
                          password_credentials=credentials, app_roles=APP_ROLES,
                          app_role_assignment_required=assignment_required, group_membership_claims=group_claims)
        session.add(app)
    return app, text


async def assign(app: Application, user: User, role_id: str = READER) -> None:
    async with session_scope() as session:
        session.add(AppRoleAssignment(application_id=app.id, principal_id=user.id, app_role_id=role_id))


def signed_in(client: httpx.AsyncClient, user: User, *, at: datetime | None = None) -> None:
    """Give the browser a Foyer session for `user` (as the sign-in page would), issued `at`."""
    value, _ = sessions.issue(user.id, now=at)
    client.cookies.set(sessions.SESSION_COOKIE, value, domain="127.0.0.1", path="/")


def browser(**kwargs) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30, **kwargs)


@asynccontextmanager
async def relying_party(organization_id: str, *, secret: bool = True, name: str = "Partner Portal",
                        **registration):
    """A relying party served on 127.0.0.1, registered (web redirect URI) in Foyer: (rp, app)."""
    port = free_port()
    app, text = await register_app(organization_id, web=[f"http://127.0.0.1:{port}/callback"],
                                   secret=secret, name=name, **registration)
    rp = RelyingParty(discovery_url=discovery_url(organization_id), client_id=app.app_id,
                      client_secret=text, port=port)
    async with serving(rp):
        yield rp, app


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def authorize(client: httpx.AsyncClient, organization_id: str, app: Application, redirect_uri: str,
                    **params) -> httpx.Response:
    """GET the authorization endpoint (not following the redirect)."""
    query = {"client_id": app.app_id, "redirect_uri": redirect_uri, "response_type": "code",
             "scope": "openid profile email offline_access", "state": "st-" + secrets.token_hex(4),
             "nonce": "n-" + secrets.token_hex(4), **params}
    return await client.get(f"{tenant_url(organization_id)}/oauth2/v2.0/authorize",
                            params={k: v for k, v in query.items() if v is not None}, follow_redirects=False)


async def code_for(client: httpx.AsyncClient, organization_id: str, app: Application, redirect_uri: str,
                   **params) -> str:
    answer = await authorize(client, organization_id, app, redirect_uri, **params)
    assert answer.status_code == 303, answer.text
    found = query_of(answer.headers["location"])
    assert "code" in found, found
    return found["code"]


async def token_request(organization_id: str, data: dict, *, auth: tuple[str, str] | None = None) -> httpx.Response:
    async with browser() as client:
        return await client.post(f"{tenant_url(organization_id)}/oauth2/v2.0/token", data=data, auth=auth)
