"""Tic-tac-toe against a perfect opponent, from the empty board or a random opening.

Against perfect play the best outcome from a position is fixed (its game-theoretic value), so the
reward measures how much of it the model secures: the outcome's points (win 1, draw 0.5, loss 0)
divided by the points perfect play guarantees from the start position. Positions lost for the model
are never dealt, so the maximum, 1.0, is always reachable; drawing a won position earns 0.5.

The opponent is a memoised negamax: it wins as fast as possible, loses as slowly as possible, and
breaks ties by the lowest cell number, so every game is a pure function of the model's moves and the
score can be recomputed from the conversation alone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import rlhub
from rlhub import Message, Score, ScoreStatus, State

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
POINTS = {"win": 1.0, "draw": 0.5, "loss": 0.0}
EMPTY = "."
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_MOVE_RE = re.compile(r"move\s*:?\s*\**\s*(\d+)", re.IGNORECASE)


def winner(board: str) -> str | None:
    for a, b, c in LINES:
        if board[a] != EMPTY and board[a] == board[b] == board[c]:
            return board[a]
    return None


def to_move(board: str) -> str:
    return "X" if board.count("X") == board.count("O") else "O"


@cache
def negamax(board: str) -> int:
    """Score for the side to move: > 0 wins (larger = sooner), < 0 loses (smaller = sooner), 0 draws."""
    empties = board.count(EMPTY)
    if winner(board):
        return -(empties + 1)
    if not empties:
        return 0
    return max(-negamax(_play(board, i)) for i in range(9) if board[i] == EMPTY)


def value(board: str) -> int:
    """Game-theoretic value for the side to move: 1 win, 0 draw, -1 loss."""
    score = negamax(board)
    return (score > 0) - (score < 0)


def best_move(board: str) -> int:
    """The perfect move (0-8): fastest win, else a draw, else slowest loss; lowest cell on ties."""
    return max((i for i in range(9) if board[i] == EMPTY), key=lambda i: (-negamax(_play(board, i)), -i))


def _play(board: str, cell: int) -> str:
    return board[:cell] + to_move(board) + board[cell + 1 :]


@cache
def positions(max_opening: int, winning_only: bool) -> tuple[str, ...]:
    """Every start position: reachable in at most `max_opening` moves, not over, not lost for the side to
    move (and won for it, if `winning_only`); sorted, so a seeded choice is the same everywhere."""
    found, frontier = {EMPTY * 9}, {EMPTY * 9}
    for _ in range(max_opening):
        frontier = {_play(b, i) for b in frontier if not winner(b) for i in range(9) if b[i] == EMPTY}
        found |= frontier
    lowest = 1 if winning_only else 0
    return tuple(sorted(b for b in found if not winner(b) and EMPTY in b and value(b) >= lowest))


def render(board: str) -> str:
    """The board with empty cells shown as their numbers 1-9."""
    cells = [mark if mark != EMPTY else str(i + 1) for i, mark in enumerate(board)]
    return "\n---+---+---\n".join(" " + " | ".join(cells[r : r + 3]) for r in range(0, 9, 3))


def parse_move(text: str) -> int | None:
    """The cell (1-9 as written) a message plays: the last `move: N`, else a message that is just a number."""
    text = _THINK_RE.sub("", text[-5_000:]).strip()
    found = _MOVE_RE.findall(text)
    if found:
        return int(found[-1])
    bare = text.strip("`*. \n")
    return int(bare) if bare.isdigit() else None


@dataclass
class Game:
    """A game from the model's side: its moves are applied with `play`, the opponent answers itself."""

    board: str
    model: str
    outcome: str | None = None
    reason: str = ""
    reply: int = -1
    """The opponent's last move (0-8)."""

    def play(self, text: str) -> None:
        """Apply the model's message; an unreadable or illegal move loses at once."""
        cell = parse_move(text)
        if cell is None:
            self._end("loss", "no move found (reply with `move: N`, N from 1 to 9)")
        elif not 1 <= cell <= 9 or self.board[cell - 1] != EMPTY:
            self._end("loss", f"illegal move {cell}: {'taken' if 1 <= cell <= 9 else 'not a cell'}")
        else:
            self.board = _play(self.board, cell - 1)
            if not self._settled("you completed a line"):
                self.reply = best_move(self.board)
                self.board = _play(self.board, self.reply)
                self._settled("the opponent completed a line")

    def _settled(self, how: str) -> bool:
        mark = winner(self.board)
        if mark:
            self._end("win" if mark == self.model else "loss", how)
        elif EMPTY not in self.board:
            self._end("draw", "the board is full")
        return self.outcome is not None

    def _end(self, outcome: str, reason: str) -> None:
        self.outcome, self.reason = outcome, reason


def replay(answer: dict[str, Any], messages: Sequence[Message]) -> Game:
    """The game that a conversation's assistant messages play from the task's start position."""
    game = Game(answer["board"], answer["model"])
    for message in messages:
        if message.role == "assistant" and game.outcome is None:
            game.play(message.content)
    return game


def outcome(response: str, reference: dict[str, Any], messages: list[Message]) -> Score:
    """Points of the outcome over the points perfect play guarantees from the start (unfinished = loss)."""
    game = replay(reference, messages)
    result = game.outcome or "loss"
    reward = POINTS[result] / POINTS[reference["best"]]
    status = ScoreStatus.correct if reward == 1.0 else ScoreStatus.incorrect
    if result == "loss" and game.reason.startswith("no move"):
        status = ScoreStatus.unparseable
    detail = f"{result} ({game.reason or 'unfinished'}); perfect play gets a {reference['best']}"
    return Score(value=reward, status=status, extracted=game.board, detail=detail)


@rlhub.environment("rlhub/tic-tac-toe", version="0.1.0")
class TicTacToe(rlhub.MultiTurnEnv):
    """Play tic-tac-toe against a perfect opponent; secure what perfect play secures."""

    max_opening: int = 4
    """Start positions are those reachable in up to this many moves (2-6), drawn uniformly; the model plays
    whichever side is to move. Fewer than 2 leaves too few positions for two splits."""
    winning_only: bool = False
    """Deal only positions the model can force a win from (tactics puzzles, reward 0.5 for a draw)."""

    max_turns = 5
    rubric = rlhub.Rubric(outcome=outcome)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not 2 <= self.max_opening <= 6:
            raise rlhub.ConfigError("max_opening must be 2-6")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        board = rng.choice(positions(self.max_opening, self.winning_only))
        model = to_move(board)
        best = "win" if value(board) == 1 else "draw"
        prompt = (
            f"We are playing tic-tac-toe. You are {model}, I am {'O' if model == 'X' else 'X'}, and it is your turn. "
            "Empty cells show their number:\n\n"
            f"{render(board)}\n\n"
            "Reply with the cell you play as `move: N` (N from 1 to 9). An illegal or missing move loses the game."
        )
        answer = {"board": board, "model": model, "best": best}
        return rlhub.Task(prompt=prompt, answer=answer, tags=(f"opening:{9 - board.count(EMPTY)}", f"best:{best}"))

    def setup(self, state: State) -> None:
        state.game = Game(state.task.answer["board"], state.task.answer["model"])

    def is_done(self, state: State, message: Message) -> bool:
        state.game.play(message.content)
        state.info = {"board": state.game.board, "outcome": state.game.outcome, "reason": state.game.reason}
        return state.game.outcome is not None

    async def env_response(self, state: State, message: Message) -> list[Message]:
        return [Message.user(f"I play {state.game.reply + 1}.\n\n{render(state.game.board)}\n\nYour move.")]

    def oracle(self, task: rlhub.Task, messages: Sequence[Message]) -> Message:
        game = replay(task.answer, messages)
        return Message.assistant(f"move: {best_move(game.board) + 1}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        taken = next((i + 1 for i in range(9) if task.answer["board"][i] != EMPTY), 10)
        return ["", "I don't know.", f"move: {taken}"]
