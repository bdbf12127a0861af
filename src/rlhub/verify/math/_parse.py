"""A small parser for math answers written in LaTeX or plain text, producing tuple trees.

Why not sympy's parsers: they are slow (milliseconds per answer), can evaluate huge numbers while
parsing, and accept far more than answers need. This parser is a single regex tokenizer plus a
recursive descent with a depth limit, so any input costs time linear in its (capped) length.

Nodes are plain tuples (cheap to build, compare and pickle to the symbolic worker):
    ("num", Fraction, places)        places: decimals written, or None for an integer/fraction literal
    ("sym", name)  ("const", "pi" | "e" | "i" | "inf")
    ("add", a, b)  ("mul", a, b)  ("div", a, b)  ("pow", a, b)  ("neg", a)
    ("fn", name, (args...))  ("fact", a)  ("pct", a)  ("pm", a, b)
    ("rel", (ops...), (parts...))    a chain like a = b = c or 1 < x <= 3
    ("list", items)  ("paren", items)  ("bracket", items)  ("set", items)
    ("interval", lo, hi, lo_closed, hi_closed)  ("union", parts)  ("matrix", rows)  ("text", str)
    ("ratio", parts)                 a:b:c
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

Node = tuple[Any, ...]

MAX_ANSWER_CHARS = 2000
MAX_DEPTH = 60


class ParseError(ValueError):
    """The answer is not math this parser understands."""


def _repeating(match: re.Match[str]) -> str:
    """0.1\\overline{6} -> (1/10 + 6/90): a repeating decimal as an exact fraction."""
    whole, fixed, period = match.group(1) or "0", match.group(2), match.group(3)
    value = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))
    return f"({value.numerator}/{value.denominator})"


_PRE: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*"), ""),
    (re.compile(r"\\(?:displaystyle|textstyle|limits|nonumber|quad|qquad)(?![a-zA-Z])"), " "),
    (re.compile(r"(?<=\d),\\!\s*(?=\d{3})"), ","),
    (re.compile(r"(?<!\\)\\[,;:! ]|~"), " "),
    (re.compile(r"(?<!\d)(\d*)\.(\d*)\\overline\{(\d{1,20})\}"), _repeating),
    (re.compile(r"(\d)\s*\{\s*,\s*\}\s*(?=\d)"), r"\1"),
    (re.compile(r"(?<!\\)\\\\(?=[a-zA-Z]{2})"), r"\\"),  # \\frac from escaped output is \frac
    (re.compile(r"\\[dtc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree(?![a-zA-Z])"), "°"),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\\$|\$"), " "),
]
_THOUSANDS_RE = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+)(?![\d]|,\d)")
_THOUSANDS_SPACE_RE = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
_DECIMAL_COMMA_RE = re.compile(r"^\s*(-?\d+),(\d+)(?=\s*(?:%|[a-zA-Z\\]|$))")
_OPEN = {"(": 1, "[": 1, ")": -1, "]": -1}


def _top_level(text: str, pattern: re.Pattern[str], repl: Any) -> str:
    """Apply `pattern` only outside brackets: `(5,100)` is a pair and `(2,12)` an interval, not numbers."""
    depth, depths = 0, []
    for i, ch in enumerate(text):
        depths.append(depth)
        if ch in _OPEN or text.startswith("\\{", i) or text.startswith("\\}", i):
            depth += _OPEN.get(ch, 1 if text.startswith("\\{", i) else -1)
    depths.append(depth)
    return pattern.sub(lambda m: repl(m) if depths[m.start()] == 0 else m.group(0), text)


_TOKEN_RE = re.compile(
    r"\s*(?:"
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3}(?![\da-zA-Z]))?)"
    r"|(?P<cmd>\\[a-zA-Z]+|\\[{}|]|\\\\)"
    r"|(?P<word>[a-zA-Z]+)"
    r"|(?P<op><=|>=|!=|==|\*\*|[-+*/^_=<>(){}\[\],;|!%&:.']|≤|≥|≠|×|÷|·|−|√|π|∞|±|∪|°|∈|≈)"
    r")"
)

_UNICODE = {"≤": "<=", "≥": ">=", "≠": "!=", "×": "*", "÷": "/", "·": "*", "−": "-", "==": "="}
_CMD_OPS = {
    "\\cdot": "*",
    "\\times": "*",
    "\\ast": "*",
    "\\div": "/",
    "\\le": "<=",
    "\\leq": "<=",
    "\\leqslant": "<=",
    "\\ge": ">=",
    "\\geq": ">=",
    "\\geqslant": ">=",
    "\\neq": "!=",
    "\\ne": "!=",
    "\\lt": "<",
    "\\gt": ">",
    "\\approx": "≈",
    "\\equiv": "=",
    "\\pm": "±",
    "\\mp": "±",
    "\\cup": "∪",
    "\\{": "\\{",
    "\\}": "\\}",
    "\\|": "|",
    "\\mid": "|",
    "\\vert": "|",
    "\\lvert": "|",
    "\\rvert": "|",
    "\\langle": "(",
    "\\rangle": ")",
    "\\lbrack": "[",
    "\\rbrack": "]",
    "\\lbrace": "\\{",
    "\\rbrace": "\\}",
    "\\infty": "∞",
    "\\infin": "∞",
    "\\pi": "π",
    "\\colon": ":",
    "\\in": "∈",
    "\\land": "and",
    "\\lor": "or",
    "\\wedge": "and",
    "\\vee": "or",
}
_FUNCS = {
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "ln",
    "log",
    "exp",
    "sqrt",
    "abs",
    "floor",
    "ceil",
    "asin",
    "acos",
    "atan",
    "lg",
}
_FUNC_ALIASES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "lg": "log10"}
_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
}
_STYLE_CMDS = {"\\mathbf", "\\mathit", "\\boxed", "\\fbox", "\\boldsymbol", "\\mathsf", "\\mathbb", "\\bm", "\\mathcal"}
_TEXT_CMDS = {
    "\\text",
    "\\textbf",
    "\\textit",
    "\\textrm",
    "\\mbox",
    "\\textnormal",
    "\\texttt",
    "\\operatorname",
    "\\mathrm",
}
_SEPARATOR_WORDS = {"and", "or"}
_HEDGE_WORDS = {"not", "maybe", "perhaps", "possibly", "probably", "either", "neither", "nor", "unless", "except"}
_NUMBER_WORDS_RE = re.compile(r"[A-Za-z][A-Za-z -]*")
_WORDS_RE = re.compile(r"[A-Za-z][A-Za-z .'-]*")
_CONST_WORDS = {"pi": "pi", "inf": "inf", "infty": "inf", "infinity": "inf", "oo": "inf"}
_MATRIX_ENVS = {"pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix", "smallmatrix", "array"}
_PRIMARY_START = {"(", "[", "\\{", "|", "π", "∞", "√", "{"}
_RELOPS = {"=", "<", ">", "<=", ">=", "!=", "≈"}


def normalise(text: str, decimal_comma: bool = False) -> str:
    """The LaTeX-insensitive surface form used both for parsing and for the exact-string fast path."""
    for pattern, repl in _PRE:
        text = pattern.sub(repl, text)
    if decimal_comma and text.count(",") == 1 and not _THOUSANDS_RE.search(text):
        text = _DECIMAL_COMMA_RE.sub(r"\1.\2", text)
    text = _top_level(text, _THOUSANDS_RE, lambda m: m.group(1).replace(",", ""))
    text = _THOUSANDS_SPACE_RE.sub("", text)
    return text.strip().rstrip(".").strip()


def _text_tokens(content: str, depth: int) -> list[tuple[str, str]]:
    """\\text{...}: a separator word, a unit / text answer, or math written inside text."""
    if not content:
        return []
    if content.lower() in _SEPARATOR_WORDS:
        return [("word", content.lower())]
    if _WORDS_RE.fullmatch(content) and len(content) > 1:
        return [("text", content)]
    if depth > 8:
        raise ParseError("\\text nested too deeply")
    return tokenize(content, depth + 1)


def tokenize(text: str, depth: int = 0) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ParseError(f"unexpected character {text[pos]!r}")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)  # type: ignore[arg-type]
        if kind == "op":
            value = _UNICODE.get(value, value)
        elif kind == "cmd":
            if value in _TEXT_CMDS:
                value, pos = _text_argument(text, pos)
                tokens.extend(_text_tokens(value.strip(), depth))
                continue
            if value in _CMD_OPS:
                mapped = _CMD_OPS[value]
                kind = "word" if mapped in ("and", "or") else "op"
                value = mapped
        tokens.append((kind, value))  # type: ignore[arg-type]
    return tokens


def _text_argument(text: str, pos: int) -> tuple[str, int]:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if pos >= len(text) or text[pos] != "{":
        return "", pos
    depth, start = 0, pos
    for i in range(pos, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    raise ParseError("unbalanced braces in \\text")


def parse(text: str, *, decimal_comma: bool = False) -> Node:
    """Parse an answer; raises ParseError when it is not math (the caller falls back to text)."""
    if len(text) > MAX_ANSWER_CHARS:
        raise ParseError("answer too long")
    text = normalise(text, decimal_comma)
    if _NUMBER_WORDS_RE.fullmatch(text):
        value = number_words(text)
        if value is not None:
            return ("num", Fraction(value), None)
    tokens = tokenize(text)
    if not tokens:
        raise ParseError("empty answer")
    hedges = {v.lower() for kind, v in tokens if kind in ("word", "text")} & _HEDGE_WORDS
    if hedges:
        raise ParseError(f"a hedge, not an answer: {sorted(hedges)[0]}")
    if all(kind == "text" or (kind == "word" and len(v) > 1) for kind, v in tokens):
        words = " ".join(v for _, v in tokens)
        value = number_words(words)
        return ("text", words) if value is None else ("num", Fraction(value), None)
    return _Parser(tokens).answer()


_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}


def number_words(text: str) -> int | None:
    """'seventeen', 'twenty-one', 'one hundred and five' as integers; None for anything else."""
    words = text.lower().replace("-", " ").split()
    if not words or len(words) > 12:
        return None
    total = current = 0
    for word in words:
        if word in _UNITS:
            current += _UNITS.index(word)
        elif word in _TENS:
            current += 10 * (_TENS.index(word) + 2)
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        elif word != "and":
            return None
    return total + current


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.has_pm = False
        self.in_abs = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def at(self, value: str) -> bool:
        kind, v = self.peek()
        return v == value and kind in ("op", "cmd", "word")

    def expect(self, value: str) -> None:
        if not self.at(value):
            raise ParseError(f"expected {value!r}, got {self.peek()[1]!r}")
        self.i += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("nested too deeply")

    # -- grammar -------------------------------------------------------------------------------
    def answer(self) -> Node:
        items = self.items()
        self.skip_units()
        if self.peek()[0] != "end":
            raise ParseError(f"unexpected {self.peek()[1]!r}")
        node = items[0] if len(items) == 1 else ("list", tuple(items))
        return _lift_pm(node) if self.has_pm else node

    def items(self) -> list[Node]:
        items = [self.union()]
        while True:
            self.skip_units()
            kind, v = self.peek()
            if (v in (",", ";") and kind == "op") or (kind == "word" and v in _SEPARATOR_WORDS):
                self.i += 1
                while self.peek()[0] == "word" and self.peek()[1] in _SEPARATOR_WORDS:
                    self.i += 1
                items.append(self.union())
            else:
                return items

    def skip_units(self) -> None:
        """Units written as text after a value ('5 cm', '12 \\text{ dollars}') do not change the value."""
        while True:
            kind, v = self.peek()
            if kind == "text" or (kind == "word" and len(v) > 1 and v not in _SEPARATOR_WORDS):
                self.i += 1
                if self.at("^"):
                    self.i += 1
                    self.take()
            else:
                return

    def union(self) -> Node:
        if self.peek()[0] == "word" and len(self.peek()[1]) == 1 and self.peek(1)[1] == "∈":
            self.i += 2  # x \in S means S
        parts = [self.relation()]
        while self.at("∪") or self.peek() == ("word", "U"):
            self.i += 1
            parts.append(self.relation())
        return parts[0] if len(parts) == 1 else ("union", tuple(parts))

    def ratio(self) -> Node:
        parts = [self.pm()]
        while self.at(":") and self.peek(1)[0] != "end":
            self.i += 1
            parts.append(self.pm())
        return parts[0] if len(parts) == 1 else ("ratio", tuple(parts))

    def relation(self) -> Node:
        parts = [self.ratio()]
        ops: list[str] = []
        while self.peek()[0] == "op" and self.peek()[1] in _RELOPS:
            ops.append(self.take()[1])
            if self.at("="):  # tolerate "=="
                self.i += 1
            parts.append(self.ratio())
        if "≈" in ops:  # x = 1/3 \approx 0.33: the approximation is a tail; x \approx 0.33 alone is the answer
            cut = ops.index("≈")
            ops, parts = (ops[:cut], parts[: cut + 1]) if cut else (["=" if op == "≈" else op for op in ops], parts)
        return parts[0] if not ops else ("rel", tuple(ops), tuple(parts))

    def pm(self) -> Node:
        if self.at("±") or "±" in (self.peek(1)[1], self.peek(2)[1]):
            self.has_pm = True
        if self.at("±"):
            self.i += 1
            return ("pm", ("num", Fraction(0), None), self.additive())
        left = self.additive()
        if self.at("±"):
            self.i += 1
            return ("pm", left, self.additive())
        return left

    def additive(self) -> Node:
        left = self.term()
        while True:
            if self.at("+"):
                self.i += 1
                left = ("add", left, self.term())
            elif self.at("-"):
                self.i += 1
                left = ("add", left, ("neg", self.term()))
            else:
                return left

    def term(self) -> Node:
        left = self.unary()
        while True:
            if self.at("*"):
                self.i += 1
                left = ("mul", left, self.unary())
            elif self.at("/"):
                self.i += 1
                left = ("div", left, self.unary())
            elif self.starts_primary():
                right = self.power()  # 2\frac{1}{3} is the mixed number 2 + 1/3
                left = ("add", left, right) if _is_mixed_number(left, right) else ("mul", left, right)
            else:
                return left

    def starts_primary(self) -> bool:
        kind, v = self.peek()
        if kind == "num":
            return True
        if kind == "word":
            return v not in _SEPARATOR_WORDS and (len(v) == 1 or v in _FUNCS or v in _CONST_WORDS or v == "sqrt")
        if kind == "cmd":
            return v not in ("\\end", "\\\\") and v not in ("\\}",)
        if kind == "op":
            return v in _PRIMARY_START and (v != "|" or not self.in_abs)
        return False

    def starts_function(self) -> bool:
        kind, v = self.peek()
        return (kind == "word" and v in _FUNCS) or (kind == "cmd" and (v[1:] in _FUNCS or v in ("\\frac", "\\sqrt")))

    def unary(self) -> Node:
        if self.at("-"):
            self.i += 1
            return ("neg", self.unary())
        if self.at("+"):
            self.i += 1
            return self.unary()
        return self.power()

    def power(self) -> Node:
        self.enter()
        base = self.postfix(self.primary())
        if self.at("^") or self.at("**"):
            self.i += 1
            base = self.postfix(("pow", base, self.unary()))
        self.depth -= 1
        return base

    def postfix(self, node: Node) -> Node:
        while True:
            if self.at("!"):
                self.i += 1
                node = ("fact", node)
            elif self.at("%"):
                self.i += 1
                node = ("pct", node)
            elif self.at("°"):
                self.i += 1
                node = ("deg", node)
            elif self.at("_") and node[0] == "sym":
                self.i += 1
                sub = self.group_text()
                node = ("sym", f"{node[1]}_{sub}")
            else:
                return node

    def group_text(self) -> str:
        """A subscript, kept as text: x_1, x_{10}, a_{n}."""
        if self.at("{"):
            self.i += 1
            parts = []
            while not self.at("}"):
                if self.peek()[0] == "end":
                    raise ParseError("unbalanced braces")
                parts.append(self.take()[1])
            self.i += 1
            return "".join(parts)
        return self.take()[1]

    def primary(self) -> Node:
        kind, v = self.take()
        if kind == "num":
            return _number(v)
        if kind == "word":
            return self.word(v)
        if kind == "cmd":
            return self.command(v)
        if kind == "text":
            raise ParseError("text inside an expression")
        if v == "(":
            return self.bracketed("(")
        if v == "[":
            return self.bracketed("[")
        if v == "{":
            inner = self.items()
            self.expect("}")
            return inner[0] if len(inner) == 1 else ("set", tuple(inner))
        if v == "\\{":
            if self.at("\\}"):
                self.i += 1
                return ("set", ())
            inner = self.items()
            self.expect("\\}")
            return ("set", tuple(inner))
        if v == "|":
            self.in_abs += 1
            inner_node = self.additive()
            self.in_abs -= 1
            self.expect("|")
            return ("fn", "abs", (inner_node,))
        if v == "π":
            return ("const", "pi")
        if v == "∞":
            return ("const", "inf")
        if v == "√":
            return ("fn", "sqrt", (self.power(),))
        raise ParseError(f"unexpected {v!r}")

    def bracketed(self, opening: str) -> Node:
        self.enter()
        items = self.items()
        closing = self.take()[1]
        self.depth -= 1
        if closing not in (")", "]"):
            raise ParseError("unbalanced brackets")
        if len(items) == 1 and items[0][0] == "matrix" and opening + closing in ("()", "[]"):
            return items[0]  # \\left[\\begin{array}...\\end{array}\\right] is the matrix
        if opening == "(" and closing == ")":
            return items[0] if len(items) == 1 else ("paren", tuple(items))
        if opening == "[" and closing == "]":
            return ("bracket", tuple(items))
        if len(items) != 2:
            raise ParseError("a half-open interval needs two endpoints")
        return ("interval", items[0], items[1], opening == "[", closing == "]")

    def word(self, v: str) -> Node:
        if v in _CONST_WORDS:
            return ("const", _CONST_WORDS[v])
        if v in _FUNCS:
            return self.function(_FUNC_ALIASES.get(v, v))
        if len(v) == 1:
            return _letter(v)
        # a run of letters such as "xy" is a product of variables
        node = _letter(v[0])
        for ch in v[1:]:
            node = ("mul", node, _letter(ch))
        return node

    def function(self, name: str) -> Node:
        power: Node | None = None
        base: Node | None = None
        if name == "log" and self.at("_"):
            self.i += 1
            base = self.primary()
        if self.at("^"):
            self.i += 1
            power = self.primary()
        if self.at("("):
            self.i += 1
            args = self.items()
            self.expect(")")
        elif self.at("{"):  # \log{(x)}^2 is (log x)^2: the braces delimit the argument
            args = [self.braced()]
        else:  # \sin 2x is sin(2x): an implicit product is the argument, up to the next function
            arg = self.power()
            while self.starts_primary() and not self.starts_function():
                arg = ("mul", arg, self.power())
            args = [arg]
        node: Node = ("fn", name, tuple(args))
        if base is not None:
            node = ("div", ("fn", "ln", tuple(args)), ("fn", "ln", (base,)))
        if power is not None:
            if power == ("neg", ("num", Fraction(1), None)):
                return ("fn", "arc" + name, tuple(args))
            node = ("pow", node, power)
        return node

    def braced(self) -> Node:
        """A LaTeX argument: {group} or a single token (as in \\frac12)."""
        if self.at("{"):
            self.i += 1
            self.enter()
            inner = self.items()
            self.expect("}")
            self.depth -= 1
            return inner[0] if len(inner) == 1 else ("paren", tuple(inner))
        kind, v = self.peek()
        if kind == "num" and v.isdigit():
            self.i += 1
            if len(v) > 1:  # \frac12: only the first digit is the argument
                self.tokens.insert(self.i, ("num", v[1:]))
            return _number(v[0])
        return self.primary()

    def command(self, v: str) -> Node:
        name = v[1:]
        if v == "\\frac":
            num = self.braced()
            return ("div", num, self.braced())
        if v == "\\sqrt":
            if self.at("["):
                self.i += 1
                index = self.additive()
                self.expect("]")
                return ("pow", self.braced(), ("div", ("num", Fraction(1), None), index))
            return ("fn", "sqrt", (self.braced(),))
        if v == "\\binom" or v == "\\dbinom" or v == "\\tbinom":
            n = self.braced()
            return ("fn", "binom", (n, self.braced()))
        if v in _STYLE_CMDS:
            return self.braced()
        if v == "\\begin":
            return self.matrix()
        if name in _FUNCS:
            return self.function(_FUNC_ALIASES.get(name, name))
        if name in _GREEK:
            return ("sym", name)
        if name in ("emptyset", "varnothing"):
            return ("set", ())
        raise ParseError(f"unsupported command {v}")

    def matrix(self) -> Node:
        env = self.group_text()
        if env not in _MATRIX_ENVS:
            raise ParseError(f"unsupported environment {env}")
        if env == "array" and self.at("{"):
            self.group_text()
        rows: list[tuple[Node, ...]] = []
        row: list[Node] = []
        while True:
            if self.at("\\end"):
                self.i += 1
                self.group_text()
                break
            row.append(self.relation())
            if self.at("&"):
                self.i += 1
            elif self.at("\\\\") or self.peek() == ("op", "\\"):
                self.i += 1
                rows.append(tuple(row))
                row = []
            elif not self.at("\\end"):
                raise ParseError("bad matrix")
        if row:
            rows.append(tuple(row))
        if not rows or len({len(r) for r in rows}) != 1:
            raise ParseError("ragged matrix")
        return ("matrix", tuple(rows))


def _split_pm(node: Node) -> tuple[Node, Node] | None:
    """a ± b anywhere inside a scalar, as the pair (with +, with -)."""
    kind = node[0]
    if kind == "pm":
        return ("add", node[1], node[2]), ("add", node[1], ("neg", node[2]))
    if kind in ("add", "mul", "div", "pow", "neg", "fact", "pct", "deg"):
        for index in range(1, len(node)):
            split = _split_pm(node[index])
            if split is not None:
                plus, minus = split
                return (*node[:index], plus, *node[index + 1 :]), (*node[:index], minus, *node[index + 1 :])
    return None


def _lift_pm(node: Node) -> Node:
    """Expressions with ± become the set of both values, inside lists and equations too."""
    kind = node[0]
    if kind == "list":  # 0, \pm 3 and x = 0, x = \pm 3 list three values
        items: list[Node] = []
        for item in node[1]:
            lifted = _lift_pm(item)
            if lifted[0] == "set" and lifted is not item:
                items.extend(lifted[1])
            elif lifted[0] == "rel" and lifted[1] == ("=",) and lifted[2][1][0] == "set" and lifted is not item:
                items.extend(("rel", ("=",), (lifted[2][0], value)) for value in lifted[2][1][1])
            else:
                items.append(lifted)
        return ("list", tuple(items))
    if kind in ("paren", "bracket", "set"):
        return (kind, tuple(_lift_pm(x) for x in node[1]))
    if kind == "rel":
        return (kind, node[1], tuple(_lift_pm(x) for x in node[2]))
    split = _split_pm(node)
    return node if split is None else ("set", split)


def _is_integer_literal(node: Node) -> bool:
    return node[0] == "num" and node[2] is None and node[1].denominator == 1


def _is_mixed_number(left: Node, right: Node) -> bool:
    return (
        _is_integer_literal(left)
        and right[0] == "div"
        and _is_integer_literal(right[1])
        and _is_integer_literal(right[2])
        and 0 < right[1][1] < right[2][1]
    )


def _letter(ch: str) -> Node:
    if ch == "e":
        return ("const", "e")
    if ch == "i":
        return ("const", "i")
    return ("sym", ch)


def _number(text: str) -> Node:
    try:
        value = Fraction(text)
    except ValueError as exc:
        raise ParseError(f"bad number {text!r}") from exc
    if "e" in text or "E" in text:
        return ("num", value, None)
    places = len(text.split(".", 1)[1]) if "." in text else None
    return ("num", value, places)


__all__ = ["MAX_ANSWER_CHARS", "Node", "ParseError", "normalise", "parse", "tokenize"]
