from rlhub_code_stdio.env import CodeStdio

__all__ = ["CodeStdio"]
