"""rlhub.verify.text: each matcher on hits, near misses and list references."""

from __future__ import annotations

from rlhub.core.rubric import Rubric
from rlhub.core.types import Message, ScoreStatus, Task
from rlhub.verify import text


def test_exact() -> None:
    assert text.exact("  Paris \n", "Paris").value == 1.0
    assert text.exact("paris", "Paris").value == 0.0
    assert text.exact("<think>Lyon?</think>Paris", "Paris").value == 1.0


def test_normalized_ignores_case_punctuation_articles_and_spacing() -> None:
    assert text.normalized("The  Eiffel tower!", "eiffel Tower").value == 1.0
    assert text.normalized("An apple.", "apple").value == 1.0
    assert text.normalized("Eiffel towers", "Eiffel tower").value == 0.0


def test_list_reference_takes_the_best() -> None:
    assert text.normalized("NYC", ["New York City", "nyc"]).value == 1.0
    assert text.exact("LA", ["New York City", "nyc"]).status is ScoreStatus.incorrect


def test_regex() -> None:
    assert text.regex("order #A-1234 shipped", r"#A-\d{4}\b").value == 1.0
    assert text.regex("order #A-12 shipped", r"#A-\d{4}\b").value == 0.0


def test_choice() -> None:
    assert text.choice("I considered (A), but the answer is (C).", "C").value == 1.0
    assert text.choice("The answer is (C).", "(B)").value == 0.0
    assert text.choice("\\boxed{D}", ["D", "E"]).value == 1.0
    assert text.choice("The answer is (D)", "\\text{D}").value == 1.0
    none = text.choice("I cannot decide.", "A")
    assert none.status is ScoreStatus.unparseable and none.value == 0.0


def test_token_f1() -> None:
    assert text.f1("the cat sat", "cat sat") == 1.0
    assert abs(text.f1("cat sat on mat", "cat sat") - 2 / 3) < 1e-9
    assert text.f1("dog", "cat") == 0.0
    partial = text.token_f1("a black cat", "black dog")
    assert 0 < partial.value < 1 and partial.status is ScoreStatus.incorrect
    assert text.token_f1("Black cat.", ["white cat", "black cat"]).status is ScoreStatus.correct


def test_in_a_rubric() -> None:
    rubric = Rubric(answer=text.normalized, overlap=(text.token_f1, 0.5))
    task = Task(prompt="Capital of France?", answer="Paris")
    score = rubric.score(task, [Message.assistant("paris.")])
    assert score.value == 1.5 and score.breakdown == {"answer": 1.0, "overlap": 1.0}


def test_huge_response_is_bounded() -> None:
    assert text.token_f1("word " * 50_000 + "Paris", "Paris").value < 0.01


def test_final_answer_takes_the_last_answer_line_outside_think() -> None:
    assert text.final_answer("Answer: Ada\nchecked again.\nAnswer: Grace ") == "Grace"
    assert text.final_answer("<think>Answer: Ada</think>It was Grace.") == "It was Grace."
    assert text.final_answer("Answer: Grace <think>Answer: Ada, cut off") == "Grace"
