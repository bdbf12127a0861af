"""SFT and GRPO as DiLoCo workers under torchrun: disjoint shards, one synchronisation per round, and
every worker ending on the same weights; a single process trains exactly as before (tests/train)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.train.conftest import ADD

from rlhub.train.distributed.workers import Workers


def test_shards_are_disjoint_across_workers_and_steps() -> None:
    seen = [Workers(rank, 3).shard(step) for step in range(4) for rank in range(3)]
    assert sorted(seen) == list(range(12))
    assert [Workers().shard(step) for step in range(3)] == [0, 1, 2]  # one worker: the old task order
    assert Workers(1, 2).out_dir(Path("runs/x")) == Path("runs/x/rank1")


def _config(tmp_path: Path, model: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
[model]
path = "{model}"
[env]
id = "{ADD}"
max_tokens = 6
[optim]
lr = 1e-2
[sft]
steps = 6
batch_size = 8
micro_batch_size = 8
eval_every = 0
[grpo]
steps = 4
prompts = 4
group = 4
[run]
out = "{tmp_path / "out"}"
progress = false
threads = 1
[diloco]
inner_steps = 2
outer_lr = 0.8
outer_momentum = 0.6
""")
    return path


def _torchrun(*args: str) -> str:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "rlhub"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", ["sft", "grpo"])
def test_two_workers_train_as_diloco_and_end_on_the_same_weights(tmp_path: Path, tiny_path: Path, command: str) -> None:
    stdout = _torchrun("train", command, str(_config(tmp_path, tiny_path)))
    out = tmp_path / "out"
    zero, one = (json.loads((d / "diloco.json").read_text()) for d in (out, out / "rank1"))
    assert (zero["rank"], one["rank"], zero["world"]) == (0, 1, 2)
    assert zero["weights_sha256"] == one["weights_sha256"]
    steps = {"sft": 6, "grpo": 4}[command]
    assert zero["calls"] == 1 + steps // 2 and zero["rounds"] == steps // 2  # a checksum, then one sync per round
    assert (out / "model" / "config.json").exists() and not (out / "rank1" / "model").exists()
    assert stdout.count("model: ") == 1  # one report for the shared result
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == list(range(1, steps + 1))


@pytest.mark.slow
def test_a_time_budget_is_refused_with_several_workers(tmp_path: Path, tiny_path: Path) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "rlhub"]
    args = ["train", "grpo", str(_config(tmp_path, tiny_path)), "--grpo.time_budget_s", "30"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "grpo.time_budget_s needs a single worker" in done.stdout + done.stderr


@pytest.mark.slow
def test_a_restarted_diloco_sft_resumes_bit_identically(tmp_path: Path, tiny_path: Path) -> None:
    straight, restarted = tmp_path / "straight", tmp_path / "restarted"
    for d in (straight, restarted):
        d.mkdir()
    _torchrun("train", "sft", str(_config(straight, tiny_path)))
    config = str(_config(restarted, tiny_path))
    _torchrun("train", "sft", config, "--sft.steps", "4")  # stops at a round boundary, checkpointed
    _torchrun("train", "sft", config, "--run.resume", "true")  # a full restart: every worker resumes
    a, b = (json.loads((d / "out" / "diloco.json").read_text()) for d in (straight, restarted))
    assert a["weights_sha256"] == b["weights_sha256"] and a["bytes_sent"] == b["bytes_sent"]
    records = [json.loads(line) for line in (restarted / "out" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == list(range(1, 7))
