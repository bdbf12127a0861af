"""Option parsing shared by commands."""

from __future__ import annotations

import json
from typing import Any

from rlhub.core.errors import ConfigError


def parse_config(items: list[str] | None) -> dict[str, Any]:
    """`key=value` pairs; values are JSON when they parse as JSON (`3`, `true`, `[1,2]`), else strings."""
    config: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--config expects key=value, got {item!r}")
        try:
            config[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            config[key.strip()] = raw
    return config


__all__ = ["parse_config"]
