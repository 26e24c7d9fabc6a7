"""`python -m bench.openid [--database postgres]` (`make bench` runs it on SQLite and on
PostgreSQL): the OpenID Provider's hot path, measured side by side in one run against the signing
ceiling of the same server process.

One `foyer api`-like uvicorn process (bench/openid_server.py: Foyer's app plus a bare route that
only signs the same two JWTs with the same key) on a fresh migrated database; this process drives
it over real HTTP on 127.0.0.1 with 50 clients in flight:

  (a) code → tokens: each lane gets codes from /authorize with a Foyer session cookie (not
      timed), then exchanges each at /token (client_secret_basic, PKCE S256); p50/p95 of the
      exchange;
  (a1) the same exchange one at a time: its service time without queueing;
  (b) refresh grants/s through the whole token endpoint (client authentication, rotation, the
      app-access check, the sign-in log row, signing), each lane rotating its own family;
  (c) the bare signing route at the same concurrency, same process: the ceiling; (b)/(c);
  (d) the authorize step one at a time with no Conditional Access policy, then with 10 to
      evaluate (the organization's policies are read and evaluated at every sign-in).
  Then: sign-in log rows written = sign-ins made (each code exchange and each refresh is one).
No Temporal is involved: the token endpoint is plain HTTP + database.
"""

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from bench.env import configure, free_port

ENV = configure("foyer-bench-openid")
PORT = free_port()
os.environ["FOYER_PUBLIC_URL"] = f"http://127.0.0.1:{PORT}"

import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.measure import Result, bounded, heading, pct, report, table  # noqa: E402
from foyer import migrate, sessions  # noqa: E402
from foyer.db import session_scope  # noqa: E402
from foyer.models.conditional_access import ConditionalAccessPolicy  # noqa: E402
from foyer.models.directory import Application, AppRoleAssignment, User  # noqa: E402
from foyer.models.openid import SignInLog  # noqa: E402
from foyer.usecases.openid_clients import new_client_secret, secret_hint  # noqa: E402
from tests.factories import user_row  # noqa: E402
from tests.openid_support import pkce_pair  # noqa: E402

REDIRECT_URI = "https://app.bench.test/callback"


async def setup(organization_id: str, lanes: int) -> tuple[Application, str, list[User]]:
    """An app with a web redirect URI and a client secret, and one assigned guest per lane."""
    text, digest = new_client_secret()
    now = datetime.now(timezone.utc)
    async with session_scope() as session:
        app = Application(organization_id=organization_id, display_name="Bench App",
                          web_redirect_uris=[REDIRECT_URI],
                          password_credentials=[{"keyId": str(uuid.uuid4()), "displayName": "bench",
                                                 "hint": secret_hint(text), "startDateTime": now.isoformat(),
                                                 "endDateTime": (now + timedelta(days=1)).isoformat(),
                                                 "secretHash": digest}])
        session.add(app)
        users = [user_row(organization_id, f"Guest {i}", guest=True) for i in range(lanes)]
        for user in users:
            user.external_user_state = "Accepted"
            session.add(user)
        await session.flush()
        for user in users:
            session.add(AppRoleAssignment(application_id=app.id, principal_id=user.id))
    return app, text, users


async def add_policies(organization_id: str, count: int) -> None:
    async with session_scope() as session:
        for i in range(count):
            report_only = i == count - 1
            session.add(ConditionalAccessPolicy(
                organization_id=organization_id, display_name=f"Bench policy {i}",
                state="enabledForReportingButNotEnforced" if report_only else "enabled",
                conditions={"users": {"includeUsers": ["All"]}, "clientAppTypes": ["all"],
                            "applications": {"includeApplications": ["All" if report_only else str(uuid.uuid4())]}},
                grant_controls={"operator": "OR", "builtInControls": ["mfa"]}))


def serve() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.openid_server:app", "--host", "127.0.0.1",
         "--port", str(PORT), "--log-level", "warning", "--no-access-log"],
        env={**os.environ, "FOYER_ENV": "test"})


async def wait_up(client: httpx.AsyncClient, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"the bench server exited with {process.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the bench server did not start")


async def main(args) -> None:
    organization_id = migrate.upgrade(ENV.database_url)
    app, secret, users = await setup(organization_id, args.clients)
    tenant = f"/{organization_id}"
    process = serve()
    limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=args.clients + 10)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", limits=limits, timeout=60) as client:
            await wait_up(client, process)
            auth = (app.app_id, secret)

            async def new_code(user: User) -> tuple[str, str]:
                verifier, challenge = pkce_pair()
                cookie, _ = sessions.issue(user.id)
                answer = await client.get(f"{tenant}/oauth2/v2.0/authorize", params={
                    "client_id": app.app_id, "redirect_uri": REDIRECT_URI, "response_type": "code",
                    "scope": "openid profile email offline_access", "state": secrets.token_hex(4),
                    "nonce": secrets.token_hex(4), "code_challenge": challenge,
                    "code_challenge_method": "S256"}, cookies={sessions.SESSION_COOKIE: cookie})
                assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])
                return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0], verifier

            # Warm-up: the first key is made, connections opened, the routes' first calls paid.
            for user in users[:3]:
                code, verifier = await new_code(user)
                warm = await client.post(f"{tenant}/oauth2/v2.0/token", auth=auth, data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier})
                assert warm.status_code == 200, warm.text
            async with session_scope() as session:
                rows_before = (await session.exec(select(func.count()).select_from(SignInLog))).one()

            # (a) code → tokens, 50 in flight.
            codes = [await new_code(users[i % args.clients]) for i in range(args.exchanges)]
            refresh_tokens: list[str | None] = [None] * args.clients

            async def exchange(i: int) -> None:
                code, verifier = codes[i]
                answer = await client.post(f"{tenant}/oauth2/v2.0/token", auth=auth, data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier})
                assert answer.status_code == 200, answer.text
                refresh_tokens[i % args.clients] = answer.json()["refresh_token"]

            started = time.perf_counter()
            exchanged = await bounded(args.exchanges, args.clients, exchange)
            code_result = Result("(a) code → tokens (token endpoint, authorization_code)", args.exchanges,
                                 time.perf_counter() - started, exchanged, "/s")

            # (a1) the same exchange one at a time: the service time, without queueing.
            alone_codes = [await new_code(users[i % args.clients]) for i in range(args.alone)]
            codes.extend(alone_codes)
            offset = args.exchanges

            async def exchange_alone(i: int) -> None:
                await exchange(offset + i)

            started = time.perf_counter()
            alone = await bounded(args.alone, 1, exchange_alone)
            alone_result = Result("(a1) code → tokens, one at a time", args.alone, time.perf_counter() - started,
                                  alone, "/s")

            # (b) refresh grants, each lane rotating its own family.
            per_lane = args.refreshes // args.clients

            async def refresh_lane(lane: int) -> list[float]:
                latencies = []
                for _ in range(per_lane):
                    t = time.perf_counter()
                    answer = await client.post(f"{tenant}/oauth2/v2.0/token", auth=auth, data={
                        "grant_type": "refresh_token", "refresh_token": refresh_tokens[lane]})
                    assert answer.status_code == 200, answer.text
                    refresh_tokens[lane] = answer.json()["refresh_token"]
                    latencies.append(time.perf_counter() - t)
                return latencies

            started = time.perf_counter()
            lanes = await asyncio.gather(*(refresh_lane(lane) for lane in range(args.clients)))
            refresh_result = Result("(b) refresh grants through the whole token endpoint",
                                    per_lane * args.clients, time.perf_counter() - started,
                                    [x for lane in lanes for x in lane], "/s")

            # (c) the bare signing route, same process, same concurrency.
            async def bare(i: int) -> None:
                answer = await client.post("/bench/sign", data={"client_id": app.app_id})
                assert answer.status_code == 200, answer.text

            started = time.perf_counter()
            bare_latencies = await bounded(per_lane * args.clients, args.clients, bare)
            bare_result = Result("(c) bare endpoint: sign the same two JWTs, nothing else",
                                 per_lane * args.clients, time.perf_counter() - started, bare_latencies, "/s")

            # (d) the authorize step one at a time, without and then with Conditional Access
            # policies to evaluate (foyer.usecases.sign_in_policy): 9 enforced for another app,
            # 1 report-only for all apps, so each sign-in reads and evaluates all 10.
            async def authorize_alone(i: int) -> None:
                await new_code(users[i % args.clients])

            started = time.perf_counter()
            plain = await bounded(args.alone, 1, authorize_alone)
            plain_result = Result("(d0) authorize, one at a time, no Conditional Access policy", args.alone,
                                  time.perf_counter() - started, plain, "/s")
            await add_policies(organization_id, 10)
            started = time.perf_counter()
            evaluated = await bounded(args.alone, 1, authorize_alone)
            policy_result = Result("(d1) authorize, one at a time, 10 Conditional Access policies", args.alone,
                                   time.perf_counter() - started, evaluated, "/s")

            async with session_scope() as session:
                rows = (await session.exec(select(func.count()).select_from(SignInLog))).one() - rows_before
    finally:
        process.terminate()
        process.wait(timeout=30)

    # A code's sign-in is logged when it is issued, a refresh's when it is granted; (d) made codes too.
    made = args.exchanges + args.alone + per_lane * args.clients + 2 * args.alone
    lost = "" if rows == made else f" FAILED: {made - rows} sign-ins without a log row"
    lines = table([code_result, alone_result, refresh_result, bare_result, plain_result, policy_result]) + [
        f"- (d1)/(d0) authorize p50 with 10 Conditional Access policies vs none: "
        f"**{pct(evaluated, 0.5) / pct(plain, 0.5):.2f}** ({pct(plain, 0.5):.1f} ms → {pct(evaluated, 0.5):.1f} ms)",
        "",
        f"- (b)/(c) refresh grants vs the signing ceiling: **{refresh_result.rate / bare_result.rate:.2f}** "
        f"(goal ≥ 0.5)",
        f"- code → tokens with {args.clients} in flight: p50 {pct(exchanged, 0.5):.0f} ms, "
        f"p95 **{pct(exchanged, 0.95):.0f} ms** (goal p95 ≤ 50 ms on PostgreSQL); one at a time: p50 "
        f"{pct(alone, 0.5):.0f} ms, p95 {pct(alone, 0.95):.0f} ms. With 50 always in flight, latency is 50 ÷ "
        f"throughput (Little's law): p95 ≤ 50 ms at 50 in flight needs ≥ 1,000 exchanges/s from one process",
        f"- sign-in log rows written: {rows} for {made} sign-ins made{lost}",
    ]
    settings = (f"{ENV.database_label}; one uvicorn process (Foyer's app + /bench/sign), {args.clients} "
                f"clients in flight over HTTP on 127.0.0.1; {args.exchanges} + {args.alone} code exchanges, "
                f"{per_lane * args.clients} refresh grants.")
    report(heading(f"OpenID Provider, {'SQLite' if ENV.database == 'sqlite' else 'PostgreSQL'}"), settings,
           lines, not args.no_write)
    if lost:
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=ENV.database)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--exchanges", type=int, default=1000)
    parser.add_argument("--refreshes", type=int, default=2000)
    parser.add_argument("--alone", type=int, default=200, help="code exchanges made one at a time")
    parser.add_argument("--keep-schema", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    asyncio.run(main(parser.parse_args()))
