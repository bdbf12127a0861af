"""Counted collectives: every payload that crosses the network is measured, so DDP and DiLoCo are
compared on what really travels, weight broadcasts included.

`bytes_sent` counts each collective's payload once per call (the tensor a worker contributes); ring
all-reduce moves about 2(W-1)/W times that on the wire, the same factor for every mode compared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.distributed as dist


@dataclass
class CommMeter:
    bytes_sent: int = 0
    calls: int = 0

    def count(self, tensor: torch.Tensor) -> None:
        self.bytes_sent += tensor.numel() * tensor.element_size()
        self.calls += 1

    def all_reduce_mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """Average `tensor` across workers in place."""
        self.count(tensor)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor /= dist.get_world_size()
        return tensor

    def all_gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        self.count(tensor)
        out = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(out, tensor)
        return out

    def broadcast(self, tensor: torch.Tensor, src: int = 0) -> torch.Tensor:
        self.count(tensor)
        dist.broadcast(tensor, src=src)
        return tensor

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def load(self, counts: dict[str, int]) -> None:
        """Continue counting from a checkpoint's `as_dict()` (in place: hooks hold this meter)."""
        self.bytes_sent, self.calls = counts["bytes_sent"], counts["calls"]


def projected_seconds(compute_s: float, bytes_sent: int, calls: int, link_bits_per_s: float, latency_s: float) -> float:
    """Wall-clock estimate on a slower link: compute plus transfer time plus per-call latency.
    Communication is assumed not to overlap compute (true for plain DDP on CPU and for DiLoCo's sync)."""
    return compute_s + bytes_sent * 8 / link_bits_per_s + calls * latency_s


__all__ = ["CommMeter", "projected_seconds"]
