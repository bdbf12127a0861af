from fractions import Fraction

import pytest
from rlhub_algebra import Algebra
from rlhub_algebra.env import FORMS, number, poly

import rlhub
from rlhub.verify.math import parse


@pytest.mark.parametrize("config", [{}, {"fractions": True, "max_lead": 3, "max_coef": 20}])
def test_check_env_passes(config: dict[str, object]) -> None:
    report = rlhub.check_env(Algebra(**config), n=30)
    assert report.ok, report.failures()


def test_rendering() -> None:
    assert poly([2, -1, 0, 3]) == "2x^3 - x^2 + 3"
    assert poly([-1, 0]) == "-x"
    assert number(Fraction(-3, 2)) == "-\\frac{3}{2}" and number(Fraction(4, 2)) == "2"


@pytest.mark.parametrize(
    ("form", "good", "bad"),
    [
        ("expanded", "x^2 - x - 6", "(x + 2)(x - 3)"),
        ("expanded", "\\frac{1}{2}x^2 + 3", "2(x + 1)"),
        ("factored", "(x - 3)(x + 2)", "x^2 - x - 6"),
        ("factored", "-2(x + 1)^2", "(x^2 - 1)(x + 1)"),
        ("denominator-free", "x + 3", "\\frac{x^2 - 9}{x - 3}"),
        ("combined", "2x - y + 4", "3x - x - y + 4"),
    ],
)
def test_form_checks(form: str, good: str, bad: str) -> None:
    assert FORMS[form](parse(good))
    assert not FORMS[form](parse(bad))


def test_equivalent_answers_score_one_and_copying_the_question_scores_half() -> None:
    env = Algebra(kinds="factor,simplify,combine,expand")
    for task in env.tasks(20):
        question = task.prompt[0].content.split("$")[1]
        assert env.score(task, [rlhub.Message.assistant(f"\\boxed{{{question}}}")]).value == 0.5
        assert env.score(task, [rlhub.Message.assistant(f"So it is $\\boxed{{{task.answer}}}$.")]).value == 1.0


def test_equations_accept_named_answers() -> None:
    env = Algebra(kinds="system", fractions=True)
    task = env.task(0)
    x, _, y = task.answer[1:-1].partition(", ")
    assert env.score(task, [rlhub.Message.assistant(f"\\boxed{{x = {x}, y = {y}}}")]).value == 1.0
    linear = Algebra(kinds="linear").task(0)
    assert env.score(linear, [rlhub.Message.assistant(f"x = {linear.answer}")]).value == 1.0


@pytest.mark.parametrize("config", [{"kinds": "calculus"}, {"max_coef": 1}, {"max_lead": 0}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        Algebra(**config)
