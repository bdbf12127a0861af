"""SFT: completion-only loss, chat JSONL data, bit-exact resume, validation stop."""

import json

import pytest
import torch
from typer.testing import CliRunner

from rlhub.cli.main import app
from rlhub.rollout.log import read_log
from rlhub.train.common import prepare
from rlhub.train.sft import batches, jsonl_examples, packed_loss, sequence_loss, train_sft

from .conftest import small_config


def weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_prompt_tokens_are_masked(tmp_path, tiny_path):
    run = prepare(small_config(tmp_path, tiny_path))
    [(prompt, completion)] = next(batches(run, None))[:1]
    total = len(completion)
    loss = sequence_loss(run, [(prompt, completion)], total)
    changed = sequence_loss(run, [([3, 9, 9, 9, 9, *prompt[1:]], completion)], total)
    assert loss.item() > 0
    assert loss.item() != changed.item()  # the prompt is context ...
    logits = run.policy.model(torch.tensor([prompt + completion])).logits[0, len(prompt) - 1 : -1]
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(completion))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)  # ... and only completion tokens are scored


def test_packing_gives_the_same_loss_for_one_example(tmp_path, tiny_path):
    run = prepare(small_config(tmp_path, tiny_path))
    example = next(batches(run, None))[0]
    assert packed_loss(run, [example], 5).item() == pytest.approx(sequence_loss(run, [example], 5).item(), rel=1e-5)


@pytest.mark.slow
def test_sft_lowers_the_loss_and_writes_outputs(tmp_path, tiny_path):
    config = small_config(tmp_path, tiny_path, **{"sft.steps": 30, "optim.lr": 1e-2, "sft.batch_size": 32})
    result = train_sft(config)
    records = [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if "loss" in r]
    assert len(losses) == 30 and sum(losses[-5:]) < sum(losses[:5]) * 0.8
    assert (result.model / "config.json").exists() and (tmp_path / "out" / "curve.png").stat().st_size > 1000


@pytest.mark.slow
def test_resume_continues_bit_exactly(tmp_path, tiny_path):
    straight = train_sft(small_config(tmp_path / "a", tiny_path, **{"sft.steps": 6}))
    train_sft(small_config(tmp_path / "b", tiny_path, **{"sft.steps": 3}))
    resumed = train_sft(small_config(tmp_path / "b", tiny_path, **{"sft.steps": 6, "run.resume": "true"}))
    a, b = weights(straight.model), weights(resumed.model)
    assert all(torch.equal(a[k], b[k]) for k in a)
    lines = (tmp_path / "b" / "out" / "metrics.jsonl").read_text().splitlines()
    assert [r["step"] for r in map(json.loads, lines) if "loss" in r] == [1, 2, 3, 4, 5, 6]


def test_chat_jsonl_data(tmp_path, tiny_path):
    data = tmp_path / "chats.jsonl"
    chats = [
        {"messages": [{"role": "user", "content": "1+1="}, {"role": "assistant", "content": "2"}]},
        {
            "messages": [
                {"role": "user", "content": "2+2="},
                {"role": "assistant", "content": "4"},
                {"role": "user", "content": "+1="},
                {"role": "assistant", "content": "5"},
            ]
        },
    ]
    data.write_text("\n".join(json.dumps(c) for c in chats))
    config = small_config(tmp_path, tiny_path, **{"sft.data": str(data), "sft.steps": 40, "optim.lr": 3e-2})
    run = prepare(config)
    examples = jsonl_examples(run, str(data))
    assert [run.policy.decode(c) for _, c in examples] == ["2", "4", "5"]
    assert run.policy.tokenizer.decode(examples[2][0]).endswith("<|user|>+1=<|end|><|assistant|>")
    result = train_sft(config)
    assert result.steps == 40


@pytest.mark.slow
def test_validation_threshold_stops_early(tmp_path, tiny_path):
    overrides = {"env.args": "{digits = 1}", "sft.batch_size": 32, "optim.lr": 1e-2, "sft.steps": 300}
    config = small_config(tmp_path, tiny_path, **overrides, **{"sft.eval_every": 10, "sft.stop_at": 0.25})
    result = train_sft(config)
    assert result.val_accuracy >= 0.25 and result.steps < 300
    log = read_log(tmp_path / "out" / "val" / f"step-{result.steps}.jsonl")  # each validation is a rollout log
    assert log.header.split == "test" and log.header.seed == 1 and log.header.sampling.temperature == 0
    assert log.footer is not None and log.footer.metrics.accuracy == result.val_accuracy and len(log.rollouts) == 8
    shown = CliRunner().invoke(app, ["view", str(log.path)])
    assert shown.exit_code == 0 and f"model out-step-{result.steps}" in shown.output
