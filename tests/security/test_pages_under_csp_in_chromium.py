"""Finding 9 in a real browser: the pages keep working under their Content-Security-Policy (the
styles and the campaign page's script carry the response's nonce; Chromium reports no blocked
resource), and a page of another origin cannot frame a redemption page."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.browser import chromium_page
from tests.support import invite, link_in, passcode_in


@contextmanager
def framer_site(target: str):
    """A second local web server (another origin: another port) whose page frames `target`.
    A real loopback server, so Chromium's local-network checks treat it as the attacker's page
    on the same machine and leave the decision to Foyer's headers."""
    body = f'<!doctype html><title>framer</title><iframe id="victim" src="{target}"></iframe>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


async def test_redemption_page_works_under_its_policy(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email, inviteRedirectUrl=f"{server}/healthz?welcome=1")
    link = link_in((await mail.wait_for(email))[0].text)
    async with chromium_page() as page:
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text)
                if "Content Security Policy" in message.text else None)
        await page.goto(link)
        # The page's stylesheet applied (it is a nonce'd <style>): the background is Foyer's grey.
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 245, 247)"
        assert await page.evaluate("getComputedStyle(document.querySelector('#resend') || document.body)"
                                   ".cursor") in ("pointer", "auto")
        await page.check("#consent")
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        # The secondary button's look comes from a class now, not a style attribute.
        assert await page.evaluate(
            "getComputedStyle(document.querySelector('#resend')).backgroundColor") == "rgb(255, 255, 255)"
        code = passcode_in((await mail.wait_for(email, count=2))[1].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(f"{server}/healthz?welcome=1")
        assert blocked == []


async def test_another_origin_cannot_frame_a_redemption_page(api, admin, mail, server, new_email):
    email = new_email()
    await invite(api, admin, email)
    link = link_in((await mail.wait_for(email))[0].text)
    with framer_site(link) as framer:
        async with chromium_page() as page:
            async with page.expect_response(lambda response: response.url == link) as seen:
                await page.goto(framer)  # waits for the load event, which waits for the frame
            assert (await seen.value).status == 200  # the server answered; the browser must refuse
            frame = next(f for f in page.frames if f is not page.main_frame)
            # A refused frame shows the browser's own error page, never the invitation.
            assert "invited you" not in await frame.content()
            assert await frame.locator("#consent").count() == 0
