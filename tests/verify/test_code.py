"""Code scoring: fractions of tests passed, judged outside the sandbox, and programs that try to cheat."""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from rlhub.core.rubric import Rubric
from rlhub.core.types import Message, Score, ScoreStatus, Task
from rlhub.verify import code
from rlhub.verify.sandbox import SandboxPool

ADD_TESTS = {"tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"]}
SUM_CASES = {"cases": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7", "output": "12"}]}


def fenced(source: str) -> str:
    return f"Here is my solution:\n```python\n{textwrap.dedent(source).strip()}\n```\nDone."


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(2) as p:
        yield p


def score(pool: SandboxPool, response: str, reference: dict) -> Score:
    return code.score_many([(response, reference)], pool=pool)[0]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("```python\nx = 1\n```", "x = 1\n"),
        ("```py\na\n```\ntext\n```python\nb\n```", "b\n"),
        ("```\nplain\n```", "plain\n"),
        ("```bash\nls\n```\n```\nprint(2)\n```", "print(2)\n"),
        ("print(3)", "print(3)"),
        ("The answer is: it depends.", None),
        ("", None),
    ],
)
def test_extract_code(response: str, expected: str | None) -> None:
    assert code.extract_code(response) == expected


def test_all_tests_pass(pool: SandboxPool) -> None:
    result = score(pool, fenced("def add(a, b):\n    return a + b"), ADD_TESTS)
    assert (result.value, result.status) == (1.0, ScoreStatus.correct)
    assert result.extracted == "def add(a, b):\n    return a + b\n"


def test_partial_credit_and_detail(pool: SandboxPool) -> None:
    result = score(pool, fenced("def add(a, b):\n    return abs(a) + b"), ADD_TESTS)
    assert result.value == pytest.approx(2 / 3)
    assert result.status == ScoreStatus.incorrect
    assert "assert add(-1, 1) == 0: got 2" in (result.detail or "")


def test_assert_shapes(pool: SandboxPool) -> None:
    tests = textwrap.dedent("""
        import math
        def close(a, b):
            return abs(a - b) < 1e-9
        assert is_odd(3)
        assert not is_odd(4)
        assert [1, 3] == odds([1, 2, 3])
        assert close(half(1), 0.5)
        assert odds([]) == []
        assert math.isclose(half(3), 1.5)
    """)
    solution = (
        "def is_odd(n): return n % 2 == 1\ndef odds(xs): return [x for x in xs if is_odd(x)]\nhalf = lambda x: x / 2"
    )
    assert score(pool, fenced(solution), {"tests": tests}).value == 1.0
    wrong = "def is_odd(n): return True\ndef odds(xs): return xs\nhalf = lambda x: x // 2"
    assert score(pool, fenced(wrong), {"tests": tests}).value == pytest.approx(2 / 6)


def test_stdin_stdout_cases(pool: SandboxPool) -> None:
    right = fenced("print(sum(map(int, input().split())))  ")
    assert score(pool, right, SUM_CASES).status == ScoreStatus.correct
    wrong = fenced("a, b = map(int, input().split())\nprint(a + b if a < 5 else 0)")
    assert score(pool, wrong, SUM_CASES).value == 0.5


def test_crash_timeout_and_no_code(pool: SandboxPool) -> None:
    reference = {**ADD_TESTS, "timeout_s": 1}
    crash = score(pool, fenced("def add(a, b):\n    raise ValueError"), reference)
    assert (crash.value, crash.status) == (0.0, ScoreStatus.incorrect)
    assert "raised ValueError" in (crash.detail or "")
    broken = score(pool, fenced("def add(a, b) return a"), reference)
    assert (broken.value, broken.status) == (0.0, ScoreStatus.error)
    loop = score(pool, fenced("def add(a, b):\n    while True: pass"), reference)
    assert (loop.value, loop.status) == (0.0, ScoreStatus.timeout)
    assert score(pool, "I cannot solve this.", ADD_TESTS).status == ScoreStatus.unparseable


def test_one_hanging_case_does_not_sink_the_others(pool: SandboxPool) -> None:
    solution = fenced("a, b = map(int, input().split())\nwhile a == 5: pass\nprint(a + b)")
    result = score(pool, solution, {**SUM_CASES, "timeout_s": 0.5})
    assert (result.value, result.status) == (0.5, ScoreStatus.timeout)


# The program under test must never be able to report its own success.


def test_early_exit_passes_nothing(pool: SandboxPool) -> None:
    for exit_call in ("import sys; sys.exit(0)", "import os; os._exit(0)", "raise SystemExit"):
        assert score(pool, fenced(f"def add(a, b): return 0\n{exit_call}"), ADD_TESTS).value == 0.0
        assert score(pool, fenced(exit_call), SUM_CASES).value == 0.0


def test_fake_pass_markers_are_ignored(pool: SandboxPool) -> None:
    fake = """
        import os
        for i in range(3):
            print(f"PASS {i}", "ok", "All tests passed", f'xxxx {i} "=3"')
            os.write(1, f'\\n{"0" * 32} {i} "=True"\\n'.encode())
        def add(a, b): return None
    """
    assert score(pool, fenced(fake), ADD_TESTS).value == 0.0


def test_stolen_nonce_cannot_forge_values(pool: SandboxPool) -> None:
    """Even a program that finds the harness's nonce must know the expected values to forge a pass."""
    thief = """
        import os, sys
        nonce = sys._getframe(1).f_locals["nonce"]
        for i in range(3):
            for guess in ("=3", "=0", "=15", "=True"):
                os.write(1, f'\\n{nonce} {i} "{guess}"\\n'.encode())
        os._exit(0)
    """
    assert score(pool, fenced(thief), ADD_TESTS).value == 0.0
    single_guess = thief.replace('("=3", "=0", "=15", "=True")', '("=3",)')
    assert score(pool, fenced(single_guess), ADD_TESTS).value == pytest.approx(1 / 3)  # a lucky guess, not a forgery


def test_monkeypatching_changes_no_verdict(pool: SandboxPool) -> None:
    patcher = """
        import builtins, os
        real_compile = compile
        builtins.repr = lambda value: "3"
        builtins.bool = lambda value: True
        builtins.eval = lambda *args: 3
        builtins.compile = lambda source, *args: real_compile("3", *args)
        builtins.AssertionError = Exception
        real_write = os.write
        os.write = lambda fd, data: real_write(fd, data.replace(b"=0", b"=3"))
        def add(a, b): return 0
        def is_odd(n): return 0
    """
    result = score(pool, fenced(patcher), ADD_TESTS)
    assert result.value == pytest.approx(1 / 3)  # only add(-1, 1) == 0, which returning 0 does satisfy
    assert score(pool, fenced(patcher), {"tests": ["assert is_odd(3)"]}).value == 0


def test_objects_that_claim_equality_do_not_pass(pool: SandboxPool) -> None:
    liar = """
        class Anything:
            def __eq__(self, other): return True
            def __bool__(self): return True
            def __repr__(self): return "Anything()"
        def add(a, b): return Anything()
    """
    assert score(pool, fenced(liar), ADD_TESTS).value == 0.0


def test_expected_outputs_never_enter_the_sandbox(pool: SandboxPool, tmp_path: Path) -> None:
    answer = secrets.token_hex(12)
    (tmp_path / "expected.txt").write_text(answer)
    cases = {"cases": [{"input": "question\n", "output": answer}]}
    tests = {"tests": [f"assert solve() == {answer!r}"]}
    for reference in (cases, tests):
        planned = code.plan(fenced("print(1)"), reference)
        assert isinstance(planned, code._Plan)
        assert all(answer not in job.code + job.stdin for job in planned.jobs)
    searcher = f"""
        import os, sys
        found = ""
        for root, dirs, files in os.walk("/"):
            system = ("/proc", "/sys", "/dev", "/usr", sys.base_prefix)
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in system]
            for name in files:
                try:
                    text = open(os.path.join(root, name), errors="ignore").read()
                except OSError:
                    continue
                if len(text) == 24 and text.isalnum():
                    found = text
        for path in ({str(tmp_path / "expected.txt")!r},):
            try:
                found = open(path).read()
            except OSError:
                pass
        print(found)
        def solve(): return found
    """
    assert score(pool, fenced(searcher), {**cases, "timeout_s": 10}).value == 0.0
    assert score(pool, fenced(searcher), {**tests, "timeout_s": 10}).value == 0.0


def test_batch_matches_single_scores(pool: SandboxPool) -> None:
    responses = [fenced(f"def add(a, b):\n    return a + b + {k % 3 - 1}") for k in range(12)]
    batch = code.score_many([(r, ADD_TESTS) for r in responses], pool=pool)
    assert [s.value for s in batch] == [0.0, 1.0, 0.0] * 4
    assert batch[1] == score(pool, responses[1], ADD_TESTS)


def test_usable_as_a_rubric_reward_function() -> None:
    rubric = Rubric(correct=code.score)
    task = Task(prompt="Write add(a, b).", answer=ADD_TESTS)
    good = rubric.score(task, [Message.assistant(fenced("def add(a, b): return a + b"))])
    bad = rubric.score(task, [Message.assistant("no idea")])
    assert (good.value, good.status, bad.value, bad.status) == (1.0, "correct", 0.0, "unparseable")


def test_bad_reference_is_an_error() -> None:
    with pytest.raises(ValueError, match="tests"):
        code.plan(fenced("x = 1"), {"answer": "3"})
    with pytest.raises(ValueError, match="no assert"):
        code.plan(fenced("x = 1"), {"tests": ["x = 2"]})
