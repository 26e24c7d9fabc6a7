"""The `foyer` command: dev stack, API, worker, migrations and API tokens.

    foyer dev                                   everything on embedded defaults (Ctrl-C stops it)
    foyer api [--host H] [--port P] [--workers N] [--forwarded-allow-ips IPS]
                                                the HTTP API (defaults: FOYER_API_HOST=127.0.0.1,
                                                FOYER_API_PORT, FOYER_API_WORKERS=1, no proxy
                                                trusted); /healthz alive, /readyz database+Temporal
                                                (api, worker and db upgrade refuse to run on the
                                                default or a weak FOYER_SECRET_KEY in production)
    foyer worker [--health-port N] [--max-concurrent-activities N] [--max-concurrent-workflow-tasks N]
                 [--max-concurrent-local-activities N]
                                                the Temporal worker (worker.py);
                                                /healthz and /readyz on N if given; SIGTERM lets
                                                running activities finish (FOYER_WORKER_SHUTDOWN_SECONDS)
    foyer db upgrade                            migrate the database; prints the organization id
    foyer token create --name N --role R [--user ID_OR_MAIL]
                                                prints a bearer token once; only its hash is kept
    foyer signing-secret --connector ID | --extension ID
                                                prints the foyerSigningSecret under the current key
                                                (to hand out after a key rotation)
    foyer keys rotate                           retire the OpenID Provider's signing key (kept in JWKS
                                                until the tokens it signed expire) and make the next
    foyer campaign start FILE [--dry-run] [--follow]   bulk invitations from a CSV (over the API)
    foyer campaign status|pause|resume|cancel|retry ID
"""

import argparse
import asyncio
import contextlib
import logging
import signal
import os
import shutil
import sys
import tempfile

from foyer.tokens import check_token_name, create_token
from foyer.models.enums import Role

ROLES = [role.value for role in Role]


def parse_role(value: str) -> Role:
    """A role as Entra spells it; case and surrounding blanks do not matter."""
    for role in Role:
        if role.value.lower() == value.strip().lower():
            return role
    choices = ", ".join(f'"{r}"' for r in ROLES)
    raise argparse.ArgumentTypeError(f"unknown role {value!r}; use one of {choices}")


def parse_token_name(value: str) -> str:
    """--name as foyer.tokens checks it, refused the argparse way (exit 2 with the reason)."""
    try:
        return check_token_name(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _run_until_signal(coroutine) -> None:
    """Run `coroutine` until it ends or SIGINT/SIGTERM arrives, then cancel it and return."""

    async def main() -> None:
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())


def unsafe_secret_key(command: str) -> bool:
    """Print why the configured secret key may not be used, if so (then exit with code 2)."""
    from pydantic import ValidationError

    from foyer.settings import WHAT_TO_DO, InsecureSecretKey, check_secret_key, get_settings

    try:
        check_secret_key(get_settings())
    except InsecureSecretKey as error:
        print(f"foyer {command}: refusing to start.\n{error}", file=sys.stderr)
        return True
    except ValidationError as error:  # e.g. a FOYER_SECRET_KEY under 16 characters
        hint = f"\n{WHAT_TO_DO}" if "secret_key" in str(error) else ""
        print(f"foyer {command}: invalid settings:\n{error}{hint}", file=sys.stderr)
        return True
    return False


def unusable_temporal_settings(command: str) -> bool:
    """Print why FOYER_TEMPORAL_* cannot be used, if so (then exit with code 2)."""
    from foyer.temporal import TemporalSettingsError, connect_options

    try:
        connect_options()
    except TemporalSettingsError as error:
        print(f"foyer {command}: refusing to start: {error}", file=sys.stderr)
        return True
    return False


def cmd_dev(args: argparse.Namespace) -> int:
    from foyer.devstack import run

    return run()


def parse_forwarded_allow_ips(value: str) -> str:
    from foyer.settings import check_forwarded_allow_ips

    try:
        return check_forwarded_allow_ips(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("FOYER_FORWARDED_ALLOW_IPS", "--forwarded-allow-ips"))


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def uvicorn_options(args: argparse.Namespace) -> dict:
    """uvicorn.run's keywords for `foyer api`: the flags, else the FOYER_API_* settings."""
    from foyer.settings import get_settings

    from foyer.logs import dict_config

    settings = get_settings()
    trusted = settings.forwarded_allow_ips if args.forwarded_allow_ips is None else args.forwarded_allow_ips
    level = args.log_level or settings.log_level
    return {
        "host": args.host or settings.api_host,
        "port": args.port if args.port is not None else settings.api_port,
        "workers": args.workers or settings.api_workers,
        # Forwarded headers only from the proxies named; none by default (uvicorn alone would
        # trust 127.0.0.1, or $FORWARDED_ALLOW_IPS, which Foyer does not read).
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "log_level": level,
        # FOYER_LOG_FORMAT (text or JSON, with request and trace ids, secrets redacted) for every
        # logger, uvicorn's access log included; applied in each worker process.
        "log_config": dict_config(settings.log_format, "debug" if level == "trace" else level, "foyer-api"),
    }


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    if unsafe_secret_key("api") or unusable_temporal_settings("api"):
        return 2
    options = uvicorn_options(args)
    with shared_metrics_directory(options["workers"]):
        # An import string and a factory: each of --workers N processes builds its own app.
        uvicorn.run("foyer.api.main:create_app", factory=True, **options)
    return 0


@contextlib.contextmanager
def shared_metrics_directory(workers: int):
    """With several uvicorn workers, a scrape of /metrics reaches one of them: they must count into
    one place. prometheus_client's multiprocess mode keeps each process's samples in files of
    PROMETHEUS_MULTIPROC_DIR and adds them up at scrape time (api/metrics.py); the directory is this
    run's own and is removed when `foyer api` exits. An operator's own directory is kept as given."""
    if workers < 2 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    directory = tempfile.mkdtemp(prefix="foyer-api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # read by each worker process as it starts
    try:
        yield
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(directory, ignore_errors=True)


WORKER_SIZE_FLAGS = ("max_concurrent_activities", "max_concurrent_workflow_tasks", "max_concurrent_local_activities")


def worker_sizes(args: argparse.Namespace) -> dict:
    """`foyer worker`'s concurrency flags that were given, as SDK Worker options; they win over
    the FOYER_WORKER_* settings (worker.concurrency_options)."""
    return {option: getattr(args, option) for option in WORKER_SIZE_FLAGS if getattr(args, option, None) is not None}


def cmd_worker(args: argparse.Namespace) -> int:
    if unsafe_secret_key("worker") or unusable_temporal_settings("worker"):
        return 2
    from foyer import logs, tracing
    from foyer.settings import get_settings
    from foyer.worker import run_worker

    # FOYER_LOG_FORMAT / FOYER_LOG_LEVEL: text or JSON lines carrying workflow, run and trace ids.
    logs.configure(get_settings().log_format, get_settings().log_level, "foyer-worker")
    # Cancelling Worker.run() shuts the worker down gracefully (FOYER_WORKER_SHUTDOWN_SECONDS).
    _run_until_signal(run_worker(health_port=args.health_port, **worker_sizes(args)))
    # The worker has shut down (running activities finished or were cancelled). Leave without
    # interpreter finalization: the Temporal SDK's core threads may still be releasing Python
    # objects then, which crashed the process with "Fatal Python error: PyGILState_Release"
    # (exit -6) in about one SIGTERM in twenty in tests/test_entry_points.py. os._exit skips
    # atexit, so the spans still buffered are exported here.
    tracing.shutdown()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    if unsafe_secret_key("db upgrade"):  # it encrypts stored credentials with the key
        return 2
    from foyer.migrate import upgrade

    print(upgrade())
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    try:
        token = create_token(args.name, args.role, user=args.user)
    except LookupError as error:
        print(f"foyer token create: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


def signing_secret(connector: str | None = None, extension: str | None = None,
                   database_url: str | None = None) -> str:
    """The foyerSigningSecret of an API connector or a custom extension under the current key.
    Create shows it once; after a key rotation the secret changes (it is derived from the key),
    and this is how an operator, who holds the key anyway, hands the new one to the system."""
    from sqlalchemy import create_engine

    from foyer.db import sync_url
    from foyer.security import connector_secret, extension_secret
    from foyer.settings import get_settings
    from foyer.models.entitlement import CustomExtension
    from foyer.models.sign_up import ApiConnector

    table, row_id, derive = ((ApiConnector, connector, connector_secret) if connector
                             else (CustomExtension, extension, extension_secret))
    engine = create_engine(sync_url(database_url or get_settings().database_url))
    try:
        from sqlmodel import Session

        with Session(engine) as session:
            if session.get(table, row_id) is None:
                kind = "API connector" if connector else "custom extension"
                raise LookupError(f"no {kind} with id {row_id!r}")
    finally:
        engine.dispose()
    return derive(row_id)


def cmd_signing_secret(args: argparse.Namespace) -> int:
    if unsafe_secret_key("signing-secret"):
        return 2
    try:
        print(signing_secret(connector=args.connector, extension=args.extension))
    except LookupError as error:
        print(f"foyer signing-secret: {error}", file=sys.stderr)
        return 1
    return 0


def rotate_signing_key() -> tuple[str | None, str]:
    """Retire the OpenID Provider's signing key and make the next one (foyer.usecases.signing_keys)."""
    from foyer.db import get_engine
    from foyer.usecases.signing_keys import rotate

    async def run() -> tuple[str | None, str]:
        try:
            return await rotate()
        finally:
            await get_engine().dispose()

    return asyncio.run(run())


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    if unsafe_secret_key("keys rotate"):  # the private key is sealed with it
        return 2
    from sqlalchemy.exc import IntegrityError

    try:
        retired, new = rotate_signing_key()
    except IntegrityError:
        print("foyer keys rotate: another rotation ran at the same time; nothing changed here", file=sys.stderr)
        return 1
    if retired:
        print(f"retired {retired} (published until the tokens it signed have expired)")
    print(f"signing with {new}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foyer", description="Foyer: guest onboarding on Temporal.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("dev", help="run everything on embedded defaults; Ctrl-C stops it all") \
        .set_defaults(func=cmd_dev)
    api = commands.add_parser("api", help="run the HTTP API (FOYER_API_HOST:FOYER_API_PORT, 127.0.0.1:8000)")
    api.add_argument("--host", help="address to listen on (FOYER_API_HOST; default 127.0.0.1)")
    api.add_argument("--port", type=int, help="port to listen on (FOYER_API_PORT; default 8000)")
    api.add_argument("--workers", type=positive_int, metavar="N",
                     help="uvicorn worker processes (FOYER_API_WORKERS; default 1)")
    api.add_argument("--forwarded-allow-ips", type=parse_forwarded_allow_ips, metavar="IPS",
                     help='proxies whose X-Forwarded-For/-Proto are believed: IPs, CIDRs or "*" '
                          "(FOYER_FORWARDED_ALLOW_IPS; default none)")
    api.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug", "trace"],
                     help="FOYER_LOG_LEVEL; default info (FOYER_LOG_FORMAT=json for JSON lines)")
    api.set_defaults(func=cmd_api)
    worker = commands.add_parser("worker", help="run the Temporal worker")
    worker.add_argument("--health-port", type=int, metavar="N",
                        help="serve /healthz and /readyz on N (FOYER_WORKER_HEALTH_PORT; default off)")
    worker.add_argument("--max-concurrent-activities", type=positive_int, metavar="N",
                        help="activities run at once (FOYER_WORKER_MAX_CONCURRENT_ACTIVITIES; default 100)")
    worker.add_argument("--max-concurrent-workflow-tasks", type=positive_int, metavar="N",
                        help="workflow tasks run at once (FOYER_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS; "
                             "default the SDK's, 100)")
    worker.add_argument("--max-concurrent-local-activities", type=positive_int, metavar="N",
                        help="local activities run at once (FOYER_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES; "
                             "default the SDK's, 100)")
    worker.set_defaults(func=cmd_worker)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="COMMAND")
    db.add_parser("upgrade", help="migrate to the newest schema; prints the organization id") \
        .set_defaults(func=cmd_db_upgrade)

    token = commands.add_parser("token", help="API bearer tokens").add_subparsers(
        dest="token_command", required=True, metavar="COMMAND")
    create = token.add_parser("create", help="create a token and print it (once)")
    create.add_argument("--name", required=True, type=parse_token_name,
                        help="what the token is for, shown in audit records")
    create.add_argument("--role", required=True, type=parse_role, metavar="ROLE",
                        help="one of: " + ", ".join(f'"{r}"' for r in ROLES))
    create.add_argument("--user", metavar="USER_ID_OR_MAIL",
                        help="the directory user the token acts as (members, approvers)")
    create.set_defaults(func=cmd_token_create)
    secret = commands.add_parser(
        "signing-secret", help="print an API connector's or custom extension's signing secret under the "
                               "current key (after a key rotation)")
    which = secret.add_mutually_exclusive_group(required=True)
    which.add_argument("--connector", metavar="ID", help="an API connector's id")
    which.add_argument("--extension", metavar="ID", help="a custom extension's id")
    secret.set_defaults(func=cmd_signing_secret)
    keys = commands.add_parser("keys", help="the OpenID Provider's signing keys").add_subparsers(
        dest="keys_command", required=True, metavar="COMMAND")
    keys.add_parser("rotate", help="retire the signing key (still published until its tokens expire) "
                                   "and sign with a new one").set_defaults(func=cmd_keys_rotate)
    add_campaign_commands(commands)
    return parser


def add_campaign_commands(commands) -> None:
    from foyer import campaign_cli as cc

    campaign = commands.add_parser("campaign", help="bulk onboarding campaigns, over the running API") \
        .add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    start = campaign.add_parser("start", help="upload a CSV (Entra's bulk-invite template) and start inviting")
    start.add_argument("file", metavar="FILE", help="the CSV file")
    start.add_argument("--name", help="the campaign's display name")
    start.add_argument("--rate", type=int, metavar="N", help="at most N invitation mails per minute")
    start.add_argument("--concurrency", type=int, metavar="N", help="at most N rows in flight")
    start.add_argument("--dry-run", action="store_true",
                       help="print every invalid row's verdict and invite nobody (exit 1 if any)")
    start.add_argument("--follow", action="store_true", help="draw the progress until the campaign ends")
    cc.add_connection_options(start)
    start.set_defaults(func=cc.cmd_start)
    status = campaign.add_parser("status", help="counts, rate and ETA of a campaign")
    status.add_argument("id", metavar="ID")
    status.add_argument("--follow", action="store_true", help="draw the progress until the campaign ends")
    cc.add_connection_options(status)
    status.set_defaults(func=cc.cmd_status)
    for name, func, text in (("pause", cc.cmd_pause, "stop starting new rows until resumed"),
                             ("resume", cc.cmd_resume, "start rows again after a pause"),
                             ("cancel", cc.cmd_cancel, "start no new rows; invited rows stay invited"),
                             ("retry", cc.cmd_retry, "put the failed rows back in the queue")):
        action = campaign.add_parser(name, help=text)
        action.add_argument("id", metavar="ID")
        cc.add_connection_options(action)
        action.set_defaults(func=func)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
