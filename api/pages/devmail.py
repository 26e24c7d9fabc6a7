"""/dev/mail: the mail `foyer dev` caught, read from its Maildir (FOYER_DEV_MAILDIR).

Only mounted when FOYER_DEV_MAILDIR is set; without it these paths do not exist (404).
"""

import email
import email.policy
import mailbox
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from foyer.templating import render

URL = re.compile(r"(https?://[^\s<>\"']+)")


def _open(maildir: Path) -> mailbox.Maildir | None:
    return mailbox.Maildir(maildir, create=False) if (maildir / "cur").is_dir() else None


def _parse(box: mailbox.Maildir, key: str) -> tuple[EmailMessage, datetime, float]:
    """The message, its Date (or delivery time) and when the catcher stored it."""
    delivered = box.get_message(key).get_date()
    message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
    try:
        date = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        date = datetime.fromtimestamp(delivered, UTC)
    return message, date if date.tzinfo else date.replace(tzinfo=UTC), delivered  # "-0000" is naive


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


def _linkified(text: str) -> list[tuple[str, bool]]:
    """The text split into (piece, is_url) so the template can make the URLs clickable."""
    return [(piece, index % 2 == 1) for index, piece in enumerate(URL.split(text)) if piece]


def make_router(maildir: Path | str) -> APIRouter:
    maildir = Path(maildir)
    router = APIRouter(prefix="/dev/mail", tags=["dev"], include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def list_mail() -> HTMLResponse:
        box = _open(maildir)
        rows = []
        for key in (box.keys() if box is not None else []):
            message, date, delivered = _parse(box, key)
            rows.append({"id": key, "date": date, "delivered": delivered,
                         "to": str(message.get("To", "")).strip(),
                         "subject": str(message.get("Subject", "")).strip()})
        rows.sort(key=lambda row: row["delivered"], reverse=True)
        return HTMLResponse(render("pages/dev_mail.html", messages=rows, maildir=str(maildir)))

    @router.get("/{message_id}", response_class=HTMLResponse)
    async def show_mail(message_id: str) -> HTMLResponse:
        box = _open(maildir)
        if box is None or "/" in message_id or message_id not in box:
            return HTMLResponse(render("pages/message.html", headline="No such message",
                                       explanation="This message is not in the dev mailbox.",
                                       link="/dev/mail", link_text="All caught mail"),
                                status_code=404)
        message = _parse(box, message_id)[0]
        html = _body(message, "html")
        return HTMLResponse(render(
            "pages/dev_mail_message.html", subject=str(message.get("Subject", "")).strip(),
            headers=[(k, str(v).strip()) for k, v in message.items()],
            text=_linkified(_body(message, "plain")),
            # Links in the mail open in a new tab, outside the sandbox; scripts never run.
            html=('<base target="_blank">' + html) if html else ""))

    return router
