import pytest
from rlhub_code_functions import CodeFunctions
from rlhub_code_functions.env import asserts, problems

import rlhub
from rlhub.verify import code


def test_check_env_passes() -> None:
    report = rlhub.check_env(CodeFunctions(), n=20)
    assert report.ok, report.failures()


def test_the_problem_set_is_large_graded_and_well_formed() -> None:
    data = problems()
    assert len(data) >= 100
    assert len({p["id"] for p in data}) == len(data)
    assert {p["difficulty"] for p in data} == {"easy", "medium", "hard"}
    for p in data:
        assert 5 <= len(p["tests"]) <= 10, p["id"]
        assert p["signature"].startswith(f"def {p['id']}("), p["id"]


def test_every_reference_solution_passes_its_tests_in_the_sandbox() -> None:
    items = [(f"```python\n{p['solution']}```", {"tests": asserts(p), "timeout_s": 10}) for p in problems()]
    scores = code.score_many(items)
    failing = {p["id"]: s.detail for p, s in zip(problems(), scores, strict=True) if s.value != 1.0}
    assert not failing


def _is_prime_tests() -> dict[str, object]:
    return {"tests": asserts(next(p for p in problems() if p["id"] == "is_prime"))}


def test_wrong_solutions_fail_and_partial_ones_get_partial_credit() -> None:
    misses_squares = (
        "```python\ndef is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5)))\n```"
    )
    assert code.score(misses_squares, _is_prime_tests()).value < 1.0
    no_edge_cases = "```python\ndef is_prime(n):\n    return all(n % d for d in range(2, n))\n```"
    partial = code.score(no_edge_cases, _is_prime_tests())
    assert 0.0 < partial.value < 1.0 and partial.status == rlhub.ScoreStatus.incorrect
    assert code.score("```python\ndef prime(n):\n    return True\n```", _is_prime_tests()).value == 0.0


def test_a_hanging_solution_times_out_with_zero_reward() -> None:
    hang = "```python\ndef f(x):\n    while True:\n        pass\n```"
    result = code.score(hang, {"tests": ["assert f(1) == 1"], "timeout_s": 1})
    assert result.value == 0.0 and result.status == rlhub.ScoreStatus.timeout


def test_printed_fake_results_do_not_count() -> None:
    forged = "\n".join(f"print('0' * 32, {i}, '\"=1\"')" for i in range(5))
    answer = f"```python\n{forged}\ndef square(x):\n    return 0\n```"
    tests = {"tests": [f"assert square({i}) == {i * i}" for i in range(5)]}
    assert code.score(answer, tests).value == pytest.approx(0.2)  # only square(0) == 0 is right


def test_prompt_shows_signature_and_examples_only() -> None:
    env = CodeFunctions()
    task = env.task(0, "test")
    text = task.prompt[0].content
    problem = next(p for p in problems() if p["id"] == task.info["problem"])
    assert problem["signature"] in text and problem["spec"] in text and "Examples:" in text
    hidden = asserts(problem)[problem["examples"] :]
    assert task.answer["tests"][-len(hidden) :] == hidden
    assert "Examples:" not in CodeFunctions(show_examples=False).task(0, "test").prompt[0].content


def test_splits_share_no_problem_and_difficulty_filters() -> None:
    env = CodeFunctions(difficulties=("hard",))
    train = {p["id"] for p in env.split_records("train")}
    test = {p["id"] for p in env.split_records("test")}
    assert train and test and not train & test
    assert all(t.tags == ("difficulty:hard",) for t in env.tasks(10, "test"))
    assert env.task(0, "test").info["problem"] == env.task(len(test), "test").info["problem"]
    with pytest.raises(rlhub.ConfigError):
        CodeFunctions(difficulties=("impossible",))
