"""A Wordle-like game: guess a secret five-letter word; each guess is answered letter by letter.

Feedback marks each letter G (right letter, right place), Y (in the word, elsewhere) or . (not in
the word, or no more copies of it), counting repeated letters the way Wordle does.

The yardstick is a solver that knows the word list and reads only the feedback: it opens with
`OPENING`, then always guesses the remaining candidate whose worst-case feedback leaves the fewest
candidates. It solves every secret within `WORST` guesses; matching its count for a secret (its *par*)
earns the full reward, each guess beyond par costs a share of it. The oracle is that solver, so its
transcripts are honest demonstrations. Scores are recomputed from the conversation by replaying it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import rlhub
from rlhub import Message, Score, ScoreStatus, State

LENGTH = 5
WORDS = tuple(resources.files(__package__).joinpath("words.txt").read_text().split())
"""Secret words: 604 common five-letter English words written for this package. Guesses need only be
five letters, since a list this small cannot serve as a dictionary."""
OPENING = "arise"
"""The solver's first guess: the list word whose worst-case feedback leaves the fewest candidates
(`best_guess(WORDS)`, computed once; a test recomputes it)."""
WORST = 6
"""The most guesses the solver needs for any secret in the list; the least `max_guesses` allowed."""
_FEEDBACK_RE = re.compile(r"^([A-Z]{5})  ([GY.](?: [GY.]){4})", re.MULTILINE)
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


def best_guess(candidates: Sequence[str]) -> str:
    """The candidate whose worst-case feedback leaves the fewest candidates; alphabetical on ties."""
    return min(candidates, key=lambda g: (max(Counter(feedback(g, w) for w in candidates).values()), g))


def solver_guess(history: Sequence[tuple[str, str]]) -> str:
    """The solver's next guess after `(guess, feedback)` pairs."""
    if not history:
        return OPENING
    return best_guess([w for w in WORDS if all(feedback(g, w) == marks for g, marks in history)])


@cache
def par(secret: str) -> int:
    """Guesses the solver needs for `secret`."""
    history: list[tuple[str, str]] = []
    while (guess := solver_guess(history)) != secret:
        history.append((guess, feedback(guess, secret)))
    return len(history) + 1


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
    """1.0 when solved within the solver's par for this secret; each guess beyond par costs
    0.5 / (budget - par), down to 0.5 at the last guess; 0.0 when not solved."""
    budget = task.info["max_guesses"]
    game = replay(reference, budget, messages)
    used, target = len(game.guesses), par(reference)
    if not game.solved:
        status = ScoreStatus.unparseable if all(g == "" for g in game.guesses) else ScoreStatus.incorrect
        return Score(value=0.0, status=status, extracted=",".join(game.guesses), detail=f"not solved in {used}")
    value = 1.0 if used <= target else 1.0 - 0.5 * (used - target) / (budget - target)
    status = ScoreStatus.correct if value == 1.0 else ScoreStatus.incorrect
    detail = f"solved in {used} of {budget}; par {target}"
    return Score(value=value, status=status, extracted=",".join(game.guesses), detail=detail)


@rlhub.environment("rlhub/word-guess", version="0.1.0")
class WordGuess(rlhub.MultiTurnEnv):
    """Guess the secret five-letter word; each guess gets per-letter feedback."""

    max_guesses: int = 6
    """Guess budget (`WORST`-10, so the solver always finishes)."""

    max_turns = 10
    rubric = rlhub.Rubric(solved=solved)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not WORST <= self.max_guesses <= self.max_turns:
            raise rlhub.ConfigError(f"max_guesses must be {WORST}-{self.max_turns}")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        prompt = (
            f"Let's play a word-guessing game. I have picked a secret, common English word of {LENGTH} letters; "
            f"you have {self.max_guesses} guesses. Reply each turn with `guess: WORD` (any {LENGTH} letters). "
            "I answer with one mark per letter: G = right letter in the right place, Y = in the word but elsewhere, "
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
        """The solver, reading the feedback in the conversation (not the secret)."""
        replies = "\n".join(m.content for m in messages if m.role == "user")
        history = [(word.lower(), marks.replace(" ", "")) for word, marks in _FEEDBACK_RE.findall(replies)]
        return Message.assistant(f"guess: {solver_guess(history)}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        other = next(w for w in WORDS if w != task.answer)
        return ["", "I don't know.", f"guess: {other}", "guess: toolongword"]
