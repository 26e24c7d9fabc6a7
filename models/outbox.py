"""The email outbox: a message is written once under an idempotency key, then delivered once."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import json_field, utc_field


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_messages"
    key: str = Field(primary_key=True)  # idempotency key: the same key never mails twice
    to_addresses: list[str] = json_field()
    cc_addresses: list[str] = json_field()
    subject: str
    text_body: str | None = None
    html_body: str | None = None
    # Bodies holding a link token or a passcode are blanked once delivered.
    sensitive: bool = False
    state: str = Field(default="pending", index=True)  # pending | sent | failed (not buildable: last_error)
    attempts: int = 0
    last_error: str | None = None
    # Set while one activity attempt is handing the message to the SMTP server: another attempt
    # (a retry whose predecessor is still running) waits for it instead of sending a second copy.
    # Past this time the claimer is taken for dead and the message may be sent again, under the
    # same Message-ID.
    claimed_until: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    sent_date_time: datetime | None = utc_field()
