"""SFT warm start to a validation threshold, then GRPO, with held-out evaluations before and after.

Why a threshold and not a step count: on small arithmetic tasks SFT accuracy sits near zero for
hundreds of steps and then jumps, and the jump moves between seeds. Switching to GRPO once held-out
accuracy reaches `sft.stop_at` gives RL a model that is right sometimes — GRPO learns only from groups
whose samples disagree.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from rlhub.core.metrics import Metrics
from rlhub.core.registry import load
from rlhub.train.common import evaluate, plot_curves, read_metrics
from rlhub.train.config import TrainConfig
from rlhub.train.grpo import train_grpo
from rlhub.train.modeling import load_policy
from rlhub.train.sft import train_sft


@dataclass
class PipelineResult:
    sft_model: Path
    grpo_model: Path
    before: Metrics
    after: Metrics
    sft_steps: int
    grpo_steps: int
    sft_seconds: float
    grpo_seconds: float

    def summary(self) -> dict[str, object]:
        return {
            "sft_model": str(self.sft_model),
            "grpo_model": str(self.grpo_model),
            "accuracy_before": self.before.accuracy,
            "accuracy_after": self.after.accuracy,
            "reward_before": self.before.mean,
            "reward_after": self.after.mean,
            "eval_tasks": self.after.tasks,
            "eval_logs": [str(self.sft_model.parent.parent / f"eval-{p}.jsonl") for p in ("sft", "grpo")],
            "sft_steps": self.sft_steps,
            "grpo_steps": self.grpo_steps,
            "sft_seconds": round(self.sft_seconds, 1),
            "grpo_seconds": round(self.grpo_seconds, 1),
        }


def held_out(config: TrainConfig, model: Path, log: Path) -> Metrics:
    """Greedy accuracy of `model` on `env.eval_tasks` test tasks (never trained or validated on),
    run by the rollout engine into a standard rollout log (`rlhub view LOG`, pushable to a hub)."""
    env = load(config.env.id, **config.env.args)
    policy = load_policy(model, config.model.device)
    return evaluate(config, env, policy, model.parent.name, config.env.eval_tasks, config.env.eval_seed, log)


def train_pipeline(config: TrainConfig) -> PipelineResult:
    """`run.out/sft`, `run.out/grpo`, `run.out/summary.json` and `run.out/curve.png` (both phases)."""
    out = Path(config.run.out)
    sft_config = dataclasses.replace(config, run=dataclasses.replace(config.run, out=str(out / "sft")))
    sft = train_sft(sft_config)
    before = held_out(config, sft.model, out / "eval-sft.jsonl")
    if config.run.progress:
        print(f"held-out accuracy after SFT: {before.accuracy:.1%} on {before.tasks} test tasks", flush=True)
    grpo_run = dataclasses.replace(config.run, out=str(out / "grpo"), init_from=str(sft.model))
    grpo = train_grpo(dataclasses.replace(config, run=grpo_run))
    after = held_out(config, grpo.model, out / "eval-grpo.jsonl")
    result = PipelineResult(sft.model, grpo.model, before, after, sft.steps, grpo.steps, sft.seconds, grpo.seconds)
    records = [r for r in read_metrics(out / "sft" / "metrics.jsonl") if "loss" in r]
    records += [{**r, "global_step": r["step"] + sft.steps} for r in read_metrics(out / "grpo" / "metrics.jsonl")]
    records += [
        {"phase": "held-out", "step": sft.steps, "eval_accuracy": before.accuracy},
        {"phase": "held-out", "step": sft.steps + grpo.steps, "eval_accuracy": after.accuracy},
    ]
    plot_curves(
        records, out / "curve.png", f"SFT then GRPO · held-out accuracy {before.accuracy:.1%} → {after.accuracy:.1%}"
    )
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result


__all__ = ["PipelineResult", "held_out", "train_pipeline"]
