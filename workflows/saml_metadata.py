"""SamlMetadataWorkflow: keeps one SAML direct federation healthy, id `saml-metadata:{federation}`.

Started when the federation is created (foyer.workflows.client.saml_metadata; every PATCH starts it
again if it is missing), cancelled when it is deleted. It loops:
1. `refresh_saml_metadata` fetches the partner's metadata (metadataExchangeUri, if set), adds a
   newly published signing certificate to the ones Foyer trusts, and makes the newest one current
   once the current one has expired (as of the workflow's time); it answers the trusted
   certificates, or that the federation is gone (the workflow ends).
2. If the last trusted certificate expires within 30 or 7 days — no newer one appeared — the
   organization's administrators are mailed (`mail_saml_certificate_expiring`, once per
   certificate and threshold: the keys travel in the input across continue-as-new).
3. It sleeps until the next refresh (daily, as Entra polls) or the next moment that matters
   sooner (a warning due, the current certificate expiring), or until the `refresh` signal (an
   administrator changed the federation).
After REFRESHES_PER_RUN loops it continues as new, so its history stays short.

Why a timer loop and not a Temporal Schedule: the wake-ups are not only daily — a warning or a
rollover falls due at a moment computed from the certificates — and the warnings already sent are
state the loop carries; a Schedule would need that state in the database and a second mechanism
for the exact moments. The loop is also one workflow per federation, which the delete cancels,
and it runs on the time-skipping test server (which has no Schedules)."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from foyer.activities import saml_metadata as acts
    from foyer.workflows.messages.saml_metadata import (
        WARNING_DAYS, ExpiryWarningInput, RefreshInput, RefreshResult, SamlMetadataInput,
    )
    from foyer.workflows.retries import DB_RETRY, DB_TIMEOUT, MAIL_RETRY

REFRESH_INTERVAL = timedelta(days=1)
REFRESHES_PER_RUN = 60
# A metadata fetch waits at most this long (the activity's HTTP timeout is shorter).
FETCH_TIMEOUT = timedelta(minutes=2)
MINIMUM_SLEEP = timedelta(minutes=1)


@workflow.defn
class SamlMetadataWorkflow:
    def __init__(self) -> None:
        self.refresh_requested = False

    @workflow.run
    async def run(self, data: SamlMetadataInput) -> str:
        warned = list(data.warned)
        for _ in range(REFRESHES_PER_RUN):
            self.refresh_requested = False
            found: RefreshResult = await workflow.execute_activity(
                acts.refresh_saml_metadata, RefreshInput(federation_id=data.federation_id, now=workflow.now()),
                start_to_close_timeout=FETCH_TIMEOUT, retry_policy=DB_RETRY)
            if not found.exists:
                return "federationDeleted"
            now = workflow.now()
            wake = now + REFRESH_INTERVAL
            if found.certificates:
                current, last = found.certificates[0], max(found.certificates, key=lambda c: c.not_after)
                due = [days for days in WARNING_DAYS if f"{last.thumbprint}:{days}" not in warned
                       and last.not_after - timedelta(days=days) <= now]
                if due and last.not_after > now:
                    # Only the most urgent warning of those due (a federation created 5 days before
                    # its certificate expires gets the 7-day mail, not both).
                    days = min(due)
                    await workflow.execute_activity(
                        acts.mail_saml_certificate_expiring,
                        ExpiryWarningInput(federation_id=data.federation_id, thumbprint=last.thumbprint,
                                           not_after=last.not_after, days=days),
                        start_to_close_timeout=DB_TIMEOUT, retry_policy=MAIL_RETRY)
                warned.extend(f"{last.thumbprint}:{d}" for d in due if f"{last.thumbprint}:{d}" not in warned)
                moments = [last.not_after - timedelta(days=d) for d in WARNING_DAYS
                           if f"{last.thumbprint}:{d}" not in warned]
                if current.thumbprint != last.thumbprint:
                    moments.append(current.not_after)  # the rollover to the newer certificate
                wake = min([wake, *[m for m in moments if m > now]])
            try:
                await workflow.wait_condition(lambda: self.refresh_requested,
                                              timeout=max(wake - now, MINIMUM_SLEEP))
            except TimeoutError:
                pass
        workflow.continue_as_new(SamlMetadataInput(federation_id=data.federation_id,
                                                   organization_id=data.organization_id, warned=warned[-20:]))

    @workflow.signal
    def refresh(self) -> None:
        """The federation changed: refresh now rather than at the next timer."""
        self.refresh_requested = True
