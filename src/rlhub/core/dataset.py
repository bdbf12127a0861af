"""Environments backed by a table of questions and answers: a company's own data, a shipped set.

`FromRecords` serves any environment whose tasks come from a finite list (shipped problems, bugs);
`DatasetEnv` reads the list from a JSONL or CSV file (`question` and `answer` columns by default). A
record's split is fixed by the hash of its key (the question), so train and test never share one however
the file is reordered or grows; within a split, a seed fixes the order. Task `i` wraps around the split.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from rlhub.core.env import SPLITS, Environment, SingleTurnEnv
from rlhub.core.errors import ConfigError
from rlhub.core.types import Task


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a `.jsonl` (one JSON object per line) or `.csv` (header row) file."""
    if not path.exists():
        raise ConfigError(f"data file {path} does not exist")
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{number}: expected a JSON object")
        rows.append(row)
    return rows


def bucket(key: str) -> int:
    """A stable bucket in [0, 10000) for a key: the same on every machine and Python run."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % 10_000


class FromRecords(Environment):
    """Tasks from a finite list of records (problems, bugs, rows), for any episode kind:
    `class Mine(FromRecords, rlhub.ToolEnv)`.

    A record's split is fixed by the bucket of its `split_key` (records that must stay together, like
    several bugs of one problem, share a key); within a split, a seed fixes the order; task `i` wraps
    around the split. Subclasses implement `records`, `split_key` and `record_task`.
    """

    test_fraction: ClassVar[float] = 0.2

    def records(self) -> Sequence[Any]:
        raise NotImplementedError

    def split_key(self, record: Any) -> str:
        raise NotImplementedError

    def order_key(self, record: Any) -> str:
        """A unique key per record, hashed with the seed to order a split."""
        return self.split_key(record)

    def record_task(self, record: Any) -> Task:
        raise NotImplementedError

    def split_records(self, split: str, seed: int = 0) -> list[Any]:
        """The records of a split in the seed's order (computed once per split and seed)."""
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        orders: dict[tuple[str, int], list[Any]] = self.__dict__.setdefault("_orders", {})
        if (split, seed) not in orders:
            threshold = self.test_fraction * 10_000
            chosen = [
                r for r in self.records() if ("test" if bucket(self.split_key(r)) < threshold else "train") == split
            ]
            orders[split, seed] = sorted(chosen, key=lambda r: bucket(f"{seed}:{self.order_key(r)}"))
        return orders[split, seed]

    def size(self, split: str) -> int:
        return len(self.split_records(split))

    def task(self, index: int, split: str = "train", seed: int = 0) -> Task:
        pool = self.split_records(split, seed)
        if not pool:
            raise ConfigError(f"{self.spec}: the {split} split is empty with this config")
        return self._finish(self.record_task(pool[index % len(pool)]), split, seed, index)


class DatasetEnv(FromRecords, SingleTurnEnv):
    """Single-turn questions from a data file. Subclasses set `data_file` and a `rubric`."""

    data_file: ClassVar[str] = ""
    """Path of the JSONL/CSV file, relative to the subclass's module directory (or absolute)."""
    question_key: ClassVar[str] = "question"
    answer_key: ClassVar[str] = "answer"

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        module_dir = Path(sys.modules[type(self).__module__].__file__ or ".").parent
        rows = read_rows(module_dir / self.data_file)
        for number, row in enumerate(rows, 1):
            missing = {self.question_key, self.answer_key} - set(row)
            if missing:
                raise ConfigError(f"{self.data_file} row {number} lacks {', '.join(sorted(missing))}")
        return rows

    def records(self) -> list[dict[str, Any]]:
        return self.rows

    def split_key(self, record: dict[str, Any]) -> str:
        return str(record[self.question_key]).strip()

    def record_task(self, record: dict[str, Any]) -> Task:
        info = {k: v for k, v in record.items() if k not in (self.question_key, self.answer_key)}
        return Task(prompt=str(record[self.question_key]), answer=record[self.answer_key], info=info)


__all__ = ["DatasetEnv", "FromRecords", "bucket", "read_rows"]
