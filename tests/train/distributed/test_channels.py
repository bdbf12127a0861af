"""The trainer/worker channels over a real TCPStore on loopback, with workers in threads."""

from __future__ import annotations

import socket
import threading

import torch
from torch.distributed import TCPStore

from rlhub.train.distributed.channels import PolicyChannel, RolloutChannel, request_stop, stop_requested


def _store_pair() -> tuple[TCPStore, TCPStore]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = TCPStore("127.0.0.1", port, 2, is_master=True, wait_for_workers=False)
    client = TCPStore("127.0.0.1", port, 2, is_master=False)
    return server, client


def test_policy_versions_travel_with_their_weights() -> None:
    trainer_store, worker_store = _store_pair()
    trainer, worker = PolicyChannel(trainer_store), PolicyChannel(worker_store)
    assert worker.version() == -1
    trainer.publish(3, {"w": torch.ones(2)})
    version, state = worker.fetch()
    assert worker.version() == version == 3 and torch.equal(state["w"], torch.ones(2))
    assert trainer.bytes_sent > 0


def test_rollouts_from_many_workers_arrive_once_each_in_slot_order() -> None:
    trainer_store, _ = _store_pair()
    port = trainer_store.port
    per_worker, workers = 20, 3

    def produce(worker: int) -> None:
        channel = RolloutChannel(TCPStore("127.0.0.1", port, 2, is_master=False))
        for i in range(per_worker):
            channel.put({"worker": worker, "i": i})

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    channel = RolloutChannel(trainer_store)
    got = [channel.take(timeout_s=30) for _ in range(per_worker * workers)]
    for thread in threads:
        thread.join()
    assert sorted((b["worker"], b["i"]) for b in got) == [(w, i) for w in range(workers) for i in range(per_worker)]
    for w in range(workers):  # each worker's own batches stay in its order
        assert [b["i"] for b in got if b["worker"] == w] == list(range(per_worker))
    assert not trainer_store.check(["rollouts/0"])  # taken slots are deleted


def test_stop_flag() -> None:
    trainer_store, worker_store = _store_pair()
    assert not stop_requested(worker_store)
    request_stop(trainer_store)
    assert stop_requested(worker_store)
