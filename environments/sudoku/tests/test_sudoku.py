import pytest
from rlhub_sudoku import Sudoku, count_solutions
from rlhub_sudoku.env import BOXES, parse_grid

import rlhub


def _valid(grid: list[list[int]]) -> bool:
    n = len(grid)
    br, bc = BOXES[n]
    units = [set(row) for row in grid] + [{grid[r][c] for r in range(n)} for c in range(n)]
    units += [
        {grid[r][c] for r in range(r0, r0 + br) for c in range(c0, c0 + bc)}
        for r0 in range(0, n, br)
        for c0 in range(0, n, bc)
    ]
    return all(unit == set(range(1, n + 1)) for unit in units)


@pytest.mark.parametrize(("size", "n"), [(4, 30), (6, 10)])
def test_check_env_passes(size: int, n: int) -> None:
    report = rlhub.check_env(Sudoku(size=size), n=n)
    assert report.ok, report.failures()


def test_solver_counts_all_288_four_by_four_grids() -> None:
    assert count_solutions([[0] * 4 for _ in range(4)], limit=1000) == 288


@pytest.mark.parametrize("size", [4, 6])
def test_puzzles_are_unique_and_consistent_with_their_solution(size: int) -> None:
    for task in Sudoku(size=size).tasks(8):
        puzzle, solution = task.answer["puzzle"], task.answer["solution"]
        assert _valid(solution)
        assert count_solutions(puzzle) == 1
        cells = [(r, c) for r in range(size) for c in range(size)]
        assert all(puzzle[r][c] in (0, solution[r][c]) for r, c in cells)


def test_clues_knob_keeps_that_many_givens() -> None:
    task = Sudoku(size=6, clues=20).task(0)
    assert sum(1 for row in task.answer["puzzle"] for d in row if d) == 20


def test_reward_gives_half_credit_by_share_of_cells_and_nothing_for_changed_givens() -> None:
    env = Sudoku(size=6)
    task = env.task(1)
    wrong_blank, wrong_given = env.wrong_responses(task)[2:]
    blanks = sum(1 for row in task.answer["puzzle"] for d in row if not d)
    assert env.score(task, [rlhub.Message.assistant(wrong_blank)]).value == pytest.approx(0.5 * (blanks - 1) / blanks)
    assert env.score(task, [rlhub.Message.assistant(wrong_given)]).value == 0.0


def test_parse_grid_skips_prose_and_takes_the_last_grid() -> None:
    text = "Row 1 has 1 2 so:\n1 . | 3 4\nfinal:\n1 2 | 3 4\n3 4 | 1 2\n---\n2,1,4,3\n[4 3 2 1]"
    assert parse_grid(text, 4) == [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]
    assert parse_grid("1 2 3 4", 4) is None
    labelled = "Row 1: 1 2 3 4\nRow 2: 3 4 1 2\nrow 3 - 2 1 4 3\nR4: 4 3 2 1"
    assert parse_grid(labelled, 4) == [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]


@pytest.mark.parametrize("config", [{"size": 9}, {"clues": 16}, {"clues": 0}])
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        Sudoku(**config)
