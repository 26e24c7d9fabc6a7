"""Record workflow histories for the replay test (tests/test_replay_histories.py).

    .venv/bin/python -m bench.record_histories [--out tests/histories]

Runs representative scenarios on a fresh file-backed dev server with the project's worker, a fresh
migrated SQLite database and a real SMTP server, driving the workflow through the Temporal client
exactly as the API and the pages do (`workflows.client.invitations`: `invite_guest` is update-with-start),
then saves each closed run's history as tests/histories/<workflow>_<scenario>.json (`WorkflowHistory.to_json()`):
InvitationWorkflow runs, and AccessRequestWorkflow / AssignmentWorkflow runs driven the way the
entitlement API drives them (`workflows.client.access_requests`), and SignUpWorkflow runs driven as the sign-up
pages and the signUps API drive them (`--only signup` records just those;
`--only groupjoin` the GroupJoinRequestWorkflow runs as My Groups drives them; `--only review` an
AccessReviewWorkflow stopped early and applied; `--only saml` a
SamlMetadataWorkflow run against tests/saml_idp.py's IdP; `--only invitation`
just the InvitationWorkflow scenarios (`--only federated` just its redemption with a guest's own
identity provider), `--only access` the AccessRequestWorkflow and
AssignmentWorkflow ones). Codes are checked as the pages check them, against the
database (`record_passcode_attempt`, `record_sign_up_code_attempt`), before the Update.

Recorded histories are append-only: to add recordings of today's code next to the old ones, give
`--tag NAME`, which writes each file as <name>_<NAME>.json instead of overwriting.

Re-record when a workflow change is *meant* to alter histories (and version it with
`workflow.patched` if old runs may still be open); the replay test is the gate that tells you.
"""

import argparse
import asyncio
import re
import uuid
from pathlib import Path

from bench.env import configure

ENV = configure(prefix="foyer-record")

from temporalio.client import Client  # noqa: E402

from foyer.usecases.redemption import record_passcode_attempt  # noqa: E402
from foyer.usecases.sign_up import record_sign_up_code_attempt  # noqa: E402
from foyer.workflows.client.invitations import invite_guest  # noqa: E402
from foyer.workflows.client import access_requests, invitations, sign_ups  # noqa: E402
from foyer.errors import Refused  # noqa: E402
from bench.devserver import dev_server  # noqa: E402
from foyer import migrate  # noqa: E402
from foyer.db import get_engine, session_scope  # noqa: E402
from foyer.mailcatcher import MailCatcher  # noqa: E402
from foyer.security import new_challenge_id  # noqa: E402
from foyer.models.campaign import Campaign, CampaignRow  # noqa: E402
from foyer.models.directory import Group, GroupOwner, User  # noqa: E402
from foyer.workflows.messages.guest_lifecycle import guest_lifecycle_workflow_id  # noqa: E402
from foyer.workflows.client import group_join_requests  # noqa: E402
from foyer.workflows.client.guest_lifecycle import lifecycle_status  # noqa: E402
from foyer.workflows.messages.group_join import JoinDecision, group_join_workflow_id  # noqa: E402
from foyer.worker import build_worker  # noqa: E402
from foyer.workflows.campaign import CampaignWorkflow  # noqa: E402
from foyer.workflows.invitation import InvitationWorkflow  # noqa: E402
from foyer.workflows.sign_up import SignUpWorkflow  # noqa: E402
from foyer.workflows.messages import (  # noqa: E402
    InvitationSpec, CampaignInput, CancelRequest, Decision, PasscodeRequest, RedeemRequest, RevokeRequest,
    SignUpCodeRequest, SignUpDecision, SignUpVerification, access_request_workflow_id, assignment_workflow_id,
    campaign_workflow_id, invitation_workflow_id, sign_up_workflow_id,
)
# The directory builders the tests use (tests/factories.py), written straight to the database.
from tests.connector_server import ConnectorServer, connector_server  # noqa: E402
from tests.entitlement_support import stage_open  # noqa: E402
from tests.factories import (  # noqa: E402
    make_flow, make_package, make_user, request, self_service, stage, update_organization,
)

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "histories"
RESULT_TIMEOUT = 60
# Set by --tag: appended to every file name written, so a new recording never replaces an old one.
TAG = ""


async def save_history(client: Client, out: Path, name: str, workflow_id: str) -> None:
    """Wait for the workflow to end, then write its history (as the replay test reads it)."""
    handle = client.get_workflow_handle(workflow_id)
    await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
    history = await handle.fetch_history()
    path = history_path(out, name)
    path.write_text(history.to_json() + "\n")
    print(f"  {name}: {len(history.events)} events → {path}")


def history_path(out: Path, name: str) -> Path:
    return out / f"{name}{'_' + TAG if TAG else ''}.json"


class Recorder:
    def __init__(self, client: Client, catcher: MailCatcher, organization_id: str, out: Path):
        self.client, self.catcher, self.organization_id, self.out = client, catcher, organization_id, out

    def spec(self, email: str, **extra) -> InvitationSpec:
        return InvitationSpec(
            invitation_id=str(uuid.uuid4()), organization_id=self.organization_id, email=email,
            proposed_user_id=str(uuid.uuid4()),
            invite_redirect_url="https://app.contoso.test/welcome", invited_by_id="recorder",
            invited_by_name="History Recorder", invited_user_display_name="Recorded Guest",
            send_invitation_message=True, **extra)

    def workflow_id(self, email: str) -> str:
        return invitation_workflow_id(self.organization_id, email)

    def handle(self, email: str):
        return self.client.get_workflow_handle_for(InvitationWorkflow.run, self.workflow_id(email))

    async def link_hash(self, email: str) -> str:
        """The current link's digest (the link itself is only in the invitation row and the mail)."""
        return (await self.handle(email).query(InvitationWorkflow.current)).link_token_hash

    async def passcode(self, email: str) -> tuple[str, str]:
        """Ask for a code on the current link (as the redemption page does) and read it from mail."""
        before = len(self.catcher.to(email))
        challenge = new_challenge_id()
        await invitations.request_passcode(self.client, self.workflow_id(email), PasscodeRequest(
            link_token_hash=await self.link_hash(email), challenge_id=challenge))
        messages = await self.catcher.wait_for(email, count=before + 1)
        code = re.search(r"\b(\d{8})\b", messages[-1].text).group(1)
        return challenge, code

    async def save(self, scenario: str, email: str, expected_state: str) -> None:
        handle = self.handle(email)
        status = await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
        assert status.state == expected_state, (scenario, status)
        history = await handle.fetch_history()
        path = history_path(self.out, f"invitation_{scenario}")
        path.write_text(history.to_json() + "\n")
        print(f"  {scenario}: {len(history.events)} events, final state {status.state} → {path}")

    @staticmethod
    def email(scenario: str) -> str:
        return f"{scenario.replace('_', '-')}-{uuid.uuid4().hex[:6]}@fabrikam.example"

    # --- scenarios ------------------------------------------------------------------------

    async def redeemed(self) -> None:
        """invite → ask for a passcode → one wrong code → the right code → redeemed."""
        email = self.email("redeemed")
        result = await invite_guest(self.client, self.spec(email))
        await self.catcher.wait_for(email)
        challenge, code = await self.passcode(email)
        # As the page does: the code is checked against the database (a wrong one never reaches
        # the workflow), and only an accepted one leads to the redeem Update.
        wrong = f"{(int(code) + 1) % 10**8:08d}"
        attempt = await record_passcode_attempt(result.invitation_id, challenge, wrong)
        assert attempt.outcome == "wrongCode", attempt
        attempt = await record_passcode_attempt(result.invitation_id, challenge, code)
        assert attempt.outcome == "accepted", attempt
        outcome = await invitations.redeem(self.client, self.workflow_id(email), RedeemRequest(
            link_token_hash=await self.link_hash(email), challenge_id=challenge))
        assert outcome.outcome == "redeemed", outcome
        await self.save("redeemed", email, "redeemed")

        # Invited again after redeeming: a new run that answers Completed and mails straight away.
        await invite_guest(self.client, self.spec(email))
        await self.catcher.wait_for(email, count=3)
        await self.save("reinvited_after_redeem", email, "redeemed")

    async def redeemed_federated(self) -> None:
        """invite → the guest's own identity provider vouched for the invited address (the verified
        round trip, as /federation/complete finds it after the provider's answer was checked) →
        redeemed with that attempt as the proof."""
        from datetime import timedelta

        from foyer.models.base import utcnow
        from foyer.models.federation import FederationAttempt

        email = self.email("federated")
        result = await invite_guest(self.client, self.spec(email))
        await self.catcher.wait_for(email)
        async with session_scope() as session:
            attempt = FederationAttempt(
                state_hash=uuid.uuid4().hex, organization_id=self.organization_id, protocol="oidc",
                provider_id="recorded-provider", purpose="redeem", invitation_id=result.invitation_id,
                expires_date_time=utcnow() + timedelta(minutes=10), issuer="https://idp.fabrikam.example",
                issuer_assigned_id="recorded-sub", email=email, email_verified=True, verified_date_time=utcnow())
            session.add(attempt)
            attempt_id = attempt.id
        outcome = await invitations.redeem(self.client, self.workflow_id(email), RedeemRequest(
            link_token_hash=await self.link_hash(email), federation_attempt_id=attempt_id))
        assert outcome.outcome == "redeemed", outcome
        await self.save("redeemed_federated", email, "redeemed")

    async def superseded_then_expired(self) -> None:
        """invite → invite again (the first link dies) with a 3 s lifetime → expires."""
        email = self.email("superseded")
        await invite_guest(self.client, self.spec(email))
        await self.catcher.wait_for(email)
        first_link_hash = await self.link_hash(email)
        await invite_guest(self.client, self.spec(email, lifetime="PT3S"))
        await self.catcher.wait_for(email, count=2)
        try:  # the first link no longer works (a validator refusal: not in history)
            await invitations.request_passcode(self.client, self.workflow_id(email), PasscodeRequest(
                link_token_hash=first_link_hash, challenge_id="x"))
            raise AssertionError("the superseded link still works")
        except Refused as refused:
            assert refused.code == "linkNotValid", refused
        await self.save("superseded", email, "expired")

    async def revoked(self) -> None:
        email = self.email("revoked")
        await invite_guest(self.client, self.spec(email))
        await self.catcher.wait_for(email)
        status = await self.handle(email).execute_update(
            InvitationWorkflow.revoke, RevokeRequest(actor_id="recorder", actor_name="History Recorder",
                                                     reason="recorded scenario"))
        assert status.state == "revoked", status
        await self.save("revoked", email, "revoked")

    async def expired(self) -> None:
        email = self.email("expired")
        await invite_guest(self.client, self.spec(email, lifetime="PT2S"))
        await self.catcher.wait_for(email)
        await self.save("expired", email, "expired")

    async def reminded_then_expired(self) -> None:
        """The organization reminds after 2 s; the link lives 5 s: invitation, reminder, expiry."""
        saved = await update_organization(self.organization_id, invitation_reminders=["PT2S"])
        try:
            email = self.email("reminded")
            await invite_guest(self.client, self.spec(email, lifetime="PT5S"))
            await self.save("reminded_then_expired", email, "expired")
            assert len(self.catcher.to(email)) == 2, "expected the invitation and one reminder"
        finally:
            await update_organization(self.organization_id, **saved)


class AccessRecorder:
    """Access requests and assignments, on packages built straight in the directory."""

    def __init__(self, client: Client, organization_id: str, out: Path):
        self.client, self.organization_id, self.out = client, organization_id, out

    async def save(self, name: str, workflow_id: str, run_id: str | None = None) -> None:
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id)
        await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
        history = await handle.fetch_history()
        path = history_path(self.out, name)
        path.write_text(history.to_json() + "\n")
        print(f"  {name}: {len(history.events)} events → {path}")

    async def delivered_then_removed(self) -> None:
        """Auto-approved request → delivered; a userRemove request → the assignment ends."""
        guest = await make_user(self.organization_id, "Recorded Guest", guest=True)
        package, policy, _, _ = await make_package(self.organization_id, policy=self_service())
        plan = await access_requests.submit_request(self.client, request(self.organization_id, package, policy, guest))
        workflow_id = access_request_workflow_id(package.id, guest.id)
        first_run = (await self.client.get_workflow_handle(workflow_id).describe()).run_id
        await self.save("access_request_delivered", workflow_id, first_run)
        await access_requests.submit_request(self.client, request(
            self.organization_id, package, policy, guest, request_type="userRemove"))
        await self.save("access_request_remove", workflow_id)
        await self.save("assignment_removed", assignment_workflow_id(plan.assignment_id))

    async def decided(self, result: str) -> None:
        """One approval stage, decided by its approver."""
        guest = await make_user(self.organization_id, "Recorded Guest", guest=True)
        approver = await make_user(self.organization_id, "Recorded Approver")
        package, policy, _, _ = await make_package(self.organization_id, policy=self_service(
            request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
        plan = await access_requests.submit_request(self.client, request(
            self.organization_id, package, policy, guest, justification="recorded"))
        workflow_id = access_request_workflow_id(package.id, guest.id)
        await stage_open(self.client, workflow_id)
        await access_requests.decide_stage(self.client, Decision(
            stage_id=plan.stages[0].stage_id, approver_id=approver.id, review_result=result,
            justification="recorded decision"))
        outcome = {"Approve": "approved", "Deny": "denied"}[result]
        await self.save(f"access_request_{outcome}", workflow_id)

    async def canceled(self) -> None:
        guest = await make_user(self.organization_id, "Recorded Guest", guest=True)
        approver = await make_user(self.organization_id, "Recorded Approver")
        package, policy, _, _ = await make_package(self.organization_id, policy=self_service(
            request_approval_settings={"isApprovalRequiredForAdd": True, "stages": [stage([approver])]}))
        await access_requests.submit_request(self.client, request(self.organization_id, package, policy, guest))
        workflow_id = access_request_workflow_id(package.id, guest.id)
        await stage_open(self.client, workflow_id)
        await access_requests.cancel(self.client, workflow_id, CancelRequest(by_user_id=guest.id))
        await self.save("access_request_canceled", workflow_id)


class CampaignRecorder:
    """A small campaign driven as the API drives it (rows stored, CampaignWorkflow started), paused
    and resumed on the way; and one of its rows' InvitationWorkflows, which starts holding the
    invitation the campaign recorded, then revoked."""

    def __init__(self, client: Client, catcher: MailCatcher, organization_id: str, out: Path):
        self.client, self.catcher, self.organization_id, self.out = client, catcher, organization_id, out

    async def save(self, name: str, handle) -> None:
        await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
        history = await handle.fetch_history()
        path = history_path(self.out, name)
        path.write_text(history.to_json() + "\n")
        print(f"  {name}: {len(history.events)} events → {path}")

    async def batches(self) -> None:
        campaign_id = str(uuid.uuid4())
        emails = [f"campaign-{i}-{campaign_id[:6]}@fabrikam.example" for i in range(6)]
        async with session_scope() as session:
            session.add(Campaign(id=campaign_id, organization_id=self.organization_id, display_name="Recorded",
                                 rate_per_minute=600, concurrency=4, created_by_name="History Recorder",
                                 workflow_id=campaign_workflow_id(campaign_id), row_count=len(emails)))
            await session.flush()
            session.add_all([CampaignRow(campaign_id=campaign_id, row_number=i + 2, email=email,
                                         invite_redirect_url="https://app.contoso.test/", state="pending")
                             for i, email in enumerate(emails)])
        handle = await self.client.start_workflow(
            CampaignWorkflow.run, CampaignInput(campaign_id=campaign_id, concurrency=4, rate_per_minute=600),
            id=campaign_workflow_id(campaign_id), task_queue=ENV.task_queue)
        await handle.signal(CampaignWorkflow.pause)
        await handle.signal(CampaignWorkflow.resume)
        await self.save("campaign_completed", handle)
        for email in emails:
            await self.catcher.wait_for(email)
        row = self.client.get_workflow_handle_for(
            InvitationWorkflow.run, invitation_workflow_id(self.organization_id, emails[0]))
        await row.execute_update(InvitationWorkflow.revoke, RevokeRequest(
            actor_id="recorder", actor_name="History Recorder", reason="recorded scenario"))
        await self.save("invitation_campaign_row_revoked", row)


class SignUpRecorder:
    """Self-service sign-ups driven as the pages drive them (update-with-start `request_code`, the
    code read from the mail, `verify`, `submit_attributes`), then decided as the signUps API and
    the approver's page do (`workflows.client.sign_ups.decide`), on user flows written straight to the
    directory."""

    ASSIGNMENTS = [
        {"id": "displayName", "displayName": "Display name", "isOptional": False, "userInputType": "textBox",
         "userAttribute": {"id": "displayName"}, "userAttributeValues": [], "order": 1},
        {"id": "country", "displayName": "Country", "isOptional": False, "userInputType": "dropdownSingleSelect",
         "userAttribute": {"id": "country"}, "order": 2,
         "userAttributeValues": [{"name": "Norway", "value": "NO", "isDefault": False},
                                 {"name": "Kenya", "value": "KE", "isDefault": False}]},
    ]

    def __init__(self, client: Client, catcher: MailCatcher, organization_id: str, out: Path):
        self.client, self.catcher, self.organization_id, self.out = client, catcher, organization_id, out

    async def flow(self, **fields) -> str:
        return await make_flow(self.organization_id, display_name="Recorded sign-up",
                               user_attribute_assignments=self.ASSIGNMENTS, **fields)

    async def through_form(self, flow_id: str, scenario: str):
        """Code, verify, form: the handle and the status the form's Update answered."""
        email = Recorder.email(scenario)
        sign_up_id = new_challenge_id()
        # As the sign-up pages drive it (workflows.client.sign_ups).
        status = await sign_ups.request_code(self.client, sign_up_id, self.organization_id, flow_id,
                                             SignUpCodeRequest(email=email))
        assert status.state == "codeSent", (scenario, status)
        code = re.search(r"\b(\d{8})\b", (await self.catcher.wait_for(email))[-1].text).group(1)
        handle = self.client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))
        verdict = await record_sign_up_code_attempt(sign_up_id, code)  # as the page checks it
        assert verdict.outcome == "accepted", (scenario, verdict)
        status = await sign_ups.verify(self.client, sign_up_id)
        assert status.state == "collectingAttributes", (scenario, status)
        status = await sign_ups.submit_attributes(self.client, sign_up_id, {
            "displayName": f"Recorded {scenario}", "country": "NO"})
        return sign_up_id, handle, status

    async def until_state(self, handle, state: str) -> None:
        for _ in range(200):
            if (await handle.query(SignUpWorkflow.status)).state == state:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the sign-up never reached {state}")

    async def save(self, name: str, handle, expected_state: str) -> None:
        status = await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)
        assert status.state == expected_state, (name, status)
        history = await handle.fetch_history()
        path = history_path(self.out, name)
        path.write_text(history.to_json() + "\n")
        print(f"  {name}: {len(history.events)} events, final state {status.state} → {path}")

    async def completed(self) -> None:
        """No connectors, no approval: the form's answer is the guest."""
        _, handle, status = await self.through_form(await self.flow(), "sign_up_completed")
        assert status.state == "completed", status
        await self.save("sign_up_completed", handle, "completed")

    async def decided(self, decision: str) -> None:
        """An approval step (approver mailed), decided by the approver through the Update."""
        approver = await make_user(self.organization_id, "Recorded Approver")
        flow_id = await self.flow(approval={"approverIds": [approver.id], "timeout": "P7D",
                                            "reminderInterval": "P1D"})
        name = {"approve": "sign_up_approved", "deny": "sign_up_denied"}[decision]
        sign_up_id, handle, status = await self.through_form(flow_id, name)
        assert status.state == "pendingApproval", status
        await self.catcher.wait_for(approver.mail)
        await sign_ups.decide(self.client, sign_up_id, SignUpDecision(
            decision=decision, reason="recorded decision", actor_id=approver.id, actor_name="Recorded Approver"))
        await self.save(name, handle, {"approve": "completed", "deny": "denied"}[decision])

    async def verified_then_approved(self, verifier: ConnectorServer) -> None:
        """A verification connector answers Pending; the verifier's outcome arrives as the
        verification_result Update; then the approval step, approved."""
        approver = await make_user(self.organization_id, "Recorded Approver")
        flow_id = await self.flow(
            identity_verification={"apiConnectorId": await verifier.connector(self.organization_id),
                                   "timeout": "P1D"},
            approval={"approverIds": [approver.id], "timeout": "P7D"})
        sign_up_id, handle, status = await self.through_form(flow_id, "sign_up_verified_then_approved")
        assert status.state == "verifying", status
        await sign_ups.record_verification(self.client, sign_up_id, SignUpVerification(
            outcome="verified", reference="r1"))
        await self.until_state(handle, "pendingApproval")
        await self.catcher.wait_for(approver.mail)
        await sign_ups.decide(self.client, sign_up_id, SignUpDecision(
            decision="approve", reason="recorded decision", actor_id=approver.id, actor_name="Recorded Approver"))
        await self.save("sign_up_verified_then_approved", handle, "completed")

    async def all(self) -> None:
        # The verification connector answers Pending (reference r1); the outcome comes later.
        async with connector_server() as verifier:
            verifier.reply({"version": "1.0.0", "action": "Pending", "reference": "r1"})
            await asyncio.gather(self.completed(), self.decided("approve"), self.decided("deny"),
                                 self.verified_then_approved(verifier))
            assert verifier.steps() == ["identityVerification"], verifier.steps()


class GroupJoinRecorder:
    """Requests to join a group, driven as My Groups drives them (`workflows.client.group_join_requests`):
    approved and denied by the group's owner, and one left to expire (a short expires_after)."""

    def __init__(self, client: Client, organization_id: str, out: Path):
        self.client, self.organization_id, self.out = client, organization_id, out

    async def request(self, expires_after: str = "P14D") -> tuple[str, str]:
        owner = await make_user(self.organization_id, "Recorded Owner")
        asker = await make_user(self.organization_id, "Recorded Asker")
        async with session_scope() as session:
            group = Group(organization_id=self.organization_id, display_name=f"Recorded {uuid.uuid4().hex[:6]}")
            session.add(group)
            await session.flush()
            session.add(GroupOwner(group_id=group.id, user_id=owner.id))
        await group_join_requests.request_to_join(self.client, self.organization_id, group.id, asker.id,
                                                  "recorded", expires_after=expires_after)
        return group_join_workflow_id(group.id, asker.id), owner.id

    async def save(self, name: str, workflow_id: str) -> None:
        await save_history(self.client, self.out, name, workflow_id)

    async def decided(self, decision: str) -> None:
        workflow_id, owner_id = await self.request()
        await group_join_requests.decide(self.client, workflow_id, JoinDecision(
            decision=decision, decided_by_id=owner_id, decided_by_name="Recorded Owner"))
        await self.save(f"group_join_{'approved' if decision == 'approve' else 'denied'}", workflow_id)

    async def expired(self) -> None:
        workflow_id, _ = await self.request(expires_after="PT2S")
        await self.save("group_join_expired", workflow_id)

    async def all(self) -> None:
        await update_organization(self.organization_id, owners_can_manage_join_requests=True)
        await asyncio.gather(self.decided("approve"), self.decided("deny"), self.expired())


class LifecycleRecorder:
    """The external-user lifecycle: a governed guest's only assignment removed (the
    AssignmentWorkflow's lifecycle hooks, behind their patches) starts their GuestLifecycleWorkflow,
    which blocks them and deletes them after the organization's duration (PT2S here); another guest
    is assigned again while blocked, which cancels theirs."""

    def __init__(self, client: Client, organization_id: str, out: Path):
        self.client, self.organization_id, self.out = client, organization_id, out

    async def save(self, name: str, workflow_id: str) -> None:
        await save_history(self.client, self.out, name, workflow_id)

    async def assigned_then_removed(self, name: str, package, policy):
        guest = await make_user(self.organization_id, name, guest=True)
        async with session_scope() as session:
            row = await session.get(User, guest.id)
            row.governed_by_entitlement = True
            session.add(row)
        plan = await access_requests.submit_request(self.client, request(
            self.organization_id, package, policy, guest))
        await self.client.get_workflow_handle(access_request_workflow_id(package.id, guest.id)).result()
        await access_requests.submit_request(self.client, request(
            self.organization_id, package, policy, guest, request_type="userRemove"))
        await self.client.get_workflow_handle(assignment_workflow_id(plan.assignment_id)).result()
        await self.client.get_workflow_handle(access_request_workflow_id(package.id, guest.id)).result()
        for _ in range(100):  # until the lifecycle has blocked them
            status = await lifecycle_status(self.client, guest.id)
            if status is not None and status.state != "blocking":
                break
            await asyncio.sleep(0.1)
        return guest, plan.assignment_id

    async def all(self) -> None:
        await update_organization(self.organization_id, external_user_lifecycle_action="blockSignInAndDelete",
                                  duration_until_external_user_deleted_after_blocked="PT2S")
        package, policy, _, _ = await make_package(self.organization_id, policy=self_service())
        guest, assignment_id = await self.assigned_then_removed("Recorded Governed", package, policy)
        await self.save("assignment_removed_lifecycle_started", assignment_workflow_id(assignment_id))
        await self.save("guest_lifecycle_deleted", guest_lifecycle_workflow_id(guest.id))

        await update_organization(self.organization_id, duration_until_external_user_deleted_after_blocked="P30D")
        other, _ = await self.assigned_then_removed("Recorded Restored", package, policy)
        spec = request(self.organization_id, package, policy, other, request_type="adminAdd", requestor_is_admin=True)
        spec.requestor_id = None
        plan = await access_requests.submit_request(self.client, spec)
        await self.save("guest_lifecycle_cancelled", guest_lifecycle_workflow_id(other.id))
        await access_requests.submit_request(self.client, request(
            self.organization_id, package, policy, other, request_type="adminRemove", requestor_is_admin=True))
        await self.client.get_workflow_handle(assignment_workflow_id(plan.assignment_id)).result()
        await self.save("assignment_delivered_lifecycle_cancelled", assignment_workflow_id(plan.assignment_id))
        await self.client.get_workflow_handle(guest_lifecycle_workflow_id(other.id)).terminate("recorded")
        await update_organization(self.organization_id, duration_until_external_user_deleted_after_blocked="P30D")


class SamlMetadataRecorder:
    """A SAML federation's health workflow, started as the federationConfigurations API starts it
    (`workflows.client.saml_metadata`): its first refresh fetches the IdP's metadata (a new
    certificate published there is added), the certificate expiring in 20 days mails the
    administrators the 30-day warning, the `refresh` signal wakes it, and the next refresh finds
    the federation deleted, which ends it."""

    def __init__(self, client: Client, organization_id: str, out: Path):
        self.client, self.organization_id, self.out = client, organization_id, out

    @staticmethod
    async def until_warned(federation_id: str) -> None:
        from foyer.models.outbox import OutboxMessage

        for _ in range(300):
            async with session_scope() as session:
                row = await session.get(OutboxMessage, f"saml-certificate-expiring:{federation_id}:"
                                        f"{SamlMetadataRecorder.thumbprint}:30")
            if row is not None and row.state == "sent":
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the 30-day warning was not sent")

    @staticmethod
    async def until_trusted(federation_id: str, count: int) -> None:
        from foyer.models.federation import FederationConfiguration

        for _ in range(300):
            async with session_scope() as session:
                row = await session.get(FederationConfiguration, federation_id)
            if len(row.signing_certificates) >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the published certificate was not picked up")

    async def warned_then_deleted(self) -> None:
        import hashlib
        from datetime import datetime, timedelta, timezone

        from cryptography.hazmat.primitives import serialization

        from foyer.models.federation import FederationConfiguration
        from foyer.models.enums import Role
        from foyer.usecases.federation import saml_acs_url, sp_entity_id
        from foyer.workflows.client import saml_metadata
        from foyer.workflows.messages.saml_metadata import saml_metadata_workflow_id
        from tests.factories import make_person
        from tests.saml_idp import SamlIdp, SigningKey

        await make_person(self.organization_id, Role.global_administrator, "Recorded Admin")
        expiring = SigningKey(not_after=datetime.now(timezone.utc) + timedelta(days=20))
        SamlMetadataRecorder.thumbprint = hashlib.sha256(
            expiring.cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        async with SamlIdp(sp_entity_id=sp_entity_id(self.organization_id), acs_url=saml_acs_url(),
                           key=expiring) as idp:
            async with session_scope() as session:
                federation = FederationConfiguration(
                    organization_id=self.organization_id, display_name="Recorded federation",
                    issuer_uri=idp.entity_id, metadata_exchange_uri=idp.metadata_url,
                    passive_sign_in_uri=idp.sso_url, signing_certificate=expiring.certificate,
                    signing_certificates=[expiring.certificate], domains=["recorded.example"])
                session.add(federation)
            await saml_metadata.start(self.client, federation.id, self.organization_id)
            handle = self.client.get_workflow_handle(saml_metadata_workflow_id(federation.id))
            await self.until_warned(federation.id)
            idp.rotate(days=10)  # published, but expiring sooner: the 30-day warning stands
            await saml_metadata.refresh(self.client, federation.id)
            await self.until_trusted(federation.id, 2)
            async with session_scope() as session:
                await session.delete(await session.get(FederationConfiguration, federation.id))
            await saml_metadata.refresh(self.client, federation.id)
            assert await asyncio.wait_for(handle.result(), RESULT_TIMEOUT) == "federationDeleted"
        history = await handle.fetch_history()
        path = history_path(self.out, "saml_metadata_warned_then_deleted")
        path.write_text(history.to_json() + "\n")
        print(f"  saml_metadata_warned_then_deleted: {len(history.events)} events → {path}")


class AccessReviewRecorder:
    """One access review instance as an administrator steers it (`workflows.client.access_reviews`):
    started without recurrence, a reviewer's denial, a reminder asked for, stopped early (the
    default decision for the rest), then applied. Its timers are under time skipping in the tests."""

    def __init__(self, client: Client, organization_id: str, out: Path):
        self.client, self.organization_id, self.out = client, organization_id, out

    async def stopped_then_applied(self) -> None:
        from foyer.workflows.client import access_reviews
        from foyer.workflows.messages.access_review import access_review_workflow_id
        from tests.access_review_support import (
            GUESTS_OF, decide, decisions_of, group_with_people, instances_of, make_definition,
        )

        group, people = await group_with_people(self.organization_id, {"Rec Kept": None, "Rec Denied": None})
        reviewer = await make_user(self.organization_id, "Recorded Reviewer")
        definition = await make_definition(
            self.organization_id, {"query": GUESTS_OF.format(group.id), "queryType": "MicrosoftGraph"},
            [{"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}],
            defaultDecisionEnabled=True, defaultDecision="Approve")
        await access_reviews.schedule_definition(self.client, definition)
        for _ in range(200):
            instances = await instances_of(definition.id)
            if instances and instances[0].status == "InProgress":
                break
            await asyncio.sleep(0.1)
        instance = instances[0]
        decisions = await decisions_of(instance.id)
        await decide(decisions[people["Rec Denied"].id].id, reviewer, "Deny", "recorded")
        await access_reviews.send_reminder(self.client, instance.id)
        await access_reviews.stop_instance(self.client, instance.id)
        for _ in range(200):
            if (await instances_of(definition.id))[0].status == "Completed":
                break
            await asyncio.sleep(0.1)
        await access_reviews.apply_decisions(self.client, instance.id)
        await save_history(self.client, self.out, "access_review_stopped_then_applied",
                           access_review_workflow_id(instance.id))


async def main(out: Path, only: str | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    organization_id = migrate.upgrade(ENV.database_url)
    catcher = MailCatcher(port=ENV.smtp_port).start()
    try:
        async with dev_server(ENV.state, ENV.temporal_port) as server:
            client = server.client
            async with build_worker(client):
                if only in (None, "review"):
                    await AccessReviewRecorder(client, organization_id, out).stopped_then_applied()
                    if only == "review":
                        return
                if only in (None, "saml"):
                    await SamlMetadataRecorder(client, organization_id, out).warned_then_deleted()
                if only in (None, "groupjoin"):
                    await GroupJoinRecorder(client, organization_id, out).all()
                if only in (None, "signup"):
                    await SignUpRecorder(client, catcher, organization_id, out).all()
                if only in (None, "campaign"):
                    await CampaignRecorder(client, catcher, organization_id, out).batches()
                if only in (None, "lifecycle"):
                    await LifecycleRecorder(client, organization_id, out).all()
                if only == "federated":
                    await Recorder(client, catcher, organization_id, out).redeemed_federated()
                    return
                if only in (None, "invitation"):
                    recorder = Recorder(client, catcher, organization_id, out)
                    await asyncio.gather(recorder.redeemed(), recorder.redeemed_federated(),
                                         recorder.superseded_then_expired(),
                                         recorder.revoked(), recorder.expired())
                    # Alone: it changes the organization's reminder schedule while it runs.
                    await recorder.reminded_then_expired()
                if only not in (None, "access"):
                    return
                access = AccessRecorder(client, organization_id, out)
                await asyncio.gather(access.delivered_then_removed(), access.decided("Approve"),
                                     access.decided("Deny"), access.canceled())
    finally:
        catcher.stop()
        await get_engine().dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.record_histories")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", choices=["access", "campaign", "federated", "groupjoin", "invitation",
                                              "lifecycle", "review", "saml", "signup"],
                        help="record only these scenarios")
    parser.add_argument("--tag", default="", help="append _TAG to each file name (never overwrite)")
    arguments = parser.parse_args()
    TAG = arguments.tag
    asyncio.run(main(arguments.out, arguments.only))
