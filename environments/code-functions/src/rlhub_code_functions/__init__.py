from rlhub_code_functions.env import CodeFunctions

__all__ = ["CodeFunctions"]
