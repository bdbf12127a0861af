from fractions import Fraction

import pytest
from rlhub_countdown import Countdown, evaluate

import rlhub


def test_check_env_passes() -> None:
    report = rlhub.check_env(Countdown(), n=30)
    assert report.ok, report.failures()


def test_every_task_is_solved_by_its_own_solution() -> None:
    env = Countdown(numbers=6, max_large=2, use_all=True)
    for task in env.tasks(40):
        answer = task.answer
        assert evaluate(answer["solution"], answer["numbers"]) == answer["target"]
        assert answer["target"] not in answer["numbers"]


@pytest.mark.parametrize(
    "expression",
    ["__import__('os')", "2 ** 10", "-3 + 5", "abs(3)", "3 if 1 else 2", "1.5 * 2", "4 / (2 - 2)", "7 7"],
)
def test_evaluate_rejects_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ValueError):
        evaluate(expression, [1, 2, 3, 4, 5, 7, 10])


def test_evaluate_counts_uses_and_is_exact() -> None:
    assert evaluate("(7 - 3 / 4) * 4", [7, 3, 4, 4]) == Fraction(25)
    with pytest.raises(ValueError, match="more often"):
        evaluate("(7 - 3 / 4) * 4", [7, 3, 4])


def test_rubric_reads_the_last_line_and_gives_partial_credit_when_close() -> None:
    env = Countdown()
    answer = {"target": 103, "numbers": [25, 4, 3, 7], "solution": "25 * 4 + 3"}
    task = rlhub.Task(prompt="Using 25, 4, 3, 7, make 103.", answer=answer, info={"tolerance": 10})

    def reward(text: str) -> rlhub.Score:
        return env.score(task, [rlhub.Message.assistant(text)])

    assert reward("Let me think.\n25 × 4 + 3 = 103").value == 1.0
    assert reward("The answer is \\boxed{3 + 4 * 25}").value == 1.0
    assert reward("25 * 4 + 7 - 3").value == pytest.approx(0.5 * (1 - 1 / 10))
    assert reward("25 * 4").value == pytest.approx(0.5 * (1 - 3 / 10))
    assert reward("25 + 4").value == 0.0
    assert reward("25 * 4 + 3 + 3").status == rlhub.ScoreStatus.incorrect
    assert reward("103").status == rlhub.ScoreStatus.unparseable
    assert reward("2 ** 3").status == rlhub.ScoreStatus.unparseable


@pytest.mark.parametrize(
    "config", [{"numbers": 2}, {"numbers": 3, "max_large": 4}, {"min_target": 0}, {"tolerance": -1}]
)
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        Countdown(**config)
