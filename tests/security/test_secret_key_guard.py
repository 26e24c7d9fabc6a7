"""`foyer api`, `foyer worker` and `foyer db upgrade` refuse to run in production (FOYER_ENV unset)
on the public default FOYER_SECRET_KEY or a weak one, and say how to make a key; with a proper key
`foyer api` starts. The finding's scenario: a session cookie forged offline with the public default
key opened /myaccess as another user on a `foyer api` started without a key.

The commands run as real processes (`python -m foyer.cli ...`), in production mode: the suite's
FOYER_ENV=test is removed from their environment.
"""

import asyncio
import hashlib
import hmac
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.ports import free_port


PUBLIC_DEFAULT_KEY = "dev-only-insecure-secret-key-change-me"  # as published in foyer/settings.py
GOOD_KEY = "Zq3v8mN1xR7tY5uW2pK9sL4dF6gH0jB3cV8nM1qA7eT5rY2u"
START_TIMEOUT = 60.0



def production_env(tmp_path: Path, temporal_address: str | None = None, **settings: str) -> dict:
    """The caller's environment without any FOYER_ setting (so FOYER_ENV is production), pointed at
    the suite's database and a state directory of its own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FOYER_")}
    env.update({
        "FOYER_STATE_DIR": str(tmp_path / "state"),
        "FOYER_DATABASE_URL": os.environ["FOYER_DATABASE_URL"],
        "FOYER_API_PORT": str(free_port()),
        # Never the suite's task queue: a worker that did start must not take the suite's tasks.
        "FOYER_TASK_QUEUE": f"guard-{os.getpid()}-{time.monotonic_ns()}",
        "FOYER_TEMPORAL_ADDRESS": temporal_address or "127.0.0.1:1",
    })
    env.update(settings)
    return env


class Command:
    """`python -m foyer.cli ARGS` as a process of its own."""

    def __init__(self, args: list[str], env: dict, cwd: Path):
        self.env = env
        self.process = None
        self.args, self.cwd = args, cwd

    async def start(self) -> "Command":
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "foyer.cli", *self.args, env=self.env, cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['FOYER_API_PORT']}"

    async def serving(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{self.base}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    async def exit_or_serve(self, timeout: float = START_TIMEOUT) -> str:
        """"exited" once the process ended, "serving" once /healthz answers (api only), or
        "running" when neither happened in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(self.process.wait(), timeout=0.2)
                return "exited"
            except TimeoutError:
                pass
            if "api" in self.args and await self.serving():
                return "serving"
        return "running"

    async def output(self) -> str:
        return (await self.process.stdout.read()).decode(errors="replace")

    async def stop(self) -> None:
        if self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()


async def run_refused(args: list[str], env: dict, cwd: Path) -> str:
    """Run the command; it must exit (code ≠ 0) by itself. Returns what it printed."""
    command = await Command(args, env, cwd).start()
    try:
        state = await command.exit_or_serve()
        assert state == "exited", f"`foyer {' '.join(args)}` kept running ({state}) on an unsafe key"
        assert command.process.returncode != 0
        return await command.output()
    finally:
        await command.stop()


def assert_says_what_to_do(text: str) -> None:
    assert "FOYER_SECRET_KEY" in text, text
    assert "secrets.token_urlsafe" in text, text  # how to make one
    assert "Traceback" not in text, text  # a message, not a crash


@pytest.mark.parametrize("command", [["api"], ["worker"], ["db", "upgrade"]])
async def test_refuses_the_public_default_key(tmp_path, command):
    # No FOYER_SECRET_KEY at all: the built-in default would be used.
    text = await run_refused(command, production_env(tmp_path), tmp_path / "cwd")
    assert_says_what_to_do(text)
    assert "default" in text.lower()


@pytest.mark.parametrize("command", [["api"], ["worker"]])
async def test_refuses_the_default_key_given_explicitly(tmp_path, command):
    env = production_env(tmp_path, FOYER_SECRET_KEY=PUBLIC_DEFAULT_KEY)
    assert_says_what_to_do(await run_refused(command, env, tmp_path / "cwd"))


@pytest.mark.parametrize("command", [["api"], ["worker"]])
async def test_refuses_a_short_key(tmp_path, command):
    env = production_env(tmp_path, FOYER_SECRET_KEY="0123456789abcdefXYZ")  # 19 characters
    text = await run_refused(command, env, tmp_path / "cwd")
    assert_says_what_to_do(text)
    assert "32" in text


async def test_refuses_a_key_of_one_repeated_character(tmp_path):
    env = production_env(tmp_path, FOYER_SECRET_KEY="a" * 64)
    assert_says_what_to_do(await run_refused(["api"], env, tmp_path / "cwd"))


async def test_refuses_the_default_key_as_a_previous_key(tmp_path):
    # A previous key is accepted for verification: the public one would reopen the hole.
    env = production_env(tmp_path, FOYER_SECRET_KEY=GOOD_KEY,
                         FOYER_PREVIOUS_SECRET_KEYS=PUBLIC_DEFAULT_KEY)
    text = await run_refused(["api"], env, tmp_path / "cwd")
    assert "FOYER_PREVIOUS_SECRET_KEYS" in text, text


async def test_a_key_in_the_dotenv_file_is_checked_too(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / ".env").write_text(f"FOYER_SECRET_KEY={PUBLIC_DEFAULT_KEY}\n")
    assert_says_what_to_do(await run_refused(["api"], production_env(tmp_path), cwd))


async def test_api_starts_with_a_proper_key(tmp_path, temporal):
    env = production_env(tmp_path, temporal.client.service_client.config.target_host,
                         FOYER_SECRET_KEY=GOOD_KEY)
    command = await Command(["api", "--log-level", "warning"], env, tmp_path / "cwd").start()
    try:
        state = await command.exit_or_serve()
        assert state == "serving", f"{state}:\n{await command.output() if state == 'exited' else ''}"
    finally:
        await command.stop()


def forged_session_cookie(user_id: str, key: str) -> str:
    """What an attacker computes offline from the published cookie format and key."""
    payload = f"{user_id}.{int(time.time()) + 3600}.forged"
    mac = hmac.new(key.encode(), f"session:{payload}".encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


async def test_offline_forged_cookie_does_not_open_myaccess(tmp_path, temporal, make_member):
    """The finding: `foyer api` started without a key, and a cookie forged with the public default
    key opened /myaccess as someone else. Now the API does not start at all."""
    victim = await make_member("Vic Victim")
    env = production_env(tmp_path, temporal.client.service_client.config.target_host)
    command = await Command(["api"], env, tmp_path / "cwd").start()
    try:
        state = await command.exit_or_serve()
        if state == "serving":
            async with httpx.AsyncClient(base_url=command.base, timeout=10) as client:
                page = await client.get("/myaccess", cookies={
                    "foyer_session": forged_session_cookie(victim.id, PUBLIC_DEFAULT_KEY)})
            opened = page.status_code == 200 and "Vic Victim" in page.text
            pytest.fail(f"`foyer api` served on the default key; forged cookie opened /myaccess: {opened}")
        assert state == "exited"
        assert command.process.returncode != 0
        assert_says_what_to_do(await command.output())
    finally:
        await command.stop()


async def test_cookie_forged_with_the_public_key_is_refused_by_a_configured_app(api, make_member):
    victim = await make_member("Vera Victim")
    forged = forged_session_cookie(victim.id, PUBLIC_DEFAULT_KEY)
    page = await api.get("/myaccess", cookies={"foyer_session": forged})
    assert page.status_code in (302, 303, 307), page.text  # sent to sign in
    assert "Vera Victim" not in page.text
    # The same forgery with the app's real key would pass: the refusal is about the key.
    from foyer.settings import get_settings

    genuine = await api.get("/myaccess", cookies={
        "foyer_session": forged_session_cookie(victim.id, get_settings().secret_key)})
    assert genuine.status_code == 200 and "Vera Victim" in genuine.text
