"""Where local state goes when FOYER_STATE_DIR is not set: .foyer/ in a checkout, else the XDG
state directory (never site-packages); FOYER_STATE_DIR always wins."""

import pytest
import subprocess
import sys
from pathlib import Path

from foyer import settings

pytestmark = pytest.mark.database_independent


def test_a_checkout_keeps_its_dot_foyer(monkeypatch):
    monkeypatch.setattr(settings, "IN_CHECKOUT", True)
    assert settings.default_state_dir() == settings.PROJECT_ROOT / ".foyer"


def test_outside_a_checkout_state_goes_to_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "IN_CHECKOUT", False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert settings.default_state_dir() == tmp_path / "xdg" / "foyer"


def test_outside_a_checkout_without_xdg_state_home_it_is_home_local_state(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "IN_CHECKOUT", False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for value in ("", "relative/is/ignored"):
        monkeypatch.setenv("XDG_STATE_HOME", value)
        assert settings.default_state_dir() == tmp_path / ".local" / "state" / "foyer"


def test_foyer_state_dir_wins_and_the_default_database_follows_it(tmp_path):
    code = "from foyer.settings import STATE_DIR, Settings; print(STATE_DIR); print(Settings().database_url)"
    env = {"FOYER_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert Path(out[0]) == tmp_path / "state"
    assert out[1] == f"sqlite:///{tmp_path / 'state' / 'foyer.db'}"


def test_db_upgrade_on_the_default_database_makes_the_state_directory(tmp_path):
    state = tmp_path / "fresh" / "state"
    env = {"FOYER_STATE_DIR": str(state), "FOYER_ENV": "test", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "foyer", "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True,
                   text=True, check=True)
    assert (state / "foyer.db").is_file()
    assert state.stat().st_mode & 0o777 == 0o700
