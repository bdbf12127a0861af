from rlhub_word_problems.env import WordProblems

__all__ = ["WordProblems"]
