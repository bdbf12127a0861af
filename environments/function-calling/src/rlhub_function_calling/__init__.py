from rlhub_function_calling.env import FunctionCalling

__all__ = ["FunctionCalling"]
