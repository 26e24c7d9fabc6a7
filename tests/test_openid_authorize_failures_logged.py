"""Every failure at the authorization endpoint is in the sign-in log, as every success is: an
unknown client, an unregistered redirect URI, a public client without PKCE, a silent sign-in of
nobody, with the person when the browser is signed in to Foyer."""

import uuid

from sqlmodel import select

from foyer.db import reading
from foyer.models.openid import SignInLog
from tests.factories import make_user
from tests.openid_support import assign, authorize, browser, query_of, register_app, signed_in

SPA = "http://localhost:5173/auth"


async def _log_rows(**where) -> list[tuple]:
    """(errorCode, userId, isInteractive, failureReason) of the rows matching `where`, oldest first."""
    async with reading() as session:
        query = select(SignInLog.error_code, SignInLog.user_id, SignInLog.is_interactive, SignInLog.failure_reason)
        for column, value in where.items():
            query = query.where(getattr(SignInLog, column) == value)
        return list((await session.exec(query.order_by(SignInLog.created_date_time))).all())


async def test_protocol_refusals_are_logged_with_the_person_and_the_app(server, organization_id):
    member = await make_user(organization_id, "Lola Logged")
    app, _ = await register_app(organization_id, spa=[SPA], secret=False)
    await assign(app, member)
    async with browser() as client:
        signed_in(client, member)
        unregistered = await authorize(client, organization_id, app, "http://localhost:5173/elsewhere")
        no_pkce = await authorize(client, organization_id, app, SPA)
    assert unregistered.status_code == 400 and "location" not in unregistered.headers
    assert query_of(no_pkce.headers["location"])["error"] == "invalid_request"

    rows = await _log_rows(app_id=app.app_id)
    assert [row[:3] for row in rows] == [(50011, member.id, True), (9002325, member.id, True)]
    assert all(row[3] for row in rows)


async def test_an_unknown_client_and_a_silent_sign_in_of_nobody_are_logged(server, organization_id):
    app, _ = await register_app(organization_id, web=["https://app.contoso.example/callback"])
    stranger = type("Unregistered", (), {"app_id": str(uuid.uuid4())})()
    unknown_before = len(await _log_rows(error_code=700016, app_id=None))
    async with browser() as client:
        unknown = await authorize(client, organization_id, stranger, "https://app.contoso.example/callback")
        silent = await authorize(client, organization_id, app, "https://app.contoso.example/callback",
                                 prompt="none")
    assert unknown.status_code == 400
    assert query_of(silent.headers["location"])["error"] == "login_required"

    assert await _log_rows(app_id=app.app_id) == [(50058, None, True, "The person is not signed in to Foyer.")]
    assert len(await _log_rows(error_code=700016, app_id=None)) == unknown_before + 1
