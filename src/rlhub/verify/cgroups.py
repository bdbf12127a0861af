"""Memory and process limits for a whole sandbox worker, with cgroups: v2 where a writable hierarchy with
the memory and pids controllers is delegated to us, v1 as root, else nothing (the sandbox falls back to
per-process rlimits). `tier()` says which.

Each pool worker gets one group (one directory per v1 controller) under the cgroup this process is in;
its fork server is moved in once it is ready, so every execution it forks is born inside, with no cost
per execution. Pages the server touched before the move stay charged to the parent, so the group holds
only what executions allocate (processes, threads, tmpfs files). Each execution sets its
`oom_score_adj` to 1000, so the OOM killer picks it, never the server (which would need CAP_SYS_RESOURCE
to exempt itself). Groups are named `rlhub-sandbox-<host pid>-<n>`: a group
whose creator died (SIGKILL) is removed by the next pool that starts.

`RLHUB_SANDBOX_CGROUP=/sys/fs/cgroup/<dir>` names a cgroup v2 directory to use as the parent (one you
can write, whose `cgroup.subtree_control` enables memory and pids); `RLHUB_SANDBOX_CGROUP=none` turns
cgroups off.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import time
from functools import cache
from pathlib import Path
from typing import Literal

Tier = Literal["cgroup-v2", "cgroup-v1", "rlimit"]
_PREFIX = "rlhub-sandbox-"
_counter = itertools.count()


def _mounts() -> dict[str, Path]:
    """cgroup mount points by controller ("" for the v2 hierarchy)."""
    found: dict[str, Path] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" - ")
        if len(fields) != 2:
            continue
        mount_point, (fstype, _source, options) = line.split()[4], fields[1].split()[:3]
        if fstype == "cgroup2":
            found.setdefault("", Path(mount_point))
        elif fstype == "cgroup":
            for controller in ("memory", "pids"):
                if controller in options.split(","):
                    found.setdefault(controller, Path(mount_point))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path by controller ("" for v2), from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _usable(parent: Path, files: tuple[str, ...]) -> bool:
    """Whether we can make a child group under `parent` that has `files` (probed for real)."""
    probe = parent / f"{_PREFIX}probe-{os.getpid()}-{next(_counter)}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        return all((probe / name).exists() for name in files)
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


@cache
def parents() -> tuple[Tier, dict[str, Path]]:
    """The active tier and the directories worker groups are made in (by controller; "" for v2)."""
    chosen = os.environ.get("RLHUB_SANDBOX_CGROUP", "")
    if chosen == "none":
        return "rlimit", {}
    mounts, own = _mounts(), _own_paths()
    if chosen:
        v2_parent: Path | None = Path(chosen)
    elif "" in mounts and "" in own:
        v2_parent = mounts[""] / own[""].lstrip("/")
    else:
        v2_parent = None
    if v2_parent is not None:
        with contextlib.suppress(OSError):
            enabled = (v2_parent / "cgroup.subtree_control").read_text().split()
            if {"memory", "pids"} <= set(enabled) and _usable(v2_parent, ("memory.max", "pids.max")):
                return "cgroup-v2", {"": v2_parent}
    v1: dict[str, Path] = {c: mounts[c] / own.get(c, "/").lstrip("/") for c in ("memory", "pids") if c in mounts}
    if (
        len(v1) == 2
        and _usable(v1["memory"], ("memory.limit_in_bytes", "memory.oom_control"))
        and _usable(v1["pids"], ("pids.max",))
    ):
        return "cgroup-v1", v1
    return "rlimit", {}


def tier() -> Tier:
    """Which mechanism limits a sandbox's total memory and processes: "cgroup-v2", "cgroup-v1" or "rlimit"
    (per-process limits only)."""
    return parents()[0]


def sweep() -> None:
    """Remove groups left by pools whose process died without closing them."""
    for parent in parents()[1].values():
        for group in parent.glob(f"{_PREFIX}*"):
            match = re.fullmatch(rf"{_PREFIX}(\d+)-\d+", group.name)
            if match and not Path(f"/proc/{match[1]}").exists():
                _remove(group)


class Group:
    """One worker's cgroup (one directory per v1 controller)."""

    def __init__(self) -> None:
        self.tier, found = parents()
        name = f"{_PREFIX}{os.getpid()}-{next(_counter)}"
        self.dirs = {controller: parent / name for controller, parent in found.items()}
        for path in self.dirs.values():
            path.mkdir()
        self._limits: tuple[int, int] | None = None
        if self.tier == "cgroup-v2":
            (self._memory / "memory.swap.max").write_text("0")
        else:
            with contextlib.suppress(OSError):  # no swap accounting: a v1 group may then swap
                (self._memory / "memory.swappiness").write_text("0")

    @property
    def _memory(self) -> Path:
        return self.dirs["" if self.tier == "cgroup-v2" else "memory"]

    @property
    def _pids(self) -> Path:
        return self.dirs["" if self.tier == "cgroup-v2" else "pids"]

    def adopt(self, pid: int) -> None:
        """Move `pid` (the fork server) in."""
        for path in self.dirs.values():
            (path / "cgroup.procs").write_text(str(pid))

    def limit(self, memory_bytes: int, pids: int) -> None:
        """Set the group's limits (written only when they change)."""
        if self._limits == (memory_bytes, pids):
            return
        memory_file = "memory.max" if self.tier == "cgroup-v2" else "memory.limit_in_bytes"
        (self._memory / memory_file).write_text(str(memory_bytes))
        (self._pids / "pids.max").write_text(str(pids))
        self._limits = (memory_bytes, pids)

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer has killed in this group so far."""
        events = "memory.events" if self.tier == "cgroup-v2" else "memory.oom_control"
        for line in (self._memory / events).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        """Kill whatever is left inside and delete the group."""
        for path in self.dirs.values():
            _remove(path)


def _remove(path: Path, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        kill = path / "cgroup.kill"
        if kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
        else:
            with contextlib.suppress(OSError):
                for pid in (path / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # EBUSY while the killed processes are still exiting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


__all__ = ["Group", "Tier", "parents", "sweep", "tier"]
