"""Who may sign in to Foyer's pages: the sign-in activities (who gets a code, who is signed in)
and the pages' session check (a session ends when its user may no longer sign in) ask the same."""

from foyer.models.enums import ExternalUserState, UserType


def may_sign_in(user) -> bool:
    """Members, and guests who redeemed their invitation; never a disabled account. `user`: a
    models.directory.User, or None."""
    if user is None or not user.account_enabled:
        return False
    if user.user_type == UserType.member:
        return True
    return user.user_type == UserType.guest and user.external_user_state == ExternalUserState.accepted
