"""One duration rule (foyer.durations.check_duration) for every duration a caller gives. Before
it, five validators disagreed: only the entitlement schemas' caught a duration too long for
Python (the invitation lifetime, the external collaboration policy, a custom extension's
callback timeout and a user flow's timeouts raised OverflowError: a 500), none refused a value
with a trailing line break (stored as given), zero was refused by some and by others only
through a minimum. Each surface now refuses the same values as a 400 and takes the same ones."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from foyer.api.errors import GraphError
from foyer.api.routers.entitlement_extensions import CallbackConfiguration
from foyer.api.schemas.entitlement import ScheduleExpiration
from foyer.api.routers.invitations import InvitationCreate
from foyer.api.routers.organization import ExternalCollaborationUpdate
from foyer.api.routers.sign_up_flows import duration
from foyer.api.schemas.entitlement import Expiration
from foyer.durations import check_duration

pytestmark = pytest.mark.database_independent


def _model(model, build):
    def verdict(value) -> bool:
        try:
            model.model_validate(build(value))
        except ValidationError:
            return False
        return True
    return verdict


def _user_flow(value) -> bool:
    try:
        duration(value, "foyerApproval.timeout")
    except GraphError as error:
        assert error.status == 400
        return False
    return True


SURFACES = {
    "invitation foyerLinkLifetime": _model(InvitationCreate, lambda v: {
        "invitedUserEmailAddress": "bob@contoso.com", "inviteRedirectUrl": "https://app.contoso.test/",
        "foyerLinkLifetime": v}),
    "policy invitationLifetime": _model(ExternalCollaborationUpdate, lambda v: {"invitationLifetime": v}),
    "policy invitationReminders": _model(ExternalCollaborationUpdate, lambda v: {"invitationReminders": [v]}),
    "extension timeoutDuration": _model(CallbackConfiguration, lambda v: {"timeoutDuration": v}),
    "assignment policy expiration": _model(Expiration, lambda v: {"type": "afterDuration", "duration": v}),
    "request schedule expiration": _model(ScheduleExpiration, lambda v: {"type": "afterDuration", "duration": v}),
    "user flow timeout": _user_flow,
}
REFUSED = ["P99999999999D", "PT" + "9" * 400 + "S", "P30D\n", " P30D", "PT0S", "P0D", "P", "PT", "P1DT",
           "30 days", "-P1D"]
TAKEN = ["P7D", "PT12H", "P1DT2H30M", "P1W"]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_every_surface_refuses_as_bad_input(surface, value):
    assert SURFACES[surface](value) is False  # never an OverflowError (a 500)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("value", TAKEN)
def test_every_surface_takes_a_duration_within_its_bounds(surface, value):
    assert SURFACES[surface](value) is True


def test_bounds_and_messages():
    assert check_duration("P1DT2H", "timeout") == timedelta(days=1, hours=2)
    with pytest.raises(ValueError, match=r"^timeout must be between PT1M and P14D$"):
        check_duration("P15D", "timeout", at_least="PT1M", at_most="P14D")
    with pytest.raises(ValueError, match=r"^timeout must be between PT1M and P14D$"):
        check_duration("P99999999999D", "timeout", at_least="PT1M", at_most="P14D")
    with pytest.raises(ValueError, match=r"^timeout is far too long$"):
        check_duration("P99999999999D", "timeout")
    with pytest.raises(ValueError, match=r"^'PT30M' must be at least PT1H$"):
        check_duration("PT30M", at_least="PT1H")
    with pytest.raises(ValueError, match=r"^reminder must be longer than zero$"):
        check_duration("PT0S", "reminder")
    with pytest.raises(ValueError, match=r"^lifetime: '30 days' is not an ISO 8601 duration such as P30D or PT12H$"):
        check_duration("30 days", "lifetime")
    with pytest.raises(ValueError, match=r"is not an ISO 8601 duration"):
        check_duration(30)
    assert check_duration("PT1H", at_least="PT1H", at_most="PT1H") == timedelta(hours=1)
