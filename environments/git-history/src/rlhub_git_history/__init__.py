from rlhub_git_history.env import GitHistory

__all__ = ["GitHistory"]
