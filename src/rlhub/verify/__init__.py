"""Verifiers: pure functions from (response, reference) to a Score, with hard budgets.

Each submodule is imported on demand (`from rlhub.verify import math`), so importing this package
loads nothing heavy. Every `score`-style function here can be used directly as a Rubric reward function.
"""

__all__ = [
    "code",
    "judge",
    "math",
    "numeric",
    "rescore",
    "sandbox",
    "structured",
    "text",
    "toolcall",
]
