"""Where a worker's wall-clock goes: forward, backward, optimizer (compute) against communication,
checkpoints and validation, so utilization on a slow link is measured rather than projected."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

COMPUTE = ("forward", "backward", "optimizer")
EXCLUDED = ("validation",)
"""Validation is the benchmark's instrument, not training: it is timed and left out of the wall time."""


class PhaseTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.started = time.perf_counter()
        self.last_mark = 0.0

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - began

    def mark(self) -> None:
        """Note the time now (DDP's gradient hook marks each bucket it launches)."""
        self.last_mark = time.perf_counter()

    def split_backward(self, began: float) -> None:
        """DDP all-reduces gradient buckets while backward runs and waits for the last one at its end.
        The last bucket is launched when the last gradient is computed: compute until that mark,
        communication after it. Without a mark since `began` (DiLoCo), backward is all compute."""
        ended = time.perf_counter()
        compute_end = self.last_mark if began < self.last_mark <= ended else ended
        self.seconds["backward"] += compute_end - began
        self.seconds["communication"] += ended - compute_end

    def elapsed(self) -> float:
        """Wall seconds since the start, less the excluded phases."""
        return time.perf_counter() - self.started - sum(self.seconds[p] for p in EXCLUDED)

    def report(self) -> dict[str, object]:
        wall = self.elapsed()
        compute = sum(self.seconds[p] for p in COMPUTE)
        return {
            "wall_s": round(wall, 3),
            "compute_s": round(compute, 3),
            "utilization": round(compute / wall, 4) if wall > 0 else None,
            "phases_s": {phase: round(value, 3) for phase, value in sorted(self.seconds.items())},
        }


__all__ = ["COMPUTE", "PhaseTimer"]
