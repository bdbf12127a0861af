import asyncio
import random
from collections.abc import Sequence

import pytest
from rlhub_tic_tac_toe import TicTacToe, best_move, value
from rlhub_tic_tac_toe.env import EMPTY, replay
from rlhub_tic_tac_toe.env import _play as play

import rlhub
from rlhub import Completion, Message, Sampling, ToolSpec
from rlhub.core.env import Episode


class Scripted:
    """A model client that answers each turn with `policy(messages)`."""

    name = "scripted"

    def __init__(self, policy):  # type: ignore[no-untyped-def]
        self.policy = policy

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        return [Completion(message=Message.assistant(self.policy(messages)))]


def _play(env: TicTacToe, task: rlhub.Task, policy) -> tuple[Episode, rlhub.Score]:  # type: ignore[no-untyped-def]
    episode = asyncio.run(env.rollout(task, Scripted(policy)))
    return episode, env.score(task, episode.messages, episode.info)


@pytest.mark.parametrize("config", [{}, {"winning_only": True, "max_opening": 3}])
def test_check_env_passes(config: dict[str, object]) -> None:
    report = rlhub.check_env(TicTacToe(**config), n=20)
    assert report.ok, report.failures()


def test_solver_knows_the_classics() -> None:
    assert value(EMPTY * 9) == 0
    assert best_move("XX.OO....") == 2  # X completes the top row
    assert value("X...O...X") == 0 and value("X.......O") == 1  # corner answered by the far corner loses


def test_the_perfect_opponent_never_loses_to_random_moves() -> None:
    env = TicTacToe()
    rng = random.Random(0)
    drawn = [t for t in env.tasks(80) if t.answer["best"] == "draw"]
    assert len(drawn) > 15
    for task in drawn:

        def policy(messages: Sequence[Message], task: rlhub.Task = task) -> str:
            board = replay(task.answer, messages).board
            return f"move: {rng.choice([i for i in range(9) if board[i] == EMPTY]) + 1}"

        episode, score = _play(env, task, policy)
        assert episode.info["outcome"] in ("draw", "loss")
        assert score.value == (1.0 if episode.info["outcome"] == "draw" else 0.0)


def test_drawing_a_won_position_earns_half_and_illegal_moves_lose() -> None:
    env = TicTacToe(winning_only=True)
    task = env.task(0)
    taken = task.answer["board"].index("X") + 1
    episode, score = _play(env, task, lambda _: f"move: {taken}")
    assert score.value == 0.0 and "illegal move" in episode.info["reason"]

    def drawable(board: str) -> int | None:
        return next((i for i in range(9) if board[i] == EMPTY and value(play(board, i)) == 0), None)

    task = next(t for t in env.tasks(30) if drawable(t.answer["board"]) is not None)

    def throw_the_win(messages: Sequence[Message]) -> str:
        if not any(m.role == "assistant" for m in messages):
            return f"move: {drawable(task.answer['board']) + 1}"  # type: ignore[operator]
        return env.oracle(task, messages).content

    episode, score = _play(env, task, throw_the_win)
    assert episode.info["outcome"] == "draw" and score.value == 0.5


def test_score_is_recomputed_from_the_conversation_alone() -> None:
    env = TicTacToe()
    task = env.task(5)
    episode, score = _play(env, task, lambda m: env.oracle(task, m).content)
    assert env.score(task, episode.messages).value == score.value == 1.0
    assert all(m.content.startswith("I play") for m in episode.messages if m.role == "user")


@pytest.mark.parametrize("config", [{"max_opening": 1}, {"max_opening": 7}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        TicTacToe(**config)
