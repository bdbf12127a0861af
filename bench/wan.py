"""DDP against DiLoCo on emulated wide-area links, measured: two workers, each in its own network
namespace, joined through a bridge by veth links shaped with `tbf` (rlhub.train.distributed.testbed;
needs root). torchrun's c10d rendezvous spans the namespaces and gloo carries the traffic over the
shaped links. No latency is added (the kernel has no `netem`): the links are bandwidth-limited only.

For each link speed, three arms on the text workload (the model and optimizer of bench/diloco.py):
DDP for `--steps`, and DiLoCo at H = 50 (outer Nesterov 0.8 / 0.6) with fp32 and with int8
pseudo-gradients (error feedback) for `--diloco-factor` times as many steps (same per-step batch), so
that DiLoCo can reach DDP's final loss. Reported per arm:
- wall-clock to DDP's final validation loss (validation itself is timed and left out of every clock);
- compute utilization per worker: time in forward, backward and optimizer over wall time (per-phase
  timers in the training loop; DDP's backward is split at its last gradient bucket's launch);
- bytes sent per worker, and the projection (measured compute + bytes / link rate) beside the measured
  wall time.

    python bench/wan.py                        # 100 Mbit/s, 1,500 DDP steps (--steps 600: 5 minutes a link)
    python bench/wan.py --links 100,1000       # and 1 Gbit/s
    python bench/wan.py --quick                # a small model for 100 steps (under a minute)

Last line: JSON with, per link (suffix `_100mbit`, `_1000mbit`), `utilization` (DiLoCo H=50 fp32, mean
of the workers), `speedup_vs_ddp` (DDP's time to its final loss over DiLoCo's time to reach it; null when
DiLoCo did not reach it), the same for int8, every arm's figures, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from rlhub.train.distributed.comm import projected_seconds
from rlhub.train.distributed.testbed import Testbed, measure_mbit

MODEL = ["--data", "text", "--hidden", "64", "--layers", "2", "--lr", "1e-2", "--decay", "true", "--val-size", "1024"]
QUICK_MODEL = ["--data", "text", "--hidden", "32", "--layers", "1", "--lr", "1e-2", "--decay", "true",
               "--val-size", "128"]  # fmt: skip
DILOCO = ["--mode", "diloco", "--inner-steps", "50", "--outer-lr", "0.8", "--outer-momentum", "0.6"]
ARMS = {
    "DDP": ["--mode", "ddp"],
    "DiLoCo H=50": DILOCO,
    "DiLoCo H=50 int8": [*DILOCO, "--compression", "int8", "--error-feedback", "true"],
}


def run_arm(bed: Testbed, out: Path, args: list[str]) -> dict[str, Any]:
    nodes = [bed.torchrun(w, ["-m", "rlhub.train.distributed.run", "--out", str(out), *args],
                          stdout=subprocess.DEVNULL, stderr=(out.parent / f"{out.name}-{w}.log").open("w"))
             for w in range(bed.workers)]  # fmt: skip
    codes = [node.wait(timeout=3600) for node in nodes]
    if codes != [0] * bed.workers:
        raise RuntimeError(f"{out.name}: torchrun exited {codes}; see {out.parent}/{out.name}-*.log")
    result = json.loads((out / "result.json").read_text())
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    timings = [json.loads((out / f"timing-rank{r}.json").read_text()) for r in range(bed.workers)]
    return {
        "val_loss": result["val_loss"],
        "bytes_sent": result["bytes_sent"],
        "calls": result["calls"],
        "curve": [(r["elapsed_s"], r["val_loss"]) for r in records if "val_loss" in r],
        "timings": timings,
    }


def time_to(curve: list[tuple[float, float]], loss: float) -> float | None:
    """Wall seconds (validation excluded) at the first evaluation at or below `loss`."""
    return next((elapsed for elapsed, value in curve if value <= loss), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--links", default="100", help="Link speeds in Mbit/s, comma-separated.")
    parser.add_argument("--steps", type=int, help="DDP steps (default 1,500; --quick: 100).")
    parser.add_argument("--diloco-factor", type=float, default=1.5, help="DiLoCo steps as a multiple of DDP's.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--hidden", type=int, help="Model width (default 64; --quick: 32): wider is more bytes per step."
    )
    args = parser.parse_args()
    steps = args.steps or (100 if args.quick else 1500)
    diloco_steps = round(steps * args.diloco_factor / 50) * 50
    model = [*(QUICK_MODEL if args.quick else MODEL), *(["--hidden", str(args.hidden)] if args.hidden else [])]
    load_before = os.getloadavg()
    summary: dict[str, object] = {"steps_ddp": steps, "steps_diloco": diloco_steps, "seed": args.seed, "model": model}
    with tempfile.TemporaryDirectory() as tmp:
        for mbit in [float(x) for x in args.links.split(",")]:
            tag = f"{mbit:g}mbit"
            arms: dict[str, dict[str, Any]] = {}
            with Testbed(2, mbit, pin=True) as bed:
                measured_link = measure_mbit(bed, 0, 1, megabytes=max(2.0, mbit / 25))
                for name, arm in ARMS.items():
                    n = steps if name == "DDP" else diloco_steps
                    common = [*model, "--steps", str(n), "--log-every", "50", "--seed", str(args.seed)]
                    arms[name] = run_arm(bed, Path(tmp) / f"{tag}-{name.replace(' ', '_')}", [*common, *arm])
            ddp_curve = arms["DDP"]["curve"]
            ddp_loss, ddp_time = float(arms["DDP"]["val_loss"]), ddp_curve[-1][0]
            print(f"\n{mbit:g} Mbit/s link (tbf), measured {measured_link:.1f} Mbit/s by a TCP transfer")
            print(f"{'arm':<18}{'steps':>6}{'val loss':>10}{'MB/worker':>10}{'wall s':>8}{'projected':>10}"
                  f"{'util w0/w1':>12}{'to DDP loss':>12}{'speedup':>9}")  # fmt: skip
            figures: dict[str, dict[str, Any]] = {}
            for name, arm_result in arms.items():
                timings: list[dict[str, Any]] = arm_result["timings"]
                curve: list[tuple[float, float]] = arm_result["curve"]
                wall = max(t["wall_s"] for t in timings)
                compute = max(t["wall_s"] - t["phases_s"].get("communication", 0.0) for t in timings)
                projected = projected_seconds(compute, int(arm_result["bytes_sent"]), 0, mbit * 1e6, 0.0)
                reached = ddp_time if name == "DDP" else time_to(curve, ddp_loss)
                speedup = round(ddp_time / reached, 2) if reached else None
                utilization = [round(float(t["utilization"]), 3) for t in timings]
                figures[name] = {
                    "val_loss": round(float(arm_result["val_loss"]), 4),
                    "gap_to_ddp_pct": round(100 * (float(arm_result["val_loss"]) - ddp_loss) / ddp_loss, 2),
                    "mb_sent_per_worker": round(int(arm_result["bytes_sent"]) / 1e6, 2),
                    "wall_s": round(wall, 1),
                    "projected_s": round(projected, 1),
                    "utilization_per_worker": utilization,
                    "phases_s_worker0": timings[0]["phases_s"],
                    "s_to_ddp_final_loss": round(reached, 1) if reached else None,
                    "speedup_vs_ddp": speedup,
                }
                n = steps if name == "DDP" else diloco_steps
                to = f"{reached:.1f}" if reached else "never"
                print(f"{name:<18}{n:>6}{figures[name]['val_loss']:>10.4f}{figures[name]['mb_sent_per_worker']:>10.2f}"
                      f"{wall:>8.1f}{projected:>10.1f}{'/'.join(f'{u:.0%}' for u in utilization):>12}{to:>12}"
                      f"{speedup if speedup else '-':>9}")  # fmt: skip
            summary[f"link_measured_mbit_{tag}"] = round(measured_link, 1)
            summary[f"utilization_{tag}"] = round(sum(figures["DiLoCo H=50"]["utilization_per_worker"]) / 2, 3)
            summary[f"speedup_vs_ddp_{tag}"] = figures["DiLoCo H=50"]["speedup_vs_ddp"]
            summary[f"utilization_int8_{tag}"] = round(
                sum(figures["DiLoCo H=50 int8"]["utilization_per_worker"]) / 2, 3
            )
            summary[f"speedup_vs_ddp_int8_{tag}"] = figures["DiLoCo H=50 int8"]["speedup_vs_ddp"]
            summary[f"arms_{tag}"] = figures
    summary["load_average_before"] = [round(x, 2) for x in load_before]
    summary["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    summary["machine"] = f"{platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}"
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
