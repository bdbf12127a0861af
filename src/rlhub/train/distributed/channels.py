"""Message passing between a trainer and rollout workers over torch.distributed's TCPStore.

The store is the key-value service torch.distributed itself uses for rendezvous: no extra server,
and it works across machines. Two channels:

- `PolicyChannel`: the trainer publishes weights with a version; workers poll the version (a small
  key) and fetch the blob only when it changed. The version travels inside the blob too, so a worker
  that races a newer publish still knows exactly which policy it holds.
- `RolloutChannel`: workers append batches under increasing slots (an atomic counter); the trainer
  takes slot 0, 1, 2... in order, waiting for a slot that is claimed but not yet written, and deletes
  what it took so the store does not grow.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import torch
from torch.distributed import TCPStore

STOP = "control/stop"


def _dump(value: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _load(blob: bytes) -> Any:
    return torch.load(io.BytesIO(blob), weights_only=False)


class PolicyChannel:
    def __init__(self, store: TCPStore):
        self.store = store
        self.bytes_sent = 0

    def publish(self, version: int, state: dict[str, torch.Tensor]) -> None:
        blob = _dump({"version": version, "state": state})
        self.bytes_sent += len(blob)
        self.store.set("policy/blob", blob)  # type: ignore[arg-type]  # the store takes bytes too
        self.store.set("policy/version", str(version))

    def version(self) -> int:
        if not self.store.check(["policy/version"]):
            return -1
        return int(self.store.get("policy/version"))

    def fetch(self) -> tuple[int, dict[str, torch.Tensor]]:
        data = _load(self.store.get("policy/blob"))
        return data["version"], data["state"]


class RolloutChannel:
    def __init__(self, store: TCPStore):
        self.store = store
        self.next = 0
        self.bytes_sent = 0

    def put(self, batch: Any) -> None:
        blob = _dump(batch)
        self.bytes_sent += len(blob)
        slot = self.store.add("rollouts/claimed", 1) - 1
        self.store.set(f"rollouts/{slot}", blob)  # type: ignore[arg-type]  # the store takes bytes too

    def take(self, timeout_s: float = 600.0) -> Any:
        key = f"rollouts/{self.next}"
        self.store.wait([key], timedelta(seconds=timeout_s))
        batch = _load(self.store.get(key))
        self.store.delete_key(key)
        self.next += 1
        return batch


def stop_requested(store: TCPStore) -> bool:
    return store.check([STOP])


def request_stop(store: TCPStore) -> None:
    store.set(STOP, "1")


__all__ = ["PolicyChannel", "RolloutChannel", "request_stop", "stop_requested"]
