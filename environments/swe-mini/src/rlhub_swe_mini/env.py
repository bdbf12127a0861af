"""Fix a bug injected into a real library, working in its source tree with shell tools.

Each task is one mutation (`mutate.py`) of one of the libraries in `libraries.py`, kept when the
library's own tests catch it (`tools/build_tasks.py`; the data ship as `tasks.json.gz`: the mutation,
the test files run for it and its fail-to-pass tests). The workspace is the library's pinned sdist
with the mutation applied; the model works on it with `bash`, `read_file`, `write_file`,
`str_replace` and `run_tests`. Afterwards the library's original test files are written over the
workspace (edits to tests and test configuration are dropped) and pytest runs in the sandbox:
reward = ½ · share of fail-to-pass tests passing + ½ · share of pass-to-pass tests passing, so an
untouched workspace earns 0.5, a fix 1.0, and a fix that breaks other behaviour less. The model's
edits are logged (`info["workspace"]`), so the reward is recomputed from the log alone.

Splits are by function (library and enclosing function of the bug), so two bugs in one function
never straddle train and test.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import rlhub
from rlhub.core.dataset import FromRecords
from rlhub.verify.runtime import Runtime
from rlhub_swe_mini.libraries import LIBRARIES, Library
from rlhub_swe_mini.mutate import Mutation
from rlhub_swe_mini.sdists import source_files
from rlhub_swe_mini.workspace import Budget, Workspace, WorkspaceError, apply_changes, run_hidden_tests

PYTEST = "pytest==9.2.0"
"""The test runner the tasks were built with; the sandbox runtime pins the same."""
RUNTIME = Runtime(python_packages=[PYTEST])
SHOWN_FAILURES = 3
MAX_SANDBOX_CALLS = 24
"""`bash` and `run_tests` calls per episode: a flood of calls costs the sandbox nothing beyond this."""

INSTRUCTIONS = """\
You are working in /workspace, the source tree of the Python library {name} {version}. A bug has been \
introduced into the library's code and some of its tests now fail, for example:
{failing}

Find the bug and fix the library's source code. Use the tools: `bash` runs a shell command in \
/workspace (python and pytest are installed; there is no network), `read_file`, `write_file` and \
`str_replace` edit files, `run_tests` runs the library's tests. Do not edit the tests: the original \
test files are restored before grading. When you are done, reply without calling a tool."""


@cache
def records() -> tuple[dict[str, Any], ...]:
    """Every task's record: library, mutation, the tests run, fail-to-pass and pass-to-pass test ids."""
    data = json.loads(gzip.decompress(files("rlhub_swe_mini").joinpath("tasks.json.gz").read_bytes()))
    out = []
    for name in sorted(data):
        lib = data[name]
        passing: list[str] = lib["passing"]
        for *spec, paths, f2p_index in lib["tasks"]:
            mutation = Mutation.from_json(spec)
            f2p = [passing[i] for i in f2p_index]
            p2p = sorted(set(t for t in passing if t.split("::", 1)[0] in paths) - set(f2p))
            key = f"{name}:{mutation.path}:{mutation.line}:{mutation.col}:{mutation.new}"
            out.append({"library": name, "mutation": spec, "paths": paths, "f2p": f2p, "p2p": p2p, "key": key})
    return tuple(out)


def hidden_tests(lib: Library) -> dict[str, str]:
    """The library's test files as released: written over the workspace before grading."""
    tree = source_files(lib)
    return {p: t for p, t in tree.items() if any(p == r or p.startswith(r + "/") for r in lib.tests)}


def buggy_tree(reference: dict[str, Any]) -> dict[str, str]:
    """The workspace a task starts from: the sdist's files with the task's mutation applied."""
    lib = LIBRARIES[reference["library"]]
    if lib.version != reference["version"]:
        raise rlhub.ConfigError(f"task built for {lib.name} {reference['version']}, this package pins {lib.version}")
    tree = dict(source_files(lib))
    mutation = Mutation.from_json(reference["mutation"])
    tree[mutation.path] = mutation.apply(tree[mutation.path])
    return tree


def tests_passed(response: str, reference: dict[str, Any], info: dict[str, Any]) -> rlhub.Score:
    """½ share of fail-to-pass + ½ share of pass-to-pass tests passing on the graded tree."""
    f2p, p2p = reference["fail_to_pass"], reference["pass_to_pass"]
    changes = info.get("workspace") or {}
    if not changes.get("changed") and not changes.get("deleted"):
        outcomes: dict[str, str] | None = {t: "passed" for t in p2p}  # the untouched tree, as measured at build
    else:
        lib = LIBRARIES[reference["library"]]
        tree = apply_changes(buggy_tree(reference), changes, hidden_tests(lib))
        outcomes = run_hidden_tests(tree, reference["paths"], RUNTIME, reference["timeout_s"])
    outcomes = outcomes or {}
    fixed = sum(outcomes.get(t) == "passed" for t in f2p)
    kept = sum(outcomes.get(t) == "passed" for t in p2p)
    value = 0.5 * fixed / len(f2p) + (0.5 * kept / len(p2p) if p2p else 0.5)
    detail = f"fail-to-pass {fixed}/{len(f2p)}, pass-to-pass {kept}/{len(p2p)}"
    status = rlhub.ScoreStatus.correct if value >= 1.0 else rlhub.ScoreStatus.incorrect
    return rlhub.Score(value=value, status=status, detail=detail)


@rlhub.environment("rlhub/swe-mini", version="0.1.0")
class SweMini(FromRecords, rlhub.ToolEnv):
    """Repair a bug injected into a real Python library; reward from its own tests, run hidden."""

    libraries: tuple[str, ...] = tuple(sorted(LIBRARIES))
    """Which libraries the bugs come from."""
    timeout_s: float = 120.0
    """Wall-clock limit for the hidden test run that grades an episode."""
    command_timeout_s: float = 30.0
    """Wall-clock limit for one `bash` or `run_tests` call."""

    max_turns = 30
    response_kind = "code"
    rubric = rlhub.Rubric(tests_passed=tests_passed)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.libraries or set(self.libraries) - set(LIBRARIES):
            raise rlhub.ConfigError(f"libraries must be a non-empty subset of {sorted(LIBRARIES)}")
        if not 0 < self.timeout_s <= 600 or not 0 < self.command_timeout_s <= 120:
            raise rlhub.ConfigError("timeout_s must be in (0, 600] and command_timeout_s in (0, 120]")

    def records(self) -> list[dict[str, Any]]:
        return [r for r in records() if r["library"] in self.libraries]

    def split_key(self, record: dict[str, Any]) -> str:
        mutation = Mutation.from_json(record["mutation"])
        return f"{record['library']}:{mutation.path}:{mutation.where}"

    def order_key(self, record: dict[str, Any]) -> str:
        return str(record["key"])

    def record_task(self, record: dict[str, Any]) -> rlhub.Task:
        lib = LIBRARIES[record["library"]]
        mutation = Mutation.from_json(record["mutation"])
        failing = "\n".join(f"    {t}" for t in record["f2p"][:SHOWN_FAILURES])
        prompt = INSTRUCTIONS.format(name=lib.name, version=lib.version, failing=failing)
        answer = {
            "library": lib.name,
            "version": lib.version,
            "mutation": record["mutation"],
            "paths": record["paths"],
            "fail_to_pass": record["f2p"],
            "pass_to_pass": record["p2p"],
            "timeout_s": self.timeout_s,
        }
        tags = (f"library:{lib.name}", f"mutation:{mutation.kind}")
        return rlhub.Task(prompt=prompt, answer=answer, info={"where": f"{mutation.path}:{mutation.where}"}, tags=tags)

    def setup(self, state: rlhub.State) -> None:
        budget = Budget(timeout_s=self.command_timeout_s)
        state.workspace = Workspace(buggy_tree(state.task.answer), RUNTIME, budget)
        state.sandbox_calls = 0
        state.info["workspace"] = {"changed": {}, "deleted": []}

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        ws: Workspace = state.workspace
        test_paths = " ".join(sorted({p for p in state.task.answer["paths"]}))

        def record() -> None:
            state.info["workspace"] = ws.changes()

        def sandboxed(command: str) -> str:
            if state.sandbox_calls >= MAX_SANDBOX_CALLS:
                return f"error: command budget spent ({MAX_SANDBOX_CALLS} bash/run_tests calls per episode)"
            state.sandbox_calls += 1
            output = ws.bash(command)
            record()
            return output

        def bash(command: str) -> str:
            """Run a shell command in /workspace (no network; time and output are limited).

            Args:
                command: the command line, run with bash -c.
            """
            return sandboxed(command)

        def run_tests(path: str = "") -> str:
            """Run the library's tests with pytest and show the failures.

            Args:
                path: a test file or node id to run; empty runs the tests that cover the bug's module.
            """
            target = _quote(path) if path.strip() else test_paths
            return sandboxed(f"python -m pytest -q -x --tb=short -p no:cacheprovider {target} 2>&1 | tail -n 60")

        def read_file(path: str) -> str:
            """Read a text file of the workspace.

            Args:
                path: the file's path relative to /workspace.
            """
            try:
                return _cut(ws.read(path), ws.budget.max_output_chars * 4)
            except WorkspaceError as exc:
                return f"error: {exc}"

        def write_file(path: str, content: str) -> str:
            """Create or overwrite a text file of the workspace.

            Args:
                path: the file's path relative to /workspace.
                content: the whole new content.
            """
            try:
                ws.write(path, content)
            except WorkspaceError as exc:
                return f"error: {exc}"
            record()
            return f"wrote {len(content)} characters to {path}"

        def str_replace(path: str, old: str, new: str) -> str:
            """Replace the one occurrence of `old` in a file by `new`.

            Args:
                path: the file's path relative to /workspace.
                old: text that occurs exactly once in the file.
                new: the replacement text.
            """
            try:
                ws.replace(path, old, new)
            except WorkspaceError as exc:
                return f"error: {exc}"
            record()
            return f"replaced 1 occurrence in {path}"

        return [bash, read_file, write_file, str_replace, run_tests]

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """The reverse edit with `str_replace` (enough lines around it to be unique), then done."""
        if any(m.role == "assistant" for m in messages):
            return rlhub.Message.assistant("I restored the original code; the failing tests pass again.")
        mutation = Mutation.from_json(task.answer["mutation"])
        buggy = buggy_tree(task.answer)[mutation.path]
        old, new = _unique_window(buggy, mutation)
        arguments = json.dumps({"path": mutation.path, "old": old, "new": new})
        call = rlhub.ToolCall(id="call_0", name="str_replace", arguments=arguments)
        return rlhub.Message.assistant("The mutated line is the bug; restoring it.", tool_calls=(call,))

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return ["", "I don't know.", "I fixed the bug."]


def _unique_window(buggy: str, mutation: Mutation) -> tuple[str, str]:
    """The buggy lines around the mutation, widened until they occur once, and the same lines fixed."""
    lines = buggy.splitlines(keepends=True)
    fixed = mutation.revert(buggy).splitlines(keepends=True)
    line = mutation.line - 1
    for width in range(len(lines)):
        lo, hi = max(0, line - width), min(len(lines), line + width + 1)
        old = "".join(lines[lo:hi])
        if buggy.count(old) == 1:
            return old, "".join(fixed[lo:hi])
    raise AssertionError("unreachable: the whole file occurs once")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[cut: {len(text) - limit} more characters; use bash with sed -n to read a range]"
