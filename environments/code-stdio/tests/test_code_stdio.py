import pytest
from rlhub_code_stdio import CodeStdio
from rlhub_code_stdio.env import cases, reference_program
from rlhub_code_stdio.problems import PROBLEMS

import rlhub
from rlhub.core.types import Score
from rlhub.verify import code


def run_cases(program: str, pairs: list[tuple[str, str]], timeout_s: float) -> Score:
    reference = {"cases": [{"input": i, "output": o} for i, o in pairs], "timeout_s": timeout_s}
    return code.score(f"```python\n{program}\n```", reference)


def test_check_env_passes() -> None:
    report = rlhub.check_env(CodeStdio(cases=2), n=20)
    assert report.ok, report.failures()


def _all_references_pass(count: int, big: bool, timeout_s: float) -> None:
    items = [
        (f"```python\n{reference_program(p)}```", {"cases": [{"input": i, "output": o}], "timeout_s": timeout_s})
        for n, p in enumerate(PROBLEMS)
        for i, o in cases(p, 1000 + n, count, big)
    ]
    scores = code.score_many(items)
    owners = [p.id for p in PROBLEMS for _ in range(count)]
    assert {o: s.detail for o, s in zip(owners, scores, strict=True) if s.value != 1.0} == {}


def test_the_problem_set_and_every_reference_program_in_the_sandbox() -> None:
    assert len(PROBLEMS) >= 30 and len({p.id for p in PROBLEMS}) == len(PROBLEMS)
    assert {p.difficulty for p in PROBLEMS} == {"easy", "medium", "hard"}
    _all_references_pass(3, big=False, timeout_s=10.0)


@pytest.mark.slow
def test_every_reference_program_handles_big_inputs() -> None:
    _all_references_pass(1, big=True, timeout_s=20.0)


def test_wrong_and_partial_programs() -> None:
    problem = next(p for p in PROBLEMS if p.id == "max-min")
    pairs = cases(problem, 7, 6, False)
    swapped = "t = input(); v = list(map(int, input().split())); print(min(v), max(v))"
    assert run_cases(swapped, pairs, 5.0).value < 1.0
    first_only = "t = input(); v = list(map(int, input().split())); print(v[0], v[0])"
    partial = run_cases(first_only, [("1\n5\n", "5 5\n"), ("3\n1 2 3\n", "3 1\n")], 5.0)
    assert partial.value == 0.5 and "case 1: wrong output" in (partial.detail or "")
    crash = run_cases("raise SystemExit(3)", pairs, 5.0)
    assert crash.value == 0.0 and "error" in (crash.detail or "")
    no_newline = "t = input(); v = list(map(int, input().split())); print(max(v), min(v), end='  ')"
    assert run_cases(no_newline, pairs, 5.0).value == 1.0


def test_a_slow_program_times_out() -> None:
    problem = next(p for p in PROBLEMS if p.id == "sum-list")
    result = run_cases("while True:\n    pass", cases(problem, 1, 1, False), 1.0)
    assert result.status == rlhub.ScoreStatus.timeout and result.value == 0.0


def test_tasks_are_rescored_identically_and_knobs_work() -> None:
    env = CodeStdio(difficulties=("medium",), cases=3)
    task = env.task(2, "test")
    assert task.tags == ("difficulty:medium",) and task.info["cases"] == 3
    oracle = env.oracle(task, [])
    first = env.score(task, [oracle])
    again = env.score(rlhub.Task.model_validate_json(task.model_dump_json()), [oracle])
    assert first.value == again.value == 1.0
    assert env.score(task, [rlhub.Message.assistant("no code")]).status == rlhub.ScoreStatus.unparseable
    train = {p.id for p in env.split_records("train")}
    test = {p.id for p in env.split_records("test")}
    assert train and test and not train & test
    assert env.task(0, "train").info["case_seed"] != env.task(1, "train").info["case_seed"]
    with pytest.raises(rlhub.ConfigError):
        CodeStdio(cases=0)
