"""Attacks on the sandbox, each judged from outside: what the host saw, not what the program says."""

from __future__ import annotations

import os
import secrets
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rlhub.verify.sandbox import ExecResult, Limits, SandboxPool


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(2) as p:
        yield p


def run(pool: SandboxPool, code: str, timeout_s: float = 2.0, **limits: int) -> ExecResult:
    return pool.run(textwrap.dedent(code), limits=replace(Limits(timeout_s=timeout_s, memory_mb=256), **limits))


def host_processes_with(marker: str) -> list[int]:
    """Pids on the host whose command line or name contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "comm").read_bytes()
        except OSError:
            continue
        if marker.encode() in text and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def test_network_egress_to_a_loopback_listener(pool: SandboxPool) -> None:
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp.settimeout(0.5)
    udp.settimeout(0.5)
    code = f"""
        import socket
        for target in [("127.0.0.1", {tcp.getsockname()[1]}), ("10.0.0.1", 80), ("1.1.1.1", 53)]:
            try:
                socket.create_connection(target, timeout=1).sendall(b"leak")
                print("connected", target)
            except OSError as exc:
                print("blocked", type(exc).__name__)
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"leak", ("127.0.0.1", {udp.getsockname()[1]}))
    """
    result = run(pool, code, timeout_s=5)
    with pytest.raises(TimeoutError):
        tcp.accept()
    with pytest.raises(TimeoutError):
        udp.recv(16)
    tcp.close()
    udp.close()
    assert "connected" not in result.stdout
    assert result.stdout.count("blocked") == 3


def test_writes_outside_scratch_fail(pool: SandboxPool, tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("untouched")
    targets = [str(canary), str(tmp_path / "new.txt"), "/usr/evil", "/etc/evil", "/evil", "/proc/sys/kernel/hostname"]
    code = f"""
        for path in {targets!r}:
            try:
                with open(path, "w") as f:
                    f.write("owned")
                print("wrote", path)
            except OSError as exc:
                print("blocked", type(exc).__name__)
    """
    result = run(pool, code)
    assert "wrote" not in result.stdout, result.stdout
    assert canary.read_text() == "untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canary.txt"]
    assert not Path("/usr/evil").exists() and not Path("/etc/evil").exists()


def test_fork_bomb_is_contained(pool: SandboxPool) -> None:
    marker = f"fb{secrets.token_hex(5)}"
    code = f"""
        import ctypes, os
        ctypes.CDLL(None).prctl(15, b"{marker}", 0, 0, 0)
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    start = time.monotonic()
    result = run(pool, code, timeout_s=1.5, nproc=32)
    assert result.status == "timeout"
    assert time.monotonic() - start < 5
    assert host_processes_with(marker) == []
    assert run(pool, "print('alive')").stdout == "alive\n"


def test_memory_bomb_is_contained(pool: SandboxPool) -> None:
    result = run(pool, "chunks = []\nwhile True:\n    chunks.append(bytearray(10 * 1024**2))", memory_mb=128)
    assert result.status == "oom"


def test_disk_fill_stays_in_a_bounded_scratch(pool: SandboxPool) -> None:
    code = """
        import os
        written = 0
        try:
            with open("/tmp/fill", "wb") as f:
                while True:
                    f.write(b"x" * 1024**2)
                    f.flush()
                    written += 1
        except OSError as exc:
            print(written, exc.errno)
    """
    result = run(pool, code, scratch_mb=16, timeout_s=5)
    written, _errno = result.stdout.split()
    assert int(written) <= 16
    free = run(pool, "import os; s = os.statvfs('/tmp'); print(s.f_bfree * s.f_frsize // 1024**2)", scratch_mb=16)
    assert int(free.stdout) == 16  # the next execution gets an empty scratch


def test_infinite_loop_times_out(pool: SandboxPool) -> None:
    start = time.monotonic()
    result = run(pool, "while True:\n    pass", timeout_s=1)
    assert result.status == "timeout"
    assert time.monotonic() - start < 3


def test_ignoring_sigterm_does_not_help(pool: SandboxPool) -> None:
    marker = f"st{secrets.token_hex(5)}"
    code = f"""
        import ctypes, os, signal, time
        ctypes.CDLL(None).prctl(15, b"{marker}", 0, 0, 0)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        os.fork()
        time.sleep(60)
    """
    result = run(pool, code, timeout_s=1)
    assert result.status == "timeout"
    assert host_processes_with(marker) == []


def test_double_fork_cannot_outlive_the_call(pool: SandboxPool) -> None:
    marker = f"df{secrets.token_hex(5)}"
    code = f"""
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "60", "{marker}"])
            os._exit(0)
        os.wait()
        print("parent done")
    """
    result = run(pool, code)
    assert (result.status, result.stdout) == ("ok", "parent done\n")
    assert host_processes_with(marker) == []


def test_double_fork_on_timeout(pool: SandboxPool) -> None:
    marker = f"dt{secrets.token_hex(5)}"
    code = f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "60", "{marker}"])
            os._exit(0)
        time.sleep(60)
    """
    assert run(pool, code, timeout_s=1).status == "timeout"
    assert host_processes_with(marker) == []


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_is_capped(pool: SandboxPool, stream: str) -> None:
    start = time.monotonic()
    result = run(pool, f"import sys\nwhile True:\n    sys.{stream}.write('x' * 4096)", max_output_bytes=1 << 20)
    assert result.status == "output_limit"
    assert len(result.stdout) + len(result.stderr) <= 1 << 20
    assert time.monotonic() - start < 2


def test_host_secrets_and_environment_are_invisible(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = secrets.token_hex(16)
    canary = tmp_path / "secret.txt"
    canary.write_text(secret)
    monkeypatch.setenv("RLHUB_TEST_SECRET", secret)
    code = f"""
        import os, stat, sys
        print(dict(os.environ))
        for path in [{str(canary)!r}, "/root", "/home", "/work", "/etc/shadow", "/proc/1/environ"]:
            try:
                print(open(path).read() if os.path.isfile(path) else os.listdir(path))
            except OSError as exc:
                print("blocked", path, type(exc).__name__)
        system = ("/proc", "/sys", "/dev", "/usr", sys.base_prefix)  # kernel views and read-only system files
        for root, dirs, files in os.walk("/"):
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in system]
            for path in (os.path.join(root, name) for name in files):
                try:
                    if stat.S_ISREG(os.lstat(path).st_mode) and "{secret}".encode() in open(path, "rb").read():
                        print("FOUND", path)
                except OSError:
                    pass
    """
    with SandboxPool(1) as pool:  # started after the secret was put in the environment
        result = run(pool, code, timeout_s=10)
    assert result.status == "ok", result
    assert secret not in result.stdout
    assert "FOUND" not in result.stdout
    assert f"blocked {canary}" in result.stdout


def test_proc_shows_no_host_process(pool: SandboxPool) -> None:
    code = f"""
        import os, signal
        print(sorted(p for p in os.listdir("/proc") if p.isdigit()))
        try:
            os.kill({os.getpid()}, signal.SIGKILL)
        except OSError as exc:
            print(type(exc).__name__)
    """
    result = run(pool, code)
    assert result.stdout == "['1']\nProcessLookupError\n"


def test_runs_unprivileged(pool: SandboxPool) -> None:
    code = """
        import os
        status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        print(os.getuid() != 0, os.geteuid() != 0, status["CapEff"], status["CapPrm"], status["NoNewPrivs"])
        mknod = lambda: os.mknod("/tmp/null2", 0o20666, os.makedev(1, 3))
        for attempt in (lambda: os.setuid(0), lambda: os.chroot("/tmp"), mknod):
            try:
                attempt()
                print("allowed")
            except OSError as exc:
                print(type(exc).__name__)
    """
    lines = run(pool, code).stdout.splitlines()
    assert lines[0] == "True True 0000000000000000 0000000000000000 1"
    assert lines[1:] == ["PermissionError"] * 3


def test_concurrent_attack_does_not_starve_a_neighbour(pool: SandboxPool) -> None:
    bomb = threading.Thread(
        target=run, args=(pool, "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass")
    )
    bomb.start()
    time.sleep(0.2)
    result = run(
        pool, "import subprocess; print(subprocess.run(['echo', 'ok'], capture_output=True, text=True).stdout)"
    )
    bomb.join()
    assert result.stdout.strip() == "ok"


def test_memory_split_across_children(pool: SandboxPool) -> None:
    """8 children of 100 MB, each under the per-process limit, against 384 MB for the whole sandbox."""
    code = """
        import os, time
        children = []
        for _ in range(8):
            child = os.fork()
            if child == 0:
                block = b"x" * (100 << 20)
                time.sleep(4)  # all eight would hold their 100 MB together here
                os._exit(0)
            children.append(child)
        print("survivors", sum(os.waitpid(child, 0)[1] == 0 for child in children))
    """
    result = run(pool, code, timeout_s=30, memory_mb=384)
    assert result.stdout in ("survivors 0\n", "survivors 1\n", "survivors 2\n", "survivors 3\n"), result


def test_ptrace_of_a_sibling(pool: SandboxPool) -> None:
    code = """
        import ctypes, os, time
        libc = ctypes.CDLL(None, use_errno=True)
        child = os.fork()
        if child == 0:
            time.sleep(5)
            os._exit(0)
        attached = libc.ptrace(16, child, 0, 0)  # PTRACE_ATTACH
        local = (ctypes.c_char * 8)()
        iov = (ctypes.c_void_p * 2)(ctypes.addressof(local), 8)
        read = libc.process_vm_readv(child, iov, 1, iov, 1, 0)
        print(attached, read, ctypes.get_errno())
    """
    assert run(pool, code).stdout.split() == ["-1", "-1", "1"]  # EPERM from the seccomp filter


def test_unshare_to_escape(pool: SandboxPool) -> None:
    """New user namespace (root inside), then new mount/net namespaces: refused, also through clone."""
    code = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        results = [libc.unshare(flags) for flags in (0x10000000, 0x10000000 | 0x00020000, 0x40000000)]
        results.append(libc.syscall(56 if os.uname().machine == "x86_64" else 220, 0x10000000 | 17, 0, 0, 0, 0))
        print(results, ctypes.get_errno(), os.getuid() != 0)
    """
    assert run(pool, code).stdout == "[-1, -1, -1, -1] 1 True\n"
