"""A warm, killable worker process for symbolic checks: the wall-clock limit without SIGALRM.

SIGALRM only works in the main thread of the main interpreter and cannot interrupt C code such as a
big-integer power; a separate process can always be killed. The worker is a plain subprocess (not
multiprocessing), so it can be started from any thread, from daemonic pool workers and after a fork.
It runs this file by path (importing sympy, never the rlhub package, so it starts fast), caps its own
address space and its CPU time per check (RLIMIT_CPU), and is replaced right after a kill (the
replacement warms up in the background). It dies with its parent, even in the middle of a big-integer
computation that holds the GIL: the kernel sends it SIGKILL when the spawning thread exits
(PR_SET_PDEATHSIG, Linux; workers are spawned from one long-lived thread so that is the process's
lifetime), and a watchdog thread exits on EOF of a pipe only the parent holds (elsewhere). Requests and
replies are length-prefixed pickles over its stdin/stdout.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_HEADER = struct.Struct("!I")
_PR_SET_PDEATHSIG = 1
CPU_MARGIN_S = 2  # CPU seconds a check may use beyond its wall-clock budget before the kernel kills it


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the spawning thread (hence its process) dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Spawner:
    """One long-lived daemon thread that starts every worker: PR_SET_PDEATHSIG fires when the thread
    that forked the child exits, so spawning from a short-lived pool thread would kill the worker early."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="rlhub-math-spawner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the caller, raised there
                future.set_exception(exc)

    def run(self, job: Callable[[], Any]) -> Any:
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future.result()


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _spawn_in_spawner(job: Callable[[], Any]) -> Any:
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
    return _spawner.run(job)


def _forget_spawner() -> None:
    """In a forked child the spawner thread does not exist: start a new one on first use."""
    global _spawner, _spawner_lock
    _spawner, _spawner_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_spawner)


class WorkerTimeout(TimeoutError):
    """The symbolic check ran past its budget (the worker was killed) or the worker died."""


class SymbolicWorker:
    """One worker process, used by one request at a time; thread-safe, and fresh in a forked child."""

    def __init__(self, memory_mb: int = 1024, startup_timeout_s: float = 60.0):
        self.memory_mb = memory_mb
        self.startup_timeout_s = startup_timeout_s
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._alive: int | None = None
        self._ready = False
        reference = weakref.ref(self)

        def forget() -> None:
            worker = reference()
            if worker is not None:
                worker._forget()

        os.register_at_fork(after_in_child=forget)
        self.starts = 0

    def call(self, payload: Any, timeout_s: float) -> Any:
        """Run `symbolic_equal(*payload)` in the worker; raises WorkerTimeout past `timeout_s`.

        The budget covers waiting for the worker and the check itself, not the worker's one-off start.
        """
        asked = time.monotonic()
        if not self._lock.acquire(timeout=timeout_s):
            raise WorkerTimeout("symbolic worker busy")
        try:
            proc, cold = self._ensure(asked + timeout_s)
            deadline = (time.monotonic() if cold else asked) + timeout_s  # a first start is not counted
            assert proc.stdin is not None and proc.stdout is not None
            cpu_s = int(timeout_s) + CPU_MARGIN_S
            body = pickle.dumps((payload, cpu_s), protocol=pickle.HIGHEST_PROTOCOL)
            try:
                proc.stdin.write(_HEADER.pack(len(body)) + body)
                proc.stdin.flush()
                reply = _read_message(proc.stdout.fileno(), deadline)
            except (OSError, EOFError, TimeoutError) as exc:
                self._kill()
                self._spawn()  # the replacement warms up while the caller goes on
                raise WorkerTimeout(f"symbolic check exceeded {timeout_s:.1f}s") from exc
            ok, value = pickle.loads(reply)
            if not ok:
                return None
            return value
        finally:
            self._lock.release()

    def start(self) -> None:
        """Start the worker now (it imports sympy), so the first symbolic check does not wait for it."""
        with self._lock:
            self._ensure()

    def _ensure(self, deadline: float | None = None) -> tuple[subprocess.Popen[bytes], bool]:
        """The running worker, and whether we waited for its first start (not limited by `deadline`;
        waiting for a replacement after a kill is: WorkerTimeout, and the replacement keeps warming up)."""
        if self._proc is None or self._proc.poll() is not None:
            self._spawn()
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        if self._ready:
            return proc, False
        fd = proc.stdout.fileno()
        patient = deadline is None or self.starts <= 1
        wait = self.startup_timeout_s if patient or deadline is None else max(0.0, deadline - time.monotonic())
        if not select.select([fd], [], [], wait)[0]:
            if patient:
                self._kill()
                raise WorkerTimeout("symbolic worker failed to start")
            raise WorkerTimeout("symbolic worker still restarting after a timeout")
        try:
            _read_message(fd, time.monotonic() + self.startup_timeout_s)
        except (OSError, EOFError, TimeoutError) as exc:
            self._kill()
            raise WorkerTimeout("symbolic worker failed to start") from exc
        self._ready = True
        return proc, patient

    def _spawn(self) -> None:
        """Start a worker without waiting for it: it imports sympy while the caller goes on."""
        self.starts += 1
        alive_read, self._alive = os.pipe()  # the worker's watchdog exits on EOF: the parent is gone
        try:
            self._proc = _spawn_in_spawner(
                lambda: subprocess.Popen(  # by path: the worker imports sympy, never the rlhub package
                    [sys.executable, os.path.abspath(__file__), str(self.memory_mb), str(alive_read)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    pass_fds=(alive_read,),
                    preexec_fn=_die_with_parent,
                )
            )
        finally:
            os.close(alive_read)
        self._ready = False

    def _kill(self) -> None:
        if self._alive is not None:
            os.close(self._alive)
            self._alive = None
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    def _forget(self) -> None:
        """In a forked child: the parent's worker and lock state are not ours (the lock may be held)."""
        self._lock = threading.Lock()
        if self._alive is not None:  # the parent's pipe end: holding it would keep the parent's worker alive
            os.close(self._alive)
        self._proc, self._alive, self._ready, self.starts = None, None, False, 0

    def close(self) -> None:
        with self._lock:
            self._kill()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None


def _read_exact(fd: int, n: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while n:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError("worker exited")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, deadline: float) -> bytes:
    (length,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return _read_exact(fd, length, deadline)


_shared: SymbolicWorker | None = None
_shared_lock = threading.Lock()


def _reset_shared_lock() -> None:
    global _shared_lock
    _shared_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_shared_lock)


def shared_worker() -> SymbolicWorker:
    """The process-wide worker, created on first use and killed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SymbolicWorker()
            atexit.register(_shared.close)
        return _shared


def _serve(memory_mb: int, alive_fd: int) -> None:
    import resource

    def watchdog() -> None:  # backs up PR_SET_PDEATHSIG (and covers non-Linux): the parent's end closed
        while os.read(alive_fd, 1):
            pass
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from _symbolic import symbolic_equal  # this directory is sys.path[0] when run as a script

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def send(obj: Any) -> None:
        body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(body)) + body)
        stdout.flush()

    send("ready")
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (length,) = _HEADER.unpack(header)
        (a, b, mode), cpu_s = pickle.loads(stdin.read(length))
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_s, hard))  # SIGXCPU past this check's share
        try:
            send((True, symbolic_equal(a, b, mode)))
        except Exception:
            send((False, None))


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
