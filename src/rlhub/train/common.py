"""What SFT and GRPO share: setup from a config, seeding, optimizer, checkpoints, metrics, the curve
and held-out evaluations.

A checkpoint holds everything a run's future depends on — weights, optimizer and scheduler state,
the step, and the sampling generator's state — so resuming continues bit for bit. The same
checkpoints, metrics writer and learning-rate schedule serve the distributed LM runner.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rlhub.core.env import Environment
from rlhub.core.errors import ConfigError
from rlhub.core.metrics import Metrics as RunMetrics
from rlhub.core.metrics import compute_metrics
from rlhub.core.registry import load
from rlhub.core.types import Sampling
from rlhub.rollout.runner import RolloutConfig, run, run_sync
from rlhub.train.client import LocalModelClient
from rlhub.train.config import TrainConfig, to_dict
from rlhub.train.distributed.workers import Workers, join, start_diloco
from rlhub.train.modeling import Policy, ensure_model, load_policy, pick_device


@dataclass
class Run:
    """A configured run: environment, policy, optimizer, schedule, sampling generator, output dir."""

    config: TrainConfig
    env: Environment
    policy: Policy
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    generator: torch.Generator
    out: Path
    source: Path
    """Where the starting weights came from (the frozen reference for a KL penalty)."""
    workers: Workers
    """This process among the `torchrun` workers (one, unless DiLoCo)."""
    step: int = 0

    def optimizer_step(self) -> None:
        """Apply the accumulated gradients, advance the schedule; DiLoCo synchronises when a round ends."""
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.workers.after_optimizer_step()

    def checkpoint(self) -> None:
        """Save this worker's state for the current step (`Checkpoints`: visible once every worker has)."""
        state = {
            "step": self.step,
            "model": self.policy.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "workers": self.workers.state_dict(),
        }
        Checkpoints(Path(self.config.run.out), self.workers).save(self.step, state)

    def restore(self) -> bool:
        """Load the last complete checkpoint when there is one; True when there was."""
        checkpoints = Checkpoints(Path(self.config.run.out), self.workers)
        step = checkpoints.latest_step()
        if step is None:
            return False
        state, own = checkpoints.load(step, self.policy.device)
        if not own:
            raise ConfigError(f"no checkpoint of rank {self.workers.rank} at step {step}: resume with the same workers")
        self.policy.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.workers.load_state_dict(state.get("workers"))
        self.step = state["step"]
        return True

    def save_model(self, name: str = "model") -> Path:
        """The trained model as a normal HF directory (`out/<name>`), loadable by every command.
        DiLoCo workers end on the same weights, so only rank 0 writes it."""
        path = Path(self.config.run.out) / name
        if self.workers.rank:
            return path
        self.policy.model.save_pretrained(path)
        self.policy.tokenizer.save_pretrained(path)
        return path


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def prepare(
    config: TrainConfig, lr: float | None = None, warmup: int | None = None, workers: Workers | None = None
) -> Run:
    """Load the environment and model, build the optimizer; resume from the checkpoint when asked.
    `workers`: by default, join the DiLoCo workers `torchrun` started (one process: train alone)."""
    if config.run.threads:
        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    workers = workers or join(pick_device(config.model.device))
    env = load(config.env.id, **config.env.args)

    def model_source() -> str:
        return config.run.init_from or str(
            ensure_model(
                config.model.path,
                env,
                config.model.tiny,
                hidden=config.model.hidden,
                layers=config.model.layers,
                heads=config.model.heads,
                seed=config.run.seed,
            )
        )

    if workers.rank == 0:
        model_source()  # creates the tiny model once, before the other workers load it
    workers.barrier()
    source = model_source()
    policy = load_policy(source, config.model.device)
    start_diloco(workers, policy.model, config.diloco)
    optimizer = torch.optim.AdamW(
        policy.model.parameters(), lr=lr or config.optim.lr, weight_decay=config.optim.weight_decay
    )
    scheduler = schedule(optimizer, config.optim.warmup_steps if warmup is None else warmup)
    generator = torch.Generator(device=policy.device).manual_seed(config.run.seed + workers.rank)
    out = workers.out_dir(Path(config.run.out))
    if out.exists() and not config.run.resume:
        (out / "metrics.jsonl").unlink(missing_ok=True)
        if workers.rank == 0:
            Checkpoints(out, workers).clear()
    workers.barrier()  # no worker saves before the stale checkpoints are gone
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(to_dict(config), indent=2))
    run = Run(config, env, policy, optimizer, scheduler, generator, out, Path(source), workers)
    if config.run.resume:
        run.restore()
    return run


def lr_factor(step: int, warmup: int, steps: int = 0, decay: bool = False) -> float:
    """The learning-rate multiplier at `step`: linear warm-up over `warmup` steps, then constant or
    (with `decay`) cosine down to 10% at `steps`."""
    if step < warmup:
        return (step + 1) / warmup
    if not decay:
        return 1.0
    progress = (step - warmup) / max(1, steps - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def schedule(
    optimizer: torch.optim.Optimizer, warmup: int, steps: int = 0, decay: bool = False
) -> torch.optim.lr_scheduler.LambdaLR:
    """Every trainer's schedule (`lr_factor`), stepped once per optimizer step."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, steps, decay))


class Checkpoints:
    """One checkpoint scheme for every trainer: per-worker files for a step in `out/checkpoints/`,
    made visible together by rank 0 writing `latest.json` once every worker has written its own (a
    barrier). A resume therefore never mixes workers from different saves, even after a kill mid-save."""

    def __init__(self, out: Path, workers: Workers):
        self.root = out / "checkpoints"
        self.workers = workers

    def latest_step(self) -> int | None:
        marker = self.root / "latest.json"
        return json.loads(marker.read_text())["step"] if marker.exists() else None

    def save(self, step: int, state: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"rank{self.workers.rank}-step{step}.pt"
        torch.save(state, path.with_suffix(".tmp"))
        os.replace(path.with_suffix(".tmp"), path)
        self.workers.barrier()
        if self.workers.rank == 0:
            previous = self.latest_step()
            (self.root / "latest.tmp").write_text(json.dumps({"step": step}))
            os.replace(self.root / "latest.tmp", self.root / "latest.json")
            if previous is not None and previous != step:
                for old in self.root.glob(f"rank*-step{previous}.pt"):
                    old.unlink(missing_ok=True)

    def load(self, step: int, device: torch.device | str = "cpu") -> tuple[dict[str, Any], bool]:
        """This worker's state at `step`, or rank 0's when this worker is new (second value False)."""
        own = self.root / f"rank{self.workers.rank}-step{step}.pt"
        path = own if own.exists() else self.root / f"rank0-step{step}.pt"
        return torch.load(path, map_location=device, weights_only=False), own.exists()

    def clear(self) -> None:
        """Forget every checkpoint (a fresh run in an old directory)."""
        (self.root / "latest.json").unlink(missing_ok=True)
        for old in self.root.glob("rank*-step*.pt"):
            old.unlink()


def evaluate(
    config: TrainConfig, env: Environment, policy: Policy, name: str, n: int, seed: int, log: Path
) -> RunMetrics:
    """Greedy accuracy of `policy` (called `name`) on test tasks 0 .. n-1 of `seed`, run by the rollout
    engine into the rollout log `log` (`rlhub view LOG`, pushable to a hub); a log already there is
    replaced, since the same name may stand for other weights."""
    client = LocalModelClient(policy, name=name, max_tokens=config.env.max_tokens)
    sampling = Sampling(temperature=0.0, max_tokens=config.env.max_tokens)
    settings = RolloutConfig(
        n=n, concurrency=n, split="test", seed=seed, sampling=sampling, ramp_pause_s=0.0, progress=False
    )
    source = str(Path(config.env.id).resolve()) if Path(config.env.id).exists() else None
    log.unlink(missing_ok=True)
    return compute_metrics(run_sync(run(env, client, settings, log, env_source=source)).rollouts)


class Metrics:
    """Append-only metrics JSONL; on resume, records after the checkpoint's step are dropped."""

    def __init__(self, path: Path, resume_step: int = 0):
        self.path = path
        self.start = time.perf_counter()
        if path.exists():
            kept = [line for line in path.read_text().splitlines() if json.loads(line).get("step", 0) <= resume_step]
            path.write_text("".join(line + "\n" for line in kept))

    def log(self, **record: Any) -> dict[str, Any]:
        record = {**record, "time_s": round(time.perf_counter() - self.start, 3)}
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        return record


def read_metrics(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_curves(records: list[dict[str, Any]], png: Path, title: str = "") -> Path:
    """Loss (left) and reward / accuracy (right) against the step, one line per phase and metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    series: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for r in records:
        for key in ("loss", "reward", "val_accuracy", "eval_accuracy"):
            if key in r:
                xs, ys = series.setdefault((r.get("phase", ""), key), ([], []))
                xs.append(r.get("global_step", r["step"]))
                ys.append(r[key])
    for (phase, key), (xs, ys) in series.items():
        axis = left if key == "loss" else right
        axis.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=f"{phase} {key}".strip())
    left.set(xlabel="step", ylabel="loss", title="loss")
    right.set(xlabel="step", ylabel="reward / accuracy", title="reward and accuracy", ylim=(-0.02, 1.02))
    for axis in (left, right):
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


class PlainProgress:
    """Progress as plain lines, for output that is a file or a pipe (where a live bar shows nothing
    until the run ends): a line every `every` seconds and one at the last step. Same calls as
    rich's `Progress`, as far as the trainers use them."""

    task_ids = (0,)

    def __init__(self, total: int, description: str, every: float):
        self.total, self.description, self.every = total, description, every
        self.start = self.last = time.monotonic()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, task_id: int, completed: int, stats: str | None = None) -> None:
        now = time.monotonic()
        if stats is None or (now - self.last < self.every and completed < self.total):
            return
        self.last = now
        print(f"{self.description} step {completed}/{self.total} · {stats} · {now - self.start:.0f} s", flush=True)


def progress(enabled: bool, total: int, description: str, every: float = 30.0) -> Any:
    """A rich progress bar with a free-text `stats` field (reward, loss, accuracy) on a terminal;
    plain lines every `every` seconds otherwise."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if enabled and not sys.stdout.isatty():
        return PlainProgress(total, description, every)

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[stats]}"),
        disable=not enabled,
        transient=False,
    )
    bar.add_task(description, total=total, stats="")
    return bar


__all__ = [
    "Checkpoints",
    "Metrics",
    "PlainProgress",
    "Run",
    "evaluate",
    "lr_factor",
    "plot_curves",
    "prepare",
    "progress",
    "read_metrics",
    "schedule",
    "seed_everything",
]
