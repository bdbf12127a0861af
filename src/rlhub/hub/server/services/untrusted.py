"""Running uploaded environment code: unpack a wheel, then run `rlhub.hub.server.runner` on it.

The child runs inside bubblewrap (no network, read-only system and Python, private /tmp, own pid
namespace), built from the sandbox's own argument list (`rlhub.verify.sandbox.bwrap_args`). Where
bubblewrap is missing the child is a plain subprocess with a timeout, and the report says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlhub.hub.server.archive import extract
from rlhub.hub.server.config import Limits

RLIMITS = ["prlimit", f"--as={4 << 30}", f"--fsize={1 << 30}", "--core=0", "--"]
"""Applied (util-linux `prlimit`, exec'd, so no fork-time Python code in a threaded server) to the
whole tree: 4 GiB of address space per process, 1 GiB files, no core dumps."""


@dataclass(frozen=True)
class RunResult:
    answer: dict[str, Any] | None
    """The runner's JSON answer, or None when it failed (see `log`)."""
    log: str
    sandboxed: bool


def _sandbox_prefix(pkgdir: Path, extra: tuple[Path, ...]) -> list[str] | None:
    from rlhub.verify.sandbox import SandboxError, bwrap_args, find_bwrap

    try:
        bwrap = find_bwrap()
    except SandboxError:
        return None
    python = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
    args = bwrap_args(bwrap, python, root=False)
    binds = {Path(sys.prefix).resolve()}
    binds |= {Path(p).resolve() for p in sys.path if p and Path(p).is_dir() and not p.startswith("/usr/")}
    for path in sorted(binds):
        args += ["--ro-bind", str(path), str(path)]
    for path in [pkgdir, *extra]:
        args += ["--ro-bind", str(path), str(path)]
    pythonpath = os.pathsep.join(p for p in sys.path if p)
    return [*args, "--setenv", "PYTHONPATH", pythonpath, "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]


def run_untrusted(
    wheel: bytes, filename: str, limits: Limits, command: str, arg: str, timeout_s: float, extra: tuple[Path, ...] = ()
) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="rlhub-pkg-") as tmp:
        pkgdir = Path(tmp) / "pkg"
        pkgdir.mkdir()
        extract(filename, wheel, limits, pkgdir)
        argv = [sys.executable, "-m", "rlhub.hub.server.runner", command, str(pkgdir), arg]
        prefix = _sandbox_prefix(pkgdir, extra)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            done = subprocess.run(
                [*RLIMITS, *(prefix or []), *argv],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return RunResult(None, f"timed out after {timeout_s:.0f} s", prefix is not None)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            return RunResult(None, f"exit status {done.returncode}\n{tail}", prefix is not None)
        try:
            answer = json.loads(lines[-1])
        except json.JSONDecodeError:
            return RunResult(None, f"unreadable answer: {lines[-1][:200]}", prefix is not None)
        return RunResult(answer, done.stderr[-4000:], prefix is not None)


__all__ = ["RunResult", "run_untrusted"]
