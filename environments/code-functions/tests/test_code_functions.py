import pytest
from rlhub_code_functions import CodeFunctions
from rlhub_code_functions.env import problems
from rlhub_code_functions.harness import extract_code, judge, prepare, same, score_code

import rlhub
from rlhub.verify import sandbox


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
    prepared = [
        prepare(p["solution"], p["signature"].removeprefix("def ").split("(")[0], p["tests"], 10.0, 512)
        for p in problems()
    ]
    results = sandbox.run_batch([p.job for p in prepared])
    scores = {p["id"]: judge(prep, res) for p, prep, res in zip(problems(), prepared, results, strict=True)}
    failing = {name: s.detail for name, s in scores.items() if s.value != 1.0}
    assert not failing


def test_wrong_solutions_fail_and_partial_ones_get_partial_credit() -> None:
    tests = next(p for p in problems() if p["id"] == "is_prime")["tests"]
    off_by_one = "```python\ndef is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5)))\n```"
    assert score_code(off_by_one, "is_prime", tests).value < 1.0
    no_edge_cases = "```python\ndef is_prime(n):\n    return all(n % d for d in range(2, n))\n```"
    partial = score_code(no_edge_cases, "is_prime", tests)
    assert 0.0 < partial.value < 1.0 and partial.status == rlhub.ScoreStatus.incorrect
    assert "test" in (partial.detail or "")
    wrong_name = "```python\ndef prime(n):\n    return True\n```"
    assert score_code(wrong_name, "is_prime", tests).value == 0.0


def test_a_hanging_solution_times_out_with_zero_reward() -> None:
    tests = [{"args": [1], "expected": 1}]
    result = score_code("```python\ndef f(x):\n    while True:\n        pass\n```", "f", tests, timeout_s=1.0)
    assert result.value == 0.0 and result.status == rlhub.ScoreStatus.timeout


def test_printed_fake_results_do_not_count() -> None:
    tests = [{"args": [i], "expected": i * i} for i in range(5)]
    forged = "\n".join(f"print('@@rlhub-0000000000000000@@ {i} [\"ok\", {i * i}]')" for i in range(5))
    code = f"```python\n{forged}\ndef square(x):\n    return 0\n```"
    assert score_code(code, "square", tests).value == pytest.approx(0.2)  # only square(0) == 0 is right


def test_code_extraction() -> None:
    assert extract_code("Sure:\n```python\ndef f():\n    return 1\n```\nDone.") == "def f():\n    return 1\n"
    assert extract_code("def f():\n    return 2") == "def f():\n    return 2"
    assert extract_code("<think>```python\nx\n```</think>no code here") is None
    assert score_code("no code", "f", [{"args": [], "expected": 1}]).status == rlhub.ScoreStatus.unparseable


def test_value_comparison_is_json_with_float_tolerance() -> None:
    assert same(212, 212.0) and same([0.1 + 0.2], [0.3]) and same({"a": [1]}, {"a": [1]})
    assert not same(True, 1) and not same(None, 0) and not same([1, 2], [2, 1]) and not same("1", 1)


def test_splits_share_no_problem_and_difficulty_filters() -> None:
    env = CodeFunctions(difficulties=("hard",))
    train = {p["id"] for p in env.split_problems("train")}
    test = {p["id"] for p in env.split_problems("test")}
    assert train and test and not train & test
    assert all(t.tags == ("difficulty:hard",) for t in env.tasks(10, "test"))
    assert env.task(0, "test").info["problem"] == env.task(len(test), "test").info["problem"]
    with pytest.raises(rlhub.ConfigError):
        CodeFunctions(difficulties=("impossible",))
