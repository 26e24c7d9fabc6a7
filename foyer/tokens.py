"""API bearer tokens: create one (only its SHA-256 is kept) and tell whether one is still good.
`foyer token create` (foyer.cli) and the dev stack's own admin token (foyer.devstack) both use
these; synchronous, as a command runs them once before any event loop."""

from foyer.models.enums import Role


def check_token_name(value: str) -> str:
    """A token's name is shown as the actor of what it does (audit records, mail): one line,
    1 to 256 characters, no control characters. ValueError says what is wrong."""
    from foyer.names import check_name

    try:
        value = check_name(value.strip())
    except ValueError as error:
        raise ValueError(f"--name {error}") from None
    if not 1 <= len(value) <= 256:
        raise ValueError("--name must hold 1 to 256 characters")
    return value


def create_token(name: str, role: Role | str, user: str | None = None,
                 database_url: str | None = None) -> str:
    """Store a new API token (its SHA-256 only) for the organization; returns the token.

    `user` is a directory user's id or mail: the token then acts as that person. ValueError for a
    bad name, LookupError for a missing organization or user."""
    name = check_token_name(name)
    from sqlalchemy import create_engine, or_
    from sqlmodel import Session, select

    from foyer.db import sync_url
    from foyer.security import api_token_hash, new_api_token
    from foyer.settings import get_settings
    from foyer.models.directory import Organization, User
    from foyer.models.token import ApiToken

    engine = create_engine(sync_url(database_url or get_settings().database_url))
    try:
        with Session(engine) as session, session.begin():
            org = session.exec(select(Organization).order_by(Organization.created_date_time)).first()
            if org is None:
                raise LookupError("no organization: run `foyer db upgrade` first")
            user_id = None
            if user:
                row = session.exec(select(User).where(
                    User.organization_id == org.id,
                    or_(User.id == user, User.mail == user.strip().lower()))).first()
                if row is None:
                    raise LookupError(f"no user with id or mail {user!r}")
                user_id = row.id
            token = new_api_token()
            session.add(ApiToken(organization_id=org.id, name=name, role=Role(role).value,
                                 token_hash=api_token_hash(token), user_id=user_id))
            return token
    finally:
        engine.dispose()


def token_is_valid(token: str, database_url: str | None = None) -> bool:
    """Whether `token` is a stored, unrevoked API token (used by `foyer dev` to keep its own)."""
    from sqlalchemy import create_engine
    from sqlmodel import Session, select

    from foyer.db import sync_url
    from foyer.security import api_token_hash
    from foyer.settings import get_settings
    from foyer.models.token import ApiToken

    engine = create_engine(sync_url(database_url or get_settings().database_url))
    try:
        with Session(engine) as session:
            row = session.exec(select(ApiToken).where(
                ApiToken.token_hash == api_token_hash(token))).first()
            return row is not None and not row.revoked
    finally:
        engine.dispose()
