"""Run a candidate function against hidden tests in the sandbox; judge the results outside it.

Only the test *arguments* enter the sandbox (on stdin). A small harness loads the candidate as a module
named `solution` (so its `if __name__ == "__main__"` block does not run), calls the entry function on
each argument list and prints one tagged JSON line per test. The expected values never enter the
sandbox: the verdict is the comparison, done here, of the returned values with them.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rlhub.core.types import Score, ScoreStatus
from rlhub.verify import sandbox

_FENCE_RE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)

_HARNESS = """\
import json as _json, sys as _sys
_args = _json.loads(_sys.stdin.read())
_ns = {{"__name__": "solution"}}
exec(compile({source!r}, "solution.py", "exec"), _ns)
_fn = _ns[{entry!r}]
for _i, _a in enumerate(_args):
    try:
        _line = _json.dumps(["ok", _fn(*_a)], default=repr)
    except BaseException as _e:
        _line = _json.dumps(["raised", type(_e).__name__ + ": " + str(_e)[:200]])
    print({mark!r}, _i, _line, flush=True)
"""


def extract_code(response: str) -> str | None:
    """The last fenced code block of a response, or the whole response when it is bare code."""
    text = _THINK_RE.sub("", response)
    blocks = _FENCE_RE.findall(text)
    if blocks:
        return str(blocks[-1])
    return text if re.search(r"^\s*def \w+\(", text, re.MULTILINE) else None


@dataclass(frozen=True)
class Prepared:
    """A sandbox job plus what is needed to judge its output."""

    job: sandbox.Job
    mark: str
    expected: list[Any]


def prepare(code: str, entry: str, tests: Sequence[dict[str, Any]], timeout_s: float, memory_mb: int) -> Prepared:
    mark = f"@@rlhub-{secrets.token_hex(8)}@@"
    program = _HARNESS.format(source=code, entry=entry, mark=mark)
    stdin = json.dumps([t["args"] for t in tests])
    limits = sandbox.Limits(timeout_s=timeout_s, memory_mb=memory_mb)
    return Prepared(sandbox.Job(program, stdin, limits), mark, [t["expected"] for t in tests])


def outcomes(prepared: Prepared, result: sandbox.ExecResult) -> list[str]:
    """Per test: "" when it passed, else why it failed."""
    reported: dict[int, Any] = {}
    for line in result.stdout.splitlines():
        head, _, rest = line.partition(" ")
        if head != prepared.mark:
            continue
        index, _, payload = rest.partition(" ")
        try:
            reported[int(index)] = json.loads(payload)
        except ValueError:
            continue
    out = []
    for i, expected in enumerate(prepared.expected):
        got = reported.get(i)
        ok = got is not None and got[0] == "ok" and same(got[1], expected)
        out.append("" if ok else _why(got, expected, result))
    return out


def judge(prepared: Prepared, result: sandbox.ExecResult) -> Score:
    """Reward = share of tests whose returned value equals the expected one."""
    failures = outcomes(prepared, result)
    total = len(failures)
    passed = failures.count("")
    if passed == total:
        return Score(value=1.0, status=ScoreStatus.correct, extracted=f"{passed}/{total}")
    status = ScoreStatus.timeout if result.status == "timeout" else ScoreStatus.incorrect
    first = next(f"test {i}: {why}" for i, why in enumerate(failures) if why)
    return Score(value=passed / total, status=status, extracted=f"{passed}/{total}", detail=first)


def _why(got: Any, expected: Any, result: sandbox.ExecResult) -> str:
    if got is None:
        tail = result.stderr.strip().splitlines()[-1:] or [result.status]
        return f"no result ({result.status}: {tail[0][:200]})"
    if got[0] == "raised":
        return f"raised {got[1]}"
    return f"returned {json.dumps(got[1])[:200]}, expected {json.dumps(expected)[:200]}"


def same(got: Any, expected: Any) -> bool:
    """JSON equality with a tolerance for floats; bools are not numbers here."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in expected)
    return bool(got == expected) and type(got) is type(expected)


def score_code(
    response: str, entry: str, tests: Sequence[dict[str, Any]], *, timeout_s: float = 10.0, memory_mb: int = 512
) -> Score:
    """Extract the code from `response`, run it on `tests` in the sandbox and judge the results."""
    code = extract_code(response)
    if code is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no ```python code block in the response")
    prepared = prepare(code, entry, tests, timeout_s, memory_mb)
    result = sandbox.run_batch([prepared.job])[0]
    return judge(prepared, result)


__all__ = ["Prepared", "extract_code", "judge", "outcomes", "prepare", "same", "score_code"]
