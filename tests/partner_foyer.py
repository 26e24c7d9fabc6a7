"""A second Foyer organization — the home of its own people — for cross-tenant tests: its own
database (SQLite, in the test's folder), its own API process and worker process on its own task
queue, on the suite's Temporal dev server and mail server. It is served at http://localhost:{port}
while the suite's own Foyer (the resource organization) is at http://127.0.0.1:{port}: browsers
keep cookies per host, not per port, so the two sessions stay apart as two sites' would.

The home organization's side of the partnership, over its Graph API: people and groups, the
application registration through which the resource organization signs its people in
(foyerPartnerTenantId), Conditional Access and cross-tenant settings. The resource's side:
`register_at_resource` makes the home's OpenID Provider an identity provider of the resource
organization for the home's domain (its tenant id read off the issuer).
"""

import html
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pyotp

from foyer.settings import PROJECT_ROOT
from tests.federation_support import accept_and_go_to_provider
from tests.portal_support import csrf_in
from tests.ports import free_port
from tests.support import onward_url, passcode_in
from tests.test_entry_points import answer, stop

FOYER = str(Path(sys.executable).parent / "foyer")
HOME_DOMAIN = "home.test"


class PartnerFoyer:
    def __init__(self, root: Path, temporal_address: str):
        self.root = root
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.env = {**os.environ,
                    "FOYER_DATABASE_URL": f"sqlite:///{root / 'home.db'}",
                    "FOYER_PUBLIC_URL": self.url,
                    "FOYER_API_PORT": str(self.port),
                    "FOYER_TASK_QUEUE": f"foyer-home-{uuid.uuid4().hex[:8]}",
                    "FOYER_TEMPORAL_ADDRESS": temporal_address,
                    "FOYER_SECRET_KEY": f"home-secret-{uuid.uuid4().hex}",
                    "FOYER_ORGANIZATION_NAME": "Fabrikam Home",
                    "FOYER_ORGANIZATION_DOMAIN": HOME_DOMAIN}
        self.env.pop("FOYER_FORWARDED_ALLOW_IPS", None)
        self.processes: list[subprocess.Popen] = []
        self.organization_id = ""
        self.admin: dict = {}

    @property
    def issuer(self) -> str:
        return f"{self.url}/{self.organization_id}/v2.0"

    def _run(self, *argv: str) -> str:
        done = subprocess.run([FOYER, *argv], cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def _start(self, name: str, *argv: str) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen([FOYER, *argv], cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    async def start(self) -> "PartnerFoyer":
        self.organization_id = self._run("db", "upgrade")
        self.admin = {"Authorization": "Bearer " + self._run("token", "create", "--name", "Home admin",
                                                              "--role", "Global Administrator")}
        api = self._start("api", "api", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning")
        self._start("worker", "worker")
        await answer(f"{self.url}/healthz", 60, api)
        return self

    def close(self) -> None:
        for process in self.processes:
            stop(process)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()[-3000:]

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.admin, timeout=30)

    # --- the home organization's directory and settings ---------------------------------------

    async def make_member(self, name: str) -> dict:
        local = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}"
        async with self.api() as api:
            made = await api.post("/v1.0/users", json={
                "accountEnabled": True, "displayName": name, "mailNickname": local,
                "userPrincipalName": f"{local}@{HOME_DOMAIN}", "mail": f"{local}@{HOME_DOMAIN}"})
            assert made.status_code == 201, made.text
            return made.json()

    async def make_group(self, name: str, *member_ids: str) -> dict:
        async with self.api() as api:
            group = await api.post("/v1.0/groups", json={
                "displayName": name, "mailEnabled": False, "securityEnabled": True,
                "mailNickname": f"g{uuid.uuid4().hex[:8]}"})
            assert group.status_code == 201, group.text
            for member_id in member_ids:
                added = await api.post(f"/v1.0/groups/{group.json()['id']}/members/$ref", json={
                    "@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{member_id}"})
                assert added.status_code == 204, added.text
            return group.json()

    async def register_partner(self, resource_url: str, resource_tenant_id: str) -> tuple[str, str]:
        """The application registration the resource organization signs our people in through:
        (appId, client secret)."""
        async with self.api() as api:
            app = await api.post("/v1.0/applications", json={
                "displayName": "Contoso (partner)", "appRoleAssignmentRequired": False,
                "groupMembershipClaims": "SecurityGroup", "foyerPartnerTenantId": resource_tenant_id,
                "web": {"redirectUris": [f"{resource_url}/federation/oidc/callback"]}})
            assert app.status_code == 201, app.text
            secret = await api.post(f"/v1.0/applications/{app.json()['id']}/addPassword", json={})
            assert secret.status_code == 200, secret.text
            return app.json()["appId"], secret.json()["secretText"]

    async def set(self, path: str, body: dict, method: str = "PATCH") -> httpx.Response:
        async with self.api() as api:
            response = await api.request(method, path, json=body)
            assert response.status_code < 300, response.text
            return response

    async def sign_ins(self) -> list[dict]:
        async with self.api() as api:
            return (await api.get("/v1.0/auditLogs/signIns")).json()["value"]


def provider_body(home: PartnerFoyer, client_id: str, secret: str) -> dict:
    """The resource organization's oidcIdentityProvider for the home organization."""
    return {"@odata.type": "#microsoft.graph.oidcIdentityProvider", "displayName": "Fabrikam Home",
            "clientId": client_id, "issuer": home.issuer, "scope": "openid profile email",
            "responseType": "code",
            "wellKnownEndpoint": f"{home.issuer}/.well-known/openid-configuration",
            "clientAuthentication": {"@odata.type": "#microsoft.graph.oidcClientSecretAuthentication",
                                     "clientSecret": secret},
            "domains": [HOME_DOMAIN]}


async def register_at_resource(api: httpx.AsyncClient, admin: dict, home: PartnerFoyer, resource_url: str,
                               resource_tenant_id: str) -> dict:
    """Both sides of the partnership: the home's registration of the resource, and the resource's
    identity provider for the home (answers the provider)."""
    client_id, secret = await home.register_partner(resource_url, resource_tenant_id)
    created = await api.post("/v1.0/identity/identityProviders", headers=admin,
                             json=provider_body(home, client_id, secret))
    assert created.status_code == 201, created.text
    assert created.json()["foyerTenantId"] == home.organization_id
    return created.json()


async def start_partner(temporal_address: str) -> PartnerFoyer:
    home = PartnerFoyer(Path(tempfile.mkdtemp(prefix="foyer-home-")), temporal_address)
    try:
        return await home.start()
    except BaseException:
        home.close()
        raise


# --- a browser between the two organizations ----------------------------------------------------

async def step(browser: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """Follow one redirect, or a page that refreshes onward (its URL may be relative to the site
    that sent it)."""
    return await browser.get(urljoin(str(response.url), onward_url(response)))


async def follow(browser: httpx.AsyncClient, response: httpx.Response, limit: int = 20) -> httpx.Response:
    """Follow redirects (across both sites) until a page answers."""
    while response.status_code in (301, 302, 303, 307) and limit:
        response = await browser.get(urljoin(str(response.url), response.headers["location"]))
        limit -= 1
    return response


async def passcode_at_home(browser: httpx.AsyncClient, page: httpx.Response, mail, email: str) -> httpx.Response:
    """At the home organization's sign-in page (`page`): the email passcode. Answers the response
    to the code (a redirect onward)."""
    assert page.status_code == 200 and 'name="email"' in page.text, page.text[:800]
    next_url = html.unescape(re.search(r'name="next" value="([^"]*)"', page.text).group(1))
    home = f"{page.url.scheme}://{page.url.netloc.decode()}"
    before = len(mail.to(email))
    asked = await browser.post(f"{home}/signin", data={"email": email, "next": next_url})
    assert asked.status_code == 200, asked.text[:800]
    challenge = re.search(r'name="challenge" value="([^"]+)"', asked.text).group(1)
    code = passcode_in((await mail.wait_for(email, count=before + 1))[before].text)
    verified = await browser.post(f"{home}/signin/verify", data={"challenge": challenge, "code": code,
                                                                 "email": email, "next": next_url})
    return verified


async def redeem_at_home(browser: httpx.AsyncClient, link: str, mail, email: str) -> httpx.Response:
    """The invitation's consent, home (the passcode, and an authenticator app set up there if the
    home asks for MFA), and back: answers the resource's answer to the home's callback (a
    redirect onward when redeemed), or the home's page when home refused."""
    to_home = await accept_and_go_to_provider(browser, link)
    signin = await follow(browser, await browser.get(to_home))
    landed = await step(browser, await passcode_at_home(browser, signin, mail, email))
    if landed.status_code == 303 and landed.headers["location"].startswith("/mfa?"):
        confirmed, _ = await enrol_authenticator_app(browser, await step(browser, landed))
        landed = await step(browser, confirmed)
    return landed if landed.status_code != 303 or "code=" not in landed.headers["location"] \
        else await step(browser, landed)


# --- second factors, as a person with an authenticator app does them ----------------------------

def _hidden(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


async def enrol_authenticator_app(browser: httpx.AsyncClient, mfa_page: httpx.Response) -> tuple[httpx.Response, str]:
    """On a site's /mfa page with nothing registered: set up an authenticator app and confirm its
    first code. Answers (the redirect onward, the app's secret)."""
    assert mfa_page.status_code == 200 and 'id="enrol-totp"' in mfa_page.text, mfa_page.text[:800]
    site = f"{mfa_page.url.scheme}://{mfa_page.url.netloc.decode()}"
    enrol_url = html.unescape(re.search(r'href="([^"]+)" id="enrol-totp"', mfa_page.text).group(1))
    enrol = await browser.get(urljoin(site, enrol_url))
    assert enrol.status_code == 200, enrol.text[:800]
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', enrol.text).group(1).replace(" ", "")
    confirmed = await browser.post(f"{site}/mfa/totp/enrol", data={
        name: _hidden(enrol.text, name) for name in ("method_id", "next", "strength")}
        | {"csrf": csrf_in(enrol.text, "/mfa/totp/enrol"), "code": pyotp.TOTP(secret).now()})
    onward_url(confirmed)
    return confirmed, secret


def is_mfa_page(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.url.path == "/mfa"
