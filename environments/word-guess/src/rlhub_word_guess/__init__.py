from rlhub_word_guess.env import WordGuess, feedback

__all__ = ["WordGuess", "feedback"]
