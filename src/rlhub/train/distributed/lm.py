"""The small language-modelling workloads used to test and benchmark distributed training, on the
trainers' tiny Llama-style model (`rlhub.train.modeling.tiny_llama`).

- `Arithmetic`: the `rlhub/arithmetic` environment's tasks in its compact `equation` style (`a+b=c` and
  `a-b=c` lines with up to `digits`-digit operands) over a 15-symbol vocabulary, loss on the answer only
  (the operands are random by design). It learns in sudden sub-skill jumps, so
  one run's final loss moves by about 20% with the initialisation seed: good for checking plumbing, too
  noisy to resolve a gap of a few percent.
- `Text`: character-level language modelling on real text, by default the Python standard library's
  top-level modules (every machine with Python has them; nothing is downloaded). Loss falls smoothly, as
  in the pre-training runs DiLoCo was made for, so seeds agree to within about 1.5%.

Both map a sample index to a sample with a pure function, so every worker finds its shard with no
coordination, and hold out one index in 64 for validation (for `Arithmetic`: the environment's test split).
"""

from __future__ import annotations

import hashlib
import sysconfig
from pathlib import Path
from typing import Protocol

import torch

from rlhub.core.registry import load
from rlhub.train.modeling import tiny_llama

VOCAB = "0123456789+-=\n#"  # '#' pads
PAD = VOCAB.index("#")
EQUALS = VOCAB.index("=")


class Workload(Protocol):
    vocab_size: int
    context: int

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and labels (-100 where no loss is taken) for these sample indices."""
        ...


def _hash(index: int) -> int:
    return int.from_bytes(hashlib.blake2b(index.to_bytes(8, "little"), digest_size=16).digest(), "little")


def encode(text: str) -> list[int]:
    return [VOCAB.index(c) for c in text]


class Arithmetic:
    vocab_size = len(VOCAB)

    def __init__(self, digits: int = 3):
        self.env = load("rlhub/arithmetic", digits=digits, operators="+-", style="equation", instruction=False)
        self.context = 3 * digits + 5
        """The longest line, `a+b=c` with c one digit longer than the operands, and the newline."""

    def line(self, index: int) -> str:
        """Sample `index`: a train task, or (held-out indices) test task `index // 64`."""
        task = self.env.task(index // 64, "test") if index % 64 == 63 else self.env.task(index, "train")
        return f"{task.prompt[-1].content}{task.answer}\n"

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and labels (-100 everywhere except the answer after '=')."""
        ids = torch.full((len(indices), self.context), PAD, dtype=torch.long)
        labels = torch.full((len(indices), self.context), -100, dtype=torch.long)
        for row, index in enumerate(indices):
            tokens = encode(self.line(index))
            ids[row, : len(tokens)] = torch.tensor(tokens)
            start = tokens.index(EQUALS) + 1
            labels[row, start : len(tokens)] = torch.tensor(tokens[start:])
        return ids, labels


def stdlib_corpus() -> bytes:
    """The top-level `.py` modules of this interpreter's standard library, in name order (about 4.7 MB)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return b"".join(path.read_bytes() for path in sorted(root.glob("*.py")))


class Text:
    """Windows of `context + 1` bytes (non-ASCII bytes folded to 127). Training windows start at hashed
    offsets in the first 95% of the corpus; validation windows tile the last 5%."""

    vocab_size = 128

    def __init__(self, corpus: bytes, context: int = 32):
        self.context = context
        self.data = torch.frombuffer(bytearray(corpus), dtype=torch.uint8).clamp(max=127).long()
        self.split = int(len(corpus) * 0.95)

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        width = self.context + 1
        starts = [self._start(index, width) for index in indices]
        windows = torch.stack([self.data[s : s + width] for s in starts])
        return windows, windows.clone()

    def _start(self, index: int, width: int) -> int:
        if index % 64 == 63:  # held out
            held_out = (len(self.data) - self.split) // width
            return self.split + (index // 64 % held_out) * width
        return _hash(index) % (self.split - width)


def train_indices(step: int, rank: int, world: int, per_worker: int) -> list[int]:
    """The samples worker `rank` trains on at `step`: a disjoint slice of the global batch."""
    return training_samples((step * world + rank) * per_worker, per_worker)


def training_samples(first: int, count: int) -> list[int]:
    """Training samples number `first` to `first + count - 1` of the stream (held-out indices skipped)."""
    return [64 * (k // 63) + k % 63 for k in range(first, first + count)]


def validation_indices(n: int) -> list[int]:
    """One index in 64 is held out; `train_indices` never returns them."""
    return [64 * i + 63 for i in range(n)]


def tiny_model(workload: Workload, hidden: int = 96, layers: int = 3, heads: int = 4, seed: int = 0) -> torch.nn.Module:
    return tiny_llama(workload.vocab_size, hidden, layers, heads, seed, positions=workload.context)


def loss_of(model: torch.nn.Module, ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy on the labelled positions."""
    logits = model(ids[:, :-1]).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


__all__ = [
    "Arithmetic",
    "Text",
    "Workload",
    "loss_of",
    "stdlib_corpus",
    "tiny_model",
    "train_indices",
    "training_samples",
    "validation_indices",
]
