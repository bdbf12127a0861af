from rlhub_competition_math.env import CompetitionMath

__all__ = ["CompetitionMath"]
