"""API bearer tokens. Only a digest is stored; the token is printed once when created."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from foyer.models.base import new_id, utc_field


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"
    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organizations.id", index=True)
    name: str
    role: str
    token_hash: str = Field(unique=True, index=True)
    # The directory user this token acts as, when it is a person's (members, approvers).
    user_id: str | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    created_date_time: datetime = utc_field(default_now=True, nullable=False)
    revoked: bool = False
