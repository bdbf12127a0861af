from rlhub_swe_mini.env import SweMini

__all__ = ["SweMini"]
