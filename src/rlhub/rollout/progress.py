"""A progress bar for runs: rollouts done / total, rate, running mean reward. Silent off a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RunProgress:
    """Updates at most ~10 times a second, whatever the rollout rate, so it costs nothing measurable."""

    def __init__(self, total: int, done: int = 0, reward_sum: float = 0.0, *, enabled: bool | None = None):
        console = Console(stderr=True)
        self.enabled = console.is_terminal if enabled is None else enabled
        self.done = done
        self.reward_sum = reward_sum
        self._progress = Progress(
            TextColumn("[bold]rollouts"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("· {task.fields[rate]}"),
            TextColumn("· mean {task.fields[mean]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.enabled,
            refresh_per_second=10,
        )
        self._task = self._progress.add_task("run", total=total, completed=done, rate="-", mean=self._mean())

    def _mean(self) -> str:
        return f"{self.reward_sum / self.done:.3f}" if self.done else "-"

    def __enter__(self) -> RunProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, reward: float) -> None:
        self.done += 1
        self.reward_sum += reward
        if self.enabled:
            speed = self._progress.tasks[0].speed
            rate = f"{speed:.0f}/s" if speed else "-"
            self._progress.update(self._task, advance=1, rate=rate, mean=self._mean())


__all__ = ["RunProgress"]
