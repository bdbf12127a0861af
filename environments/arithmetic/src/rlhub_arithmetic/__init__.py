from rlhub_arithmetic.env import Arithmetic

__all__ = ["Arithmetic"]
