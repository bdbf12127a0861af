"""The conventions of math equivalence that reasonable graders choose differently, as one value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MathOptions:
    """Conventions for `math.score`; the defaults are what the docs (docs/verify.md) describe.

    decimal_comma: read `1,5` (one comma, not a thousands group) as 1.5; off, it is the pair/list 1, 5.
    approx_places: a decimal answer written with at least this many places matches an exact reference
        (`0.333333` for `1/3`) when within one unit of its last place; None: exact values only. A
        reference written as a decimal always sets its own precision (`1/3` matches `0.333`).
    inequality_as_interval: a reference inequality (`-2 \\le x \\le 7`) also accepts the interval or set
        (`[-2, 7]`, `x \\in [-2, 7]`); False requires an inequality. An inequality answer is always
        compared with an interval reference as the interval it describes.
    """

    decimal_comma: bool = False
    approx_places: int | None = 6
    inequality_as_interval: bool = True


DEFAULT_OPTIONS = MathOptions()

__all__ = ["DEFAULT_OPTIONS", "MathOptions"]
