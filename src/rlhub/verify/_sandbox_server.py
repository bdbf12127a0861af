"""Fork server that runs inside one bubblewrap sandbox (stdlib only; started as `python -I -S -c <this file>`).

It reads length-prefixed marshal requests on fd 0 and answers on fd 1, one execution at a time (both
ends of that channel are trusted code: the program under test never holds it). Each execution is one
fork that becomes pid 1 of a fresh pid namespace, enters fresh mount and IPC namespaces, mounts its own
/proc and size-limited tmpfs on /tmp and /dev/shm, drops to an unprivileged uid and every capability,
sets rlimits and a seccomp filter and runs the code in-process (no interpreter start-up). When it exits or
is killed, the kernel kills every process left in its pid namespace, so nothing outlives an execution.

The program's outputs are read here with a cap; the verdict is computed by the host, never here. The
server imports as little as it can (no `site`, no `json`, no `traceback`): every page of it that an
execution touches is copied after `fork`, and those copies are most of the cost of an execution.
"""

from __future__ import annotations

import _sitebuiltins
import atexit
import builtins
import ctypes
import gc
import io
import marshal
import os
import resource
import select
import signal
import struct
import sys
import time
import types
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
_CAP_VERSION_3 = 0x20080522
SCRATCH = "/tmp"
_LIBC = ctypes.CDLL(None, use_errno=True)
_HEADER = struct.Struct(">I")
_STDIO = {
    name: io.TextIOWrapper(open(fd, mode, closefd=False), "utf-8", errors, line_buffering=fd == 2)  # noqa: SIM115
    for name, fd, mode, errors in (
        ("stdin", 0, "rb", "surrogateescape"),
        ("stdout", 1, "wb", "strict"),
        ("stderr", 2, "wb", "backslashreplace"),
    )
}
"""The program's stdio, built once here (on fd numbers the program's own pipes will take), so that no
execution pays for building them."""
_IN_USER_NS = "--user-ns" in sys.argv
"""Started by a non-root host: the server is uid 0 of bubblewrap's user namespace, not real root."""
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_FILTER = next((bytes.fromhex(arg[10:]) for arg in sys.argv if arg.startswith("--seccomp=")), b"")
"""The program's seccomp filter (`rlhub.verify.seccomp`), installed by each execution before its code runs."""


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_char_p))


_FPROG = _SockFprog(len(_FILTER) // 8, _FILTER)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str, flags: int, data: str | None = None) -> None:
    _check(
        _LIBC.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode() if data else None),
        f"mount {target}",
    )


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(message: dict[str, Any]) -> None:
    data = marshal.dumps(message)
    payload = _HEADER.pack(len(data)) + data
    while payload:
        payload = payload[os.write(1, payload) :]


def _isolate(req: dict[str, Any]) -> None:
    """Private mount and IPC namespaces: a fresh /proc for this pid namespace and fresh scratch tmpfs."""
    _check(_LIBC.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    _mount("none", "/", "none", MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for target in (SCRATCH, "/dev/shm"):  # /dev/shm: POSIX shared memory and semaphores (multiprocessing)
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['scratch_mb']}m,nr_inodes=4096,mode=1777")


def _program(req: dict[str, Any]) -> None:
    """The untrusted side: drop privileges, set limits, run the code as `__main__`. Never returns."""
    os.chdir(SCRATCH)
    oom_score_adj = os.open("/proc/self/oom_score_adj", os.O_WRONLY)  # the OOM killer takes the program first
    os.write(oom_score_adj, b"1000")
    os.close(oom_score_adj)
    uid = req["uid"]
    if _IN_USER_NS:  # only one uid is mapped: a nested user namespace shows it as `uid` here
        _check(_LIBC.unshare(CLONE_NEWUSER), "unshare user")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} 0 1"), ("gid_map", f"{uid} 0 1")):
            with open(f"/proc/self/{name}", "w") as file:
                file.write(text)
    else:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    _check(_LIBC.capset(header, (ctypes.c_uint32 * 6)()), "capset")  # no capabilities of any kind left
    _check(_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    mib = 1 << 20
    cpu = int(req["cpu_s"])
    limits = [
        (resource.RLIMIT_AS, req["memory_mb"] * mib),
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_NOFILE, 512),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, req["scratch_mb"] * mib),
    ]
    if req["nproc_rlimit"]:  # otherwise the host's pids cgroup counts this execution's processes
        limits.append((resource.RLIMIT_NPROC, req["nproc"]))
    for limit, value in limits:
        resource.setrlimit(limit, value if isinstance(value, tuple) else (value, value))
    if _FILTER:
        _check(_LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(_FPROG), 0, 0), "seccomp")

    main = types.ModuleType("__main__")
    main.__file__ = f"{SCRATCH}/main.py"
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    sys.argv = ["main.py"]
    sys.path.insert(0, SCRATCH)
    for name, stream in _STDIO.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    code = 0
    try:
        exec(compile(req["code"], main.__file__, "exec"), main.__dict__)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException as exc:
        code = 1
        sys.__excepthook__(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
    code = _finish(code)
    os._exit(code)


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _finish(code: int) -> int:
    """What a normal interpreter does at exit: join threads, run atexit hooks, flush stdio."""
    try:
        threading = sys.modules.get("threading")
        if threading is not None:
            threading._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except SystemExit as exc:
        return _exit_code(exc.code)
    except BaseException:
        return code or 120
    return code


def _execute(req: dict[str, Any], own_pid_ns: int) -> dict[str, Any]:
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    _check(_LIBC.unshare(CLONE_NEWPID), "unshare pid")
    pid = os.fork()
    if pid == 0:  # pid 1 of a fresh pid namespace: when it exits, the kernel kills all that is left
        try:
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, 1 << 16)
            _isolate(req)
            _program(req)
        except BaseException:  # a setup failure: reported on the program's stderr with exit code 121
            sys.__excepthook__(*sys.exc_info())
        finally:
            os._exit(121)
    _check(_LIBC.setns(own_pid_ns, CLONE_NEWPID), "setns pid")
    for fd in (stdin_r, out_w, err_w):
        os.close(fd)
    pidfd = os.pidfd_open(pid)

    deadline = start + req["timeout_s"]
    cap = req["max_output"]
    stdin = req["stdin"]
    out: dict[int, list[bytes]] = {out_r: [], err_r: []}
    size = 0
    verdict = None
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(out_r, select.POLLIN)
    poller.register(err_r, select.POLLIN)
    if stdin:
        os.set_blocking(stdin_w, False)
        poller.register(stdin_w, select.POLLOUT)
    else:
        os.close(stdin_w)
    open_fds = {out_r, err_r}
    exited = False
    while open_fds or not exited:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            verdict = "timeout"
            break
        for fd, _event in poller.poll(remaining * 1000):
            if fd == pidfd:
                exited = True
                poller.unregister(pidfd)
            elif fd == stdin_w:
                try:
                    stdin = stdin[os.write(stdin_w, stdin[: 1 << 16]) :]
                except BrokenPipeError:
                    stdin = b""
                if not stdin:
                    poller.unregister(stdin_w)
                    os.close(stdin_w)
            else:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    continue
                out[fd].append(chunk)
                size += len(chunk)
                if size > cap:
                    verdict = "output_limit"
                    break
        if verdict:
            break
    if verdict:
        os.kill(pid, signal.SIGKILL)
    _, wait_status = os.waitpid(pid, 0)
    duration = time.monotonic() - start
    for fd in (pidfd, out_r, err_r, *([stdin_w] if stdin else [])):
        os.close(fd)
    stdout, stderr = b"".join(out[out_r]), b"".join(out[err_r])
    if verdict == "output_limit":
        stdout, stderr = stdout[:cap], stderr[: max(0, cap - len(stdout))]
    return {
        "verdict": verdict,
        "wait_status": wait_status,
        "stdout": stdout.decode("utf-8", "replace"),
        "stderr": stderr.decode("utf-8", "replace"),
        "duration_s": duration,
    }


def main() -> None:
    for name in ("exit", "quit"):  # what `site` would have added
        setattr(builtins, name, _sitebuiltins.Quitter(name, "Ctrl-D (i.e. EOF)"))
    for arg in sys.argv:
        if arg.startswith("--site="):  # a runtime's site-packages (read-only), .pth files included
            import site

            site.addsitedir(arg[len("--site=") :])
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    gc.freeze()  # a collection in an execution must not touch (and so copy) every page inherited from here
    _send({"ready": True, "pid": os.getpid()})
    while True:
        try:
            (length,) = _HEADER.unpack(_read_exact(0, 4))
            req = marshal.loads(_read_exact(0, length))
        except EOFError:
            return
        try:
            _send(_execute(req, own_pid_ns))
        except OSError as exc:
            _send({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
