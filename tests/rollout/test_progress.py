from pathlib import Path

import pytest
from tests.rollout.envs import Add

from rlhub.rollout import RolloutConfig, ScriptedClient, run
from rlhub.rollout.progress import RunProgress


def test_quiet_off_a_terminal() -> None:
    assert RunProgress(10).enabled is False
    assert RunProgress(10, enabled=True).enabled is True


async def test_bar_shows_done_rate_and_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = Add()
    answers = {t.prompt[-1].content: str(t.answer) for t in env.tasks(4, "test")}
    client = ScriptedClient(lambda m: answers[m[-1].content])
    await run(env, client, RolloutConfig(n=4, progress=True), tmp_path / "x.jsonl")
    err = capsys.readouterr().err
    assert "4/4" in err and "mean 1.000" in err
