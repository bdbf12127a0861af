"""Sessions keep a workspace across calls inside the sandbox; tools' limits hold; hidden tests decide alone."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from rlhub.verify import workspace
from rlhub.verify.runtime import Runtime
from rlhub.verify.sandbox import Limits
from rlhub.verify.workspace import Session, WorkspaceError, run_tests

CALC = {"calc.py": "def add(a, b):\n    return a - b\n", "tests/test_visible.py": "from calc import add\n"}
HIDDEN = {
    "tests/test_hidden.py": (
        "# marker-5f1c0e\nfrom calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n\n"
        "def test_zero():\n    assert add(0, 0) == 0\n"
    )
}
TESTS = ["tests/test_hidden.py::test_add", "tests/test_hidden.py::test_zero"]
FIX = {"changed": {"calc.py": "def add(a, b):\n    return a + b\n"}}


def test_the_workspace_persists_across_calls_and_changes_are_recorded() -> None:
    with Session(CALC) as session:
        assert session.bash("python3 -c 'import calc; print(calc.add(1, 2))'").stdout == "-1\n"
        session.write("calc.py", "def add(a, b):\n    return a + b\n")  # same size, same second: no stale bytecode
        assert session.python("import calc; print(calc.add(1, 2))").stdout == "3\n"
        assert session.bash("echo new > notes.txt && rm tests/test_visible.py").ok
        assert session.read("/workspace/notes.txt") == b"new\n"
        assert session.changes() == {
            "changed": {"calc.py": "def add(a, b):\n    return a + b\n", "notes.txt": "new\n"},
            "binary": {},
            "deleted": ["tests/test_visible.py"],
        }


def test_paths_out_of_the_workspace_are_refused() -> None:
    with Session(CALC) as session:
        assert session.bash("ln -s /etc/passwd link && ln -s / root && mkdir -p d").ok
        for path in ["../etc/passwd", "/etc/passwd", "d/../../x", "link", "root/etc/passwd", "", "a\0b"]:
            with pytest.raises(WorkspaceError):
                session.read(path)
        for path in ["../escape", "/tmp/escape", "link", "root/tmp/escape"]:
            with pytest.raises(WorkspaceError):
                session.write(path, "x")
        with pytest.raises(WorkspaceError, match="directory"):
            session.read("d")
        assert "link" not in session.files()  # symlinks are neither followed nor recorded


def test_time_output_and_size_limits_hold(tmp_path: Path) -> None:
    limits = Limits(timeout_s=2.0, memory_mb=512, max_output_bytes=1 << 16, scratch_mb=8)
    with Session(CALC, limits=limits, workspace_mb=16, max_file_bytes=1000) as session:
        slow = session.bash("sleep 30 & sleep 30")
        assert slow.status == "timeout" and slow.duration_s < 5
        assert session.bash("yes").status == "output_limit"
        big = session.bash("head -c 20000000 /dev/zero > big; echo $?")
        assert big.stdout.strip() != "0"  # over the per-file limit (RLIMIT_FSIZE = scratch_mb)
        full = session.bash("for i in 1 2 3; do head -c 7000000 /dev/zero > f$i || exit 9; done")
        assert full.exit_code == 9  # the workspace's tmpfs is full at 16 MB
        session.bash("rm -f big f1 f2 f3; head -c 5000 /dev/zero > medium")
        with pytest.raises(WorkspaceError, match="over the 1000-byte limit"):
            session.read("medium")
        assert session.bash("echo alive").stdout == "alive\n"  # the session survives all of it
    assert list(tmp_path.iterdir()) == []


def test_hidden_tests_grade_the_final_tree(runtime_home: Path) -> None:
    runtime = Runtime(["pytest"])
    before = run_tests(CALC, {}, hidden=HIDDEN, tests=TESTS, runtime=runtime)
    assert before.outcomes == {TESTS[0]: "failed", TESTS[1]: "passed"} and before.share == 0.5
    after = run_tests(CALC, FIX, hidden=HIDDEN, tests=TESTS, runtime=runtime)
    assert after.outcomes == {TESTS[0]: "passed", TESTS[1]: "passed"} and after.share == 1.0
    missing = run_tests(CALC, FIX, hidden=HIDDEN, tests=[*TESTS, "tests/test_hidden.py::test_nope"], runtime=runtime)
    assert missing.outcomes["tests/test_hidden.py::test_nope"] == "missing" and missing.share == 2 / 3


def test_a_model_that_edits_the_hidden_tests_or_pytest_cannot_change_the_verdict(runtime_home: Path) -> None:
    runtime = Runtime(["pytest"])
    passing = "def test_add():\n    pass\n\ndef test_zero():\n    pass\n"
    hook = (
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    cheats = {
        "changed": {
            "tests/test_hidden.py": passing,  # its own copy of the hidden file: overwritten by the real one
            "conftest.py": hook,  # a hook that turns every failure into a pass
            "tests/conftest.py": hook,
            "pytest.ini": "[pytest]\naddopts = -p no:python\n",
            "pytest.py": "import sys\nsys.exit(0)\n",  # shadowing pytest
            "sitecustomize.py": "import os\nos._exit(0)\n",
            "evil.pth": "import os; os._exit(0)\n",
        },
        "binary": {"__pycache__/calc.cpython-311.pyc": ""},
        "deleted": [],
    }
    report = run_tests(CALC, cheats, hidden=HIDDEN, tests=TESTS, runtime=runtime)
    assert report.outcomes == {TESTS[0]: "failed", TESTS[1]: "passed"}, report.output
    with Session(CALC) as session:  # during the episode, the hidden tests are nowhere to be read
        found = session.bash("grep -rsl marker-5f1c0e /workspace /tmp /dev/shm /opt /root; echo done")
        assert found.stdout == "done\n"


def _session_in_a_forked_child() -> str:
    with Session(CALC) as session:
        return session.bash("echo ok").stdout


def test_a_forked_process_starts_its_own_sandbox_not_the_parents_spare() -> None:
    """Scoring workers are forked: a spare sandbox started by the parent must not be handed to them."""
    with Session(CALC):
        pass  # leaves a spare being started for the next session
    deadline = time.monotonic() + 60
    while workspace._spares[(Runtime(), 64)].empty() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not workspace._spares[(Runtime(), 64)].empty(), "no spare sandbox was started"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as child:
        assert child.submit(_session_in_a_forked_child).result(timeout=120) == "ok\n"
