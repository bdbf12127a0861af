"""A package index on loopback serving wheels repacked from this virtualenv's installed distributions
(`rlhub.verify.local_index`): runtimes are built with pip from an index, and tests must not reach the
internet, so pip resolves, downloads and hash-checks these exactly as it would from PyPI."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from rlhub.verify.local_index import LocalIndex, pip_environment, wheelhouse


def only_index(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Make `url` the one place pip looks, for this test."""
    for name, value in pip_environment(url).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def loopback_pytest_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A loopback index holding pytest and its dependencies."""
    with LocalIndex(wheelhouse(["pytest"], tmp_path_factory.mktemp("index-pytest") / "wheels")) as url:
        yield url


@pytest.fixture
def use_index(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """`use_index(url)`: pip looks at `url` only, for this test."""
    return lambda url: only_index(monkeypatch, url)


@pytest.fixture
def loopback_index(tmp_path: Path, use_index: Callable[[str], None]) -> Iterator[Callable[[list[str]], str]]:
    """`loopback_index(names)`: serve those installed distributions on loopback and make pip use only it."""
    count = itertools.count()
    with ExitStack() as servers:

        def start(names: list[str]) -> str:
            url = servers.enter_context(LocalIndex(wheelhouse(names, tmp_path / f"index-{next(count)}")))
            use_index(url)
            return url

        yield start


@pytest.fixture(scope="session")
def shared_runtimes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RLHUB_HOME shared by the tests that opt in, so a runtime is built once per test session."""
    return tmp_path_factory.mktemp("rlhub-home-shared")


@pytest.fixture
def runtime_home(shared_runtimes: Path, loopback_pytest_index: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RLHUB_HOME where `Runtime(["pytest"])` is (or will be) built from the loopback index."""
    monkeypatch.setenv("RLHUB_HOME", str(shared_runtimes))
    only_index(monkeypatch, loopback_pytest_index)
    return shared_runtimes
