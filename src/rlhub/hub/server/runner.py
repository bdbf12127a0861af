"""Runs untrusted environment code for the hub, in a child process (inside bubblewrap when present).

    python -m rlhub.hub.server.runner check   PKGDIR N          -> JSON {"reports": [...]}
    python -m rlhub.hub.server.runner rescore PKGDIR LOGFILE    -> JSON {"ok", "reason", "mean", "stderr", "n", ...}

PKGDIR is an unpacked wheel; its `rlhub.environments` entry points are imported from it. The last
line of stdout is the answer; everything else the package prints is ignored.
"""

from __future__ import annotations

import configparser
import json
import sys
from pathlib import Path
from typing import Any

from rlhub.core.registry import ENTRY_POINT_GROUP, load_ref, registered


def load_package(pkgdir: Path) -> list[Any]:
    """Import the package's environment entry points; returns the classes they registered."""
    sys.path.insert(0, str(pkgdir))
    before = set(registered(include_installed=False))
    for entry_points in pkgdir.glob("*.dist-info/entry_points.txt"):
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        parser.read(entry_points)
        if parser.has_section(ENTRY_POINT_GROUP):
            for _, target in parser.items(ENTRY_POINT_GROUP):
                load_ref(target.strip())
    return [cls for cls in registered(include_installed=False) if cls not in before]


def check(pkgdir: Path, n: int) -> dict[str, Any]:
    from rlhub.core.check import check_env

    classes = load_package(pkgdir)
    if not classes:
        return {"reports": [], "error": "the wheel registers no environment (rlhub.environments entry points)"}
    reports = []
    for cls in classes:
        report = check_env(cls(), n=n, target=f"{cls.__module__}:{cls.__qualname__}")
        reports.append(report.model_dump(mode="json"))
    return {"reports": reports}


def rescore(pkgdir: Path, log_path: Path) -> dict[str, Any]:
    """Regenerate every task and score every rollout again; any disagreement with the log is tampering."""
    from rlhub.core.metrics import compute_metrics
    from rlhub.core.registry import env_class
    from rlhub.rollout.log import read_log

    load_package(pkgdir)
    log = read_log(log_path)
    env = env_class(log.header.env)(**log.header.env_config)
    rescored = []
    for rollout in log.rollouts:
        task = env.task(rollout.task.index, rollout.task.split, rollout.task.seed)
        if task != rollout.task:
            return {"ok": False, "reason": f"task {rollout.task.id} differs from the one {env.spec} generates"}
        if rollout.status != "ok" or rollout.score is None:
            rescored.append(rollout.model_copy(update={"score": None}))
            continue
        score = env.score(task, rollout.messages, rollout.info)
        if abs(score.value - rollout.score.value) > 1e-9 or score.status != rollout.score.status:
            return {
                "ok": False,
                "reason": f"rollout {rollout.task.id} sample {rollout.sample} claims reward {rollout.score.value:g} "
                f"({rollout.score.status.value}); the verifier gives {score.value:g} ({score.status.value})",
            }
        rescored.append(rollout.model_copy(update={"score": score}))
    if not rescored:
        return {"ok": False, "reason": "the log has no rollouts"}
    metrics = compute_metrics(rescored)
    if log.footer is not None and abs(log.footer.metrics.mean - metrics.mean) > 1e-6:
        return {
            "ok": False,
            "reason": f"footer claims mean {log.footer.metrics.mean:.6f}, the rollouts give {metrics.mean:.6f}",
        }
    return {
        "ok": True,
        "reason": "",
        "mean": metrics.mean,
        "stderr": metrics.stderr,
        "n": metrics.count,
        "model": log.header.model,
    }


def main(argv: list[str]) -> None:
    command, pkgdir, arg = argv
    if command == "check":
        answer = check(Path(pkgdir), int(arg))
    elif command == "rescore":
        answer = rescore(Path(pkgdir), Path(arg))
    else:
        raise SystemExit(f"unknown command {command!r}")
    sys.stdout.write("\n" + json.dumps(answer) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
