import pytest

from rlhub.core.types import ScoreStatus
from rlhub.verify import numeric


@pytest.mark.parametrize(
    ("response", "value"),
    [("42", 42.0), ("The answer is 1,234.", 1234.0), ("\\boxed{-7}", -7.0), ("so 3 + 4 = 7", 7.0)],
)
def test_reads_the_number_a_response_commits_to(response: str, value: float) -> None:
    assert numeric.extract_number(response) == value


@pytest.mark.parametrize(
    "response",
    ["Answer: 41 or 42", "Answer: 42 or 41", "either 41 or 42.", "\\boxed{41} or \\boxed{42}", "$41 or $42"],
)
def test_a_hedge_between_numbers_commits_to_none(response: str) -> None:
    score = numeric.score(response, "42")
    assert score.value == 0.0 and score.status == ScoreStatus.unparseable


def test_an_unclosed_think_is_not_an_answer() -> None:
    assert numeric.score("<think>The answer is 42", "42").status == ScoreStatus.unparseable
