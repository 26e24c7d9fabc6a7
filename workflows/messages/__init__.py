"""The contract of every Foyer process, one module per process: what goes into and comes out of
each workflow (input, Updates, signals, queries, results) and each activity, the business-key
workflow ids and the signal names. Nothing here changes what Temporal records: workflow,
activity, Update, signal and query names and the payloads' fields are what histories hold.

These modules import only pydantic, the standard library and `models.enums`; nothing of Foyer
imports back (activities, the API and the Temporal client side all import from here).

Kept out of the workflow modules on purpose: the sandbox re-executes a workflow's own module for
every run, and rebuilding these pydantic models each time cost measurable CPU per invitation.
Workflows import these modules through `imports_passed_through`, so they are loaded once.

Import from the process's module (`workflows.messages.invitation`); this package re-exports
everything for code written before the split.
"""

from foyer.workflows.messages.invitation import (
    address_key, invitation_workflow_id, InvitationSpec, RecordInvitationInput, RecordedInvitation,
    InvitationMailInput, InvitationEventInput, IssuePasscodeInput, PasscodeIssued, RedeemInput, RedeemOutcome,
    InvitationWorkflowInput, InviteResult, PasscodeRequest, RedeemRequest, RevokeRequest, InvitationStatus,
    CarriedState,
)
from foyer.workflows.messages.access import (
    ADD_TYPES, UPDATE_TYPES, REMOVE_TYPES, DELIVERY_FINISHED, access_request_workflow_id, AccessRequestInput,
    AccessRequestSpec, Decision, DecisionResult, CancelRequest, ResumeRequest, RequestStatus,
    RecordRequestInput, StagePlan, RequestPlan, StageEventInput, DecisionInput, RequestStateInput,
)
from foyer.workflows.messages.assignment import (
    assignment_id_for_request, assignment_workflow_id, AssignmentInput, ExtendSignal, RemoveSignal,
    AssignmentStatus, DeliverInput, DeliveryResult, RemoveInput, ExtendInput, ExpiryNoticeInput,
)
from foyer.workflows.messages.extensions import (
    BLOCKING_STAGES, callout_instance_id, CalloutInput, CalloutResult, ResumeRecord,
)
from foyer.workflows.messages.campaign import (
    campaign_workflow_id, row_invitation_id, row_package_request_id, CampaignInput, CampaignStatus,
    NextRowsInput, RowInput, BatchInput, BatchOutcome, RowOutcome, CampaignStateInput,
)
from foyer.workflows.messages.sign_in import (
    sign_in_workflow_id, SignInInput, CodeRequest, VerifyRequest, SignInStatus, IssueCodeInput, CodeIssued,
    VerifyCodeInput, CodeChecked,
)
from foyer.workflows.messages.sign_up import (
    sign_up_workflow_id, ConnectorCall, ConnectorOutcome, SignUpFlow, SignUpInput, SignUpCarried,
    SignUpCodeRequest, SignUpAttributes, SignUpDecision, SignUpVerification, SignUpStatus, StartSignUpInput,
    SignUpStarted, CheckCodeInput, CodeVerdict, SignUpStep, GuestInput, SignUpMailInput,
)

__all__ = [
    "address_key", "invitation_workflow_id", "InvitationSpec", "RecordInvitationInput", "RecordedInvitation",
    "InvitationMailInput", "InvitationEventInput", "IssuePasscodeInput", "PasscodeIssued", "RedeemInput",
    "RedeemOutcome", "InvitationWorkflowInput", "InviteResult", "PasscodeRequest", "RedeemRequest",
    "RevokeRequest", "InvitationStatus", "CarriedState", "ADD_TYPES", "UPDATE_TYPES", "REMOVE_TYPES",
    "DELIVERY_FINISHED", "access_request_workflow_id", "AccessRequestInput", "AccessRequestSpec", "Decision",
    "DecisionResult", "CancelRequest", "ResumeRequest", "RequestStatus", "RecordRequestInput", "StagePlan",
    "RequestPlan", "StageEventInput", "DecisionInput", "RequestStateInput", "assignment_id_for_request",
    "assignment_workflow_id", "AssignmentInput", "ExtendSignal", "RemoveSignal", "AssignmentStatus",
    "DeliverInput", "DeliveryResult", "RemoveInput", "ExtendInput", "ExpiryNoticeInput", "BLOCKING_STAGES",
    "callout_instance_id", "CalloutInput", "CalloutResult", "ResumeRecord", "campaign_workflow_id",
    "row_invitation_id", "row_package_request_id", "CampaignInput", "CampaignStatus", "NextRowsInput",
    "RowInput", "BatchInput", "BatchOutcome", "RowOutcome", "CampaignStateInput", "sign_in_workflow_id",
    "SignInInput", "CodeRequest", "VerifyRequest", "SignInStatus", "IssueCodeInput", "CodeIssued",
    "VerifyCodeInput", "CodeChecked", "sign_up_workflow_id", "ConnectorCall", "ConnectorOutcome",
    "SignUpFlow", "SignUpInput", "SignUpCarried", "SignUpCodeRequest", "SignUpAttributes", "SignUpDecision",
    "SignUpVerification", "SignUpStatus", "StartSignUpInput", "SignUpStarted", "CheckCodeInput",
    "CodeVerdict", "SignUpStep", "GuestInput", "SignUpMailInput",
]
