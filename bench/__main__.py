"""`python -m bench` (`make bench`): Foyer's invitation throughput against the raw ceiling of the
same Temporal dev server, measured side by side in one run.

  (a) raw ceiling: NoopWorkflow (one no-op activity), started and awaited, C in flight; wf/s.
  (b) invitations end to end: POST /v1.0/invitations with sendInvitationMessage=true through the
      real FastAPI app (httpx.AsyncClient over ASGITransport, in this process), the project's
      worker, a fresh migrated SQLite DB and a real SMTP server (MailCatcher); the clock stops
      when the catcher holds every message; invitations/s.
  (c) (b)/(a); and the API overhead: POST throughput (all 201s back) vs raw client.start_workflow
      at the same concurrency (and vs the same update-with-start shape without Foyer's work).
  (d)–(f) entitlement management (bench/entitlement.py): auto-approved access requests/s and their
      ratio to (a); an approver's PATCH latency and decision → assignment live latency.

Everything runs in one process and one event loop (workers, API, client); the SMTP server runs
in its own thread (aiosmtpd); the dev server is a subprocess with a file-backed SQLite store.
"""

import argparse
import asyncio
import os
import time

from bench.env import configure

ENV = configure()  # settings are read once: fix them before any Foyer module is imported

import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402
from temporalio.client import Client, WithStartWorkflowOperation  # noqa: E402
from temporalio.common import WorkflowIDConflictPolicy  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench import entitlement, profiling, raw  # noqa: E402
from bench.devserver import dev_server  # noqa: E402
from bench.measure import (  # noqa: E402
    Result, accounted, admin_headers, bounded, duplicated, heading, raw_ceiling, report, table,
)
from foyer import migrate  # noqa: E402
from foyer.db import get_engine, session_scope  # noqa: E402
from foyer.mailcatcher import MailCatcher  # noqa: E402
from foyer.models.invitation import Invitation  # noqa: E402



# --- raw phases -------------------------------------------------------------------------------

WORKER_OPTIONS: dict = {}  # --worker-option experiments, applied to both workers


def runner_options(runner: str) -> dict:
    """Worker options for the --runner / --worker-option experiments (default: the project's)."""
    from temporalio.worker import UnsandboxedWorkflowRunner
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    options = dict(WORKER_OPTIONS)
    if runner == "unsandboxed":
        options["workflow_runner"] = UnsandboxedWorkflowRunner()
    elif runner == "passthrough":
        # Sandboxed, but the workflow modules are imported once, not re-executed per run.
        options["workflow_runner"] = SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "bench"))
    return options


def raw_worker(client: Client, runner: str) -> Worker:
    # Same worker defaults as worker.build_worker (sandboxed workflows, 100 activity slots).
    return Worker(client, task_queue=f"{ENV.task_queue}-raw",
                  workflows=[raw.NoopWorkflow, raw.NoopInviteWorkflow, raw.IdleWorkflow],
                  activities=[raw.noop], **{"max_concurrent_activities": 100, **runner_options(runner)})


async def raw_starts(client: Client, n: int, c: int) -> Result:
    handles = []

    async def one(i: int) -> None:
        handles.append(await client.start_workflow(
            raw.IdleWorkflow.run, str(i), id=f"bench-start-{ENV.run_id}-{i}",
            task_queue=f"{ENV.task_queue}-raw"))

    started = time.perf_counter()
    latencies = await bounded(n, c, one)
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(h.result() for h in handles))  # drain before the next phase
    return Result("raw client.start_workflow (starts only, workflow returns at once)", n, elapsed,
                  latencies, "starts/s")



async def raw_invite_shape(client: Client, n: int, c: int) -> tuple[Result, Result]:
    """Update-with-start → update runs a no-op activity → main loop runs another → done."""
    handles = []

    async def one(i: int) -> None:
        workflow_id = f"bench-shape-{ENV.run_id}-{i}"
        operation = WithStartWorkflowOperation(
            raw.NoopInviteWorkflow.run, str(i), id=workflow_id, task_queue=f"{ENV.task_queue}-raw",
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        await client.execute_update_with_start_workflow(
            raw.NoopInviteWorkflow.invite, str(i), start_workflow_operation=operation)
        handles.append(client.get_workflow_handle(workflow_id))

    started = time.perf_counter()
    latencies = await bounded(n, c, one)
    answered = time.perf_counter() - started
    await asyncio.gather(*(h.result() for h in handles))
    done = time.perf_counter() - started
    return (Result("raw update-with-start answered (no DB/SMTP/API)", n, answered, latencies, "/s"),
            Result("raw invitation shape end to end (2 no-op activities)", n, done, None, "wf/s"))


# --- invitations ------------------------------------------------------------------------------

def invitee(i: int) -> str:
    return f"guest{i:05d}-{ENV.run_id}@fabrikam.example"


async def invitations(client: Client, catcher: MailCatcher, organization_id: str, n: int, c: int,
                      timeout: float, runner: str) -> tuple[Result, Result, dict]:
    from foyer.api.main import create_app
    from foyer.worker import build_worker

    headers = await admin_headers(organization_id)
    app = create_app(temporal_client=client)
    failures: list[str] = []
    already = len(catcher.messages)

    async with build_worker(client, interceptors=[profiling.TimingInterceptor()],
                            **runner_options(runner)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bench.test", timeout=120) as api:
            async def one(i: int) -> None:
                response = await api.post("/v1.0/invitations", headers=headers, json={
                    "invitedUserEmailAddress": invitee(i),
                    "inviteRedirectUrl": "https://app.bench.test/welcome",
                    "invitedUserDisplayName": f"Guest {i}", "sendInvitationMessage": True,
                })
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")

            profiling.reset()
            started = time.perf_counter()
            latencies = await bounded(n, c, one)
            answered = time.perf_counter() - started
            deadline = started + timeout
            # Counted by Message-ID (one per outbox message): a message sent twice counts once
            # here and shows below as a failure, never as one more mail caught.
            expected = n - len(failures)
            while len(catcher.message_ids(already)) < expected and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
            delivered = time.perf_counter() - started
            mailed = len(catcher.message_ids(already))
            # Let the last mail activities mark their rows sent before the worker shuts down.
            settle = time.perf_counter() + 30
            while (len(profiling.SPANS.get("activity run: send_invitation_mail", [])) < n - len(failures)
                   and time.perf_counter() < settle):
                await asyncio.sleep(0.05)

    async with session_scope() as session:
        rows = (await session.exec(select(func.count()).select_from(Invitation))).one()
    duplicates = catcher.duplicates(already)
    facts = {"failures": failures, "mailed": mailed, "rows": rows, "duplicates": duplicates}
    note = "" if mailed == n and not failures else f" INCOMPLETE: {mailed}/{n} mailed, {len(failures)} failed"
    note += duplicated(duplicates)
    return (Result("POST /v1.0/invitations answered 201 (guest row written)", n - len(failures),
                   answered, latencies, "req/s"),
            Result("(b) invitations end to end (201 + mail accepted by SMTP)", mailed, delivered,
                   None, "inv/s", note), facts)


async def smtp_micro(port: int, n: int) -> tuple[float, float]:
    """Messages/s to the same catcher: a new connection per message (what mail.deliver does)
    vs one reused connection."""
    import aiosmtplib
    from email.message import EmailMessage

    def message(i: int) -> EmailMessage:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "bench@bench.test", f"m{i}@fabrikam.example", f"micro {i}"
        m.set_content("x" * 2000)
        return m

    started = time.perf_counter()
    for i in range(n):
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            await smtp.send_message(message(i))
    per_message = n / (time.perf_counter() - started)
    started = time.perf_counter()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
        for i in range(n):
            await smtp.send_message(message(i))
    reused = n / (time.perf_counter() - started)
    return per_message, reused


# --- report -----------------------------------------------------------------------------------

def sample(n: int, k: int = 40) -> list[int]:
    return sorted({i * n // k for i in range(k)})


async def main(args: argparse.Namespace) -> None:
    n, c = args.invitations, args.concurrency
    for option in args.worker_option:
        key, _, value = option.partition("=")
        WORKER_OPTIONS[key] = int(value)
    n_raw = args.workflows or n
    n_starts = args.starts or n
    print(f"Foyer bench: {n} invitations, {n_raw} raw workflows, {n_starts} raw starts, "
          f"{args.requests} access requests, {args.decisions} decisions, "
          f"{c} in flight; state in {ENV.state}", flush=True)
    organization_id = migrate.upgrade(ENV.database_url)
    catcher = MailCatcher(port=ENV.smtp_port).start()
    profiling.instrument()
    shape_answered = shape_done = None
    try:
        async with dev_server(ENV.state, ENV.temporal_port, *args.server_arg) as server:
            client = server.client
            async with raw_worker(client, args.runner):
                print("  raw start_workflow …", flush=True)
                starts = await accounted(server, raw_starts(client, n_starts, c))
                print("  (a) raw ceiling …", flush=True)
                ceiling = await accounted(server, raw_ceiling(client, ENV, n_raw, c))
                raw_steps = await profiling.sample_histories(
                    client, [f"bench-noop-{ENV.run_id}-{i}" for i in sample(n_raw)])
                if args.shape:
                    print("  raw update-with-start shape …", flush=True)
                    shape_answered, shape_done = await accounted(
                        server, raw_invite_shape(client, n_raw, c))
            print("  (b) invitations end to end …", flush=True)
            profiler = None
            if args.cprofile:
                import cProfile
                profiler = cProfile.Profile()
                profiler.enable()
            posted, end_to_end, facts = await accounted(
                server, invitations(client, catcher, organization_id, n, c, args.timeout, args.runner))
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.cprofile)
                print(f"  cProfile of the invitation phase written to {args.cprofile}")
            spans = profiling.summary()  # before the SMTP micro-bench adds its own calls
            counts = dict(profiling.COUNTS)
            from foyer.workflows.messages import invitation_workflow_id
            invitation_steps = await profiling.sample_histories(
                client, [invitation_workflow_id(organization_id, invitee(i)) for i in sample(n)])
            entitlement_rows, entitlement_lines = await entitlement.run(
                server, organization_id, ENV.run_id, requests=args.requests, decisions_n=args.decisions,
                concurrency=c, decide_concurrency=args.decision_concurrency,
                sequential=args.sequential_decisions, timeout=args.timeout,
                ceiling=ceiling, worker_options=runner_options(args.runner))
        smtp_rates = await smtp_micro(ENV.smtp_port, args.smtp_micro) if args.smtp_micro else None
    finally:
        catcher.stop()
        await get_engine().dispose()

    results = [ceiling, end_to_end, starts, posted]
    if shape_answered:
        results += [shape_answered, shape_done]
    results += entitlement_rows
    ratio = end_to_end.rate / ceiling.rate
    overhead = posted.rate / starts.rate
    lines = table(results)
    lines += ["", f"- **(c) ratio (b)/(a) = {ratio:.2f}** (target ≥ 0.8)",
              f"- API overhead: POST 201 throughput / raw start_workflow = {overhead:.2f} (target ≥ 0.7)"]
    if shape_answered:
        lines.append(f"- POST 201 throughput / raw update-with-start (same Temporal round trip) = "
                     f"{posted.rate / shape_answered.rate:.2f}; (b) / raw invitation shape = "
                     f"{end_to_end.rate / shape_done.rate:.2f}")
    lines.append(f"- Invitation rows in the database: {facts['rows']}; mails caught: {facts['mailed']} distinct "
                 f"Message-IDs, {len(facts['duplicates'])} received more than once; "
                 f"non-201 answers: {len(facts['failures'])}"
                 + (f" (first: {facts['failures'][0]})" if facts["failures"] else ""))
    lines += entitlement_lines
    if smtp_rates:
        lines.append(f"- SMTP alone ({args.smtp_micro} msgs to the same catcher): new connection per "
                     f"message {smtp_rates[0]:.0f} msg/s, one reused connection {smtp_rates[1]:.0f} msg/s")
    lines += ["", "Where the invitation phase spent its time (wall clock per call, overlapping; "
              "50 in flight):", "", "| span | count | total s | mean ms | p50 ms | p95 ms |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, count, total, mean, p50, p95 in spans:
        lines.append(f"| {name} | {count} | {total:.1f} | {mean:.1f} | {p50:.1f} | {p95:.1f} |")
    lines.append(f"| activity retries / failures | {sum(counts.values())} | | | | |")
    for name, count in sorted(counts.items()):
        lines.append(f"| {name} | {count} | | | | |")
    lines += ["", "Server-side step timings from the histories of 40 sampled runs per phase:", "",
              "| phase | step | mean ms | p95 ms | count |", "|---|---|---:|---:|---:|"]
    for phase, rows in (("(a) raw", raw_steps), ("(b) invitations", invitation_steps)):
        for name, mean, p95, count in rows:
            if name == "workflow tasks per run":
                lines.append(f"| {phase} | {name} | {mean:.1f} (not ms) | | {count} |")
            else:
                lines.append(f"| {phase} | {name} | {1000 * mean:.0f} | {1000 * p95:.0f} | {count} |")

    header = heading("")
    settings = (f"N={n} invitations, {n_raw} raw workflows, {n_starts} raw starts, {c} in flight; "
                f"{args.requests} auto-approved access requests ({c} in flight), {args.decisions} "
                f"approver decisions ({min(args.sequential_decisions, args.decisions)} one at a time, "
                f"the rest {args.decision_concurrency} in flight); "
                f"httpx.AsyncClient over "
                f"ASGITransport (no socket) into create_app(); worker.build_worker in the same process "
                f"and event loop; database {ENV.database_label}; "
                f"MailCatcher (aiosmtpd thread); dev server `start-dev --db-filename`"
                + (f" {' '.join(args.server_arg)}" if args.server_arg else "")
                + (f"; EXPERIMENT: workers use the {args.runner} workflow runner"
                   if args.runner != "sandboxed" else "")
                + (f"; EXPERIMENT: worker options {WORKER_OPTIONS}" if WORKER_OPTIONS else "")
                + f". CPU columns: % of one core over the phase (load from other processes on the "
                f"machine during the run: {os.getloadavg()[0]:.1f} 1-min load average at the end)")
    report(header, settings, lines, write=not args.no_write)
    if facts["duplicates"]:
        raise SystemExit(f"FAILED: {len(facts['duplicates'])} invitation mails reached the SMTP server "
                         "more than once")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=500,
                        help="invitations to send, N (default 500: a full run in ~3 minutes on 2 "
                             "cores; the targets are stated for 1000)")
    parser.add_argument("--workflows", type=int, default=None,
                        help="workflows in the raw ceiling phase (default: N)")
    parser.add_argument("--starts", type=int, default=None,
                        help="client.start_workflow calls in the API-overhead phase (default: N)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests / workflows in flight")
    parser.add_argument("--requests", type=int, default=300,
                        help="auto-approved access requests, each by its own guest (0: skip)")
    parser.add_argument("--decisions", type=int, default=100,
                        help="requests an approver decides through the API (0: skip)")
    parser.add_argument("--decision-concurrency", type=int, default=10, help="decisions in flight")
    parser.add_argument("--sequential-decisions", type=int, default=20,
                        help="of the decisions, how many are sent one at a time first (default 20)")
    parser.add_argument("--shape", action="store_true",
                        help="also run the invitation's Temporal shape with no-op activities "
                             "(update-with-start, 2 activities), to split Temporal from Foyer cost")
    parser.add_argument("--smtp-micro", type=int, default=200,
                        help="messages for the SMTP connection micro-benchmark (0: skip)")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra argument for `temporal server start-dev` (repeatable), e.g. "
                             "--server-arg=--sqlite-pragma --server-arg=synchronous=NORMAL")
    parser.add_argument("--runner", choices=["sandboxed", "passthrough", "unsandboxed"],
                        default="sandboxed",
                        help="experiment: workflow runner of both workers (default: the project's, "
                             "sandboxed; passthrough: sandboxed but workflow modules passed through)")
    parser.add_argument("--worker-option", action="append", default=[], metavar="KEY=INT",
                        help="experiment: integer Worker option for both workers, e.g. "
                             "max_concurrent_workflow_task_polls=20")
    parser.add_argument("--cprofile", metavar="FILE", help="cProfile the invitation phase into FILE")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=ENV.database,
                        help="Foyer's database: a fresh SQLite file (default), or a fresh schema on "
                             "FOYER_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test), "
                             "dropped at the end; FOYER_BENCH_DATABASE sets the default (bench/env.py)")
    parser.add_argument("--keep-schema", action="store_true",
                        help="with --database postgres: keep the run's schema afterwards")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all mail")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
