"""Where the client finds its hub and token; the credentials file stays private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from rlhub.core.errors import ConfigError
from rlhub.hub.client import credentials_path, forget_token, hub_url, resolve_token, save_token


def test_hub_url_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLHUB_HUB_URL", raising=False)
    assert hub_url() == "http://127.0.0.1:8787"
    monkeypatch.setenv("RLHUB_HUB_URL", "http://hub.internal:9000/")
    assert hub_url() == "http://hub.internal:9000"
    assert hub_url("http://other/") == "http://other"


def test_saved_token_is_private_and_per_hub(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLHUB_TOKEN", raising=False)
    path = save_token("http://a:1/", "rlhub_a", "alice")
    save_token("http://b:2", "rlhub_b")
    assert path == credentials_path() == _isolated_home / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_token("http://a:1") == "rlhub_a" and resolve_token("http://b:2") == "rlhub_b"
    assert resolve_token("http://c:3") is None

    monkeypatch.setenv("RLHUB_TOKEN", "rlhub_env")
    assert resolve_token("http://a:1") == "rlhub_env"
    assert resolve_token("http://a:1", "rlhub_flag") == "rlhub_flag"
    assert resolve_token("http://a:1", "") is None  # explicitly anonymous

    assert forget_token("http://a:1") and not forget_token("http://a:1")
    monkeypatch.delenv("RLHUB_TOKEN")
    assert resolve_token("http://a:1") is None and resolve_token("http://b:2") == "rlhub_b"


def test_corrupt_credentials_file_is_a_clear_error(_isolated_home: Path) -> None:
    (_isolated_home / "credentials.json").write_text("{not json")
    with pytest.raises(ConfigError, match="rlhub login"):
        resolve_token("http://a:1")
