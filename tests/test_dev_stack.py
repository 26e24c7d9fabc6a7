"""`foyer dev` as a newcomer runs it: everything starts, an invitation sent with the printed admin
token shows up at /dev/mail, and one SIGINT (Ctrl-C) stops every process of the tree, the
Temporal dev server included. A second start keeps the state, the admin token and the mail.

The stack runs on its own embedded defaults (SQLite in a temporary FOYER_STATE_DIR, free ports),
not on the suite's database.
"""

import pytest
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from tests.ports import free_port

pytestmark = [pytest.mark.long_running(50), pytest.mark.database_independent]

FOYER = str(Path(sys.executable).parent / "foyer")



def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


class DevStack:
    def __init__(self, env: dict[str, str], umask: int | None = None):
        self.output: list[str] = []
        self.process = subprocess.Popen([FOYER, "dev"], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        preexec_fn=None if umask is None else (lambda: os.umask(umask)))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def text(self) -> str:
        return "".join(self.output)

    def wait_until_ready(self, timeout: float = 120) -> str:
        """Returns the admin token from the banner. The deadline only stops a hang: on a busy
        machine (the suite runs two test processes at once) a start can take a minute."""
        deadline = time.monotonic() + timeout
        while "Foyer is running" not in self.text() or "curl" not in self.text():
            assert self.process.poll() is None, f"foyer dev exited:\n{self.text()}"
            assert time.monotonic() < deadline, f"foyer dev not ready:\n{self.text()}"
            time.sleep(0.1)
        return re.search(r"Bearer (foyer_[A-Za-z0-9_-]+)", self.text()).group(1)

    def invite_and_wait_for_mail(self, client: httpx.Client, token: str, address: str,
                                 timeout: float = 90) -> httpx.Response:
        """Invite `address` with the admin token; returns the /dev/mail listing once the mail is
        there. The deadline is generous: the machine may be busy."""
        invited = client.post("/v1.0/invitations", headers={"Authorization": f"Bearer {token}"},
                              json={"invitedUserEmailAddress": address,
                                    "inviteRedirectUrl": "https://example.org",
                                    "sendInvitationMessage": True})
        assert invited.status_code == 201, invited.text
        deadline = time.monotonic() + timeout
        while address not in (listing := client.get("/dev/mail")).text:
            assert time.monotonic() < deadline, self.text()[-3000:]
            time.sleep(0.2)
        return listing

    def interrupt_and_check_all_gone(self, timeout: float = 20) -> None:
        tree = _descendants(self.process.pid)
        names = {pid: _cmdline(pid) for pid in tree}
        assert any("temporal" in name and "start-dev" in name for name in names.values()), names
        assert len(tree) >= 3, names  # temporal, worker, api
        self.process.send_signal(signal.SIGINT)
        try:
            assert self.process.wait(timeout=timeout) == 0, self.text()
            deadline = time.monotonic() + timeout
            while (left := [pid for pid in tree if _alive(pid)]) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not left, f"still running after Ctrl-C: {[names[p] for p in left]}"
        finally:
            for pid in tree | {self.process.pid}:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_foyer_dev_runs_everything_and_one_ctrl_c_stops_it_all(tmp_path):
    api_port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FOYER_")}
    env.update({
        "FOYER_STATE_DIR": str(tmp_path / "state"),
        "FOYER_API_PORT": str(api_port),
        "FOYER_DEV_TEMPORAL_PORT": str(free_port()),
        "FOYER_DEV_UI_PORT": str(free_port()),
        "FOYER_DEV_SMTP_PORT": str(free_port()),
    })
    base = f"http://127.0.0.1:{api_port}"
    address = f"newcomer-{uuid.uuid4().hex[:8]}@fabrikam.example"

    started = time.monotonic()
    stack = DevStack(env)
    try:
        token = stack.wait_until_ready()
        startup = time.monotonic() - started
        text = stack.text()
        for url in (f"{base}/docs", f"{base}/dev/mail", "Temporal Web UI   http://127.0.0.1:"):
            assert url in text
        state = tmp_path / "state"
        assert (state / "admin_token").read_text().strip() == token
        assert (state / "admin_token").stat().st_mode & 0o777 == 0o600
        assert (state / "secret_key").stat().st_mode & 0o777 == 0o600
        assert (state / "temporal.db").exists()

        with httpx.Client(base_url=base, timeout=10) as client:
            listing = stack.invite_and_wait_for_mail(client, token, address)
            link = re.search(r'href="(/dev/mail/[^"]+)"', listing.text).group(1)
            message = client.get(link)
            assert message.status_code == 200
            assert f"{base}/redeem/" in message.text  # links in mail point at this API
    finally:
        stack.interrupt_and_check_all_gone()

    # A second start keeps the admin token and the caught mail (the state lives in FOYER_STATE_DIR).
    again = DevStack(env)
    try:
        assert again.wait_until_ready() == token
        with httpx.Client(base_url=base, timeout=10) as client:
            assert address in client.get("/dev/mail").text
    finally:
        again.interrupt_and_check_all_gone()
    print(f"foyer dev ready in {startup:.1f}s (first start)")
