"""Runs untrusted environment code for the hub, in a child process (inside bubblewrap when present).

    python -m rlhub.hub.server.runner check   PKGDIR N          -> JSON `CheckAnswer`
    python -m rlhub.hub.server.runner rescore PKGDIR LOGFILE    -> JSON `RescoreReport` (rlhub.verify.rescore)

PKGDIR is an unpacked wheel; its `rlhub.environments` entry points are imported from it. The last
line of stdout is the answer; everything else the package prints is ignored.
"""

from __future__ import annotations

import sys
from importlib.metadata import PathDistribution
from pathlib import Path
from typing import Any

from rlhub.core.check import CheckReport
from rlhub.core.registry import ENTRY_POINT_GROUP, load_ref, registered
from rlhub.core.types import Frozen


class CheckAnswer(Frozen):
    """What `check` prints: a report per environment the wheel registers, or why there is none."""

    version: int = 1
    reports: tuple[CheckReport, ...] = ()
    error: str = ""


def load_package(pkgdir: Path) -> list[Any]:
    """Import the package's environment entry points; returns the classes they registered."""
    sys.path.insert(0, str(pkgdir))
    before = set(registered(include_installed=False))
    for dist_info in pkgdir.glob("*.dist-info"):
        for entry_point in PathDistribution(dist_info).entry_points.select(group=ENTRY_POINT_GROUP):
            load_ref(entry_point.value)
    return [cls for cls in registered(include_installed=False) if cls not in before]


def check(pkgdir: Path, n: int) -> CheckAnswer:
    from rlhub.core.check import check_env

    classes = load_package(pkgdir)
    if not classes:
        return CheckAnswer(error="the wheel registers no environment (rlhub.environments entry points)")
    return CheckAnswer(
        reports=tuple(check_env(cls(), n=n, target=f"{cls.__module__}:{cls.__qualname__}") for cls in classes)
    )


def rescore(pkgdir: Path, log_path: Path) -> str:
    """The re-score contract applied with the published version's own code; the report as JSON."""
    from rlhub.core.errors import LogError
    from rlhub.core.registry import env_class
    from rlhub.rollout.log import read_log
    from rlhub.verify.rescore import rescore as apply_contract

    try:
        log = read_log(log_path)
    except LogError as exc:
        raise SystemExit(str(exc)) from None  # the hub reports it as an invalid log
    load_package(pkgdir)
    env = env_class(log.header.env)(**log.header.env_config)
    claimed = log.footer.metrics.mean if log.footer else None
    return apply_contract(env, log.rollouts, log.header.env_hash, claimed).model_dump_json()


def main(argv: list[str]) -> None:
    command, pkgdir, arg = argv
    if command == "check":
        answer = check(Path(pkgdir), int(arg)).model_dump_json()
    elif command == "rescore":
        answer = rescore(Path(pkgdir), Path(arg))
    else:
        raise SystemExit(f"unknown command {command!r}")
    sys.stdout.write("\n" + answer + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
