"""Finding the answer a response commits to.

Order of trust: the last `\\boxed{}` (or `\\fbox{}`), then the last "the answer is ..." / "answer:",
then the final line, then the last math segment, then the last number. `<think>` blocks are dropped
first and markdown emphasis is ignored. Every step is a linear scan, so a 100 kB response costs
microseconds per kilobyte.
"""

from __future__ import annotations

import re

MAX_CANDIDATE_CHARS = 2000
_TAIL = 4000

_MARKERS = ("final answer is", "final answer:", "the answer is", "answer is", "answer:")
_MATH_SEGMENT_RE = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.DOTALL
)
_BOXED_RE = re.compile(r"\\(?:boxed|fbox)")
_STYLE_RE = re.compile(r"\\[a-zA-Z]+\{")
_NUMBER_RE = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*/\s*\d+)?%?")
_MARKDOWN_RE = re.compile(r"\*\*|__|^#+\s*|^\s*[-*]\s+|`")
_LEAD_RE = re.compile(
    r"^(?:so|thus|therefore|hence|finally|answer|final answer|the answer)\b[,:]?\s*(?:is\b)?\s*", re.IGNORECASE
)
_CHOICE_RE = re.compile(
    r"\(([A-J])\)|\b([A-J])\)|\*\*([A-J])\*\*|\\text\{\s*\(?([A-J])\)?\s*\}|^\s*([A-J])\s*[.:]?\s*$", re.MULTILINE
)
_CHOICE_HEAD_RE = re.compile(r"^\s*\(?\s*([A-J])\s*(?:\)|\.|:|$)")


def strip_think(text: str) -> str:
    end = text.rfind("</think>")
    if end >= 0:
        return text[end + len("</think>") :]
    start = text.find("<think>")
    return text[:start] if start >= 0 else text


def all_boxed(text: str) -> list[str]:
    """Contents of the top-level \\boxed{...} / \\fbox{...} in order (one linear scan, braces matched)."""
    found: list[str] = []
    pos = 0
    while (match := _BOXED_RE.search(text, pos)) is not None:
        start = match.end()
        while start < len(text) and text[start] == " ":
            start += 1
        if start >= len(text) or text[start] != "{":  # \boxed 5
            rest = text[start:].split(None, 1)
            if rest:
                found.append(rest[0].rstrip("$."))
            pos = start + 1
            continue
        depth = 0
        for i in range(start, len(text)):
            ch = text[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    found.append(text[start + 1 : i])
                    pos = i + 1
                    break
        else:
            return found
    return found


def boxed_answer(text: str) -> str | None:
    """The boxed answer; several different boxed answers count as one list, so hedging cannot win."""
    distinct = list(dict.fromkeys(b.strip() for b in all_boxed(text)))
    if not distinct:
        return None
    return distinct[0] if len(distinct) == 1 else ", ".join(distinct)


def _clean(candidate: str) -> str:
    candidate = _MARKDOWN_RE.sub("", candidate.strip()).strip()
    math = _MATH_SEGMENT_RE.findall(candidate)
    if math:
        candidate = next(part for part in math[-1] if part)
    return candidate.strip().rstrip(".").strip()


def candidates(response: str) -> list[str]:
    """Possible answers, most trusted first; empty when the response commits to nothing."""
    text = strip_think(response)
    boxed = boxed_answer(text)
    if boxed is not None:
        return [boxed] if len(boxed) <= MAX_CANDIDATE_CHARS else []
    if _BOXED_RE.search(text):  # a box opened and never closed: truncated, no committed answer
        return []
    found: list[str] = []
    lower = text.lower()
    marker_at, marker = max(((lower.rfind(m), m) for m in _MARKERS), key=lambda x: x[0])
    if marker_at >= 0:
        line = text[marker_at + len(marker) :].lstrip(" :*").split("\n", 1)[0]
        found.append(_clean(line))
    tail = text[-_TAIL:]
    lines = [line for line in tail.splitlines() if line.strip()]
    if lines:
        last = _clean(lines[-1])
        found.append(_LEAD_RE.sub("", last))
        if "=" in last:
            found.append(last.rsplit("=", 1)[1].strip())
    math = _MATH_SEGMENT_RE.findall(tail)
    if math:
        found.append(next(part for part in math[-1] if part).strip())
    numbers = _NUMBER_RE.findall(tail)
    if numbers:
        found.append(numbers[-1])
    return [c for c in dict.fromkeys(found) if c and len(c) <= MAX_CANDIDATE_CHARS]


def choice_letter(text: str) -> str | None:
    """A multiple-choice reference ('B', '(B)', '\\text{B}') as its letter, else None."""
    stripped = text.strip().strip("$").strip()
    match = re.fullmatch(r"\\text\{\s*\(?([A-J])\)?\s*\}|\(?([A-J])\)?", stripped)
    return next(g for g in match.groups() if g) if match else None


def extract_choice(response: str) -> str | None:
    """The option letter a response picks: boxed, 'answer is (X)', then the last '(X)' / 'X)' / '**X**'."""
    text = strip_think(response).replace("$", "")
    boxed = boxed_answer(text)
    if boxed is not None:
        match = _CHOICE_HEAD_RE.match(_STYLE_RE.sub("", boxed).replace("}", ""))
        return match.group(1) if match else None
    lower = text.lower()
    marker_at, marker = max(((lower.rfind(m), m) for m in _MARKERS), key=lambda x: x[0])
    if marker_at >= 0:
        after = _MARKDOWN_RE.sub("", text[marker_at + len(marker) :].lstrip(" :*")).lstrip()
        match = _CHOICE_HEAD_RE.match(_STYLE_RE.sub("", after).replace("}", ""))
        if match:
            return match.group(1)
    tail = text[-_TAIL:]
    letters = [next(g for g in m.groups() if g) for m in _CHOICE_RE.finditer(tail)]
    return letters[-1] if letters else None


__all__ = ["all_boxed", "boxed_answer", "candidates", "choice_letter", "extract_choice", "strip_think"]
