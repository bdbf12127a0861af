"""SFT and GRPO as DiLoCo workers. When `torchrun` starts several processes, each one joins the
process group (gloo on CPU, NCCL on GPU), trains on its own shard of the tasks and synchronises its
weights through DiLoCo; one process alone trains exactly as before.

    torchrun --nproc-per-node 2 -m rlhub.cli train sft configs/arithmetic.toml --diloco.inner_steps 20
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from rlhub.train.distributed.comm import CommMeter
from rlhub.train.distributed.diloco import DiLoCo, DilocoConfig, weights_digest


@dataclass
class Workers:
    """This process's place among the workers, and its DiLoCo when there is more than one."""

    rank: int = 0
    world: int = 1
    diloco: DiLoCo | None = None

    def shard(self, step: int) -> int:
        """Which slice of the task stream this worker trains on at `step` (disjoint across workers)."""
        return step * self.world + self.rank

    def out_dir(self, out: Path) -> Path:
        """Rank 0 writes to the run's directory, the other workers to `rank<N>/` inside it."""
        return out / f"rank{self.rank}" if self.rank else out

    def barrier(self) -> None:
        """Wait for every worker (e.g. until rank 0 has created a file the others read)."""
        if self.world > 1:
            dist.barrier()

    def after_optimizer_step(self) -> None:
        if self.diloco is not None:
            self.diloco.after_inner_step()

    def finish(self, model: torch.nn.Module, out: Path) -> None:
        """End every worker on the shared weights and record what travelled (`diloco.json`)."""
        if self.diloco is None:
            return
        self.diloco.finish()
        meter = self.diloco.meter
        record: dict[str, Any] = {"rank": self.rank, "world": self.world, "rounds": self.diloco.rounds}
        record |= {**meter.as_dict(), "weights_sha256": weights_digest(model)}
        (out / "diloco.json").write_text(json.dumps(record, indent=1))

    def state_dict(self) -> dict[str, Any] | None:
        if self.diloco is None:
            return None
        return {"diloco": self.diloco.state_dict(), "meter": self.diloco.meter.as_dict()}

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if self.diloco is not None and state is not None:
            self.diloco.load_state_dict(state["diloco"])
            self.diloco.meter.load(state["meter"])


def join(device: torch.device) -> Workers:
    """Join the process group when `torchrun` started several workers (`WORLD_SIZE` > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Workers()
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Workers(dist.get_rank(), world)


def start_diloco(workers: Workers, model: torch.nn.Module, config: DilocoConfig) -> None:
    if workers.world > 1:
        workers.diloco = DiLoCo(model, config, CommMeter())


__all__ = ["Workers", "join", "start_diloco"]
