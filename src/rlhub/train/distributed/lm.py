"""The small language-modelling workload used to test and benchmark distributed training:
`a+b=c` and `a-b=c` lines with 1 to `digits`-digit operands, over a 17-symbol character vocabulary,
and a tiny GPT. Loss is measured on the answer (`c` and the newline), the part a model can learn; the
operands are random by design. Mixing lengths and operations gives many sub-skills that are learnt at
different times, so the loss falls smoothly instead of in one sudden jump that would make a comparison
of two runs a coin toss.
"""

from __future__ import annotations

import hashlib

import torch

VOCAB = "0123456789+-=\n#"  # '#' pads
PAD = VOCAB.index("#")
EQUALS = VOCAB.index("=")


def encode(text: str) -> list[int]:
    return [VOCAB.index(c) for c in text]


def line(index: int, digits: int) -> str:
    """Sample `index` of the stream: a pure function of the index, so every worker can find its shard."""
    h = int.from_bytes(hashlib.blake2b(index.to_bytes(8, "little"), digest_size=16).digest(), "little")
    width_a, width_b = 1 + h % digits, 1 + (h >> 4) % digits
    a, b = (h >> 8) % 10**width_a, (h >> 48) % 10**width_b
    return f"{a}-{b}={a - b}\n" if (h >> 100) % 2 else f"{a}+{b}={a + b}\n"


def batch(indices: list[int], digits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and labels (-100 everywhere except the answer after '=')."""
    width = 3 * digits + 5
    ids = torch.full((len(indices), width), PAD, dtype=torch.long)
    labels = torch.full((len(indices), width), -100, dtype=torch.long)
    for row, index in enumerate(indices):
        tokens = encode(line(index, digits))
        ids[row, : len(tokens)] = torch.tensor(tokens)
        start = tokens.index(EQUALS) + 1
        labels[row, start : len(tokens)] = torch.tensor(tokens[start:])
    return ids, labels


def train_indices(step: int, rank: int, world: int, per_worker: int) -> list[int]:
    """The samples worker `rank` trains on at `step`: a disjoint slice of the global batch."""
    first = (step * world + rank) * per_worker
    return [64 * (k // 63) + k % 63 for k in range(first, first + per_worker)]


def validation_indices(n: int) -> list[int]:
    """One index in 64 is held out; `train_indices` never returns them."""
    return [64 * i + 63 for i in range(n)]


class TinyGPT(torch.nn.Module):
    """A minimal pre-norm decoder (learned positions, fused attention): the cheapest honest
    transformer for a 2-core CPU, so distributed runs measure communication, not framework overhead."""

    def __init__(self, hidden: int, layers: int, heads: int, context: int = 32):
        super().__init__()
        self.embed = torch.nn.Embedding(len(VOCAB), hidden)
        self.position = torch.nn.Parameter(torch.zeros(context, hidden))
        layer = torch.nn.TransformerEncoderLayer(
            hidden, heads, 4 * hidden, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(hidden)
        self.head = torch.nn.Linear(hidden, len(VOCAB))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        length = ids.shape[1]
        mask = torch.nn.Transformer.generate_square_subsequent_mask(length)
        x = self.embed(ids) + self.position[:length]
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))


def tiny_model(hidden: int = 96, layers: int = 3, heads: int = 4, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return TinyGPT(hidden, layers, heads)


def loss_of(model: torch.nn.Module, ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy on the labelled (answer) positions."""
    logits = model(ids[:, :-1])
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


__all__ = ["batch", "line", "loss_of", "tiny_model", "train_indices", "validation_indices"]
