"""Fixtures shared by the security regressions."""

import os

import pytest

from foyer.settings import get_settings


@pytest.fixture
def keys(monkeypatch):
    """keys(current, *previous): switch the keys the whole process (API and worker) uses; None as
    `current` is the suite's own key. Restored after the test."""
    suite_key = os.environ["FOYER_SECRET_KEY"]

    def use(current: str | None = None, *previous: str) -> None:
        monkeypatch.setenv("FOYER_SECRET_KEY", current or suite_key)
        monkeypatch.setenv("FOYER_PREVIOUS_SECRET_KEYS", ",".join(previous))
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()
