"""The one business-refusal type, for code below the HTTP edge (the Temporal client side, use
cases, activities): it names what was refused and why; the API turns it into a Graph error
(api.errors), an activity into a non-retryable ApplicationError of the same type."""


# The business refusals workflows and activities raise (ApplicationError.type), each with the HTTP
# status it means at the API (api.errors). Here rather than in the API so that the Temporal
# client side can tell a refusal from a failure without importing the web layer.
REFUSAL_STATUS = {
    "invalidRequest": 400,
    "domainNotAllowed": 403,
    "Authorization_RequestDenied": 403,
    "addressLocked": 403,
    "emailOtpDisabled": 403,
    "userNotFound": 404,
    "organizationNotFound": 404,
    "memberAlreadyExists": 409,
    "conflictingObject": 409,
    "invitationNotPending": 409,
    "runEnded": 409,
    "linkNotValid": 410,
    "tooManyRequests": 429,
    "notFound": 404,
    "requestNotAllowed": 403,
    "selfApprovalNotAllowed": 403,
    "notAnApprover": 403,
    "alreadyAssigned": 409,
    "notAssigned": 409,
    "separationOfDutiesConflict": 409,
    "pendingRequestExists": 409,
    "stageAlreadyDecided": 409,
    "requestNotCancelable": 409,
    "conflictingDecision": 409,
    "notWaitingForResume": 409,
    "campaignEnded": 409,
}


class Refused(Exception):
    """`code` is Graph's error code (api.errors.REFUSAL_STATUS gives its HTTP status);
    `status_hint` is the status for a code that table does not list (a 5xx marks a failure of
    the workflow service rather than a refusal: the caller may retry); `retry_after`, in
    seconds, when retrying later may help; `details`, what the refusal carries besides its
    message (a form's field errors, say)."""

    def __init__(self, code: str, message: str, status_hint: int | None = None,
                 retry_after: int | None = None, details: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.status_hint, self.retry_after = code, message, status_hint, retry_after
        self.details = details or {}

    @property
    def status(self) -> int:
        """The HTTP status this refusal means (409 for a code nobody listed)."""
        return REFUSAL_STATUS.get(self.code) or self.status_hint or 409

    @property
    def transient(self) -> bool:
        """The workflow service did not answer or the workflow failed: not a business refusal."""
        return self.status_hint is not None and self.status_hint >= 500

    def __repr__(self) -> str:
        return f"Refused({self.code!r}, {self.message!r})"
