"""`python -m bench.production` (part of `make bench`): Foyer on the production topology
(bench/topology.py: PostgreSQL, one Temporal dev server, 2 `foyer api` and 2 `foyer worker`
processes, the mail catcher), against the raw ceiling of the same Temporal server in the same run.

  (a) raw ceiling: NoopWorkflow (one no-op activity), started and awaited, C in flight, on a raw
      worker in this process; wf/s.
  (b) invitations end to end: POST /v1.0/invitations over real HTTP, spread round robin over both
      APIs, C in flight; the clock stops when the SMTP server holds N distinct Message-IDs (a
      message sent twice is a failure, never one more mail); invitations/s and (b)/(a).
  (e)/(f) approver decisions (bench/entitlement.py `decisions`, its requests and PATCHes over real
      HTTP to both APIs): PATCH latency and decision → assignment live, the approver alone, then
      10 in flight.
  (g) a campaign of R rows (10,000 by default) through the first API: rows/s until every row is
      invited and every mail caught, and its ratio to (a).

This process is the load generator: it runs the raw worker, the mail catcher (a thread), the
HTTP clients, and the builders that write the approval scenario's users and package straight into
the deployment's schema (as bench/entitlement.py does in the one-process bench).
"""

import argparse
import asyncio
import itertools
import os
import time

from bench.env import configure

ENV = configure("foyer-bench-production")  # before any Foyer module reads its settings

from bench.topology import DEFAULT_POSTGRES_URL, Topology  # noqa: E402

POSTGRES_URL = os.environ.get("FOYER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
TOPOLOGY = Topology(ENV.state / "topology", POSTGRES_URL, apis=2, workers=2)
# This process reads and writes the deployment's schema and shares its key (tokens it makes for
# the approval scenario are checked by the API processes).
os.environ["FOYER_DATABASE_URL"] = TOPOLOGY.database_url
os.environ["FOYER_SECRET_KEY"] = TOPOLOGY.secret_key

import httpx  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench import entitlement, raw  # noqa: E402
from bench.devserver import process_cpu_seconds  # noqa: E402
from bench.measure import (  # noqa: E402
    Result, accounted, bounded, duplicated, heading, pct, raw_ceiling, report, table,
)
from foyer.db import get_engine  # noqa: E402


class RoundRobin:
    """An httpx-like client whose every call goes to the next API process in turn."""

    def __init__(self, http: httpx.AsyncClient, urls: list[str]):
        self.http, self.urls = http, itertools.cycle(urls)

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        return await self.http.request(method, next(self.urls) + path, **kwargs)

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)


def processes_cpu() -> float:
    """CPU seconds used so far by every API and worker process of the deployment."""
    return sum(process_cpu_seconds(service.pid) for service in [*TOPOLOGY.apis, *TOPOLOGY.workers])



async def wait_mail(expected: int, already: int, deadline: float) -> int:
    while len(TOPOLOGY.mail.message_ids(already)) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    return len(TOPOLOGY.mail.message_ids(already))


async def invitations(api: RoundRobin, admin: dict, n: int, c: int, timeout: float) -> tuple:
    failures: list[str] = []
    already = len(TOPOLOGY.mail.messages)

    async def one(i: int) -> None:
        try:
            response = await api.post("/v1.0/invitations", headers=admin, json={
                "invitedUserEmailAddress": f"guest{i:05d}-{ENV.run_id}@fabrikam.example",
                "inviteRedirectUrl": "https://app.bench.test/welcome", "invitedUserDisplayName": f"Guest {i}",
                "sendInvitationMessage": True})
        except httpx.HTTPError as error:
            failures.append(repr(error))
            return
        if response.status_code != 201:
            failures.append(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    latencies = await bounded(n, c, one)
    answered = time.perf_counter() - started
    mailed = await wait_mail(n - len(failures), already, started + timeout)
    delivered = time.perf_counter() - started
    duplicates = TOPOLOGY.mail.duplicates(already)
    note = "" if mailed == n and not failures else f" INCOMPLETE: {mailed}/{n} mailed, {len(failures)} failed"
    note += duplicated(duplicates)
    return (Result("POST /v1.0/invitations answered 201, 2 API processes", n - len(failures), answered,
                   latencies, "req/s"),
            Result("(b) invitations end to end (201 + mail accepted by SMTP), 2 API + 2 worker processes",
                   mailed, delivered, None, "inv/s", note),
            {"failures": failures, "duplicates": duplicates})


async def outbox_drained(count: int, activity_type: str, timeout: float = 60) -> None:
    """Replaces bench.entitlement.settle (which counts activities run in its own process): the
    approvers' stage mails are out once the deployment's outbox holds nothing pending."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if TOPOLOGY.sql("SELECT count(*) FROM outbox_messages WHERE state = 'pending'")[0][0] == 0:
            return
        await asyncio.sleep(0.1)


async def campaign(http: httpx.AsyncClient, admin: dict, rows: int, window: int, timeout: float) -> tuple:
    already = len(TOPOLOGY.mail.messages)
    body = {"displayName": f"bench {ENV.run_id}", "ratePerMinute": 100_000, "concurrency": window,
            "rows": [{"invitedUserEmailAddress": f"row{i:06d}-{ENV.run_id}@contoso-partner.example",
                      "inviteRedirectUrl": "https://app.bench.test/welcome", "invitedUserDisplayName": f"Row {i}",
                      "sendInvitationMessage": True} for i in range(rows)]}
    first = TOPOLOGY.apis[0].url
    started = time.perf_counter()
    response = await http.post(f"{first}/v1.0/invitationCampaigns", headers=admin, json=body, timeout=600)
    accepted = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"campaign refused: {response.status_code} {response.text[:300]}")
    campaign_id = response.json()["id"]
    deadline = started + timeout
    invited = 0
    while time.perf_counter() < deadline:
        mailed = await wait_mail(rows, already, min(deadline, time.perf_counter() + 2))
        invited = TOPOLOGY.sql("SELECT count(*) FROM campaign_rows WHERE campaign_id = %s AND state = 'invited'",
                               campaign_id)[0][0]
        if mailed >= rows and invited >= rows:
            break
    elapsed = time.perf_counter() - started
    mailed = len(TOPOLOGY.mail.message_ids(already))
    duplicates = TOPOLOGY.mail.duplicates(already)
    note = "" if mailed == rows and invited == rows else f" INCOMPLETE: {invited} invited, {mailed} mailed"
    note += duplicated(duplicates)
    return (Result(f"(g) campaign of {rows} rows end to end (POST → every row invited + mail caught)", mailed,
                   elapsed, None, "rows/s", note),
            {"accepted": accepted, "invited": invited, "duplicates": duplicates})


async def main(args: argparse.Namespace) -> None:
    n, c = args.invitations, args.concurrency
    print(f"Foyer production-topology bench: {n} invitations, {c} in flight, {args.decisions} decisions, "
          f"{args.rows} campaign rows; PostgreSQL schema {TOPOLOGY.schema}; state in {ENV.state}", flush=True)
    lines: list[str] = []
    results: list[Result] = []
    cpu_lines: list[str] = []
    async with TOPOLOGY as stack:
        server = stack.temporal
        admin = stack.token()
        urls = [api.url for api in stack.apis]
        raw_worker = Worker(server.client, task_queue=f"{ENV.task_queue}-raw", workflows=[raw.NoopWorkflow],
                            activities=[raw.noop], max_concurrent_activities=100)
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=200)) as http:
            api = RoundRobin(http, urls)
            async with raw_worker:
                print("  (a) raw ceiling …", flush=True)
                ceiling = await accounted(server, raw_ceiling(server.client, ENV, args.workflows or n, c))
            results.append(ceiling)
            print(f"    {ceiling.rate:.1f} wf/s", flush=True)

            if n:
                print("  (b) invitations …", flush=True)
                cpu = processes_cpu()
                posted, end_to_end, facts = await accounted(server, invitations(api, admin, n, c, args.timeout))
                cpu_lines.append(f"(b) {100 * (processes_cpu() - cpu) / end_to_end.seconds:.0f}%")
                results += [end_to_end, posted]
                print(f"    {end_to_end.rate:.1f} inv/s{end_to_end.note}", flush=True)
                lines += [f"- **(b)/(a) = {end_to_end.rate / ceiling.rate:.2f}** (goal ≥ 0.8; one process on "
                          f"PostgreSQL before: 0.36)",
                          f"- (b) non-201 answers {len(facts['failures'])}"
                          + (f" (first: {facts['failures'][0]})" if facts["failures"] else "")
                          + f"; messages received more than once: {len(facts['duplicates'])}"]

            if args.decisions:
                print("  (e) approver decisions …", flush=True)
                entitlement.settle = outbox_drained
                cpu = processes_cpu()
                started = time.perf_counter()
                try:
                    *made, facts = await entitlement.decisions(
                        server, api, stack.organization_id, ENV.run_id, args.decisions, c,
                        args.decision_concurrency, args.sequential_decisions, args.timeout)
                except (httpx.HTTPError, AssertionError) as error:  # reported, and the campaign still runs
                    made, facts = [], {"recorded": [], "delivered": "?", "failures": [f"phase aborted: {error!r}"]}
                cpu_lines.append(f"(e)+(f) {100 * (processes_cpu() - cpu) / (time.perf_counter() - started):.0f}%")
                results += made
                print("    " + "; ".join(f"{r.name[:40]} p95 {pct(r.latencies, 0.95):.0f} ms" for r in made), flush=True)
                for patched, live in zip(made[1::2], made[2::2]):
                    lines.append(f"- **{patched.name.removeprefix('(e) ')}: PATCH p50 {pct(patched.latencies, 0.5):.0f} "
                                 f"ms, p95 {pct(patched.latencies, 0.95):.0f} ms** (goal p95 ≤ 300 ms); "
                                 f"**live p50 {pct(live.latencies, 0.5):.0f} ms, p95 {pct(live.latencies, 0.95):.0f} "
                                 f"ms, p99 {pct(live.latencies, 0.99):.0f} ms** (goal p99 ≤ 1 s)")
                for label, recorded in facts["recorded"]:
                    lines.append(f"- (f) {label}, recorded (GroupMember.added_date_time − send time): p50 "
                                 f"{pct(recorded, 0.5):.0f} ms, p95 {pct(recorded, 0.95):.0f} ms, p99 "
                                 f"{pct(recorded, 0.99):.0f} ms")
                lines.append(f"- (e) Assignment rows delivered {facts['delivered']}/{args.decisions}; failures "
                             f"{len(facts['failures'])}" + (f" (first: {facts['failures'][0]})" if facts["failures"] else ""))

            if args.rows:
                print(f"  (g) campaign of {args.rows} rows …", flush=True)
                cpu = processes_cpu()
                row_result, facts = await accounted(server, campaign(http, admin, args.rows, args.window,
                                                                     args.campaign_timeout))
                cpu_lines.append(f"(g) {100 * (processes_cpu() - cpu) / row_result.seconds:.0f}%")
                results.append(row_result)
                print(f"    {row_result.rate:.1f} rows/s{row_result.note}", flush=True)
                lines += [f"- **(g)/(a) = {row_result.rate / ceiling.rate:.2f}** (one process on SQLite before: 0.84)",
                          f"- (g) POST answered 201 in {facts['accepted']:.1f} s; rows invited {facts['invited']}; "
                          f"messages received more than once: {len(facts['duplicates'])}"]
        outbox = stack.sql("SELECT state, count(*) FROM outbox_messages GROUP BY state ORDER BY state")
        lines.append(f"- Outbox at the end: {dict(outbox)}")
        lines.append("- CPU of the 2 API + 2 worker processes together (% of one core over the phase): "
                     + ", ".join(cpu_lines))
    await get_engine().dispose()

    header = heading("production topology, PostgreSQL")
    settings = (f"2 `foyer api` processes (uvicorn, 1 process each) and 2 `foyer worker` processes, "
                f"started as bench/topology.py starts them (the README's production recipe); PostgreSQL "
                f"(a fresh schema, synchronous_commit default); one Temporal dev server (`start-dev "
                f"--db-filename`); MailCatcher (aiosmtpd thread in the bench process). Load from this "
                f"process: real HTTP (httpx), round robin over both APIs. N={n} invitations, {c} in flight; "
                f"raw ceiling {args.workflows or n} workflows, {c} in flight; {args.decisions} approver "
                f"decisions ({min(args.sequential_decisions, args.decisions)} one at a time, the rest "
                f"{args.decision_concurrency} in flight); campaign {args.rows} rows, window {args.window}. "
                f"CPU columns: bench process / Temporal server, % of one core. 1-min load average at the "
                f"end {os.getloadavg()[0]:.1f} (other processes on the machine included)")
    report(header, settings, table(results) + [""] + lines, write=not args.no_write)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.production", description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=500, help="invitations (0: skip)")
    parser.add_argument("--workflows", type=int, default=None, help="raw-ceiling workflows (default: N)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests / workflows in flight")
    parser.add_argument("--decisions", type=int, default=100, help="approver decisions (0: skip)")
    parser.add_argument("--decision-concurrency", type=int, default=10, help="decisions in flight")
    parser.add_argument("--sequential-decisions", type=int, default=20,
                        help="of the decisions, how many are sent one at a time first")
    parser.add_argument("--rows", type=int, default=10_000, help="campaign rows (0: skip)")
    parser.add_argument("--window", type=int, default=200, help="the campaign's concurrency (rows in flight)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all mail of a phase")
    parser.add_argument("--campaign-timeout", type=float, default=3600, help="seconds to wait for the campaign")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
