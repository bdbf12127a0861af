"""The JSON API and the upload protocol, in process (TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event
from tests.hub.server.conftest import HubFixture
from tests.hub.server.wheels import make_sdist, make_wheel

from rlhub.hub.schema import (
    EnvInfo,
    ErrorResponse,
    SearchResponse,
    TokenCreated,
    TokenScope,
    UploadResponse,
    VersionInfo,
)


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    return ErrorResponse.model_validate(response.json()).error.code.value


def test_publish_then_info_and_search(hub: HubFixture) -> None:
    token = hub.user("acme")
    answer = UploadResponse.model_validate(hub.publish(token, "acme", "invoice-math").json())
    assert (answer.owner, answer.name, answer.version, answer.new_version) == ("acme", "invoice-math", "0.1.0", True)

    info = EnvInfo.model_validate(hub.client.get("/api/v1/envs/acme/invoice-math").json())
    assert info.summary.latest_version == "0.1.0"
    assert info.summary.tags == ("math", "demo")
    version = info.versions[0]
    assert version.env_ids == ("acme/invoice-math",)
    assert version.requires_dist == ("rlhub>=0.1",)
    assert version.check.status.value == "pending"
    assert version.files[0].sha256 == answer.sha256
    assert "two numbers" in info.readme

    found = SearchResponse.model_validate(hub.client.get("/api/v1/envs", params={"q": "invoice"}).json())
    assert [r.name for r in found.results] == ["invoice-math"]
    assert hub.client.get("/api/v1/envs", params={"q": "nothing-like-this"}).json()["total"] == 0
    assert hub.client.get("/api/v1/envs", params={"tag": "math"}).json()["total"] == 1


def test_sdist_after_wheel_is_allowed_but_a_file_never_changes(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo")
    filename, data = make_sdist("acme", "demo")
    second = hub.upload(token, filename, data, "acme", "demo")
    assert second.status_code == 200, second.text
    assert second.json()["new_version"] is False

    filename, data = make_wheel("acme", "demo", summary="changed!")
    again = hub.upload(token, filename, data, "acme", "demo")
    assert again.status_code == 409
    assert error_code(again) == "conflict"
    assert "never change" in again.json()["error"]["message"]
    files = hub.client.get("/api/v1/envs/acme/demo/versions/0.1.0").json()["files"]
    assert len(files) == 2


def test_auth_and_scopes(hub: HubFixture) -> None:
    acme = hub.user("acme")
    other = hub.user("other")
    filename, data = make_wheel("acme", "demo")
    assert hub.upload("rlhub_not-a-token", filename, data, "acme", "demo").status_code == 401
    denied = hub.upload(other, filename, data, "acme", "demo")
    assert denied.status_code == 403 and error_code(denied) == "forbidden"
    read_only = hub.token("acme", TokenScope.read)
    assert hub.upload(read_only, filename, data, "acme", "demo").status_code == 403
    # Bearer works as well as Basic __token__.
    assert hub.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {acme}"}).json()["username"] == "acme"
    assert hub.client.get("/api/v1/whoami").status_code == 401


def test_name_rules_and_confusables(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "invoice-math")
    for name in ("invoice-rnath", "lnvoice-math", "invoice_math"):
        filename, data = make_wheel("acme", name)
        response = hub.upload(token, filename, data, "acme", name)
        assert response.status_code in (400, 409), (name, response.text)
    filename, data = make_wheel("acme", "invoice-rnath")
    response = hub.upload(token, filename, data, "acme", "invoice-rnath")
    assert error_code(response) == "confusable_name"
    # A distribution without an owner part, or with an owner that has separators.
    filename, data = make_wheel("acme", "x")
    bad = hub.upload(token, filename.replace("acme_x", "acmex"), data, "acmex", "")
    assert bad.status_code == 400


def test_metadata_must_match_the_form(hub: HubFixture) -> None:
    token = hub.user("acme")
    filename, data = make_wheel("acme", "demo", "0.2.0")
    response = hub.upload(token, filename.replace("0.2.0", "0.3.0"), data, "acme", "demo", "0.3.0")
    assert response.status_code == 400 and error_code(response) == "bad_metadata"
    wrong_digest = hub.upload(token, *make_wheel("acme", "demo"), "acme", "demo", sha256_digest="0" * 64)
    assert wrong_digest.status_code == 400


def test_yank_and_unyank(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo", "0.1.0")
    hub.publish(token, "acme", "demo", "0.2.0")
    auth = {"Authorization": f"Bearer {token}"}
    yanked = hub.client.post("/api/v1/envs/acme/demo/versions/0.2.0/yank", json={"reason": "broken"}, headers=auth)
    assert VersionInfo.model_validate(yanked.json()).yanked
    assert hub.client.get("/api/v1/envs/acme/demo").json()["summary"]["latest_version"] == "0.1.0"
    page = hub.client.get("/simple/acme-demo/").text
    assert 'data-yanked="broken"' in page
    hub.client.post("/api/v1/envs/acme/demo/versions/0.2.0/unyank", headers=auth)
    assert hub.client.get("/api/v1/envs/acme/demo").json()["summary"]["latest_version"] == "0.2.0"
    assert "data-yanked" not in hub.client.get("/simple/acme-demo/").text


def test_tokens_create_list_revoke(hub: HubFixture) -> None:
    hub.user("acme", password="correct horse")
    created = hub.client.post("/api/v1/tokens", json={"name": "ci", "scope": "read"}, auth=("acme", "correct horse"))
    assert created.status_code == 201, created.text
    token = TokenCreated.model_validate(created.json())
    assert token.token.startswith("rlhub_") and token.info.scope is TokenScope.read
    assert hub.client.post("/api/v1/tokens", json={"name": "x"}, auth=("acme", "wrong")).status_code == 401
    listed = hub.client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token.token}"}).json()["tokens"]
    assert {t["name"] for t in listed} == {"test", "ci"}
    assert [t["last_used_at"] is not None for t in listed if t["name"] == "ci"] == [True]
    assert all(token.token not in str(t) for t in listed)
    revoke = hub.client.delete(f"/api/v1/tokens/{token.info.id}", headers={"Authorization": f"Bearer {token.token}"})
    assert revoke.status_code == 204
    assert hub.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token.token}"}).status_code == 401


def test_orgs_members_publish(hub: HubFixture) -> None:
    alice = hub.user("alice")
    bob = hub.user("bob")
    auth = {"Authorization": f"Bearer {alice}"}
    assert hub.client.post("/api/v1/orgs", json={"name": "lab"}, headers=auth).status_code == 201
    filename, data = make_wheel("lab", "demo")
    assert hub.upload(bob, filename, data, "lab", "demo").status_code == 403
    added = hub.client.put("/api/v1/orgs/lab/members/bob", headers=auth)
    assert added.json()["members"] == ["alice", "bob"]
    assert hub.upload(bob, filename, data, "lab", "demo").status_code == 200
    owner = hub.client.get("/api/v1/owners/lab").json()
    assert owner["kind"] == "org" and [e["name"] for e in owner["envs"]] == ["demo"]


def test_private_envs_need_a_read_token(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.user("other")
    filename, data = make_wheel("acme", "secret")
    assert hub.upload(token, filename, data, "acme", "secret", private="true").status_code == 200
    assert hub.client.get("/api/v1/envs/acme/secret").status_code == 404
    assert hub.client.get("/simple/acme-secret/").status_code == 404
    assert "acme-secret" not in hub.client.get("/simple/").text
    read = hub.token("acme", TokenScope.read)
    assert hub.client.get("/simple/acme-secret/", auth=("__token__", read)).status_code == 200
    assert hub.client.get("/api/v1/envs/acme/secret", headers={"Authorization": f"Bearer {read}"}).status_code == 200
    url = hub.client.get("/api/v1/envs/acme/secret", headers={"Authorization": f"Bearer {read}"}).json()["versions"][0][
        "files"
    ][0]["url"]
    assert hub.client.get(url).status_code == 404
    assert hub.client.get(url, auth=("__token__", read)).content == data


def test_stars_and_downloads(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo")
    auth = {"Authorization": f"Bearer {token}"}
    assert hub.client.put("/api/v1/envs/acme/demo/star", headers=auth).json() == {"starred": True, "stars": 1}
    assert hub.client.put("/api/v1/envs/acme/demo/star", headers=auth).json()["stars"] == 1
    url = hub.client.get("/api/v1/envs/acme/demo").json()["versions"][0]["files"][0]["url"]
    body = hub.client.get(url).content
    assert hashlib.sha256(body).hexdigest() in url
    hub.hub.downloads.flush()
    summary = hub.client.get("/api/v1/envs/acme/demo").json()["summary"]
    assert (summary["downloads"], summary["stars"]) == (1, 1)
    assert hub.client.delete("/api/v1/envs/acme/demo/star", headers=auth).json()["stars"] == 0


def test_errors_are_json_and_openapi_is_served(hub: HubFixture) -> None:
    missing = hub.client.get("/api/v1/envs/acme/nothing")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    bad = hub.client.get("/api/v1/envs", params={"limit": 0})
    assert bad.status_code == 422 and error_code(bad) == "invalid"
    schema = hub.client.get("/openapi.json").json()
    assert "/api/v1/envs/{owner}/{name}" in schema["paths"] and "/legacy/" in schema["paths"]


def test_search_ranks_and_sorts(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "algebra", summary="Linear equations", keywords="math")
    hub.publish(token, "acme", "geometry", summary="Triangles", keywords="math", readme="Uses algebra sometimes.")
    hub.publish(token, "acme", "shop", summary="Tool use", keywords="tools")
    auth = {"Authorization": f"Bearer {token}"}
    hub.client.put("/api/v1/envs/acme/geometry/star", headers=auth)
    for _ in range(3):
        hub.client.get(hub.client.get("/api/v1/envs/acme/shop").json()["versions"][0]["files"][0]["url"])
    hub.hub.downloads.flush()

    def names(**params: str) -> list[str]:
        return [r["name"] for r in hub.client.get("/api/v1/envs", params=params).json()["results"]]

    assert names(q="algebra") == ["algebra", "geometry"]  # name match before a README match
    assert names(sort="downloads")[0] == "shop"
    assert names(sort="stars")[0] == "geometry"
    assert names(sort="recent")[0] == "shop"
    assert names(tag="math", sort="recent") == ["geometry", "algebra"]


def test_a_crash_before_commit_leaves_nothing_visible(hub: HubFixture) -> None:
    token = hub.user("acme")
    filename, data = make_wheel("acme", "fragile")
    hub.client.get("/api/v1/whoami", auth=("__token__", token))  # records last use now, not during the upload

    def crash(_session: object) -> None:
        raise RuntimeError("power cut")

    event.listen(hub.hub.db._write, "before_commit", crash)
    try:
        with pytest.raises(RuntimeError, match="power cut"):
            hub.upload(token, filename, data, "acme", "fragile")
    finally:
        event.remove(hub.hub.db._write, "before_commit", crash)
    assert hub.hub.store.path(hashlib.sha256(data).hexdigest()) is not None  # the blob was written first...
    assert hub.client.get("/api/v1/envs/acme/fragile").status_code == 404  # ...but nothing refers to it
    assert "acme-fragile" not in hub.client.get("/simple/").text
    again = hub.upload(token, filename, data, "acme", "fragile")
    assert again.status_code == 200 and again.json()["new_version"] is True
