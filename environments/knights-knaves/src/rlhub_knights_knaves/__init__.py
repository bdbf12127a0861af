from rlhub_knights_knaves.env import KnightsKnaves, solutions

__all__ = ["KnightsKnaves", "solutions"]
