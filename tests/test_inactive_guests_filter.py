"""Finding inactive guests: `GET /v1.0/users?$filter=signInActivity/lastSuccessfulSignInDateTime le …`.
A guest who never signed in counts from their redemption (their last externalUserState change;
a user with neither, from their creation); failed attempts are not activity. As in Graph,
signInActivity is not combined with other properties in one $filter (400)."""

from datetime import datetime, timezone

from foyer.db import session_scope
from foyer.models.directory import User
from foyer.models.enums import ExternalUserState
from tests.factories import make_user

INACTIVE = "signInActivity/lastSuccessfulSignInDateTime le 2025-03-01T00:00:00Z"


async def _set(user_id: str, **values) -> None:
    async with session_scope() as session:
        row = await session.get(User, user_id)
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)


async def _ids(api, admin, text: str) -> set[str]:
    answer = await api.get("/v1.0/users", headers=admin, params={"$filter": text, "$select": "id,signInActivity",
                                                                  "$top": "999"})
    assert answer.status_code == 200, answer.text
    return {row["id"] for row in answer.json()["value"]}


async def test_never_signed_in_counts_from_redemption(api, admin, organization_id):
    stale = await make_user(organization_id, "Stan Stale", guest=True)
    await _set(stale.id, last_successful_sign_in_date_time=datetime(2025, 1, 10, tzinfo=timezone.utc),
               last_sign_in_date_time=datetime(2026, 1, 10, tzinfo=timezone.utc))  # a later failed attempt
    redeemed_long_ago = await make_user(organization_id, "Rory Redeemed", guest=True)
    await _set(redeemed_long_ago.id, external_user_state=ExternalUserState.accepted,
               external_user_state_change_date_time=datetime(2025, 2, 1, tzinfo=timezone.utc))
    redeemed_lately = await make_user(organization_id, "Lana Lately", guest=True)
    await _set(redeemed_lately.id, external_user_state=ExternalUserState.accepted,
               external_user_state_change_date_time=datetime(2025, 6, 1, tzinfo=timezone.utc))
    active = await make_user(organization_id, "Ace Active", guest=True)
    await _set(active.id, last_successful_sign_in_date_time=datetime(2025, 5, 1, tzinfo=timezone.utc),
               external_user_state=ExternalUserState.accepted,
               external_user_state_change_date_time=datetime(2024, 1, 1, tzinfo=timezone.utc))

    found = await _ids(api, admin, INACTIVE)
    assert {stale.id, redeemed_long_ago.id} <= found
    assert not {redeemed_lately.id, active.id} & found
    # signInActivity itself shows what Graph shows: nothing for who never signed in.
    answer = await api.get(f"/v1.0/users/{redeemed_long_ago.id}", headers=admin, params={"$select": "signInActivity"})
    assert answer.json()["signInActivity"]["lastSuccessfulSignInDateTime"] is None
    # Created now and never signed in or redeemed: not inactive since March 2025.
    fresh = await make_user(organization_id, "Fay Fresh", guest=True)
    assert fresh.id not in await _ids(api, admin, INACTIVE)


async def test_not_combined_with_other_properties(api, admin):
    for text in (f"userType eq 'Guest' and {INACTIVE}", f"{INACTIVE} or startswith(displayName, 'A')",
                 "id eq 'x' and signInActivity/lastSignInDateTime ge 2025-01-01T00:00:00Z"):
        answer = await api.get("/v1.0/users", headers=admin, params={"$filter": text})
        assert answer.status_code == 400, (text, answer.text)
        assert "signInActivity" in answer.json()["error"]["message"]
    two = (f"{INACTIVE} and signInActivity/lastSignInDateTime le 2025-03-01T00:00:00Z")
    assert (await api.get("/v1.0/users", headers=admin, params={"$filter": two})).status_code == 200
