"""`python -m bench.access_reviews [--database postgres] [--guests 5000]` (part of `make bench`):
one access review instance over N guests of one group, against the raw ceiling of the same
database in the same run.

  (a) open and begin the instance: the activities' bodies (foyer.usecases.access_review_runs
      open_occurrence + begin_review): the snapshot of N guests, their recommendations and N
      decision rows;
  (a0) raw ceiling: one bulk INSERT of N decision rows into the same table;
  (b) apply N Deny decisions: apply_review, which removes each membership through the one
      remove-member use case (audited) and records each applyResult, 200 per transaction (the
      people and their memberships read in bulk first);
  (b0) raw ceiling: one DELETE of the N memberships and one UPDATE of the N decisions.
  Then: this process's resident memory before, after (a) and after (b). The activities run here;
  the workflow's own history carries no decision, so the worker's memory does not grow with N.
"""

import argparse
import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

from bench.env import configure

ENV = configure("foyer-bench-reviews")

from sqlalchemy import delete, insert, update  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.measure import Result, heading, report, table  # noqa: E402
from foyer import migrate  # noqa: E402
from foyer.db import get_sessionmaker, session_scope, writing  # noqa: E402
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance  # noqa: E402
from foyer.models.directory import Group, GroupMember  # noqa: E402
from foyer.usecases import access_review_runs as runs  # noqa: E402
from foyer.workflows.messages.access_review import OpenOccurrenceInput  # noqa: E402
from tests.factories import user_row  # noqa: E402

GUESTS_OF = "/groups/{}/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"


def rss_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def setup(organization_id: str, guests: int) -> tuple[str, list[str]]:
    """A group of N guests (half signed in lately) and a definition over its guests."""
    now = datetime.now(timezone.utc)
    async with session_scope() as session:
        group = Group(organization_id=organization_id, display_name="Bench partners")
        session.add(group)
        users = []
        for i in range(guests):
            user = user_row(organization_id, f"Guest {i}", guest=True)
            user.external_user_state_change_date_time = now - timedelta(days=90)
            user.last_successful_sign_in_date_time = now - timedelta(days=3 if i % 2 else 60)
            users.append(user)
        session.add_all(users)
        await session.flush()
        session.add_all([GroupMember(group_id=group.id, user_id=u.id) for u in users])
        definition = AccessReviewDefinition(
            organization_id=organization_id, display_name="Bench review",
            scope={"query": GUESTS_OF.format(group.id), "queryType": "MicrosoftGraph"},
            reviewers=[], settings={"instanceDurationInDays": 14, "recommendationsEnabled": True})
        session.add(definition)
    return definition.id, [u.id for u in users]


async def main(args) -> None:
    organization_id = migrate.upgrade(ENV.database_url)
    definition_id, user_ids = await setup(organization_id, args.guests)
    rss = [rss_mib()]

    started = time.perf_counter()
    async with writing(), get_sessionmaker()() as session:
        opened = await runs.open_occurrence(session, OpenOccurrenceInput(
            organization_id=organization_id, definition_id=definition_id,
            started=datetime.now(timezone.utc).isoformat()))
    [instance_id] = opened.instance_ids
    async with writing(), get_sessionmaker()() as session:
        begun = await runs.begin_review(session, instance_id)
    begin_seconds = time.perf_counter() - started
    rss.append(rss_mib())
    assert begun.decisions == args.guests, begun

    # (a0) the same rows, one bulk INSERT, into another instance of the same definition.
    async with session_scope() as session:
        other = AccessReviewInstance(organization_id=organization_id, definition_id=definition_id, occurrence=99,
                                     resource_id="raw", start_date_time=datetime.now(timezone.utc),
                                     end_date_time=datetime.now(timezone.utc) + timedelta(days=14))
        session.add(other)
    rows = [{"id": str(uuid.uuid4()), "organization_id": organization_id, "instance_id": other.id,
             "principal_id": user_id, "decision": "NotReviewed", "recommendation": "Approve",
             "apply_result": "New"} for user_id in user_ids]
    started = time.perf_counter()
    async with session_scope() as session:
        await session.execute(insert(AccessReviewDecision), rows)
    raw_insert_seconds = time.perf_counter() - started

    # (b) apply N Deny decisions.
    async with session_scope() as session:
        await session.execute(update(AccessReviewDecision).where(AccessReviewDecision.instance_id == instance_id)
                              .values(decision="Deny", reviewed_by_id="bench"))
        instance = await session.get(AccessReviewInstance, instance_id)
        instance.status = "Completed"
        session.add(instance)
    started = time.perf_counter()
    async with writing(), get_sessionmaker()() as session:
        applied = await runs.apply_review(session, instance_id, actor={"actor_id": "bench", "actor_name": "bench"})
    apply_seconds = time.perf_counter() - started
    rss.append(rss_mib())
    assert applied.applied == args.guests, applied
    async with session_scope() as session:
        left = (await session.exec(select(GroupMember).where(GroupMember.user_id.in_(user_ids[:100])))).all()
    assert not left, "denied guests are still members"

    # (b0) the same removal as two statements: put the memberships back, then delete them at once.
    async with session_scope() as session:
        group_id = (await session.exec(select(Group.id).where(Group.organization_id == organization_id,
                                                              Group.display_name == "Bench partners"))).one()
        back = datetime.now(timezone.utc)
        await session.execute(insert(GroupMember), [{"group_id": group_id, "user_id": u, "added_date_time": back}
                                                    for u in user_ids])
    started = time.perf_counter()
    async with session_scope() as session:
        await session.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
        await session.execute(update(AccessReviewDecision).where(AccessReviewDecision.instance_id == other.id)
                              .values(apply_result="AppliedSuccessfully"))
    raw_apply_seconds = time.perf_counter() - started

    n = args.guests
    results = [
        Result(f"(a) open and begin one instance over {n} guests", n, begin_seconds, [], "rows/s"),
        Result(f"(a0) raw: one bulk INSERT of {n} decision rows", n, raw_insert_seconds, [], "rows/s"),
        Result(f"(b) apply {n} Deny decisions (remove-member use case, audited)", n, apply_seconds, [], "rows/s"),
        Result(f"(b0) raw: one DELETE of {n} memberships + one UPDATE of {n} decisions", n, raw_apply_seconds, [],
               "rows/s"),
    ]
    lines = table(results) + [
        "",
        f"- (a)/(a0) begin vs bulk insert: **{raw_insert_seconds / begin_seconds:.2f}** of the ceiling "
        f"({begin_seconds:.1f} s vs {raw_insert_seconds:.2f} s)",
        f"- (b)/(b0) apply vs two statements: **{raw_apply_seconds / apply_seconds:.3f}** of the ceiling "
        f"({apply_seconds:.1f} s vs {raw_apply_seconds:.2f} s): each removal audited on its own, the people "
        f"read in bulk, 200 removals per transaction",
        f"- resident memory of the process running the activities: {rss[0]:.0f} MiB before, {rss[1]:.0f} MiB "
        f"after (a), {rss[2]:.0f} MiB after (b)",
    ]
    settings = f"{ENV.database_label}; the activities' bodies in this process; {n} guests in one group."
    report(heading(f"Access review, {'SQLite' if ENV.database == 'sqlite' else 'PostgreSQL'}"), settings, lines,
           not args.no_write)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=ENV.database)
    parser.add_argument("--guests", type=int, default=5000)
    parser.add_argument("--keep-schema", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    asyncio.run(main(parser.parse_args()))
