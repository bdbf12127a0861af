"""GRPO end to end on tiny models: runs, resumes bit-exactly, repeats with a seed, trains tool episodes."""

import json

import pytest
import torch
from safetensors.torch import load_file

from rlhub.rollout.mock import ScriptedClient
from rlhub.rollout.runner import Collector
from rlhub.train.client import LocalModelClient
from rlhub.train.common import prepare
from rlhub.train.grpo import Sequence, groups, to_sequences, train_grpo, turns, update
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
    config = groups(small_config(tmp_path, tool_model_path, env=DOUBLE, **{"grpo.prompts": 3, "grpo.group": 2}))
    with Collector(double_env, client, config) as collect:
        rollouts = collect(0)
    assert [(r.task.index, r.sample) for r in rollouts] == [(t, s) for t in range(3) for s in range(2)]
    for r in rollouts:
        assistant = [m for m in r.messages if m.role == "assistant"]
        assert len(turns(r)) == len(assistant) >= 1
        for (prompt, ids, logps), message in zip(turns(r), assistant, strict=True):
            assert policy.decode(ids) == message.content  # the loss sees exactly the model's tokens
            assert len(logps) == len(ids) and prompt[-1] == policy.tokenizer.convert_tokens_to_ids("<|assistant|>")
    rewards = torch.tensor([r.reward for r in rollouts]).view(3, 2)
    sequences = to_sequences(rollouts, group_advantages(rewards), torch.ones(3, dtype=torch.bool), 2)
    assert len(sequences) == sum(len(turns(r)) for r in rollouts)
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


def test_a_client_without_token_ids_cannot_train(tmp_path, add_env, tiny_path):
    with Collector(add_env, ScriptedClient(lambda messages: "2"), groups(small_config(tmp_path, tiny_path))) as collect:
        rollouts = collect(0)
    with pytest.raises(ValueError, match="needs token ids"):
        turns(rollouts[0])
