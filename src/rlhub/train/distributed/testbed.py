"""An emulated wide-area network on one Linux machine (needs root, `ip` and `tc`): each worker gets its
own network namespace, joined to a hub namespace's bridge by a veth pair, with the link's bandwidth
shaped by a `tbf` qdisc at both ends (upload and download). Nothing outside the namespaces is reached.

    with Testbed(workers=2, mbit=100) as bed:
        bed.popen(0, ["python", "-m", ...], env={...})   # runs inside worker 0's namespace
        bed.addr(0)                                      # '10.77.0.1'; the hub (coordinator) is bed.hub_addr

Latency is not emulated: these kernels lack `netem`, so only bandwidth is shaped (a delaying TCP relay
would be the way to add it). Every run's namespaces carry a random id, so parallel runs never collide,
and teardown (kill every process inside, delete the namespaces, which removes their veths and qdiscs)
runs on exit, exceptions, Ctrl-C and SIGTERM. `python -m rlhub.train.distributed.testbed cleanup`
removes what a SIGKILLed run left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import Any

PREFIX = "rlwan-"
SUBNET = "10.77.0"
HUB_HOST = 254


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def namespaces() -> list[str]:
    """Every network namespace on the machine (`ip netns list`)."""
    listed = subprocess.run(["ip", "netns", "list"], check=True, capture_output=True, text=True).stdout
    return [line.split()[0] for line in listed.splitlines() if line.strip()]


def tbf_args(mbit: float) -> list[str]:
    """A token bucket at `mbit`: a burst of 10 ms of traffic (at least one 64 KiB GSO segment), and a
    queue of 50 ms before drops, so TCP sees a realistic bottleneck rather than loss."""
    burst = max(65536, int(mbit * 1e6 / 8 / 100))
    return ["tbf", "rate", f"{mbit}mbit", "burst", str(burst), "latency", "50ms"]


class Testbed:
    """Worker namespaces `<prefix><id>-w<i>` with address 10.77.0.<i+1>, a hub namespace `<prefix><id>-hub`
    (bridge, and the coordinator's address 10.77.0.254), every link shaped to `mbit` (None: unshaped)."""

    __test__ = False  # not a pytest class

    def __init__(self, workers: int, mbit: float | None, prefix: str = PREFIX, pin: bool = False):
        if not 1 <= workers <= 200:
            raise ValueError(f"workers must be 1 to 200, not {workers}")
        self.workers = workers
        self.mbit = mbit
        self.pin = pin
        self.name = f"{prefix}{secrets.token_hex(4)}"
        self.hub = f"{self.name}-hub"
        self.created: list[str] = []
        self._old_sigterm: signal._HANDLER = None

    def ns(self, worker: int) -> str:
        return f"{self.name}-w{worker}"

    def addr(self, worker: int) -> str:
        return f"{SUBNET}.{worker + 1}"

    @property
    def hub_addr(self) -> str:
        return f"{SUBNET}.{HUB_HOST}"

    def __enter__(self) -> Testbed:
        if threading_main():
            self._old_sigterm = signal.signal(signal.SIGTERM, _raise_exit)
        try:
            self._create()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.teardown()

    def _create(self) -> None:
        self._add_ns(self.hub)
        _ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.hub, "addr", "add", f"{self.hub_addr}/24", "dev", "br0")
        _ip("-n", self.hub, "link", "set", "br0", "up")
        for worker in range(self.workers):
            ns, port = self.ns(worker), f"p{worker}"
            self._add_ns(ns)
            _ip("-n", self.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("-n", self.hub, "link", "set", port, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{self.addr(worker)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            if self.mbit is not None:
                for where, device in ((ns, "eth0"), (self.hub, port)):
                    subprocess.run(["tc", "-n", where, "qdisc", "add", "dev", device, "root", *tbf_args(self.mbit)],
                                   check=True, capture_output=True)  # fmt: skip

    def _add_ns(self, ns: str) -> None:
        _ip("netns", "add", ns)
        self.created.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")

    def command(self, worker: int | None, argv: Sequence[str]) -> list[str]:
        """`argv` run inside worker `worker`'s namespace (None: the hub's). With `pin`, worker i runs on
        CPU i (mod the count): namespaces separate the network, not the processors, and two workers
        sharing cores would make each one's compute depend on the other's communication waits."""
        if worker is None:
            return ["ip", "netns", "exec", self.hub, *argv]
        pinned = ["taskset", "-c", str(worker % (os.cpu_count() or 1))] if self.pin else []
        return ["ip", "netns", "exec", self.ns(worker), *pinned, *argv]

    def popen(self, worker: int | None, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start `argv` in a namespace. gloo is pointed at the shaped link: by default it binds the
        address the host name resolves to, which inside a namespace is loopback."""
        env = {**os.environ, "GLOO_SOCKET_IFNAME": "eth0", **kwargs.pop("env", {})}
        return subprocess.Popen(self.command(worker, argv), env=env, **kwargs)

    def torchrun(self, worker: int, args: Sequence[str], port: int = 29400, **kwargs: Any) -> subprocess.Popen[Any]:
        """One node of a torchrun job spanning every worker namespace, with c10d rendezvous hosted by
        worker 0 (`is_host`: torchrun's own guess compares the machine's host name, which resolves outside
        the namespaces, as would each node's address without `--local-addr`)."""
        argv = [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(self.workers), "--nproc-per-node", "1",
                "--rdzv-backend", "c10d", "--rdzv-endpoint", f"{self.addr(0)}:{port}", "--rdzv-id", self.name,
                "--rdzv-conf", f"is_host={int(worker == 0)}", "--local-addr", self.addr(worker), *args]  # fmt: skip
        return self.popen(worker, argv, **kwargs)

    def pids(self, ns: str) -> list[int]:
        listed = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
        return [int(pid) for pid in listed.split()]

    def set_link(self, worker: int, up: bool) -> None:
        """Cut (or restore) a worker's link, as a pulled cable would."""
        _ip("-n", self.ns(worker), "link", "set", "eth0", "up" if up else "down")

    def teardown(self) -> None:
        """Kill every process in this run's namespaces, then delete them (their veths and qdiscs go with
        them). Idempotent; tolerates a half-built testbed."""
        for ns in self.created:
            for pid in self.pids(ns):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(self.pids(ns) for ns in self.created) and time.monotonic() < deadline:
            time.sleep(0.05)
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        left = [ns for ns in namespaces() if ns.startswith(self.name)]
        self.created = []
        if self._old_sigterm is not None and threading_main():
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
        if left:
            raise RuntimeError(f"testbed teardown left namespaces behind: {left}")


def threading_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `with`, which tears the testbed down


def cleanup(prefix: str = PREFIX) -> list[str]:
    """Delete every namespace a testbed with this prefix left behind (after a SIGKILL of its owner)."""
    stale = [ns for ns in namespaces() if ns.startswith(prefix)]
    for ns in stale:
        listed = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
        for pid in listed.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    return stale


SINK = """
import socket, sys, time
server = socket.create_server((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
conn, _ = server.accept()
total, started = 0, None
while chunk := conn.recv(1 << 20):
    started = started or time.perf_counter()
    total += len(chunk)
print(total, time.perf_counter() - started, flush=True)
"""
SOURCE = """
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60) as conn:
    conn.sendall(bytes(int(sys.argv[3])))
"""


def measure_mbit(bed: Testbed, sender: int, receiver: int, megabytes: float = 4.0, port: int = 5201) -> float:
    """Throughput of one TCP transfer of `megabytes` from worker `sender` to worker `receiver`, in Mbit/s,
    timed at the receiver from its first byte to the last."""
    sink = bed.popen(receiver, [sys.executable, "-c", SINK, bed.addr(receiver), str(port)],
                     stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert sink.stdout is not None
        if sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the receiving end of the transfer did not start")
        size = int(megabytes * 1e6)
        subprocess.run(bed.command(sender, [sys.executable, "-c", SOURCE, bed.addr(receiver), str(port), str(size)]),
                       check=True, timeout=120)  # fmt: skip
        received, seconds = sink.stdout.readline().split()
        sink.wait(timeout=30)
    finally:
        sink.kill()
        sink.wait()
    if int(received) != size:
        raise RuntimeError(f"sent {size} bytes, received {received}")
    return int(received) * 8 / float(seconds) / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="build a 2-worker testbed, measure one link, tear it down")
    check.add_argument("--mbit", type=float, default=100.0)
    check.add_argument("--megabytes", type=float, default=8.0)
    sub.add_parser("cleanup", help=f"delete namespaces named {PREFIX}* that a killed run left behind")
    args = parser.parse_args(argv)
    if args.command == "cleanup":
        print("removed:", " ".join(cleanup()) or "nothing")
        return
    with Testbed(2, args.mbit) as bed:
        print(f"{bed.name}: tbf {args.mbit} Mbit/s, measured {measure_mbit(bed, 0, 1, args.megabytes):.1f} Mbit/s")
    print("left behind:", [ns for ns in namespaces() if ns.startswith(bed.name)])


if __name__ == "__main__":
    main()
