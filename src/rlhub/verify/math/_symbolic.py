"""Symbolic equality with sympy: the slow, last-resort judge, run only inside the worker process.

Parsed tuple trees are turned into sympy expressions directly (no string parsing). sympy evaluates
eagerly and can run for ever on inputs like power towers; that is why this runs in a process the
caller can kill, never in the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

if TYPE_CHECKING:  # the worker runs this file without importing the rlhub package
    from rlhub.verify.math._parse import Node

_FUNCS: dict[str, Any] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "sec": sympy.sec, "csc": sympy.csc, "cot": sympy.cot,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "tanh": sympy.tanh, "exp": sympy.exp, "ln": sympy.log, "log": sympy.log, "sqrt": sympy.sqrt,
    "abs": sympy.Abs, "floor": sympy.floor, "ceil": sympy.ceiling, "binom": sympy.binomial,
    "log10": lambda x: sympy.log(x, 10),
}  # fmt: skip
_CONSTS = {"pi": sympy.pi, "e": sympy.E, "i": sympy.I, "inf": sympy.oo}


def to_sympy(node: Node) -> Any:
    kind = node[0]
    if kind == "num":
        return sympy.Rational(node[1].numerator, node[1].denominator)
    if kind == "sym":
        return sympy.Symbol(node[1])
    if kind == "const":
        return _CONSTS[node[1]]
    if kind == "add":
        return to_sympy(node[1]) + to_sympy(node[2])
    if kind == "mul":
        return to_sympy(node[1]) * to_sympy(node[2])
    if kind == "div":
        return to_sympy(node[1]) / to_sympy(node[2])
    if kind == "neg":
        return -to_sympy(node[1])
    if kind == "pow":
        return sympy.Pow(to_sympy(node[1]), to_sympy(node[2]))
    if kind == "fn":
        return _FUNCS[node[1]](*(to_sympy(arg) for arg in node[2]))
    if kind == "fact":
        return sympy.factorial(to_sympy(node[1]))
    if kind == "pct":
        return to_sympy(node[1]) / 100
    raise ValueError(f"{kind} is not a scalar")


def symbolic_equal(a: Node, b: Node, mode: str = "equal") -> bool | None:
    """mode "equal": a - b simplifies to zero. mode "proportional": a / b simplifies to a nonzero constant.

    False only when sympy proves a difference; None when it cannot tell.
    """
    x, y = to_sympy(a), to_sympy(b)
    if mode == "proportional":
        ratio = sympy.simplify(x / y)
        if ratio.free_symbols:
            return None
        return (ratio.is_zero is False and ratio.is_finite is True) or None
    difference = sympy.simplify(x - y)
    if difference == 0:
        return True
    return False if difference.is_number and difference.is_zero is False else None


__all__ = ["symbolic_equal", "to_sympy"]
