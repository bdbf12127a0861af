import random

import pytest
import sympy
from rlhub_competition_math import CompetitionMath
from rlhub_competition_math.env import KINDS, TEMPLATES
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication,
    parse_expr,
    standard_transformations,
)

import rlhub
from rlhub.verify import math


def test_check_env_passes() -> None:
    report = rlhub.check_env(CompetitionMath(level=3), n=20)
    assert report.ok, report.failures()


@pytest.mark.parametrize("kind", KINDS)
def test_each_template_answers_itself_and_its_mistakes_score_zero(kind: str) -> None:
    env = CompetitionMath(kinds=kind, level=2)
    for task in env.tasks(4):
        assert math.score(f"\\boxed{{{task.answer}}}", task.answer).value == 1.0
        assert task.info["distractors"]
        for wrong in task.info["distractors"]:
            assert math.score(f"\\boxed{{{wrong}}}", task.answer).value == 0.0, (task.prompt[0].content, wrong)


def _expr(text: str) -> sympy.Expr:
    return parse_expr(text, transformations=(*standard_transformations, implicit_multiplication, convert_xor))


def test_answers_agree_with_an_independent_sympy_computation() -> None:
    x = sympy.Symbol("x")
    rng = random.Random(5)
    relations = {"<": sympy.Lt, "\\le": sympy.Le, ">": sympy.Gt, "\\ge": sympy.Ge}
    for _ in range(10):
        prompt, answer, _ = TEMPLATES["inequality"](sympy, rng, 3)
        polynomial, op = prompt.split("$")[1].rsplit(" ", 2)[:2]
        solved = sympy.solve_univariate_inequality(relations[op](_expr(polynomial), 0), x, relational=False)
        assert solved == answer
    for _ in range(10):
        prompt, (middle, spread), _ = TEMPLATES["quadratic-root"](sympy, rng, 2)
        roots = sympy.solve(_expr(prompt.split("$")[1].split(" = ")[0]), x)
        assert sympy.simplify(max(roots, key=float) - (middle + spread)) == 0


def test_decimals_are_not_exact_answers() -> None:
    env = CompetitionMath(kinds="sector")
    task = env.task(0)
    approx = float(
        sympy.sympify(task.answer.replace("\\pi", "*pi").replace("\\frac{", "(").replace("}{", ")/(").replace("}", ")"))
    )
    assert env.score(task, [rlhub.Message.assistant(f"\\boxed{{{approx:.4f}}}")]).value == 0.0


@pytest.mark.parametrize("config", [{"kinds": "calculus"}, {"level": 0}, {"level": 4}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        CompetitionMath(**config)
