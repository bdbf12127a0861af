"""Every catalogue environment, in one parametrised test: it passes `check_env` (the oracle scores the
maximum, wrong answers less, determinism, splits...), and `rlhub eval`'s engine runs it end to end with
the offline mock model and against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest

import rlhub
from rlhub.core.registry import env_class
from rlhub.rollout import MockClient, OpenAIClient, RolloutConfig, run
from rlhub.rollout.stub_server import serve_stub

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for p in (ROOT / "environments").glob("*/pyproject.toml"))


def _env_id(package: Path) -> str:
    name = tomllib.loads((package / "pyproject.toml").read_text())["project"]["name"]
    owner, _, rest = name.partition("-")
    return f"{owner}/{rest}"


def test_the_catalogue_is_complete() -> None:
    assert len(PACKAGES) >= 16
    for package in PACKAGES:
        assert (package / "README.md").read_text().strip(), f"{package.name} has no README"
        assert list((package / "tests").glob("test_*.py")), f"{package.name} has no tests"


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_checks_and_runs_with_mock_and_http_models(package: Path, tmp_path: Path) -> None:
    env = env_class(_env_id(package))()
    report = rlhub.check_env(env, n=8, target=str(package))
    assert report.ok, report.failures()
    config = RolloutConfig(n=4, score_workers=1, progress=False, timeout_s=120)

    async def evaluate() -> tuple[float, int]:
        mock = await run(env, MockClient(env, env.tasks(4, "test"), accuracy=1.0), config, tmp_path / "mock.jsonl")
        async with serve_stub() as url, OpenAIClient("stub", url) as client:
            served = await run(env, client, config, tmp_path / "http.jsonl")
        return mock.footer.metrics.mean, len([r for r in served.rollouts if r.status == "ok"])

    mock_mean, served_ok = asyncio.run(evaluate())
    assert mock_mean == pytest.approx(env.reward_range[1])  # the mock at accuracy 1 is the oracle
    assert served_ok == 4
