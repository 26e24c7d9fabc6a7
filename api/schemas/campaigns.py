"""Response shapes of /v1.0/invitationCampaigns (Foyer's own; Graph has no bulk invitation
resource, so the names follow Graph's conventions: camelCase, `...DateTime`, a `value` list)."""

from foyer.api.schemas import Collection, GraphResource


class CampaignCounts(GraphResource):
    """Rows by state; `redeemed` counts invited rows whose guest has redeemed since."""
    pending: int | None = None
    invited: int | None = None
    redeemed: int | None = None
    skipped: int | None = None
    failed: int | None = None
    canceled: int | None = None


class InvitationCampaign(GraphResource):
    """A campaign and its progress (the list sends id, displayName, state, rowCount and
    createdDateTime)."""
    id: str | None = None
    display_name: str | None = None
    state: str | None = None  # running | paused | completed | canceled
    row_count: int | None = None
    rate_per_minute_limit: int | None = None
    concurrency: int | None = None
    counts: CampaignCounts | None = None
    rows_per_second: float | None = None  # over the last minute
    eta_seconds: int | None = None  # null while nothing was invited in the last minute
    created_by: str | None = None
    created_date_time: str | None = None
    completed_date_time: str | None = None
    foyer_workflow_id: str | None = None


InvitationCampaignCollection = Collection[InvitationCampaign]


class CampaignRowProblem(GraphResource):
    column: str | None = None  # the CSV column, as the bulk-invite template names it
    code: str | None = None
    message: str | None = None


class CampaignRowVerdict(GraphResource):
    row: int | None = None
    invited_user_email_address: str | None = None
    verdict: str | None = None  # ok | invalid
    problems: list[CampaignRowProblem] | None = None


class CampaignDryRun(GraphResource):
    """The answer to a dryRun: every row's verdict; nobody is invited and nothing is stored."""
    dry_run: bool | None = None
    row_count: int | None = None
    valid_count: int | None = None
    invalid_count: int | None = None
    rows: list[CampaignRowVerdict] | None = None


class CampaignResult(GraphResource):
    """One row's outcome: a line of the results CSV, or an item of its JSON form."""
    row: int | None = None
    invited_user_email_address: str | None = None
    result: str | None = None  # pending | invited | skipped | failed | canceled
    reason: str | None = None
    invitation_id: str | None = None
    user_id: str | None = None
    redeemed: bool | None = None


CampaignResultCollection = Collection[CampaignResult]


class CampaignStateChange(GraphResource):
    """The answer to pause, resume, cancel and retryFailed: the campaign's state from now on."""
    id: str | None = None
    state: str | None = None
    rows_retried: int | None = None  # retryFailed on a running campaign
