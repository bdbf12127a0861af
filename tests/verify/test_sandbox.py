"""The sandbox runs ordinary programs faithfully, reports each way a program can end, and starts fresh."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

from rlhub.verify import sandbox
from rlhub.verify.sandbox import ExecResult, Job, Limits, SandboxError, SandboxPool


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(2) as p:
        yield p


@pytest.fixture(scope="module")
def single() -> Iterator[SandboxPool]:
    """One worker, so consecutive executions are known to share a fork server."""
    with SandboxPool(1) as p:
        yield p


def run(pool: SandboxPool, code: str, stdin: str = "", timeout_s: float = 5, memory_mb: int = 512) -> ExecResult:
    return pool.run(textwrap.dedent(code), stdin=stdin, timeout_s=timeout_s, memory_mb=memory_mb)


def test_entry_point_runs_code_with_stdin() -> None:
    result = sandbox.run("print(input()[::-1])", stdin="abc\n", timeout_s=5, memory_mb=256)
    assert (result.status, result.stdout, result.exit_code) == ("ok", "cba\n", 0)
    assert 0 < result.duration_s < 5


@pytest.mark.parametrize(
    ("code", "status", "exit_code"),
    [
        ("print('fine')", "ok", 0),
        ("raise SystemExit(3)", "error", 3),
        ("import sys; sys.exit('bye')", "error", 1),
        ("1/0", "error", 1),
        ("def f(:\n  pass", "error", 1),
        ("x = bytearray(2 * 1024**3)", "oom", 1),
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV); import time; time.sleep(0.1)", "ok", 0),
        ("import ctypes; ctypes.string_at(0)", "killed", -11),
    ],
)
def test_statuses(pool: SandboxPool, code: str, status: str, exit_code: int) -> None:
    result = run(pool, code)
    assert (result.status, result.exit_code) == (status, exit_code), result


def test_error_output_looks_like_python(pool: SandboxPool) -> None:
    result = run(pool, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n1/0\n")
    assert result.stdout == "out\n"
    assert result.stderr.startswith("err\nTraceback (most recent call last):\n")
    assert 'File "/tmp/main.py", line 4, in <module>' in result.stderr
    assert result.stderr.endswith("ZeroDivisionError: division by zero\n")


def test_timeout_reports_partial_output(pool: SandboxPool) -> None:
    result = run(pool, "print('started', flush=True)\nwhile True: pass", timeout_s=0.5)
    assert (result.status, result.exit_code, result.stdout) == ("timeout", None, "started\n")
    assert 0.5 <= result.duration_s < 2


def test_output_limit_truncates(pool: SandboxPool) -> None:
    result = pool.run("print('x' * 10_000)", limits=Limits(max_output_bytes=1000))
    assert result.status == "output_limit"
    assert len(result.stdout) == 1000


def test_benign_deep_recursion(pool: SandboxPool) -> None:
    code = """
        import sys
        sys.setrecursionlimit(10**5)
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)
        print(depth(50_000))
    """
    assert run(pool, code).stdout == "50000\n"


def test_benign_50mb_allocation(pool: SandboxPool) -> None:
    result = run(pool, "x = bytearray(50 * 1024**2); x[-1] = 1; print(sum(x))", memory_mb=256)
    assert (result.status, result.stdout) == ("ok", "1\n")


def test_benign_large_stdin_and_output(pool: SandboxPool) -> None:
    data = "".join(f"{i}\n" for i in range(100_000))
    result = run(pool, "import sys\nnums = [int(x) for x in sys.stdin]\nprint(sum(nums))\nprint(*nums)", stdin=data)
    assert result.status == "ok"
    total, echoed = result.stdout.splitlines()
    assert int(total) == sum(range(100_000)) and echoed.split()[-1] == "99999"


def test_benign_scratch_files_threads_and_subprocesses(pool: SandboxPool) -> None:
    code = """
        import os, subprocess, sys, threading
        with open("notes.txt", "w") as f:
            f.write("kept")
        print(open("/tmp/notes.txt").read(), os.getcwd())
        threads = [threading.Thread(target=print, args=(i,)) for i in range(3)]
        [t.start() for t in threads]; [t.join() for t in threads]
        print(subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout.strip())
        print(subprocess.run(["echo", "shell"], capture_output=True, text=True).stdout.strip())
    """
    result = run(pool, code)
    assert result.status == "ok", result
    assert result.stdout.splitlines() == ["kept /tmp", "0", "1", "2", "42", "shell"]


def test_benign_unicode_roundtrip(pool: SandboxPool) -> None:
    text = "héllo wörld — 你好 🎉"
    result = run(pool, "s = input(); print(s[::-1]); print(len(s))", stdin=text)
    assert result.stdout == f"{text[::-1]}\n{len(text)}\n"


def test_odd_text_does_not_break_the_worker(single: SandboxPool) -> None:
    assert run(single, "print(repr(input()))", stdin="a\ud800b").stdout == "'a?b'\n"
    assert run(single, "print('\\ud800')").status == "error"  # unencodable output: the program's own error
    assert run(single, "x = '\ud800'").status == "error"  # source that is not text cannot be compiled
    assert run(single, "print('still serving')").stdout == "still serving\n"


def test_main_module_semantics(pool: SandboxPool) -> None:
    code = """
        import atexit, sys
        atexit.register(lambda: print("bye"))
        print(__name__, sys.argv, exit is not None)
        if __name__ == "__main__":
            exit(0)
    """
    assert run(pool, code).stdout == "__main__ ['main.py'] True\nbye\n"


def test_each_execution_starts_fresh(single: SandboxPool) -> None:
    dirty = """
        import builtins, os, subprocess, sys
        open("/tmp/leftover", "w").write("x")
        os.mkdir("/tmp/dir")
        builtins.LEAK = sys.LEAK = 1
        os.environ["LEAK"] = "1"
        subprocess.Popen(["sleep", "30"], start_new_session=True)
        print(os.getpid(), sorted(p for p in os.listdir("/proc") if p.isdigit()))
    """
    check = """
        import builtins, os, sys
        print(os.listdir("/tmp"), hasattr(builtins, "LEAK"), hasattr(sys, "LEAK"), "LEAK" in os.environ)
        print(sorted(p for p in os.listdir("/proc") if p.isdigit()))
    """
    first = run(single, dirty)
    assert first.stdout.startswith("1 ['1', '"), first  # the sleep was running next to it
    second = run(single, check)
    assert second.stdout == "[] False False False\n['1']\n", second


def test_ipc_objects_do_not_survive(single: SandboxPool) -> None:
    make = """
        import _posixshmem, ctypes, os
        _posixshmem.shm_open("/leak", os.O_CREAT | os.O_RDWR, 0o600)  # POSIX segment, never unlinked
        print(ctypes.CDLL(None).shmget(0x5EED, 4096, 0o1600) >= 0)  # SysV segment, IPC_CREAT, never removed
    """
    assert run(single, make).stdout == "True\n"
    look = "import ctypes, os; print(os.listdir('/dev/shm'), ctypes.CDLL(None).shmget(0x5EED, 0, 0))"
    assert run(single, look).stdout == "[] -1\n"


def test_benign_multiprocessing(pool: SandboxPool) -> None:
    code = """
        from multiprocessing import Pool
        if __name__ == "__main__":
            with Pool(2) as workers:
                print(sum(workers.map(abs, range(-50, 50))))
    """
    assert run(pool, code).stdout == "2500\n"


def test_batch_runs_concurrently_in_order(pool: SandboxPool) -> None:
    jobs = [Job(f"import time; time.sleep(0.3); print({i})") for i in range(4)]
    results = pool.run_many(jobs)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(4)]


def test_thread_safe_under_contention(pool: SandboxPool) -> None:
    outputs: list[str] = []

    def worker(i: int) -> None:
        for j in range(10):
            outputs.append(pool.run(f"print({i * 100 + j})", timeout_s=5).stdout)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outputs) == sorted(f"{i * 100 + j}\n" for i in range(4) for j in range(10))


def test_dead_worker_is_replaced(single: SandboxPool) -> None:
    def kill_soon() -> None:
        threading.Event().wait(0.3)
        next(iter(single._all)).proc.kill()

    threading.Thread(target=kill_soon).start()
    assert run(single, "import time; time.sleep(10)").status == "killed"
    assert run(single, "print('back')").stdout == "back\n"


def test_missing_bubblewrap_names_the_apt_package(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="apt package `bubblewrap`"):
        SandboxPool(1)


def test_broken_interpreter_is_a_clear_error() -> None:
    with pytest.raises(SandboxError, match="failed to start"):
        SandboxPool(1, python="/usr/bin/false")


def test_trusted_tier_is_a_plain_subprocess() -> None:
    result = sandbox.run_trusted(
        "import os, sys; print(input(), os.getuid() == os.geteuid())", stdin="hi", timeout_s=5, memory_mb=512
    )
    assert (result.status, result.stdout) == ("ok", "hi True\n")
    assert sandbox.run_trusted("while True: pass", timeout_s=0.3, memory_mb=512).status == "timeout"
    assert sandbox.run_trusted("import sys; sys.exit(4)", timeout_s=5, memory_mb=512).exit_code == 4


def test_pool_closes_its_bwrap_processes() -> None:
    pool = SandboxPool(2)
    pids = [w.proc.pid for w in pool._all]
    pool.close()
    alive = subprocess.run(["ps", "-o", "pid=", "-p", ",".join(map(str, pids))], capture_output=True, text=True)
    assert alive.stdout.strip() == ""
    with pytest.raises(SandboxError):
        pool.run("print(1)")


def test_sandbox_uses_no_venv_packages(pool: SandboxPool) -> None:
    result = run(pool, "import sys; print(sys.prefix)")
    assert result.stdout.strip() == sys.base_prefix


def _hello_from_child() -> str:
    return sandbox.run("print('child')", timeout_s=5, memory_mb=256).stdout


def test_default_pool_survives_fork() -> None:
    parent = sandbox.default_pool()
    with multiprocessing.get_context("fork").Pool(1) as processes:
        assert processes.apply(_hello_from_child) == "child\n"
    assert sandbox.default_pool() is parent
    assert sandbox.run("print('parent')", timeout_s=5, memory_mb=256).stdout == "parent\n"


def test_a_pool_started_from_a_short_lived_thread_outlives_it() -> None:
    # bwrap --die-with-parent follows the *thread* that started it; workers are started from a spawner
    # thread that lives as long as the process (the default pool is created lazily, on first use).
    pools: list[SandboxPool] = []
    thread = threading.Thread(target=lambda: pools.append(SandboxPool(workers=1)))
    thread.start()
    thread.join()
    time.sleep(0.5)  # let a parent-death signal, if any, land
    with pools[0] as own:
        again = own.run("print(2)")
        assert (again.status, again.stdout) == ("ok", "2\n")
