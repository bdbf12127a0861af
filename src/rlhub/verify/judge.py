"""LLM judge: a model grades a response against the reference, through any `ModelClient`.

    judge = Judge(client)                            # the default template grades A / B / C
    rubric = Rubric(correct=judge)                   # sync call: usable as a reward function
    score = await judge.ascore(response, reference, question="...")

The judge sends its own prompt (`template`, with `{question}`, `{reference}` and `{response}`) and
parses the grade robustly: the last `GRADE: A|B|C` (A = 1.0, B = 0.5, C = 0.0), else a
`SCORE: 7/10` / `SCORE: 0.7` style number, else a lone CORRECT / INCORRECT. A reply with no grade is
`unparseable` and is not cached; a judge that cannot be reached gives an `error` score (a failure for
`rlhub check`), never a low grade that looks like a verdict. Grades are cached by a hash of (model
name, prompt, response, reference): in memory, and in a SQLite file when `cache_path` is given.

Calling the judge synchronously (`judge(response, reference)`, which is what a Rubric does) runs the
request with `asyncio.run`; when the calling thread already runs an event loop, it runs in a fresh
thread with its own loop instead (the caller waits; nothing deadlocks). Either way the client is used
from a new event loop each time, so it must not be tied to one loop (create HTTP sessions per request).
Inside an async runner prefer `await judge.ascore(...)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rlhub.core.errors import ModelError
from rlhub.core.model import ModelClient
from rlhub.core.types import Message, Sampling, Score, ScoreStatus, Task

DEFAULT_TEMPLATE = """You are grading an answer to a question against a reference answer.

Question:
{question}

Reference answer:
{reference}

Answer to grade:
{response}

Judge only whether the answer means the same as the reference; ignore style and length. Do not solve
the question yourself. Explain briefly, then end with exactly one line:
GRADE: A   (correct: equivalent to the reference)
GRADE: B   (partially correct)
GRADE: C   (incorrect, or no answer)"""

_GRADES = {"A": 1.0, "B": 0.5, "C": 0.0}
_GRADE_RE = re.compile(r"GRADE\s*[:=]?\s*\**\s*\(?([ABC])\b", re.IGNORECASE)
_FRACTION_RE = re.compile(r"SCORE\s*[:=]?\s*\**\s*(\d+(?:\.\d+)?)\s*(?:/|out of)\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_NUMBER_RE = re.compile(r"SCORE\s*[:=]?\s*\**\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_VERDICT_RE = re.compile(r"\b(INCORRECT|CORRECT)\b")
MAX_TEXT_CHARS = 20_000


def parse_grade(text: str) -> float | None:
    """The grade in a judge's reply as a value in [0, 1]; None when it gives none."""
    grades = _GRADE_RE.findall(text)
    if grades:
        return _GRADES[grades[-1].upper()]
    fractions = _FRACTION_RE.findall(text)
    if fractions:
        num, den = (float(x) for x in fractions[-1])
        return min(max(num / den, 0.0), 1.0) if den > 0 else None
    numbers = _NUMBER_RE.findall(text)
    if numbers:
        value = float(numbers[-1])
        return value if value <= 1.0 else (value / 10 if value <= 10 else None)
    verdicts = _VERDICT_RE.findall(text.upper())
    if verdicts:
        return 1.0 if verdicts[-1] == "CORRECT" else 0.0
    return None


class _Cache:
    """In-memory dict in front of an optional SQLite table (one connection per access: thread-safe)."""

    def __init__(self, path: Path | None):
        self.memory: dict[str, float] = {}
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("CREATE TABLE IF NOT EXISTS grades (key TEXT PRIMARY KEY, value REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, timeout=30)

    def get(self, key: str) -> float | None:
        if key in self.memory:
            return self.memory[key]
        if self.path is None:
            return None
        with self._connect() as db:
            row = db.execute("SELECT value FROM grades WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self.memory[key] = row[0]
        return None if row is None else float(row[0])

    def put(self, key: str, value: float) -> None:
        self.memory[key] = value
        if self.path is not None:
            with self._connect() as db:
                db.execute("INSERT OR REPLACE INTO grades (key, value) VALUES (?, ?)", (key, value))


class Judge:
    """A reward function backed by a model (see the module docstring)."""

    def __init__(
        self,
        client: ModelClient,
        *,
        template: str = DEFAULT_TEMPLATE,
        sampling: Sampling = Sampling(temperature=0.0, max_tokens=1024),
        cache_path: str | Path | None = None,
        timeout_s: float = 120.0,
    ):
        self.client = client
        self.template = template
        self.sampling = sampling
        self.timeout_s = timeout_s
        self.cache = _Cache(Path(cache_path) if cache_path is not None else None)

    def prompt(self, response: str, reference: object, question: str = "") -> str:
        return self.template.format(
            question=question[:MAX_TEXT_CHARS],
            reference=str(reference)[:MAX_TEXT_CHARS],
            response=response[-MAX_TEXT_CHARS:],
        )

    def key(self, prompt: str) -> str:
        return hashlib.sha256(json.dumps([self.client.name, prompt]).encode()).hexdigest()

    async def ascore(self, response: str, reference: object, *, question: str = "") -> Score:
        prompt = self.prompt(response, reference, question)
        key = self.key(prompt)
        cached = self.cache.get(key)
        if cached is not None:
            return _score(cached, "cached")
        try:
            completions = await asyncio.wait_for(
                self.client.complete([Message.user(prompt)], sampling=self.sampling), self.timeout_s
            )
        except TimeoutError:
            return Score(value=0.0, status=ScoreStatus.timeout, detail=f"judge gave no reply in {self.timeout_s:.0f}s")
        except ModelError as exc:  # no grade: an error, never a low score that looks like a verdict
            return Score(value=0.0, status=ScoreStatus.error, detail=f"judge model {self.client.name!r} failed: {exc}")
        reply = completions[0].message.content if completions else ""
        grade = parse_grade(reply)
        if grade is None:
            return Score(value=0.0, status=ScoreStatus.unparseable, detail=f"no grade in: {reply[-200:]!r}")
        self.cache.put(key, grade)
        return _score(grade, reply[-200:])

    def __call__(self, response: str, reference: object, task: Task | None = None) -> Score:
        question = next((m.content for m in reversed(task.prompt) if m.role == "user"), "") if task else ""
        coroutine = self.ascore(response, reference, question=question)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coroutine)
        with ThreadPoolExecutor(1) as pool:  # this thread runs a loop: never block it on itself
            return pool.submit(asyncio.run, coroutine).result()


def _score(grade: float, detail: str) -> Score:
    status = ScoreStatus.correct if grade >= 1.0 else ScoreStatus.incorrect
    return Score(value=grade, status=status, detail=detail)


__all__ = ["DEFAULT_TEMPLATE", "Judge", "parse_grade"]
