from rlhub_countdown.env import Countdown, evaluate

__all__ = ["Countdown", "evaluate"]
