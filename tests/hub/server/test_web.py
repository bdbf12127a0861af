"""Server-rendered pages in process: content, sanitised READMEs, login and token management."""

from __future__ import annotations

import re

from tests.hub.server.conftest import HubFixture

from rlhub.hub.server.render import readme_html

HOSTILE = """# Title

<script>alert('x')</script>
<img src="x" onerror="alert(1)">
[click](javascript:alert(1))
<a href="https://example.org" onclick="steal()">ok link</a>
<iframe src="https://evil.example"></iframe>
<style>body { display: none }</style>
<a href="javascript:alert(2)">raw link</a>
"""


def test_readme_is_sanitised() -> None:
    html = readme_html(HOSTILE)
    assert "<h1>Title</h1>" in html
    for bad in ("<script", "onerror", 'href="javascript', "onclick", "<iframe", "<style"):
        assert bad not in html.lower(), bad
    assert 'href="https://example.org"' in html and "ok link" in html


def test_env_page_shows_everything(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "demo", readme=HOSTILE)
    page = hub.client.get("/acme/demo")
    assert page.status_code == 200
    html = page.text
    assert "pip install --index-url http://testserver/simple/ acme-demo" in html
    assert "rlhub install acme/demo" in html
    assert "checked: pending" in html and "acme_demo-0.1.0-py3-none-any.whl" in html
    assert "<script>alert" not in html and 'href="javascript' not in html
    assert hub.client.get("/acme").status_code == 200
    assert hub.client.get("/acme/nothing").status_code == 404


def test_home_search(hub: HubFixture) -> None:
    token = hub.user("acme")
    hub.publish(token, "acme", "algebra", summary="Solve linear equations", keywords="math")
    hub.publish(token, "acme", "web-agent", summary="Browse a fake shop", keywords="tools")
    html = hub.client.get("/", params={"q": "linear"}).text
    assert "acme/algebra" in html and "acme/web-agent" not in html
    tagged = hub.client.get("/", params={"tag": "tools"}).text
    assert "acme/web-agent" in tagged and "acme/algebra" not in tagged


def test_login_and_tokens(hub: HubFixture) -> None:
    hub.user("acme", password="s3cret-pass")
    assert hub.client.post("/login", data={"username": "acme", "password": "nope"}).status_code == 401
    login = hub.client.post("/login", data={"username": "acme", "password": "s3cret-pass"}, follow_redirects=False)
    assert login.status_code == 303 and "rlhub_session" in login.headers["set-cookie"]
    assert "httponly" in login.headers["set-cookie"].lower()
    created = hub.client.post("/account/tokens", data={"name": "laptop", "scope": "read", "owner": ""})
    secret = re.search(r'id="new-token">(rlhub_[^<]+)<', created.text)
    assert secret, created.text
    whoami = hub.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {secret.group(1)}"}).json()
    assert whoami["scope"] == "read"
    hub.client.post("/logout")
    hub.client.cookies.clear()
    assert hub.client.get("/account/tokens", follow_redirects=False).headers["location"] == "/login"
