"""DDP vs DiLoCo on 2 CPU workers (gloo over loopback), same model, data and total samples.

Runs `rlhub.train.distributed.run` under torchrun for each seed in four arms — DDP (all-reduce every
step); DiLoCo with H = 50 inner steps, with fp32 and with int8 pseudo-gradients (Nesterov outer step);
and DiLoCo with H = 13 and int8 pseudo-gradients averaged plainly, which sends as few bytes as H = 50
in fp32 (50x under DDP) but synchronises four times as often — then compares the median final
validation loss over the seeds and the bytes each worker sent (every collective's payload counted),
and projects wall-clock time at 1 Gbit/s and 100 Mbit/s from measured compute time and bytes.

Why medians over seeds: on this workload DDP's own final loss moves by about 20% between seeds, ten
times the 2% gap being measured.

    python bench/diloco.py            # 1,500 steps x 3 seeds x 4 arms, about 10 minutes on 2 cores
    python bench/diloco.py --quick    # a short run to check the plumbing (under a minute)
Last line: JSON with ddp_loss, diloco_loss, loss_gap_pct, bytes_ratio, bytes_ratio_int8 (H = 50) and
the same for the frequent int8 arm (frequent_loss, frequent_gap_pct, frequent_bytes_ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rlhub.train.distributed.comm import projected_seconds

LINKS = {"1 Gbit/s": (1e9, 0.001), "100 Mbit/s": (1e8, 0.02)}
NESTEROV = ["--outer-lr", "0.8", "--outer-momentum", "0.6"]
ARMS = {
    "DDP": ["--mode", "ddp"],
    "DiLoCo H=50": ["--mode", "diloco", "--inner-steps", "50", *NESTEROV],
    "DiLoCo H=50 int8": ["--mode", "diloco", "--inner-steps", "50", *NESTEROV, "--compression", "int8"],
    "DiLoCo H=13 int8": ["--mode", "diloco", "--inner-steps", "13", "--compression", "int8",
                         "--outer-lr", "1.0", "--outer-momentum", "0"],
}  # fmt: skip
"""Arm name -> arguments of `rlhub.train.distributed.run` (outer settings: the best found, docs/distributed.md)."""


def run(out: Path, args: list[str]) -> dict[str, object]:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "rlhub.train.distributed.run", "--out", str(out), *args]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    return json.loads((out / "result.json").read_text())


def last_quarter_drop(out: Path) -> float:
    """How much DDP's validation loss still fell over the last quarter (so the task is not saturated)."""
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    vals = [(r["step"], r["val_loss"]) for r in records if "val_loss" in r]
    final_step = vals[-1][0]
    at_three_quarters = min(vals, key=lambda sv: abs(sv[0] - 0.75 * final_step))[1]
    return at_three_quarters - vals[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--seeds", default=None, help="Comma-separated model/data seeds (default 0,1,2; --quick: 0).")
    args = parser.parse_args()
    steps = args.steps or (100 if args.quick else 1500)
    seeds = [int(s) for s in (args.seeds or ("0" if args.quick else "0,1,2")).split(",")]
    size = ["--hidden", "32", "--layers", "1", "--val-size", "128"] if args.quick else []
    results: dict[str, list[dict[str, object]]] = {name: [] for name in ARMS}
    drops = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for name, arm in ARMS.items():
                out = Path(tmp) / f"{name.replace(' ', '_')}-{seed}"
                common = ["--steps", str(steps), "--log-every", "50", "--seed", str(seed), *size]
                results[name].append(run(out, [*common, *arm]))
                if name == "DDP":
                    drops.append(last_quarter_drop(out))

    def loss(name: str) -> float:
        return statistics.median(float(r["val_loss"]) for r in results[name])  # type: ignore[arg-type]

    def sent(name: str) -> int:
        return int(results[name][0]["bytes_sent"])  # type: ignore[call-overload]

    def gap(name: str) -> float:
        return round(100 * (loss(name) - loss("DDP")) / loss("DDP"), 2)

    compute_s = statistics.median(float(r["wall_s"]) for r in results["DiLoCo H=50"])  # type: ignore[arg-type]
    print(f"{'mode (median of ' + str(len(seeds)) + ')':<20}{'val loss':>10}{'gap':>8}{'MB sent':>10}{'calls':>7}"
          + "".join(f"{k:>12}" for k in LINKS))  # fmt: skip
    for name in ARMS:
        calls = int(results[name][0]["calls"])  # type: ignore[call-overload]
        projections = [projected_seconds(compute_s, sent(name), calls, bps, latency) for bps, latency in LINKS.values()]
        print(f"{name:<20}{loss(name):>10.4f}{gap(name):>7.1f}%{sent(name) / 1e6:>10.2f}{calls:>7}"
              + "".join(f"{p:>11.0f}s" for p in projections))  # fmt: skip
    summary = {
        "ddp_loss": round(loss("DDP"), 4),
        "diloco_loss": round(loss("DiLoCo H=50"), 4),
        "diloco_int8_loss": round(loss("DiLoCo H=50 int8"), 4),
        "loss_gap_pct": gap("DiLoCo H=50"),
        "bytes_ratio": round(sent("DDP") / sent("DiLoCo H=50"), 1),
        "bytes_ratio_int8": round(sent("DDP") / sent("DiLoCo H=50 int8"), 1),
        "frequent_loss": round(loss("DiLoCo H=13 int8"), 4),
        "frequent_gap_pct": gap("DiLoCo H=13 int8"),
        "frequent_bytes_ratio": round(sent("DDP") / sent("DiLoCo H=13 int8"), 1),
        "per_seed": {name: [round(float(r["val_loss"]), 4) for r in rs] for name, rs in results.items()},  # type: ignore[arg-type]
        "ddp_last_quarter_drop": round(statistics.median(drops), 4),
        "steps": steps,
        "seeds": seeds,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
