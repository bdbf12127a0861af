"""`install`: from a real hub on loopback into a throwaway venv, hash-pinned, immune to a hostile index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from tests.hub.client.conftest import EvilIndex, LiveHub, installed, write_wheel

from rlhub.hub.client import HubClient, InstallError, read_dist
from rlhub.hub.client.install import IndexFile, IndexPage, TargetEnv, choose, install


async def _publish(client: HubClient, tmp_path: Path, name: str, version: str, *requires: str) -> None:
    await client.upload(read_dist(write_wheel(tmp_path / "dist", "acme", name, version, ("rlhub>=0.1", *requires))))


def _run(python: Path, code: str) -> str:
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.slow
async def test_install_pins_hub_wheels_and_leaves_installed_packages(
    live: LiveHub, target_venv: Path, tmp_path: Path
) -> None:
    async with live.client(live.user("acme")) as client:
        await _publish(client, tmp_path, "base", "0.1.0")
        await _publish(client, tmp_path, "demo", "0.1.0", "acme-base>=0.1")
        plan = await install(client, "acme/demo", python=str(target_venv))
        assert [(p.name, p.version) for p in plan.hub] == [("acme-demo", "0.1.0"), ("acme-base", "0.1.0")]
        assert plan.hub[1].required_by == "acme-demo 0.1.0"
        assert any(s.startswith("rlhub ") for s in plan.satisfied) and not plan.third_party and not plan.changes
        assert installed(target_venv, "acme-demo") == "0.1.0" and installed(target_venv, "acme-base") == "0.1.0"
        assert installed(target_venv, "rlhub") is None  # already there (inherited): not reinstalled
        code = "import rlhub, acme_demo; print(acme_demo.MARK, rlhub.load('acme/demo').version)"
        assert _run(target_venv, code) == "hub 0.1.0"

        again = await install(client, "acme/demo", python=str(target_venv))
        assert again.hub == [] and any(s.startswith("acme-demo 0.1.0") for s in again.satisfied)


@pytest.mark.slow
async def test_a_higher_version_on_another_index_is_never_taken(
    live: LiveHub, target_venv: Path, tmp_path: Path, evil_index: EvilIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with live.client(live.user("acme")) as client:
        await _publish(client, tmp_path, "base", "0.1.0")
        await _publish(client, tmp_path, "demo", "0.1.0", "acme-base>=0.1")
    evil_index.offer("acme", "demo", "9.9.9", ("acme-base>=0.1",))
    evil_index.offer("acme", "base", "9.9.9")

    # Control: stock pip given both indexes takes the hostile 9.9.9, so the attack is real.
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--report", "-",
         "--index-url", f"{evil_index.url}/simple/", "--extra-index-url", f"{live.url}/simple/", "acme-demo"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert [i["metadata"]["version"] for i in json.loads(report.stdout)["install"]] == ["9.9.9"]

    # rlhub install with the hostile index configured as the user's pip index still gets the hub's files.
    monkeypatch.setenv("PIP_INDEX_URL", f"{evil_index.url}/simple/")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", f"{evil_index.url}/simple/")
    async with live.client("") as anonymous:
        await install(anonymous, "acme/demo", python=str(target_venv))
    assert installed(target_venv, "acme-demo") == "0.1.0" and installed(target_venv, "acme-base") == "0.1.0"
    assert _run(target_venv, "import acme_demo, acme_base; print(acme_demo.MARK, acme_base.MARK)") == "hub hub"


@pytest.mark.slow
async def test_conflicts_are_explained_and_upgrade_deps_allows_them(
    live: LiveHub, target_venv: Path, tmp_path: Path
) -> None:
    async with live.client(live.user("acme")) as client:
        await _publish(client, tmp_path, "base", "0.1.0")
        await _publish(client, tmp_path, "base", "0.2.0")
        await _publish(client, tmp_path, "strict", "0.1.0", "packaging>=999")
        await _publish(client, tmp_path, "demo", "0.1.0", "acme-base>=0.2")
        await install(client, "acme/base@0.1.0", python=str(target_venv))
        assert installed(target_venv, "acme-base") == "0.1.0"

        with pytest.raises(InstallError, match=r"packaging>=999, but packaging .* is installed"):
            await install(client, "acme/strict", python=str(target_venv))
        with pytest.raises(InstallError, match=r"(?s)acme-base 0\.1\.0 is installed.*--upgrade-deps") as conflict:
            await install(client, "acme/demo", python=str(target_venv))
        assert "nothing was installed" in str(conflict.value)
        assert installed(target_venv, "acme-demo") is None and installed(target_venv, "acme-base") == "0.1.0"

        plan = await install(client, "acme/demo", python=str(target_venv), upgrade_deps=True)
        assert plan.changes == ["acme-base 0.1.0 -> 0.2.0"]
        assert installed(target_venv, "acme-demo") == "0.1.0" and installed(target_venv, "acme-base") == "0.2.0"


def _page(*files: tuple[str, bool | str, str | None]) -> IndexPage:
    return IndexPage(
        name="acme-demo",
        files=tuple(
            IndexFile(filename=f, url=f"/files/x/{f}", hashes={"sha256": "0" * 64}, yanked=y, requires_python=rp)
            for f, y, rp in files
        ),
    )


def test_choose_prefers_newest_pure_wheel_and_respects_yank_and_python() -> None:
    target = TargetEnv(sys.executable, {}, {"python_full_version": "3.11.7"})
    page = _page(
        ("acme_demo-0.1.0-py3-none-any.whl", False, None),
        ("acme_demo-0.1.0.tar.gz", False, None),
        ("acme_demo-0.2.0-py3-none-any.whl", "broken rewards", None),
        ("acme_demo-0.3.0-cp311-cp311-manylinux_2_17_x86_64.whl", False, None),
        ("acme_demo-0.4.0-py3-none-any.whl", False, ">=3.13"),
    )
    assert str(choose(page, SpecifierSet(), target)[0]) == "0.1.0"
    assert str(choose(page, SpecifierSet("==0.2.0"), target)[0]) == "0.2.0"  # yanked, but pinned (PEP 592)
    with pytest.raises(InstallError, match=r"no installable wheel of acme-demo >=0\.3"):
        choose(page, SpecifierSet(">=0.3"), target)


@pytest.mark.slow
async def test_dependencies_the_hub_lacks_come_from_the_users_index(
    live: LiveHub, target_venv: Path, tmp_path: Path, evil_index: EvilIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    evil_index.offer("leftpad", "py", "1.2.0")  # stands in for PyPI: a package the hub does not have
    monkeypatch.setenv("PIP_INDEX_URL", f"{evil_index.url}/simple/")
    async with live.client(live.user("acme")) as client:
        await _publish(client, tmp_path, "demo", "0.1.0", "leftpad-py>=1")
        plan = await install(client, "acme/demo", python=str(target_venv))
    assert plan.third_party == ["leftpad-py>=1"]
    assert installed(target_venv, "leftpad-py") == "1.2.0" and installed(target_venv, "acme-demo") == "0.1.0"

    # A third-party package that would need an installed one changed: pip is held to installed versions.
    evil_index.offer("rightpad", "py", "1.0.0", ("packaging>=999",))
    async with live.client(live.user("bob")) as client:
        await client.upload(read_dist(write_wheel(tmp_path / "b", "bob", "greedy", "0.1.0", ("rightpad-py>=1",))))
        with pytest.raises(InstallError, match=r"(?s)conflict.*held to your installed versions.*--upgrade-deps"):
            await install(client, "bob/greedy", python=str(target_venv))
    assert installed(target_venv, "rightpad-py") is None and installed(target_venv, "bob-greedy") is None


@pytest.mark.slow
async def test_a_venv_without_pip_is_served_by_this_pip(live: LiveHub, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    async with live.client(live.user("acme")) as client:
        await client.upload(read_dist(write_wheel(tmp_path / "dist", "acme", "solo", "0.1.0")))
        plan = await install(client, "acme/solo", python=str(bare / "bin" / "python"))
    assert [p.name for p in plan.hub] == ["acme-solo"]
    assert installed(bare / "bin" / "python", "acme-solo") == "0.1.0"
