"""/dev/mail: mail caught by the real mail catcher (aiosmtpd → Maildir) is listed and viewable."""

import re
import smtplib
from email.message import EmailMessage

import httpx
from fastapi import FastAPI

from foyer.api.main import create_app
from foyer.api.pages.devmail import make_router
from foyer.mailcatcher import MailCatcher
from tests.ports import free_port



def _send(port: int, to: str, subject: str, text: str, html: str) -> None:
    message = EmailMessage()
    message["From"] = "Foyer <no-reply@foyer.localhost>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message)


async def test_caught_mail_is_listed_newest_first_and_viewable(tmp_path):
    maildir = tmp_path / "mail"
    port = free_port()
    catcher = MailCatcher(port=port, maildir=maildir).start()
    try:
        _send(port, "first@fabrikam.example", "First message", "hello", "<p>hello</p>")
        _send(port, "guest@fabrikam.example", "Contoso invited you",
              "Accept: http://127.0.0.1:8000/redeem/abc.def\n",
              '<p>Accept <a href="http://127.0.0.1:8000/redeem/abc.def">here</a>'
              '<script>alert("x")</script></p>')
    finally:
        catcher.stop()

    app = FastAPI()
    app.include_router(make_router(maildir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        listing = await client.get("/dev/mail")
        assert listing.status_code == 200
        assert "guest@fabrikam.example" in listing.text
        subjects = re.findall(r'<a href="/dev/mail/[^"]+">([^<]+)</a>', listing.text)
        assert subjects == ["Contoso invited you", "First message"]  # newest first

        link = re.search(r'href="(/dev/mail/[^"]+)">Contoso invited you', listing.text).group(1)
        page = await client.get(link)
        assert page.status_code == 200
        assert "<h1>Contoso invited you</h1>" in page.text
        assert "guest@fabrikam.example" in page.text  # headers
        # The text body with its link clickable; the HTML body only inside a sandboxed iframe.
        assert '<a href="http://127.0.0.1:8000/redeem/abc.def" target="_blank">' in page.text
        iframe = re.search(r'<iframe[^>]*sandbox="([^"]*)"[^>]*srcdoc="([^"]*)"', page.text)
        assert iframe, page.text
        assert "allow-scripts" not in iframe.group(1)
        assert "&lt;script&gt;" in iframe.group(2) and "<script>" not in page.text

        missing = await client.get("/dev/mail/no-such-message")
        assert missing.status_code == 404


async def test_empty_or_missing_maildir_lists_nothing(tmp_path):
    app = FastAPI()
    app.include_router(make_router(tmp_path / "never-created"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        response = await client.get("/dev/mail")
    assert response.status_code == 200
    assert "No mail yet" in response.text


async def test_dev_mail_does_not_exist_without_a_maildir():
    # The suite's settings set no FOYER_DEV_MAILDIR, so the application has no /dev/mail.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(temporal_client=None)),
                                 base_url="http://test") as client:
        assert (await client.get("/dev/mail")).status_code == 404
