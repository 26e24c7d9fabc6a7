"""`foyer campaign …`: bulk onboarding campaigns from the terminal, over the running API.

    foyer campaign start FILE [--name N] [--rate N] [--concurrency N] [--dry-run] [--follow]
    foyer campaign status ID [--follow]
    foyer campaign pause|resume|cancel|retry ID

The API is FOYER_PUBLIC_URL (or --api URL); the bearer token is --token, else FOYER_TOKEN, else
the dev stack's admin token (STATE_DIR/admin_token, written by `foyer dev`).

Exit codes: 0 done (a campaign followed to completion without failed rows), 1 an error (the API's
message is printed) or, for --dry-run, some row is invalid; 2 the campaign completed with failed
rows; 3 it was canceled; 130 interrupted while following (the campaign goes on).
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import httpx

BASE = "/v1.0/invitationCampaigns"
ENDED = ("completed", "canceled")
EXIT_ERROR, EXIT_FAILED_ROWS, EXIT_CANCELED = 1, 2, 3
BAR_WIDTH = 24


class CampaignCliError(Exception):
    """Something to print on stderr before exiting with status 1."""


# ---------------------------------------------------------------- connection


def api_url(args: argparse.Namespace) -> str:
    if getattr(args, "api", None):
        return args.api.rstrip("/")
    if os.environ.get("FOYER_PUBLIC_URL"):
        return os.environ["FOYER_PUBLIC_URL"].rstrip("/")
    from foyer.settings import get_settings

    settings = get_settings()
    if "public_url" in settings.model_fields_set:  # from a .env file
        return settings.public_url.rstrip("/")
    return f"http://127.0.0.1:{settings.api_port}"  # where `foyer dev` serves it


def api_token(args: argparse.Namespace) -> str:
    if getattr(args, "token", None):
        return args.token.strip()
    if os.environ.get("FOYER_TOKEN"):
        return os.environ["FOYER_TOKEN"].strip()
    from foyer.settings import get_settings

    path = Path(get_settings().state_dir) / "admin_token"
    try:
        token = path.read_text().strip()
    except OSError:
        token = ""
    if not token:
        raise CampaignCliError(f"no API token: pass --token, set FOYER_TOKEN, or run `foyer dev` "
                               f"(which keeps its admin token in {path})")
    return token


def client_for(args: argparse.Namespace) -> httpx.Client:
    return httpx.Client(base_url=api_url(args), timeout=httpx.Timeout(60.0, connect=10.0),
                        headers={"Authorization": f"Bearer {api_token(args)}"})


def call(client: httpx.Client, method: str, path: str, **kwargs) -> dict:
    """The JSON answer of the API, or CampaignCliError with the Graph error's message."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        raise CampaignCliError(f"cannot reach the API at {client.base_url}: {error}") from error
    if response.status_code >= 400:
        raise CampaignCliError(graph_error(response))
    try:
        return response.json()
    except ValueError:
        raise CampaignCliError(f"the API answered {response.status_code} without JSON") from None


def graph_error(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if isinstance(error, dict) and error.get("message"):
        return f"{error['message']} ({error.get('code') or response.status_code})"
    return f"the API answered {response.status_code}: {response.text[:200]}"


# ---------------------------------------------------------------- progress


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def done_count(body: dict) -> int:
    counts = body["counts"]
    return sum(counts.get(k, 0) for k in ("invited", "skipped", "failed", "canceled"))


def progress_line(body: dict) -> str:
    """One line: bar, percentage, counts by outcome, rate, ETA and state."""
    counts, total = body["counts"], body["rowCount"] or 0
    done = done_count(body)
    fraction = done / total if total else 1.0
    filled = int(fraction * BAR_WIDTH)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    eta = "" if body["state"] in ENDED else f" · ETA {duration(body.get('etaSeconds'))}"
    return (f"[{bar}] {fraction * 100:3.0f}% {done}/{total} {body['state']} · invited {counts['invited']} · "
            f"skipped {counts['skipped']} · failed {counts['failed']} · canceled {counts['canceled']} · "
            f"{body.get('rowsPerSecond') or 0:.2f} rows/s{eta}")


def outcome(body: dict) -> int:
    if body["state"] == "canceled":
        return EXIT_CANCELED
    return EXIT_FAILED_ROWS if body["counts"]["failed"] else 0


def follow(client: httpx.Client, campaign_id: str, *, interval: float = 1.0, out=None,
           plain_every: float = 5.0) -> int:
    """Poll until the campaign completes or is canceled, drawing its progress; the exit code.

    On a terminal one line is redrawn in place; elsewhere (a pipe, a log) a line is printed
    when the figures change, at most every `plain_every` seconds, and always at the end."""
    out = out or sys.stdout
    tty = out.isatty()
    last_line, last_printed, width = None, 0.0, 0
    try:
        while True:
            body = call(client, "GET", f"{BASE}/{campaign_id}")
            line, ended = progress_line(body), body["state"] in ENDED
            if tty:  # one line, never wider than the terminal (a wrapped line cannot be redrawn)
                line = line[:max(20, shutil.get_terminal_size((120, 24)).columns - 1)]
                out.write("\r" + line + " " * max(0, width - len(line)))
                width = len(line)
                if ended:
                    out.write("\n")
                out.flush()
            elif ended or (line != last_line and time.monotonic() - last_printed >= plain_every):
                print(line, file=out, flush=True)
                last_line, last_printed = line, time.monotonic()
            if ended:
                return outcome(body)
            time.sleep(interval)
    except KeyboardInterrupt:
        if tty:
            out.write("\n")
        print(f"stopped following; the campaign goes on (foyer campaign status {campaign_id} --follow)",
              file=sys.stderr)
        return 130


# ---------------------------------------------------------------- commands


def _run(command):
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CampaignCliError as error:
            print(f"foyer campaign: {error}", file=sys.stderr)
            return EXIT_ERROR

    wrapped.__doc__ = command.__doc__
    return wrapped


@_run
def cmd_start(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CampaignCliError(f"cannot read {path}: {error.strerror or error}") from error
    form = {"dryRun": "true" if args.dry_run else "false"}
    if args.name:
        form["displayName"] = args.name
    if args.rate is not None:
        form["ratePerMinute"] = str(args.rate)
    if args.concurrency is not None:
        form["concurrency"] = str(args.concurrency)
    with client_for(args) as client:
        body = call(client, "POST", BASE, data=form, files={"file": (path.name, content, "text/csv")})
        if args.dry_run:
            return print_verdicts(body)
        print(body["id"], flush=True)
        skipped = body["counts"]["skipped"]
        print(f"campaign {body['id']} ({body['displayName']}): {body['rowCount']} rows, "
              f"{body['rowCount'] - skipped} to invite, {skipped} skipped as invalid", file=sys.stderr)
        if args.follow:
            return follow(client, body["id"])
    return 0


def print_verdicts(body: dict) -> int:
    for row in body["rows"]:
        for problem in row["problems"]:
            print(f"row {row['row']}, column {problem['column']}: {problem['message']} "
                  f"[{problem['code']}]")
    print(f"dry run: {body['rowCount']} rows, {body['validCount']} valid, "
          f"{body['invalidCount']} invalid; nobody was invited")
    return EXIT_ERROR if body["invalidCount"] else 0


@_run
def cmd_status(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        if args.follow:
            return follow(client, args.id)
        body = call(client, "GET", f"{BASE}/{args.id}")
    counts = body["counts"]
    print(f"{body['displayName']} ({body['id']})")
    print(progress_line(body))
    print(f"pending {counts['pending']} · redeemed {counts['redeemed']} · limit "
          f"{body['ratePerMinuteLimit']}/min · concurrency {body['concurrency']} · created by "
          f"{body.get('createdBy') or '–'} at {body['createdDateTime']}")
    return 0


def _action(path: str):
    @_run
    def command(args: argparse.Namespace) -> int:
        with client_for(args) as client:
            body = call(client, "POST", f"{BASE}/{args.id}/{path}")
        retried = f", {body['rowsRetried']} failed rows retried" if "rowsRetried" in body else ""
        print(f"campaign {body['id']}: {body['state']}{retried}")
        return 0

    return command


cmd_pause, cmd_resume, cmd_cancel, cmd_retry = (
    _action("pause"), _action("resume"), _action("cancel"), _action("retryFailed"))


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", metavar="URL", help="the API's base URL (default: FOYER_PUBLIC_URL)")
    parser.add_argument("--token", help="a bearer token (default: FOYER_TOKEN, else the dev admin token)")
