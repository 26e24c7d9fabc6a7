"""The entitlement phases of `python -m bench`, run on the same dev server after the invitations.

  (d) auto-approved access requests: N guests each ask for themselves, with their own bearer
      token, for one access package whose policy needs no approval (self-service,
      allExternalUsers, P30D): POST …/assignmentRequests through the real FastAPI app, then the
      request's AccessRequestWorkflow result is awaited (it returns once the request row is
      `delivered`); C requests in flight end to end, like the raw ceiling's start+await.
      Requests/s, and the ratio to the raw ceiling (a) of the same run.
  (e) decisions: M guests ask for a package whose policy has one stage with one approver; once
      a request's stage is open and its approver mail sent, the approver decides with PATCH
      …/assignmentApprovals/{requestId}/stages/{stageId}: the first S one at a time (each live
      before the next is sent: an approver alone), the rest D in flight. The PATCH answer latency,
      and the latency from sending the decision to the assignment being live in the directory
      (its Assignment row `delivered` and the guest's GroupMember row present).

How "live" is timed (two ways, both reported):
  - observed: one watcher reads the database every 20 ms (a plain read session, outside the
    SQLite writer lock) for every decided request not yet live; the latency is from just before
    the PATCH is sent to the first read that sees both rows. An upper bound: it includes up to
    one poll interval and any delay of the poll in the shared event loop.
  - recorded: GroupMember.added_date_time, stamped inside the delivering transaction, minus the
    wall-clock send time. A lower bound: it is stamped just before that transaction commits.

Catalog, package, policy, users and tokens are written straight into the database by the builders
the tests use (tests/factories.py); only the requests and decisions go through the API.
"""

import asyncio
import time
from datetime import datetime, timezone

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from bench import profiling
from bench.devserver import DevServer
from bench.measure import Result, accounted, bounded, cpu_mark, cpu_since, pct
from foyer.db import get_sessionmaker
from foyer.models.directory import GroupMember
from foyer.models.entitlement import Assignment, AssignmentRequest
from tests.entitlement_support import stage_open
from tests.factories import make_package, make_people, self_service, stage
from foyer.workflows.messages.access import access_request_workflow_id
from foyer.workflows.messages.assignment import assignment_id_for_request

EM = "/v1.0/identityGovernance/entitlementManagement"
POLL = 0.02  # the live-in-the-directory watcher's interval


# --- building the directory -------------------------------------------------------------------

async def people(organization_id: str, tag: str, count: int, *, guest: bool) -> list[tuple[str, dict]]:
    """`count` users, each with an API token of their own, in one transaction; (user id, headers)."""
    return [(user.id, headers) for user, headers in await make_people(organization_id, tag, count, guest=guest)]


async def package_with(organization_id: str, name: str, approval: dict) -> tuple[str, str, str]:
    """A catalog with a group and an app, a package granting both, and one self-service policy
    for all external users (30 days) with `approval`; (package id, policy id, group id)."""
    package, policy, group, _ = await make_package(
        organization_id, name=f"Bench {name}", policy=self_service(request_approval_settings=approval))
    return package.id, policy.id, group.id


NO_APPROVAL = self_service()["request_approval_settings"]


def one_stage(approver_id: str) -> dict:
    return {"isApprovalRequiredForAdd": True, "isApprovalRequiredForUpdate": False, "stages": [stage([approver_id])]}


def request_body(package_id: str, policy_id: str) -> dict:
    return {"requestType": "userAdd", "justification": "bench",
            "assignment": {"accessPackageId": package_id, "assignmentPolicyId": policy_id}}


# --- (d) auto-approved requests ---------------------------------------------------------------

async def auto_approved(client, api: httpx.AsyncClient, organization_id: str, run_id: str, n: int, c: int,
                        timeout: float) -> tuple[Result, dict]:
    from foyer.workflows.access_request import AccessRequestWorkflow

    guests = await people(organization_id, f"req{run_id}g", n, guest=True)
    package_id, policy_id, group_id = await package_with(organization_id, f"auto {run_id}", NO_APPROVAL)
    body = request_body(package_id, policy_id)
    failures: list[str] = []
    posts: list[float] = []
    states: dict[str, int] = {}

    async def one(i: int) -> None:
        user_id, headers = guests[i]
        sent = time.perf_counter()
        response = await api.post(f"{EM}/assignmentRequests", headers=headers, json=body)
        posts.append(time.perf_counter() - sent)
        if response.status_code != 201:
            failures.append(f"{response.status_code} {response.text[:200]}")
            return
        handle = client.get_workflow_handle_for(AccessRequestWorkflow.run,
                                                access_request_workflow_id(package_id, user_id))
        status = await asyncio.wait_for(handle.result(), timeout)
        states[status.state] = states.get(status.state, 0) + 1

    profiling.reset()
    started = time.perf_counter()
    latencies = await bounded(n, c, one)
    elapsed = time.perf_counter() - started
    spans = profiling.summary()

    async with get_sessionmaker()() as session:
        delivered = (await session.exec(select(func.count()).select_from(AssignmentRequest).where(
            AssignmentRequest.access_package_id == package_id, AssignmentRequest.state == "delivered"))).one()
        assignments = (await session.exec(select(func.count()).select_from(Assignment).where(
            Assignment.access_package_id == package_id, Assignment.state == "delivered"))).one()
        members = (await session.exec(select(func.count()).select_from(GroupMember).where(
            GroupMember.group_id == group_id))).one()
    note = "" if delivered == n else f" INCOMPLETE: {delivered}/{n} delivered, {len(failures)} failed"
    facts = {"failures": failures, "posts": posts, "states": states, "delivered": delivered,
             "assignments": assignments, "members": members, "spans": spans}
    return (Result(f"(d) auto-approved requests end to end (POST → request delivered), {c} in flight",
                   delivered, elapsed, latencies, "req/s", note), facts)


# --- (e) decisions ----------------------------------------------------------------------------

class LiveWatcher:
    """One task that reads the directory every POLL seconds and notes when each decided
    request's assignment is live (Assignment delivered and the GroupMember row present)."""

    def __init__(self, group_id: str):
        self.group_id = group_id
        self.waiting: dict[str, tuple[str, float]] = {}  # assignment id → (user id, sent perf_counter)
        self.live: dict[str, float] = {}  # assignment id → seconds from send to seen live
        self.polls = 0

    def watch(self, assignment_id: str, user_id: str, sent: float) -> None:
        self.waiting[assignment_id] = (user_id, sent)

    async def drained(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.waiting and time.perf_counter() < deadline:
            await asyncio.sleep(POLL)

    async def run(self) -> None:
        while True:
            if self.waiting:
                ids = list(self.waiting)
                users = [self.waiting[a][0] for a in ids]
                async with get_sessionmaker()() as session:
                    delivered = set((await session.exec(select(Assignment.id).where(
                        col(Assignment.id).in_(ids), Assignment.state == "delivered"))).all())
                    members = set((await session.exec(select(GroupMember.user_id).where(
                        GroupMember.group_id == self.group_id, col(GroupMember.user_id).in_(users)))).all())
                seen = time.perf_counter()
                self.polls += 1
                for assignment_id in ids:
                    user_id, sent = self.waiting[assignment_id]
                    if assignment_id in delivered and user_id in members:
                        self.live[assignment_id] = seen - sent
                        del self.waiting[assignment_id]
            await asyncio.sleep(POLL)


async def settle(count: int, activity_type: str, timeout: float = 60) -> None:
    """Wait (untimed) until `count` runs of an activity have finished since profiling.reset()."""
    deadline = time.perf_counter() + timeout
    while len(profiling.SPANS.get(f"activity run: {activity_type}", [])) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


async def decisions(server: DevServer, api: httpx.AsyncClient, organization_id: str, run_id: str, m: int,
                    c_submit: int,
                    c_decide: int, sequential: int, timeout: float) -> tuple:
    """M requests for approval; the first `sequential` decided one at a time (the approver alone,
    each decision live before the next is sent), the rest `c_decide` at a time. Returns (the
    submission row, a PATCH row and a live row per part, facts); each row carries the CPU of its
    own part."""
    client = server.client
    guests = await people(organization_id, f"dec{run_id}g", m, guest=True)
    (approver_id, approver), = await people(organization_id, f"dec{run_id}approver", 1, guest=False)
    package_id, policy_id, group_id = await package_with(organization_id, f"decide {run_id}",
                                                         one_stage(approver_id))
    body = request_body(package_id, policy_id)
    failures: list[str] = []
    request_ids: dict[int, str] = {}

    async def submit(i: int) -> None:
        response = await api.post(f"{EM}/assignmentRequests", headers=guests[i][1], json=body)
        if response.status_code != 201:
            failures.append(f"POST {response.status_code} {response.text[:200]}")
        else:
            request_ids[i] = response.json()["id"]

    # Spans are counted from here: a stage's announcement may finish before its stage is seen open.
    profiling.reset()
    mark = cpu_mark(server)
    started = time.perf_counter()
    submit_latencies = await bounded(m, c_submit, submit)
    submitted = Result(f"requests needing approval: POST answered 201, {c_submit} in flight",
                       len(request_ids), time.perf_counter() - started, submit_latencies, "req/s")
    submitted.cpu = cpu_since(server, mark)
    stage_ids: dict[int, str] = {}

    async def opened(i: int) -> None:
        if i in request_ids:
            stage_ids[i] = (await stage_open(client, access_request_workflow_id(package_id, guests[i][0]),
                                            seconds=120)).stage_id

    await bounded(m, c_decide, opened)
    # The approver decides after the stage's mail went out (announce_stage done), as a person
    # would: the decisions are timed without the announcements still running beside them.
    await settle(len(stage_ids), "announce_stage", timeout)

    watcher = LiveWatcher(group_id)
    watching = asyncio.create_task(watcher.run())
    sent_at: dict[str, datetime] = {}  # guest id → wall-clock send time
    assignment_of: dict[int, str] = {}

    async def decide(i: int) -> None:
        if i not in stage_ids:
            return
        request_id, user_id = request_ids[i], guests[i][0]
        assignment_id = assignment_of[i] = assignment_id_for_request(request_id)
        sent_at[user_id] = datetime.now(timezone.utc)
        sent = time.perf_counter()
        watcher.watch(assignment_id, user_id, sent)
        response = await api.patch(f"{EM}/assignmentApprovals/{request_id}/stages/{stage_ids[i]}",
                                   headers=approver, json={"reviewResult": "Approve", "justification": "ok"})
        if response.status_code != 204:
            failures.append(f"PATCH {response.status_code} {response.text[:200]}")
            watcher.waiting.pop(assignment_id, None)

    async def alone(i: int) -> None:
        await decide(i)
        await watcher.drained(timeout)

    rows: list[Result] = []
    recorded_by_part: list[tuple[str, list[float]]] = []
    sequential = min(sequential, m)
    parts = [(f"1 in flight (the approver alone), first {sequential}", range(0, sequential), 1, alone),
             (f"{c_decide} in flight, other {m - sequential}", range(sequential, m), c_decide, decide)]
    profiling.reset()
    for label, indexes, concurrency, one in parts:
        if not indexes:
            continue
        mark = cpu_mark(server)
        started = time.perf_counter()
        patch_latencies = await bounded(len(indexes), concurrency, lambda j: one(indexes[j]))
        answered = time.perf_counter() - started
        answered_cpu = cpu_since(server, mark)
        await watcher.drained(timeout)
        live_done = time.perf_counter() - started
        live_cpu = cpu_since(server, mark)
        live = [watcher.live[assignment_of[i]] for i in indexes if assignment_of.get(i) in watcher.live]
        rows += [Result(f"(e) approver PATCH …/stages/{{id}} answered 204, {label}", len(patch_latencies),
                        answered, patch_latencies, "decisions/s"),
                 Result(f"(f) decision sent → assignment live, {label}", len(live), live_done, live, "live/s",
                        "" if len(live) == len(indexes) else f" INCOMPLETE: {len(live)}/{len(indexes)} seen live")]
        rows[-2].cpu, rows[-1].cpu = answered_cpu, live_cpu
        users = {guests[i][0] for i in indexes}
        recorded_by_part.append((label, users))
    watching.cancel()
    spans = profiling.summary()

    async with get_sessionmaker()() as session:
        stamped = (await session.exec(select(GroupMember.user_id, GroupMember.added_date_time).where(
            GroupMember.group_id == group_id))).all()
        delivered = (await session.exec(select(func.count()).select_from(Assignment).where(
            Assignment.access_package_id == package_id, Assignment.state == "delivered"))).one()
    recorded = [(label, [(added - sent_at[user]).total_seconds() for user, added in stamped
                         if user in users and user in sent_at]) for label, users in recorded_by_part]
    facts = {"failures": failures, "recorded": recorded, "delivered": delivered, "members": len(stamped),
             "polls": watcher.polls, "spans": spans}
    return (submitted, *rows, facts)


# --- both, and their report -------------------------------------------------------------------

async def run(server: DevServer, organization_id: str, run_id: str, *, requests: int, decisions_n: int,
              concurrency: int, decide_concurrency: int, sequential: int, timeout: float, ceiling: Result,
              worker_options: dict) -> tuple[list[Result], list[str]]:
    """Both phases with the project's worker and API in this process; (table rows, report lines)."""
    from foyer.api.main import create_app
    from foyer.worker import build_worker

    client = server.client
    app = create_app(temporal_client=client)
    rows: list[Result] = []
    lines: list[str] = []
    spans: list[tuple[str, list]] = []
    async with build_worker(client, interceptors=[profiling.TimingInterceptor()], **worker_options):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bench.test", timeout=120) as api:
            if requests:
                print("  (d) auto-approved access requests …", flush=True)
                end_to_end, facts = await accounted(server, auto_approved(
                    client, api, organization_id, run_id, requests, concurrency, timeout))
                rows.append(end_to_end)
                lines += [
                    f"- **(d)/(a) auto-approved requests / raw ceiling = {end_to_end.rate / ceiling.rate:.2f}** "
                    f"({end_to_end.rate:.1f} req/s vs {ceiling.rate:.1f} wf/s)",
                    f"- (d) POST …/assignmentRequests answered 201: p50 {pct(facts['posts'], 0.5):.0f} ms, "
                    f"p95 {pct(facts['posts'], 0.95):.0f} ms; request rows delivered {facts['delivered']}/"
                    f"{requests}, Assignment rows delivered {facts['assignments']}, group members "
                    f"{facts['members']}; workflow results {facts['states']}; non-201 answers "
                    f"{len(facts['failures'])}" + (f" (first: {facts['failures'][0]})" if facts["failures"] else "")]
                spans.append(("(d)", facts["spans"]))
            if decisions_n:
                print("  (e) approver decisions …", flush=True)
                *made, facts = await decisions(
                    server, api, organization_id, run_id, decisions_n, concurrency, decide_concurrency,
                    sequential, timeout)
                rows += made
                for patched, live in zip(made[1::2], made[2::2]):
                    lines += [
                        f"- **{patched.name.removeprefix('(e) ')}: p50 {pct(patched.latencies, 0.5):.0f} ms, "
                        f"p95 {pct(patched.latencies, 0.95):.0f} ms** (target p95 ≤ 300 ms)",
                        f"- **{live.name.removeprefix('(f) ')}, observed: p50 {pct(live.latencies, 0.5):.0f} ms, "
                        f"p95 {pct(live.latencies, 0.95):.0f} ms, p99 {pct(live.latencies, 0.99):.0f} ms** "
                        f"(target p95 ≤ 2000 ms)"]
                for label, recorded in facts["recorded"]:
                    lines.append(
                        f"- (f) {label}, recorded: GroupMember.added_date_time − send time: p50 "
                        f"{pct(recorded, 0.5):.0f} ms, p95 {pct(recorded, 0.95):.0f} ms, p99 "
                        f"{pct(recorded, 0.99):.0f} ms (n={len(recorded)})")
                lines += [
                    f"- (f) observed = from just before the PATCH is sent to the first {int(POLL * 1000)} ms "
                    f"read of the directory that shows Assignment `delivered` and the GroupMember row "
                    f"({facts['polls']} reads; an upper bound); recorded = the GroupMember row's own "
                    f"timestamp, stamped in the delivering transaction just before it commits (a lower bound)",
                    f"- (e) Assignment rows delivered {facts['delivered']}/{decisions_n}, group members "
                    f"{facts['members']}; failures {len(facts['failures'])}"
                    + (f" (first: {facts['failures'][0]})" if facts["failures"] else "")]
                spans.append(("(e)", facts["spans"]))
    if spans:
        lines += ["", "Activities of the entitlement phases (wall clock per run; (e): from the first "
                  "decision until every assignment is live):", "",
                  "| phase | activity | count | mean ms | p50 ms | p95 ms |", "|---|---|---:|---:|---:|---:|"]
        for phase, rows_ in spans:
            for name, count, _total, mean, p50, p95 in rows_:
                if name.startswith("activity run: "):
                    lines.append(f"| {phase} | {name.removeprefix('activity run: ')} | {count} | {mean:.1f} "
                                 f"| {p50:.1f} | {p95:.1f} |")
    return rows, lines
