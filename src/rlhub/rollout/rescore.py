"""Offline re-scoring: rebuild the environment a log names and score every rollout again from the log alone.

Used to audit a result (the hub re-verifies uploaded logs) and to check that rewards are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rlhub.core.env import Environment
from rlhub.core.errors import EnvNotFound
from rlhub.core.registry import env_class, load_path
from rlhub.core.types import Rollout, Score
from rlhub.rollout.log import LogHeader, env_hash, read_log


@dataclass
class Rescored:
    rollout: Rollout
    score: Score

    @property
    def matches(self) -> bool:
        logged = self.rollout.score
        return logged is not None and abs(logged.value - self.score.value) < 1e-9 and logged.status == self.score.status


@dataclass
class RescoreReport:
    path: Path
    env_hash_matches: bool
    results: list[Rescored]

    @property
    def mismatches(self) -> list[Rescored]:
        return [r for r in self.results if not r.matches]


def env_for(header: LogHeader) -> Environment:
    """The environment a log was made with: from its source path when it was loaded from one, else by id."""
    try:
        cls = env_class(header.env)
    except EnvNotFound:
        if not header.env_source:
            raise
        load_path(header.env_source)
        cls = env_class(header.env)
    return cls(**header.env_config)


def rescore(path: str | Path) -> RescoreReport:
    """Score every finished rollout of a log again; failed rollouts (no model answer) are skipped."""
    log = read_log(path)
    env = env_for(log.header)
    results = [Rescored(r, env.score(r.task, r.messages, r.info)) for r in log.rollouts if r.status == "ok" and r.score]
    return RescoreReport(path=log.path, env_hash_matches=env_hash(env) == log.header.env_hash, results=results)


__all__ = ["RescoreReport", "Rescored", "env_for", "rescore"]
