"""Finding the answer a response commits to.

A response commits to one segment: its `\\boxed{}` (or `\\fbox{}`; several different boxes are one
list), else what follows the last "the answer is ..." / "answer:", else the last line with something
mathematical on it. The answer is read from that segment only (its leading math, the part after "is",
or its one number among words); when none of that parses the answer is unparseable, never a number
taken from elsewhere. `<think>` blocks are dropped first, markdown emphasis is ignored, and output
whose backslashes were all doubled by JSON escaping is read unescaped. Every step is a linear scan.
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
_STANDALONE_NUMBER_RE = re.compile(r"\$?-?\d+(?:,\d{3})*(?:\.\d+)?%?")
_SENTENCE_END_RE = re.compile(
    r"(?<!\\)[.!?](?=\s+[A-Z(])|;\s|,\s+(?:since|because|as|which|where|when|given)\b|\s+(?:since|because)\s"
)
_JOINER_RE = re.compile(r"\s*(?:,|;|,?\s*and|,?\s*or)?\s*")
_CONSEQUENCE_RE = re.compile(r",\s*(?:so|thus|hence|therefore)\b\s*", re.IGNORECASE)
_COPULA_RE = re.compile(
    r"\b(?:is|are|was|were|equals|be|becomes|gives|get|obtain|has|have|had)\s+(?:equal to\s+|exactly\s+)?"
)
_HEDGE_RE = re.compile(r"\b(?:or|not|maybe|perhaps|possibly|probably|either|unless|except)\b", re.IGNORECASE)
_DISPLAY_RE = re.compile(r"\$\$[^$]{0,1000}\$\$|\\\[[^\[]{0,1000}?\\\]")
_FULL_STOP_RE = re.compile(r"(?<!\\)[.!?](?=\s+\S)")
_MATHY_RE = re.compile(r"[\d$\\=]")
_DOUBLED_CMD_RE = re.compile(r"\\\\[a-zA-Z]")
_SINGLE_CMD_RE = re.compile(r"(?<!\\)\\[a-zA-Z]")
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


def unescape(text: str) -> str:
    """JSON-escaped output (`\\\\frac{1}{2}`): halve the backslashes when every command is doubled."""
    if _DOUBLED_CMD_RE.search(text) and not _SINGLE_CMD_RE.search(text):
        return text.replace("\\\\", "\\")
    return text


def _math_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), next(g for g in m.groups() if g is not None)) for m in _MATH_SEGMENT_RE.finditer(text)]


def _outside_math(text: str, spans: list[tuple[int, int, str]], pos: int) -> bool:
    return not any(a <= pos < b for a, b, _ in spans)


def _first_sentence(segment: str) -> str:
    """Up to the first sentence end outside math: the answer, not the explanation after it."""
    spans = _math_spans(segment)
    for match in _SENTENCE_END_RE.finditer(segment):
        if _outside_math(segment, spans, match.start()):
            return segment[: match.start()]
    return segment


def _sentences(line: str) -> list[str]:
    spans = _math_spans(line)
    cuts = [m.end() for m in _FULL_STOP_RE.finditer(line) if _outside_math(line, spans, m.start())]
    return [line[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True)]


def _leading_math(segment: str) -> str | None:
    """Math segments at the start, joined while only separators stand between them ("$3$ and $4$")."""
    spans = _math_spans(segment)
    if not spans or spans[0][0] != 0:
        return None
    parts, end = [spans[0][2]], spans[0][1]
    for a, b, inner in spans[1:]:
        if not _JOINER_RE.fullmatch(segment[end:a]):
            break
        parts.append(inner)
        end = b
    return ", ".join(parts)


def _readings(segment: str, copula: bool = True) -> list[str]:
    """The ways a committed segment can be read as an answer, most literal first; all of one segment."""
    segment = _first_sentence(_MARKDOWN_RE.sub("", segment).strip().lstrip(":").strip())
    segment = segment.strip().rstrip(".").strip()
    if not segment:
        return []
    spans = _math_spans(segment)
    clauses = [m.end() for m in _CONSEQUENCE_RE.finditer(segment) if _outside_math(segment, spans, m.start())]
    segment = segment[clauses[-1] :] if clauses else segment  # "..., so $x = 4$": the conclusion
    lead = _LEAD_RE.sub("", segment).strip()
    for text in dict.fromkeys((segment, lead)):
        math = _leading_math(text)
        if math is not None:
            return [math.strip()]
    spans = _math_spans(lead)
    if copula:
        tails = [m for m in _COPULA_RE.finditer(lead) if _outside_math(lead, spans, m.start())]
        if tails:
            return _readings(lead[tails[-1].end() :], copula=False)
    found = [_MATH_SEGMENT_RE.sub(lambda m: next(g for g in m.groups() if g is not None), lead).strip()]
    if spans:
        found.append(spans[-1][2].strip())
    else:
        numbers = [t.rstrip(".,;:!)") for t in lead.split() if _STANDALONE_NUMBER_RE.fullmatch(t.rstrip(".,;:!)"))]
        if len(numbers) == 1 and not _HEDGE_RE.search(lead):
            found.append(numbers[0].lstrip("$"))
    return found


def candidates(response: str) -> list[str]:
    """Readings of the one segment a response commits to, most literal first; empty when it commits to
    nothing. The segment: the boxed answer, else what follows the last "answer is" / "answer:", else the
    last line with something mathematical on it (a question is not an answer)."""
    text = unescape(strip_think(response))
    boxed = boxed_answer(text)
    if boxed is not None:
        return [boxed] if len(boxed) <= MAX_CANDIDATE_CHARS else []
    if _BOXED_RE.search(text):  # a box opened and never closed: truncated, no committed answer
        return []
    text = _DISPLAY_RE.sub(lambda m: m.group(0).replace("\n", " "), text[-_TAIL:])  # display math is one line
    lower = text.lower()
    marker_at, marker = max(((lower.rfind(m), m) for m in _MARKERS), key=lambda x: x[0])
    if marker_at >= 0:
        found = _readings(text[marker_at + len(marker) :].lstrip(" :*").split("\n", 1)[0])
    else:
        sentences = [s for line in text.splitlines() for s in _sentences(line) if _MATHY_RE.search(s)]
        found = [] if not sentences or sentences[-1].rstrip("*$ ").endswith("?") else _readings(sentences[-1])
    return [c for c in dict.fromkeys(found) if c and len(c) <= MAX_CANDIDATE_CHARS]


def choice_letter(text: str) -> str | None:
    """A multiple-choice reference ('B', '(B)', '\\text{B}') as its letter, else None."""
    stripped = text.strip().strip("$").strip()
    match = re.fullmatch(r"\\text\{\s*\(?([A-J])\)?\s*\}|\(?([A-J])\)?", stripped)
    return next(g for g in match.groups() if g) if match else None


def extract_choice(response: str) -> str | None:
    """The option letter a response picks: boxed, 'answer is (X)', then the last '(X)' / 'X)' / '**X**'."""
    text = unescape(strip_think(response)).replace("$", "")
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
            named = {next(g for g in m.groups() if g) for m in _CHOICE_RE.finditer(after.split("\n", 1)[0])}
            return match.group(1) if named <= {match.group(1)} else None  # "(A), (B) or (C)" is a hedge
    tail = text[-_TAIL:]
    letters = [next(g for g in m.groups() if g) for m in _CHOICE_RE.finditer(tail)]
    return letters[-1] if letters else None


__all__ = ["all_boxed", "boxed_answer", "candidates", "choice_letter", "extract_choice", "strip_think", "unescape"]
