"""`foyer dev`: the whole product on embedded defaults, in one process tree.

This process supervises the rest: the Temporal dev server (bundled binary, state in
STATE_DIR/temporal.db), `foyer worker` and `foyer api` as child processes, and a mail catcher
(aiosmtpd, in this process) that keeps mail in STATE_DIR/mail for /dev/mail. Children run in
process groups of their own, so a Ctrl-C reaches only this process, which then stops them in
order (API and worker, then Temporal); the kernel sends them SIGTERM should this process die
without that chance (PR_SET_PDEATHSIG), so no Temporal server is left behind.
"""

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from foyer.settings import DEFAULT_SECRET_KEY, LOOPBACK_NETWORKS, Settings, check_secret_key, get_settings

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TEMPORAL_START_TIMEOUT = 60.0
API_START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class Stop(Exception):
    """A stop signal arrived."""


try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not between fork and exec
except (OSError, AttributeError):  # not Linux
    _prctl = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGTERM it when the supervisor dies.
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _read_private(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


def _write_private(path: Path, value: str) -> str:
    """Write a secret readable by its owner only (mode 0600 before any byte lands)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(value + "\n")
    return value


def _owner_only(state: Path) -> None:
    """Take group and other permissions off the state directory and all it holds: it keeps the
    secret key, the admin token, the database and caught mail. A directory made by an older
    version (or under another umask) is tightened too."""
    for path in [state, *state.rglob("*")]:
        try:
            mode = path.lstat().st_mode
            if not path.is_symlink() and mode & 0o077:
                path.chmod(mode & 0o7700)
        except FileNotFoundError:  # e.g. a SQLite journal that came and went
            pass


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _say(message: str) -> None:
    print(f"foyer dev: {message}", file=sys.stderr, flush=True)


class DevStack:
    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.catcher = None
        self.stopping = False

    # ---------------------------------------------------------------- configuration

    def configure(self) -> Settings:
        """Fill in the environment every child reads, before any setting is cached."""
        # Whatever this process and its children (Temporal, worker, API) create is owner-only.
        os.umask(0o077)
        env = os.environ
        env["FOYER_ENV"] = "dev"
        get_settings.cache_clear()
        given = Settings()
        state = Path(given.state_dir)
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(state)
        if "FOYER_SECRET_KEY" not in env and given.secret_key == DEFAULT_SECRET_KEY:
            path = state / "secret_key"
            env["FOYER_SECRET_KEY"] = _read_private(path) or _write_private(
                path, secrets.token_urlsafe(32))
        env["FOYER_TEMPORAL_ADDRESS"] = f"127.0.0.1:{given.dev_temporal_port}"
        if "FOYER_OUTBOUND_ALLOWED_NETWORKS" not in env and not given.outbound_allowed_networks:
            # Development: extensions and connectors may be test servers on this machine.
            # Production (no `foyer dev`) calls only public addresses unless told otherwise.
            env["FOYER_OUTBOUND_ALLOWED_NETWORKS"] = LOOPBACK_NETWORKS
        env.setdefault("FOYER_PUBLIC_URL", f"http://127.0.0.1:{given.api_port}")
        self.catch_mail = "FOYER_SMTP_HOST" not in env
        if self.catch_mail:
            env["FOYER_SMTP_HOST"] = "127.0.0.1"
            env["FOYER_SMTP_PORT"] = str(given.dev_smtp_port)
            env["FOYER_SMTP_STARTTLS"] = "false"
            env.pop("FOYER_SMTP_USERNAME", None)
            env.pop("FOYER_SMTP_PASSWORD", None)
            env["FOYER_DEV_MAILDIR"] = str(state / "mail")
        get_settings.cache_clear()
        check_secret_key()  # a weak key given by hand is only warned about here
        return get_settings()

    def check_ports(self, settings: Settings) -> None:
        wanted = [(settings.dev_temporal_port, "Temporal", "FOYER_DEV_TEMPORAL_PORT"),
                  (settings.dev_ui_port, "Temporal Web UI", "FOYER_DEV_UI_PORT"),
                  (settings.api_port, "API", "FOYER_API_PORT")]
        if self.catch_mail:
            wanted.append((settings.dev_smtp_port, "mail catcher", "FOYER_DEV_SMTP_PORT"))
        busy = [f"{port} ({what}; set {var} to move it)" for port, what, var in wanted
                if not _port_free(port)]
        if busy:
            raise SystemExit("foyer dev: port(s) already in use: " + ", ".join(busy)
                             + ". Is another `foyer dev` running?")

    # ---------------------------------------------------------------- children

    def spawn(self, name: str, argv: list[str], quiet_when_stopping: bool = False) -> subprocess.Popen:
        output = subprocess.PIPE if quiet_when_stopping else None
        process = subprocess.Popen(argv, process_group=0, preexec_fn=_die_with_parent,
                                   stdout=output, stderr=subprocess.STDOUT if output else None)
        if quiet_when_stopping:
            threading.Thread(target=self._forward, args=(process.stdout,), daemon=True).start()
        self.children.append((name, process))
        return process

    def _forward(self, stream) -> None:
        # The dev server's own workers complain loudly while it shuts down; drop that noise.
        for line in stream:
            if not self.stopping:
                sys.stderr.buffer.write(line)
                sys.stderr.flush()

    def start_temporal(self, settings: Settings) -> subprocess.Popen:
        from foyer.temporal import DEV_SERVER_SQLITE_PRAGMAS, bundled_binary

        return self.spawn("temporal", [
            bundled_binary("temporal"), "server", "start-dev",
            "--db-filename", str(Path(settings.state_dir) / "temporal.db"), *DEV_SERVER_SQLITE_PRAGMAS,
            "--ip", "127.0.0.1", "--port", str(settings.dev_temporal_port),
            "--ui-port", str(settings.dev_ui_port),
            "--namespace", settings.temporal_namespace, "--log-level", "warn",
        ], quiet_when_stopping=True)

    def wait_for_temporal(self, settings: Settings, process: subprocess.Popen) -> None:
        import asyncio

        from foyer.temporal import connect_client

        async def wait() -> None:
            deadline = time.monotonic() + TEMPORAL_START_TIMEOUT
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"foyer dev: the Temporal dev server exited "
                                     f"(code {process.returncode})")
                try:
                    await asyncio.wait_for(connect_client(), timeout=2)
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise SystemExit("foyer dev: the Temporal dev server did not answer on "
                                         f"{settings.temporal_address} within "
                                         f"{TEMPORAL_START_TIMEOUT:.0f}s")
                    await asyncio.sleep(0.1)

        asyncio.run(wait())

    def wait_for_api(self, settings: Settings) -> None:
        url = f"http://127.0.0.1:{settings.api_port}/healthz"
        deadline = time.monotonic() + API_START_TIMEOUT
        while True:
            self.check_children()
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"foyer dev: the API did not answer on {url}")
            time.sleep(0.1)

    def check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise SystemExit(f"foyer dev: {name} exited (code {process.returncode}); "
                                 "stopping everything")

    def start_mail_catcher(self, settings: Settings) -> None:
        from foyer.mailcatcher import MailCatcher

        self.catcher = MailCatcher(host="127.0.0.1", port=settings.dev_smtp_port,
                                   maildir=Path(settings.dev_maildir)).start()

    # ---------------------------------------------------------------- admin token

    def admin_token(self, settings: Settings) -> tuple[str, bool]:
        """The dev admin token kept in STATE_DIR/admin_token; a new one if the database lacks it."""
        from foyer.tokens import create_token, token_is_valid
        from foyer.models.enums import Role

        path = Path(settings.state_dir) / "admin_token"
        token = _read_private(path)
        if token and token_is_valid(token):
            return token, False
        return _write_private(path, create_token("Dev Admin", Role.global_administrator)), True

    # ---------------------------------------------------------------- run and stop

    def on_signal(self, signum, _frame) -> None:
        if self.stopping:
            # A second Ctrl-C while stopping: stop waiting politely.
            for _name, process in self.children:
                if process.poll() is None:
                    process.kill()
            return
        raise Stop()

    def run(self) -> int:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.on_signal)
        started = time.monotonic()
        try:
            settings = self.configure()
            self.check_ports(settings)
            temporal = self.start_temporal(settings)
            if self.catch_mail:
                self.start_mail_catcher(settings)
            from foyer.migrate import upgrade  # migrate while Temporal starts

            organization_id = upgrade()
            token, new = self.admin_token(settings)
            self.wait_for_temporal(settings, temporal)
            cli = [sys.executable, "-m", "foyer.cli"]
            self.spawn("worker", [*cli, "worker"])
            self.spawn("api", [*cli, "api"])
            self.wait_for_api(settings)
            print(banner(settings, token, new, organization_id, time.monotonic() - started),
                  flush=True)
            while True:
                self.check_children()
                time.sleep(0.2)
        except Stop:
            return 0
        except SystemExit as exit_:
            if isinstance(exit_.code, str):
                print(exit_.code, file=sys.stderr, flush=True)
                return 1
            return exit_.code or 0
        finally:
            self.stopping = True
            self.stop()

    def stop(self) -> None:
        running = [(name, process) for name, process in self.children if process.poll() is None]
        if running:
            _say("stopping " + ", ".join(name for name, _ in running))
        # The API and the worker first (they talk to Temporal), then Temporal, then the mail.
        for group in ([c for c in running if c[0] != "temporal"],
                      [c for c in running if c[0] == "temporal"]):
            for _name, process in group:
                process.terminate()
            for name, process in group:
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    _say(f"{name} did not stop within {STOP_TIMEOUT:.0f}s; killing it")
                    process.kill()
                    process.wait()
        if self.catcher is not None:
            self.catcher.stop()
            self.catcher = None
        if running:
            _say("stopped")


def banner(settings: Settings, token: str, new: bool, organization_id: str,
           seconds: float) -> str:
    api = f"http://127.0.0.1:{settings.api_port}"
    if settings.dev_maildir:
        mail = f"  Caught mail       {api}/dev/mail   (SMTP 127.0.0.1:{settings.dev_smtp_port})"
    else:
        mail = f"  Mail              sent to {settings.smtp_host}:{settings.smtp_port}"
    curl = (f"curl -s -X POST {api}/v1.0/invitations \\\n"
            f"    -H 'Authorization: Bearer {token}' \\\n"
            "    -H 'Content-Type: application/json' \\\n"
            "    -d '{\"invitedUserEmailAddress\": \"you@example.org\", "
            "\"inviteRedirectUrl\": \"https://example.org\", \"sendInvitationMessage\": true}'")
    return "\n".join([
        "",
        f"Foyer is running (ready in {seconds:.1f}s). Ctrl-C stops everything.",
        "",
        f"  API               {api}",
        f"  API docs          {api}/docs",
        mail,
        f"  Temporal Web UI   http://127.0.0.1:{settings.dev_ui_port}",
        f"  State             {settings.state_dir}",
        f"  Organization id   {organization_id}",
        "",
        f"  Admin token ({'new' if new else 'kept in ' + str(Path(settings.state_dir) / 'admin_token')}, "
        "role Global Administrator):",
        f"    {token}",
        "",
        "Invite yourself:",
        "",
        f"  {curl}",
        "",
    ])


def run() -> int:
    return DevStack().run()
