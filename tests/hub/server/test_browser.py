"""The web pages in headless Chromium against a real server: they render, search works, READMEs cannot
run script, login and token creation work, and no page logs a console error. Screenshots go to
test-artifacts/hub/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.hub.server.conftest import LiveHub

from rlhub.hub.server.models import Owner, Project, Result, Version

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "hub"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
README = """# Invoice math

Totals of generated invoices.

<img src="data:," onerror="window.__pwned = 1">
<script>window.__pwned = 2</script>
[a link](https://example.org)
"""

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        yield page, errors
        browser.close()


def seed(live: LiveHub) -> None:
    token = live.fixture.user("acme", password="browser-pass")
    live.fixture.publish(
        token, "acme", "invoice-math", summary="Totals of generated invoices", keywords="math,finance", readme=README
    )
    live.fixture.publish(token, "acme", "web-shop", summary="Tool use in a fake shop", keywords="tools")
    with live.hub.db.write() as session:
        project = session.query(Project).filter_by(normalized="acme-invoice-math").one()
        version = session.query(Version).filter_by(project_id=project.id).one()
        user = session.query(Owner).filter_by(name="acme").one()
        for model, score in (("qwen-7b", 0.71), ("llama-8b", 0.58), ("tiny", 0.12)):
            session.add(Result(project_id=project.id, version_id=version.id, submitter_id=user.id, model=model,
                               score=score, stderr=0.03, n=200, log_sha256="0" * 64))  # fmt: skip


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_pages_search_and_env(live_hub: LiveHub, browser_page: tuple[Any, list[str]]) -> None:
    page, errors = browser_page
    seed(live_hub)
    page.goto(live_hub.url + "/")
    assert page.locator("li.env").count() == 2
    shot(page, "home")

    page.fill("#q", "invoices")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=invoices*")
    assert page.locator("li.env a.name").all_inner_texts() == ["acme/invoice-math"]
    shot(page, "search")

    page.click("text=acme/invoice-math")
    page.wait_for_url("**/acme/invoice-math")
    assert page.locator("#readme h1").inner_text() == "Invoice math"
    assert page.evaluate("window.__pwned") is None
    assert "acme-invoice-math" in page.locator("#install-pip").inner_text()
    assert page.locator("#leaderboard tbody tr").count() == 3
    assert page.locator("#leaderboard svg.chart rect").count() == 3
    assert "checked: pending" in page.locator("#versions").inner_text()
    shot(page, "env")

    page.goto(live_hub.url + "/acme")
    assert page.locator("li.env").count() == 2
    shot(page, "owner")
    assert errors == []


def test_login_and_token_page(live_hub: LiveHub, browser_page: tuple[Any, list[str]]) -> None:
    page, errors = browser_page
    seed(live_hub)
    page.goto(live_hub.url + "/login")
    shot(page, "login")
    page.fill("input[name=username]", "acme")
    page.fill("input[name=password]", "browser-pass")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_url("**/account/tokens")
    page.fill("form.form input[name=name]", "laptop")
    page.select_option("select[name=scope]", "read")
    page.click("text=Create token")
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("rlhub_")
    assert "laptop" in page.locator("#tokens").inner_text()
    shot(page, "tokens")
    assert errors == []
