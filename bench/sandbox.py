"""Executions per second of a trivial Python program: rlhub's pooled sandbox vs a fresh bwrap per run vs
plain subprocess.run (no isolation at all), all with the same concurrency (two threads per CPU), in
alternating rounds; the median round counts. CPU time per execution (all processes involved) is
reported too: unlike throughput, it barely depends on what else the machine is running. (Not for bwrap:
with --unshare-pid, the sandboxed program's CPU time never reaches bwrap's parent's rusage.) rlhub runs
with everything on: seccomp and, where the host allows, cgroups (`limits_tier` in the JSON); the fresh
bwrap has neither, so the ratio is conservative. Beside them, a pool with a runtime of packages (numpy by
default, built from pip's configured index on first use) runs the same program (`runtime_exec_per_s`) and
one that imports numpy (`runtime_import_per_s`).
Last line: one JSON object.

    .venv/bin/python bench/sandbox.py [--quick] [--packages "numpy>=2"]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rlhub.verify.runtime import Runtime
from rlhub.verify.sandbox import SandboxPool, base_python, bwrap_args, find_bwrap, limits_tier

PROGRAM = "print(sum(range(10)))"
IMPORT = "import numpy\nprint(int(numpy.arange(10).sum()))"
"""The same answer from a runtime's package: what importing it costs per execution (no pre-import)."""
EXPECTED = "45\n"


def fresh_bwrap_argv() -> list[str]:
    """One bwrap per execution with the same binds and namespaces as the pool, as an unprivileged uid."""
    python = base_python()
    args = bwrap_args(find_bwrap(), python, root=True)
    while "--cap-add" in args:  # the pool's fork server needs capabilities; a one-shot program does not
        i = args.index("--cap-add")
        del args[i : i + 2]
    return [*args, "--unshare-user", "--uid", "65534", "--gid", "65534", python, "-I", "-c", PROGRAM]


def cpu_seconds() -> float:
    """CPU used so far by this process, its reaped children and every live descendant (the pool's
    bwrap trees, whose fork servers have reaped their executions)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)], times[int(entry)] = int(fields[1]), sum(map(int, fields[11:15])) / tick
    me = os.getpid()

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == me:
                return True
        return False

    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    return total + sum(t for pid, t in times.items() if descends(pid))


def rate(execute: Callable[[], str], count: int, threads: int) -> tuple[float, float]:
    """(executions per second, CPU milliseconds per execution)."""
    start, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(threads) as pool:
        outputs = list(pool.map(lambda _: execute(), range(count)))
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    assert outputs == [EXPECTED] * count, outputs[:3]
    return count / elapsed, 1000 * cpu / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer executions (under a minute)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packages", nargs="+", default=["numpy>=2"], help="the runtime's requirements")
    args = parser.parse_args()
    threads = 2 * (os.cpu_count() or 1)  # the pool's default size; the same concurrency for every contender
    counts = (
        {"rlhub": 300, "rlhub_runtime": 300, "rlhub_import": 20, "bwrap": 20, "subprocess": 20}
        if args.quick
        else {"rlhub": 2000, "rlhub_runtime": 2000, "rlhub_import": 100, "bwrap": 100, "subprocess": 100}
    )
    bwrap_argv = fresh_bwrap_argv()
    python = base_python()

    runtime = Runtime(args.packages)
    start = time.monotonic()
    built = runtime.build()  # from pip's configured index on first use, then the cache
    ready_s = time.monotonic() - start
    print(
        f"runtime {', '.join(built.locked)}: {built.size_bytes / 1e6:.0f} MB, built in {built.build_s:.1f} s",
        flush=True,
    )
    with SandboxPool(threads) as sandbox, SandboxPool(threads, runtime=runtime) as with_packages:
        contenders: dict[str, Callable[[], str]] = {
            "rlhub": lambda: sandbox.run(PROGRAM, timeout_s=10, memory_mb=256).stdout,
            "rlhub_runtime": lambda: with_packages.run(PROGRAM, timeout_s=10, memory_mb=256).stdout,
            "rlhub_import": lambda: with_packages.run(IMPORT, timeout_s=30, memory_mb=1024).stdout,
            "bwrap": lambda: subprocess.run(bwrap_argv, capture_output=True, text=True, timeout=30).stdout,
            "subprocess": lambda: (
                subprocess.run([python, "-I", "-c", PROGRAM], capture_output=True, text=True, timeout=30).stdout
            ),
        }
        for execute in contenders.values():  # warm up caches and the pool
            rate(execute, threads * 2, threads)
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, execute in contenders.items():
                rounds[name].append(rate(execute, counts[name], threads))
                per_s, cpu_ms = rounds[name][-1]
                cpu_text = f"{cpu_ms:6.2f} ms CPU each" if name != "bwrap" else "(CPU not measurable)"
                print(f"{name:>10}: {per_s:8.1f} exec/s  {cpu_text}", flush=True)

    speed = {name: statistics.median(r for r, _ in values) for name, values in rounds.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in rounds.items()}
    print(
        json.dumps(
            {
                "exec_per_s": round(speed["rlhub"], 1),
                "bwrap_exec_per_s": round(speed["bwrap"], 1),
                "subprocess_exec_per_s": round(speed["subprocess"], 1),
                "ratio": round(speed["rlhub"] / speed["bwrap"], 2),
                "runtime_exec_per_s": round(speed["rlhub_runtime"], 1),
                "runtime_import_per_s": round(speed["rlhub_import"], 1),
                "runtime": list(built.locked),
                "runtime_mb": round(built.size_bytes / 1e6, 1),
                "runtime_ready_s": round(ready_s, 2),
                "cpu_ms_per_exec": round(cpu["rlhub"], 2),
                "subprocess_cpu_ms_per_exec": round(cpu["subprocess"], 2),
                "threads": threads,
                "limits_tier": limits_tier(),
                "load_average": round(os.getloadavg()[0], 1),
                "rounds": args.rounds,
                "program": PROGRAM,
            }
        )
    )


if __name__ == "__main__":
    main()
