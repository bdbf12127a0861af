"""Runtimes: the Python packages an environment's sandboxed programs may import.

    runtime = rlhub.Runtime(python_packages=["numpy>=2", "pytest"])
    built = runtime.build()    # $RLHUB_HOME/runtimes/<key>: a read-only virtual environment

A requirement set is resolved once with pip against its configured index; the exact versions and the
sha256 of every file go into `requirements.lock` inside the cache entry, and the environment is
installed from that lock with `--require-hashes`, so what runs is exactly what was recorded. The
sandbox mounts the entry read-only at its own path (`rlhub.verify.sandbox`); programs still have no
network. Builds are serialised by a file lock, so threads and processes sharing a cache build once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rlhub.core.errors import RlhubError
from rlhub.hub.schema.constants import rlhub_home

MOUNT = Path("/opt/rlhub/runtime")
"""Where the sandbox mounts a runtime (read-only): a fixed path, so no host path shows or matters inside."""
_LOCK = "requirements.lock"
_DONE = "runtime.json"
"""Written last: an entry without it is a build that did not finish and is rebuilt."""
_PIP = ("--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout", "30")


class RuntimeBuildError(RlhubError):
    """A runtime could not be built: requirements that do not resolve, an unreachable index, pip failing."""


@dataclass(frozen=True)
class Runtime:
    """What an environment's programs need, beyond the standard library. A value: requirements are
    normalised (stripped, sorted, duplicates dropped), so two spellings of one set share one build."""

    python_packages: tuple[str, ...] = field(default=())

    def __init__(self, python_packages: Iterable[str] = ()):
        if isinstance(python_packages, str):
            raise TypeError("python_packages is a list of requirements, not one string")
        object.__setattr__(self, "python_packages", tuple(sorted({" ".join(p.split()) for p in python_packages})))

    def key(self) -> str:
        """The cache key: the requirement set, the sandbox interpreter's version and the machine."""
        material = [list(self.python_packages), platform.python_version(), sys.implementation.name]
        material += [platform.machine(), sys.platform]
        return hashlib.sha256(json.dumps(material).encode()).hexdigest()

    def path(self) -> Path:
        return rlhub_home() / "runtimes" / self.key()

    def build(self) -> BuiltRuntime:
        """The built runtime, from the cache when it is there; builds it otherwise (see the module doc)."""
        if not self.python_packages:
            raise RuntimeBuildError("Runtime() is the standard library: there is nothing to build")
        entry = self.path()
        entry.parent.mkdir(parents=True, exist_ok=True)
        with open(entry.parent / f"{entry.name}.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            if (entry / _DONE).exists():
                return _load(self, entry, cached=True)
            if entry.exists():  # an earlier build that died half-way
                _remove(entry)
            try:
                _build(self, entry)
            except BaseException:
                _remove(entry)
                raise
            return _load(self, entry, cached=False)


@dataclass(frozen=True)
class BuiltRuntime:
    """A runtime on disk: its virtual environment (`prefix`), the exact pins, size and build time."""

    runtime: Runtime
    prefix: Path
    locked: tuple[str, ...]
    size_bytes: int
    build_s: float
    cached: bool

    @property
    def site_packages(self) -> Path:
        return self.prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"

    @property
    def bin(self) -> Path:
        return self.prefix / "bin"


def _load(runtime: Runtime, entry: Path, *, cached: bool) -> BuiltRuntime:
    meta = json.loads((entry / _DONE).read_text())
    return BuiltRuntime(runtime, entry, tuple(meta["locked"]), meta["size_bytes"], meta["build_s"], cached)


def _build(runtime: Runtime, entry: Path) -> None:
    from rlhub.verify.sandbox import base_python  # the interpreter the sandbox runs

    start = time.monotonic()
    _run([base_python(), "-m", "venv", "--without-pip", str(entry)], runtime, "create the virtual environment")
    python = str(entry / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        pip = [sys.executable, "-m", "pip", "--python", python, *_PIP]
        _run([*pip, "install", "--dry-run", "--quiet", "--report", str(report), *runtime.python_packages], runtime, "")
        locked = _lock_lines(json.loads(report.read_text()), runtime)
    (entry / _LOCK).write_text("".join(f"{line}\n" for line in locked))
    install = ["install", "--quiet", "--no-deps", "--require-hashes", "-r", str(entry / _LOCK)]
    _run([sys.executable, "-m", "pip", "--python", python, *_PIP, *install], runtime, "install the locked packages")
    _relocatable_scripts(entry)
    size = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file() and not p.is_symlink())
    pins = [line.split(" ", 1)[0] for line in locked]
    meta = {"locked": pins, "size_bytes": size, "build_s": round(time.monotonic() - start, 2)}
    (entry / _DONE).write_text(json.dumps(meta))
    _read_only(entry)


def _relocatable_scripts(entry: Path) -> None:
    """Console scripts name `<entry>/bin/python` (in a shebang, or in a `/bin/sh` exec line when the path is
    long); the sandbox mounts the entry at `MOUNT`, so that is the interpreter they must name."""
    host, inside = f"{entry}/bin/python".encode(), f"{MOUNT}/bin/python".encode()
    for script in (entry / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            head = data[:512]  # the launcher lines; the rest is the script's own code
            if host in head:
                script.write_bytes(head.replace(host, inside) + data[512:])


def _lock_lines(report: dict[str, object], runtime: Runtime) -> list[str]:
    """`name==version --hash=sha256:...` for every file pip chose: the lock the install must match."""
    lines = []
    for item in report["install"]:  # type: ignore[attr-defined]
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
        if "sha256" not in hashes:
            url = item["download_info"]["url"]
            raise RuntimeBuildError(f"cannot pin {name}=={version} for {_names(runtime)}: {url} has no sha256")
        lines.append(f"{name}=={version} --hash=sha256:{hashes['sha256']}")
    return sorted(lines, key=str.lower)


def _run(argv: list[str], runtime: Runtime, what: str) -> None:
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode == 0:
        return
    tail = " | ".join(proc.stderr.strip().splitlines()[-4:]) or proc.stdout.strip()[-500:]
    if what:
        raise RuntimeBuildError(f"cannot build runtime {_names(runtime)}: {what} failed: {tail}")
    index = os.environ.get("PIP_INDEX_URL") or "pip's configured index (PIP_INDEX_URL, pip.conf)"
    raise RuntimeBuildError(
        f"cannot build runtime {_names(runtime)}: missing {', '.join(runtime.python_packages)}: "
        f"nothing is cached at {runtime.path()} and pip could not resolve them from {index} "
        f"(offline? set PIP_INDEX_URL to a reachable index or mirror): {tail}"
    )


def _names(runtime: Runtime) -> str:
    return "[" + ", ".join(runtime.python_packages) + "]"


def _read_only(entry: Path) -> None:
    for path in [entry, *entry.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _remove(entry: Path) -> None:
    for path in [entry, *entry.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.chmod(0o755)
    shutil.rmtree(entry)


__all__ = ["BuiltRuntime", "Runtime", "RuntimeBuildError"]
