"""DiLoCo: each worker takes H inner optimizer steps on its own data, then the pseudo-gradients
(start-of-round weights minus current weights) are averaged across workers and applied to the
start-of-round weights by an outer optimizer (Nesterov SGD, lr 0.7, momentum 0.9 in the paper). All
workers then continue from the same weights. Communication happens once every H steps.

Pseudo-gradients can be sent as fp32, fp16, or int8 with one scale per block of 1,024 values (gathered, because
summing int8 would overflow); with `error_feedback` the quantisation error is added to the next
round's pseudo-gradient so nothing is lost for good.

Usage in any training loop:

    diloco = DiLoCo(model, DilocoConfig(inner_steps=50), meter)
    for batch in data:
        loss(model, batch).backward(); inner_opt.step(); inner_opt.zero_grad()
        diloco.after_inner_step()        # syncs every H steps
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.distributed as dist

from rlhub.train.distributed.comm import CommMeter

Compression = Literal["none", "fp16", "int8"]


@dataclass
class DilocoConfig:
    inner_steps: int = 50
    """H: inner optimizer steps between synchronisations."""
    outer_lr: float = 0.7
    """Outer learning rate applied to the averaged pseudo-gradient (1.0 without momentum = plain averaging)."""
    outer_momentum: float = 0.9
    """Outer (Nesterov) momentum."""
    nesterov: bool = True
    """Nesterov momentum (ignored when `outer_momentum` is 0)."""
    compression: Compression = "none"
    """How pseudo-gradients travel: fp32 ('none'), fp16, or int8 with a scale per 1,024 values."""
    error_feedback: bool = False
    """Carry the quantisation error into the next round (only matters with compression)."""
    warmup_steps: int = 0
    """Synchronise every step (H = 1, plain averaging) for this many first steps: workers start
    together off the initial plateau before drifting apart for H steps."""


BLOCK = 1024


def quantize_int8(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 of a 1-D tensor with one fp32 scale per block of `BLOCK` values."""
    padded = torch.nn.functional.pad(flat, (0, -flat.numel() % BLOCK)).view(-1, BLOCK)
    scale = padded.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
    values = torch.clamp(torch.round(padded / scale), -127, 127).to(torch.int8)
    return values, scale.float()


def dequantize_int8(values: torch.Tensor, scale: torch.Tensor, numel: int) -> torch.Tensor:
    return (values.float() * scale).flatten()[:numel]


class DiLoCo:
    def __init__(self, model: torch.nn.Module, config: DilocoConfig, meter: CommMeter):
        self.model = model
        self.config = config
        self.meter = meter
        self.params = [p for p in model.parameters() if p.requires_grad]
        self._check_same_start()
        self.anchor = [p.detach().clone() for p in self.params]
        self.outer = torch.optim.SGD(
            self.anchor,
            lr=config.outer_lr,
            momentum=config.outer_momentum,
            nesterov=config.nesterov and config.outer_momentum > 0,
        )
        size = sum(p.numel() for p in self.params)
        self.residual: torch.Tensor | None = torch.zeros(size) if config.error_feedback else None
        self.step = 0
        self.rounds = 0

    def _check_same_start(self) -> None:
        """Workers seed their initialisation identically, so no weights need to travel; a checksum
        all-gather (8 bytes) proves it and fails fast when a worker was started differently."""
        checksum = torch.stack([p.detach().double().sum() for p in self.params]).sum().reshape(1)
        sums = self.meter.all_gather(checksum)
        if any(not torch.equal(s, checksum) for s in sums):
            raise RuntimeError("workers start from different weights: seed the model initialisation identically")

    def after_inner_step(self) -> bool:
        """Count an inner step; synchronise when a round ends. Returns True when it synchronised."""
        self.step += 1
        if self.step <= self.config.warmup_steps:
            self._average_weights()
            return True
        if (self.step - self.config.warmup_steps) % self.config.inner_steps == 0:
            self.sync()
            return True
        return False

    @torch.no_grad()
    def _average_weights(self) -> None:
        flat = self.meter.all_reduce_mean(torch.cat([p.data.flatten() for p in self.params]))
        offset = 0
        for p, anchor in zip(self.params, self.anchor, strict=True):
            p.data.copy_(flat[offset : offset + p.numel()].view_as(p))
            anchor.copy_(p.data)
            offset += p.numel()

    @torch.no_grad()
    def sync(self) -> None:
        """Average pseudo-gradients, take one outer step, reset every worker to the new weights.
        All tensors travel as one flat buffer: one collective per round, not one per tensor."""
        delta = torch.cat([(anchor - p.data).flatten() for p, anchor in zip(self.params, self.anchor, strict=True)])
        if self.residual is not None:
            delta += self.residual
        averaged = self._average(delta)
        if self.residual is not None:
            self.residual = delta - self._roundtrip(delta)
        offset = 0
        for anchor in self.anchor:
            anchor.grad = averaged[offset : offset + anchor.numel()].view_as(anchor).clone()
            offset += anchor.numel()
        self.outer.step()
        self.outer.zero_grad(set_to_none=True)
        for p, anchor in zip(self.params, self.anchor, strict=True):
            p.data.copy_(anchor)
        self.rounds += 1

    def _roundtrip(self, delta: torch.Tensor) -> torch.Tensor:
        """What the other workers receive of our delta after compression."""
        if self.config.compression == "fp16":
            return delta.half().float()
        if self.config.compression == "int8":
            return dequantize_int8(*quantize_int8(delta), delta.numel())
        return delta

    def _average(self, delta: torch.Tensor) -> torch.Tensor:
        if self.config.compression == "none":
            return self.meter.all_reduce_mean(delta.clone())
        if self.config.compression == "fp16":
            return self.meter.all_reduce_mean(delta.half()).float()
        values, scale = quantize_int8(delta)
        gathered = self.meter.all_gather(values)
        scales = self.meter.all_gather(scale)
        total = torch.stack([dequantize_int8(v, s, delta.numel()) for v, s in zip(gathered, scales, strict=True)]).sum(
            0
        )
        return total / dist.get_world_size()

    def state_dict(self) -> dict[str, Any]:
        return {
            "anchor": [a.clone() for a in self.anchor],
            "outer": self.outer.state_dict(),
            "residual": self.residual,
            "step": self.step,
            "rounds": self.rounds,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for anchor, saved in zip(self.anchor, state["anchor"], strict=True):
            anchor.copy_(saved)
        self.outer.load_state_dict(state["outer"])
        self.residual = state["residual"]
        self.step = state["step"]
        self.rounds = state["rounds"]


__all__ = ["Compression", "DiLoCo", "DilocoConfig", "dequantize_int8", "quantize_int8"]
