"""The tutorial in docs/mcp.md runs as written: its environment passes `check_env`, exploits included."""

import re
from pathlib import Path

import pytest

import rlhub
from rlhub.core.registry import load_path

DOC = Path(__file__).parents[2] / "docs" / "mcp.md"


@pytest.mark.slow
def test_the_tutorial_environment_passes_its_checks(tmp_path: Path) -> None:
    source = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)[0]
    (tmp_path / "world_clock.py").write_text(source)
    (cls,) = load_path(tmp_path / "world_clock.py")
    env = cls()
    report = rlhub.check_env(env, n=3, target=str(tmp_path / "world_clock.py"))
    assert report.ok, report.failures()
    exploits = [r for r in report.results if r.is_exploit and r.score is not None]
    assert {"unclosed <think>", "number spam", "tool call flood"} <= {r.name.split(": ", 1)[1] for r in exploits}
