from rlhub_calculator.env import Calculator

__all__ = ["Calculator"]
