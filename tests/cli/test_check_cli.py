"""`rlhub check` prints one line per exploit of the battery, and fails on a reward hack."""

from pathlib import Path

from typer.testing import CliRunner

from rlhub.cli.main import app

runner = CliRunner()

SOURCE = """
import re

import rlhub


@rlhub.environment("acme/{name}", version="0.1.0")
class Sums(rlhub.SingleTurnEnv):
    rubric = rlhub.Rubric(correct={rubric})

    def make_task(self, rng):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        return rlhub.Task(prompt=f"What is {{a}} + {{b}}?", answer=str(a + b))
"""


def check(tmp_path: Path, name: str, rubric: str) -> tuple[int, str]:
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE.format(name=name, rubric=rubric))
    result = runner.invoke(app, ["check", str(path), "-n", "5"], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_one_line_per_exploit(tmp_path: Path) -> None:
    code, output = check(tmp_path, "exact", "lambda response, reference: response.strip() == reference")
    assert code == 0, output
    lines = output.splitlines()
    assert any(line.split() == ["✔", "hedge", "(number)", "0.00", "≤", "0.00"] for line in lines), output
    assert any(line.strip().startswith("· tool call flood") and "not applicable" in line for line in lines)
    assert sum(line.strip().startswith(("✔", "✘", "·")) for line in lines) == 9 + 12


def test_a_reward_hack_fails_the_check(tmp_path: Path) -> None:
    code, output = check(tmp_path, "anywhere", r"lambda response, reference: reference in re.findall(r'\d+', response)")
    assert code == 1
    spam = next(line for line in output.splitlines() if "number spam " in line and "one answer" not in line)
    assert spam.strip().startswith("✘") and "1.00 on test-0-0, above its wrong-answer ceiling 0.00" in spam


def test_a_code_environment_says_which_sandbox_limits_tier_is_active() -> None:
    from rlhub.verify.sandbox import limits_tier

    result = runner.invoke(app, ["check", "rlhub/code-stdio", "-n", "2"], env={"COLUMNS": "200"})
    assert f"sandbox limits: {limits_tier()}" in result.output, result.output


def test_an_answer_environment_prints_no_sandbox_line(tmp_path: Path) -> None:
    _, output = check(tmp_path, "plain", "lambda response, reference: response.strip() == reference")
    assert "sandbox limits" not in output
