"""`python -m bench.observability` (run by `make bench`): what metrics and tracing cost. The
invitation figure of `python -m bench` — POST /v1.0/invitations through the real app, the
project's worker, SQLite, a real SMTP server, the clock stopped when every mail is accepted —
measured with observability OFF and ON in the same run, alternately, each round in a fresh child
process (tracing is set up once per process and cannot be taken back), each child with its own
dev server, database and mail catcher:

  OFF: FOYER_METRICS_ENABLED=false, no OTLP endpoint: no /metrics instrumentator, no tracing.
  ON:  FOYER_METRICS_ENABLED=true (the HTTP instrumentator on every request), the worker's SDK
       metrics served on FOYER_WORKER_METRICS_ADDRESS and scraped every 5 s as Prometheus would,
       and tracing on (FastAPI, httpx, SQLAlchemy, Temporal interceptor) exporting every span over
       OTLP/HTTP to a local receiver that decodes and drops them.
  SAMPLED (with --sampled RATIO, default 0.1): ON, but with the standard head sampler
       OTEL_TRACES_SAMPLER=parentbased_traceidratio, so only that share of traces is recorded.

Prints (and appends to bench/RESULTS.md) both figures per round and ON/OFF; the goal is ON no
more than 5 % slower. Timings are noisy on a shared machine: see the load average printed.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

RESULT = "OBSERVABILITY-RESULT "


async def child(mode: str, n: int, c: int, timeout: float) -> dict:
    from bench import __main__ as bench  # fixes this process's settings (bench.env.configure)
    from bench.devserver import dev_server
    from foyer import migrate, tracing
    from foyer.db import get_engine
    from foyer.mailcatcher import MailCatcher
    from foyer.temporal import connect_client, worker_runtime

    import httpx

    on = tracing.setup("foyer-bench")
    assert on == (mode != "off"), f"tracing {'on' if on else 'off'} in the {mode} round"
    organization_id = migrate.upgrade(bench.ENV.database_url)
    catcher = MailCatcher(port=bench.ENV.smtp_port).start()
    bench.profiling.instrument()
    address = os.environ.get("FOYER_WORKER_METRICS_ADDRESS")
    scrapes = 0

    async def scrape() -> None:
        nonlocal scrapes
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                await asyncio.sleep(5)
                if (await http.get(f"http://{address}/metrics")).status_code == 200:
                    scrapes += 1

    try:
        async with dev_server(bench.ENV.state, bench.ENV.temporal_port):
            # The way `foyer worker` connects: the SDK metrics runtime when ON, the tracing
            # interceptor when tracing is on.
            client = await connect_client(runtime=worker_runtime())
            scraper = asyncio.create_task(scrape()) if address else None
            started = time.process_time()
            posted, end_to_end, facts = await bench.invitations(
                client, catcher, organization_id, n, c, timeout, "sandboxed")
            cpu = time.process_time() - started
            if scraper:
                scraper.cancel()
    finally:
        catcher.stop()
        await get_engine().dispose()
    tracing.shutdown()
    return {"mode": mode, "posted": posted.rate, "end_to_end": end_to_end.rate, "seconds": end_to_end.seconds,
            "mailed": facts["mailed"], "failures": len(facts["failures"]), "duplicates": len(facts["duplicates"]),
            "p50": sorted(posted.latencies)[len(posted.latencies) // 2] * 1000 if posted.latencies else None,
            "cpu": cpu, "scrapes": scrapes}


def run_round(mode: str, args: argparse.Namespace, endpoint: str) -> dict:
    from bench.env import free_port

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OTEL_") and k not in ("FOYER_OTLP_ENDPOINT", "FOYER_WORKER_METRICS_ADDRESS")}
    if mode in ("on", "sampled"):
        env.update(FOYER_METRICS_ENABLED="true", FOYER_OTLP_ENDPOINT=endpoint,
                   FOYER_WORKER_METRICS_ADDRESS=f"127.0.0.1:{free_port()}")
    if mode == "sampled":
        env.update(OTEL_TRACES_SAMPLER="parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG=str(args.sampled))
    else:
        env.update(FOYER_METRICS_ENABLED="false")
    command = [sys.executable, "-m", "bench.observability", "--child", mode, "--invitations", str(args.invitations),
               "--concurrency", str(args.concurrency), "--timeout", str(args.timeout)]
    print(f"  {mode} …", flush=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout + 300)
    line = next((line for line in result.stdout.splitlines() if line.startswith(RESULT)), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"the {mode} round failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                         f"{result.stderr[-3000:]}")
    return json.loads(line.removeprefix(RESULT))


def main(args: argparse.Namespace) -> None:
    from bench.measure import heading, report
    from tests.otlp_receiver import OtlpReceiver

    rounds: list[dict] = []
    print(f"Observability overhead: {args.invitations} invitations, {args.concurrency} in flight, "
          f"{args.rounds} round(s) of OFF, ON" + (f", SAMPLED ({args.sampled:g})" if args.sampled else ""), flush=True)
    with OtlpReceiver(keep=False) as receiver:
        modes = ("off", "on", "sampled") if args.sampled else ("off", "on")
        for _ in range(args.rounds):
            for mode in modes:
                rounds.append(run_round(mode, args, receiver.endpoint))
        exports = receiver.requests
    lines = ["| round | observability | (b) invitations end to end | POST 201 rate | POST p50 ms | "
             "bench CPU s | mails | non-201 | sent twice | SDK metrics scrapes |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for index, r in enumerate(rounds):
        lines.append(f"| {index // len(modes) + 1} | {r['mode'].upper()} | {r['end_to_end']:.1f} inv/s | {r['posted']:.1f} req/s "
                     f"| {r['p50']:.0f} | {r['cpu']:.1f} | {r['mailed']} | {r['failures']} | {r['duplicates']} "
                     f"| {r['scrapes']} |")
    def mean(mode: str, key: str) -> float:
        return sum(r[key] for r in rounds if r["mode"] == mode) / args.rounds

    lines.append("")
    broken = [r["mode"] for r in rounds if r["failures"] or r["mailed"] < args.invitations or r["duplicates"]]
    if broken:
        lines.append(f"- **NOT COMPARABLE**: round(s) {', '.join(broken)} did not deliver every invitation once "
                     "(non-201 answers, missing or duplicate mail): the ratios below compare unlike work")
    for mode in modes[1:]:
        lines.append(f"- **{mode.upper()}/OFF = {mean(mode, 'end_to_end') / mean('off', 'end_to_end'):.2f}** "
                     f"(invitations end to end, mean over {args.rounds} round(s); goal ≥ 0.95, i.e. at most 5 % "
                     f"slower); CPU of the bench process (API + worker) per invitation "
                     f"{mode.upper()}/OFF = {mean(mode, 'cpu') / mean('off', 'cpu'):.2f}")
    lines.append(f"- OTLP export requests received during the ON and SAMPLED rounds: {exports}")
    settings = (f"N={args.invitations} invitations, {args.concurrency} in flight, as `python -m bench` phase (b), "
                f"each round in its own process with its own dev server and SQLite file; OFF = "
                f"FOYER_METRICS_ENABLED=false, no tracing; ON = /metrics instrumentator + SDK metrics scraped "
                f"every 5 s + tracing (FastAPI, httpx, SQLAlchemy, Temporal) exported over OTLP/HTTP to a "
                f"local receiver; SAMPLED = ON with OTEL_TRACES_SAMPLER=parentbased_traceidratio at {args.sampled:g}. "
                f"1-min load average at the end: {os.getloadavg()[0]:.1f}")
    report(heading("observability overhead"), settings, lines, write=not args.no_write)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.observability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=300, help="invitations per round (default 300)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=2, help="OFF/ON(/SAMPLED) rounds (default 2)")
    parser.add_argument("--sampled", type=float, default=0.1, metavar="RATIO",
                        help="also a SAMPLED round per round, recording this share of traces (0: none)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all mail")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--child", choices=["on", "off", "sampled"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    if arguments.child:
        outcome = asyncio.run(child(arguments.child, arguments.invitations, arguments.concurrency, arguments.timeout))
        print(RESULT + json.dumps(outcome), flush=True)
    else:
        main(arguments)
