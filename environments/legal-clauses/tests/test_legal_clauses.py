import re

import pytest
from rlhub_legal_clauses import LegalClauses
from rlhub_legal_clauses.env import CLAUSE_TYPES, TEMPLATES, part_correct, words

import rlhub


@pytest.mark.parametrize("level", [1, 3])
def test_check_env_passes(level: int) -> None:
    report = rlhub.check_env(LegalClauses(level=level), n=30)
    assert report.ok, report.failures()


def test_number_words() -> None:
    assert [words(n) for n in (7, 45, 90, 120, 180)] == [
        "seven", "forty-five", "ninety", "one hundred and twenty", "one hundred and eighty",
    ]  # fmt: skip


def test_answer_parts_are_compared_by_kind() -> None:
    assert part_correct("30 days", "number", "30") and part_correct("thirty days", "number", "30")
    assert part_correct("US$1,250,000", "number", "1250000") and not part_correct("30 or 45", "number", "30")
    assert part_correct("March 3, 2025", "date", "2025-03-03") and part_correct("2025-03-03", "date", "2025-03-03")
    assert not part_correct("2025-03-04", "date", "2025-03-03")
    assert part_correct("New Halden", "text", "the State of New Halden")
    assert part_correct("limitation of liability", "text", "Limitation of Liability")
    assert not part_correct("Norvale", "text", "the State of New Halden") and not part_correct("", "text", "x")


def test_headings_only_at_level_one() -> None:
    level1 = LegalClauses(level=1).task(0).prompt[0].content
    level2 = LegalClauses(level=2).task(0).prompt[0].content
    assert any(f". {name}. " in level1 for name in CLAUSE_TYPES.values())
    assert not any(f". {name}. " in level2 for name in CLAUSE_TYPES.values())


def test_the_asked_clause_has_the_type_the_answer_says() -> None:
    env = LegalClauses(level=2)
    names = {v: k for k, v in CLAUSE_TYPES.items()}
    checked = 0
    for task in env.tasks(80):
        if task.info["question"] != "classify":
            continue
        number = int(re.search(r"clause (\d+)\?", task.prompt[0].content).group(1))  # type: ignore[union-attr]
        clause = re.search(rf"\n{number}\. (.+)", task.prompt[0].content).group(1)  # type: ignore[union-attr]
        openings = [t.split("{")[0] for t in TEMPLATES[names[task.answer]]]
        assert any(clause.startswith(o) for o in openings), (clause, task.answer)
        checked += 1
    assert checked >= 10


def test_multi_part_questions_give_partial_credit() -> None:
    env = LegalClauses(level=3)
    task = next(t for t in env.tasks(60) if len(t.info["parts"]) == 3)
    values = [p["value"] for p in task.info["parts"]]
    assert env.score(task, [rlhub.Message.assistant("Answer: " + "; ".join(values))]).value == 1.0
    one_wrong = "; ".join([*values[:2], "1999-01-01" if task.info["parts"][2]["kind"] == "date" else "zzz 123456"])
    assert env.score(task, [rlhub.Message.assistant("Answer: " + one_wrong)]).value == pytest.approx(2 / 3)
    assert env.score(task, [rlhub.Message.assistant("no answer line")]).status == rlhub.ScoreStatus.unparseable
