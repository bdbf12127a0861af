import pytest
from rlhub_knights_knaves import KnightsKnaves, solutions
from rlhub_knights_knaves.env import parse_roles, render

import rlhub


def test_check_env_passes() -> None:
    report = rlhub.check_env(KnightsKnaves(people=4), n=30)
    assert report.ok, report.failures()


@pytest.mark.parametrize("people", [2, 3, 5, 6])
def test_every_puzzle_has_exactly_the_reference_solution(people: int) -> None:
    env = KnightsKnaves(people=people)
    for task in env.tasks(10):
        (only,) = solutions(task.info["statements"])
        assert ["knight" if k else "knave" for k in only] == list(task.answer.values())


def test_solver_on_a_classic() -> None:
    # A: "We are both knaves." -> A is a knave, B is a knight.
    assert solutions([["and", [0, False], [1, False]], ["is", 0, False]]) == [(False, True)]
    assert render(["and", [0, False], [1, False]], 0, ["Ann", "Ben"]) == "Ben and I are both knaves"


def test_partial_credit_per_inhabitant_and_last_statement_wins() -> None:
    env = KnightsKnaves(people=4)
    task = env.task(3)
    names, roles = list(task.answer), list(task.answer.values())
    flip = {"knight": "knave", "knave": "knight"}
    half = "\n".join(f"{n}: {r if i % 2 else flip[r]}" for i, (n, r) in enumerate(task.answer.items()))
    assert env.score(task, [rlhub.Message.assistant(half)]).value == 0.5
    thinking = f"Suppose {names[0]} is a {flip[roles[0]]}... contradiction.\n" + env.oracle(task, []).content
    assert env.score(task, [rlhub.Message.assistant(thinking)]).value == 1.0
    assert parse_roles("**Alice**: Knight\nBob is a knave.", ["Alice", "Bob"]) == {"Alice": "knight", "Bob": "knave"}


@pytest.mark.parametrize("config", [{"people": 1}, {"people": 7}, {"kinds": "is,same"}, {"kinds": "is,xor"}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        KnightsKnaves(**config)
