"""Email one-time-passcode sign-in to Foyer's own pages (My Access, Approvals)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import utc_field


class SignInChallenge(SQLModel, table=True):
    """One sign-in attempt: the browser's challenge and the passcode mailed for it.

    A row is written for every address asked about, known or not, so the per-address rate limit
    and the page answer the same either way; only a known, enabled user gets a code (`code_hash`
    set) and a mail. Only the passcode's keyed digest is kept.
    """

    __tablename__ = "sign_in_challenges"

    id: str = Field(primary_key=True)  # the challenge id (also in the workflow id)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    email: str = Field(index=True)  # lower-cased, as typed
    user_id: str | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    code_hash: str | None = None  # None: no such (enabled) user, nothing was sent
    # Who asked: a keyed digest of the client's address (foyer.security.client_key), never the
    # address itself. Codes are limited per (address, client), so a stranger's requests cannot
    # use up the owner's allowance. None for rows written before clients were recorded.
    client: str | None = None
    failed_attempts: int = 0
    expires_date_time: datetime = utc_field(nullable=False)
    consumed_date_time: datetime | None = utc_field()
    created_date_time: datetime = utc_field(default_now=True, nullable=False, index=True)
