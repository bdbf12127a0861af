"""Every catalogue environment, in one parametrised test: it passes `check_env` (the oracle scores the
maximum, wrong answers less, determinism, splits...), and `rlhub eval`'s engine runs it end to end with
the offline mock model and against a real OpenAI-compatible server on loopback. Nothing leaves the
machine: pip and the environments' downloads see only a package index on loopback (`offline`)."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import rlhub
from rlhub.core.registry import env_class
from rlhub.rollout import MockClient, OpenAIClient, RolloutConfig, run
from rlhub.rollout.stub_server import serve_stub
from rlhub.verify.local_index import LocalIndex, pip_environment, wheelhouse

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for p in (ROOT / "environments").glob("*/pyproject.toml"))
# Tasks per split for `check_env` where scoring one task is expensive; the environment's own tests
# run the full check (swe-mini: every score is a pytest run in the sandbox, its tests use n=4).
CHECK_N = {"swe-mini": 2}


def _env_id(package: Path) -> str:
    name = tomllib.loads((package / "pyproject.toml").read_text())["project"]["name"]
    owner, _, rest = name.partition("-")
    return f"{owner}/{rest}"


def test_the_catalogue_is_complete() -> None:
    assert len(PACKAGES) >= 16
    for package in PACKAGES:
        assert (package / "README.md").read_text().strip(), f"{package.name} has no README"
        assert list((package / "tests").glob("test_*.py")), f"{package.name} has no tests"


@pytest.fixture(scope="session")
def loopback_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """What the environments fetch, on loopback: wheels of pytest and its dependencies (the sandbox
    runtime of the agentic environments), repacked from this virtualenv, and the sdists an environment
    package ships in `tests/sdists/` (swe-mini's pinned libraries)."""
    wheels = wheelhouse(["pytest"], tmp_path_factory.mktemp("index") / "wheels")
    with LocalIndex(wheels, *sorted(ROOT.glob("environments/*/tests/sdists"))) as url:
        yield url


@pytest.fixture
def offline(loopback_index: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip and swe-mini use the loopback index only, and runtimes and downloads go to a fresh RLHUB_HOME."""
    for name, value in pip_environment(loopback_index).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("RLHUB_SWE_MINI_INDEX", loopback_index)
    monkeypatch.setenv("RLHUB_HOME", str(tmp_path / "rlhub-home"))


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
@pytest.mark.usefixtures("offline")
def test_checks_and_runs_with_mock_and_http_models(package: Path, tmp_path: Path) -> None:
    env = env_class(_env_id(package))()
    report = rlhub.check_env(env, n=CHECK_N.get(package.name, 8), target=str(package))
    assert report.ok, report.failures()
    config = RolloutConfig(n=4, score_workers=1, progress=False, timeout_s=120)

    async def evaluate() -> tuple[float, int]:
        mock = await run(env, MockClient(env, env.tasks(4, "test"), accuracy=1.0), config, tmp_path / "mock.jsonl")
        async with serve_stub() as url, OpenAIClient("stub", url) as client:
            served = await run(env, client, config, tmp_path / "http.jsonl")
        assert mock.footer is not None, "the mock run wrote no footer"
        return mock.footer.metrics.mean, len([r for r in served.rollouts if r.status == "ok"])

    mock_mean, served_ok = asyncio.run(evaluate())
    assert mock_mean == pytest.approx(env.reward_range[1])  # the mock at accuracy 1 is the oracle
    assert served_ok == 4
