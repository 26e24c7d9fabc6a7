"""`foyer dev` keeps its state directory (secret key, admin token, SQLite database, Temporal's
database, caught mail) readable by its owner only, even when started with a permissive umask, and
tightens a state directory an older version left open."""

import pytest
import os
import signal
import stat
import time
import uuid
from pathlib import Path

import httpx

from tests import test_dev_stack
from tests.ports import free_port
from tests.test_dev_stack import _alive, _descendants

pytestmark = [pytest.mark.long_running(30), pytest.mark.database_independent]


class DevStack(test_dev_stack.DevStack):
    """`foyer dev` started with umask 022 (what most shells have)."""

    def __init__(self, env: dict[str, str]):
        super().__init__(env, umask=0o022)

    def stop(self, timeout: float = 20) -> None:
        tree = _descendants(self.process.pid)
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
            deadline = time.monotonic() + timeout
            while [pid for pid in tree if _alive(pid)] and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            for pid in tree | {self.process.pid}:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def open_to_others(root: Path) -> list[str]:
    """Everything under root (root included) that group or others may read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # e.g. a journal file that came and went
            continue
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def test_foyer_dev_state_is_owner_only(tmp_path):
    state = tmp_path / "state"
    # What an older `foyer dev` (or a umask of 022) left behind: open directory, open file.
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    for folder in ("mail", "mail/cur", "mail/new", "mail/tmp"):  # a Maildir
        (state / folder).mkdir(mode=0o755)
        (state / folder).chmod(0o755)
    (state / "mail/cur/1.old-message").write_text("Subject: old\n\nleft over\n")
    (state / "mail/cur/1.old-message").chmod(0o644)
    (state / "notes.txt").write_text("left over\n")
    (state / "notes.txt").chmod(0o644)

    api_port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FOYER_")}
    env.update({
        "FOYER_STATE_DIR": str(state),
        "FOYER_API_PORT": str(api_port),
        "FOYER_DEV_TEMPORAL_PORT": str(free_port()),
        "FOYER_DEV_UI_PORT": str(free_port()),
        "FOYER_DEV_SMTP_PORT": str(free_port()),
    })
    address = f"perm-{uuid.uuid4().hex[:8]}@fabrikam.example"
    stack = DevStack(env)
    try:
        token = stack.wait_until_ready()
        base = f"http://127.0.0.1:{api_port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            stack.invite_and_wait_for_mail(client, token, address)  # the mail is on disk now
        for name in ("secret_key", "admin_token", "foyer.db", "temporal.db", "mail"):
            assert (state / name).exists(), name
        assert any(p.is_file() for p in (state / "mail").rglob("*")), "no caught mail on disk"
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert open_to_others(state) == []
    finally:
        stack.stop()
    assert open_to_others(state) == []  # also what was written while stopping
