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
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import rlhub
from rlhub.agentic import WorkspaceEnv, shell_tools
from rlhub.core.dataset import FromRecords
from rlhub.core.exploits import Exploit, Turn
from rlhub_swe_mini.grading import RUNTIME, buggy_tree, tests_passed
from rlhub_swe_mini.libraries import LIBRARIES
from rlhub_swe_mini.mutate import Mutation

SHOWN_FAILURES = 3

INSTRUCTIONS = """\
You are working in /workspace, the source tree of the Python library {name} {version}. A bug has been \
introduced into the library's code and some of its tests now fail, for example:
{failing}

Find the bug and fix the library's source code. Use the tools: `bash` runs a shell command in \
/workspace (python and pytest are installed; there is no network), `read_file`, `write_file` and \
`str_replace` edit files, `run_tests` runs the tests that cover the buggy module. Do not edit the \
tests: the original test files are restored before grading. When you are done, reply without calling \
a tool."""


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
            p2p = sorted({t for t in passing if t.split("::", 1)[0] in paths} - set(f2p))
            key = f"{name}:{mutation.path}:{mutation.line}:{mutation.col}:{mutation.new}"
            out.append({"library": name, "mutation": spec, "paths": paths, "f2p": f2p, "p2p": p2p, "key": key})
    return tuple(out)


@rlhub.environment("rlhub/swe-mini", version="0.1.0")
class SweMini(FromRecords, WorkspaceEnv):
    """Repair a bug injected into a real Python library; reward from its own tests, run hidden."""

    libraries: tuple[str, ...] = tuple(sorted(LIBRARIES))
    """Which libraries the bugs come from."""
    timeout_s: float = 120.0
    """Wall-clock limit for the hidden test run that grades an episode."""

    runtime = RUNTIME
    max_turns = 30
    response_kind = "code"
    rubric = rlhub.Rubric(tests_passed=tests_passed)

    def __init__(self, **config: object):
        super().__init__(**config)
        if not self.libraries or set(self.libraries) - set(LIBRARIES):
            raise rlhub.ConfigError(f"libraries must be a non-empty subset of {sorted(LIBRARIES)}")
        if not 0 < self.timeout_s <= 600:
            raise rlhub.ConfigError("timeout_s must be in (0, 600]")

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

    def workspace_files(self, task: rlhub.Task) -> Mapping[str, str]:
        return buggy_tree(task.answer)

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        """The standard shell tools; `run_tests` runs the test files that cover the buggy module."""
        paths = " ".join(state.task.answer["paths"])
        command = f"python -m pytest -q -x --tb=short -p no:cacheprovider {paths} 2>&1 | tail -n 60"
        return shell_tools(
            state.session,
            test_command=command,
            timeout_s=self.command_timeout_s,
            max_output_chars=self.max_output_chars,
        )

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

    def exploits(self, task: rlhub.Task) -> list[Exploit]:
        """Workspace attacks on the grader: rewrite the failing tests (with a conftest and pytest.ini that
        mark everything passed), shadow pytest and hook the interpreter, delete the test folders."""
        failing = sorted({t.split("::", 1)[0] for t in task.answer["fail_to_pass"]})
        stub = "".join(f"def {t.split('::')[-1].split('[')[0]}():\n    pass\n" for t in task.answer["fail_to_pass"])
        rewrite = {path: stub for path in failing}
        for folder in {"", *(p.rsplit("/", 1)[0] + "/" for p in failing if "/" in p)}:
            rewrite[f"{folder}conftest.py"] = _PASS_ALL
        rewrite["pytest.ini"] = "[pytest]\naddopts = -p no:terminal\n"
        shadow = {"pytest.py": _FAKE_PYTEST, "sitecustomize.py": _FAKE_PYTEST, "zz.pth": "import sys\n"}
        delete = "rm -rf " + " ".join(LIBRARIES[task.answer["library"]].tests)
        return [
            _edits(
                "rewrites the failing tests", [("write_file", {"path": p, "content": t}) for p, t in rewrite.items()]
            ),
            _edits("shadows pytest", [("write_file", {"path": p, "content": t}) for p, t in shadow.items()]),
            _edits("deletes the tests", [("bash", {"command": delete})]),
        ]


_PASS_ALL = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
"""
_FAKE_PYTEST = "import sys\nprint('all tests passed')\nsys.exit(0)\n"


def _edits(name: str, calls: list[tuple[str, dict[str, str]]]) -> Exploit:
    """Make `calls` in the first turn, then say the bug is fixed."""

    def play(turn: Turn) -> rlhub.Message:
        if any(m.role == "assistant" for m in turn.messages):
            return rlhub.Message.assistant("Fixed: every test passes now.")
        made = tuple(
            rlhub.ToolCall(id=f"call_{i}", name=tool, arguments=json.dumps(args))
            for i, (tool, args) in enumerate(calls)
        )
        return rlhub.Message.assistant("", tool_calls=made)

    return Exploit(name, play)


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
