"""Re-scoring a log file here: rebuild the environment its header names and apply the re-score contract.

The rules and the report are `rlhub.verify.rescore`, shared with the hub (which builds the environment
from the published wheel instead, in its sandbox). Used by `rlhub view --rescore` to audit a result and
to check that rewards are reproducible.
"""

from __future__ import annotations

from pathlib import Path

from rlhub.core.env import Environment
from rlhub.core.errors import EnvNotFound
from rlhub.core.registry import env_class, load_path
from rlhub.rollout.log import LogHeader, read_log
from rlhub.verify.rescore import RescoreReport
from rlhub.verify.rescore import rescore as apply_contract


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
    """Re-score the log at `path` with the environment installed here (or at its `env_source`)."""
    log = read_log(path)
    claimed = log.footer.metrics.mean if log.footer else None
    return apply_contract(env_for(log.header), log.rollouts, log.header.env_hash, claimed)


__all__ = ["env_for", "rescore"]
