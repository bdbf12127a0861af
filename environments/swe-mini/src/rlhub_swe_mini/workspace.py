"""One episode's workspace: files kept on the host, every command run on a copy in the sandbox.

A minimal stand-in for the workspace layer `docs/agentic.md` describes (`rlhub.verify.workspace`),
which rlhub does not ship yet: instead of a sandbox worker that keeps `/workspace` for the episode,
each `bash` call sends the tree into a fresh sandbox execution (a private tmpfs), runs the command
there and brings the text files it changed back. Reading and editing files needs no sandbox.

Hidden tests (`run_hidden_tests`) run pytest in-process under a driver that imports the runtime's
pytest before the tree is on `sys.path` (a `pytest.py` in the tree cannot stand in for it), with
plugin autoloading off, and reports each test's outcome after a per-run nonce the tree never sees.
Changes to test infrastructure and to the hidden paths are not applied (`apply_changes`).
"""

from __future__ import annotations

import json
import posixpath
import secrets
from dataclasses import dataclass, replace
from typing import Any

from rlhub.verify import sandbox
from rlhub.verify.runtime import Runtime

MAX_FILE_CHARS = 1 << 20
INFRASTRUCTURE = frozenset(
    {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "sitecustomize.py", "usercustomize.py"}
)
"""Files that change how tests are collected or run: a model's edits to them are never applied."""

_DRIVER = r"""
import json, os, subprocess, sys
request = json.loads(sys.stdin.read())
root = "/tmp/w"
for path, text in request["files"].items():
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as handle:
        handle.write(text)
os.chdir(root)
env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_ADDOPTS": "-p no:cacheprovider"}
if request["mode"] == "pytest":
    import pytest
    os.environ.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    sys.dont_write_bytecode = True
    sys.path.insert(0, root)
    outcomes = {}
    class Recorder:
        def pytest_runtest_logreport(self, report):
            if report.failed:
                outcomes[report.nodeid] = "failed"
            elif report.when == "call" and report.passed:
                outcomes.setdefault(report.nodeid, "passed")
            elif report.skipped:
                outcomes.setdefault(report.nodeid, "skipped")
    pytest.main(["-q", "--tb=line", "-p", "no:cacheprovider", *request["paths"]], plugins=[Recorder()])
    sys.stdout.flush()
    print("\n" + request["nonce"] + json.dumps(outcomes), flush=True)
    os._exit(0)
try:
    proc = subprocess.run(["bash", "-c", request["command"]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, env=env, timeout=request["timeout_s"])
    output, code = proc.stdout, proc.returncode
except subprocess.TimeoutExpired as exc:
    output, code = (exc.stdout or b"") + b"\n[timed out after %gs]" % request["timeout_s"], None
changed, seen = {}, set()
for top, dirs, names in os.walk(root):
    dirs[:] = [d for d in dirs if d != "__pycache__"]
    for name in names:
        full = os.path.join(top, name)
        path = os.path.relpath(full, root)
        if os.path.islink(full) or not os.path.isfile(full) or os.path.getsize(full) > request["max_file"]:
            continue
        try:
            with open(full, encoding="utf-8") as handle:
                text = handle.read()
        except (UnicodeDecodeError, OSError):
            continue
        seen.add(path)
        if request["files"].get(path) != text:
            changed[path] = text
deleted = sorted(set(request["files"]) - seen)
tail = output.decode("utf-8", "replace")[-request["max_output"]:]
print(request["nonce"] + json.dumps({"output": tail, "exit": code, "changed": changed, "deleted": deleted}))
"""


class WorkspaceError(ValueError):
    """A path outside the workspace, a missing file, a file too large: told to the model as an error."""


def normalise(path: str) -> str:
    """A workspace-relative path; absolute paths and `..` out of the workspace are refused."""
    cleaned = posixpath.normpath(path.strip().removeprefix("/workspace/").removeprefix("./"))
    if not path.strip() or cleaned.startswith(("/", "..")) or cleaned == ".":
        raise WorkspaceError(f"{path!r} is not a path inside the workspace")
    return cleaned


@dataclass(frozen=True)
class Budget:
    """What one sandboxed command may use."""

    timeout_s: float = 30.0
    memory_mb: int = 1024
    max_output_chars: int = 8000


class Workspace:
    """The files of one episode (path → text), the start kept for `changes()`."""

    def __init__(self, files: dict[str, str], runtime: Runtime, budget: Budget = Budget()):
        self.start = dict(files)
        self.files = dict(files)
        self.runtime, self.budget = runtime, budget

    def read(self, path: str) -> str:
        path = normalise(path)
        if path not in self.files:
            raise WorkspaceError(f"no file {path}")
        return self.files[path]

    def write(self, path: str, text: str) -> None:
        if len(text) > MAX_FILE_CHARS:
            raise WorkspaceError(f"{len(text)} characters is over the {MAX_FILE_CHARS} a file may hold")
        self.files[normalise(path)] = text

    def replace(self, path: str, old: str, new: str) -> None:
        text = self.read(path)
        count = text.count(old) if old else 0
        if count != 1:
            raise WorkspaceError(f"the text to replace occurs {count} times in {normalise(path)}; it must occur once")
        self.write(path, text.replace(old, new))

    def changes(self) -> dict[str, Any]:
        """What the episode changed: `{"changed": {path: text}, "deleted": [path]}`, JSON for the log."""
        changed = {p: t for p, t in sorted(self.files.items()) if self.start.get(p) != t}
        return {"changed": changed, "deleted": sorted(set(self.start) - set(self.files))}

    def bash(self, command: str, timeout_s: float | None = None) -> str:
        """Run `command` with bash in the sandbox on a copy of the tree; keep the files it changed."""
        budget = replace(self.budget, timeout_s=timeout_s or self.budget.timeout_s)
        request = {"mode": "bash", "command": command, "timeout_s": budget.timeout_s}
        answer = _run(self.files, request, self.runtime, budget)
        if answer is None:
            return "error: the command's sandbox died or its output was too large"
        for path in answer["deleted"]:
            self.files.pop(path, None)
        self.files.update(answer["changed"])
        status = "timed out" if answer["exit"] is None else f"exit code {answer['exit']}"
        return f"{answer['output']}\n[{status}]"


def _run(files: dict[str, str], request: dict[str, Any], runtime: Runtime, budget: Budget) -> dict[str, Any] | None:
    nonce = secrets.token_hex(16)
    request = {**request, "files": files, "nonce": nonce, "max_file": MAX_FILE_CHARS}
    request["max_output"] = budget.max_output_chars
    limits = sandbox.Limits(
        timeout_s=budget.timeout_s + 10, memory_mb=budget.memory_mb, nproc=64, max_output_bytes=16 << 20, scratch_mb=256
    )
    result = sandbox.default_pool(runtime).run(_DRIVER, stdin=json.dumps(request), limits=limits)
    frames = [line for line in result.stdout.splitlines() if line.startswith(nonce)]
    return json.loads(frames[-1][len(nonce) :]) if frames else None


def apply_changes(start: dict[str, str], changes: dict[str, Any], hidden: dict[str, str]) -> dict[str, str]:
    """The tree to grade: the start, the model's changes except to test infrastructure and hidden paths,
    then the hidden files written over everything."""
    tree = dict(start)
    hidden_dirs = {h.rsplit("/", 1)[0] + "/" for h in hidden if "/" in h}

    def allowed(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return not (
            name in INFRASTRUCTURE
            or name.endswith(".pth")
            or any(part.endswith((".dist-info", ".egg-info")) for part in path.split("/"))
            or path in hidden
            or path.startswith(tuple(hidden_dirs))
        )

    for path in changes.get("deleted", []):
        if allowed(str(path)):
            tree.pop(str(path), None)
    for path, text in dict(changes.get("changed", {})).items():
        if allowed(path):
            tree[path] = str(text)
    return {**tree, **hidden}


def run_hidden_tests(
    tree: dict[str, str], paths: list[str], runtime: Runtime, timeout_s: float
) -> dict[str, str] | None:
    """Each test's outcome (`passed`, `failed`, `skipped`) when pytest runs `paths` on `tree`; None when
    the run never reported (killed, out of time or memory): then no test counts as passed."""
    return _run(tree, {"mode": "pytest", "paths": paths}, runtime, Budget(timeout_s=timeout_s))
