"""DiLoCo: each worker takes H inner optimizer steps on its own data, then the pseudo-gradients
(start-of-round weights minus current weights) are averaged across workers and applied to the
start-of-round weights by an outer optimizer (Nesterov SGD, lr 0.7, momentum 0.9 in the paper). All
workers then continue from the same weights. Communication happens once every H steps.

Streaming (`fragments` > 1, after Streaming DiLoCo, Douillard et al. 2025): the parameters are cut into
F contiguous fragments of about equal size, and fragment f synchronises at steps f*H/F, H + f*H/F, ...
Each fragment still travels once per H steps (the same total bytes), but a synchronisation sends 1/F of
the model, so the peak bandwidth a link must carry drops F-fold.

Pseudo-gradients can be sent as fp32, fp16, or int8 with one scale per block of 1,024 values (gathered, because
summing int8 would overflow); with `error_feedback` the quantisation error is added to the next
round's pseudo-gradient so nothing is lost for good.

Usage in any training loop:

    diloco = DiLoCo(model, DilocoConfig(inner_steps=50), meter)
    for batch in data:
        loss(model, batch).backward(); inner_opt.step(); inner_opt.zero_grad()
        diloco.after_inner_step()        # syncs every H steps
    diloco.finish()                      # every worker ends on the same weights
"""

from __future__ import annotations

import hashlib
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
    fragments: int = 1
    """Streaming: synchronise the model in this many staggered fragments (1 = all at once)."""


BLOCK = 1024


def quantize_int8(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 of a 1-D tensor with one fp32 scale per block of `BLOCK` values."""
    padded = torch.nn.functional.pad(flat, (0, -flat.numel() % BLOCK)).view(-1, BLOCK)
    scale = padded.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
    values = torch.clamp(torch.round(padded / scale), -127, 127).to(torch.int8)
    return values, scale.float()


def dequantize_int8(values: torch.Tensor, scale: torch.Tensor, numel: int) -> torch.Tensor:
    return (values.float() * scale).flatten()[:numel]


def weights_digest(model: torch.nn.Module) -> str:
    """A hash of every weight's bytes: equal digests mean bit-identical models (workers in sync)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def split_evenly(sizes: list[int], parts: int) -> list[list[int]]:
    """Cut a sequence of tensor sizes into `parts` contiguous groups of about equal total size."""
    total, running = sum(sizes), 0
    groups: list[list[int]] = [[] for _ in range(parts)]
    for index, size in enumerate(sizes):
        groups[min(parts - 1, running * parts // total)].append(index)
        running += size
    if any(not group for group in groups):
        raise ValueError(f"cannot cut {len(sizes)} tensors into {parts} non-empty fragments")
    return groups


class _Fragment:
    """The parameters synchronised together, their start-of-round copy and their outer optimizer."""

    def __init__(self, params: list[torch.nn.Parameter], config: DilocoConfig, offset: int):
        self.params = params
        self.offset = offset
        self.anchor = [p.detach().clone() for p in params]
        self.outer = torch.optim.SGD(
            self.anchor,
            lr=config.outer_lr,
            momentum=config.outer_momentum,
            nesterov=config.nesterov and config.outer_momentum > 0,
        )
        size = sum(p.numel() for p in params)
        self.residual = torch.zeros(size, device=params[0].device) if config.error_feedback else None
        self.last_sync = 0


class DiLoCo:
    def __init__(self, model: torch.nn.Module, config: DilocoConfig, meter: CommMeter):
        self.model = model
        self.config = config
        self.meter = meter
        self.params = [p for p in model.parameters() if p.requires_grad]
        self._check_same_start()
        groups = split_evenly([p.numel() for p in self.params], config.fragments)
        self.fragments = [
            _Fragment([self.params[i] for i in group], config, f * config.inner_steps // config.fragments)
            for f, group in enumerate(groups)
        ]
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
        """Count an inner step; synchronise the fragments whose turn it is. Returns True when any did."""
        self.step += 1
        if self.step <= self.config.warmup_steps:
            self._average_weights()
            return True
        since_warmup = self.step - self.config.warmup_steps
        due = [f for f in self.fragments if since_warmup % self.config.inner_steps == f.offset]
        for fragment in due:
            self._sync(fragment)
        if due and due[-1] is self.fragments[-1]:
            self.rounds += 1
        return bool(due)

    def finish(self) -> None:
        """Synchronise every fragment not synchronised at this step, so all workers end on shared weights."""
        for fragment in self.fragments:
            if fragment.last_sync != self.step:
                self._sync(fragment)

    @torch.no_grad()
    def _average_weights(self) -> None:
        flat = self.meter.all_reduce_mean(torch.cat([p.data.flatten() for p in self.params]))
        offset = 0
        for fragment in self.fragments:
            for p, anchor in zip(fragment.params, fragment.anchor, strict=True):
                p.data.copy_(flat[offset : offset + p.numel()].view_as(p))
                anchor.copy_(p.data)
                offset += p.numel()

    @torch.no_grad()
    def _sync(self, fragment: _Fragment) -> None:
        """Average a fragment's pseudo-gradients, take one outer step, reset every worker to the new
        weights. The fragment travels as one flat buffer: one collective, not one per tensor."""
        pairs = list(zip(fragment.params, fragment.anchor, strict=True))
        delta = torch.cat([(anchor - p.data).flatten() for p, anchor in pairs])
        if fragment.residual is not None:
            delta += fragment.residual
        averaged = self._average(delta)
        if fragment.residual is not None:
            fragment.residual = delta - self._roundtrip(delta)
        offset = 0
        for anchor in fragment.anchor:
            anchor.grad = averaged[offset : offset + anchor.numel()].view_as(anchor).clone()
            offset += anchor.numel()
        fragment.outer.step()
        fragment.outer.zero_grad(set_to_none=True)
        for p, anchor in pairs:
            p.data.copy_(anchor)
        fragment.last_sync = self.step

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
            "fragments": [
                {
                    "anchor": [a.clone() for a in f.anchor],
                    "outer": f.outer.state_dict(),
                    "residual": f.residual,
                    "last_sync": f.last_sync,
                }
                for f in self.fragments
            ],
            "step": self.step,
            "rounds": self.rounds,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for fragment, saved in zip(self.fragments, state["fragments"], strict=True):
            for anchor, value in zip(fragment.anchor, saved["anchor"], strict=True):
                anchor.copy_(value)
            fragment.outer.load_state_dict(saved["outer"])
            fragment.residual = saved["residual"]
            fragment.last_sync = saved["last_sync"]
        self.step = state["step"]
        self.rounds = state["rounds"]


__all__ = [
    "Compression",
    "DiLoCo",
    "DilocoConfig",
    "dequantize_int8",
    "quantize_int8",
    "split_evenly",
    "weights_digest",
]
