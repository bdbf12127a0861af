"""Score model-written Python against unit tests or stdin/stdout cases; the verdict is computed out here.

    from rlhub.verify import code
    code.score(response, {"tests": ["assert add(1, 2) == 3", "assert not is_odd(4)"]})
    code.score(response, {"cases": [{"input": "1 2\\n", "output": "3\\n"}]})
    rlhub.Rubric(correct=code.score)          # a reward function: (response, reference) -> Score

What enters the sandbox is the candidate's code and the *inputs* only. Expected stdout never does. For
an `assert X == <literal>` (either side) only `X` is evaluated inside; the literal stays here and the
value that `X` produced, printed as its repr, is compared here. `assert not X` becomes "X is falsy",
anything else "the whole expression is truthy". Harness lines carry a per-run random nonce and each test
index may be reported once; a program that exits early, prints fake results or patches builtins gains
nothing on `==` tests because it cannot know the values it would have to print. (Boolean asserts reveal
their expected value in their own source; a program that inspects the harness's frames or memory for the
nonce could fake those.) `Score.value` is the fraction of tests or cases passed.
"""

from __future__ import annotations

import ast
import itertools
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rlhub.core.types import Score, ScoreStatus
from rlhub.verify.sandbox import ExecResult, Job, Limits, SandboxPool, default_pool

DEFAULT_LIMITS = Limits(timeout_s=5.0, memory_mb=512)

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)

_HARNESS = """\
import os, sys


def main(plan, write=os.write, show=repr, truth=bool, run=exec, ev=eval, comp=compile, kind_of=type,
         Error=BaseException, Fail=AssertionError, copy=dict, fn_type=type(lambda: 0)):
    nonce = plan.pop("nonce")
    scalars = (int, float, complex, str, bytes, bool, type(None))
    sequences = (list, tuple, set, frozenset)

    def is_one_of(value, kinds):
        kind = kind_of(value)
        for candidate in kinds:
            if kind is candidate:
                return True
        return False

    def plain(value, depth=0):
        # exact builtin types only: their ==, repr and bool cannot be overridden by the program
        if depth > 50:
            return False
        if is_one_of(value, scalars):
            return True
        if is_one_of(value, sequences):
            for item in value:
                if not plain(item, depth + 1):
                    return False
            return True
        if kind_of(value) is dict:
            for key, item in value.items():
                if not (plain(key, depth + 1) and plain(item, depth + 1)):
                    return False
            return True
        return False

    def report(index, line):
        write(1, ("\\n%s %d %s\\n" % (nonce, index, show(line))).encode())

    def observe(index, thunk):
        try:
            value = thunk()
        except Error as exc:
            report(index, "!" + kind_of(exc).__name__)
            raise
        if not plain(value):
            report(index, "!returned a value that is not plain data")
            raise Fail
        return value

    def report_value(index, thunk):
        report(index, "=" + show(observe(index, thunk)))

    def report_truth(index, thunk, expected):
        value = truth(observe(index, thunk))
        report(index, "=" + show(value))
        if value is not expected:
            raise Fail

    def guard(function):
        def guarded(*args, **kwargs):
            value = function(*args, **kwargs)
            if not plain(value):
                raise TypeError("the candidate returned a value that is not plain data")
            return value
        return guarded

    namespace = {"__name__": "solution"}
    run(comp(plan.pop("code"), "solution.py", "exec"), namespace)
    tests = copy((name, guard(value) if kind_of(value) is fn_type else value) for name, value in namespace.items())
    tests["_rlhub_value"], tests["_rlhub_truth"] = report_value, report_truth
    for kind, index, source in plan.pop("steps"):
        if kind == "exec":
            run(comp(source, "tests.py", "exec"), tests)
        elif kind == "check":
            try:
                run(comp(source, "tests.py", "exec"), tests)
                tests["check"](tests[index])
                report(-1, "=done")
            except Error as exc:
                report(-1, "!" + kind_of(exc).__name__)
        else:
            try:
                value = ev(comp(source, "test_%d" % index, "eval"), tests)
                if not plain(value):
                    raise TypeError
                line = "=" + show(truth(value) if kind == "truth" else value)
            except Error as exc:
                line = "!" + kind_of(exc).__name__
            report(index, line)


main(eval(sys.stdin.read(), {"__builtins__": {}}))
"""
"""Runs the candidate as module `solution`, then each test, reporting values on fd 1. The builtins it needs
after the candidate ran are bound before, so patching builtins cannot change them. Its input is the repr of
a dict built here, read before the candidate runs; it imports nothing. Tests run in a copy of the
candidate's namespace whose functions may only return plain data (exact builtin types, whose `==`, `repr`
and truth the program cannot override), and every value reported must be plain data too. The asserts of
a `check(candidate)` function were rewritten here into reports."""


def extract_code(response: str) -> str | None:
    """The last ```python block of a markdown response, else the last untagged fenced block, else the whole
    response when it parses as Python; None otherwise."""
    blocks = _FENCE.findall(response)
    python = [body for lang, body in blocks if lang.lower() in ("python", "py", "python3")]
    chosen = python or [body for lang, body in blocks if not lang]
    if chosen:
        return chosen[-1]
    try:  # a bare program with no markdown around it
        return response if response.strip() and ast.parse(response) else None
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


@dataclass(frozen=True)
class _Test:
    """One assert. `source` is evaluated in the sandbox; its value (or truth, for kind "truth") is
    compared here with `expected`, which never enters the sandbox."""

    kind: str
    source: str
    expected: Any
    text: str

    def passes(self, value: Any) -> bool:
        return value is self.expected if self.kind == "truth" else bool(value == self.expected)


@dataclass(frozen=True)
class _Plan:
    """Sandbox jobs for one candidate and how to turn their results into a Score."""

    code: str
    jobs: list[Job]
    judge: Callable[[list[ExecResult]], Score]


def _compile_assert(node: ast.Assert) -> _Test:
    test, text = node.test, ast.unparse(node)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        left, right = test.left, test.comparators[0]
        for probe, literal in ((left, right), (right, left)):
            try:
                return _Test("value", ast.unparse(probe), ast.literal_eval(literal), text)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _Test("truth", ast.unparse(test.operand), False, text)
    return _Test("truth", ast.unparse(test), True, text)


def _parse_tests(tests: str | Sequence[str]) -> list[str | _Test]:
    """Top-level asserts become tests; other statements (imports, helpers) run in order as setup."""
    source = tests if isinstance(tests, str) else "\n".join(tests)
    return [_compile_assert(n) if isinstance(n, ast.Assert) else ast.unparse(n) for n in ast.parse(source).body]


def plan_tests(code: str, tests: str | Sequence[str], limits: Limits = DEFAULT_LIMITS) -> _Plan:
    """One sandbox run of the candidate followed by every assert of `tests`."""
    steps = _parse_tests(tests)
    checks = [step for step in steps if isinstance(step, _Test)]
    if not checks:
        hint = ' (a check(candidate) function needs "entry_point")' if "def check(" in str(tests) else ""
        raise ValueError(f"tests contain no assert statement{hint}")
    nonce = secrets.token_hex(16)
    number = itertools.count()
    wire = [(s.kind, next(number), s.source) if isinstance(s, _Test) else ("exec", -1, s) for s in steps]
    stdin = repr({"nonce": nonce, "code": code, "steps": wire})

    def judge(results: list[ExecResult]) -> Score:
        (result,) = results
        reported = _reported(result.stdout, nonce)
        failures = []
        for i, test in enumerate(checks):
            outcome = reported.get(i)
            if outcome is None or not outcome[0] or not test.passes(outcome[1]):
                failures.append(f"{test.text}: {_describe(outcome)}")
        return _verdict(len(checks), failures, [result])

    return _Plan(code, [Job(_HARNESS, stdin, limits)], judge)


class _CheckRewriter(ast.NodeTransformer):
    """Turns each `assert` into a report of its value (`X == <literal>`: the literal stays here) or truth."""

    def __init__(self) -> None:
        self.sites: list[tuple[int, _Test]] = []

    def visit_Assert(self, node: ast.Assert) -> ast.Expr:
        test = _compile_assert(node)
        args: list[ast.expr] = [ast.Constant(len(self.sites)), ast.Lambda(_NO_ARGS, _expression(test.source))]
        if test.kind == "truth":
            args.append(ast.Constant(test.expected))
        self.sites.append((node.lineno, test))
        call = ast.Call(ast.Name(f"_rlhub_{test.kind}", ast.Load()), args, [])
        return ast.copy_location(ast.Expr(call), node)


_NO_ARGS = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])


def _expression(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


def plan_check(code: str, tests: str, entry_point: str, limits: Limits = DEFAULT_LIMITS) -> _Plan:
    """HumanEval style: `tests` defines `check(candidate)`, called with the function `entry_point`.

    All or nothing: correct when `check` returns, every assert in it ran at least once and held each time
    it ran; the detail names the first failed asserts by line and source. (Requiring every assert to run
    means a program that forges reports must also know each `== <literal>` it skipped.)"""
    if not isinstance(tests, str) or not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise ValueError("a check(candidate) reference needs tests as source text and entry_point as a name")
    module = ast.parse(tests)
    checks = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if not checks:
        raise ValueError("tests define no check(candidate) function")
    rewriter = _CheckRewriter()
    rewriter.visit(checks[-1])
    source = ast.unparse(ast.fix_missing_locations(module))
    nonce = secrets.token_hex(16)
    stdin = repr({"nonce": nonce, "code": code, "steps": [("check", entry_point, source)]})
    sites = rewriter.sites

    def judge(results: list[ExecResult]) -> Score:
        (result,) = results
        failures = []
        finished: list[str] = []
        ran = set()
        for index, text in _report_lines(result.stdout, nonce):
            if index == -1:
                finished.append(text)
            elif 0 <= index < len(sites):
                ran.add(index)
                line, test = sites[index]
                ok, value = _literal_text(text[1:]) if text.startswith("=") else (False, f"raised {text[1:]}")
                if not ok or not test.passes(value):
                    failures.append(f"line {line}: {test.text}: {_describe((ok, value))}")
        if finished != ["=done"]:
            why = "did not finish" if not finished else "reported twice" if len(finished) > 1 else finished[0]
            failures.append(f"check({entry_point}): {why.replace('!', 'raised ', 1)}")
        failures += [f"line {line}: {test.text}: never ran" for i, (line, test) in enumerate(sites) if i not in ran]
        return _verdict(1, ["; ".join(failures[:3])] if failures else [], [result])

    return _Plan(code, [Job(_HARNESS, stdin, limits)], judge)


def _report_lines(stdout: str, nonce: str) -> Iterator[tuple[int, str]]:
    """(index, text) of every well-formed harness line of this run."""
    prefix = nonce + " "
    for line in stdout.splitlines():
        if not line.startswith(prefix):
            continue
        try:
            index_text, payload = line[len(prefix) :].split(" ", 1)
            index, text = int(index_text), ast.literal_eval(payload)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(text, str) and text[:1] in ("=", "!"):
            yield index, text


def _reported(stdout: str, nonce: str) -> dict[int, tuple[bool, Any]]:
    """By test index: (True, value) or (False, why). An index reported twice was forged: it fails."""
    seen: dict[int, tuple[bool, Any]] = {}
    forged = set()
    for index, text in _report_lines(stdout, nonce):
        if index in seen:
            forged.add(index)
        elif text.startswith("="):
            seen[index] = _literal_text(text[1:])
        else:
            seen[index] = (False, f"raised {text[1:]}")
    return seen | {index: (False, "reported twice") for index in forged}


def _literal_text(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, f"returned a value that is not a Python literal: {text[:100]}"


def _describe(outcome: tuple[bool, Any] | None) -> str:
    if outcome is None:
        return "no result"
    ok, value = outcome
    return f"got {value!r}"[:200] if ok else str(value)


def plan_cases(code: str, cases: Sequence[dict[str, str]], limits: Limits = DEFAULT_LIMITS) -> _Plan:
    """One sandbox run per stdin/stdout case; each case is `{"input": ..., "output": ...}`."""
    if not cases:
        raise ValueError("no stdin/stdout cases")
    expected = [_normalise(case["output"]) for case in cases]

    def judge(results: list[ExecResult]) -> Score:
        failures = []
        for i, (result, want) in enumerate(zip(results, expected, strict=True)):
            if result.status != "ok":
                failures.append(f"case {i}: {result.status} (exit {result.exit_code}) {result.stderr[-200:]}")
            elif _normalise(result.stdout) != want:
                failures.append(f"case {i}: wrong output {result.stdout[:100]!r}")
        return _verdict(len(cases), failures, results)

    return _Plan(code, [Job(code, case.get("input", ""), limits) for case in cases], judge)


def _normalise(text: str) -> str:
    """Trailing spaces on each line and trailing blank lines do not matter."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def _verdict(total: int, failures: list[str], results: list[ExecResult]) -> Score:
    passed = total - len(failures)
    if not failures:
        return Score(value=1.0, status=ScoreStatus.correct, detail=f"{passed}/{total} passed")
    statuses = {r.status for r in results}
    status = (
        ScoreStatus.timeout
        if "timeout" in statuses
        else ScoreStatus.error
        if statuses - {"ok"}
        else ScoreStatus.incorrect
    )
    detail = f"{passed}/{total} passed; " + "; ".join(failures[:3])
    return Score(value=passed / total, status=status, detail=detail[:2000])


def plan(response: str, reference: Any) -> _Plan | Score:
    """The sandbox work for one response, or the Score right away when there is nothing to run. A reference
    that cannot be read raises (ValueError, SyntaxError, ...), whatever the response."""
    if not isinstance(reference, dict) or not ({"tests", "cases"} & reference.keys()):
        raise ValueError(
            'a code reference is a dict with "tests" (asserts, or a check(candidate) function with '
            '"entry_point") or "cases" (stdin/stdout pairs)'
        )
    code = extract_code(response)
    limits = Limits(
        timeout_s=float(reference.get("timeout_s", DEFAULT_LIMITS.timeout_s)),
        memory_mb=int(reference.get("memory_mb", DEFAULT_LIMITS.memory_mb)),
    )
    if "entry_point" in reference:
        planned = plan_check(code or "", reference["tests"], reference["entry_point"], limits)
    elif "tests" in reference:
        planned = plan_tests(code or "", reference["tests"], limits)
    else:
        planned = plan_cases(code or "", reference["cases"], limits)
    if code is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no fenced code block in the response")
    return planned


def _plan_or_error(response: str, reference: Any) -> _Plan | Score:
    """A reference that cannot be read is that item's `error`; the rest of a batch is still scored."""
    try:
        return plan(response, reference)
    except (ValueError, TypeError, KeyError, SyntaxError, RecursionError, MemoryError) as exc:
        return Score(value=0.0, status=ScoreStatus.error, detail=f"bad reference: {type(exc).__name__}: {exc}"[:2000])


def score(response: str, reference: Any) -> Score:
    """Reward function: run the code in `response` against the tests or cases in `reference`."""
    return score_many([(response, reference)])[0]


def score_many(items: Sequence[tuple[str, Any]], pool: SandboxPool | None = None) -> list[Score]:
    """Score many (response, reference) pairs, running all their programs concurrently on the pool."""
    plans = [_plan_or_error(response, reference) for response, reference in items]
    jobs = [job for p in plans if isinstance(p, _Plan) for job in p.jobs]
    results = iter((pool or default_pool()).run_many(jobs))
    scores = []
    for p in plans:
        if isinstance(p, _Plan):
            verdict = p.judge([next(results) for _ in p.jobs])
            scores.append(verdict.model_copy(update={"extracted": p.code}))
        else:
            scores.append(p)
    return scores


__all__ = ["DEFAULT_LIMITS", "extract_code", "plan", "plan_cases", "plan_check", "plan_tests", "score", "score_many"]
