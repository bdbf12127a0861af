from rlhub_reasoning_gym.env import ReasoningGym

__all__ = ["ReasoningGym"]
