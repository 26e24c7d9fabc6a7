"""Finding 9: every page answers with the same protective headers, from one middleware.

Every GET route of the application that renders a page (enumerated from app.routes, plus the dev
mail viewer) is requested signed in; each HTML answer must carry a Content-Security-Policy that
forbids framing and inline code without the response's nonce, X-Frame-Options DENY,
Referrer-Policy no-referrer (redemption URLs hold a secret), Cache-Control no-store and
X-Content-Type-Options nosniff; and its markup must be fit for that policy: every <script> and
<style> carries the nonce, no inline event handler or style attribute. Other answers (JSON, CSV,
redirects) carry nosniff and no-store too."""

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from foyer.api.main import create_app
from foyer import sessions
from foyer.settings import get_settings
from tests.factories import make_user
from tests.support import invite, link_in

REQUIRED_DIRECTIVES = ("default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
                       "form-action 'self'", "object-src 'none'")
# Pages that carry secrets or personal data: each must be among the routes the test found.
MUST_BE_COVERED = ("/redeem/{token}", "/signin", "/signup/{flow_id}", "/signup/{flow_id}/status",
                   "/myaccess", "/approvals", "/campaigns/{campaign_id}", "/dev/mail",
                   "/dev/mail/{message_id}")


def _get_routes(routes, prefix: str = ""):
    for route in routes:
        if isinstance(route, APIRoute):
            if "GET" in route.methods:
                yield prefix + route.path
        elif hasattr(route, "original_router"):  # FastAPI >= 0.165 keeps included routers as such
            yield from _get_routes(route.original_router.routes, prefix + route.include_context.prefix)


def _page_routes(app) -> list[str]:
    """Every GET route outside the Graph API (/v1.0): the pages and what they fetch."""
    return sorted({path for path in _get_routes(app.routes)
                   if not path.startswith("/v1.0/") and path != "/healthz"})


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", lambda m: values.get(m.group(1), "no-such-thing"), path)


def assert_page_headers(response: httpx.Response, where: str) -> None:
    headers = response.headers
    policy = headers.get("content-security-policy", "")
    for directive in REQUIRED_DIRECTIVES:
        assert directive in policy, (where, policy)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, (where, policy)
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("cache-control") == "no-store", where
    assert headers.get("x-content-type-options") == "nosniff", where
    # The markup must work under that policy: inline code only with this response's nonce.
    nonce = re.search(r"'nonce-([^']+)'", policy)
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", response.text):
        assert nonce and f'nonce="{nonce.group(1)}"' in tag, (where, tag)
    assert not re.search(r"<[^>]+\sstyle=", response.text), where
    assert not re.search(r"<[^>]+\son[a-z]+=", response.text), where


@pytest.fixture
def dev_mail_app(temporal, worker, tmp_path, monkeypatch):
    """The application as `foyer dev` builds it: with the dev mail viewer."""
    monkeypatch.setenv("FOYER_DEV_MAILDIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    try:
        yield create_app(temporal_client=temporal.client)
    finally:
        monkeypatch.delenv("FOYER_DEV_MAILDIR")
        get_settings.cache_clear()


async def test_every_page_sends_the_protective_headers(dev_mail_app, api, admin, mail, organization_id,
                                                       new_email):
    app = dev_mail_app
    member = await make_user(organization_id, "Hed Headers")
    email = new_email()
    await invite(api, admin, email)
    token = link_in((await mail.wait_for(email))[0].text).rsplit("/", 1)[1]
    routes = _page_routes(app)
    for path in MUST_BE_COVERED:
        assert path in routes, (path, routes)

    cookie, _ = sessions.issue(member.id)
    html_pages = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        client.cookies.set(sessions.SESSION_COOKIE, cookie)
        for path in routes:
            for values in ({"token": token}, {}):
                url = _fill(path, values)
                response = await client.get(url)
                assert response.status_code < 500, (url, response.status_code)
                assert response.headers.get("x-content-type-options") == "nosniff", url
                assert response.headers.get("cache-control") == "no-store", url
                if response.headers.get("content-type", "").startswith("text/html"):
                    html_pages += 1
                    assert_page_headers(response, url)
                if "{" not in path:
                    break
        # A redemption page with its real secret in the path, and pages answering a form post.
        consent = await client.get(f"/redeem/{token}")
        assert consent.status_code == 200 and "consent" in consent.text
        assert_page_headers(consent, "consent")
        # Its code form's answer redirects to inviteRedirectUrl: the policy lets forms lead there.
        assert "form-action 'self' https://app.contoso.test;" in consent.headers["content-security-policy"]
        for url, data in ((f"/redeem/{token}/passcode", {"consent": ""}), ("/signin", {"email": "x"})):
            response = await client.post(url, data=data)
            assert response.status_code == 400, url
            assert_page_headers(response, url)
        # The Graph API: nosniff and no-store on JSON as well.
        graph = await client.get("/v1.0/users", headers=admin)
        assert graph.status_code == 200
        assert graph.headers.get("x-content-type-options") == "nosniff"
        assert graph.headers.get("cache-control") == "no-store"
    assert html_pages >= len(MUST_BE_COVERED)
