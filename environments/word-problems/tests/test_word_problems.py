from fractions import Fraction

import pytest
from rlhub_word_problems import WordProblems
from rlhub_word_problems.env import TEMPLATES

import rlhub


def test_check_env_passes() -> None:
    report = rlhub.check_env(WordProblems(), n=30)
    assert report.ok, report.failures()


@pytest.mark.parametrize("template", [t for ts in TEMPLATES.values() for t in ts], ids=lambda t: t.__name__)
def test_templates_have_exact_positive_answers(template) -> None:
    import random

    for seed in range(200):
        _, answer = template(random.Random(seed))
        assert isinstance(answer, Fraction) and answer > 0
        denominator = answer.denominator
        for prime in (2, 5):
            while denominator % prime == 0:
                denominator //= prime
        assert denominator == 1, f"{answer} has no exact decimal form"


def test_steps_knob_limits_templates() -> None:
    tags = {t for task in WordProblems(steps=1).tasks(40) for t in task.tags}
    assert "steps:1" in tags and not {"steps:2", "steps:3"} & tags


def test_prose_answers_are_read() -> None:
    env = WordProblems()
    task = env.task(3)
    right = rlhub.Message.assistant(f"First we add, then... The answer is {task.answer}.")
    assert env.score(task, [right]).value == 1.0
