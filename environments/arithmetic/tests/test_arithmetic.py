import pytest
from rlhub_arithmetic import Arithmetic

import rlhub


def test_check_env_passes() -> None:
    report = rlhub.check_env(Arithmetic(digits=2), n=30)
    assert report.ok, report.failures()


def test_level_sets_knobs_and_explicit_knobs_win() -> None:
    env = Arithmetic(level=5, digits=2)
    assert (env.digits, env.terms, env.operators) == (2, 3, "+-*")


def test_answers_follow_precedence() -> None:
    env = Arithmetic(terms=4, operators="+-*")
    for task in env.tasks(50):
        expression = task.prompt[0].content.removeprefix("What is ").split("?")[0]
        assert int(task.answer) == eval(expression)


def test_equation_style_is_the_bare_expression() -> None:
    env = Arithmetic(terms=3, operators="+-*", instruction=False, style="equation")
    for task in env.tasks(30):
        expression, equals, rest = task.prompt[0].content.partition("=")
        assert equals and not rest and " " not in expression
        assert int(task.answer) == eval(expression)


@pytest.mark.parametrize("config", [{"digits": 0}, {"terms": 9}, {"operators": "/"}, {"level": 42}, {"style": "poem"}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        Arithmetic(**config)


def test_reward_reads_the_final_number() -> None:
    env = Arithmetic()
    task = env.task(0)
    assert env.score(task, [rlhub.Message.assistant(f"Let me add... so the answer is {task.answer}")]).value == 1.0
    assert env.score(task, [rlhub.Message.assistant("no idea")]).status == rlhub.ScoreStatus.unparseable
