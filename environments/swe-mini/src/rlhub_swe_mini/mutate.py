"""Bugs by AST mutation, applied as one small edit of the source text.

The AST finds where an operator or constant is; the edit changes only that token in the original
text, so the buggy file differs from the release in one place (a diff shows one line) and the
reverse edit restores it exactly. A `Mutation` is plain data (`to_json`/`from_json`): the task data
ships only these, never the buggy files.
"""

from __future__ import annotations

import ast
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

_COMPARE = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.In: ("in", "not in"),
    ast.NotIn: (r"not\s+in", "in"),
    ast.Is: ("is", "is not"),
    ast.IsNot: (r"is\s+not", "is"),
}
_BOOL = {ast.And: ("and", "or"), ast.Or: ("or", "and")}
_ARITH = {ast.Add: (r"\+", "-"), ast.Sub: ("-", "+")}
_AUG = {ast.Add: (r"\+=", "-="), ast.Sub: ("-=", "+=")}

KINDS = ("compare", "boolean", "not", "constant", "arithmetic", "return")


class MutationError(ValueError):
    """A mutation does not fit the text it is applied to (another release, an edited file)."""


@dataclass(frozen=True)
class Mutation:
    """Replace `old` by `new` at (`line`, `col`) of `path` (1-based line, 0-based column in characters)."""

    path: str
    line: int
    col: int
    old: str
    new: str
    kind: str
    where: str
    """The enclosing function or class (`Class.method`), or `<module>`."""

    def apply(self, text: str) -> str:
        return _replace(text, self.line, self.col, self.old, self.new)

    def revert(self, text: str) -> str:
        return _replace(text, self.line, self.col, self.new, self.old)

    def to_json(self) -> list[object]:
        return [self.path, self.line, self.col, self.old, self.new, self.kind, self.where]

    @classmethod
    def from_json(cls, row: list[object]) -> Mutation:
        path, line, col, old, new, kind, where = row
        return cls(str(path), int(line), int(col), str(old), str(new), str(kind), str(where))  # type: ignore[call-overload]


def _replace(text: str, line: int, col: int, old: str, new: str) -> str:
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines) or lines[line - 1][col : col + len(old)] != old:
        raise MutationError(f"line {line} col {col} does not read {old!r}")
    lines[line - 1] = lines[line - 1][:col] + new + lines[line - 1][col + len(old) :]
    return "".join(lines)


def candidates(path: str, text: str) -> list[Mutation]:
    """Every mutation this module offers, in source order."""
    return list(_Finder(path, text).run())


class _Finder:
    def __init__(self, path: str, text: str):
        self.path, self.text = path, text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col_bytes: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode()[:col_bytes].decode())

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def at(self, offset: int, old: str, new: str, kind: str, where: str) -> Mutation:
        line = next(i for i in range(len(self.lines)) if self.starts[i + 1] > offset)
        return Mutation(self.path, line + 1, offset - self.starts[line], old, new, kind, where)

    def between(self, a: ast.AST, b: ast.AST, op: str, new: str, kind: str, where: str) -> Iterator[Mutation]:
        """The operator `op` (a regex) alone, with brackets and spaces, between nodes `a` and `b`."""
        lo, hi = self.end(a), self.start(b)
        found = re.fullmatch(rf"[\s()\\]*?({op})[\s()\\]*", self.text[lo:hi])
        if found and "\n" not in found.group(1):
            yield self.at(lo + found.start(1), found.group(1), new, kind, where)

    def run(self) -> Iterator[Mutation]:
        yield from self.visit(ast.parse(self.text), "<module>")

    def visit(self, node: ast.AST, where: str) -> Iterator[Mutation]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            where = node.name if where == "<module>" else f"{where}.{node.name}"
            children: list[ast.AST] = [*node.decorator_list, *node.body]
            if not isinstance(node, ast.ClassDef):
                children.append(node.args)
            for child in children:
                yield from self.visit(child, where)
            return
        yield from self.here(node, where)
        for child in ast.iter_child_nodes(node):
            yield from self.visit(child, where)

    def here(self, node: ast.AST, where: str) -> Iterator[Mutation]:
        if isinstance(node, ast.Compare):
            for left, op, right in zip([node.left, *node.comparators], node.ops, node.comparators, strict=False):
                pattern, new = _COMPARE[type(op)]
                yield from self.between(left, right, pattern, new, "compare", where)
        elif isinstance(node, ast.BoolOp):
            pattern, new = _BOOL[type(node.op)]
            yield from self.between(node.values[0], node.values[1], pattern, new, "boolean", where)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found = re.match(r"not\s+", self.text[self.start(node) : self.start(node.operand)])
            if found:
                yield self.at(self.start(node), found.group(0), "", "not", where)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH and not _stringy(node):
            pattern, new = _ARITH[type(node.op)]
            yield from self.between(node.left, node.right, pattern, new, "arithmetic", where)
        elif isinstance(node, ast.AugAssign) and type(node.op) in _AUG and not _stringy(node):
            pattern, new = _AUG[type(node.op)]
            yield from self.between(node.target, node.value, pattern, new, "arithmetic", where)
        elif (
            isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and node.value.value in (True, False)
        ):
            if isinstance(node.value.value, bool):
                old = str(node.value.value)
                yield self.at(self.start(node.value), old, str(not node.value.value), "return", where)
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            old = self.text[self.start(node) : self.end(node)]
            if re.fullmatch(r"\d+", old):
                step = (
                    1
                    if node.value == 0 or zlib.crc32(f"{self.path}:{node.lineno}:{node.col_offset}".encode()) % 2
                    else -1
                )
                yield self.at(self.start(node), old, str(node.value + step), "constant", where)


def _stringy(node: ast.BinOp | ast.AugAssign) -> bool:
    """String concatenation: `'a' - b` is a TypeError at once, not a bug worth finding."""
    sides = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.target, node.value]
    return any(
        isinstance(s, ast.JoinedStr) or (isinstance(s, ast.Constant) and isinstance(s.value, str)) for s in sides
    )
