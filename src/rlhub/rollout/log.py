"""Versioned JSONL rollout logs: one header line, one line per rollout as it finishes, footer lines.

    {"type": "header", "schema_version": 1, "env": "demo/add@0.1.0", ...}
    {"type": "rollout", "task": {...}, "sample": 0, "messages": [...], "score": {...}, ...}
    {"type": "footer", "metrics": {...}, ...}

A resumed run appends to the same file, so rollouts and footers may follow a footer: the reader keeps
the last footer, and the last record of each (task id, sample) pair (a resumed run retries failed
ones). A crash can leave a truncated last line; the reader ignores it and the writer cuts it off
before appending.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from rlhub.core.env import Environment
from rlhub.core.errors import LogError
from rlhub.core.types import JSON, SCHEMA_VERSION, Frozen, Rollout, Sampling
from rlhub.rollout._json import loads
from rlhub.rollout.metrics import Metrics

_ROLLOUT_PREFIX = b'{"type":"rollout",'


class LogHeader(Frozen):
    """What a run is: enough to reproduce it and to refuse resuming it with something else."""

    type: Literal["header"] = "header"
    schema_version: int = SCHEMA_VERSION
    rlhub_version: str
    env: str
    env_config: dict[str, JSON]
    env_hash: str
    env_source: str | None = None
    model: str
    base_url: str | None = None
    sampling: Sampling
    split: str
    seed: int
    n: int
    r: int
    started_at: str
    run: dict[str, JSON] = Field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """The fields a resumed run must share with the log it appends to."""
        return self.model_dump(include={"env", "env_config", "env_hash", "model", "sampling", "split", "seed"})


class LogFooter(Frozen):
    type: Literal["footer"] = "footer"
    finished_at: str
    duration_s: float
    rollouts_per_s: float
    metrics: Metrics


@dataclass(repr=False)
class RunLog:
    path: Path
    header: LogHeader
    rollouts: list[Rollout]
    footer: LogFooter | None
    truncated: bool = False

    def __repr__(self) -> str:  # short: asyncio and debuggers repr results, and logs hold thousands of rollouts
        return f"RunLog({str(self.path)!r}, {self.header.env}, {len(self.rollouts)} rollouts)"


def env_hash(env: Environment) -> str:
    """Fingerprint of an environment: id, version, config and its module's source (when available)."""
    digest = hashlib.sha256(f"{env.spec}\n{sorted(env.config.items())!r}\n".encode())
    try:
        source = inspect.getsourcefile(type(env))
    except TypeError:
        source = None
    if source and Path(source).is_file():
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:16]


def read_log(path: str | Path) -> RunLog:
    """Parse a log; a truncated last line (a crash mid-write) is skipped, any other bad line is an error."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LogError(f"cannot read log {path}: {exc.strerror}") from None
    lines = data.split(b"\n")
    truncated = bool(lines[-1])
    lines = lines[:-1]
    header: LogHeader | None = None
    footer: LogFooter | None = None
    rollouts: dict[tuple[str, int], Rollout] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
            kind = record.pop("type", None)
            if kind == "rollout":
                rollout = Rollout.model_validate(record)
                rollouts.pop(rollout.key, None)
                rollouts[rollout.key] = rollout
            elif kind == "header" and header is None:
                header = LogHeader.model_validate(record)
                if header.schema_version > SCHEMA_VERSION:
                    raise LogError(
                        f"{path} uses log schema {header.schema_version}; this rlhub reads up to {SCHEMA_VERSION}"
                    )
            elif kind == "footer":
                footer = LogFooter.model_validate(record)
            else:
                raise ValueError(f"unexpected record type {kind!r}")
        except (ValueError, ValidationError) as exc:
            raise LogError(f"{path}:{number}: not a valid rollout log line: {str(exc).splitlines()[0]}") from None
    if header is None:
        raise LogError(f"{path} has no header line; is it an rlhub rollout log?")
    return RunLog(path=path, header=header, rollouts=list(rollouts.values()), footer=footer, truncated=truncated)


class LogWriter:
    """Appends records and flushes each, so a killed run loses at most the line being written."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            _cut_partial_line(path)
        self.path = path
        self._file = path.open("ab")

    def header(self, header: LogHeader) -> None:
        self.line(header.model_dump_json().encode())

    def rollout(self, rollout: Rollout) -> None:
        self.line(_ROLLOUT_PREFIX + rollout.model_dump_json().encode()[1:])

    def footer(self, footer: LogFooter) -> None:
        self.line(footer.model_dump_json().encode())

    def line(self, data: bytes) -> None:
        """Append one already-serialised record."""
        self._file.write(data + b"\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _cut_partial_line(path: Path) -> None:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


__all__ = ["LogFooter", "LogHeader", "LogWriter", "RunLog", "env_hash", "read_log"]
