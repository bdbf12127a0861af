"""Text matchers: exact, normalised, regex, multiple choice and token F1.

All take `(response, reference)` and return a `Score`, so each is a Rubric reward function as is.
`reference` may be a string or a list of acceptable strings (the best match counts). `<think>` blocks
are removed from the response first: reasoning is never the answer.

    rubric = Rubric(answer=text.normalized, overlap=(text.token_f1, 0.2))
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable

from rlhub.core.types import Score, ScoreStatus
from rlhub.verify.math import choice_letter, extract_choice, strip_think

MAX_RESPONSE_CHARS = 100_000
_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _references(reference: object) -> list[str]:
    if isinstance(reference, (list, tuple)):
        return [str(r) for r in reference]
    return [str(reference)]


def _answer(response: str) -> str:
    return strip_think(response[-MAX_RESPONSE_CHARS:]).strip()


def final_answer(response: str) -> str:
    """The text after the last 'Answer:', or the whole reply when there is none; reasoning in
    `<think>`, closed or cut off, is never the answer (the convention of the multi-turn environments,
    whose replies end with an `Answer:` line after tool use)."""
    reply = re.sub(r"<think>.*?(?:</think>|$)", "", response, flags=re.DOTALL)
    found = re.findall(r"answer\s*:\s*(.+)", reply, flags=re.IGNORECASE)
    return found[-1].strip() if found else reply


def normalize(text: str) -> str:
    """SQuAD-style: lower case, no punctuation, no articles, single spaces."""
    text = _ARTICLES_RE.sub(" ", text.lower().translate(_PUNCTUATION))
    return " ".join(text.split())


def _best(response: str, reference: object, match: Callable[[str, str], bool]) -> Score:
    answer = _answer(response)
    return Score.of(any(match(answer, ref) for ref in _references(reference)), extracted=answer[:200])


def exact(response: str, reference: object) -> Score:
    """The response (stripped) equals the reference exactly."""
    return _best(response, reference, lambda a, r: a == r.strip())


def normalized(response: str, reference: object) -> Score:
    """Equal after normalisation: case, punctuation, articles and spacing do not matter."""
    return _best(response, reference, lambda a, r: normalize(a) == normalize(r))


def regex(response: str, reference: object) -> Score:
    """The reference is a regular expression searched for in the response.

    The pattern comes from the environment author; a pathological pattern can still backtrack for a
    long time on adversarial text, so keep patterns simple (the response is capped at 100 kB).
    """
    return _best(response, reference, lambda a, r: re.search(r, a) is not None)


def choice(response: str, reference: object) -> Score:
    """Multiple choice: the option letter (A-J) the response picks equals the reference letter."""
    picked = extract_choice(_answer(response))
    if picked is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no option letter found")
    letters = {choice_letter(ref) or ref.strip().strip("()").strip().upper() for ref in _references(reference)}
    return Score.of(picked in letters, extracted=picked)


def f1(prediction: str, reference: str) -> float:
    """Token-level F1 between two strings after normalisation (the SQuAD metric)."""
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(response: str, reference: object) -> Score:
    """Partial credit: the best token F1 against any reference; `correct` only at 1.0."""
    answer = _answer(response)
    value = max(f1(answer, ref) for ref in _references(reference))
    status = ScoreStatus.correct if value == 1.0 else ScoreStatus.incorrect
    return Score(value=value, status=status, extracted=answer[:200])


__all__ = ["choice", "exact", "f1", "final_answer", "normalize", "normalized", "regex", "token_f1"]
