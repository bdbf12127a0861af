"""Data-parallel training of the small LM workload under torchrun, as DDP or DiLoCo.

    torchrun --nproc-per-node 2 -m rlhub.train.distributed.run --mode diloco --out runs/diloco
    torchrun --nnodes 2 --nproc-per-node 1 --rdzv-backend c10d --rdzv-endpoint HEAD:29500 \\
        --max-restarts 3 -m rlhub.train.distributed.run --mode diloco --inner-steps 100 --out /shared/run

Fault tolerance: state is checkpointed after every synchronisation (every round for DiLoCo, every
`checkpoint_every` steps for DDP). When a worker dies, torchrun (with `--max-restarts`) restarts the
group and every worker resumes from the last complete checkpoint; a worker that joins an elastic
group (`--nnodes MIN:MAX`) enters the same way, taking the shared weights and a fresh inner optimizer.
Writes `metrics.jsonl` (rank 0, with `elapsed_s`: wall seconds less validation), `result.json` (final
validation loss, bytes and calls per worker) and `timing-rank<r>.json` (seconds in forward, backward,
optimizer, communication, checkpoints and validation; utilization = compute over wall, validation left out).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.distributed as dist
from rich.console import Console

from rlhub.core.errors import ConfigError
from rlhub.train.common import Checkpoints, Metrics, schedule
from rlhub.train.config import apply_overrides, help_table, parse_overrides
from rlhub.train.distributed import lm
from rlhub.train.distributed.comm import CommMeter
from rlhub.train.distributed.diloco import DiLoCo, DilocoConfig, weights_digest
from rlhub.train.distributed.timing import PhaseTimer
from rlhub.train.distributed.workers import Workers


@dataclass
class DistributedConfig:
    """One DDP or DiLoCo run of the small LM workload: its flags are these fields and DiLoCo's."""

    mode: Literal["ddp", "diloco"] = "diloco"
    """'ddp' (all-reduce gradients every step) or 'diloco'."""
    steps: int = 1500
    """Optimizer steps per worker."""
    batch: int = 64
    """Global batch: each of W workers takes batch / W samples per step."""
    lr: float = 3e-3
    """Inner (AdamW) learning rate, after a linear warm-up of `warmup` steps (the trainers' schedule)."""
    warmup: int = 50
    """Linear learning-rate warm-up steps."""
    decay: bool = False
    """Cosine-decay the inner learning rate to 10% over the run (after the warm-up)."""
    data: Literal["arithmetic", "text"] = "arithmetic"
    """Workload (`lm.py`): 'arithmetic' (a+b=c lines, loss on the answer) or 'text' (character-level
    language modelling on the Python standard library's source)."""
    digits: int = 3
    """Operand digits of the a+b=c lines."""
    context: int = 32
    """Characters per training window of the text workload."""
    hidden: int = 96
    """Width of the tiny Llama-style model (the trainers' `tiny_llama`)."""
    layers: int = 3
    """Transformer layers of the tiny model."""
    seed: int = 0
    """Model initialisation seed (the same on every worker)."""
    val_size: int = 512
    """Held-out samples (windows of the text workload) in the validation loss."""
    log_every: int = 50
    """Steps between metrics records (with the validation loss where weights are in sync)."""
    checkpoint_every: int = 50
    """DDP: steps between checkpoints (DiLoCo checkpoints after every round)."""
    out: str = "runs/distributed"
    """Output directory: metrics, result and checkpoints (shared storage across machines)."""
    diloco: DilocoConfig = field(default_factory=DilocoConfig)


def parse_args(argv: list[str]) -> DistributedConfig:
    """`--field VALUE` for this config's fields and DiLoCo's (`--inner-steps 50`, or `--diloco.inner_steps`),
    parsed like `rlhub train`'s overrides: typed, and a typo or a wrong value names the flag."""
    return apply_overrides(DistributedConfig(), parse_overrides(argv))


@torch.no_grad()
def validation_loss(model: torch.nn.Module, workload: lm.Workload, config: DistributedConfig) -> float:
    ids, labels = workload.batch(lm.validation_indices(config.val_size))
    model.eval()
    loss = float(lm.loss_of(model, ids, labels))
    model.train()
    return loss


def make_workload(config: DistributedConfig) -> lm.Workload:
    if config.data == "text":
        return lm.Text(lm.stdlib_corpus(), config.context)
    return lm.Arithmetic(config.digits)


def _counted_ddp(model: torch.nn.Module, meter: CommMeter, timer: PhaseTimer) -> torch.nn.Module:
    """torch's DDP with a communication hook that counts every gradient bucket it all-reduces and
    marks when it was launched (the end of compute for the last bucket)."""
    from torch.nn.parallel import DistributedDataParallel

    for p in model.parameters():  # DDP broadcasts rank 0's weights on construction
        meter.count(p.data)
    wrapped = DistributedDataParallel(model)

    def hook(state, bucket):  # DDP rejects string annotations on its comm hooks
        buffer = bucket.buffer()
        timer.mark()
        meter.count(buffer)
        buffer.div_(dist.get_world_size())
        work = dist.all_reduce(buffer, async_op=True)
        assert work is not None
        return work.get_future().then(lambda fut: fut.value()[0])

    wrapped.register_comm_hook(None, hook)
    return wrapped


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if {"-h", "--help"} & set(argv):
        Console().print(__doc__)
        Console().print(help_table(DistributedConfig(), "flags (--name VALUE; booleans: true or false)", flat=True))
        return
    try:
        config = parse_args(argv)
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{rank}.pid").write_text(str(os.getpid()))
    workers = Workers(rank, world)
    workload = make_workload(config)
    model = lm.tiny_model(workload, config.hidden, config.layers, seed=config.seed)
    meter = CommMeter()
    timer = PhaseTimer()
    diloco = DiLoCo(model, config.diloco, meter) if config.mode == "diloco" else None
    trained = _counted_ddp(model, meter, timer) if config.mode == "ddp" else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    scheduler = schedule(optimizer, config.warmup, config.steps, config.decay)
    checkpoints = Checkpoints(out, workers)
    start = 0
    resumed = checkpoints.latest_step()
    if resumed is not None:
        state, own = checkpoints.load(resumed)
        model.load_state_dict(state["model"])
        if own:
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["schedule"])
        if diloco is not None:
            diloco.load_state_dict(state["diloco"])
        meter.load(state["meter"])
        start = resumed
    metrics = Metrics(out / "metrics.jsonl", start) if rank == 0 else None
    per_worker = config.batch // world
    began = time.perf_counter()
    timer.started = began
    for step in range(start, config.steps):
        with timer("data"):
            ids, labels = workload.batch(lm.train_indices(step, rank, world, per_worker))
        with timer("forward"):
            loss = lm.loss_of(trained, ids, labels)
        backward_began = time.perf_counter()
        loss.backward()
        timer.split_backward(backward_began)
        with timer("optimizer"):
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        with timer("communication"):
            synced = diloco.after_inner_step() if diloco is not None else True
        done = step + 1
        due = (diloco is not None and synced) or (diloco is None and done % config.checkpoint_every == 0)
        if due and done < config.steps:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": scheduler.state_dict(),
                "diloco": diloco.state_dict() if diloco is not None else None,
                "meter": meter.as_dict(),
            }
            with timer("checkpoint"):
                checkpoints.save(done, state)
        if done % config.log_every == 0 or done == config.steps:
            record = {"step": done, "loss": loss.item(), **meter.as_dict(), "elapsed_s": round(timer.elapsed(), 3)}
            if synced:  # every rank validates, so no rank waits at the next collective for rank 0's
                with timer("validation"):
                    record["val_loss"] = validation_loss(model, workload, config)
            if metrics is not None:
                metrics.log(**record)
    if diloco is not None:
        with timer("communication"):
            diloco.finish()  # end on shared weights
    wall = time.perf_counter() - began
    (out / f"timing-rank{rank}.json").write_text(json.dumps(timer.report()))
    if rank == 0:
        result = {
            "mode": config.mode,
            "world": world,
            "steps": config.steps,
            "val_loss": validation_loss(model, workload, config),
            "bytes_sent": meter.bytes_sent,
            "calls": meter.calls,
            "wall_s": wall,
            "resumed_from": resumed,
            "weights_sha256": weights_digest(model),
            "config": asdict(config),
        }
        (out / "result.json").write_text(json.dumps(result, indent=1))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
