"""What the API document promises and what the API answers agree: errors are 4xx with an
`ErrorResponse`, timestamps are RFC 3339 with a timezone, auth schemes and error statuses are
declared, 405s say what is allowed, and booleans are JSON booleans."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.hub.server.conftest import HubFixture

from rlhub.hub.schema import ErrorResponse


def aware(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None, text
    assert text.endswith("Z"), text
    return parsed


@pytest.mark.parametrize("log", ["null", "0", "[]", '"text"', "true", "{}\n[1]"])
def test_a_log_that_is_not_json_objects_is_a_400(hub: HubFixture, log: str) -> None:
    token = hub.user("acme")
    response = hub.client.post("/api/v1/results", json={"log": log}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.text
    assert ErrorResponse.model_validate(response.json()).error.code.value == "invalid"


def test_timestamps_are_rfc3339_with_a_timezone_and_agree(hub: HubFixture) -> None:
    auth = ("acme", "correct horse")
    hub.user("acme", password="correct horse")
    created = hub.client.post("/api/v1/tokens", json={"name": "laptop"}, auth=auth)
    assert created.status_code == 201, created.text
    info = created.json()["info"]
    listed = hub.client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {created.json()['token']}"}).json()
    same = next(t for t in listed["tokens"] if t["id"] == info["id"])
    assert same["created_at"] == info["created_at"]
    aware(info["created_at"])
    assert all(aware(t["last_used_at"]) for t in listed["tokens"] if t["last_used_at"])

    hub.publish(created.json()["token"], "acme", "demo")
    env = hub.client.get("/api/v1/envs/acme/demo").json()
    aware(env["summary"]["updated_at"])
    version = env["versions"][0]
    aware(version["created_at"])
    aware(version["files"][0]["uploaded_at"])


def test_openapi_declares_auth_and_real_errors(hub: HubFixture) -> None:
    doc = hub.client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["token"] == {"type": "http", "scheme": "bearer", "description": schemes["token"]["description"]}
    assert schemes["basic"]["scheme"] == "basic"
    paths = doc["paths"]
    assert paths["/api/v1/whoami"]["get"]["security"] == [{"token": []}, {"basic": []}]
    assert {} in paths["/api/v1/envs"]["get"]["security"]  # anonymous callers too
    assert "security" not in paths["/api/v1/health"]["get"]
    upload = paths["/legacy/"]["post"]
    assert set(upload["responses"]) >= {"200", "400", "401", "403", "409", "413"}
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert set(paths["/api/v1/results"]["post"]["responses"]) >= {"201", "400", "401", "403", "404", "413", "422"}
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == error_ref, (method, path, status)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/envs/acme/demo", "GET, PATCH"),
        ("TRACE", "/api/v1/health", "GET"),
        ("POST", "/api/v1/envs/acme/demo/star", "DELETE, PUT"),
        ("GET", "/legacy/", "POST"),
    ],
)
def test_405_names_every_allowed_method(hub: HubFixture, method: str, path: str, allow: str) -> None:
    response = hub.client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert ErrorResponse.model_validate(response.json())


@pytest.mark.parametrize("value", [0.0, 1, 0, "true", "false", "yes", None])
def test_private_takes_only_json_booleans(hub: HubFixture, value: object) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo")
    auth = {"Authorization": f"Bearer {token}"}
    response = hub.client.patch("/api/v1/envs/acme/demo", json={"private": value}, headers=auth)
    if value is None:
        assert response.status_code == 200 and response.json()["summary"]["private"] is False
    else:
        assert response.status_code == 422, response.text
        assert "private" in response.json()["error"]["message"]
    assert hub.client.patch("/api/v1/envs/acme/demo", json={"private": True}, headers=auth).json()["summary"]["private"]


@pytest.mark.parametrize("path", ["/api/v1/results/9223372036854775808", "/api/v1/results/0", "/api/v1/results/-1"])
def test_ids_out_of_range_are_a_422(hub: HubFixture, path: str) -> None:
    response = hub.client.get(path)
    assert response.status_code == 422, response.text


def test_a_long_yank_reason_is_a_422_on_every_database(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo")
    url = "/api/v1/envs/acme/demo/versions/0.1.0/yank"
    response = hub.client.post(url, json={"reason": "x" * 513}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"version": "1." + ".".join(["0"] * 40)}, "bad_metadata"),
        ({"name": "n" + "-x" * 40}, "bad_name"),
        ({"requires_python": ">=3.11," + ",".join(["!=3.12.0"] * 30)}, "bad_metadata"),
        ({"content_type": "text/markdown; " + "x" * 200}, "bad_metadata"),
        ({"tags": "." + ".".join(f"py3{i}" for i in range(80))}, "invalid"),
    ],
)
def test_fields_longer_than_their_columns_are_a_400_on_every_database(
    hub: HubFixture, change: dict[str, str], code: str
) -> None:
    from tests.hub.server.wheels import make_wheel

    version = change.get("version", "0.1.0")
    name = change.get("name", "demo")
    meta = {key: change[key] for key in ("requires_python", "content_type") if key in change}
    filename, data = make_wheel("acme", name, version, **meta)
    if "tags" in change:
        filename = filename.replace("-py3-", f"-py3{change['tags']}-")
    response = hub.upload(hub.user("acme"), filename, data, "acme", name, version)
    assert response.status_code == 400, response.text
    assert ErrorResponse.model_validate(response.json()).error.code.value == code, response.text
