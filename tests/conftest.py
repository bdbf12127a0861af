"""Shared fixtures. Every test gets its own RLHUB_HOME so nothing touches the user's ~/.rlhub."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("rlhub-home")
    monkeypatch.setenv("RLHUB_HOME", str(home))
    return home
