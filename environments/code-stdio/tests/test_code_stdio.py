import pytest
from rlhub_code_stdio import CodeStdio
from rlhub_code_stdio.env import cases, judge, normalise, reference_program, run_cases
from rlhub_code_stdio.problems import PROBLEMS

import rlhub
from rlhub.verify import sandbox


def test_check_env_passes() -> None:
    report = rlhub.check_env(CodeStdio(cases=2), n=20)
    assert report.ok, report.failures()


def _all_references_pass(count: int, big: bool, timeout_s: float) -> None:
    jobs, expected, owners = [], [], []
    limits = sandbox.Limits(timeout_s=timeout_s, memory_mb=512)
    for i, problem in enumerate(PROBLEMS):
        program = reference_program(problem)
        for stdin, want in cases(problem, 1000 + i, count, big):
            jobs.append(sandbox.Job(program, stdin, limits))
            expected.append(want)
            owners.append(problem.id)
    results = sandbox.run_batch(jobs)
    failing = {
        owner: f"{r.status} {r.stderr[-200:]}"
        for owner, r, want in zip(owners, results, expected, strict=True)
        if judge([r], [want]).value < 1
    }
    assert not failing


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
    assert partial.value == 0.5 and partial.detail == "case 1: wrong output"
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
    train = {p.id for p in env.split_problems("train")}
    test = {p.id for p in env.split_problems("test")}
    assert train and test and not train & test
    assert env.task(0, "train").info["case_seed"] != env.task(1, "train").info["case_seed"]
    with pytest.raises(rlhub.ConfigError):
        CodeStdio(cases=0)


def test_output_normalisation() -> None:
    assert normalise("1 2  \r\n3\n\n\n") == ["1 2", "3"]
    assert normalise("a\n\nb") == ["a", "", "b"]
