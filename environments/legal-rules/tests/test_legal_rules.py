import datetime as dt

import pytest
from rlhub_legal_rules import LegalRules
from rlhub_legal_rules.env import benefit, last_filing_day, late_fee

import rlhub

D = dt.date


@pytest.mark.parametrize("level", [1, 3])
def test_check_env_passes(level: int) -> None:
    report = rlhub.check_env(LegalRules(level=level), n=30)
    assert report.ok, report.failures()


def test_limitation_rules_by_hand() -> None:
    adult = D(1980, 1, 1)
    assert last_filing_day("contract", D(2019, 6, 11), None, adult) == D(2022, 6, 13)  # Sat 11 June -> Mon 13
    assert last_filing_day("property", D(2020, 3, 2), None, adult) == D(2024, 3, 4)  # Sat 2 March -> Mon 4
    assert last_filing_day("injury", D(2016, 2, 29), None, adult) == D(2018, 2, 28)  # no 29 Feb in 2018
    assert last_filing_day("injury", D(2015, 1, 5), D(2015, 9, 1), adult) == D(2017, 9, 1)  # discovery later
    minor = D(2000, 7, 20)  # 18 on 2018-07-20
    assert last_filing_day("contract", D(2010, 5, 5), None, minor) == D(2021, 7, 20)


def test_late_fees_by_hand() -> None:
    assert late_fee(1000, 5) == 0.0
    assert late_fee(1000, 6) == 50.0
    assert late_fee(1000, 12) == 80.0  # 50 + 2 x 15
    assert late_fee(1000, 30) == 120.0  # capped at 12%


def test_benefit_rules_by_hand() -> None:
    assert benefit(30, 36, 3, 30_000, 1_000) == ("ELIGIBLE", "NONE", 666.67)  # (38,000 - 30,000) / 12
    assert benefit(30, 36, 1, 0, 0) == ("ELIGIBLE", "NONE", 1000.0)
    assert benefit(17, 10, 1, 99_000, 99_000) == ("INELIGIBLE", "E1", 0.0)  # first failing condition
    assert benefit(30, 23, 1, 1_000, 0)[1] == "E2"
    assert benefit(30, 24, 2, 30_001, 0)[1] == "E3"
    assert benefit(30, 24, 2, 30_000, 40_001)[1] == "E4"


def test_answers_get_partial_credit_per_part() -> None:
    env = LegalRules(domains=("benefits",), level=2)
    task = env.task(0)
    verdict, reason, amount = (p["value"] for p in task.info["parts"])
    say = lambda text: env.score(task, [rlhub.Message.assistant(text)]).value  # noqa: E731
    assert say(f"Reasoning...\nAnswer: {verdict.lower()}; {reason}; ${float(amount):,.2f}") == 1.0
    assert say(f"Answer: {verdict}; {reason}; {float(amount) + 5}") == pytest.approx(2 / 3)
    assert say(f"Answer: {verdict}") == pytest.approx(1 / 3)
    assert env.score(task, [rlhub.Message.assistant("eligible")]).status == rlhub.ScoreStatus.unparseable


def test_domains_and_levels() -> None:
    tasks = LegalRules(domains=("late_fees",), level=1).tasks(30)
    assert {t.info["domain"] for t in tasks} == {"late_fees"}
    assert all("Part 2: Late fees" in t.prompt[0].content for t in tasks)
    assert {t.info["domain"] for t in LegalRules().tasks(60)} == {"limitation", "late_fees", "benefits"}
    with pytest.raises(rlhub.ConfigError):
        LegalRules(domains=("tax",))
