"""HubClient against the hub app in-process (httpx.ASGITransport): publish, discover, yank, errors."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.client.conftest import InProcessHub, free_port, write_wheel

from rlhub.hub.client import (
    HubAuthError,
    HubClient,
    HubConflict,
    HubError,
    HubNotFound,
    HubUnreachable,
    IndexFile,
    InstallError,
    read_dist,
)
from rlhub.hub.schema import CheckStatus, SortOrder, TokenScope


async def test_publish_then_info_search_and_index(acme: HubClient, tmp_path: Path) -> None:
    wheel = read_dist(write_wheel(tmp_path, "acme", "demo", "0.1.0", ("rlhub>=0.1",)))
    assert wheel.filetype == "bdist_wheel" and (wheel.name, wheel.version) == ("acme-demo", "0.1.0")
    seen: list[int] = []
    first = await acme.upload(wheel, seen.append)
    assert (first.owner, first.name, first.version, first.new_version) == ("acme", "demo", "0.1.0", True)
    assert first.sha256 == wheel.sha256 and sum(seen) == wheel.size
    assert first.check == CheckStatus.pending

    info = await acme.info("acme/demo")
    assert info.summary.latest_version == "0.1.0" and info.summary.summary == "demo"
    assert {f.filename: f.sha256 for f in info.versions[0].files} == {wheel.path.name: wheel.sha256}
    assert info.versions[0].requires_dist == ("rlhub>=0.1",)

    found = await acme.search("demo", sort=SortOrder.recent)
    assert [f"{e.owner}/{e.name}" for e in found.results] == ["acme/demo"]

    page = await acme.project("acme-demo")
    assert page is not None
    by_name = {f.filename: f for f in page.files}
    assert by_name[wheel.path.name].hashes["sha256"] == wheel.sha256
    assert by_name[wheel.path.name].url.startswith(acme.url + "/files/")
    assert await acme.project("acme-nothing") is None


async def test_download_verifies_the_index_hash(acme: HubClient, tmp_path: Path) -> None:
    wheel = read_dist(write_wheel(tmp_path / "dist", "acme", "demo", "0.1.0"))
    await acme.upload(wheel)
    page = await acme.project("acme-demo")
    assert page is not None
    (good,) = page.files
    got = await acme.download(good, tmp_path)
    assert hashlib.sha256(got.read_bytes()).hexdigest() == wheel.sha256

    lying = good.model_copy(update={"hashes": {"sha256": "0" * 64}})
    (tmp_path / "bad").mkdir()
    with pytest.raises(InstallError, match="does not match the index"):
        await acme.download(lying, tmp_path / "bad")
    assert list((tmp_path / "bad").iterdir()) == []
    with pytest.raises(InstallError, match="without a sha256"):
        await acme.download(good.model_copy(update={"hashes": {}}), tmp_path / "bad")


async def test_version_conflict_and_auth_errors_are_explained(inproc: InProcessHub, tmp_path: Path) -> None:
    wheel = read_dist(write_wheel(tmp_path, "acme", "demo", "0.1.0"))
    async with inproc.client(inproc.user("acme")) as acme:
        await acme.upload(wheel)
        with pytest.raises(HubConflict) as conflict:
            await acme.upload(wheel)
        assert conflict.value.status == 409
    async with inproc.client(inproc.user("mallory")) as mallory:
        with pytest.raises(HubAuthError, match=r"403.*does not cover this owner"):
            await mallory.upload(read_dist(write_wheel(tmp_path / "m", "acme", "demo", "0.2.0")))
    async with inproc.client("rlhub_not-a-token") as stranger:
        with pytest.raises(HubAuthError, match=r"401.*rlhub login"):
            await stranger.whoami()
    async with inproc.client("") as anonymous:
        with pytest.raises(HubAuthError, match="needs a token"):
            await anonymous.upload(wheel)
        with pytest.raises(HubNotFound, match="404"):
            await anonymous.info("acme/nothing")


async def test_yank_hides_version_from_latest_and_undo_restores(acme: HubClient, tmp_path: Path) -> None:
    for version in ("0.1.0", "0.2.0"):
        await acme.upload(read_dist(write_wheel(tmp_path, "acme", "demo", version)))
    yanked = await acme.yank("acme/demo@0.2.0", reason="wrong rewards")
    assert yanked.yanked and yanked.yanked_reason == "wrong rewards"
    assert (await acme.info("acme/demo")).summary.latest_version == "0.1.0"
    page = await acme.project("acme-demo")
    assert page is not None and any(f.yanked for f in page.files)
    assert not (await acme.yank("acme/demo@0.2.0", undo=True)).yanked
    assert (await acme.info("acme/demo")).summary.latest_version == "0.2.0"


async def test_whoami_token_login_and_leaderboard(inproc: InProcessHub) -> None:
    token = inproc.user("acme")
    async with inproc.client(token) as acme:
        me = await acme.whoami()
        assert me.username == "acme" and me.scope == TokenScope.publish
    async with inproc.client("") as anonymous:
        created = await anonymous.create_token("acme", "pw-acme", name="laptop")
    async with inproc.client(created.token) as fresh:
        assert (await fresh.whoami()).username == "acme"
        with pytest.raises(HubNotFound):
            await fresh.leaderboard("acme/nothing")
    async with inproc.client("") as anonymous:
        with pytest.raises(HubAuthError):
            await anonymous.create_token("acme", "wrong", name="x")


async def test_token_goes_only_to_the_hub_origin(inproc: InProcessHub) -> None:
    async with inproc.client("rlhub_secret") as client:
        assert client._auth("/simple/x/") == {"Authorization": "Bearer rlhub_secret"}
        assert client._auth(f"{inproc.url}/files/a/b.whl") == {"Authorization": "Bearer rlhub_secret"}
        assert client._auth("https://elsewhere.example/files/a/b.whl") == {}


async def test_server_down_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with HubClient(url, "rlhub_token") as client:
        with pytest.raises(HubUnreachable, match=r"cannot reach hub at .*is `rlhub serve` running"):
            await client.search()
        with pytest.raises(HubUnreachable):
            missing = IndexFile(filename="x.whl", url=f"{url}/files/x.whl", hashes={"sha256": "0"})
            await client.download(missing, tmp_path)
        with pytest.raises(HubUnreachable):
            await client.upload(read_dist(write_wheel(tmp_path, "acme", "demo", "0.1.0")))


async def test_private_environment_is_visible_only_with_the_owners_token(inproc: InProcessHub, tmp_path: Path) -> None:
    wheel = read_dist(write_wheel(tmp_path, "acme", "secret", "0.1.0"))
    async with inproc.client(inproc.user("acme")) as acme:
        await acme.upload(wheel, private=True)
        read = await acme.create_token("acme", "pw-acme", name="ci", scope=TokenScope.read)
    async with inproc.client("") as anonymous:
        assert await anonymous.project("acme-secret") is None
        with pytest.raises(HubNotFound):
            await anonymous.info("acme/secret")
    async with inproc.client(read.token) as reader:
        assert (await reader.info("acme/secret")).summary.private
        page = await reader.project("acme-secret")
        assert page is not None
        (tmp_path / "dl").mkdir()
        got = await reader.download(page.files[0], tmp_path / "dl")
        assert hashlib.sha256(got.read_bytes()).hexdigest() == wheel.sha256


async def test_a_server_that_is_not_a_hub_is_a_clear_error() -> None:
    async def not_a_hub(scope: dict, receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<html>hello</html>"})

    async with HubClient("http://elsewhere.test", "", transport=httpx.ASGITransport(app=not_a_hub)) as client:
        with pytest.raises(HubError, match="did not answer like an rlhub hub"):
            await client.search()
