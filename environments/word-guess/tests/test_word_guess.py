import asyncio
from collections.abc import Sequence

import pytest
from rlhub_word_guess import WordGuess, feedback
from rlhub_word_guess.env import OPENING, WORDS, WORST, best_guess, par, parse_guess

import rlhub
from rlhub import Message
from rlhub.rollout.mock import ScriptedClient


def _play(env: WordGuess, task: rlhub.Task, guesses: list[str]) -> tuple[list[Message], rlhub.Score]:
    def policy(messages: Sequence[Message]) -> Message:
        turn = sum(m.role == "assistant" for m in messages)
        return Message.assistant(f"guess: {guesses[min(turn, len(guesses) - 1)]}")

    episode = asyncio.run(env.rollout(task, ScriptedClient(policy)))
    return episode.messages, env.score(task, episode.messages, episode.info)


def _play_oracle(env: WordGuess, task: rlhub.Task) -> tuple[list[Message], rlhub.Score]:
    episode = asyncio.run(env.rollout(task, ScriptedClient(lambda messages: env.oracle(task, messages))))
    return episode.messages, env.score(task, episode.messages, episode.info)


def test_check_env_passes() -> None:
    report = rlhub.check_env(WordGuess(), n=30)
    assert report.ok, report.failures()


def test_word_list_is_clean() -> None:
    assert len(WORDS) == len(set(WORDS)) > 500
    assert all(len(w) == 5 and w.isalpha() and w.islower() for w in WORDS)


@pytest.mark.parametrize(
    ("guess", "secret", "marks"),
    [
        ("crane", "crane", "GGGGG"),
        ("eerie", "there", "Y.Y.G"),
        ("speed", "abide", "..Y.Y"),
        ("llama", "hello", "YY..."),
    ],
)
def test_feedback_counts_repeated_letters_like_wordle(guess: str, secret: str, marks: str) -> None:
    assert feedback(guess, secret) == marks


def test_reward_is_full_at_par_and_falls_beyond_it() -> None:
    env = WordGuess(max_guesses=8)
    task = env.task(0)
    secret, target = task.answer, par(task.answer)
    other = next(w for w in WORDS if w != secret)
    messages, score = _play(env, task, [other] * target + [secret])
    assert score.value == pytest.approx(1 - 0.5 / (8 - target)) and score.status == rlhub.ScoreStatus.incorrect
    assert messages[1].content.startswith(other.upper()) and "7 guesses left" in messages[1].content
    _, score = _play(env, task, [secret])
    assert score.value == 1.0
    _, score = _play(env, task, [other])
    assert score.value == 0.0
    _, score = _play(env, task, ["toolong"] * 7 + [secret])
    assert score.value == 0.5


def test_oracle_reads_feedback_not_the_secret() -> None:
    env = WordGuess()
    task = env.task(2)
    messages, score = _play_oracle(env, task)
    guesses = [m.content.removeprefix("guess: ") for m in messages if m.role == "assistant"]
    assert guesses[0] == OPENING and guesses[-1] == task.answer and len(guesses) == par(task.answer)
    assert score.value == 1.0


@pytest.mark.slow
def test_solver_opening_is_best_and_it_solves_every_word_within_worst() -> None:
    assert best_guess(WORDS) == OPENING
    assert max(par(w) for w in WORDS) == WORST


def test_parse_guess() -> None:
    assert parse_guess("Let me think... guess: **Crane**") == "crane"
    assert parse_guess("slate") == "slate"
    assert parse_guess("I think it is slate") is None


@pytest.mark.parametrize("config", [{"max_guesses": 5}, {"max_guesses": 11}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        WordGuess(**config)
