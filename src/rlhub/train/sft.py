"""Supervised fine-tuning with a completion-only loss.

Data: the environment's oracle replies to its train tasks (task `i` of step `s` is index
`s * batch_size + i`, so data order needs no RNG and resumes exactly), or a chat JSONL file where
every assistant message is a target given the messages before it. Loss: mean cross-entropy over
completion tokens of the whole batch (prompt tokens masked), identical with or without micro-batches.
Validation: greedy accuracy on held-out test tasks, each a rollout log `val/step-N.jsonl` in the run's
directory; `sft.stop_at` ends the run at a threshold.

Simplifications: environment data uses the first model turn only (the oracle's reply to the
prompt); packing concatenates examples in a row with causal attention across example boundaries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from rlhub.core.errors import ConfigError
from rlhub.core.types import Message
from rlhub.train.common import Metrics, Run, evaluate, plot_curves, prepare, progress, read_metrics
from rlhub.train.config import TrainConfig
from rlhub.train.generate import completion_logprobs, positions, right_pad

Example = tuple[list[int], list[int]]
"""(prompt ids, completion ids)."""


@dataclass
class SFTResult:
    model: Path
    steps: int
    val_accuracy: float
    seconds: float


def jsonl_examples(run: Run, path: str) -> list[Example]:
    """Every assistant message of every conversation in a chat JSONL file, as an example."""
    examples = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            messages = [Message.model_validate(m) for m in json.loads(line)["messages"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{n}: expected {{'messages': [...]}}: {exc}") from None
        for i, message in enumerate(messages):
            if message.role == "assistant":
                examples.append(run.policy.encode_example(messages[:i], message))
    if not examples:
        raise ConfigError(f"{path} has no assistant messages to learn from")
    return examples


def batches(run: Run, examples: list[Example] | None) -> Iterator[list[Example]]:
    """Batches from step `run.step` on: oracle replies to train tasks, or the JSONL examples in order."""
    size = run.config.sft.batch_size
    step = run.step
    while True:
        first = run.workers.shard(step) * size
        if examples is None:
            env = run.env
            tasks = [env.task(first + i, "train", run.config.env.seed) for i in range(size)]
            batch = []
            for task in tasks:
                prompt = env.prompt_messages(task)
                batch.append(run.policy.encode_example(prompt, env.oracle(task, prompt)))
            yield batch
        else:
            yield [examples[(first + i) % len(examples)] for i in range(size)]
        step += 1


def sequence_loss(run: Run, batch: list[Example], total_tokens: int) -> torch.Tensor:
    """Sum of completion-token cross-entropies of `batch`, divided by the full batch's token count."""
    logps, mask = completion_logprobs(run.policy, [p for p, _ in batch], [c for _, c in batch])
    return -(logps * mask).sum() / total_tokens


def packed_loss(run: Run, batch: list[Example], total_tokens: int) -> torch.Tensor:
    """Same loss with examples packed into rows of at most `sft.pack_length` tokens."""
    rows: list[list[int]] = [[]]
    targets: list[list[int]] = [[]]
    for prompt, completion in batch:
        if rows[-1] and len(rows[-1]) + len(prompt) + len(completion) > run.config.sft.pack_length:
            rows.append([])
            targets.append([])
        rows[-1] += prompt + completion
        targets[-1] += [0] * len(prompt) + [1] * len(completion)
    pad = run.policy.tokenizer.pad_token_id
    ids = right_pad(rows, pad, torch.long).to(run.policy.device)
    attention = right_pad([[1] * len(r) for r in rows], 0, torch.long).to(run.policy.device)
    labels = right_pad(targets, 0, torch.float).to(run.policy.device)
    logits = run.policy.model(input_ids=ids, attention_mask=attention, position_ids=positions(attention)).logits
    logps = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return -(logps * labels[:, 1:]).sum() / total_tokens


def train_sft(config: TrainConfig) -> SFTResult:
    """Run SFT as configured; returns the saved model directory and the last validation accuracy."""
    run = prepare(config)
    cfg = config.sft
    if cfg.stop_at and run.workers.world > 1:
        raise ConfigError("sft.stop_at needs a single worker: DiLoCo workers must all run the same steps")
    metrics = Metrics(run.out / "metrics.jsonl", run.step)
    examples = jsonl_examples(run, cfg.data) if cfg.data else None
    loss_fn = packed_loss if cfg.pack else sequence_loss
    val_accuracy = 0.0
    data = batches(run, examples)
    with progress(config.run.progress, cfg.steps, "sft", config.run.progress_every) as bar:
        bar.update(0, completed=run.step)
        while run.step < cfg.steps:
            batch = next(data)
            total = sum(len(c) for _, c in batch)
            run.policy.model.train()
            loss_value = 0.0
            for start in range(0, len(batch), cfg.micro_batch_size):
                loss = loss_fn(run, batch[start : start + cfg.micro_batch_size], total)
                loss.backward()
                loss_value += loss.item()
            if config.optim.grad_clip:
                torch.nn.utils.clip_grad_norm_(run.policy.model.parameters(), config.optim.grad_clip)
            run.optimizer_step()
            run.step += 1
            record = {"phase": "sft", "step": run.step, "loss": round(loss_value, 5)}
            if cfg.eval_every and run.step % cfg.eval_every == 0 and run.workers.rank == 0:
                run.policy.model.eval()
                name = f"{run.out.name}-step-{run.step}"
                log = run.out / "val" / f"step-{run.step}.jsonl"
                result = evaluate(config, run.env, run.policy, name, cfg.val_tasks, config.env.eval_seed + 1, log)
                val_accuracy = record["val_accuracy"] = result.accuracy
            metrics.log(**record)
            stats = f"loss {loss_value:.3f} · val acc {val_accuracy:.1%}"
            bar.update(bar.task_ids[0], completed=run.step, stats=stats)
            if config.run.save_every and run.step % config.run.save_every == 0:
                run.checkpoint()
            if cfg.stop_at and val_accuracy >= cfg.stop_at:
                break
    run.workers.finish(run.policy.model, run.out)
    run.checkpoint()
    model = run.save_model()
    plot_curves(read_metrics(metrics.path), run.out / "curve.png", f"SFT on {run.env.spec}")
    return SFTResult(model, run.step, val_accuracy, metrics.log(phase="sft", step=run.step, done=True)["time_s"])


__all__ = ["SFTResult", "batches", "jsonl_examples", "train_sft"]
