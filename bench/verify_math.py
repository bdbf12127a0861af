"""Math verification: rlhub.verify.math vs math-verify 0.9 on the same unique inputs, one core, one run.

    python bench/verify_math.py [--quick] [--show-errors]

Cases: bench/data/math_heldout.jsonl (response, reference, gold label), deduplicated. The whole run is
pinned to one CPU (children inherit it). math-verify runs in a child process that is killed and
restarted when a case exceeds HANG_S, so a hang cannot stall the bench; its time per case is measured
inside the child (IPC excluded, in its favour). rlhub runs in-process with its reference cache cleared
before every case, so nothing is reused between cases. Both sides are warmed up first (imports, the
symbolic worker). Last line: JSON with throughput_ratio, accuracy, peer_accuracy, hangs.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

HANG_S = 5.0
DATA = Path(__file__).parent / "data" / "math_heldout.jsonl"
WARMUP = [
    ("The answer is $\\boxed{\\frac{1}{2}}$", "0.5"),
    ("so $x = (a+1)^2$", "a^2+2a+1"),
    ("\\boxed{[1,2)}", "[1,2)"),
]


def load(path: Path, quick: bool) -> list[dict[str, object]]:
    seen: set[tuple[str, str]] = set()
    cases = []
    for line in path.read_text().splitlines():
        case = json.loads(line)
        key = (case["response"], case["reference"])
        if key not in seen:
            seen.add(key)
            cases.append(case)
    return cases[::3] if quick else cases


# -- peer: math-verify in a killable child ------------------------------------------------------


def peer_worker() -> None:
    from math_verify import parse, verify

    for line in sys.stdin:
        response, reference = json.loads(line)
        start = time.perf_counter()
        try:
            gold = parse(f"$\\boxed{{{reference}}}$") or parse(reference)
            ok = bool(verify(gold, parse(response)))
        except Exception:
            ok = False
        print(json.dumps([ok, time.perf_counter() - start]), flush=True)


class Peer:
    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--peer-worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        return self.proc

    def check(self, response: str, reference: str) -> tuple[bool, float, bool]:
        """(verdict, seconds, hung)."""
        proc = self.start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps([response, reference]) + "\n")
        proc.stdin.flush()
        if select.select([proc.stdout], [], [], HANG_S)[0]:
            line = proc.stdout.readline()
            if line:
                ok, seconds = json.loads(line)
                return ok, seconds, False
        self.close()
        return False, HANG_S, True

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


# -- run ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help="a JSONL corpus (default: the held-out one)")
    parser.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_worker:
        peer_worker()
        return

    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    from rlhub.verify import math as rmath

    cases = load(args.data, args.quick)
    for response, reference in WARMUP:
        rmath.score(response, reference)
    rmath.shared_worker().call((("num", 1, None), ("num", 1, None), "equal"), 30.0)

    rlhub_time = 0.0
    rlhub_times: list[float] = []
    rlhub_ok = 0
    rlhub_hangs = 0
    rlhub_wrong = []
    for case in cases:
        rmath._parse_reference.cache_clear()
        start = time.perf_counter()
        result = rmath.score(str(case["response"]), str(case["reference"]))
        elapsed = time.perf_counter() - start
        rlhub_time += elapsed
        rlhub_times.append(elapsed)
        rlhub_hangs += elapsed > HANG_S
        predicted = result.value == 1.0
        if predicted == bool(case["label"]):
            rlhub_ok += 1
        else:
            rlhub_wrong.append((case, result.status.value, result.extracted))

    peer = Peer()
    for response, reference in WARMUP:
        peer.check(response, reference)
    peer_time = 0.0
    peer_times: list[float] = []
    peer_ok = 0
    peer_hangs = 0
    peer_wrong = []
    for case in cases:
        ok, seconds, hung = peer.check(str(case["response"]), str(case["reference"]))
        peer_time += seconds
        peer_times.append(-1.0 if hung else seconds)
        peer_hangs += hung
        if ok == bool(case["label"]):
            peer_ok += 1
        else:
            peer_wrong.append(case)
    peer.close()

    n = len(cases)
    if args.show_errors:
        for case, status, extracted in rlhub_wrong:
            print(f"rlhub wrong: label={case['label']} status={status} extracted={extracted!r}")
            print(f"    response={str(case['response'])[-120:]!r} reference={case['reference']!r}")
        for case in peer_wrong:
            print(
                f"peer wrong: label={case['label']} response={str(case['response'])[-100:]!r} ref={case['reference']!r}"
            )
    rlhub_tput, peer_tput = n / rlhub_time, n / peer_time
    # the same ratio over only the cases where the peer did not hang (hangs cost it HANG_S each above)
    kept = [i for i, t in enumerate(peer_times) if t >= 0]
    ratio_no_hangs = sum(peer_times[i] for i in kept) / sum(rlhub_times[i] for i in kept)
    print(f"cases: {n} unique (cpu {cpu} only)")
    print(f"rlhub:       {rlhub_tput:9.1f} cases/s  accuracy {rlhub_ok / n:.3f}  hangs {rlhub_hangs}")
    print(f"math-verify: {peer_tput:9.1f} cases/s  accuracy {peer_ok / n:.3f}  hangs {peer_hangs}")
    result = {
        "throughput_ratio": round(rlhub_tput / peer_tput, 1),
        "throughput_ratio_without_peer_hangs": round(ratio_no_hangs, 1),
        "median_us": round(statistics.median(rlhub_times) * 1e6, 1),
        "peer_median_us": round(statistics.median(t for t in peer_times if t >= 0) * 1e6, 1),
        "accuracy": round(rlhub_ok / n, 4),
        "peer_accuracy": round(peer_ok / n, 4),
        "hangs": rlhub_hangs,
        "peer_hangs": peer_hangs,
        "cases_per_s": round(rlhub_tput, 1),
        "peer_cases_per_s": round(peer_tput, 1),
        "cases": n,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
