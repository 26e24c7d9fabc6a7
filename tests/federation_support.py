"""The guest's browser in federation tests: the pages' steps toward the identity provider and
back, over HTTP (httpx, cookies kept, redirects not followed)."""

import html
import re

import httpx

PROVIDER_LINK = re.compile(r'id="continue-to-provider"[^>]*|href="([^"]+)" id="continue-to-provider"')


def provider_url_in(page: httpx.Response) -> str:
    """Where the page sends the browser on (its meta refresh and its link)."""
    found = re.search(r'<a href="([^"]+)" id="continue-to-provider"', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


async def accept_and_go_to_provider(browser: httpx.AsyncClient, link: str) -> str:
    """The invitation's consent, for an address discovery sends to its identity provider: answers
    the provider's sign-in URL."""
    consent = await browser.get(link)
    assert consent.status_code == 200 and 'id="continue-federated"' in consent.text, consent.text
    assert 'id="send-code"' not in consent.text
    page = await browser.post(f"{link}/federated", data={"consent": "yes"})
    assert page.status_code == 200, page.text
    return provider_url_in(page)


async def sign_in_at_provider(browser: httpx.AsyncClient, base_url: str, email: str,
                              next_url: str = "/myaccess") -> httpx.Response:
    """The sign-in page for an address that signs in at its provider: answers the page."""
    return await browser.post(f"{base_url}/signin", data={"email": email, "next": next_url})
