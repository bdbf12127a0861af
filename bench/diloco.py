"""DDP vs DiLoCo on 2 CPU workers (gloo over loopback), same model, data and total samples.

Runs `rlhub.train.distributed.run` under torchrun three times — DDP (all-reduce every step), DiLoCo
with H inner steps, and DiLoCo with H and int8 pseudo-gradients — then compares final validation loss
and the bytes each worker sent (every collective's payload counted), and projects wall-clock time at
1 Gbit/s and 100 Mbit/s from the measured compute time and bytes.

    python bench/diloco.py            # 1,500 steps, about as long as three training runs take
    python bench/diloco.py --quick    # a short run to check the plumbing (under a minute)
Last line: JSON with ddp_loss, diloco_loss, loss_gap_pct, bytes_ratio, bytes_ratio_int8.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from rlhub.train.distributed.comm import projected_seconds

LINKS = {"1 Gbit/s": (1e9, 0.001), "100 Mbit/s": (1e8, 0.02)}


def run(mode: str, out: Path, common: list[str], extra: list[str]) -> dict[str, object]:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "rlhub.train.distributed.run", "--mode", mode, "--out", str(out), *common, *extra]  # fmt: skip
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
    parser.add_argument("--inner-steps", type=int, default=50)
    parser.add_argument("--outer-lr", type=float, default=0.8)
    parser.add_argument("--outer-momentum", type=float, default=0.6)
    parser.add_argument("--lr", type=float)
    args = parser.parse_args()
    steps = args.steps or (100 if args.quick else 1500)
    size = ["--hidden", "32", "--layers", "1", "--val-size", "128"] if args.quick else []
    common = ["--steps", str(steps), "--log-every", str(args.inner_steps), *size]
    if args.lr:
        common += ["--lr", str(args.lr)]
    outer = ["--inner-steps", str(args.inner_steps), "--outer-lr", str(args.outer_lr),
             "--outer-momentum", str(args.outer_momentum)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ddp = run("ddp", root / "ddp", common, [])
        diloco = run("diloco", root / "diloco", common, outer)
        int8 = run("diloco", root / "int8", common, [*outer, "--compression", "int8"])
        still_falling = last_quarter_drop(root / "ddp")
    compute_s = float(diloco["wall_s"])  # type: ignore[arg-type]
    print(f"{'mode':<14}{'val loss':>10}{'MB sent':>10}{'calls':>8}" + "".join(f"{k:>14}" for k in LINKS))
    for name, result in (("DDP", ddp), (f"DiLoCo H={args.inner_steps}", diloco), ("DiLoCo int8", int8)):
        projections = [
            projected_seconds(compute_s, int(result["bytes_sent"]), int(result["calls"]), bps, latency)  # type: ignore[call-overload]
            for bps, latency in LINKS.values()
        ]
        print(
            f"{name:<14}{result['val_loss']:>10.4f}{int(result['bytes_sent']) / 1e6:>10.2f}{result['calls']:>8}"  # type: ignore[call-overload]
            + "".join(f"{p:>13.0f}s" for p in projections)
        )
    ddp_loss, diloco_loss = float(ddp["val_loss"]), float(diloco["val_loss"])  # type: ignore[arg-type]
    summary = {
        "ddp_loss": round(ddp_loss, 4),
        "diloco_loss": round(diloco_loss, 4),
        "diloco_int8_loss": round(float(int8["val_loss"]), 4),  # type: ignore[arg-type]
        "loss_gap_pct": round(100 * (diloco_loss - ddp_loss) / ddp_loss, 2),
        "bytes_ratio": round(int(ddp["bytes_sent"]) / int(diloco["bytes_sent"]), 1),  # type: ignore[call-overload]
        "bytes_ratio_int8": round(int(ddp["bytes_sent"]) / int(int8["bytes_sent"]), 1),  # type: ignore[call-overload]
        "ddp_last_quarter_drop": round(still_falling, 4),
        "steps": steps,
        "inner_steps": args.inner_steps,
        "outer_lr": args.outer_lr,
        "outer_momentum": args.outer_momentum,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
