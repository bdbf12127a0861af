"""A Wordle-like game: guess a secret five-letter word; each guess is answered letter by letter.

Feedback marks each letter G (right letter, right place), Y (in the word, elsewhere) or . (not in
the word, or no more copies of it), counting repeated letters the way Wordle does. Solving earlier
earns more; the score is recomputed from the conversation alone by replaying the guesses.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

import rlhub
from rlhub import Message, Score, ScoreStatus, State

LENGTH = 5
WORDS = tuple(resources.files(__package__).joinpath("words.txt").read_text().split())
"""Secret words: 604 common five-letter English words written for this package. Guesses need only be
five letters, since a list this small cannot serve as a dictionary."""
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_GUESS_RE = re.compile(r"guess\s*:\s*\**\s*([A-Za-z]+)", re.IGNORECASE)


def feedback(guess: str, secret: str) -> str:
    """`G`, `Y` or `.` per letter of `guess`; a repeated letter is marked only as often as `secret` has it."""
    marks = ["G" if g == s else "." for g, s in zip(guess, secret, strict=True)]
    left = Counter(s for s, mark in zip(secret, marks, strict=True) if mark != "G")
    for i, letter in enumerate(guess):
        if marks[i] != "G" and left[letter]:
            marks[i] = "Y"
            left[letter] -= 1
    return "".join(marks)


def parse_guess(text: str) -> str | None:
    """The last `guess: WORD`, else a message that is a single word; lower case."""
    text = _THINK_RE.sub("", text[-5_000:])
    found = _GUESS_RE.findall(text)
    word = found[-1] if found else text.strip(" \n`*.\"'")
    return word.lower() if word.isalpha() else None


@dataclass
class Game:
    secret: str
    budget: int
    guesses: list[str] = field(default_factory=list)
    last: str = ""
    """The reply to the latest guess."""

    @property
    def solved(self) -> bool:
        return bool(self.guesses) and self.guesses[-1] == self.secret

    @property
    def over(self) -> bool:
        return self.solved or len(self.guesses) >= self.budget

    def guess(self, text: str) -> None:
        """Spend one guess on the model's message; an invalid guess is spent too."""
        word = parse_guess(text)
        if word is None or len(word) != LENGTH:
            self.guesses.append("")
            self.last = f"Invalid guess: reply with `guess: WORD`, a word of {LENGTH} letters."
        else:
            self.guesses.append(word)
            self.last = f"{word.upper()}  {' '.join(feedback(word, self.secret))}"
        left = self.budget - len(self.guesses)
        if not self.over:
            self.last += f"\n{left} guess{'es' if left != 1 else ''} left."


def replay(secret: str, budget: int, messages: Sequence[Message]) -> Game:
    game = Game(secret, budget)
    for message in messages:
        if message.role == "assistant" and not game.over:
            game.guess(message.content)
    return game


def solved(response: str, reference: str, task: rlhub.Task, messages: list[Message]) -> Score:
    """Solved in g of B guesses: 1 - 0.5 (g - 1) / (B - 1), so 1.0 at the first guess and 0.5 at the last;
    0.0 when not solved."""
    budget = task.info["max_guesses"]
    game = replay(reference, budget, messages)
    used = len(game.guesses)
    if not game.solved:
        status = ScoreStatus.unparseable if all(g == "" for g in game.guesses) else ScoreStatus.incorrect
        return Score(value=0.0, status=status, extracted=",".join(game.guesses), detail=f"not solved in {used}")
    value = 1.0 - 0.5 * (used - 1) / (budget - 1)
    detail = f"solved in {used} of {budget}"
    return Score(value=value, status=ScoreStatus.correct, extracted=",".join(game.guesses), detail=detail)


@rlhub.environment("rlhub/word-guess", version="0.1.0")
class WordGuess(rlhub.MultiTurnEnv):
    """Guess the secret five-letter word; each guess gets per-letter feedback."""

    max_guesses: int = 6
    """Guess budget (2-10)."""

    max_turns = 10
    rubric = rlhub.Rubric(solved=solved)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not 2 <= self.max_guesses <= self.max_turns:
            raise rlhub.ConfigError(f"max_guesses must be 2-{self.max_turns}")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        prompt = (
            f"Let's play a word-guessing game. I have picked a secret English word of {LENGTH} letters; you have "
            f"{self.max_guesses} guesses. Reply each turn with `guess: WORD` (any {LENGTH} letters). I answer with "
            "one mark per letter: G = right letter in the right place, Y = in the word but elsewhere, "
            ". = not in the word (a repeated letter is marked only as many times as the word has it). "
            "Solving in fewer guesses scores more."
        )
        secret = rng.choice(WORDS)
        return rlhub.Task(prompt=prompt, answer=secret, info={"max_guesses": self.max_guesses})

    def setup(self, state: State) -> None:
        state.game = Game(state.task.answer, self.max_guesses)

    def is_done(self, state: State, message: Message) -> bool:
        state.game.guess(message.content)
        state.info = {"guesses": state.game.guesses, "solved": state.game.solved}
        return state.game.over

    async def env_response(self, state: State, message: Message) -> list[Message]:
        return [Message.user(state.game.last)]

    def oracle(self, task: rlhub.Task, messages: Sequence[Message]) -> Message:
        return Message.assistant(f"guess: {task.answer}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        other = next(w for w in WORDS if w != task.answer)
        return ["", "I don't know.", f"guess: {other}", "guess: toolongword"]
