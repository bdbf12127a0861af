"""`rlhub new --from-data` builds a package that passes its own tests and `rlhub check`; `rlhub export`
writes chat JSONL."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rlhub.cli.main import app

runner = CliRunner()


def _write_data(path: Path) -> Path:
    rows = [{"question": f"What is the code of office {i}?", "answer": f"OF-{i * 7}", "team": "ops"} for i in range(30)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.slow
def test_new_from_data_makes_a_package_that_passes_check(tmp_path: Path) -> None:
    data = _write_data(tmp_path / "offices.jsonl")
    target = tmp_path / "offices"
    result = runner.invoke(
        app, ["new", "acme/offices", "--from-data", str(data), "--dir", str(target), "--verifier", "exact"]
    )
    assert result.exit_code == 0, result.output
    assert "30 rows" in result.output
    check = runner.invoke(app, ["check", str(target), "-n", "10"])
    assert check.exit_code == 0, check.output
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
        capture_output=True,
        text=True,
        cwd=target,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_new_from_data_with_a_judge_verifier_fails_check_loudly_without_a_judge_server(tmp_path: Path) -> None:
    data = _write_data(tmp_path / "offices.jsonl")
    target = tmp_path / "judged"
    result = runner.invoke(
        app, ["new", "acme/judged", "--from-data", str(data), "--dir", str(target), "--verifier", "judge"]
    )
    assert result.exit_code == 0, result.output
    # The generated code imports and its gold answers pass (exact matches never reach the judge), but with
    # no judge server the wrong answers get no verdict: a check that passed here would vouch for nothing.
    check = runner.invoke(
        app, ["check", str(target), "-n", "5"], env={"RLHUB_JUDGE_BASE_URL": "http://127.0.0.1:9/v1", "COLUMNS": "200"}
    )
    assert check.exit_code == 1, check.output
    assert "reference answers score the maximum" in check.output
    assert "no wrong answer could be scored: judge model" in check.output


def test_new_from_data_errors(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"q": "x", "a": "y"}\n')
    missing = runner.invoke(app, ["new", "acme/x", "--from-data", str(data), "--dir", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "lacks 'question'" in str(missing.exception)
    unknown = runner.invoke(
        app, ["new", "acme/x", "--from-data", str(data), "--verifier", "vibes", "--dir", str(tmp_path / "y")]
    )
    assert "unknown verifier" in str(unknown.exception)


def test_export_writes_chat_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "sft.jsonl"
    result = runner.invoke(app, ["export", "rlhub/arithmetic", "--out", str(out), "-n", "5", "-C", "digits=2"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and rows[0]["messages"][-1]["role"] == "assistant"
