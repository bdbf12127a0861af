"""Running uploaded environment code: unpack a wheel, then run `rlhub.hub.server.runner` on it.

The child runs inside bubblewrap (no network, read-only system and Python, private /tmp, own pid
namespace), built from the sandbox's own argument list (`rlhub.verify.sandbox.bwrap_args`). Where
bubblewrap is missing nothing runs (`NoSandbox`: fail closed), unless the operator allowed plain
subprocesses (`HubConfig.allow_unsandboxed`); the report then says the code ran unsandboxed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from rlhub.hub.server.archive import extract
from rlhub.hub.server.config import HubConfig

RLIMITS = ["prlimit", f"--as={4 << 30}", f"--fsize={1 << 30}", "--core=0", "--"]
"""Applied (util-linux `prlimit`, exec'd, so no fork-time Python code in a threaded server) to the
whole tree: 4 GiB of address space per process, 1 GiB files, no core dumps."""


class NoSandbox(Exception):
    """Bubblewrap is missing and unsandboxed runs are not allowed: the uploaded code was not run."""


def no_sandbox_reason() -> str:
    """Why nothing ran, for version pages and result notes."""
    from rlhub.verify.sandbox import SandboxError, find_bwrap

    try:
        find_bwrap()
    except SandboxError as exc:
        return (
            f"no sandbox on this server: {exc}; the hub runs no uploaded code without one "
            "(an operator who trusts every publisher can allow it: `rlhub serve --allow-unsandboxed`)"
        )
    return ""


Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class RunResult(Generic[Answer]):
    answer: Answer | None
    """The runner's typed answer, or None when it failed or answered something else (see `log`)."""
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
    wheel: bytes,
    filename: str,
    config: HubConfig,
    command: str,
    arg: str,
    timeout_s: float,
    answer: type[Answer],
    extra: tuple[Path, ...] = (),
) -> RunResult[Answer]:
    """Run the runner's `command` on the wheel and read its last line as an `answer`; raises `NoSandbox`
    (before anything is unpacked or started) when there is no sandbox and `config.allow_unsandboxed` is off."""
    with tempfile.TemporaryDirectory(prefix="rlhub-pkg-") as tmp:
        pkgdir = Path(tmp) / "pkg"
        pkgdir.mkdir()
        prefix = _sandbox_prefix(pkgdir, extra)
        if prefix is None and not config.allow_unsandboxed:
            raise NoSandbox(no_sandbox_reason())
        extract(filename, wheel, config.limits, pkgdir)
        argv = [sys.executable, "-m", "rlhub.hub.server.runner", command, str(pkgdir), arg]
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
            parsed = answer.model_validate_json(lines[-1])
        except ValidationError:
            return RunResult(None, f"unreadable answer: {lines[-1][:200]}", prefix is not None)
        return RunResult(parsed, done.stderr[-4000:], prefix is not None)


__all__ = ["NoSandbox", "RunResult", "no_sandbox_reason", "run_untrusted"]
