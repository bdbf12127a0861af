"""Versioned JSONL rollout logs: one header line, one line per rollout as it finishes, a footer line.

    {"type": "header", "schema_version": 1, "env": "demo/add@0.1.0", ...}
    {"type": "rollout", "task": {...}, "sample": 0, "messages": [...], "score": {...}, ...}
    {"type": "footer", "metrics": {...}, ...}

One log is one run: its header's `identity()` (everything that changes results) must match for a run
to append to it. A resumed run appends, so until it finishes a log may hold a failed record and, later,
the retry that replaces it: the reader keeps the last record of each (task id, sample) pair, and a
footer only when nothing follows it. A finished resumed run rewrites the log (atomically) to its
header, one record per pair and its footer. A crash can leave a truncated last line; the reader
ignores it and the writer cuts it off before appending. A writer holds an exclusive lock on its log,
so two processes never append to one run.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from rlhub.core.errors import LogError
from rlhub.core.metrics import Metrics
from rlhub.core.types import JSON, SCHEMA_VERSION, Frozen, Rollout, Sampling
from rlhub.rollout._json import loads

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
    model_settings: dict[str, JSON] = Field(default_factory=dict)
    base_url: str | None = None
    sampling: Sampling
    split: str
    seed: int
    start: int = 0
    n: int
    r: int
    started_at: str
    run: dict[str, JSON] = Field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """Everything that changes results: a run resumes a log only when these are equal."""
        return self.model_dump(mode="json", include=set(_IDENTITY))

    def differences(self, other: LogHeader) -> list[str]:
        """The settings in which two runs differ, by the names users know (`temperature`, `config.digits`)."""
        ours, theirs = _flat(self.identity()), _flat(other.identity())
        return [k for k in dict.fromkeys([*ours, *theirs]) if ours.get(k) != theirs.get(k)]


_IDENTITY = (
    "env",
    "env_config",
    "env_hash",
    "model",
    "model_settings",
    "base_url",
    "sampling",
    "split",
    "seed",
    "start",
    "n",
    "r",
)


_PREFIX = {"sampling": "sampling", "model_settings": "model"}


def _flat(identity: dict[str, Any]) -> dict[str, Any]:
    """One level of names: `temperature`, `mock_accuracy`, `config.digits`; `sampling_seed` where a
    nested name would shadow another."""
    out: dict[str, Any] = {}
    for name in _IDENTITY:
        value = identity[name]
        if name == "env_config":
            out.update({f"config.{k}": v for k, v in value.items()})
        elif name in _PREFIX:
            for k, v in value.items():
                out[f"{_PREFIX[name]}_{k}" if k in _IDENTITY or k in out else k] = v
        else:
            out[name] = value
    return out


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
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
            kind = record.pop("type", None)
            if kind == "rollout":
                rollout = Rollout.model_validate(record)
                rollouts.pop(rollout.key, None)
                rollouts[rollout.key] = rollout
                footer = None  # an earlier session's footer no longer describes the rollouts
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


def read_header(path: Path) -> LogHeader | None:
    """The header of the log at `path`, or None when it is not a readable rollout log."""
    try:
        with path.open("rb") as f:
            first = f.readline()
        record = loads(first)
        return LogHeader.model_validate(record) if record.get("type") == "header" else None
    except (OSError, ValueError, AttributeError):
        return None


class LogWriter:
    """Appends records and flushes each, so a killed run loses at most the line being written.

    Opening takes an exclusive lock on the log (released on close, or by the kernel when the process
    dies): a second process writing the same run would duplicate its rollouts.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("ab")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise LogError(f"{path} is being written by another process (another rlhub eval of this run?)") from None
        _cut_partial_line(path)

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

    def compact(self, footer: LogFooter) -> None:
        """Rewrite the log as its header, the last record of each (task id, sample) and `footer`, atomically.

        Records keep their bytes; a crash mid-rewrite leaves the old log whole.
        """
        header, *lines = (line for line in self.path.read_bytes().split(b"\n") if line.strip())
        records: dict[tuple[str, int], bytes] = {}
        for line in lines:
            record = loads(line)
            if record["type"] == "rollout":
                key = (record["task"]["id"], record["sample"])
                records.pop(key, None)
                records[key] = line
        temporary = self.path.with_name(self.path.name + ".compacting")
        with temporary.open("wb") as f:
            f.write(b"\n".join([header, *records.values(), footer.model_dump_json().encode()]) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_partial_line(path: Path) -> None:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


__all__ = ["LogFooter", "LogHeader", "LogWriter", "RunLog", "read_header", "read_log"]
