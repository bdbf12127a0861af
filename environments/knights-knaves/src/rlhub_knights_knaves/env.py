"""Knights and knaves: knights always tell the truth, knaves always lie; who is which?

Each inhabitant makes one statement. Statements are small logical forms (see `KINDS`) rendered to
English; a brute-force solver over all 2^n assignments keeps only puzzles with exactly one consistent
assignment, so every task has one verifiable truth. The reward is the share of inhabitants
classified correctly.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from typing import Any

import rlhub
from rlhub import Score, ScoreStatus
from rlhub.core.exploits import Exploit

NAMES = (
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Hank",
    "Iris", "Jack", "Kate", "Liam", "Mona", "Nick", "Olga", "Paul",
)  # fmt: skip
KINDS = ("is", "and", "or", "same", "different", "implies", "count")
"""Statement forms: `X is a knight`, `X and Y are both ...`, `X or Y is a ...`, `X and Y are the same
kind`, `... different kinds`, `if X is a ... then Y is a ...`, `exactly k of the n of us are knights`."""
ASYMMETRIC = ("and", "or", "implies", "count")
_TRIES = 10_000
_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)

Statement = list[Any]
"""JSON form: [kind, *arguments]; a literal is [person, is_knight]."""


def holds(statement: Statement, knights: Sequence[bool]) -> bool:
    """Whether `statement` is true when `knights[i]` says if person i is a knight."""
    kind, *args = statement
    if kind == "is":
        return knights[args[0]] == args[1]
    if kind == "and":
        return all(knights[p] == k for p, k in args)
    if kind == "or":
        return any(knights[p] == k for p, k in args)
    if kind == "same":
        return knights[args[0]] == knights[args[1]]
    if kind == "different":
        return knights[args[0]] != knights[args[1]]
    if kind == "implies":
        (p, k), (q, m) = args
        return knights[p] != k or knights[q] == m
    if kind == "count":
        return sum(knights) == args[0]
    raise ValueError(f"unknown statement kind {kind!r}")


def solutions(statements: Sequence[Statement]) -> list[tuple[bool, ...]]:
    """Every assignment in which each speaker's statement is true exactly when the speaker is a knight."""
    n = len(statements)
    return [
        knights
        for knights in itertools.product((True, False), repeat=n)
        if all(holds(s, knights) == knights[i] for i, s in enumerate(statements))
    ]


def render(statement: Statement, speaker: int, names: Sequence[str]) -> str:
    """English for a statement made by `speaker`."""

    def who(p: int) -> str:
        return "I" if p == speaker else names[p]

    def lit(p: int, knight: bool) -> str:
        verb = "am" if p == speaker else "is"
        return f"{who(p)} {verb} a {'knight' if knight else 'knave'}"

    kind, *args = statement
    if kind == "is":
        return lit(*args)
    if kind in ("and", "or"):
        (p, k), (q, m) = args
        if kind == "and" and k == m:
            return f"{_pair(who(p), who(q))} are both {'knights' if k else 'knaves'}"
        return f"{lit(p, k)} {kind} {lit(q, m)}"
    if kind in ("same", "different"):
        pair = _pair(who(args[0]), who(args[1]))
        return f"{pair} are {'the same kind' if kind == 'same' else 'different kinds'}"
    if kind == "implies":
        return f"if {lit(*args[0])}, then {lit(*args[1])}"
    return f"exactly {args[0]} of the {len(names)} of us {'is a knight' if args[0] == 1 else 'are knights'}"


def _pair(a: str, b: str) -> str:
    return f"{b} and I" if a == "I" else f"{a} and I" if b == "I" else f"{a} and {b}"


def parse_roles(response: str, names: Sequence[str]) -> dict[str, str]:
    """The last `Name: knight|knave` (or `Name is a knight`) line for each name. Only whole lines
    count, so quoting the puzzle's statements ("Olga is a knight or ...") or hedging is no answer."""
    text = _THINK_RE.sub("", response[-10_000:])
    found = {}
    for name in names:
        pattern = rf"^[\W\d]*{name}\b\W{{0,4}}(?:is\s+)?(?:a\s+)?\**(knight|knave)s?\b\W*$"
        roles = re.findall(pattern, text, flags=re.IGNORECASE | re.MULTILINE)
        if roles:
            found[name] = roles[-1].lower()
    return found


def classified(response: str, reference: dict[str, str]) -> Score:
    """Share of inhabitants whose role the response states correctly (a missing one counts as wrong)."""
    got = parse_roles(response, list(reference))
    if not got:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no `Name: knight|knave` lines found")
    right = sum(got.get(name) == role for name, role in reference.items())
    extracted = ", ".join(f"{n}: {r}" for n, r in got.items())
    status = ScoreStatus.correct if right == len(reference) else ScoreStatus.incorrect
    return Score(value=right / len(reference), status=status, extracted=extracted)


@rlhub.environment("rlhub/knights-knaves", version="0.2.0")
class KnightsKnaves(rlhub.SingleTurnEnv):
    """On an island of knights (always truthful) and knaves (always lying), who is which?"""

    people: int = 3
    """Inhabitants per puzzle (2-6)."""
    kinds: str = ",".join(KINDS)
    """Comma-separated statement forms to draw from (see `KINDS`). `is`, `same` and `different` alone never
    give a unique solution (flipping everyone keeps them consistent), so one of `ASYMMETRIC` is required."""

    rubric = rlhub.Rubric(classified=classified)

    def __init__(self, **config: object):
        super().__init__(**config)
        self._kinds = tuple(k.strip() for k in self.kinds.split(","))
        if not 2 <= self.people <= 6:
            raise rlhub.ConfigError("people must be 2-6")
        if set(self._kinds) - set(KINDS) or not set(self._kinds) & set(ASYMMETRIC):
            raise rlhub.ConfigError(
                f"kinds must be a comma-separated subset of {', '.join(KINDS)} with one of {', '.join(ASYMMETRIC)}"
            )

    def make_task(self, rng: random.Random) -> rlhub.Task:
        names = rng.sample(NAMES, self.people)
        for _ in range(_TRIES):
            statements = [self._statement(rng, speaker) for speaker in range(self.people)]
            found = solutions(statements)
            if len(found) == 1:
                break
        else:
            raise rlhub.ConfigError(f"no puzzle with a unique solution in {_TRIES} tries; allow more statement kinds")
        lines = "\n".join(f'- {names[i]} says: "{_sentence(render(s, i, names))}"' for i, s in enumerate(statements))
        prompt = (
            "On an island, every inhabitant is either a knight, who always tells the truth, or a knave, who always "
            f"lies. You meet {self.people} inhabitants: {', '.join(names[:-1])} and {names[-1]}.\n{lines}\n"
            '("or" is inclusive.) Who is a knight and who is a knave? Finish with one line per inhabitant in the form '
            "`Name: knight` or `Name: knave`."
        )
        answer = {name: "knight" if knight else "knave" for name, knight in zip(names, found[0], strict=True)}
        tags = (f"people:{self.people}", *sorted({f"kind:{s[0]}" for s in statements}))
        return rlhub.Task(prompt=prompt, answer=answer, info={"statements": statements}, tags=tags)

    def _statement(self, rng: random.Random, speaker: int) -> Statement:
        kind = rng.choice(self._kinds)
        others = [p for p in range(self.people) if p != speaker]
        if kind == "is":
            return ["is", rng.choice(others), rng.random() < 0.5]
        if kind in ("and", "or", "implies"):
            p, q = rng.sample(range(self.people), 2)
            return [kind, [p, rng.random() < 0.5], [q, rng.random() < 0.5]]
        if kind in ("same", "different"):
            return [kind, *sorted(rng.sample(range(self.people), 2))]
        return ["count", rng.randint(1, self.people - 1)]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        return rlhub.Message.assistant("\n".join(f"{name}: {role}" for name, role in task.answer.items()))

    def exploits(self, task: rlhub.Task) -> list[Exploit]:
        """Both roles for everyone, the right one first or last: a hedge must not count."""
        flip = {"knight": "knave", "knave": "knight"}
        first = "\n".join(f"{name}: {role} or {flip[role]}" for name, role in task.answer.items())
        last = "\n".join(f"{name}: {flip[role]} or {role}" for name, role in task.answer.items())
        return [Exploit.say("both roles, right one first", first), Exploit.say("both roles, right one last", last)]

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        flip = {"knight": "knave", "knave": "knight"}
        first, *rest = task.answer.items()
        all_flipped = "\n".join(f"{name}: {flip[role]}" for name, role in task.answer.items())
        one_flipped = "\n".join([f"{first[0]}: {flip[first[1]]}", *(f"{n}: {r}" for n, r in rest)])
        one_missing = "\n".join(f"{n}: {r}" for n, r in rest)
        return ["", "I don't know.", all_flipped, one_flipped, one_missing]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."
