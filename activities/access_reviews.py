"""Activities of the access review processes (AccessReviewOccurrenceWorkflow, AccessReviewWorkflow):
thin adapters over foyer.usecases.access_review_runs, and the reviewers' mail through the outbox.
Each is safe to retry: instances are found by their occurrence's start, decisions by (instance,
person), mails by key, a decision applied is not applied again."""

from datetime import datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from foyer.activities import mail
from foyer.db import get_sessionmaker, writing
from foyer.settings import get_settings
from foyer.templating import render_mail
from foyer.usecases import access_review_runs as runs
from foyer.models.access_reviews import AccessReviewDefinition, AccessReviewInstance
from foyer.workflows.messages.access_review import (
    AccessReviewInput, AppliedDecisions, BegunReview, GuestLifecyclesInput, OpenedOccurrence, OpenOccurrenceInput,
    ReviewMailInput, access_review_workflow_id,
)
from foyer.workflows.messages.guest_lifecycle import (
    ACCESS_REVIEW_DENIED, GuestLifecycleInput, guest_lifecycle_workflow_id,
)


class ReviewStarter:
    """Starts the workflows a review leads to: an activity rather than a child workflow (the
    instance outlives the occurrence by weeks, a guest's lifecycle the review; an abandoned child
    whose parent has closed stalls the time-skipping test server). Workflows are named, not
    imported: activities sit below the workflows."""

    def __init__(self, client: Client):
        self.client = client

    async def _start(self, workflow: str, data, workflow_id: str) -> None:
        try:
            await self.client.start_workflow(workflow, data, id=workflow_id, task_queue=activity.info().task_queue)
        except WorkflowAlreadyStartedError:
            pass  # started by an earlier attempt, or already running

    @activity.defn(name="open_access_review_occurrence")
    async def open_access_review_occurrence(self, data: OpenOccurrenceInput) -> OpenedOccurrence:
        """Open the occurrence's instances (once) and start each one's AccessReviewWorkflow."""
        async with writing(), get_sessionmaker()() as session:
            opened = await runs.open_occurrence(session, data)
        for instance_id in opened.instance_ids:
            await self._start("AccessReviewWorkflow", AccessReviewInput(
                organization_id=data.organization_id, definition_id=data.definition_id, instance_id=instance_id),
                access_review_workflow_id(instance_id))
        return opened

    @activity.defn(name="start_guest_lifecycles")
    async def start_guest_lifecycles(self, data: GuestLifecyclesInput) -> None:
        """disableAndDeleteUserApplyAction: each denied guest's GuestLifecycleWorkflow."""
        for user_id in data.user_ids:
            await self._start("GuestLifecycleWorkflow", GuestLifecycleInput(
                organization_id=data.organization_id, user_id=user_id, reason=ACCESS_REVIEW_DENIED,
                delete_after=data.delete_after, started_by=data.started_by), guest_lifecycle_workflow_id(user_id))


@activity.defn
async def begin_access_review(data: AccessReviewInput) -> BegunReview:
    async with writing(), get_sessionmaker()() as session:
        return await runs.begin_review(session, data.instance_id)


@activity.defn
async def send_access_review_mail(data: ReviewMailInput) -> int:
    """Mail the reviewers (or, for a self-review, the people) a link to the instance's page: once
    per (instance, kind, person). A reminder goes only to whom something is left to decide."""
    reminder = data.kind != "start"
    async with get_sessionmaker()() as session:
        instance = await session.get(AccessReviewInstance, data.instance_id)
        if instance is None:
            return 0
        definition = await session.get(AccessReviewDefinition, instance.definition_id)
        recipients = [u for u in await runs.reviewers_to_mail(session, instance, only_undecided=reminder) if u.mail]
        link = f"{get_settings().public_url.rstrip('/')}/reviews/{instance.id}"
        keys = []
        async with writing():
            for user in recipients:
                subject, text, html = render_mail(
                    "access_review", reminder=reminder, self_review=not instance.reviewer_ids,
                    review=definition.display_name if definition else "An access review",
                    description=(definition.description_for_reviewers if definition else None),
                    resource=instance.resource_display_name, person=user.display_name, link=link,
                    end=instance.end_date_time)
                key = f"access-review:{instance.id}:{data.kind}:{user.id}"
                await mail.enqueue(session, key=key, to=[user.mail], subject=subject, text=text, html=html)
                keys.append(key)
            await session.commit()
    return await mail.deliver_many(keys) if keys else 0


@activity.defn
async def complete_access_review(data: AccessReviewInput) -> None:
    async with writing(), get_sessionmaker()() as session:
        await runs.complete_review(session, data.instance_id)


@activity.defn
async def apply_access_review_decisions(data: AccessReviewInput) -> AppliedDecisions:
    actor = {"actor_id": runs.SERVICE["id"], "actor_name": runs.SERVICE["displayName"]}
    async with writing(), get_sessionmaker()() as session:
        return await runs.apply_review(session, data.instance_id, actor=actor)


@activity.defn
async def mark_access_review_stopped(data: AccessReviewInput) -> None:
    """A stopped instance that had not begun: Completed, nothing to decide."""
    async with writing(), get_sessionmaker()() as session:
        instance = await session.get(AccessReviewInstance, data.instance_id)
        if instance is not None and instance.status == "NotStarted":
            instance.status = "Completed"
            instance.end_date_time = datetime.now(instance.end_date_time.tzinfo)
            session.add(instance)
            await session.commit()


ALL = [begin_access_review, send_access_review_mail, complete_access_review,
       apply_access_review_decisions, mark_access_review_stopped]
