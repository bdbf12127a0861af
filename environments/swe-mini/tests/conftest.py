"""A package index on loopback for swe-mini's tests (`rlhub.verify.local_index`): the libraries' pinned
sdists (shipped in `sdists/`) and wheels of pytest and its dependencies repacked from this virtualenv,
so the sandbox runtime and the workspaces are built exactly as from PyPI, with no traffic off the machine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rlhub.verify.local_index import LocalIndex, pip_environment, wheelhouse

SDISTS = Path(__file__).parent / "sdists"


@pytest.fixture(scope="session", autouse=True)
def loopback_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the index, make it the only one pip and swe-mini use, and give the session its own RLHUB_HOME."""
    wheels = wheelhouse(["pytest"], tmp_path_factory.mktemp("index") / "wheels")
    with LocalIndex(wheels, SDISTS) as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHUB_HOME", str(tmp_path_factory.mktemp("rlhub-home")))
        patch.delenv("RLHUB_SWE_MINI_INDEX", raising=False)  # swe-mini then fetches from PIP_INDEX_URL
        for name, value in pip_environment(url).items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        yield url
