"""GRPO end to end on tiny models: runs, resumes bit-exactly, repeats with a seed, trains tool episodes."""

import asyncio
import json

import pytest
import torch
from safetensors.torch import load_file

from rlhub.core.types import Sampling
from rlhub.train.client import LocalModelClient
from rlhub.train.common import prepare
from rlhub.train.episodes import run_episodes
from rlhub.train.grpo import Sequence, to_sequences, train_grpo, update
from rlhub.train.losses import group_advantages
from rlhub.train.modeling import load_policy

from .conftest import DOUBLE, small_config


def weights(result):
    return load_file(str(result.model / "model.safetensors"))


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def records(tmp_path):
    return [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_resume_continues_bit_exactly_and_seeds_repeat(tmp_path, tiny_path):
    overrides = {"grpo.epochs": 2, "grpo.beta": 0.05, "grpo.micro_batch_size": 5, "grpo.lr": 1e-3}
    straight = train_grpo(small_config(tmp_path / "a", tiny_path, **overrides, **{"grpo.steps": 4}))
    again = train_grpo(small_config(tmp_path / "c", tiny_path, **overrides, **{"grpo.steps": 4}))
    train_grpo(small_config(tmp_path / "b", tiny_path, **overrides, **{"grpo.steps": 2}))
    resume = {"grpo.steps": 4, "run.resume": "true"}
    resumed = train_grpo(small_config(tmp_path / "b", tiny_path, **overrides, **resume))
    assert same(weights(straight), weights(again))
    assert same(weights(straight), weights(resumed))
    assert not same(weights(straight), load_file(str(tiny_path / "model.safetensors")))
    a, b = records(tmp_path / "a"), records(tmp_path / "b")
    assert [r["reward"] for r in a] == [r["reward"] for r in b]
    assert {"reward", "loss", "clipped", "generate_s", "update_s"} <= set(a[0])
    other_seed = train_grpo(small_config(tmp_path / "d", tiny_path, **overrides, **{"grpo.steps": 4, "run.seed": 1}))
    assert not same(weights(straight), weights(other_seed))


def test_dynamic_sampling_drops_flat_groups(tmp_path, tiny_path):
    overrides = {"grpo.dynamic_sampling": "true", "grpo.steps": 3, "grpo.prompts": 8}
    train_grpo(small_config(tmp_path, tiny_path, **overrides))
    kept = [(r["groups"], r["sequences"]) for r in records(tmp_path) if r.get("phase") == "grpo"]
    assert all(sequences == groups * 4 for groups, sequences in kept)
    assert any(groups < 8 for groups, _ in kept)  # some groups of an untrained model are flat


def test_tool_episodes_train_turn_by_turn(tmp_path, double_env, tool_model_path):
    policy = load_policy(tool_model_path, "cpu")
    client = LocalModelClient(policy, max_tokens=8, generator=torch.Generator().manual_seed(0))
    tasks = [double_env.task(i) for i in range(3)]
    scored = asyncio.run(run_episodes(double_env, client, tasks, 2, Sampling(temperature=1.0)))
    for s in scored:
        assistant = [m for m in s.messages if m.role == "assistant"]
        assert len(s.turns) == len(assistant) >= 1
        for turn, message in zip(s.turns, assistant, strict=True):
            assert policy.decode(turn.ids) == message.content  # the loss sees exactly the model's tokens
    rewards = torch.tensor([s.score.value for s in scored]).view(3, 2)
    sequences = to_sequences(scored, group_advantages(rewards), torch.ones(3, dtype=torch.bool), 2)
    assert len(sequences) == sum(len(s.turns) for s in scored)
    result = train_grpo(small_config(tmp_path, tool_model_path, env=DOUBLE, **{"env.max_tokens": 8}))
    assert result.steps == 2


def test_skipping_zero_advantage_sequences_changes_nothing(tmp_path, tiny_path):
    batch = [
        Sequence([3, 9, 10], [9, 6], 1.0),
        Sequence([3, 11], [10, 11, 6], 0.0),
        Sequence([3, 12, 9], [13], -0.7),
        Sequence([3, 9], [12, 12, 12, 6], 0.0),
    ]
    runs = [prepare(small_config(tmp_path / name, tiny_path, **{"grpo.lr": 1e-2})) for name in ("skip", "full")]
    update(runs[0], batch, None)
    update(runs[1], batch, runs[1].policy)  # a reference model (beta 0) turns skipping off
    a, b = (dict(r.policy.model.named_parameters()) for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
