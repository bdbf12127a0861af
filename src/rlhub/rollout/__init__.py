"""Rollouts: model clients (OpenAI-compatible HTTP, mock, scripted), the async runner, logs and metrics.

env = rlhub.load("demo/add")
config = RolloutConfig(n=100, r=4, concurrency=256)
async with OpenAIClient("qwen", "http://127.0.0.1:8000/v1", max_connections=256) as client:
    log = await run(env, client, config, "runs/add.jsonl")
print(log.footer.metrics.mean)
"""

from rlhub.core.metrics import Metrics, compute_metrics, pass_at_k
from rlhub.rollout.client import OpenAIClient
from rlhub.rollout.log import LogFooter, LogHeader, RunLog, read_log
from rlhub.rollout.mock import MockClient, ScriptedClient
from rlhub.rollout.rescore import rescore
from rlhub.rollout.runner import RolloutConfig, run, run_sync

__all__ = [
    "LogFooter",
    "LogHeader",
    "Metrics",
    "MockClient",
    "OpenAIClient",
    "RolloutConfig",
    "RunLog",
    "ScriptedClient",
    "compute_metrics",
    "pass_at_k",
    "read_log",
    "rescore",
    "run",
    "run_sync",
]
