from rlhub_tic_tac_toe.env import TicTacToe, best_move, value

__all__ = ["TicTacToe", "best_move", "value"]
