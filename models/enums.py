"""Enum values shared by tables, API shapes and workflow messages. Spelled as Graph spells them."""

from enum import StrEnum


class UserType(StrEnum):
    member = "Member"
    guest = "Guest"


class ExternalUserState(StrEnum):
    pending_acceptance = "PendingAcceptance"
    accepted = "Accepted"


class InvitationState(StrEnum):
    # Foyer's own lifecycle of one invitation (Graph only has the user's externalUserState).
    pending = "pending"
    redeemed = "redeemed"
    expired = "expired"
    revoked = "revoked"
    superseded = "superseded"  # a later invitation to the same address replaced this one


class AllowInvitesFrom(StrEnum):
    none = "none"
    admins_and_guest_inviters = "adminsAndGuestInviters"
    admins_guest_inviters_and_all_members = "adminsGuestInvitersAndAllMembers"
    everyone = "everyone"


class DomainListMode(StrEnum):
    none = "none"
    allow = "allowList"
    block = "blockList"


class Role(StrEnum):
    """Caller roles, spelled as Entra spells its directory roles."""

    global_administrator = "Global Administrator"
    user_administrator = "User Administrator"
    guest_inviter = "Guest Inviter"
    member = "member"
    guest = "guest"


ADMIN_ROLES = frozenset({Role.global_administrator, Role.user_administrator})


# Assignment states that still grant access, and request states that are not yet finished
# (Graph's spelling): shared by the workflows' activities and the API's checks.
LIVE_ASSIGNMENT_STATES = ("delivering", "delivered", "partiallyDelivered")
OPEN_REQUEST_STATES = ("submitted", "pendingApproval", "delivering", "scheduled", "accepted")
