"""Grading an episode: the library's own tests, restored, run where the model cannot reach.

The tree is the task's buggy tree plus the model's recorded changes, minus anything inside the
library's test folders (a new module there could shadow what the tests import), with the released test
files written over it; `rlhub.verify.workspace.run_tests` then drops changes to test infrastructure
(`conftest.py`, `pytest.ini`, `*.pth`, ...) and runs pytest in a fresh sandbox session.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import rlhub
from rlhub.verify.runtime import Runtime
from rlhub.verify.workspace import SESSION_LIMITS, run_tests
from rlhub_swe_mini.libraries import LIBRARIES, Library
from rlhub_swe_mini.mutate import Mutation
from rlhub_swe_mini.sdists import source_files

PYTEST = "pytest==9.2.0"
"""The test runner the tasks were built with; the sandbox runtime pins the same."""
RUNTIME = Runtime(python_packages=[PYTEST])


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


def outside_tests(changes: dict[str, Any], lib: Library) -> dict[str, Any]:
    """The changes minus every path inside the library's test folders or files."""

    def kept(path: str) -> bool:
        return not any(path == r or path.startswith(r + "/") for r in lib.tests)

    return {
        "changed": {p: t for p, t in changes.get("changed", {}).items() if kept(p)},
        "binary": {p: t for p, t in changes.get("binary", {}).items() if kept(p)},
        "deleted": [p for p in changes.get("deleted", []) if kept(p)],
    }


def tests_passed(response: str, reference: dict[str, Any], info: dict[str, Any]) -> rlhub.Score:
    """½ · share of fail-to-pass + ½ · share of pass-to-pass tests passing on the graded tree."""
    f2p, p2p = reference["fail_to_pass"], reference["pass_to_pass"]
    if "workspace" not in info:
        return rlhub.Score(value=0.0, status=rlhub.ScoreStatus.error, detail="no workspace changes recorded in info")
    lib = LIBRARIES[reference["library"]]
    changes = outside_tests(info["workspace"], lib)
    status = rlhub.ScoreStatus.incorrect
    if not any(changes.values()):
        outcomes = {t: "passed" for t in p2p}  # the untouched buggy tree, as measured when the task was built
    else:
        limits = replace(SESSION_LIMITS, timeout_s=float(reference["timeout_s"]))
        report = run_tests(
            buggy_tree(reference), changes, hidden=hidden_tests(lib), tests=f2p + p2p, runtime=RUNTIME, limits=limits
        )
        outcomes = dict(report.outcomes)
        if report.status == "timeout":
            status = rlhub.ScoreStatus.timeout
    fixed = sum(outcomes.get(t) == "passed" for t in f2p)
    kept = sum(outcomes.get(t) == "passed" for t in p2p)
    value = 0.5 * fixed / len(f2p) + (0.5 * kept / len(p2p) if p2p else 0.5)
    if value >= 1.0:
        status = rlhub.ScoreStatus.correct
    return rlhub.Score(
        value=value, status=status, detail=f"fail-to-pass {fixed}/{len(f2p)}, pass-to-pass {kept}/{len(p2p)}"
    )
