"""Asynchronous RL with real processes: torchrun starts one trainer and two rollout workers; weights
and rollouts travel through torch.distributed's TCPStore."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.train.conftest import ADD


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_trainer_and_two_workers_train_within_the_staleness_bound(tmp_path: Path, tiny_path: Path) -> None:
    out = tmp_path / "async"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "3",
        "-m", "rlhub.train.distributed.async_rl", str(Path(__file__).with_name("no_config.toml")),
        "--steps", "6", "--max-staleness", "1",
        "--model.path", str(tiny_path), "--env.id", ADD, "--env.max_tokens", "6",
        "--grpo.prompts", "4", "--grpo.group", "4", "--grpo.score_workers", "1",
        "--run.out", str(out), "--run.progress", "false", "--run.threads", "1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "async_summary.json").read_text())
    assert summary["steps"] == 6 and summary["max_staleness_seen"] <= 1
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 7))  # one published version per accepted batch
    assert {r["worker"] for r in records} <= {1, 2} and all(r["staleness"] <= 1 for r in records)
    assert records[-1]["dropped"] == summary["dropped_stale"]
    assert (Path(summary["model"]) / "config.json").exists()
