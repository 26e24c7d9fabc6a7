"""The sign-in log (Graph's signIn, /v1.0/auditLogs/signIns) and users' signInActivity: the one
place a sign-in, successful or not, is written down.

record_sign_in adds the row and stamps the user in the caller's session and does NOT commit: the
caller commits it with the change it goes with (the authorization code, the rotated refresh
token, the revoked family), so a token is never issued without its log row, nor logged without
being issued, and the hot path makes no second commit.
"""

from datetime import datetime, timezone

from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.models.directory import Application, User
from foyer.models.openid import SignInLog

BROWSER = "Browser"
NON_INTERACTIVE_CLIENT = "Mobile Apps and Desktop clients"


def record_sign_in(session: AsyncSession, *, organization_id: str, user: User | None,
                   app: Application | None, interactive: bool, error_code: int = 0,
                   failure_reason: str | None = None, ip_address: str | None = None,
                   client_app_used: str | None = None, now: datetime | None = None,
                   conditional_access: dict | None = None) -> SignInLog:
    """Add one sign-in row (error_code 0 for success, else an AADSTS number) and update the user's
    lastSignInDateTime (interactive, success or not), lastNonInteractiveSignInDateTime (refresh
    grants) and lastSuccessfulSignInDateTime (any success). `conditional_access`: the
    conditional_access_status and applied_conditional_access_policies the sign-in was held to
    (foyer.usecases.sign_in_policy.SignInDecision.log_fields). The caller commits."""
    now = now or datetime.now(timezone.utc)
    row = SignInLog(
        organization_id=organization_id, created_date_time=now,
        user_id=user.id if user else None,
        user_principal_name=user.user_principal_name if user else None,
        user_display_name=user.display_name if user else None,
        app_id=app.app_id if app else None, app_display_name=app.display_name if app else None,
        ip_address=ip_address,
        client_app_used=client_app_used or (BROWSER if interactive else NON_INTERACTIVE_CLIENT),
        is_interactive=interactive, error_code=error_code,
        failure_reason=None if error_code == 0 else (failure_reason or "Sign-in failed."),
        **(conditional_access or {}),
    )
    session.add(row)
    if user is not None:
        if interactive:
            user.last_sign_in_date_time = now
        else:
            user.last_non_interactive_sign_in_date_time = now
        if error_code == 0:
            user.last_successful_sign_in_date_time = now
        session.add(user)
    return row
