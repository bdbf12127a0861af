from rlhub_algebra.env import Algebra

__all__ = ["Algebra"]
