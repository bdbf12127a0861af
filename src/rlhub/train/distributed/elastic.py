"""DiLoCo with workers that come and go, on torchft (its lighthouse for membership and quorum, its
Manager for fault-tolerant all-reduce and for handing a peer's state to a newcomer).

    # the coordinator: membership only, no training data passes through it
    python -m rlhub.train.distributed.elastic lighthouse --bind 0.0.0.0:29510
    # each worker, and any replacement later, the same way (a replica group of one process)
    python -m rlhub.train.distributed.elastic worker --lighthouse http://HEAD:29510 --host MY_ADDR \\
        --replica-id w0 --out DIR --data text --inner-steps 50 ...

A round ends with `start_quorum`: the lighthouse forms the quorum from the live workers (one that died
or lost its link stops heartbeating and is left out; the others never restart), and a newcomer is
healed there with a peer's state (weights at the round's start, outer and inner optimizer state,
progress), fetched over torchft's checkpoint transport. Then one all-reduce of
[w * pseudo-gradient, w], w = 1 for a worker that trained the round and 0 for one that just joined, so
the average is over the workers that trained, and `should_commit`. Every participant then takes the
same outer step. If a peer dies during the all-reduce, nothing is committed and the sync is retried
with a new quorum, keeping the pseudo-gradient: no survivor's round is lost.

Samples: the quorum that starts a round (W workers, this one at position p) cuts it up: at inner step
k the worker trains samples offset + (k*W + p)*B onwards, B per worker, and the offset advances by
H*W*B per round. No sample is trained twice; those of a worker that died mid-round go with its round.
Every worker logs the ranges it trained in `samples-<replica>.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
from torch.distributed import ReduceOp, TCPStore

from rlhub.train.common import lr_factor
from rlhub.train.distributed import lm
from rlhub.train.distributed.comm import CommMeter
from rlhub.train.distributed.diloco import weights_digest
from rlhub.train.distributed.run import DistributedConfig, make_workload, parse_args, validation_loss

MAX_RETRIES = 20
"""Failed synchronisations (a peer lost during the all-reduce) retried in a run before giving up loudly."""


@dataclass
class Progress:
    step: int = 0
    """Inner steps the group has completed: the learning-rate schedule's clock."""
    offset: int = 0
    """First training sample of the current round."""
    world: int = 0
    """Workers that started the current round (0 before the first)."""
    position: int = 0
    """This worker's place among them."""


class ElasticDiLoCo:
    """One worker: a model trained by AdamW for H steps, then synchronised through a torchft Manager."""

    def __init__(self, model: torch.nn.Module, config: DistributedConfig, per_worker: int, min_start: int):
        self.model, self.config, self.per_worker, self.min_start = model, config, per_worker, min_start
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.anchor = [p.detach().clone() for p in self.params]
        d = config.diloco
        self.outer = torch.optim.SGD(self.anchor, lr=d.outer_lr, momentum=d.outer_momentum,
                                     nesterov=d.nesterov and d.outer_momentum > 0)  # fmt: skip
        self.inner = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=0.0)
        self.progress = Progress()
        self.meter = CommMeter()
        self.healed = False
        self.retries = 0
        self.manager: Any = None

    def state_dict(self) -> dict[str, Any]:
        """What a newcomer needs: the round's starting weights, both optimizers and the progress."""
        return {
            "anchor": [a.clone() for a in self.anchor],
            "outer": self.outer.state_dict(),
            "inner": self.inner.state_dict(),
            "progress": asdict(self.progress),
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        for anchor, param, value in zip(self.anchor, self.params, state["anchor"], strict=True):
            anchor.copy_(value)
            param.copy_(value)
        self.outer.load_state_dict(state["outer"])
        self.inner.load_state_dict(state["inner"])
        self.progress = Progress(**state["progress"])
        self.healed = True

    def connect(self, lighthouse: str, host: str, replica_id: str, timeout_s: float) -> None:
        from torchft import Manager, ProcessGroupGloo
        from torchft.checkpointing import HTTPTransport

        class Transport(HTTPTransport[dict[str, Any]]):
            """torchft's checkpoint server, advertised at this worker's address: it names the host
            name, which a peer in another network namespace (or behind NAT) resolves wrongly."""

            def address(self) -> str:
                return f"http://{host}:{self._server.socket.getsockname()[1]}/checkpoint/"

        store = TCPStore(host, 0, is_master=True, wait_for_workers=False)
        self._store = store  # the replica group's own store: it must live as long as the manager
        timeout = timedelta(seconds=timeout_s)
        self.manager = Manager(
            pg=ProcessGroupGloo(timeout=timeout),
            load_state_dict=self.load_state_dict,
            state_dict=self.state_dict,
            min_replica_size=1,
            use_async_quorum=False,
            timeout=timeout,
            quorum_timeout=timedelta(seconds=300),
            connect_timeout=timeout,
            rank=0,
            world_size=1,
            store_addr=host,
            store_port=store.port,
            lighthouse_addr=lighthouse,
            replica_id=replica_id,
            hostname=host,
            init_sync=False,
            checkpoint_transport=Transport(timeout=timeout, num_chunks=0),
        )

    def train_round(self, workload: lm.Workload, log: Any) -> float:
        """H inner steps on this worker's slice of the round's samples; returns the last loss."""
        p, config = self.progress, self.config
        steps = min(config.diloco.inner_steps, config.steps - p.step)
        first = [p.offset + (k * p.world + p.position) * self.per_worker for k in range(steps)]
        log.write(json.dumps({"step": p.step, "world": p.world, "position": p.position, "first": first,
                              "count": self.per_worker}) + "\n")  # fmt: skip
        log.flush()
        loss = torch.tensor(float("nan"))
        for k, start in enumerate(first):
            for group in self.inner.param_groups:
                group["lr"] = config.lr * lr_factor(p.step + k, config.warmup, config.steps, config.decay)
            ids, labels = workload.batch(lm.training_samples(start, self.per_worker))
            loss = lm.loss_of(self.model, ids, labels)
            loss.backward()
            self.inner.step()
            self.inner.zero_grad(set_to_none=True)
        return loss.item()

    @torch.no_grad()
    def sync(self, trained: bool) -> None:
        """End a round with whoever is alive: quorum (healing a newcomer), average, commit, outer step."""
        delta = torch.cat([(a - p).flatten() for p, a in zip(self.params, self.anchor, strict=True)])
        while True:
            self.manager.start_quorum()
            while not self.progress.world and not self.healed and self.manager.num_participants() < self.min_start:
                time.sleep(0.2)  # the first quorum waits for the workers started together
                self.manager.start_quorum()
            weight = 1.0 if trained and not self.healed else 0.0
            payload = torch.cat([delta * weight, torch.tensor([weight])])
            self.meter.count(payload)
            self.manager.allreduce(payload, reduce_op=ReduceOp.SUM).wait()
            if self.manager.should_commit():
                break
            self.retries += 1
            if self.retries > MAX_RETRIES:
                raise RuntimeError(f"no quorum committed after {MAX_RETRIES} tries: {self.manager.errored()}")
        trained_by = float(payload[-1])
        if trained_by > 0:
            offset = 0
            for anchor in self.anchor:
                anchor.grad = (payload[offset : offset + anchor.numel()] / trained_by).view_as(anchor).clone()
                offset += anchor.numel()
            self.outer.step()
            self.outer.zero_grad(set_to_none=True)
        for param, anchor in zip(self.params, self.anchor, strict=True):
            param.copy_(anchor)
        p = self.progress
        if p.world:
            rounds_steps = min(self.config.diloco.inner_steps, self.config.steps - p.step)
            p.offset += rounds_steps * p.world * self.per_worker
            p.step += rounds_steps
        p.world, p.position = self.manager.num_participants(), self.manager.participating_rank()
        self.healed = False


def worker(args: argparse.Namespace, rest: list[str]) -> None:
    config = parse_args(rest)
    if config.mode != "diloco" or config.diloco.fragments != 1 or config.diloco.compression != "none":
        raise SystemExit("elastic workers run plain DiLoCo (fp32, one fragment)")
    torch.set_num_threads(1)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    workload = make_workload(config)
    model = lm.tiny_model(workload, config.hidden, config.layers, seed=config.seed)
    elastic = ElasticDiLoCo(model, config, args.per_worker_batch, args.min_start)
    elastic.connect(args.lighthouse, args.host, args.replica_id, args.timeout)
    began = time.perf_counter()
    samples = (out / f"samples-{args.replica_id}.jsonl").open("a")
    elastic.sync(trained=False)  # join: the first quorum, or healing from a peer at a round's end
    joined_at = elastic.progress.step
    while elastic.progress.step < config.steps:
        loss = elastic.train_round(workload, samples)
        elastic.sync(trained=True)
        if elastic.progress.position == 0:
            val = validation_loss(model, workload, config)
            record = {"step": elastic.progress.step, "loss": loss, "world": elastic.progress.world, "val_loss": val,
                      "elapsed_s": time.perf_counter() - began}  # fmt: skip
            with (out / "metrics.jsonl").open("a") as metrics:
                metrics.write(json.dumps(record) + "\n")
    result = {
        "replica_id": args.replica_id,
        "val_loss": validation_loss(model, workload, config),
        "joined_at_step": joined_at,
        "steps": elastic.progress.step,
        "samples_seen_by_group": elastic.progress.offset,
        "bytes_sent": elastic.meter.bytes_sent,
        "commit_retries": elastic.retries,
        "wall_s": time.perf_counter() - began,
        "weights_sha256": weights_digest(model),
    }
    (out / f"result-{args.replica_id}.json").write_text(json.dumps(result, indent=1))
    elastic.manager.shutdown(wait=False)


def lighthouse(args: argparse.Namespace) -> None:
    """Serve membership until SIGTERM or SIGINT."""
    from torchft._torchft import LighthouseServer

    server = LighthouseServer(bind=args.bind, min_replicas=1, join_timeout_ms=args.join_timeout_ms,
                              heartbeat_timeout_ms=args.heartbeat_timeout_ms)  # fmt: skip
    print(server.address(), flush=True)
    stop = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop:
        time.sleep(0.2)
    server.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("lighthouse", help="serve membership and quorum")
    serve.add_argument("--bind", default="0.0.0.0:29510")
    serve.add_argument("--join-timeout-ms", type=int, default=60_000,
                       help="how long a quorum waits for live workers still in their round")  # fmt: skip
    serve.add_argument("--heartbeat-timeout-ms", type=int, default=2_000,
                       help="a worker silent this long is out of the next quorum")  # fmt: skip
    work = sub.add_parser("worker", help="train; every flag of rlhub.train.distributed.run is accepted after these")
    work.add_argument("--lighthouse", required=True, help="the lighthouse's address, http://HOST:PORT")
    work.add_argument("--host", required=True, help="this worker's address as the others reach it")
    work.add_argument("--replica-id", required=True, help="unique per process: a replacement takes a new one")
    work.add_argument("--per-worker-batch", type=int, default=32)
    work.add_argument("--min-start", type=int, default=1,
                      help="workers the first quorum waits for (started together; 1 for a replacement)")  # fmt: skip
    work.add_argument("--timeout", type=float, default=30.0, help="seconds before a silent peer fails a collective")
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.command == "lighthouse":
        lighthouse(args)
    else:
        worker(args, rest)


if __name__ == "__main__":
    main()
