"""The Temporal client side of the pages (workflows/client/sign_in.py, sign_ups.py,
invitations.py): every failure reaches the page as the one refusal type, Refused, with the code
the page turns into its answer (an ended attempt, a link no longer honoured, field errors), and a
transient one when the workflow service itself failed."""

import uuid

import pytest
from temporalio.exceptions import ApplicationError

from foyer.errors import Refused
from foyer.security import new_challenge_id
from tests.support import unique_email
from foyer.workflows.client import invitations, sign_in, sign_ups
from foyer.workflows.client.failures import refusal
from foyer.workflows.messages import InvitationSpec, PasscodeRequest, RedeemRequest, invitation_workflow_id


def test_a_refusal_keeps_its_details_and_only_known_codes_are_refusals():
    cause = ApplicationError("some fields need correcting", {"fieldErrors": {"country": "pick one"}},
                             type="invalidAttributes")
    failure = RuntimeError("the Update failed")
    failure.__cause__ = cause
    found = refusal(failure, also={"invalidAttributes": 400})
    assert (found.code, found.status, found.details) == ("invalidAttributes", 400, {"fieldErrors": {"country": "pick one"}})
    assert not found.transient
    assert refusal(ApplicationError("boom", type="OperationalError")) is None
    assert refusal(ApplicationError("no", type="linkNotValid")).status == 410


async def test_a_sign_in_attempt_that_never_started_has_ended(temporal, worker):
    with pytest.raises(Refused) as ended:
        await sign_in.verify(temporal.client, new_challenge_id())
    assert ended.value.code == "signInEnded" and ended.value.status == 409 and not ended.value.transient


async def test_a_sign_up_that_never_started_cannot_be_stepped(temporal, worker):
    missing = new_challenge_id()
    for step in (sign_ups.verify(temporal.client, missing),
                 sign_ups.submit_attributes(temporal.client, missing, {"displayName": "Nobody"}),
                 sign_ups.status(temporal.client, f"signup:{missing}")):
        with pytest.raises(Refused):
            await step


async def test_redemption_steps_on_a_superseded_link_are_refused(temporal, worker, organization_id):
    email = unique_email()
    spec = InvitationSpec(invitation_id=str(uuid.uuid4()), organization_id=organization_id, email=email,
                          proposed_user_id=str(uuid.uuid4()), invite_redirect_url="https://app.contoso.test/")
    await invitations.invite_guest(temporal.client, spec)
    workflow_id = invitation_workflow_id(organization_id, email)
    for step in (
        invitations.request_passcode(temporal.client, workflow_id, PasscodeRequest(
            link_token_hash="not-the-link", challenge_id=new_challenge_id())),
        invitations.redeem(temporal.client, workflow_id, RedeemRequest(
            link_token_hash="not-the-link", challenge_id=new_challenge_id())),
    ):
        with pytest.raises(Refused) as refused:
            await step
        assert refused.value.code == "linkNotValid" and refused.value.status == 410
    with pytest.raises(Refused) as gone:  # no such workflow: the service's failure, not a refusal
        await invitations.request_passcode(temporal.client, invitation_workflow_id(organization_id, unique_email()),
                                           PasscodeRequest(link_token_hash="x", challenge_id=new_challenge_id()))
    assert gone.value.transient
