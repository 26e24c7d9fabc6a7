"""Measuring helpers shared by the bench phases: bounded concurrency, percentiles, a result row
with the CPU spent meanwhile, and the Markdown table the results are printed and appended as."""

import asyncio
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.devserver import DevServer

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def duplicated(duplicates: dict[str, int]) -> str:
    """The note that fails a phase whose SMTP server received some message more than once
    (`duplicates` from MailCatcher.duplicates: Message-ID → times received)."""
    if not duplicates:
        return ""
    return (f" FAILED: {len(duplicates)} messages received more than once "
            f"({sum(duplicates.values()) - len(duplicates)} extra sends)")


async def bounded(n: int, concurrency: int, one) -> list[float]:
    """Run one(i) for i in range(n), `concurrency` at a time; returns each call's latency."""
    latencies: list[float] = []
    next_index = iter(range(n))

    async def lane() -> None:
        for i in next_index:
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


class Result:
    def __init__(self, name: str, n: int, seconds: float, latencies: list[float] | None = None,
                 unit: str = "/s", note: str = ""):
        self.name, self.n, self.seconds, self.unit, self.note = name, n, seconds, unit, note
        self.latencies = latencies or []
        self.cpu: tuple[float, float] | None = None  # (bench process, dev server) CPU seconds

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else float("nan")


def cpu_mark(server: DevServer) -> tuple[float, float]:
    """CPU seconds used so far by the bench process and by the server."""
    return time.process_time(), server.cpu_seconds()


def cpu_since(server: DevServer, mark: tuple[float, float]) -> tuple[float, float]:
    now = cpu_mark(server)
    return now[0] - mark[0], now[1] - mark[1]


async def accounted(server: DevServer, phase):
    """Run a phase; attach the CPU the bench process and the server used meanwhile (to every
    Result it returns that has none of its own yet)."""
    mark = cpu_mark(server)
    results = await phase
    spent = cpu_since(server, mark)
    for result in results if isinstance(results, tuple) else (results,):
        if isinstance(result, Result) and result.cpu is None:
            result.cpu = spent
    return results


def table(results: list[Result]) -> list[str]:
    lines = ["| measurement | n | seconds | rate | p50 ms | p95 ms | CPU bench / server |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        p50 = f"{pct(r.latencies, 0.5):.0f}" if r.latencies else ""
        p95 = f"{pct(r.latencies, 0.95):.0f}" if r.latencies else ""
        cpu = f"{100 * r.cpu[0] / r.seconds:.0f}% / {100 * r.cpu[1] / r.seconds:.0f}%" if r.cpu else ""
        lines.append(f"| {r.name}{r.note} | {r.n} | {r.seconds:.1f} | {r.rate:.1f} {r.unit} | {p50} "
                     f"| {p95} | {cpu} |")
    return lines


async def admin_headers(organization_id: str) -> dict:
    from foyer.models.enums import Role
    from tests.factories import make_token

    return await make_token(organization_id, Role.global_administrator, name="Bench Admin")


def machine() -> str:
    temporal = "?"
    try:
        import subprocess
        from foyer.temporal import bundled_binary
        temporal = subprocess.run([bundled_binary("temporal"), "--version"], capture_output=True,
                                  text=True, timeout=10).stdout.strip()
    except Exception:
        pass
    return (f"nproc {os.cpu_count()}, Python {platform.python_version()} ({sys.platform}), "
            f"{platform.machine()}, {temporal}")


def heading(phase: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"### {stamp} — {phase + ' — ' if phase else ''}{machine()}"


def report(header: str, settings: str, lines: list[str], write: bool) -> None:
    """Print a run's results and append them to bench/RESULTS.md."""
    print(f"\n{header}\n{settings}\n\n" + "\n".join(lines))
    if write:
        if not RESULTS.exists():
            RESULTS.write_text("# Foyer bench results\n\nAppended by `make bench`.\n\n## Runs\n")
        with RESULTS.open("a") as out:
            out.write(f"\n{header}\n\n{settings}\n\n" + "\n".join(lines) + "\n")
        print(f"\nappended to {RESULTS}")


async def raw_ceiling(client, env, n: int, c: int) -> Result:
    """(a) of every bench: NoopWorkflow (one no-op activity) started and awaited, `c` in flight, on
    the raw task queue of `env` (bench.env.BenchEnv) of the same server; wf/s."""
    from bench import raw

    async def one(i: int) -> None:
        await client.execute_workflow(raw.NoopWorkflow.run, str(i), id=f"bench-noop-{env.run_id}-{i}",
                                      task_queue=f"{env.task_queue}-raw")

    started = time.perf_counter()
    latencies = await bounded(n, c, one)
    return Result("(a) raw ceiling: 1 no-op activity, start+await", n, time.perf_counter() - started,
                  latencies, "wf/s")
