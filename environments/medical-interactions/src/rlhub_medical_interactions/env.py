"""Drug-interaction questions answered through look-up tools over a SYNTHETIC table.

`interactions.json` holds 32 invented drugs in 8 invented classes, class-level interaction rules and
pair-specific rules that override them. None of it describes real medicines; it is NOT clinical
information. The model cannot know the table: it must call `lookup_interaction` (and may call
`drug_info`), then answer. The verdict depends only on the final answer, so an episode can be
re-scored from its log.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import rlhub

SEVERITIES = ("none", "minor", "moderate", "major", "contraindicated")
RATING = {"none": "SAFE", "minor": "SAFE", "moderate": "CAUTION", "major": "AVOID", "contraindicated": "AVOID"}
RATINGS = ("SAFE", "CAUTION", "AVOID")
LEVELS = {
    1: "one pair: SAFE, CAUTION or AVOID",
    2: "also a 3-4 drug regimen rated by its worst pair",
    3: "also: which current drug interacts most severely with a new one",
}

SYSTEM_PROMPT = (
    "This is an exercise over a SYNTHETIC drug table: every drug, class and interaction is invented, and "
    "nothing here is clinical advice. Use the tools to look facts up; do not guess. A pair's rating is SAFE "
    "when its interaction severity is none or minor, CAUTION when moderate, and AVOID when major or "
    "contraindicated. When you are done, reply without a tool call and end with a final line "
    "'Answer: <answer>'."
)


@cache
def table() -> dict[str, Any]:
    return dict(json.loads(files("rlhub_medical_interactions").joinpath("interactions.json").read_text()))


Rules = dict[frozenset[str], dict[str, Any]]


@cache
def _index() -> tuple[dict[str, dict[str, Any]], Rules, Rules]:
    """Drugs by lower-case name, pair rules by lower-case name pair, class rules by class pair."""
    data = table()
    drugs = {d["name"].lower(): d for d in data["drugs"]}
    pairs = {frozenset(n.lower() for n in r["drugs"]): r for r in data["pair_rules"]}
    classes = {frozenset(r["classes"]): r for r in data["class_rules"]}
    return drugs, pairs, classes


def drug_names() -> list[str]:
    return [d["name"] for d in table()["drugs"]]


def interaction(drug_a: str, drug_b: str) -> dict[str, Any]:
    """The interaction of two drugs: a pair rule if one exists, else their classes' rule, else none."""
    drugs, pairs, classes = _index()
    a, b = drugs[drug_a.lower()], drugs[drug_b.lower()]
    rule = pairs.get(frozenset((a["name"].lower(), b["name"].lower())))
    source = "pair rule"
    if rule is None:
        rule = classes.get(frozenset((a["class"], b["class"])))
        source = "class rule"
    if rule is None:
        return {"drugs": [a["name"], b["name"]], "severity": "none", "mechanism": "no known interaction"}
    return {
        "drugs": [a["name"], b["name"]],
        "severity": rule["severity"],
        "mechanism": rule["mechanism"],
        "source": source,
    }


def rating(drug_a: str, drug_b: str) -> str:
    return RATING[interaction(drug_a, drug_b)["severity"]]


def final_answer(response: str) -> str | None:
    text = re.sub(r"<think>.*?(</think>|$)", "", response, flags=re.DOTALL)
    found = re.findall(r"answer\s*:\s*(.+)", text, flags=re.IGNORECASE)
    return found[-1].strip().strip("*.").strip() if found else None


def score(response: str, reference: object) -> rlhub.Score:
    """1 when the final 'Answer:' equals the reference (case-insensitive), else 0."""
    given = final_answer(response)
    if given is None:
        return rlhub.Score(value=0.0, status=rlhub.ScoreStatus.unparseable, detail="no 'Answer:' line")
    return rlhub.Score.of(given.upper() == str(reference).upper(), extracted=given[:100])


@rlhub.environment("rlhub/medical-interactions", version="0.2.0")
class MedicalInteractions(rlhub.ToolEnv):
    """Rate drug combinations from a synthetic interaction table, looked up through tools."""

    level: int = 3
    """Curriculum 1-3 (see LEVELS): tasks draw question types up to this level."""

    max_turns = 8
    system_prompt = SYSTEM_PROMPT
    response_kind = "choice"
    rubric = rlhub.Rubric(correct=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if self.level not in LEVELS:
            raise rlhub.ConfigError(f"level must be one of {sorted(LEVELS)}")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        kind = rng.choice(["pair", "regimen", "new_drug"][: self.level])
        makers: dict[str, Callable[[random.Random], tuple[str, str, list[list[str]]]]] = {
            "pair": self._pair,
            "regimen": self._regimen,
            "new_drug": self._new_drug,
        }
        question, answer, pairs = makers[kind](rng)
        return rlhub.Task(prompt=question, answer=answer, info={"kind": kind, "pairs": pairs}, tags=(f"kind:{kind}",))

    def _pair(self, rng: random.Random) -> tuple[str, str, list[list[str]]]:
        want = rng.choice(RATINGS)  # balance the labels
        names = drug_names()
        for _ in range(1000):
            a, b = rng.sample(names, 2)
            if rating(a, b) == want:
                break
        question = f"Is it safe to combine {a} and {b}? Answer SAFE, CAUTION or AVOID."
        return question, rating(a, b), [[a, b]]

    def _regimen(self, rng: random.Random) -> tuple[str, str, list[list[str]]]:
        want = rng.choice(RATINGS)
        for _ in range(1000):
            drugs = rng.sample(drug_names(), rng.randint(3, 4))
            worst = max((rating(a, b) for a, b in itertools.combinations(drugs, 2)), key=RATINGS.index)
            if worst == want:
                break
        question = (
            f"A patient takes {', '.join(drugs[:-1])} and {drugs[-1]} together. Rate the regimen by its worst "
            "pair: answer SAFE, CAUTION or AVOID."
        )
        return question, worst, [list(p) for p in itertools.combinations(drugs, 2)]

    def _new_drug(self, rng: random.Random) -> tuple[str, str, list[list[str]]]:
        while True:
            current = rng.sample(drug_names(), 4)
            new, current = current[0], current[1:]
            ranks = [SEVERITIES.index(interaction(new, d)["severity"]) for d in current]
            top = max(ranks)
            if top < 2 and rng.random() < 0.75:
                continue  # redraw most all-safe sets, so NONE stays a minority answer
            if top < 2 or ranks.count(top) == 1:
                break
        answer = "NONE" if top < 2 else current[ranks.index(top)]
        question = (
            f"A patient takes {', '.join(current[:-1])} and {current[-1]}, and {new} is to be added. Which "
            f"current drug has the most severe interaction with {new} (contraindicated > major > moderate > "
            "minor > none)? Answer with the drug's name, or NONE if no current drug has a moderate or worse "
            f"interaction with {new}."
        )
        return question, answer, [[new, d] for d in current]

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        state.info["lookups"] = 0
        known = {name.lower() for name in drug_names()}

        def check(name: str) -> None:
            if name.lower() not in known:
                raise ValueError(
                    f"unknown drug {name!r}; drugs in this table include {', '.join(drug_names()[:4])}, ..."
                )

        def lookup_interaction(drug_a: str, drug_b: str) -> dict[str, Any]:
            """The interaction between two drugs in the synthetic table: severity, mechanism and rule source.

            Args:
                drug_a: name of the first drug.
                drug_b: name of the second drug.
            """
            check(drug_a)
            check(drug_b)
            state.info["lookups"] += 1
            return interaction(drug_a, drug_b)

        def drug_info(name: str) -> dict[str, Any]:
            """Class, use and maximum daily dose of one drug in the synthetic table.

            Args:
                name: the drug's name.
            """
            check(name)
            return dict(_index()[0][name.lower()])

        return [lookup_interaction, drug_info]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Look every needed pair up in one turn (parallel calls), then answer."""
        if not any(m.role == "assistant" for m in messages):
            calls = tuple(
                rlhub.ToolCall(
                    id=f"call_{i}", name="lookup_interaction", arguments=json.dumps({"drug_a": a, "drug_b": b})
                )
                for i, (a, b) in enumerate(task.info["pairs"])
            )
            return rlhub.Message.assistant("Looking up the interactions.", tool_calls=calls)
        return rlhub.Message.assistant(f"Answer: {task.answer}")

    def choices(self, task: rlhub.Task) -> list[str]:
        if task.info["kind"] == "new_drug":
            return [current for _, current in task.info["pairs"]] + ["NONE"]
        return list(RATINGS)

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        others = [r for r in RATINGS if r != task.answer] if task.answer in RATINGS else ["NONE", "SAFE"]
        if task.answer == "NONE":
            others = [task.info["pairs"][0][1]]
        return ["", "I don't know.", *(f"Answer: {o}" for o in others)]
