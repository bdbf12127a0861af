"""Workspaces: a directory tree that lives in one sandbox for a whole episode, and hidden tests run on it.

    with Session({"calc.py": "def add(a, b):\\n    return a - b\\n"}, runtime=runtime) as session:
        session.bash("python -c 'import calc; print(calc.add(1, 2))'").stdout   # "-1\\n"
        session.write("calc.py", "def add(a, b):\\n    return a + b\\n")
        changes = session.changes()
    report = run_tests(files, changes, hidden={...}, tests=["test_calc.py::test_add"], runtime=runtime)

A session is one dedicated sandbox worker (`rlhub.verify.sandbox`) whose `/workspace` is a size-limited
tmpfs created by bubblewrap: it outlives each execution (each still gets fresh pid, mount and IPC
namespaces, its own /tmp, rlimits and seccomp) and dies with the worker, so the host's disk is never
written. Every file operation runs inside the sandbox too: a path the model names is resolved there,
symlinks included, and refused when it leads out of `/workspace`.

Hidden tests never enter a session the model used: `run_tests` starts a fresh one from the task's files,
applies the model's recorded changes (minus test infrastructure), writes the hidden files over them and
runs pytest. Each test's outcome comes back framed by a per-run nonce and is counted here.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import posixpath
import queue
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from rlhub.core.errors import RlhubError
from rlhub.core.types import Frozen
from rlhub.verify.runtime import Runtime
from rlhub.verify.sandbox import WORKSPACE, ExecResult, Limits, SandboxError, SandboxPool

FileData = str | bytes
Outcome = Literal["passed", "failed", "error", "skipped", "missing"]

SESSION_LIMITS = Limits(timeout_s=30.0, memory_mb=1024, nproc=64, max_output_bytes=1 << 20, scratch_mb=64)
"""Per-call defaults of a session: room for pytest and numpy, not for a runaway."""

PROTECTED = frozenset(
    {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "sitecustomize.py", "usercustomize.py"}
)
"""File names whose changes by the model are not applied for the hidden-test run: they configure or hook
pytest and the interpreter, so they could decide the verdict without fixing anything (`*.pth` too; and
compiled `*.pyc` / `__pycache__`, which can stand in for their source)."""


class WorkspaceError(RlhubError):
    """A workspace operation was refused: a path out of the workspace, a missing or too large file."""


class Session:
    """One episode's sandbox, with a persistent `/workspace` filled with `files` (see the module doc).
    Its programs write no bytecode: a file rewritten within a second at the same size would run stale.

    Thread-safe (calls are serialised: one worker). Use it as a context manager or call `close()`.
    """

    def __init__(
        self,
        files: Mapping[str, FileData] | None = None,
        *,
        runtime: Runtime = Runtime(),
        limits: Limits = SESSION_LIMITS,
        workspace_mb: int = 64,
        max_file_bytes: int = 1 << 20,
    ):
        self.runtime, self.limits, self.workspace_mb, self.max_file_bytes = (
            runtime,
            limits,
            workspace_mb,
            max_file_bytes,
        )
        self._pool = _take(runtime, workspace_mb)
        self._start: dict[str, bytes] = {}
        try:
            if files:
                self._start = {clean_path(path): _bytes(data) for path, data in files.items()}
                self._op("put", files={p: _b64(d) for p, d in self._start.items()})
        except BaseException:
            self.close()
            raise

    # --- running programs ------------------------------------------------------------------------

    def bash(self, command: str, *, timeout_s: float | None = None) -> ExecResult:
        """`bash -c command` in `/workspace` (the runtime's `bin/` first on PATH)."""
        program = (
            f"import os\nos.chdir({WORKSPACE!r})\n"
            f"os.execve('/bin/bash', ['bash', '-c', {command!r}], {{**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'}})\n"
        )
        return self._run(program, "", timeout_s)

    def python(self, code: str, *, stdin: str = "", timeout_s: float | None = None) -> ExecResult:
        """Python `code` as `__main__` in `/workspace`, which is first on `sys.path`."""
        program = (
            f"import os, sys\nos.chdir({WORKSPACE!r})\nsys.path.insert(0, {WORKSPACE!r})\n"
            "sys.dont_write_bytecode = True\n"
            f"exec(compile({code!r}, {WORKSPACE + '/main.py'!r}, 'exec'), {{'__name__': '__main__'}})\n"
        )
        return self._run(program, stdin, timeout_s)

    def _run(self, program: str, stdin: str, timeout_s: float | None, max_output: int | None = None) -> ExecResult:
        limits = self.limits if timeout_s is None else replace(self.limits, timeout_s=timeout_s)
        if max_output is not None:
            limits = replace(limits, max_output_bytes=max_output)
        replaced = self._pool.replaced
        result = self._pool.run(program, stdin=stdin, limits=limits)
        if self._pool.replaced != replaced:  # its /workspace went with the dead worker: never go on silently
            raise SandboxError(f"the session's sandbox worker died ({result.stderr.strip()}); its workspace is lost")
        return result

    # --- files -----------------------------------------------------------------------------------

    def read(self, path: str) -> bytes:
        """The bytes of a file; `WorkspaceError` if missing, a directory, out of the workspace or too large."""
        return base64.b64decode(self._op("get", path=clean_path(path), limit=self.max_file_bytes)["data"])

    def write(self, path: str, data: FileData) -> None:
        """Create or replace a file (parent directories are made)."""
        self._op("put", files={clean_path(path): _b64(_bytes(data))})

    def files(self) -> dict[str, bytes]:
        """Every regular file under `/workspace` (symlinks are not followed and not listed)."""
        return {path: base64.b64decode(data) for path, data in self._op("list")["files"].items()}

    def changes(self) -> dict[str, Any]:
        """What differs from the starting files, as JSON: `changed` (text), `binary` (base64), `deleted`."""
        return diff(self._start, self.files())

    def _op(self, op: str, **args: Any) -> dict[str, Any]:
        output = ((self.workspace_mb << 20) * 4) // 3 + (1 << 16)  # a whole workspace in base64 fits
        result = self._run(_OPS, json.dumps({"op": op, **args}), None, max_output=output)
        if not result.ok:
            raise WorkspaceError(f"workspace {op} failed: {result.status}: {result.stderr.strip()[-500:]}")
        answer: dict[str, Any] = json.loads(result.stdout)
        if "error" in answer:
            raise WorkspaceError(answer["error"])
        return answer

    def close(self) -> None:
        """Stop the worker; the workspace goes with it."""
        self._pool.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clean_path(path: str) -> str:
    """A workspace-relative path, or `WorkspaceError`: `/workspace/x` is accepted as `x`; other absolute
    paths, `..` out of the workspace, empty names and NUL are refused (symlinks are checked inside)."""
    if "\0" in path:
        raise WorkspaceError("path contains a NUL byte")
    if path == WORKSPACE or path.startswith(WORKSPACE + "/"):
        path = path[len(WORKSPACE) :].lstrip("/")
    if path.startswith("/"):
        raise WorkspaceError(f"{path!r} is outside the workspace: give a path relative to {WORKSPACE}")
    normal = posixpath.normpath(path)
    if normal in (".", "") or normal == ".." or normal.startswith("../"):
        raise WorkspaceError(f"{path!r} is not a file inside the workspace")
    return normal


def diff(start: Mapping[str, bytes], now: Mapping[str, bytes]) -> dict[str, Any]:
    """The changes from `start` to `now`, JSON-ready (see `Session.changes`)."""
    changed: dict[str, str] = {}
    binary: dict[str, str] = {}
    for path, data in sorted(now.items()):
        if start.get(path) != data:
            try:
                changed[path] = data.decode("utf-8")
            except UnicodeDecodeError:
                binary[path] = _b64(data)
    return {"changed": changed, "binary": binary, "deleted": sorted(set(start) - set(now))}


def apply(
    files: Mapping[str, FileData], changes: Mapping[str, Any], *, keep: frozenset[str] = frozenset()
) -> dict[str, bytes]:
    """`files` with `changes` applied, except for the paths in `keep` and protected test infrastructure."""
    tree = {clean_path(p): _bytes(d) for p, d in files.items()}

    def applies(path: str) -> bool:
        name = posixpath.basename(path)
        cached = "__pycache__" in path.split("/") or name.endswith(".pyc")  # compiled code can skip its source
        return path not in keep and name not in PROTECTED and not name.endswith(".pth") and not cached

    for path in changes.get("deleted", ()):
        if applies(clean_path(path)):
            tree.pop(clean_path(path), None)
    updates = {**changes.get("changed", {}), **{p: base64.b64decode(d) for p, d in changes.get("binary", {}).items()}}
    for path, data in updates.items():
        if applies(clean_path(path)):
            tree[clean_path(path)] = _bytes(data)
    return tree


class TestReport(Frozen):
    """The hidden tests' result: outcome per listed test id, the share passed, pytest's output (cut)."""

    __test__ = False  # not a pytest test class

    outcomes: dict[str, Outcome]
    status: Literal["ok", "timeout", "error"] = "ok"
    output: str = ""

    @property
    def share(self) -> float:
        return sum(o == "passed" for o in self.outcomes.values()) / len(self.outcomes) if self.outcomes else 0.0


def run_tests(
    files: Mapping[str, FileData],
    changes: Mapping[str, Any],
    *,
    hidden: Mapping[str, FileData],
    tests: Sequence[str],
    runtime: Runtime,
    limits: Limits = replace(SESSION_LIMITS, timeout_s=120.0),
    workspace_mb: int = 64,
) -> TestReport:
    """Run the hidden `tests` (pytest node ids) on `files` + the model's `changes` + the `hidden` files,
    in a fresh session. Their files are run whole; a listed test that pytest does not report (not
    collected, a crashed run) is `missing`, and counts as not passed."""
    if not tests:
        raise ValueError("run_tests needs at least one test id: a share of nothing would be a silent 0")
    tree = apply(files, changes, keep=frozenset(clean_path(p) for p in hidden))
    tree.update({clean_path(p): _bytes(d) for p, d in hidden.items()})
    nonce = secrets.token_hex(16)
    with Session(tree, runtime=runtime, limits=limits, workspace_mb=workspace_mb) as session:
        result = session._run(_PYTEST.replace("NONCE", nonce), json.dumps(list(tests)), None)
    lines = [line for line in result.stdout.splitlines() if line.startswith(nonce)]
    reported: dict[str, str] = json.loads(lines[0][len(nonce) :]) if len(lines) == 1 else {}
    outcomes: dict[str, Outcome] = {t: _outcome(reported.get(t)) for t in tests}
    output = (result.stdout.replace(nonce, "") + result.stderr)[-8000:]
    if len(lines) > 1:
        output = "results reported more than once: none counted\n" + output
    status: Literal["ok", "timeout", "error"] = "timeout" if result.status == "timeout" else "ok" if lines else "error"
    return TestReport(outcomes=outcomes, status=status, output=output)


def _outcome(value: str | None) -> Outcome:
    return value if value in ("passed", "failed", "error", "skipped") else "missing"  # type: ignore[return-value]


def _bytes(data: FileData) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- warm pools: one spare started session worker per (runtime, size), refilled in the background ------

_spares: dict[tuple[Runtime, int], queue.SimpleQueue[SandboxPool]] = {}
_refilling: dict[tuple[Runtime, int], threading.Lock] = {}
_spares_lock = threading.Lock()


def _forget_spares() -> None:
    """In a forked child (scoring workers are forked): the parent's spares are not usable here."""
    global _spares_lock
    _spares.clear()
    _refilling.clear()
    _spares_lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_forget_spares)


def _take(runtime: Runtime, workspace_mb: int) -> SandboxPool:
    """A started single-worker pool with an empty workspace; a spare when one is ready. Never reused."""
    key = (runtime, workspace_mb)
    with _spares_lock:
        if key not in _spares:
            _spares[key], _refilling[key] = queue.SimpleQueue(), threading.Lock()
            if len(_spares) == 1:
                atexit.register(_close_spares)
    try:
        pool = _spares[key].get_nowait()
    except queue.Empty:
        pool = SandboxPool(1, runtime=runtime, workspace_mb=workspace_mb)
    threading.Thread(target=_refill, args=(key,), daemon=True).start()
    return pool


def _refill(key: tuple[Runtime, int]) -> None:
    if not _refilling[key].acquire(blocking=False):
        return
    try:
        if _spares[key].empty():
            _spares[key].put(SandboxPool(1, runtime=key[0], workspace_mb=key[1]))
    except SandboxError:  # the next `_take` starts one itself and raises the error where it is seen
        pass
    finally:
        _refilling[key].release()


def _close_spares() -> None:
    for spares in list(_spares.values()):
        while not spares.empty():
            spares.get_nowait().close()


_OPS = r"""
import base64, json, os, sys
W = "/workspace"
req = json.loads(sys.stdin.read())

def inside(rel):
    full = os.path.realpath(os.path.join(W, rel))
    if full != W and not full.startswith(W + "/"):
        raise PermissionError(f"{rel!r} leads outside the workspace")
    return full

def answer(**kw):
    sys.stdout.write(json.dumps(kw))

try:
    if req["op"] == "put":
        for rel, data in req["files"].items():
            full = inside(rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(base64.b64decode(data))
        answer()
    elif req["op"] == "get":
        full = inside(req["path"])
        size = os.path.getsize(full)
        if os.path.isdir(full):
            raise IsADirectoryError(f"{req['path']!r} is a directory")
        if size > req["limit"]:
            raise ValueError(f"{req['path']!r} is {size} bytes, over the {req['limit']}-byte limit")
        with open(full, "rb") as f:
            answer(data=base64.b64encode(f.read()).decode())
    elif req["op"] == "list":
        found = {}
        for top, dirs, names in os.walk(W):
            for name in names:
                full = os.path.join(top, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    with open(full, "rb") as f:
                        found[os.path.relpath(full, W)] = base64.b64encode(f.read()).decode()
        answer(files=found)
except (OSError, ValueError) as exc:
    answer(error=f"{type(exc).__name__}: {exc}" if not isinstance(exc, PermissionError) else str(exc))
"""
"""File operations, run inside the sandbox (so the model's symlinks resolve there): JSON in, JSON out."""

_PYTEST = r"""
import json, os, sys
try:
    import pytest
except ImportError:
    sys.exit("run_tests needs pytest in the runtime: Runtime(python_packages=[..., 'pytest'])")
TESTS = json.loads(sys.stdin.read())
sys.dont_write_bytecode = True
os.chdir("/workspace")
sys.path.insert(0, "/workspace")  # after `import pytest`: a pytest.py in the workspace cannot replace it
OUTCOMES = {}

class Report:
    def pytest_runtest_logreport(self, report):
        if report.failed:
            OUTCOMES[report.nodeid] = "failed" if report.when == "call" else "error"
        elif report.skipped:
            OUTCOMES.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            OUTCOMES.setdefault(report.nodeid, "passed")

FILES = sorted({test.split("::")[0] for test in TESTS})  # whole files: one unknown id would abort a run by ids
pytest.main(["-q", "-p", "no:cacheprovider", *FILES], plugins=[Report()])
sys.stdout.flush()
os.write(1, ("\nNONCE" + json.dumps(OUTCOMES) + "\n").encode())
"""
"""The hidden-test driver: pytest in-process, each listed test's outcome printed once after a nonce."""


__all__ = [
    "PROTECTED",
    "SESSION_LIMITS",
    "Session",
    "TestReport",
    "WorkspaceError",
    "apply",
    "clean_path",
    "diff",
    "run_tests",
]
