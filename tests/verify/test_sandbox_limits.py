"""Whole-sandbox limits (cgroups), the seccomp filter, and that the cgroups do not leak."""

from __future__ import annotations

import errno
import os
import platform
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rlhub.verify import cgroups, sandbox, seccomp
from rlhub.verify.sandbox import ExecResult, Limits, SandboxPool


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(2) as p:
        yield p


def run(pool: SandboxPool, code: str, **limits: Any) -> ExecResult:
    return pool.run(textwrap.dedent(code), limits=replace(Limits(timeout_s=5.0, memory_mb=256), **limits))


def own_groups() -> list[Path]:
    return [g for parent in cgroups.parents()[1].values() for g in parent.glob(f"rlhub-sandbox-{os.getpid()}-*")]


def test_the_tier_is_the_best_this_host_offers() -> None:
    assert sandbox.limits_tier() in ("cgroup-v2", "cgroup-v1", "rlimit")
    v1 = all(os.access(f"/sys/fs/cgroup/{c}", os.W_OK) for c in ("memory", "pids"))
    if os.geteuid() == 0 and v1:  # root with writable v1 controllers (these machines): never the fallback
        assert sandbox.limits_tier() in ("cgroup-v2", "cgroup-v1")


def test_limits_follow_each_execution(pool: SandboxPool) -> None:
    """Processes are counted by the cgroup (RLIMIT_NPROC is not even set) and the limit changes per job."""
    code = """
        import os, resource, time
        print(resource.getrlimit(resource.RLIMIT_NPROC)[0] not in (8, 20))
        forks = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(10)
                    os._exit(0)
                forks += 1
        except OSError as exc:
            print(forks, errno.errorcode[exc.errno])
    """.replace("import os,", "import errno, os,")
    assert run(pool, code, nproc=8).stdout.split() == ["True", "7", "EAGAIN"]
    assert run(pool, code, nproc=20).stdout.split() == ["True", "19", "EAGAIN"]


def test_memory_over_the_sandbox_limit_is_oom(pool: SandboxPool) -> None:
    """The main process holds the most; children hold the rest: the whole goes over, the biggest dies."""
    code = """
        import os, time
        for _ in range(3):
            if os.fork() == 0:
                block = b"x" * (90 << 20)
                time.sleep(20)
        time.sleep(1)
        block = b"y" * (200 << 20)
        print("survived")
    """
    result = run(pool, code, memory_mb=384, timeout_s=20)
    assert (result.status, result.stdout) == ("oom", "")


def test_cgroups_are_removed_with_their_workers() -> None:
    stale = [parent / f"rlhub-sandbox-{2**22 + 7}-0" for parent in cgroups.parents()[1].values()]  # a dead pid
    for path in stale:
        path.mkdir()
    before = set(own_groups())  # the module's pool
    with SandboxPool(2) as pool:
        assert not any(path.exists() for path in stale)  # left by a killed process: swept at start
        assert len(set(own_groups()) - before) == 2 * len(cgroups.parents()[1])
        for worker in list(pool._all):
            worker.proc.kill()  # dead workers are replaced on their next use, with new groups
        assert [r.status for r in pool.run_many([sandbox.Job("print(1)")] * 2)] == ["killed", "killed"]
        assert run(pool, "print(1)").stdout == "1\n"
        assert len(set(own_groups()) - before) == 2 * len(cgroups.parents()[1])
    assert set(own_groups()) == before


SYSCALL = """
    import ctypes, errno
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    for name, number, args in {calls!r}:
        ctypes.set_errno(0)
        result = libc.syscall(number, *[ctypes.c_long(a) for a in args])
        print(name, result, errno.errorcode.get(ctypes.get_errno(), 0))
"""


def syscalls(pool: SandboxPool, calls: Sequence[tuple[str, int, tuple[int, ...]]]) -> dict[str, tuple[int, str]]:
    result = run(pool, SYSCALL.format(calls=calls))
    assert result.status == "ok", result.stderr
    return {name: (int(value), err) for name, value, err in (line.split() for line in result.stdout.splitlines())}


NUMBERS = seccomp._ARCHES[platform.machine()][1]


def test_every_denied_syscall_is_eperm(pool: SandboxPool) -> None:
    calls = [(name, NUMBERS[name], (-1, -1, -1, -1, -1, -1)) for name in seccomp.DENIED if name in NUMBERS]
    assert len(calls) >= 45
    assert syscalls(pool, calls) == {name: (-1, "EPERM") for name, _, _ in calls}


def test_the_filter_not_the_kernel_refuses(pool: SandboxPool) -> None:
    """Calls an unprivileged process may make, refused only by the filter; other syscalls untouched."""
    new_user = 0x10000000 | 17  # CLONE_NEWUSER | SIGCHLD
    calls = [
        ("unshare_nothing", NUMBERS["unshare"], (0,)),
        ("keyctl_get_id", NUMBERS["keyctl"], (0, -3, 0)),  # KEYCTL_GET_KEYRING_ID of the session keyring
        ("ptrace_traceme", NUMBERS["ptrace"], (0, 0, 0, 0)),
        ("clone_new_user", NUMBERS["clone"], (new_user, 0, 0, 0, 0)),
        ("clone3", NUMBERS["clone3"], (0, 0)),
        ("getppid", {"x86_64": 110, "aarch64": 173}[platform.machine()], ()),
    ]
    seen = syscalls(pool, calls)
    assert seen == {
        "unshare_nothing": (-1, "EPERM"),
        "keyctl_get_id": (-1, "EPERM"),
        "ptrace_traceme": (-1, "EPERM"),
        "clone_new_user": (-1, "EPERM"),
        "clone3": (-1, "ENOSYS"),
        "getppid": (0, "0"),
    }


def test_two_filter_layers_and_ordinary_programs_still_run(pool: SandboxPool) -> None:
    code = """
        import subprocess, sys, threading
        from concurrent.futures import ProcessPoolExecutor
        print([l.split()[1] for l in open("/proc/self/status") if l.startswith(("Seccomp:", "Seccomp_filters:"))])
        threads = [threading.Thread(target=print, args=("thread",)) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(subprocess.run([sys.executable, "-c", "print('child')"], capture_output=True, text=True).stdout.strip())
        if __name__ == "__main__":
            with ProcessPoolExecutor(2) as executor:
                print(sum(executor.map(abs, [-1, -2, -3])))
    """
    result = run(pool, code, timeout_s=20)
    assert result.stdout.split("\n") == ["['2', '2']", "thread", "thread", "child", "6", ""], result.stderr


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_filters_are_well_formed(machine: str) -> None:
    for namespaces in (False, True):
        program = seccomp.program(namespaces=namespaces, machine=machine)
        assert len(program) % 8 == 0 and len(program) // 8 < 4096
    with pytest.raises(seccomp.UnsupportedArchitecture):
        seccomp.program(namespaces=True, machine="riscv64")
    assert errno.EPERM == 1
