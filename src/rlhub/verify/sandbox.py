"""Run untrusted, model-written Python code in a bubblewrap sandbox with a warm pool of fork servers.

    from rlhub.verify import sandbox
    result = sandbox.run("print(input()[::-1])", stdin="abc", timeout_s=5, memory_mb=256)
    result.status, result.stdout        # ("ok", "cba\\n")

Each pool worker is one `bwrap` process (no network, read-only system, own pid/ipc/uts namespaces)
running a small fork server (`_sandbox_server.py`). Every execution gets fresh pid, mount and IPC
namespaces, its own /proc, a fresh size-limited tmpfs on /tmp, an unprivileged uid, rlimits and a seccomp
filter; each worker sits in its own cgroup where the host allows one (`limits_tier()`), so memory and
processes are limited for the execution as a whole. When an execution ends, its namespace's init is
killed and the kernel kills everything that was left. See docs/sandbox.md for exactly what is and is not
covered.

`run_trusted` is a plain subprocess with rlimits: it is NOT a sandbox and is only for code you trust.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import math
import os
import queue
import resource
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from rlhub.core.errors import RlhubError
from rlhub.core.types import Frozen
from rlhub.verify import cgroups, seccomp
from rlhub.verify.runtime import MOUNT, BuiltRuntime, Runtime

ExecStatus = Literal["ok", "error", "timeout", "oom", "output_limit", "killed"]

_SERVER = Path(__file__).with_name("_sandbox_server.py")
_HEADER = struct.Struct(">I")
_GRACE_S = 5.0
"""Extra host-side wait before a fork server that does not answer is presumed hung and replaced."""
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
WORKSPACE = "/workspace"
"""Where a session's workspace is mounted inside the sandbox."""
RUNTIME = MOUNT
"""Where a runtime's virtual environment is mounted (read-only) inside the sandbox."""
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "alternatives", "mime.types")


class SandboxError(RlhubError):
    """The sandbox cannot start (bubblewrap missing or not permitted) or broke down."""


class ExecResult(Frozen):
    """What one execution did. `exit_code` is negative for a signal and None when the sandbox killed it.

    status: ok (exit 0) · error (other exit) · timeout (wall or CPU time) · oom (uncaught MemoryError
    under the memory limit) · output_limit (stdout + stderr over the cap; output truncated) · killed
    (ended by another signal).
    """

    status: ExecStatus
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Limits:
    """Per-execution limits. `memory_mb` is the address-space limit of each process (RLIMIT_AS) and, in a
    cgroup tier (`limits_tier()`), also of the execution's total memory: all its processes and /tmp files.
    `nproc` counts processes and threads: the execution's pids cgroup, else RLIMIT_NPROC."""

    timeout_s: float = 10.0
    memory_mb: int = 512
    nproc: int = 32
    max_output_bytes: int = 1 << 20
    scratch_mb: int = 64


@dataclass(frozen=True)
class Job:
    """One program and its input, for batch runs."""

    code: str
    stdin: str = ""
    limits: Limits = Limits()


def find_bwrap() -> str:
    """Path of bubblewrap, or a SandboxError that says how to install it."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError(
            "bubblewrap (`bwrap`) is required to run untrusted code: install the apt package `bubblewrap` "
            "(sudo apt-get install bubblewrap)"
        )
    return path


def bwrap_args(
    bwrap: str, python: str, *, root: bool, runtime: BuiltRuntime | None = None, workspace_mb: int | None = None
) -> list[str]:
    """The bubblewrap command line shared by every worker: what the sandbox can see and do. A `runtime` is
    mounted read-only at its own path with its `bin/` first on PATH; `workspace_mb` adds a tmpfs of that
    size at `/workspace` that lives as long as the worker (a `rlhub.verify.workspace.Session`)."""
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc"]
    args += ["--unshare-uts", "--hostname", "sandbox", "--unshare-cgroup-try", "--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    prefix = Path(python).resolve().parent.parent
    if not str(prefix).startswith("/usr/"):  # e.g. pyenv under /root
        args += _ro_bind_at_own_path(prefix)
    env = dict(_ENV)
    if runtime is not None:  # at a fixed path: the host's (often under /tmp or /root) would be hidden or leak
        args += ["--dir", str(RUNTIME.parent), "--ro-bind", str(runtime.prefix), str(RUNTIME)]
        env |= {"PATH": f"{RUNTIME}/bin:{env['PATH']}", "VIRTUAL_ENV": str(RUNTIME)}
    args += ["--proc", "/proc", "--dev", "/dev", "--dir", "/tmp", "--chdir", "/tmp", "--clearenv"]
    if workspace_mb is not None:
        args += ["--perms", "1777", "--size", str(workspace_mb << 20), "--tmpfs", WORKSPACE]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if root:  # the fork server needs these to build per-execution namespaces and drop to its uid
        args += ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--uid", "0", "--gid", "0", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETFCAP"]
    return args


def _ro_bind_at_own_path(path: Path) -> list[str]:
    """Bind `path` read-only where it is on the host, its parents made traversable (nothing else of them)."""
    args = []
    for parent in reversed(path.parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return [*args, "--ro-bind", str(path), str(path)]


def base_python() -> str:
    """The real interpreter behind a virtualenv: the sandbox binds its prefix, not the venv."""
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


class _Spawner:
    """Starts workers from one long-lived thread. bwrap's --die-with-parent fires when the *thread* that
    started it exits, so a pool first used from a short-lived thread (`asyncio.to_thread`, a request
    handler) would otherwise lose every worker with that thread."""

    def __init__(self) -> None:
        self.requests: queue.SimpleQueue[tuple[list[str], tuple[int, ...], Future[subprocess.Popen[bytes]]]] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._loop, name="rlhub-sandbox-spawner", daemon=True).start()

    def _loop(self) -> None:
        while True:
            argv, fds, future = self.requests.get()
            try:
                pipe = subprocess.PIPE
                future.set_result(subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=pipe, pass_fds=fds))
            except BaseException as exc:
                future.set_exception(exc)

    def popen(self, argv: list[str], pass_fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self.requests.put((argv, pass_fds, future))
        return future.result()


_spawners: dict[int, _Spawner] = {}
_spawners_lock = threading.Lock()


def _spawn(bwrap: list[str], command: list[str], outer_filter: bytes) -> subprocess.Popen[bytes]:
    """Start `bwrap ... command` with `outer_filter` as its seccomp program (read by bwrap from an fd)."""
    with _spawners_lock:  # one spawner per process: a forked child starts its own
        spawner = _spawners.get(os.getpid()) or _spawners.setdefault(os.getpid(), _Spawner())
    fd = os.memfd_create("rlhub-seccomp")
    try:
        os.write(fd, outer_filter)
        os.lseek(fd, 0, os.SEEK_SET)
        return spawner.popen([*bwrap, "--seccomp", str(fd), *command], (fd,))
    finally:
        os.close(fd)


class _Worker:
    """One bwrap process running the fork server; serves one execution at a time."""

    def __init__(self, bwrap: list[str], command: list[str], outer_filter: bytes):
        self.proc = _spawn(bwrap, command, outer_filter)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        self.uid = 100_000 + secrets.randbelow(1 << 30)
        """Unique per worker, so RLIMIT_NPROC counts only this worker's processes."""
        self.group: cgroups.Group | None = None
        """The worker's cgroup (None in the rlimit tier), made once its server is ready."""
        self.oom_kills = 0

    def wait_ready(self, timeout_s: float) -> None:
        if self._recv(time.monotonic() + timeout_s) is None:
            assert self.proc.stderr is not None
            self.proc.kill()
            stderr = self.proc.stderr.read().decode(errors="replace").strip()
            self.kill()
            raise SandboxError(f"sandbox worker failed to start: {stderr or 'no output'}")
        if cgroups.tier() != "rlimit":
            self.group = cgroups.Group()
            try:
                self.group.adopt(_leaf(self.proc.pid))
            except OSError as exc:
                self.kill()
                raise SandboxError(f"cannot move the sandbox worker into its cgroup: {exc}") from exc

    def execute(self, request: dict[str, Any], deadline: float) -> dict[str, Any] | None:
        """The fork server's answer, or None when it died or hung (the caller replaces it)."""
        data = marshal.dumps({**request, "uid": self.uid})
        try:
            os.write(self._in, _HEADER.pack(len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self._in, view) :]
        except OSError:
            return None
        return self._recv(deadline)

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        header = self._read(4, deadline)
        if header is None:
            return None
        body = self._read(_HEADER.unpack(header)[0], deadline)
        return None if body is None else marshal.loads(body)

    def _read(self, n: int, deadline: float) -> bytes | None:
        chunks: list[bytes] = []
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._out], [], [], remaining)[0]:
                return None
            chunk = os.read(self._out, n)
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def kill(self, grace_s: float = 0.0) -> None:
        """Stop the worker: end of input lets an idle server exit within `grace_s`; then SIGKILL. Killing
        bwrap kills its pid namespace, and with it every execution inside."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        if self.group is not None:
            self.group.remove()


def _leaf(pid: int) -> int:
    """The fork server: the one process at the bottom of the worker's chain (bwrap, bwrap's init, server)."""
    while children := Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        (pid,) = map(int, children)
    return pid


class SandboxPool:
    """A warm pool of sandboxed fork servers. Thread-safe; `run` blocks while all workers are busy.

    `workers` defaults to twice the number of CPUs (so that one worker's round trip overlaps another's
    execution). A `runtime` with packages is built first (`Runtime.build`) and every program can import
    them. Use it as a context manager or call `close()`.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        bwrap: str | None = None,
        python: str | None = None,
        runtime: Runtime | None = None,
        workspace_mb: int | None = None,
    ):
        self.size = workers or 2 * (os.cpu_count() or 1)
        self.python = python or base_python()
        root = os.geteuid() == 0
        self.runtime = runtime.build() if runtime is not None and runtime.python_packages else None
        self._bwrap = bwrap_args(
            bwrap or find_bwrap(), self.python, root=root, runtime=self.runtime, workspace_mb=workspace_mb
        )
        self.replaced = 0
        """Workers that died or hung and were replaced (with them, anything a session kept in /workspace)."""
        try:
            self._outer_filter = seccomp.program(namespaces=False)
            inner = f"--seccomp={seccomp.program(namespaces=True).hex()}"
        except seccomp.UnsupportedArchitecture as exc:
            raise SandboxError(f"the sandbox cannot filter syscalls here: {exc}") from exc
        self._command = [self.python, "-I", "-S", "-c", _SERVER.read_text(), inner, *([] if root else ["--user-ns"])]
        if self.runtime is not None:
            self._command.append(f"--site={RUNTIME / self.runtime.site_packages.relative_to(self.runtime.prefix)}")
        if cgroups.tier() != "rlimit":
            cgroups.sweep()
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        workers_started = [self._spawn() for _ in range(self.size)]
        for worker in workers_started:
            worker.wait_ready(30.0)
            self._idle.put(worker)
        probe = self.run("print('ok')", timeout_s=30)
        if probe.stdout != "ok\n":  # e.g. a host where mounts or namespaces are not permitted
            self.close()
            raise SandboxError(f"the sandbox cannot run programs here: {probe.status}: {probe.stderr.strip()}")

    def _spawn(self) -> _Worker:
        worker = _Worker(self._bwrap, self._command, self._outer_filter)
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def run(
        self,
        code: str,
        *,
        stdin: str = "",
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        limits: Limits = Limits(),
    ) -> ExecResult:
        """Run `code` as a Python program with `stdin`; `timeout_s` and `memory_mb` override `limits`."""
        if timeout_s is not None:
            limits = replace(limits, timeout_s=timeout_s)
        if memory_mb is not None:
            limits = replace(limits, memory_mb=memory_mb)
        request = {
            "code": code,
            "stdin": stdin.encode("utf-8", "replace"),  # lone surrogates are not text: they become "?"
            "timeout_s": limits.timeout_s,
            "cpu_s": math.ceil(limits.timeout_s) + 1,
            "memory_mb": limits.memory_mb,
            "nproc": limits.nproc,
            "nproc_rlimit": cgroups.tier() == "rlimit",
            "max_output": limits.max_output_bytes,
            "scratch_mb": limits.scratch_mb,
        }
        worker = self._acquire()
        start = time.monotonic()
        try:
            if worker.group is not None:  # the whole execution: its processes (+1: the server) and memory
                worker.group.limit(limits.memory_mb << 20, limits.nproc + 1)
            answer = worker.execute(request, start + limits.timeout_s + _GRACE_S)
        except OSError as exc:  # a limit the kernel refused (e.g. below what the server holds)
            answer = {"error": f"cgroup: {exc}"}
        if answer is None or "error" in answer:
            self._discard(worker)
            self.replaced += 1
            if not self._closed:
                replacement = self._spawn()
                replacement.wait_ready(30.0)
                self._idle.put(replacement)
            why = "sandbox worker died" if answer is None else f"sandbox error: {answer['error']}"
            return ExecResult(status="killed", stderr=why, duration_s=time.monotonic() - start)
        result = _result(answer)
        if result.exit_code == -signal.SIGKILL and worker.group is not None:
            killed, worker.oom_kills = worker.oom_kills, worker.group.oom_kills()
            if worker.oom_kills > killed:  # the memory limit of the whole execution
                result = result.model_copy(update={"status": "oom"})
        self._idle.put(worker)
        return result

    def _acquire(self) -> _Worker:
        if os.getpid() != self._pid:
            raise SandboxError("a SandboxPool cannot be used across fork: create one in each process")
        while not self._closed:
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue
        raise SandboxError("the sandbox pool is closed")

    def run_many(self, jobs: Iterable[Job]) -> list[ExecResult]:
        """Run jobs concurrently over the pool; results in input order."""
        with ThreadPoolExecutor(self.size) as executor:
            return list(executor.map(lambda job: self.run(job.code, stdin=job.stdin, limits=job.limits), jobs))

    def close(self) -> None:
        """Stop every worker. A forked copy of the pool (in a child process) owns nothing and does nothing."""
        if os.getpid() != self._pid:
            return
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill(grace_s=1.0)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _result(answer: dict[str, Any]) -> ExecResult:
    fields = {"stdout": answer["stdout"], "stderr": answer["stderr"], "duration_s": answer["duration_s"]}
    if answer["verdict"] is not None:
        return ExecResult(status=answer["verdict"], **fields)
    wait_status = answer["wait_status"]
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        return ExecResult(status="timeout" if sig == signal.SIGXCPU else "killed", exit_code=-sig, **fields)
    return ExecResult(
        status=_exit_status(os.WEXITSTATUS(wait_status), answer["stderr"]),
        exit_code=os.WEXITSTATUS(wait_status),
        **fields,
    )


def _exit_status(code: int, stderr: str) -> ExecStatus:
    if code == 0:
        return "ok"
    lines = stderr.rstrip().splitlines()
    return "oom" if lines and lines[-1].startswith("MemoryError") else "error"


_defaults: dict[Runtime, SandboxPool] = {}
_default_lock = threading.Lock()


def default_pool(runtime: Runtime = Runtime()) -> SandboxPool:
    """The process-wide pool of `runtime` behind `run`, started on first use and closed at exit."""
    with _default_lock:
        pool = _defaults.get(runtime)
        if pool is None or pool._pid != os.getpid():  # none yet, or the parent's before a fork
            pool = _defaults[runtime] = SandboxPool(runtime=runtime)
            atexit.register(pool.close)
        return pool


def limits_tier() -> cgroups.Tier:
    """How a sandbox's total memory and process count are limited here: "cgroup-v2" (a delegated cgroup v2
    hierarchy), "cgroup-v1" (root with cgroup v1 memory and pids controllers) or "rlimit" (no usable
    cgroup: per-process RLIMIT_AS and a per-uid RLIMIT_NPROC only)."""
    return cgroups.tier()


def run(code: str, *, stdin: str = "", timeout_s: float, memory_mb: int, runtime: Runtime = Runtime()) -> ExecResult:
    """Run untrusted Python `code` in the shared sandbox pool of `runtime` (default: the standard library
    only). See `SandboxPool.run` for more limits."""
    return default_pool(runtime).run(code, stdin=stdin, timeout_s=timeout_s, memory_mb=memory_mb)


def run_trusted(code: str, *, stdin: str = "", timeout_s: float, memory_mb: int) -> ExecResult:
    """Run TRUSTED code in a plain subprocess: NOT A SANDBOX.

    It has the host's network, files, environment and user; only time, memory (RLIMIT_AS) and its
    process group are limited. Use it for code you wrote yourself, never for model output.
    """
    start = time.monotonic()
    pipe = subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=pipe, stdout=pipe, stderr=pipe, start_new_session=True)
    with contextlib.suppress(ProcessLookupError):  # set before the interpreter has started up
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    try:
        out, err = proc.communicate(stdin.encode(), timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        _killpg(proc.pid)
        out, err = proc.communicate()
        timed_out = True
    finally:
        _killpg(proc.pid)
    fields = {"stdout": out.decode(errors="replace"), "stderr": err.decode(errors="replace")}
    duration = time.monotonic() - start
    if timed_out:
        return ExecResult(status="timeout", duration_s=duration, **fields)
    code_ = proc.returncode
    status: ExecStatus = "killed" if code_ < 0 else _exit_status(code_, fields["stderr"])
    return ExecResult(status=status, exit_code=code_, duration_s=duration, **fields)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_batch(jobs: Sequence[Job], pool: SandboxPool | None = None) -> list[ExecResult]:
    """Run many jobs concurrently on `pool` (default: the shared pool)."""
    return (pool or default_pool()).run_many(jobs)


__all__ = [
    "RUNTIME",
    "WORKSPACE",
    "ExecResult",
    "ExecStatus",
    "Job",
    "Limits",
    "SandboxError",
    "SandboxPool",
    "base_python",
    "bwrap_args",
    "default_pool",
    "find_bwrap",
    "limits_tier",
    "run",
    "run_batch",
    "run_trusted",
]
