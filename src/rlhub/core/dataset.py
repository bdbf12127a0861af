"""Environments backed by a table of questions and answers: a company's own data, a shipped set.

Rows come from a JSONL or CSV file (`question` and `answer` columns by default). The split of a row is
fixed by the hash of its question, so train and test never share a question however the file is
reordered or grows; within a split, a seed fixes the order. Task `i` wraps around the split.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import sys
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from rlhub.core.env import SPLITS, SingleTurnEnv
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


class DatasetEnv(SingleTurnEnv):
    """Single-turn questions from a data file. Subclasses set `data_file` and a `rubric`."""

    data_file: ClassVar[str] = ""
    """Path of the JSONL/CSV file, relative to the subclass's module directory (or absolute)."""
    question_key: ClassVar[str] = "question"
    answer_key: ClassVar[str] = "answer"
    test_fraction: ClassVar[float] = 0.2

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        module_dir = Path(sys.modules[type(self).__module__].__file__ or ".").parent
        rows = read_rows(module_dir / self.data_file)
        for number, row in enumerate(rows, 1):
            missing = {self.question_key, self.answer_key} - set(row)
            if missing:
                raise ConfigError(f"{self.data_file} row {number} lacks {', '.join(sorted(missing))}")
        return rows

    def row_split(self, row: dict[str, Any]) -> str:
        digest = hashlib.sha256(str(row[self.question_key]).strip().encode()).digest()
        return "test" if int.from_bytes(digest[:4], "big") % 10_000 < self.test_fraction * 10_000 else "train"

    def split_rows(self, split: str, seed: int = 0) -> list[dict[str, Any]]:
        """The rows of a split in the seed's order (computed once per split and seed)."""
        orders: dict[tuple[str, int], list[dict[str, Any]]] = self.__dict__.setdefault("_orders", {})
        if (split, seed) not in orders:
            rows = [r for r in self.rows if self.row_split(r) == split]
            rows.sort(key=lambda r: str(r[self.question_key]))
            random.Random(f"{self.spec}/{split}/{seed}").shuffle(rows)
            orders[split, seed] = rows
        return orders[split, seed]

    def size(self, split: str) -> int:
        return len(self.split_rows(split))

    def task(self, index: int, split: str = "train", seed: int = 0) -> Task:
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        rows = self.split_rows(split, seed)
        if not rows:
            raise ConfigError(f"{self.spec}: the {split} split is empty ({len(self.rows)} rows in all)")
        row = rows[index % len(rows)]
        info = {k: v for k, v in row.items() if k not in (self.question_key, self.answer_key)}
        task = Task(prompt=str(row[self.question_key]), answer=row[self.answer_key], info=info)
        return self._finish(task, split, seed, index)


__all__ = ["DatasetEnv", "read_rows"]
