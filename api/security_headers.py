"""The protective headers of every answer, set in one place (installed by api.main.create_app).

Pages (text/html) get a Content-Security-Policy — only this site's resources, inline <script> and
<style> only with the response's nonce, no framing, no <base>, forms only to this site (and, for a
redemption page, the invitation's inviteRedirectUrl origin) — X-Frame-Options DENY for older
browsers, and Cache-Control no-store: pages show personal data and secrets. Every answer gets
X-Content-Type-Options nosniff, Referrer-Policy no-referrer (redemption URLs carry their secret
in the path, which a Referer would hand to the next site), and no-store unless the route chose a
caching policy itself. FastAPI's own API documentation (/docs, /redoc) loads its scripts from a
CDN, so it keeps its own policy-free page (it holds no personal data).
"""

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foyer.templating import PAGE_POLICY, PagePolicy

API_DOCUMENTATION = ("/docs", "/docs/oauth2-redirect", "/redoc")


def page_policy(policy: PagePolicy) -> str:
    nonce = f"'nonce-{policy.nonce}'"
    form_targets = " ".join(["'self'", *policy.form_targets])
    return (f"default-src 'self'; script-src 'self' {nonce}; style-src 'self' {nonce}; "
            f"img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            f"form-action {form_targets}; frame-ancestors 'none'")


class SecurityHeaders:
    """Pure ASGI middleware: the per-request PagePolicy is set before the app runs (templates read
    its nonce) and the headers are added to the answer's start message, whatever route made it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = PagePolicy(nonce=secrets.token_urlsafe(18))
        token = PAGE_POLICY.set(policy)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Cache-Control"] = "no-store"
                    headers["X-Frame-Options"] = "DENY"
                    if scope["path"] not in API_DOCUMENTATION:
                        headers["Content-Security-Policy"] = page_policy(policy)
                else:
                    if "cache-control" not in headers:
                        headers["Cache-Control"] = "no-store"
                    # Nothing but a page should ever render, let alone in a frame.
                    headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            PAGE_POLICY.reset(token)
