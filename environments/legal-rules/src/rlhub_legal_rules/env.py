"""Apply a small fictional statute to generated fact patterns.

The "Civil Matters Act of Norvale" (invented) has three parts: limitation periods for claims, late
fees on rent, and eligibility for a household benefit. A task quotes the part it needs, states facts,
and asks for a short answer of two or three parts; each part is computed here by the same rules.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

import rlhub

DOMAINS = ("limitation", "late_fees", "benefits")
LEVELS = {
    1: "base rules only, facts far from any threshold",
    2: "exceptions apply (minors, discovery, weekends, fee cap, assets)",
    3: "exceptions, and facts placed just around the thresholds",
}

LIMITATION_RULES = """\
Civil Matters Act of Norvale (fictional), Part 1: Limitation periods.
1.1 A claim for breach of contract must be filed within 3 years after the date of the breach.
1.2 A claim for personal injury must be filed within 2 years after the later of the date of the injury and the date \
the claimant discovered the injury.
1.3 A claim for damage to property must be filed within 4 years after the date of the damage.
1.4 If the claimant was under 18 years old on the date a period would start, the period starts on the claimant's \
18th birthday instead (a birthday on 29 February falls on 28 February in other years).
1.5 A period of N years ends on the same month and day N years after it starts (on 28 February when that day does \
not exist). If that last day is a Saturday or Sunday, the last day is the following Monday.
1.6 A claim filed on or before the last day is timely; otherwise it is late."""

LATE_FEE_RULES = """\
Civil Matters Act of Norvale (fictional), Part 2: Late fees on rent.
2.1 Rent is due on the 1st day of the month. Days late are counted from the due date: rent paid on the 4th is \
3 days late.
2.2 Rent paid 5 or fewer days late carries no late fee.
2.3 Rent paid more than 5 days late carries a fee of 5% of the monthly rent, plus $15 for each day late beyond \
the 10th day late.
2.4 The total late fee may not exceed 12% of the monthly rent."""

BENEFIT_RULES = """\
Civil Matters Act of Norvale (fictional), Part 3: Household benefit.
3.1 An applicant is eligible only if all of these hold, checked in this order:
  E1: the applicant is at least 18 years old;
  E2: the applicant has resided in Norvale for at least 24 months;
  E3: annual household income is at most $22,000 plus $8,000 for each household member after the first;
  E4: assets, not counting the applicant's primary home, are at most $40,000.
3.2 The reason for a refusal is the code of the first condition that fails; an eligible applicant has reason NONE.
3.3 The monthly benefit is one twelfth of the amount by which the E3 income limit exceeds the household income, \
rounded to the nearest cent, and at most $1,000. An applicant who is not eligible receives $0."""

ANSWER_RE = re.compile(r"answer\s*:\s*(.+)", re.IGNORECASE)


def add_years(start: dt.date, years: int) -> dt.date:
    """Same month and day `years` later; 28 February when the day does not exist (rule 1.5)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def last_filing_day(kind: str, event: dt.date, discovered: dt.date | None, born: dt.date) -> dt.date:
    """Rules 1.1-1.5."""
    years = {"contract": 3, "injury": 2, "property": 4}[kind]
    start = max(event, discovered) if kind == "injury" and discovered else event
    adult = add_years(born, 18)
    if start < adult:
        start = adult
    last = add_years(start, years)
    return last + dt.timedelta(days=(7 - last.weekday()) % 7) if last.weekday() >= 5 else last


def late_fee(rent: int, days_late: int) -> float:
    """Rules 2.2-2.4."""
    if days_late <= 5:
        return 0.0
    fee = 0.05 * rent + 15 * max(0, days_late - 10)
    return round(min(fee, 0.12 * rent), 2)


def benefit(age: int, months: int, size: int, income: int, assets: int) -> tuple[str, str, float]:
    """Rules 3.1-3.3: (ELIGIBLE or INELIGIBLE, reason code, monthly amount)."""
    limit = 22_000 + 8_000 * (size - 1)
    checks = (("E1", age >= 18), ("E2", months >= 24), ("E3", income <= limit), ("E4", assets <= 40_000))
    failed = next((code for code, ok in checks if not ok), None)
    if failed:
        return "INELIGIBLE", failed, 0.0
    return "ELIGIBLE", "NONE", min(round((limit - income) / 12, 2), 1000.0)


def _day(d: dt.date) -> str:
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def _money(x: float) -> str:
    return f"{x:.2f}"


def _part_ok(given: str, kind: str, expected: str) -> bool:
    given = given.strip().strip(".*").strip()
    if kind == "date":
        try:
            return dt.date.fromisoformat(given) == dt.date.fromisoformat(expected)
        except ValueError:
            return False
    if kind == "money":
        found = re.findall(r"-?\d[\d,]*(?:\.\d+)?", given)
        return len(found) == 1 and abs(float(found[0].replace(",", "")) - float(expected)) < 0.005
    return given.upper() == expected


def score(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    """Share of the answer's ';'-separated parts that are right."""
    text = re.sub(r"<think>.*?(</think>|$)", "", response, flags=re.DOTALL)
    found = ANSWER_RE.findall(text)
    if not found:
        return rlhub.Score(value=0.0, status=rlhub.ScoreStatus.unparseable, detail="no 'Answer:' line")
    given = found[-1].split(";")
    parts = task.info["parts"]
    right = sum(_part_ok(g, p["kind"], p["value"]) for g, p in zip(given, parts, strict=False))
    value = right / len(parts)
    status = rlhub.ScoreStatus.correct if value == 1.0 else rlhub.ScoreStatus.incorrect
    return rlhub.Score(value=value, status=status, extracted=found[-1][:200])


@rlhub.environment("rlhub/legal-rules", version="0.1.0")
class LegalRules(rlhub.SingleTurnEnv):
    """Apply a fictional statute to facts: timeliness and deadline, late fees, benefit eligibility."""

    domains: tuple[str, ...] = DOMAINS
    """Parts of the Act to draw from: limitation, late_fees, benefits."""
    level: int = 2
    """Curriculum 1-3 (see LEVELS)."""

    rubric = rlhub.Rubric(correct=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.domains or set(self.domains) - set(DOMAINS):
            raise rlhub.ConfigError(f"domains must be a non-empty subset of {DOMAINS}")
        if self.level not in LEVELS:
            raise rlhub.ConfigError(f"level must be one of {sorted(LEVELS)}")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        domain = rng.choice(self.domains)
        makers: dict[str, Callable[[random.Random], tuple[str, str, str, list[dict[str, str]]]]] = {
            "limitation": self._limitation,
            "late_fees": self._late_fees,
            "benefits": self._benefits,
        }
        rules, facts, question, parts = makers[domain](rng)
        prompt = f"{rules}\n\nFacts: {facts}\n\n{question}"
        info: dict[str, Any] = {"domain": domain, "parts": parts}
        answer = "; ".join(p["value"] for p in parts)
        return rlhub.Task(prompt=prompt, answer=answer, info=info, tags=(f"domain:{domain}", f"level:{self.level}"))

    def _limitation(self, rng: random.Random) -> tuple[str, str, str, list[dict[str, str]]]:
        kind = rng.choice(["contract", "injury", "property"])
        event = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 4000))
        minor = self.level >= 2 and rng.random() < 0.35
        age_years = rng.randint(8, 17) if minor else rng.randint(19, 80)
        born = event - dt.timedelta(days=age_years * 365 + rng.randint(5, 360))
        discovered = None
        if kind == "injury" and self.level >= 2 and rng.random() < 0.5:
            discovered = event + dt.timedelta(days=rng.randint(10, 500))
        last = last_filing_day(kind, event, discovered, born)
        if self.level == 3:
            filed = last + dt.timedelta(days=rng.randint(-3, 3))
        else:
            filed = last + dt.timedelta(days=rng.choice([-1, 1]) * rng.randint(30, 400))
        what = {"contract": "a breach of contract", "injury": "a personal injury", "property": "damage to property"}
        facts = (
            f"The claimant was born on {_day(born)}. The claim concerns {what[kind]} that occurred on {_day(event)}."
        )
        if discovered:
            facts += f" The claimant discovered the injury on {_day(discovered)}."
        facts += f" The claim was filed on {_day(filed)}."
        question = (
            "Was the claim filed in time, and what was the last day to file it? End with a final line "
            "'Answer: <TIMELY or LATE>; <last day as YYYY-MM-DD>'."
        )
        verdict = "TIMELY" if filed <= last else "LATE"
        parts = [{"kind": "label", "value": verdict}, {"kind": "date", "value": last.isoformat()}]
        return LIMITATION_RULES, facts, question, parts

    def _late_fees(self, rng: random.Random) -> tuple[str, str, str, list[dict[str, str]]]:
        rent = rng.randrange(600, 4000, 25)
        if self.level == 1:
            days = rng.choice([rng.randint(1, 4), rng.randint(7, 10)])
        elif self.level == 2:
            days = rng.randint(1, 30)
        else:
            days = rng.choice([5, 6, 10, 11, rng.randint(11, 25)])
        month = dt.date(2024, rng.randint(1, 12), 1)
        paid = month + dt.timedelta(days=days)
        facts = f"The monthly rent is ${rent:,}. The rent for {month.strftime('%B %Y')} was paid on {_day(paid)}."
        question = (
            "How many days late was the rent, and what late fee is owed in dollars? End with a final line "
            "'Answer: <days late>; <fee in dollars with cents>'."
        )
        parts = [{"kind": "money", "value": str(days)}, {"kind": "money", "value": _money(late_fee(rent, days))}]
        return LATE_FEE_RULES, facts, question, parts

    def _benefits(self, rng: random.Random) -> tuple[str, str, str, list[dict[str, str]]]:
        size = rng.randint(1, 6)
        limit = 22_000 + 8_000 * (size - 1)
        near = self.level == 3
        age = rng.randint(16, 17) if self.level >= 2 and rng.random() < 0.15 else rng.randint(18, 85)
        months = rng.randint(20, 28) if near else rng.choice([rng.randint(1, 12), rng.randint(30, 240)])
        spread = 0.06 if near else 0.6
        income = round(limit * rng.uniform(1 - spread, 1 + spread * 0.5), -2)
        assets = rng.randrange(0, 60_000, 500) if self.level >= 2 else rng.randrange(0, 30_000, 500)
        home = rng.randrange(80_000, 400_000, 5_000)
        facts = (
            f"The applicant is {age} years old and has lived in Norvale for {months} months. The household has "
            f"{size} member{'s' if size > 1 else ''} and an annual income of ${income:,.0f}. The applicant owns a "
            f"primary home worth ${home:,} and other assets worth ${assets:,}."
        )
        question = (
            "Is the applicant eligible, what is the reason code, and what is the monthly benefit in dollars? End "
            "with a final line 'Answer: <ELIGIBLE or INELIGIBLE>; <E1, E2, E3, E4 or NONE>; <monthly benefit>'."
        )
        verdict, reason, amount = benefit(age, months, size, int(income), assets)
        parts = [
            {"kind": "label", "value": verdict},
            {"kind": "label", "value": reason},
            {"kind": "money", "value": _money(amount)},
        ]
        return BENEFIT_RULES, facts, question, parts

    def oracle(self, task: rlhub.Task, messages: object) -> rlhub.Message:
        return rlhub.Message.assistant(f"Answer: {task.answer}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        flips = {"TIMELY": "LATE", "LATE": "TIMELY", "ELIGIBLE": "INELIGIBLE", "INELIGIBLE": "ELIGIBLE"}
        parts = [p["value"] for p in task.info["parts"]]
        first = flips.get(parts[0], str(int(parts[0]) + 1) if parts[0].isdigit() else parts[0] + "1")
        return ["", "I don't know.", "Answer: " + "; ".join([first, *parts[1:]])]
