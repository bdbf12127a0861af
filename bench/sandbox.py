"""Executions per second of a trivial Python program: rlhub's pooled sandbox vs a fresh bwrap per run vs
plain subprocess.run (no isolation at all), all with the same concurrency (one thread per CPU), in
alternating rounds; the median round counts. Last line: one JSON object.

    .venv/bin/python bench/sandbox.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rlhub.verify.sandbox import SandboxPool, base_python, bwrap_args, find_bwrap

PROGRAM = "print(sum(range(10)))"
EXPECTED = "45\n"


def fresh_bwrap_argv() -> list[str]:
    """One bwrap per execution with the same binds and namespaces as the pool, as an unprivileged uid."""
    python = base_python()
    args = bwrap_args(find_bwrap(), python, root=True)
    while "--cap-add" in args:  # the pool's fork server needs capabilities; a one-shot program does not
        i = args.index("--cap-add")
        del args[i : i + 2]
    return [*args, "--unshare-user", "--uid", "65534", "--gid", "65534", python, "-I", "-c", PROGRAM]


def rate(execute: Callable[[], str], count: int, threads: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        outputs = list(pool.map(lambda _: execute(), range(count)))
    elapsed = time.perf_counter() - start
    assert outputs == [EXPECTED] * count, outputs[:3]
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer executions (under a minute)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    counts = (
        {"rlhub": 300, "bwrap": 20, "subprocess": 20}
        if args.quick
        else {"rlhub": 2000, "bwrap": 100, "subprocess": 100}
    )
    bwrap_argv = fresh_bwrap_argv()
    python = base_python()

    with SandboxPool(threads) as sandbox:
        contenders: dict[str, Callable[[], str]] = {
            "rlhub": lambda: sandbox.run(PROGRAM, timeout_s=10, memory_mb=256).stdout,
            "bwrap": lambda: subprocess.run(bwrap_argv, capture_output=True, text=True, timeout=30).stdout,
            "subprocess": lambda: (
                subprocess.run([python, "-I", "-c", PROGRAM], capture_output=True, text=True, timeout=30).stdout
            ),
        }
        for execute in contenders.values():  # warm up caches and the pool
            rate(execute, threads * 2, threads)
        rounds: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, execute in contenders.items():
                rounds[name].append(rate(execute, counts[name], threads))
                print(f"{name:>10}: {rounds[name][-1]:8.1f} exec/s", flush=True)

    median = {name: statistics.median(values) for name, values in rounds.items()}
    print(
        json.dumps(
            {
                "exec_per_s": round(median["rlhub"], 1),
                "bwrap_exec_per_s": round(median["bwrap"], 1),
                "subprocess_exec_per_s": round(median["subprocess"], 1),
                "ratio": round(median["rlhub"] / median["bwrap"], 2),
                "threads": threads,
                "rounds": args.rounds,
                "program": PROGRAM,
            }
        )
    )


if __name__ == "__main__":
    main()
