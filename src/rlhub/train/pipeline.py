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

from rlhub.train.client import LocalModelClient
from rlhub.core.registry import load
from rlhub.train.common import plot_curves, read_metrics
from rlhub.train.config import TrainConfig
from rlhub.train.episodes import EvalResult, evaluate
from rlhub.train.grpo import train_grpo
from rlhub.train.modeling import load_policy
from rlhub.train.sft import train_sft


@dataclass
class PipelineResult:
    sft_model: Path
    grpo_model: Path
    before: EvalResult
    after: EvalResult
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
            "reward_before": self.before.mean_reward,
            "reward_after": self.after.mean_reward,
            "eval_tasks": self.after.tasks,
            "sft_steps": self.sft_steps,
            "grpo_steps": self.grpo_steps,
            "sft_seconds": round(self.sft_seconds, 1),
            "grpo_seconds": round(self.grpo_seconds, 1),
        }


def held_out(config: TrainConfig, model: Path) -> EvalResult:
    """Greedy accuracy of `model` on `env.eval_tasks` test tasks (never trained or validated on)."""
    env = load(config.env.id, **config.env.args)
    client = LocalModelClient(load_policy(model, config.model.device), max_tokens=config.env.max_tokens)
    return evaluate(env, client, "test", config.env.eval_tasks, config.env.eval_seed)


def train_pipeline(config: TrainConfig) -> PipelineResult:
    """`run.out/sft`, `run.out/grpo`, `run.out/summary.json` and `run.out/curve.png` (both phases)."""
    out = Path(config.run.out)
    sft_config = dataclasses.replace(config, run=dataclasses.replace(config.run, out=str(out / "sft")))
    sft = train_sft(sft_config)
    before = held_out(config, sft.model)
    grpo_run = dataclasses.replace(config.run, out=str(out / "grpo"), init_from=str(sft.model))
    grpo = train_grpo(dataclasses.replace(config, run=grpo_run))
    after = held_out(config, grpo.model)
    result = PipelineResult(sft.model, grpo.model, before, after, sft.steps, grpo.steps, sft.seconds, grpo.seconds)
    records = [r for r in read_metrics(out / "sft" / "metrics.jsonl") if "loss" in r]
    records += [{**r, "global_step": r["step"] + sft.steps} for r in read_metrics(out / "grpo" / "metrics.jsonl")]
    records += [
        {"phase": "held-out", "step": sft.steps, "eval_accuracy": before.accuracy},
        {"phase": "held-out", "step": sft.steps + grpo.steps, "eval_accuracy": after.accuracy},
    ]
    plot_curves(records, out / "curve.png", f"SFT then GRPO · held-out accuracy {before.accuracy:.1%} → {after.accuracy:.1%}")
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result


__all__ = ["PipelineResult", "held_out", "train_pipeline"]
