"""`python -m bench.campaign` (part of `make bench`): a bulk onboarding campaign of N rows (10,000
by default) against the raw ceiling of the same Temporal dev server, measured in the same run
with the same worker process.

  (a) raw ceiling: NoopWorkflow (one no-op activity), started and awaited, C in flight; wf/s.
  (b) campaign end to end: the clock starts before `POST /v1.0/invitationCampaigns` (JSON rows,
      through the real FastAPI app) and stops when every row is invited (guest written) and the
      real SMTP server (MailCatcher) holds every invitation mail; rows/s.
  (c) (b)/(a), the worker's resident memory as the rows grow, and history hygiene: the events of
      every run of the campaign workflow and the children it keeps pending.

The worker (Foyer's, plus the raw workflow) runs in its own process (bench/campaign_worker.py);
the API, the SMTP server and this driver share the bench process; the dev server is file-backed.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.env import configure

ENV = configure("foyer-bench-campaign")  # before any Foyer module reads its settings

import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.devserver import dev_server, process_cpu_seconds  # noqa: E402
from bench.measure import (  # noqa: E402
    Result, accounted, admin_headers, duplicated, heading, raw_ceiling, report, table,
)
from foyer import migrate  # noqa: E402
from foyer.db import get_engine, reading  # noqa: E402
from foyer.mailcatcher import MailCatcher  # noqa: E402
from foyer.models.campaign import CampaignRow  # noqa: E402
from foyer.models.outbox import OutboxMessage  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class WorkerProcess:
    def __init__(self) -> None:
        self.log = ENV.state / "worker.log"
        self.process: subprocess.Popen | None = None

    async def __aenter__(self) -> "WorkerProcess":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bench.campaign_worker"], cwd=PROJECT_ROOT,
                                            env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while "worker polling" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bench worker did not start; see {self.log}")
            await asyncio.sleep(0.2)
        return self

    async def __aexit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)



async def invited_rows(campaign_id: str) -> int:
    async with reading() as session:
        return (await session.exec(select(func.count()).select_from(CampaignRow).where(
            CampaignRow.campaign_id == campaign_id, CampaignRow.state == "invited"))).one()


async def campaign(client, catcher: MailCatcher, worker: WorkerProcess, organization_id: str, n: int,
                   concurrency: int, timeout: float) -> tuple[Result, Result, dict]:
    from foyer.api.main import create_app

    headers = await admin_headers(organization_id)
    rows = [{"invitedUserEmailAddress": f"row{i:06d}-{ENV.run_id}@contoso-partner.example",
             "inviteRedirectUrl": "https://app.bench.test/welcome", "invitedUserDisplayName": f"Row {i}",
             "sendInvitationMessage": True} for i in range(n)]
    already = len(catcher.messages)
    samples: list[tuple[float, int, float]] = []  # (seconds, rows mailed, worker RSS MiB)
    app = create_app(temporal_client=client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench.test",
                                 timeout=600) as api:
        started = time.perf_counter()
        response = await api.post("/v1.0/invitationCampaigns", headers=headers, json={
            "displayName": f"bench {ENV.run_id}", "rows": rows, "ratePerMinute": 100_000,
            "concurrency": concurrency})
        accepted = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"campaign refused: {response.status_code} {response.text[:300]}")
        campaign_id = response.json()["id"]
        deadline = started + timeout
        while time.perf_counter() < deadline:
            mailed = len(catcher.message_ids(already))  # by Message-ID: a duplicate is not one more
            samples.append((time.perf_counter() - started, mailed, rss_mib(worker.pid)))
            if mailed >= n and await invited_rows(campaign_id) >= n:
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        for _ in range(60):  # the workflow marks the campaign completed just after its last row
            status = (await api.get(f"/v1.0/invitationCampaigns/{campaign_id}", headers=headers)).json()
            if status.get("state") == "completed":
                break
            await asyncio.sleep(0.5)
    mailed = len(catcher.message_ids(already))
    duplicates = catcher.duplicates(already)
    recipients = [r for m in catcher.messages[already:] for r in m.recipients]
    async with reading() as session:
        outbox_sent = (await session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.state == "sent"))).one()
    facts = {"campaign_id": campaign_id, "accepted": accepted, "mailed": mailed,
             "distinct": len(set(recipients)), "invited": await invited_rows(campaign_id),
             "status": status, "samples": samples, "outbox_sent": outbox_sent, "duplicates": duplicates}
    note = "" if mailed == n and facts["distinct"] == n else f" INCOMPLETE: {mailed} mails, {facts['distinct']} addresses"
    note += duplicated(duplicates)
    return (Result("(b) campaign end to end (POST → every guest written + mail accepted by SMTP)", mailed,
                   elapsed, None, "rows/s", note),
            Result("    of which: rows after the POST answered (validation + row insert excluded)", mailed,
                   elapsed - accepted, None, "rows/s"), facts)


async def history_hygiene(client, campaign_id: str) -> tuple[int, int, int]:
    """(runs, most events in one run, most pending children in one run) of the campaign workflow."""
    runs, most_events, most_children = 0, 0, 0
    async for execution in client.list_workflows(f'WorkflowId = "campaign:{campaign_id}"'):
        runs += 1
        most_events = max(most_events, execution.history_length or 0)
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        described = await handle.describe()
        most_children = max(most_children, len(described.raw_description.pending_children))
    return runs, most_events, most_children


def rss_at(samples: list[tuple[float, int, float]], fraction: float, n: int) -> float:
    for _, mailed, rss in samples:
        if mailed >= fraction * n:
            return rss
    return samples[-1][2]


async def main(args: argparse.Namespace) -> None:
    n, c = args.rows, args.concurrency
    print(f"Foyer campaign bench: {n} rows, {args.workflows} raw workflows ({c} in flight), campaign "
          f"window {args.window} rows; state in {ENV.state}", flush=True)
    organization_id = migrate.upgrade(ENV.database_url)
    catcher = MailCatcher(port=ENV.smtp_port).start()
    try:
        async with dev_server(ENV.state, ENV.temporal_port) as server, WorkerProcess() as worker:
            client = server.client
            idle_rss = rss_mib(worker.pid)
            print("  (a) raw ceiling …", flush=True)
            cpu = worker.cpu_seconds()
            ceiling = await accounted(server, raw_ceiling(client, ENV, args.workflows, c))
            ceiling_worker_cpu = worker.cpu_seconds() - cpu
            print("  (b) campaign …", flush=True)
            cpu = worker.cpu_seconds()
            end_to_end, after_post, facts = await accounted(
                server, campaign(client, catcher, worker, organization_id, n, args.window, args.timeout))
            campaign_worker_cpu = worker.cpu_seconds() - cpu
            runs, most_events, most_children = await history_hygiene(client, facts["campaign_id"])
            await asyncio.sleep(5)
            settled_rss = rss_mib(worker.pid)
    finally:
        catcher.stop()
        await get_engine().dispose()

    samples = facts["samples"]
    peak = max(rss for _, _, rss in samples)
    ratio = end_to_end.rate / ceiling.rate
    lines = table([ceiling, end_to_end, after_post])
    lines += [
        "",
        f"- **(c) ratio (b)/(a) = {ratio:.2f}** (target ≥ 0.8); rows after the POST / (a) = "
        f"{after_post.rate / ceiling.rate:.2f}. Anchors: Entra's portal bulk invite ≈ 14 rows/s; its "
        f"invitation API allows 30 requests/s per tenant.",
        f"- Campaign POST answered 201 in {facts['accepted']:.1f} s ({n} rows validated and stored); "
        f"final state {facts['status'].get('state')}; rows invited {facts['invited']}; mails caught "
        f"{facts['mailed']} (distinct Message-IDs; {len(facts['duplicates'])} received more than once) to "
        f"{facts['distinct']} distinct addresses; outbox rows sent {facts['outbox_sent']}.",
        f"- Worker process CPU: {100 * ceiling_worker_cpu / ceiling.seconds:.0f}% of a core in (a), "
        f"{100 * campaign_worker_cpu / end_to_end.seconds:.0f}% in (b).",
        f"- Worker RSS (MiB): idle {idle_rss:.0f}; after (a) and at 10% / 50% / 100% of the rows "
        f"{rss_at(samples, 0.0, n):.0f} / {rss_at(samples, 0.1, n):.0f} / {rss_at(samples, 0.5, n):.0f} / "
        f"{rss_at(samples, 1.0, n):.0f}; peak {peak:.0f}; 5 s after the end {settled_rss:.0f}.",
        f"- History hygiene: the campaign workflow ran as {runs} runs; most events in one run "
        f"{most_events} (limit 4,096); most pending children {most_children} (limit 500; rows' "
        f"InvitationWorkflows are started by activities, not as children).",
    ]
    header = heading("campaign")
    settings = (f"{n} rows (JSON body; every row new to the directory, sendInvitationMessage true), "
                f"campaign window {args.window} rows in flight, ratePerMinute 100,000 (the send-rate "
                f"limit is not what is measured); raw ceiling {args.workflows} workflows, {c} in "
                f"flight; one worker process for both phases; MailCatcher (aiosmtpd) and the API "
                f"(httpx over ASGITransport) in the bench process; database {ENV.database_label}; 1-min load average at the end "
                f"{os.getloadavg()[0]:.1f}")
    report(header, settings, lines, write=not args.no_write)
    if facts["duplicates"]:
        raise SystemExit(f"FAILED: {len(facts['duplicates'])} campaign mails reached the SMTP server more than once")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="campaign rows (default 10,000)")
    parser.add_argument("--workflows", type=int, default=2_000, help="raw-ceiling workflows (default 2,000)")
    parser.add_argument("--concurrency", type=int, default=50, help="raw workflows in flight")
    parser.add_argument("--window", type=int, default=200, help="the campaign's concurrency (rows in flight)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the campaign")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=ENV.database,
                        help="Foyer's database (see bench/env.py; read before this parser runs)")
    parser.add_argument("--keep-schema", action="store_true",
                        help="with --database postgres: keep the run's schema afterwards")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
