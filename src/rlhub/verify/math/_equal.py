"""Equivalence of parsed answers without sympy: exact rationals first, then numeric identity testing.

Numbers stay `Fraction`s while every operation is rational and small (exponent and factorial caps keep
them small); anything irrational becomes a complex float. Expressions with variables are compared at
a fixed set of points (the same on every machine), which decides polynomial and most elementary
identities in microseconds. What this cannot decide (overflow, no valid point) returns None and goes to
the symbolic worker.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from rlhub.verify.math._options import DEFAULT_OPTIONS, MathOptions
from rlhub.verify.math._parse import Node

Value = Fraction | complex
Symbolic = Callable[[Node, Node, str], bool | None]

MAX_BITS = 60_000
MAX_FACTORIAL = 3000
MAX_ITEMS = 64
_REL_TOL = 1e-9
# rational sample points: polynomial and rational identities are then checked exactly, with no tolerance
_POINTS = tuple(
    Fraction(n, 10_000) for n in (5377, 18339, -22588, 8622, 3188, -13077, -4336, 3426, 35784, 27694, -13499, 30349)
)
_ABS_TOL = 1e-6
_TRIALS = 4
HUGE_LOG = 2e5  # numbers past e^200000 (~87,000 digits) never reach sympy, which would compute them in full


@dataclass(frozen=True)
class Context:
    """What a comparison needs besides the two answers: the symbolic fallback and the conventions."""

    symbolic: Symbolic | None = None
    options: MathOptions = DEFAULT_OPTIONS


class Undecided(Exception):
    """Numeric evaluation cannot settle it (overflow, unsupported construct)."""


class Undefined(Exception):
    """Not defined at this point (division by zero, log of zero)."""


# -- evaluation ----------------------------------------------------------------------------------


def evaluate(node: Node, env: dict[str, Value]) -> Value:
    """The value of a scalar node; raises Undecided or Undefined, never an arithmetic error."""
    try:
        return _eval(node, env)
    except OverflowError as exc:  # e.g. a 10^400 rational meeting a float
        raise Undecided("overflow") from exc
    except (ZeroDivisionError, ValueError) as exc:
        raise Undefined(str(exc)) from exc


def _eval(node: Node, env: dict[str, Value]) -> Value:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "add":
        return _add(_eval(node[1], env), _eval(node[2], env))
    if kind == "mul":
        return _check(_eval(node[1], env) * _eval(node[2], env))
    if kind == "neg":
        return -_eval(node[1], env)
    if kind == "div":
        denominator = _eval(node[2], env)
        if denominator == 0:
            raise Undefined("division by zero")
        return _check(_eval(node[1], env) / denominator)
    if kind == "pow":
        return _power(_eval(node[1], env), _eval(node[2], env))
    if kind == "sym":
        if node[1] not in env:
            raise Undecided(f"free symbol {node[1]}")
        return env[node[1]]
    if kind == "const":
        name = node[1]
        if name == "inf":
            raise Undecided("infinity")
        return 1j if name == "i" else complex(math.pi if name == "pi" else math.e)
    if kind == "fn":
        return _function(node[1], [_eval(arg, env) for arg in node[2]])
    if kind == "fact":
        return _factorial(_eval(node[1], env))
    if kind == "pct":
        return _eval(node[1], env) / 100
    if kind == "deg":
        return _check(_complex(_eval(node[1], env)) * (math.pi / 180))
    raise Undecided(f"{kind} is not a number")


def _add(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a + b
    small, big = sorted((abs(_complex(a)), abs(_complex(b))))
    if 0 < small < 1e-10 * big:  # a float sum would swallow the smaller term: 1 + e^{64.5}
        raise Undecided("precision")
    return _check(a + b)


def _check(value: Value) -> Value:
    if isinstance(value, complex) and not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise Undecided("overflow")
    return value


def _bits(q: Fraction) -> int:
    return max(q.numerator.bit_length(), q.denominator.bit_length())


def _power(base: Value, exponent: Value) -> Value:
    if isinstance(base, Fraction) and isinstance(exponent, Fraction):
        if exponent.denominator == 1:
            e = exponent.numerator
            if base == 0 and e < 0:
                raise Undefined("zero to a negative power")
            if base in (0, 1) or _bits(base) * abs(e) <= MAX_BITS:
                return base**e
            if base == -1:
                return Fraction(-1 if e % 2 else 1)
        else:
            exact = _rational_root(base, exponent)
            if exact is not None:
                return exact
    try:
        return _check(_complex(base) ** _complex(exponent))
    except OverflowError as exc:
        raise Undecided("overflow") from exc
    except ZeroDivisionError as exc:
        raise Undefined("zero to a negative power") from exc


def _rational_root(base: Fraction, exponent: Fraction) -> Value | None:
    """Exact b^(p/q) when b is a perfect q-th power; the real root for negative b and odd q."""
    q, p = exponent.denominator, exponent.numerator
    if q > 64 or _bits(base) > 4000 or abs(p) * _bits(base) // q > MAX_BITS:
        return None
    negative = base < 0
    if negative:
        if q % 2 == 0:
            return None
        base = -base
    if base == 0 and p < 0:
        raise Undefined("zero to a negative power")
    sign = -1 if negative and p % 2 else 1
    num, den = _int_root(base.numerator, q), _int_root(base.denominator, q)
    if num is not None and den is not None:
        return sign * Fraction(num, den) ** p
    if negative:
        return sign * _complex(base) ** (p / q)
    return None


def _int_root(n: int, q: int) -> int | None:
    if n < 2:
        return n
    guess = round(math.exp(math.log(n) / q))
    for r in (guess - 1, guess, guess + 1):
        if r >= 0 and r**q == n:
            return r
    return None


def _complex(value: Value) -> complex:
    """As a complex with no negative zeros (-(x+0j) must not jump across a branch cut)."""
    try:
        z = complex(value)
    except OverflowError as exc:
        raise Undecided("overflow") from exc
    return complex(z.real + 0.0, z.imag + 0.0)


_CMATH: dict[str, Callable[[complex], complex]] = {
    "sin": cmath.sin, "cos": cmath.cos, "tan": cmath.tan, "arcsin": cmath.asin, "arccos": cmath.acos,
    "arctan": cmath.atan, "sinh": cmath.sinh, "cosh": cmath.cosh, "tanh": cmath.tanh, "exp": cmath.exp,
    "sec": lambda z: 1 / cmath.cos(z), "csc": lambda z: 1 / cmath.sin(z), "cot": lambda z: 1 / cmath.tan(z),
    "ln": cmath.log, "log": cmath.log, "log10": cmath.log10,
}  # fmt: skip


def _function(name: str, args: list[Value]) -> Value:
    if name == "binom":
        if len(args) != 2:
            raise Undecided("binom takes two arguments")
        n, k = args
        if isinstance(k, Fraction) and k.denominator == 1 and 0 <= k <= 1000:
            if isinstance(n, Fraction) and int(k) * _bits(n) > MAX_BITS:
                raise Undecided("binom too large")
            result: Value = Fraction(1)
            for j in range(int(k)):  # falling factorial: works for any n, integer or not
                result = result * (n - j)
            return _check(result / math.factorial(int(k)))
        raise Undecided("binom with a non-integer k")
    if len(args) != 1:
        raise Undecided(f"{name} takes one argument")
    (x,) = args
    if name == "sqrt":
        if isinstance(x, Fraction) and x >= 0:
            exact = _rational_root(x, Fraction(1, 2))
            if exact is not None:
                return exact
        return _check(cmath.sqrt(_complex(x)))
    if name == "abs":
        return abs(x) if isinstance(x, Fraction) else complex(abs(x))
    if name in ("floor", "ceil"):
        real = x if isinstance(x, Fraction) else _real(x)
        return Fraction(math.floor(real) if name == "floor" else math.ceil(real))
    if x == 0 and name in ("ln", "log", "log10"):
        raise Undefined("log of zero")
    if isinstance(x, Fraction) and x == 0 and name in ("sin", "tan", "arcsin", "arctan", "sinh", "tanh"):
        return Fraction(0)
    try:
        return _check(_CMATH[name](_complex(x)))
    except (ValueError, ZeroDivisionError) as exc:
        raise Undefined(f"{name} undefined here") from exc
    except OverflowError as exc:
        raise Undecided("overflow") from exc


def _real(x: complex) -> float:
    if abs(x.imag) > 1e-12 * max(1.0, abs(x.real)):
        raise Undefined("not real")
    return x.real


def _factorial(x: Value) -> Value:
    if isinstance(x, Fraction) and x.denominator == 1 and x >= 0:
        if x > MAX_FACTORIAL:
            raise Undecided("factorial too large")
        return Fraction(math.factorial(int(x)))
    raise Undecided("factorial of a non-integer")


# -- scalar equality -----------------------------------------------------------------------------


def symbols(node: Node) -> set[str]:
    found: set[str] = set()
    stack: list[tuple[object, ...]] = [node]
    while stack:
        item = stack.pop()
        if not item:
            continue
        if isinstance(item[0], str):
            if item[0] == "sym":
                found.add(item[1])  # type: ignore[arg-type]
            else:
                stack.extend(x for x in item[1:] if isinstance(x, tuple))
        else:
            stack.extend(x for x in item if isinstance(x, tuple))
    return found


def close(a: Value, b: Value) -> bool | None:
    """Exact for rationals; for floats, relative 1e-9, but None when that hides an absolute gap over 1e-6.

    1 + e^{64.5} and e^{64.5} agree to 28 digits as floats: such a case goes to sympy, not to `True`.
    """
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    x, y = _complex(a), _complex(b)
    gap = abs(x - y)
    if gap > _REL_TOL * max(abs(x), abs(y)) + 1e-12:
        return False
    return True if gap <= _ABS_TOL else None


def _points(names: list[str]) -> list[dict[str, Value]]:
    return [
        {name: _POINTS[(7 * trial + 5 * k) % len(_POINTS)] for k, name in enumerate(names)} for trial in range(_TRIALS)
    ]


def scalar_equal(a: Node, b: Node) -> bool | None:
    """True/False when numeric evaluation decides, None when it cannot."""
    names = sorted(symbols(a) | symbols(b))
    if not names:
        try:
            return close(evaluate(a, {}), evaluate(b, {}))
        except Undefined:
            return None
        except Undecided:
            for rule in (_cancel, _different_magnitude, _same_tower):
                verdict = rule(a, b)
                if verdict is not None:
                    return verdict
            return None
    valid = 0
    real = ("const", "i") not in _subnodes(a) and ("const", "i") not in _subnodes(b)
    for env in _points(names):
        try:
            x, y = evaluate(a, env), evaluate(b, env)
            if real and (_imaginary(x) or _imaginary(y)):
                continue  # outside the real domain: sqrt(1/n) and 1/sqrt(n) agree wherever they are real
            verdict = close(x, y)
            if verdict is not True:
                return verdict
            valid += 1
        except Undefined:
            continue
        except Undecided:
            return None
    return True if valid >= 2 else None


def _imaginary(value: Value) -> bool:
    return isinstance(value, complex) and abs(value.imag) > 1e-12 * max(1.0, abs(value.real))


def log_magnitude(node: Node) -> float:
    """log|value| for numbers too big for a float (10000!, power towers); inf when beyond even that."""
    kind = node[0]
    if kind == "num":
        q = abs(node[1])
        return math.log(q.numerator) - math.log(q.denominator) if q else -math.inf
    if kind in ("const", "fn", "sym"):
        value = _complex(evaluate(node, {}))
        return math.log(abs(value)) if value != 0 else -math.inf
    if kind in ("neg", "deg"):
        return log_magnitude(node[1])
    if kind == "mul":
        return log_magnitude(node[1]) + log_magnitude(node[2])
    if kind == "div":
        return log_magnitude(node[1]) - log_magnitude(node[2])
    if kind == "pct":
        return log_magnitude(node[1]) - math.log(100)
    if kind == "fact":
        n = evaluate(node[1], {})
        if isinstance(n, Fraction) and n.denominator == 1 and n >= 0:
            return math.lgamma(float(n) + 1)
    if kind == "add":
        left, right = log_magnitude(node[1]), log_magnitude(node[2])
        if abs(left - right) > 60 or math.isinf(max(left, right)):
            return max(left, right)  # the smaller term cannot change the magnitude
    if kind == "pow":
        log_base = log_magnitude(node[1])
        try:
            exponent = _complex(evaluate(node[2], {}))
            if abs(exponent.imag) < 1e-12:
                return log_base * exponent.real if log_base else 0.0
        except Undecided:
            if node[2][0] in ("pow", "fact", "num", "mul"):  # a positive, astronomically large exponent
                return math.copysign(math.inf, log_base) if log_base else 0.0
    raise Undecided("magnitude unknown")


def _subnodes(node: Node) -> Iterator[Node]:
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        yield item
        for child in item[1:]:
            if isinstance(child, tuple) and child and isinstance(child[0], str):
                stack.append(child)
            elif isinstance(child, tuple):
                stack.extend(x for x in child if isinstance(x, tuple) and x and isinstance(x[0], str))


def _huge(node: Node) -> bool:
    """Whether sympy would have to compute a number too big to write down (a tower, a huge factorial)."""
    for sub in _subnodes(node):
        if sub[0] not in ("pow", "fact"):
            continue
        arg = sub[1] if sub[0] == "fact" else sub[2]
        if symbols(arg):
            continue
        try:
            size = abs(_complex(evaluate(arg, {})))
        except Undecided:
            return True
        except Undefined:
            continue
        if sub[0] == "fact":
            if size > 20_000:
                return True
            continue
        try:
            log_base = 1.0 if symbols(sub[1]) else abs(log_magnitude(sub[1]))
        except (Undecided, Undefined, OverflowError, ValueError):
            continue
        if size * max(log_base, 1.0) > HUGE_LOG:
            return True
    return False


def _terms(node: Node, sign: int, out: list[tuple[int, Node]]) -> list[tuple[int, Node]]:
    if node[0] == "add":
        _terms(node[1], sign, out)
        _terms(node[2], sign, out)
    elif node[0] == "neg":
        _terms(node[1], -sign, out)
    else:
        out.append((sign, node))
    return out


def _factors(node: Node, power: int, out: list[tuple[int, Node]]) -> list[tuple[int, Node]]:
    if node[0] == "mul":
        _factors(node[1], power, out)
        _factors(node[2], power, out)
    elif node[0] == "div":
        _factors(node[1], power, out)
        _factors(node[2], -power, out)
    else:
        out.append((power, node))
    return out


def _rebuild(parts: list[tuple[int, Node]], op: str) -> Node:
    one = ("num", Fraction(0 if op == "add" else 1), None)
    node: Node = one
    for k, part in parts:
        if op == "add":
            node = ("add", node, part if k > 0 else ("neg", part))
        else:
            node = ("mul", node, part) if k > 0 else ("div", node, part)
    return node


def _cancel(a: Node, b: Node) -> bool | None:
    """Strike terms (then nonzero factors) the two sides share and compare what is left:
    `9^{9^9} + 1` vs `9^{9^9}` leaves 1 vs 0, with no need to know how big 9^{9^9} is."""
    for split, op in ((_terms, "add"), (_factors, "mul")):
        left, right = split(a, 1, []), split(b, 1, [])
        rest = list(right)
        kept = []
        for part in left:
            if part in rest and (op == "add" or _nonzero(part[1])):
                rest.remove(part)
            else:
                kept.append(part)
        if len(kept) < len(left):
            return scalar_equal(_rebuild(kept, op), _rebuild(rest, op))
    return None


def _nonzero(node: Node) -> bool:
    try:
        return log_magnitude(node) > -math.inf
    except (Undecided, Undefined, OverflowError, ValueError):
        return False


def _different_magnitude(a: Node, b: Node) -> bool | None:
    """False when the two sizes provably differ (|a| != |b|), else None."""
    try:
        la, lb = log_magnitude(a), log_magnitude(b)
    except (Undecided, Undefined, OverflowError, ValueError):
        return None
    if la == lb or (math.isfinite(la) and math.isfinite(lb) and abs(la - lb) <= 1e-9 * max(abs(la), abs(lb), 1.0)):
        return None
    return False


def _same_tower(a: Node, b: Node) -> bool | None:
    """Huge powers with the same base compare by exponent: 2^(2^100) vs 2^(2^99 * 2)."""
    if a[0] == "pow" and b[0] == "pow":
        try:
            base_a, base_b = evaluate(a[1], {}), evaluate(b[1], {})
        except (Undecided, Undefined):
            return None
        if not (isinstance(base_a, Fraction) and isinstance(base_b, Fraction) and base_a > 1 and base_b > 1):
            return None
        (root_a, k_a), (root_b, k_b) = _perfect_power(base_a), _perfect_power(base_b)
        if root_a == root_b:  # 9^{9^9} vs 3^{2 \cdot 9^9}: compare exponents over the common root
            num = ("num", Fraction(k_a), None)
            return scalar_equal(("mul", num, a[2]), ("mul", ("num", Fraction(k_b), None), b[2]))
    return None


def _perfect_power(q: Fraction) -> tuple[Fraction, int]:
    """q = root^k with the largest k (up to 64)."""
    for k in range(64, 1, -1):
        num, den = _int_root(q.numerator, k), _int_root(q.denominator, k)
        if num is not None and den is not None and num > 1:
            return Fraction(num, den), k
    return q, 1


def proportional(a: Node, b: Node) -> bool | None:
    """Whether a = c*b for a nonzero constant c: equations f=0 and g=0 then have the same solutions."""
    names = sorted(symbols(a) | symbols(b))
    if not names:
        return None
    ratio: Value | None = None
    valid = 0
    zero = Fraction(0)
    for env in _points(names):
        try:
            x, y = evaluate(a, env), evaluate(b, env)
            if close(x, zero) or close(y, zero):
                if close(x, zero) and close(y, zero):
                    continue
                return False
            if ratio is None:
                ratio = x / y
                valid += 1
                continue
            verdict = close(x / y, ratio)
        except Undefined:
            continue
        except (Undecided, OverflowError):
            return None
        if verdict is not True:
            return verdict
        valid += 1
    return True if valid >= 2 else None


# -- structure -----------------------------------------------------------------------------------

_COLLECTIONS = {"list", "paren", "bracket", "set", "matrix"}


def _decimal_places(node: Node) -> int | None:
    if node[0] == "neg":
        node = node[1]
    return node[2] if node[0] == "num" else None


def _is_inf(node: Node) -> int:
    if node == ("const", "inf"):
        return 1
    if node[0] == "neg" and node[1] == ("const", "inf"):
        return -1
    return 0


def _endpoint_equal(a: Node, b: Node, ctx: Context) -> bool | None:
    ia, ib = _is_inf(a), _is_inf(b)
    if ia or ib:
        return ia == ib
    return equal(a, b, ctx)


def _scalar(a: Node, b: Node, ctx: Context) -> bool | None:
    if a == b:
        return True
    if _is_inf(a) or _is_inf(b):
        return _is_inf(a) == _is_inf(b)
    places, written = _decimal_places(b), _decimal_places(a)
    wanted = ctx.options.approx_places
    if written is not None and places is None and wanted is not None and written >= wanted:
        # a long decimal for an exact reference: right when within one unit of its last place
        try:
            x, y = evaluate(a, {}), evaluate(b, {})
            gap: Value = abs(x - y) if isinstance(y, Fraction) else abs(_complex(x) - _complex(y))  # type: ignore[assignment]
        except (Undecided, Undefined):
            gap = math.inf
        if gap < Fraction(1, 10**written):  # type: ignore[operator]
            return True
    if places is not None and written is None:
        # the reference is a rounded decimal: its precision is the tolerance
        try:
            value = _complex(evaluate(a, {}))
        except (Undecided, Undefined):
            value = None
        if value is not None and abs(value.imag) < 1e-12:
            reference = float(evaluate(b, {}))  # type: ignore[arg-type]
            return round(value.real, places) == round(reference, places) or close(value, reference)
    verdict = scalar_equal(a, b)
    if verdict is None and ctx.symbolic is not None and not _huge(a) and not _huge(b):
        verdict = ctx.symbolic(a, b, "equal")
    return verdict


def _rel_parts(node: Node) -> tuple[Node, Node] | None:
    """(first, last) of an equation chain a = b = c."""
    if node[0] == "rel" and all(op == "=" for op in node[1]):
        return node[2][0], node[2][-1]
    return None


def _as_intervals(node: Node) -> Node | None:
    """x > 2 as (2, oo); 1 < x <= 3 as (1, 3]; -x > -1 as (-oo, 1); x != 3 as a union of two;
    intervals and unions as themselves."""
    if node[0] == "interval" or node[0] == "union":
        return node
    if node[0] != "rel" or "=" in node[1]:
        return None
    ops, parts = node[1], node[2]
    inf, neg_inf = ("const", "inf"), ("neg", ("const", "inf"))
    if len(parts) == 2:
        var_first = bool(symbols(parts[0]))
        solved = _solve(parts[0] if var_first else parts[1], parts[1] if var_first else parts[0])
        if solved is None:
            return None
        other, flip = solved
        op = ops[0] if var_first != flip else _FLIP.get(ops[0], ops[0])
        if op == "!=":
            return ("union", (("interval", neg_inf, other, False, False), ("interval", other, inf, False, False)))
        if op in (">", ">="):
            return ("interval", other, inf, op == ">=", False)
        return ("interval", neg_inf, other, False, op == "<=")
    if len(parts) == 3 and "!=" not in ops:
        lo, hi = _solve(parts[1], parts[0]), _solve(parts[1], parts[2])
        if lo is None or hi is None or symbols(parts[0]) or symbols(parts[2]):
            return None
        (left, flip), (right, _) = lo, hi
        ops = tuple(ops) if not flip else tuple(_FLIP[op] for op in ops)
        if ops[0] in ("<", "<=") and ops[1] in ("<", "<="):
            return ("interval", left, right, ops[0] == "<=", ops[1] == "<=")
        if ops[0] in (">", ">=") and ops[1] in (">", ">="):
            return ("interval", right, left, ops[1] == ">=", ops[0] == ">=")
    return None


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "!=": "!="}


def _solve(side: Node, other: Node) -> tuple[Node, bool] | None:
    """side op other, with side = a*x + b in one variable and rational a != 0, as x op' (other - b)/a;
    the flag says whether the inequality flips (a < 0)."""
    if side[0] == "sym":
        return other, False
    names = sorted(symbols(side))
    if len(names) != 1 or symbols(other):
        return None
    try:
        f0, f1, f2 = (evaluate(side, {names[0]: Fraction(x)}) for x in (0, 1, 2))
    except (Undecided, Undefined):
        return None
    if not all(isinstance(v, Fraction) for v in (f0, f1, f2)):
        return None
    a, b = f1 - f0, f0
    if a == 0 or f2 != 2 * a + b:
        return None
    return ("div", ("add", other, ("num", -b, None)), ("num", a, None)), a < 0  # type: ignore[operator]


def _ordered(a: tuple[Node, ...], b: tuple[Node, ...], ctx: Context) -> bool | None:
    if len(a) != len(b):
        return False
    verdict: bool | None = True
    for x, y in zip(a, b, strict=True):
        v = equal(x, y, ctx)
        if v is False:
            return False
        if v is None:
            verdict = None
    return verdict


def _unordered(a: tuple[Node, ...], b: tuple[Node, ...], ctx: Context) -> bool | None:
    a, b = tuple(dict.fromkeys(a)), tuple(dict.fromkeys(b))
    if len(a) > MAX_ITEMS or len(b) > MAX_ITEMS:
        return None
    unmatched = list(b)
    for x in a:
        for j, y in enumerate(unmatched):
            if equal(x, y, ctx):
                del unmatched[j]
                break
        else:
            return False
    return not unmatched


def _items(node: Node) -> tuple[Node, ...]:
    if node[0] == "matrix":
        rows = node[1]
        if len(rows) == 1:
            return tuple(rows[0])
        if all(len(row) == 1 for row in rows):
            return tuple(row[0] for row in rows)
        return ()
    return tuple(node[1])


def equal(r: Node, g: Node, ctx: Context | None = None) -> bool | None:
    """Whether response answer `r` means reference answer `g`; None when undecidable here."""
    ctx = ctx or Context()
    kr, kg = r[0], g[0]
    if kr == "text" or kg == "text":
        return kr == kg and _text_key(r[1]) == _text_key(g[1])
    if kr == "deg" and kg != "deg":
        return bool(equal(r[1], g, ctx)) or _scalar(r, g, ctx)
    if kg == "deg" and kr != "deg":
        return bool(equal(r, g[1], ctx)) or _scalar(r, g, ctx)
    if kr == "pct" and kg != "pct":
        return bool(equal(r[1], g, ctx)) or equal(("div", r[1], ("num", Fraction(100), None)), g, ctx)
    if kg == "pct" and kr != "pct":
        return bool(equal(r, g[1], ctx)) or equal(r, ("div", g[1], ("num", Fraction(100), None)), ctx)
    if kr == "pm":
        r = ("set", (("add", r[1], r[2]), ("add", r[1], ("neg", r[2]))))
        kr = "set"
    if kg == "pm":
        g = ("set", (("add", g[1], g[2]), ("add", g[1], ("neg", g[2]))))
        kg = "set"
    if kr == "rel" or kg == "rel":
        return _relation(r, g, ctx)
    if kr == "ratio" or kg == "ratio":
        return _ratio(r, g, ctx)
    if kr in ("interval", "union") or kg in ("interval", "union"):
        return _interval(r, g, ctx)
    if kr in _COLLECTIONS or kg in _COLLECTIONS:
        return _collection(r, g, ctx)
    return _scalar(r, g, ctx)


def _ratio(r: Node, g: Node, ctx: Context) -> bool | None:
    """a:b equals c:d part by part, or as proportions when no part is zero (1:2 is 2:4); never a number."""
    if r[0] != "ratio" or g[0] != "ratio" or len(r[1]) != len(g[1]):
        return False
    if _ordered(r[1], g[1], ctx):
        return True
    if len(r[1]) != 2 or not all(_nonzero(x) for x in (*r[1], *g[1])):
        return False
    (a, b), (c, d) = r[1], g[1]
    return equal(("mul", a, d), ("mul", b, c), ctx)


def _relation(r: Node, g: Node, ctx: Context) -> bool | None:
    er, eg = _rel_parts(r), _rel_parts(g)
    if er and eg:
        if er[0][0] == "sym" and eg[0][0] == "sym":
            return er[0] == eg[0] and equal(er[1], eg[1], ctx)
        a, b = ("add", er[0], ("neg", er[1])), ("add", eg[0], ("neg", eg[1]))
        verdict = proportional(a, b)
        if verdict is None and ctx.symbolic is not None and not _huge(a) and not _huge(b):
            verdict = ctx.symbolic(a, b, "proportional")
        return verdict
    if er and g[0] != "rel":  # x = 5 or 2 + 3 = 5 answers 5; a + 3z = 0 does not answer 0
        return equal(er[1], g, ctx) if _name_like(er[0]) or not symbols(er[0]) else False
    if eg and r[0] != "rel":  # reference x = 5 or (p, q) = (3, 2) accepts the value, a + 3z = 0 not 0
        return equal(r, eg[1], ctx) if _name_like(eg[0]) else False
    if g[0] == "rel" and r[0] != "rel" and not ctx.options.inequality_as_interval:
        return False
    ir, ig = _as_intervals(r), _as_intervals(g)
    if ir is None and ig is None:
        return False
    return _interval(ir or r, ig or g, ctx)


def _name_like(node: Node) -> bool:
    """A name for a quantity: x, AB, NO/BO, (p, q); not an expression such as a + 3z."""
    if node[0] == "sym":
        return True
    if node[0] in ("mul", "div"):
        return _name_like(node[1]) and _name_like(node[2])
    if node[0] in ("paren", "list", "ratio"):
        return all(_name_like(item) for item in node[1])
    if node[0] == "fn" and node[1] == "abs":
        return _name_like(node[2][0])
    return False


def _interval(r: Node, g: Node, ctx: Context) -> bool | None:
    r = _as_intervals(r) or r
    g = _as_intervals(g) or g
    if r[0] == "union" or g[0] == "union":
        parts_r = r[1] if r[0] == "union" else (r,)
        parts_g = g[1] if g[0] == "union" else (g,)
        if len(parts_r) == len(parts_g) == 1:
            return _interval(parts_r[0], parts_g[0], ctx)
        return _unordered(tuple(parts_r), tuple(parts_g), ctx)
    as_r, as_g = _interval_view(r), _interval_view(g)
    if as_r is None or as_g is None:
        return False
    lo_r, hi_r, lc_r, hc_r = as_r
    lo_g, hi_g, lc_g, hc_g = as_g
    if (lc_r, hc_r) != (lc_g, hc_g):
        return False
    lo = _endpoint_equal(lo_r, lo_g, ctx)
    if lo is False:
        return False
    hi = _endpoint_equal(hi_r, hi_g, ctx)
    return hi if lo else (None if hi is not False else False)


def _interval_view(node: Node) -> tuple[Node, Node, bool, bool] | None:
    if node[0] == "interval":
        return node[1], node[2], node[3], node[4]
    if node[0] in ("paren", "bracket") and len(node[1]) == 2:
        closed = node[0] == "bracket"
        return node[1][0], node[1][1], closed, closed
    return None


def _collection(r: Node, g: Node, ctx: Context) -> bool | None:
    kr, kg = r[0], g[0]
    if kr not in _COLLECTIONS:
        return kg == "set" and len(g[1]) == 1 and equal(r, g[1][0], ctx)
    if kg not in _COLLECTIONS:
        return kr == "set" and len(r[1]) == 1 and equal(r[1][0], g, ctx)
    if kr == "matrix" and kg == "matrix":
        rows_r, rows_g = r[1], g[1]
        if len(rows_r) != len(rows_g) or len(rows_r[0]) != len(rows_g[0]):
            return False
        return _ordered(tuple(x for row in rows_r for x in row), tuple(x for row in rows_g for x in row), ctx)
    if "set" in (kr, kg) or kr == kg == "list":
        if "set" in (kr, kg) and {kr, kg} & {"paren", "bracket", "matrix"}:
            return False
        return _unordered(_items(r), _items(g), ctx)
    if {kr, kg} == {"paren", "bracket"}:
        return False
    items_r, items_g = _items(r), _items(g)
    if not items_r or not items_g:
        return False
    return _ordered(items_r, items_g, ctx)


def _text_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


__all__ = ["Undecided", "Undefined", "close", "equal", "evaluate", "proportional", "scalar_equal", "symbols"]
