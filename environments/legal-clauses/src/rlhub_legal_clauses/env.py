"""Clause extraction and classification over generated service agreements.

A contract is drawn from clause templates (two wordings per clause type) with random parties,
dates, fictional jurisdictions, notice and cure periods, payment terms and liability caps, in a
shuffled order. One question is asked about it; every question has exactly one answer, read off the
generated parameters. Several numbers in a contract are in days, so the model must find the right one.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from typing import Any

import rlhub

ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_KEYS = ("term", "net", "interest", "notice", "cure", "conf", "nonsolicit", "warranty")
"""Parameters the templates write out as numbers (in the contract's number style)."""

JURISDICTIONS = (
    "the State of Norvale", "the Province of Eastmarch", "the Commonwealth of Belsora", "the Republic of Tirava",
    "the State of New Halden", "the Territory of Quillon", "the Duchy of Varnholm", "the State of Corriel",
)  # fmt: skip
NAME_PARTS = (
    "Arden", "Bexley", "Calloway", "Dunmore", "Elbright", "Fenwick", "Galloran", "Hollis", "Ivers", "Juniper",
    "Kestrel", "Larkspur", "Merrow", "Northgate", "Orrin", "Pellham", "Quarry", "Rookwood", "Selden", "Thistle",
)  # fmt: skip
NAME_KINDS = ("Analytics", "Logistics", "Systems", "Foods", "Media", "Health", "Robotics", "Energy", "Textiles")
SUFFIXES = ("Inc.", "LLC", "Ltd.", "GmbH", "S.A.", "Corp.")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
)  # fmt: skip

CLAUSE_TYPES = {
    "term": "Term",
    "payment": "Payment",
    "termination_convenience": "Termination for Convenience",
    "termination_breach": "Termination for Breach",
    "liability": "Limitation of Liability",
    "confidentiality": "Confidentiality",
    "governing_law": "Governing Law",
    "indemnification": "Indemnification",
    "force_majeure": "Force Majeure",
    "assignment": "Assignment",
    "non_solicitation": "Non-Solicitation",
    "warranty": "Warranty",
}

TEMPLATES: dict[str, tuple[str, str]] = {
    "term": (
        "This Agreement commences on the Effective Date and remains in force for {term} months, unless "
        "terminated earlier in accordance with its terms.",
        "The initial term of this Agreement is {term} months from the Effective Date; thereafter it renews only "
        "by written agreement of the parties.",
    ),
    "payment": (
        "The Provider shall invoice the Client monthly. The Client shall pay each undisputed invoice within "
        "{net} days of receipt. Late amounts accrue interest at {interest} percent per month.",
        "Invoices are payable {net} days after the invoice date. Any amount not paid when due bears interest "
        "at a rate of {interest} percent per month until paid.",
    ),
    "termination_convenience": (
        "Either party may terminate this Agreement for any reason or no reason by giving the other party "
        "{notice} days' prior written notice.",
        "Without cause, either party may end this Agreement on not less than {notice} days' written notice to "
        "the other party.",
    ),
    "termination_breach": (
        "If a party materially breaches this Agreement and fails to cure the breach within {cure} days after "
        "receiving written notice of it, the other party may terminate this Agreement immediately.",
        "A party may terminate this Agreement by notice if the other party commits a material breach that "
        "remains uncured {cure} days after written notice describing the breach.",
    ),
    "liability": (
        "Except for breaches of confidentiality, each party's total aggregate liability arising out of this "
        "Agreement shall not exceed {cap}.",
        "In no event shall either party's cumulative liability under or in connection with this Agreement "
        "exceed {cap}, whether in contract, tort or otherwise.",
    ),
    "confidentiality": (
        "Each party shall keep the other party's Confidential Information secret and use it only to perform "
        "this Agreement, during the term and for {conf} years after it ends.",
        "The receiving party shall protect Confidential Information with reasonable care and shall not "
        "disclose it to third parties; this obligation survives for {conf} years after termination.",
    ),
    "governing_law": (
        "This Agreement is governed by and construed in accordance with the laws of {law}, without regard to "
        "its conflict of laws rules.",
        "The laws of {law} govern this Agreement and any dispute arising from it, and its courts have "
        "exclusive jurisdiction.",
    ),
    "indemnification": (
        "The Provider shall defend and indemnify the Client against third-party claims alleging that the "
        "Services infringe any intellectual property right.",
        "Each party shall hold the other harmless from losses caused by its own gross negligence or wilful "
        "misconduct, including reasonable legal fees.",
    ),
    "force_majeure": (
        "Neither party is liable for delay or failure to perform caused by events beyond its reasonable "
        "control, such as natural disasters, war or government action.",
        "A party affected by an event outside its reasonable control is excused from performance for as long "
        "as that event continues, provided it notifies the other party promptly.",
    ),
    "assignment": (
        "Neither party may assign or transfer this Agreement without the prior written consent of the other "
        "party, except to a successor in a merger.",
        "This Agreement binds the parties and their permitted successors; any assignment without written "
        "consent is void.",
    ),
    "non_solicitation": (
        "During the term and for {nonsolicit} months afterwards, neither party shall solicit for employment "
        "any employee of the other party.",
        "The Client shall not hire or solicit the Provider's personnel for {nonsolicit} months after the "
        "end of this Agreement.",
    ),
    "warranty": (
        "The Provider warrants that the Services will be performed in a professional manner and will remedy "
        "any non-conforming Services reported within {warranty} days of delivery.",
        "For {warranty} days after delivery, the Provider warrants that each deliverable will materially "
        "conform to its specification.",
    ),
}

PURPOSES = {
    "term": "the duration of the agreement",
    "payment": "invoices, payment deadlines and late interest",
    "termination_convenience": "ending the agreement without cause",
    "termination_breach": "ending the agreement after an uncured material breach",
    "liability": "the cap on the parties' liability",
    "confidentiality": "keeping the other party's information secret",
    "governing_law": "which jurisdiction's laws apply",
    "indemnification": "indemnifying or holding the other party harmless",
    "force_majeure": "events beyond a party's reasonable control",
    "assignment": "transferring the agreement to someone else",
    "non_solicitation": "soliciting or hiring the other party's staff",
    "warranty": "the warranty on the Provider's work",
}
"""What each clause type is about, for "which clause deals with ..." questions."""

CORE = ("term", "payment", "termination_convenience", "termination_breach", "liability", "governing_law")
LEVELS = {
    1: "clauses have headings; single look-up questions",
    2: "no headings; look-up, clause-finding and clause-classification questions",
    3: "no headings, all twelve clause types; also three-part questions (partial credit)",
}


def words(n: int) -> str:
    """English words for 0-999."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else "")
    rest = n % 100
    return ONES[n // 100] + " hundred" + (" and " + words(rest) if rest else "")


_FROM_WORDS = {words(n): float(n) for n in range(1000)}


def _number(n: int, style: str, rng: random.Random) -> str:
    style = rng.choice(["digits", "words", "both"]) if style == "mixed" else style
    return {"digits": str(n), "words": words(n), "both": f"{words(n)} ({n})"}[style]


def _date_text(date: dt.date, rng: random.Random) -> str:
    month = MONTHS[date.month - 1]
    return rng.choice([f"{month} {date.day}, {date.year}", f"{date.day} {month} {date.year}", date.isoformat()])


def _company(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"{rng.choice(NAME_PARTS)} {rng.choice(NAME_KINDS)} {rng.choice(SUFFIXES)}"
        if name.split()[0] not in taken:
            taken.add(name.split()[0])
            return name


def _normal(text: str) -> str:
    text = text.lower().replace("&", "and")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = re.sub(r"\b(the|state|province|commonwealth|republic|territory|duchy|of|laws?)\b", " ", text)
    return " ".join(text.split())


def _as_date(text: str) -> dt.date | None:
    text = text.strip().rstrip(".")
    for fmt in ("%Y-%m-%d", "%B %d, %Y", "%d %B %Y", "%B %d %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _as_number(text: str) -> float | None:
    """The one number in an answer part, in digits or (0-999) in words."""
    found = re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)
    if found:
        return float(found[0].replace(",", "")) if len(found) == 1 else None
    spelled = " ".join(re.sub(r"[^a-z -]+", " ", text.lower()).replace(" days", " ").split())
    return _FROM_WORDS.get(spelled)


def part_correct(given: str, kind: str, expected: str) -> bool:
    """One answer part against its expected value, compared as its kind says."""
    if kind == "number":
        value = _as_number(given)
        return value is not None and abs(value - float(expected)) < 1e-9
    if kind == "date":
        return _as_date(given) == dt.date.fromisoformat(expected)
    return _normal(given) == _normal(expected) != ""


def final_answer(response: str) -> str | None:
    """The text after the last 'Answer:' in the response."""
    response = re.sub(r"<think>.*?(</think>|$)", "", response, flags=re.DOTALL)
    found = re.findall(r"answer\s*:\s*(.+)", response, flags=re.IGNORECASE)
    return found[-1].strip().strip("*").strip() if found else None


def score(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    """Share of the answer's ';'-separated parts that are right (one part for most questions)."""
    text = final_answer(response)
    parts: Sequence[dict[str, str]] = task.info["parts"]
    if text is None:
        return rlhub.Score(value=0.0, status=rlhub.ScoreStatus.unparseable, detail="no 'Answer:' line")
    given = [g.strip() for g in text.split(";")] if len(parts) > 1 else [text]
    right = sum(part_correct(g, p["kind"], p["value"]) for g, p in zip(given, parts, strict=False))
    value = right / len(parts)
    status = rlhub.ScoreStatus.correct if value == 1.0 else rlhub.ScoreStatus.incorrect
    return rlhub.Score(value=value, status=status, extracted=text[:200])


@rlhub.environment("rlhub/legal-clauses", version="0.1.0")
class LegalClauses(rlhub.SingleTurnEnv):
    """Read a generated contract and answer one question about its clauses."""

    level: int = 2
    """Curriculum 1-3 (see LEVELS)."""
    number_style: str = "mixed"
    """How numbers are written in contracts: digits, words, both ('thirty (30)') or mixed."""

    rubric = rlhub.Rubric(correct=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if self.level not in LEVELS:
            raise rlhub.ConfigError(f"level must be one of {sorted(LEVELS)}")
        if self.number_style not in ("digits", "words", "both", "mixed"):
            raise rlhub.ConfigError("number_style must be digits, words, both or mixed")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        taken: set[str] = set()
        params: dict[str, Any] = {
            "provider": _company(rng, taken),
            "client": _company(rng, taken),
            "date": dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 3650)),
            "term": rng.choice([6, 12, 18, 24, 36, 48, 60]),
            "net": rng.choice([10, 15, 30, 45, 60, 90]),
            "interest": rng.choice([1, 2]),
            "notice": rng.choice([7, 14, 21, 30, 45, 60, 90, 120, 180]),
            "cure": rng.choice([5, 10, 15, 20, 30, 45, 60]),
            "cap_usd": rng.randint(1, 400) * 5_000 if rng.random() < 0.7 else None,
            "cap_months": rng.choice([3, 6, 12, 24]),
            "conf": rng.choice([1, 2, 3, 5, 7, 10]),
            "law": rng.choice(JURISDICTIONS),
            "nonsolicit": rng.choice([6, 9, 12, 18, 24]),
            "warranty": rng.choice([30, 60, 90, 180]),
        }
        optional = [t for t in CLAUSE_TYPES if t not in CORE]
        extra = optional if self.level == 3 else rng.sample(optional, rng.randint(1, 3))
        kinds = list(CORE) + extra
        rng.shuffle(kinds)
        clauses = [self._clause(kind, params, rng) for kind in kinds]
        contract = self._render(params, kinds, clauses, rng)
        question, parts = self._question(params, kinds, rng)
        prompt = f"{contract}\n\nQuestion: {question}\n\nEnd your reply with a final line 'Answer: <answer>'" + (
            " with the parts separated by semicolons." if len(parts) > 1 else "."
        )
        answer = "; ".join(p["value"] for p in parts)
        info = {"parts": parts, "question": parts[0]["asks"] if len(parts) == 1 else "summary"}
        return rlhub.Task(
            prompt=prompt, answer=answer, info=info, tags=(f"level:{self.level}", f"q:{info['question']}")
        )

    def _clause(self, kind: str, params: dict[str, Any], rng: random.Random) -> str:
        values = {k: _number(params[k], self.number_style, rng) for k in NUMBER_KEYS}
        if params["cap_usd"] is not None:
            values["cap"] = f"US${params['cap_usd']:,}"
        else:
            months = _number(params["cap_months"], "both", rng)
            values["cap"] = f"the fees paid by the Client in the {months} months before the claim"
        values["law"] = params["law"]
        return rng.choice(TEMPLATES[kind]).format(**values)

    def _render(self, params: dict[str, Any], kinds: list[str], clauses: list[str], rng: random.Random) -> str:
        head = (
            f"SERVICES AGREEMENT\n\nThis Services Agreement is entered into as of {_date_text(params['date'], rng)} "
            f'(the "Effective Date") between {params["provider"]} (the "Provider") and {params["client"]} '
            '(the "Client").'
        )
        body = []
        for i, (kind, text) in enumerate(zip(kinds, clauses, strict=True), 1):
            heading = f" {CLAUSE_TYPES[kind]}." if self.level == 1 else ""
            body.append(f"{i}.{heading} {text}")
        return head + "\n\n" + "\n\n".join(body)

    def _question(
        self, params: dict[str, Any], kinds: list[str], rng: random.Random
    ) -> tuple[str, list[dict[str, str]]]:
        lookups = {
            "notice": ("How many days of written notice are required to terminate for convenience?", "number"),
            "cure": ("Within how many days must a material breach be cured after notice?", "number"),
            "net": ("Within how many days must an invoice be paid?", "number"),
            "term": ("How many months is the initial term?", "number"),
            "law": ("Which jurisdiction's laws govern the agreement?", "text"),
            "date": ("What is the Effective Date? Give it as YYYY-MM-DD.", "date"),
            "provider": ("What is the full name of the Provider?", "text"),
            "client": ("What is the full name of the Client?", "text"),
        }
        if params["cap_usd"] is not None:
            lookups["cap_usd"] = ("What is the liability cap in US dollars? Give the number only.", "number")
        values = {k: params[k].isoformat() if k == "date" else str(params[k]) for k in lookups}
        choices = ["lookup"]
        if self.level >= 2:
            choices += ["find", "classify"]
        if self.level == 3:
            choices.append("summary")
        pick = rng.choice(choices)
        if pick == "lookup":
            key = rng.choice(sorted(lookups))
            text, kind = lookups[key]
            return text, [{"asks": key, "kind": kind, "value": values[key]}]
        if pick == "find":
            kind = rng.choice(kinds)
            text = f"Which clause number deals with {PURPOSES[kind]}? Give the number only."
            return text, [{"asks": "find", "kind": "number", "value": str(kinds.index(kind) + 1)}]
        if pick == "classify":
            number = rng.randint(1, len(kinds))
            options = ", ".join(CLAUSE_TYPES.values())
            text = f"Which type of clause is clause {number}? Choose one of: {options}."
            return text, [{"asks": "classify", "kind": "text", "value": CLAUSE_TYPES[kinds[number - 1]]}]
        keys = rng.sample(sorted(lookups), 3)
        asked = " ".join(f"({i}) {lookups[k][0]}" for i, k in enumerate(keys, 1))
        parts = [{"asks": k, "kind": lookups[k][1], "value": values[k]} for k in keys]
        return f"Answer three questions, in this order: {asked}", parts

    def oracle(self, task: rlhub.Task, messages: object) -> rlhub.Message:
        return rlhub.Message.assistant(f"Answer: {task.answer}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        parts = task.info["parts"]
        first = parts[0]
        if first["kind"] == "number":
            bad = str(int(first["value"]) + 1)
        elif first["kind"] == "date":
            bad = (dt.date.fromisoformat(first["value"]) + dt.timedelta(days=1)).isoformat()
        else:
            bad = "Assignment" if first["value"] != "Assignment" else "Warranty"
        rest = [p["value"] for p in parts[1:]]
        return ["", "I don't know.", "Answer: " + "; ".join([bad, *rest])]
