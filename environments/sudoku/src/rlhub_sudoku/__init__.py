from rlhub_sudoku.env import Sudoku, count_solutions

__all__ = ["Sudoku", "count_solutions"]
