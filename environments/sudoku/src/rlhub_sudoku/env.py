"""Mini sudoku: fill a 4x4 (2x2 boxes) or 6x6 (2x3 boxes) grid so every row, column and box holds
each digit once.

A solution grid is a shuffled base pattern (digits relabelled, rows and columns permuted within
bands and stacks, bands and stacks permuted); clues are then removed in random order for as long as
a backtracking solver still finds exactly one solution, so every puzzle has one verifiable truth.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import rlhub
from rlhub import Score, ScoreStatus

BOXES = {4: (2, 2), 6: (2, 3)}
"""Grid size -> (box rows, box columns)."""
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)
_ROW_RE = re.compile(r"^[\s\d|,.;:\-+\[\]()]*$")
_LABEL_RE = re.compile(r"^\s*(?:row\s*\d+\s*[:.)=-]|r\d+\s*[:.)=-])", re.IGNORECASE)

Grid = list[list[int]]
"""Rows of digits; 0 is an empty cell."""


def count_solutions(grid: Grid, limit: int = 2) -> int:
    """Solutions of `grid`, counting no further than `limit` (2 is enough to prove uniqueness)."""
    n = len(grid)
    br, bc = BOXES[n]
    full = (1 << (n + 1)) - 2
    rows, cols, boxes = [0] * n, [0] * n, [0] * n
    empty = []
    for r in range(n):
        for c in range(n):
            bit = 1 << grid[r][c] if grid[r][c] else 0
            rows[r] |= bit
            cols[c] |= bit
            boxes[r // br * (n // bc) + c // bc] |= bit
            if not bit:
                empty.append((r, c, r // br * (n // bc) + c // bc))

    def search(todo: list[tuple[int, int, int]]) -> int:
        if not todo:
            return 1
        best, free = 0, 0
        for k, (r, c, b) in enumerate(todo):
            options = full & ~(rows[r] | cols[c] | boxes[b])
            if not options:
                return 0
            if not free or options.bit_count() < free.bit_count():
                best, free = k, options
        r, c, b = todo[best]
        rest = todo[:best] + todo[best + 1 :]
        found = 0
        while free and found < limit:
            bit = free & -free
            free ^= bit
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            found += search(rest)
            rows[r] ^= bit
            cols[c] ^= bit
            boxes[b] ^= bit
        return found

    return search(empty)


def solved_grid(rng: random.Random, n: int) -> Grid:
    """A random valid full grid."""
    br, bc = BOXES[n]
    base = [[(bc * (r % br) + r // br + c) % n + 1 for c in range(n)] for r in range(n)]
    bands, stacks = n // br, n // bc
    rows = [b * br + r for b in rng.sample(range(bands), bands) for r in rng.sample(range(br), br)]
    cols = [s * bc + c for s in rng.sample(range(stacks), stacks) for c in rng.sample(range(bc), bc)]
    digits = [0, *rng.sample(range(1, n + 1), n)]
    return [[digits[base[r][c]] for c in cols] for r in rows]


def render(grid: Grid) -> str:
    """Rows of digits and dots, with `|` between boxes and a rule between bands."""
    n = len(grid)
    br, bc = BOXES[n]
    lines = []
    for r, row in enumerate(grid):
        if r and r % br == 0:
            lines.append("-" * (2 * n + 2 * (n // bc - 1) - 1))
        cells = [str(d) if d else "." for d in row]
        lines.append(" | ".join(" ".join(cells[s : s + bc]) for s in range(0, n, bc)))
    return "\n".join(lines)


def parse_grid(response: str, n: int) -> Grid | None:
    """The last `n` lines that each hold exactly `n` digits (spaces, bars, commas and a `Row 1:` label
    allowed)."""
    text = _THINK_RE.sub("", response[-10_000:])
    rows = []
    for line in text.splitlines():
        line = _LABEL_RE.sub("", line)
        digits = re.findall(r"\d", line)
        if _ROW_RE.match(line) and len(digits) == n:
            rows.append([int(d) for d in digits])
    return rows[-n:] if len(rows) >= n else None


def filled(response: str, reference: dict[str, Any]) -> Score:
    """1 for the solution; 0.5 x the share of empty cells filled correctly when some are wrong; 0 when a
    given digit was changed."""
    puzzle, solution = reference["puzzle"], reference["solution"]
    n = len(solution)
    grid = parse_grid(response, n)
    if grid is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail=f"no {n} rows of {n} digits found")
    extracted = "\n".join("".join(map(str, row)) for row in grid)
    if grid == solution:
        return Score.of(True, extracted=extracted)
    cells = [(r, c) for r in range(n) for c in range(n)]
    if any(puzzle[r][c] and grid[r][c] != puzzle[r][c] for r, c in cells):
        return Score(value=0.0, extracted=extracted, detail="a given digit was changed")
    blanks = [(r, c) for r, c in cells if not puzzle[r][c]]
    right = sum(grid[r][c] == solution[r][c] for r, c in blanks)
    return Score(value=0.5 * right / len(blanks), extracted=extracted, detail=f"{right}/{len(blanks)} cells right")


@rlhub.environment("rlhub/sudoku", version="0.1.0")
class Sudoku(rlhub.SingleTurnEnv):
    """Complete a 4x4 or 6x6 sudoku that has exactly one solution."""

    size: int = 4
    """Grid size: 4 (2x2 boxes) or 6 (2x3 boxes)."""
    clues: int | None = None
    """Stop removing digits at this many clues; None removes as many as uniqueness allows (hardest)."""

    rubric = rlhub.Rubric(filled=filled)

    def __init__(self, **config: object):
        super().__init__(**config)
        if self.size not in BOXES:
            raise rlhub.ConfigError(f"size must be one of {sorted(BOXES)}")
        if self.clues is not None and not 0 < self.clues < self.size**2:
            raise rlhub.ConfigError(f"clues must be 1-{self.size**2 - 1}")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        n = self.size
        solution = solved_grid(rng, n)
        puzzle = [row[:] for row in solution]
        givens = n * n
        for cell in rng.sample(range(n * n), n * n):
            if self.clues is not None and givens <= self.clues:
                break
            r, c = divmod(cell, n)
            puzzle[r][c] = 0
            if count_solutions(puzzle) == 1:
                givens -= 1
            else:
                puzzle[r][c] = solution[r][c]
        br, bc = BOXES[n]
        prompt = (
            f"Solve this {n}x{n} sudoku. Fill every empty cell (.) with a digit from 1 to {n} so that each row, each "
            f"column and each {br}x{bc} box ({br} rows by {bc} columns, separated by | and -) contains every digit "
            f"exactly once. The puzzle has exactly one solution.\n\n{render(puzzle)}\n\n"
            f"Finish with the completed grid: {n} lines of {n} digits separated by spaces."
        )
        answer = {"puzzle": puzzle, "solution": solution}
        return rlhub.Task(prompt=prompt, answer=answer, tags=(f"size:{n}", f"clues:{givens}"))

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        return rlhub.Message.assistant("\n".join(" ".join(map(str, row)) for row in task.answer["solution"]))

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        puzzle, solution = task.answer["puzzle"], task.answer["solution"]
        n = len(solution)
        blank_changed = [row[:] for row in solution]
        r, c = next((r, c) for r in range(n) for c in range(n) if not puzzle[r][c])
        blank_changed[r][c] = blank_changed[r][c] % n + 1
        given_changed = [row[:] for row in solution]
        r, c = next((r, c) for r in range(n) for c in range(n) if puzzle[r][c])
        given_changed[r][c] = given_changed[r][c] % n + 1
        as_text = ["\n".join(" ".join(map(str, row)) for row in grid) for grid in (blank_changed, given_changed)]
        return ["", "I don't know.", *as_text]
