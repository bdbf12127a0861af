"""GRPO steps per second: rlhub vs TRL's GRPOTrainer, same model, environment, batch and steps, on CPU
(or both on `--device cuda`).

Both start from the same warm-started tiny model (a short SFT on 1-digit addition from
`rlhub/arithmetic`, or `--init DIR --digits N`, so rewards are neither all 0 nor all 1), then run the
same number of GRPO steps of `prompts` x `group` completions (at most 5 new tokens, temperature 1,
beta 0, DAPO token-level loss, one optimizer step per batch, learning rate 1e-4). Speed excludes each side's first step
(warm-up). `reward_after` is greedy accuracy on held-out test tasks, scored by the same evaluator.

    python bench/grpo.py [--quick]
Last line: JSON with steps_per_s, peer_steps_per_s, ratio, reward_after, peer_reward_after.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

DIGITS = 1
"""Operand digits of the addition tasks (`--digits`)."""
DEVICE = "cpu"
"""Where both sides train (`--device`)."""


def config(out: Path, model: Path, **overrides: object):  # type: ignore[no-untyped-def]
    from rlhub.train.config import load_config

    values = {
        "model.path": str(model),
        "env.id": "rlhub/arithmetic",
        "env.args": f"{{digits = {DIGITS}, instruction = false}}",
        "env.max_tokens": "5",
        "run.out": str(out),
        "run.progress": "false",
        "model.device": DEVICE,
    }
    values.update({k: str(v) for k, v in overrides.items()})
    return load_config(None, values)


def warm_start(work: Path, steps: int) -> Path:
    from rlhub.train.sft import train_sft

    overrides = {"sft.steps": steps, "sft.batch_size": 64, "sft.eval_every": 0, "optim.lr": 3e-3}
    cfg = config(work / "sft", work / "tiny", **overrides)
    cfg.sft.micro_batch_size = 64
    return train_sft(cfg).model


def accuracy(model_dir: Path, tasks: int) -> float:
    from rlhub.core.registry import load
    from rlhub.train.common import evaluate
    from rlhub.train.modeling import load_policy

    env = load("rlhub/arithmetic", digits=DIGITS, instruction=False)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(Path(tmp), model_dir)
        policy = load_policy(model_dir, DEVICE)
        return evaluate(cfg, env, policy, model_dir.parent.name, tasks, 7, Path(tmp) / "eval.jsonl").accuracy


def run_rlhub(work: Path, init: Path, steps: int, prompts: int, group: int) -> tuple[float, Path]:
    from rlhub.train.common import read_metrics
    from rlhub.train.grpo import train_grpo

    overrides = {"grpo.steps": steps, "grpo.prompts": prompts, "grpo.group": group, "grpo.loss": "dapo"}
    cfg = config(work / "rlhub", init, **overrides, **{"run.init_from": str(init), "grpo.lr": 1e-4})
    cfg.grpo.micro_batch_size = prompts * group
    result = train_grpo(cfg)
    times = [r["time_s"] for r in read_metrics(work / "rlhub" / "metrics.jsonl") if r.get("phase") == "grpo"]
    return (len(times) - 1) / (times[-1] - times[0]), result.model


def run_trl(work: Path, init: Path, steps: int, prompts: int, group: int) -> tuple[float, Path]:
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rlhub.core.registry import load
    from rlhub.train.trl_adapter import env_dataset, reward_function

    env = load("rlhub/arithmetic", digits=DIGITS, instruction=False)
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            stamps.append(time.perf_counter())

    args = GRPOConfig(
        output_dir=str(work / "trl"),
        use_cpu=DEVICE == "cpu",
        max_steps=steps,
        per_device_train_batch_size=prompts * group,
        num_generations=group,
        max_completion_length=5,
        temperature=1.0,
        learning_rate=1e-4,
        lr_scheduler_type="constant",
        warmup_steps=0,
        beta=0.0,
        loss_type="dapo",
        logging_steps=steps,
        report_to=[],
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(init),
        processing_class=AutoTokenizer.from_pretrained(init),
        reward_funcs=reward_function(env),
        train_dataset=env_dataset(env, steps * prompts * 2),
        args=args,
        callbacks=[Clock()],
    )
    trainer.train()
    out = work / "trl" / "model"
    trainer.model.save_pretrained(out)
    AutoTokenizer.from_pretrained(init).save_pretrained(out)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Fewer steps (under a minute).")
    parser.add_argument("--steps", type=int, default=None, help="GRPO steps per side.")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--digits", type=int, default=1, help="Operand digits (match --init's training).")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (both sides run there).")
    parser.add_argument("--init", type=Path, default=None, help="Start from this model instead of a fresh warm start.")
    options = parser.parse_args()
    global DIGITS, DEVICE
    DIGITS, DEVICE = options.digits, options.device
    steps = options.steps or (6 if options.quick else 30)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        init = options.init or warm_start(work, 150 if options.quick else 300)
        before = accuracy(init, 200)
        ours, ours_model = run_rlhub(work, init, steps, options.prompts, options.group)
        peer, peer_model = run_trl(work, init, steps, options.prompts, options.group)
        after, peer_after = accuracy(ours_model, 200), accuracy(peer_model, 200)
    result = {
        "steps": steps,
        "batch": options.prompts * options.group,
        "group": options.group,
        "reward_before": before,
        "steps_per_s": round(ours, 3),
        "peer_steps_per_s": round(peer, 3),
        "ratio": round(ours / peer, 2),
        "reward_after": after,
        "peer_reward_after": peer_after,
        "peer": "trl.GRPOTrainer",
        "device": torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
