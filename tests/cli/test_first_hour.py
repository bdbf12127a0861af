"""What a new user meets in their first hour, run as they run it: the `rlhub` command in a fresh process.

An error in their environment's code is one line naming file and line; nonsense counts are usage
errors; repeated export rows are announced; `--version` and `train ... --help` say what they should;
a judge with no server fails `check` and `view` says why."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = {
    "syntax": ("class Broken(rlhub.SingleTurnEnv):", "class Broken(rlhub.SingleTurnEnv)"),
    "import": ("import random\n", "import random\nimport no_such_module_here\n"),
    "make_task": ("        a, b = rng", '        raise ValueError("boom")\n        a, b = rng'),
}


def rlhub(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "rlhub.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environ,
        timeout=240,
    )


def broken_env(tmp_path: Path, kind: str) -> str:
    """A scaffolded package `acme/<kind>` with one mistake; returns its directory name."""
    name = kind.replace("_", "")
    assert rlhub("init", f"acme/{name}", cwd=tmp_path).returncode == 0
    source = tmp_path / name / "src" / f"acme_{name}" / "env.py"
    old, new = BROKEN[kind]
    old = old.replace("Broken", name.capitalize())
    new = new.replace("Broken", name.capitalize())
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new, 1))
    return name


def line_of(tmp_path: Path, name: str, needle: str) -> int:
    lines = (tmp_path / name / "src" / f"acme_{name}" / "env.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize(
    ("kind", "command", "expected"),
    [
        ("syntax", "eval", "SyntaxError: expected ':'"),
        ("syntax", "check", "SyntaxError: expected ':'"),
        ("import", "eval", "ModuleNotFoundError: No module named 'no_such_module_here'"),
        ("import", "check", "ModuleNotFoundError: No module named 'no_such_module_here'"),
        ("make_task", "eval", "ValueError: boom"),
    ],
)
def test_an_error_in_the_environment_is_one_line(tmp_path: Path, kind: str, command: str, expected: str) -> None:
    name = broken_env(tmp_path, kind)
    line = line_of(tmp_path, name, {"syntax": "class ", "import": "no_such_module", "make_task": "boom"}[kind])
    args = [command, name, *(["--model", "mock", "-n", "2", "-o", "runs"] if command == "eval" else ["-n", "2"])]
    done = rlhub(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {name}/src/acme_{name}/env.py:{line}: {expected}   (--debug for the traceback)"
    ]
    debug = rlhub(*args, "--debug", cwd=tmp_path)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr and expected in debug.stderr


def test_make_task_error_under_check_names_file_and_line(tmp_path: Path) -> None:
    name = broken_env(tmp_path, "make_task")
    done = rlhub("check", name, "-n", "2", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    where = f"{name}/src/acme_{name}/env.py:{line_of(tmp_path, name, 'boom')}"
    assert f"✘ generates tasks ({where}: ValueError: boom)" in done.stdout


def test_version(tmp_path: Path) -> None:
    import rlhub as package

    done = rlhub("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == f"rlhub {package.__version__}\n"


def qa_package(tmp_path: Path, name: str, rows: int, verifier: str = "exact") -> str:
    data = tmp_path / f"{name}.jsonl"
    data.write_text(
        "".join(json.dumps({"question": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n" for i in range(rows))
    )
    done = rlhub("new", f"acme/{name}", "--from-data", str(data), "--verifier", verifier, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return name


def test_negative_counts_are_usage_errors(tmp_path: Path) -> None:
    name = qa_package(tmp_path, "small", 21)
    for args in (["check", name, "-n", "-5"], ["export", name, "-o", "out.jsonl", "-n", "-5"]):
        done = rlhub(*args, cwd=tmp_path)
        assert done.returncode == 2 and "Invalid value for '-n'" in done.stderr, done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_export_says_when_rows_repeat(tmp_path: Path) -> None:
    name = qa_package(tmp_path, "small", 21)
    done = rlhub("export", name, "-o", "out.jsonl", "-n", "1000", cwd=tmp_path)
    assert done.returncode == 0
    rows = (tmp_path / "out.jsonl").read_text().splitlines()
    distinct = len({json.dumps(json.loads(r)["messages"]) for r in rows})
    assert len(rows) == 1000 and distinct < 21
    assert f"warning: rows repeat: {distinct} distinct of 1,000" in done.stderr
    few = rlhub("export", name, "-o", "out.jsonl", "-n", "3", cwd=tmp_path)
    assert few.returncode == 0 and few.stderr == ""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_a_judge_without_its_server_fails_check_and_view_says_why(tmp_path: Path) -> None:
    name = qa_package(tmp_path, "judged", 10, verifier="judge")
    dead = {"RLHUB_JUDGE_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1"}
    check = rlhub("check", name, "-n", "3", cwd=tmp_path, env=dead)
    assert check.returncode == 1
    failed = next(line for line in check.stdout.splitlines() if "wrong answers score less" in line)
    assert (
        failed.lstrip().startswith("✘")
        and "no wrong answer could be scored" in failed
        and "judge model 'judge' failed" in failed
    )
    evaluated = rlhub(
        "eval",
        name,
        "--model",
        "mock",
        "--mock-accuracy",
        "0",
        "-n",
        "3",
        "-o",
        "log.jsonl",
        "-q",
        cwd=tmp_path,
        env=dead,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    view = rlhub("view", "log.jsonl", cwd=tmp_path)
    assert "3 score(s) error, e.g.: judge model 'judge' failed:" in view.stdout
    assert "connection failed" in view.stdout


def test_train_help_lists_the_config_overrides(tmp_path: Path) -> None:
    sft = rlhub("train", "sft", "--help", cwd=tmp_path)
    assert sft.returncode == 0
    steps = next(line for line in sft.stdout.splitlines() if "--sft.steps" in line)
    assert "int" in steps and "1500" in steps and "Most optimizer steps." in steps
    assert "--run.progress_every" in sft.stdout and "--grpo.lr" not in sft.stdout
    pipeline = rlhub("train", "pipeline", "--help", cwd=tmp_path)
    assert all(f"--{flag}" in pipeline.stdout for flag in ("grpo.lr", "sft.stop_at", "diloco.inner_steps"))
