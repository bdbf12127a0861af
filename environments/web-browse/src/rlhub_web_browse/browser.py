"""Two browsers over a generated site, behind one interface: `TextBrowser` renders pages in-process (the
default, no browser needed) and `ChromiumBrowser` serves the site's HTML on a loopback HTTP server and
drives headless Chromium with Playwright. Both show a page as `# title`, `URL: path` and the body with
numbered links, so the same actions give the same observations.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

from rlhub_web_browse.site import Link, Site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class View:
    """What the model sees of the current page, and its links in number order."""

    path: str
    title: str
    text: str
    links: tuple[Link, ...]

    def render(self) -> str:
        return f"# {self.title}\nURL: {self.path}\n\n{self.text}"


def site_path(url: str) -> str:
    """The site-relative part of a URL: `http://host/a?q=1` and `a?q=1` both give `/a?q=1`."""
    parts = urlsplit(url.strip())
    path = "/" + parts.path.lstrip("/")
    return f"{path}?{parts.query}" if parts.query else path


def resolve(links: tuple[Link, ...], ref: int | str) -> int:
    """Index of the link a model means: its number, its exact text, or a unique part of its text."""
    text = str(ref).strip().strip("[]").strip()
    if text.isdigit():
        if not 1 <= int(text) <= len(links):
            raise LookupError(f"no link [{text}]; this page has links [1]-[{len(links)}]")
        return int(text) - 1
    folded = text.casefold()
    exact = [i for i, link in enumerate(links) if link.text.casefold() == folded]
    if exact:
        return exact[0]
    partial = [i for i, link in enumerate(links) if folded and folded in link.text.casefold()]
    if len({links[i].url for i in partial}) == 1:
        return partial[0]
    raise LookupError(f"no single link matches {text!r}; give the link's number")


class Browser:
    """History and the five actions; subclasses only load pages and follow links."""

    def __init__(self) -> None:
        self.history: list[View] = []
        self.visited: list[str] = []

    @property
    def current(self) -> View:
        if not self.history:
            raise LookupError("no page is open yet; use search or open first")
        return self.history[-1]

    async def _load(self, path: str) -> View:
        raise NotImplementedError

    async def _follow(self, index: int) -> View:
        return await self._load(self.current.links[index].url)

    def _arrive(self, view: View) -> str:
        self.history.append(view)
        self.visited.append(view.path)
        return view.render()

    async def open(self, url: str) -> str:
        return self._arrive(await self._load(site_path(url)))

    async def search(self, query: str) -> str:
        return self._arrive(await self._load(f"/search?q={quote(query)}"))

    async def click(self, ref: int | str) -> str:
        return self._arrive(await self._follow(resolve(self.current.links, ref)))

    async def back(self) -> str:
        if len(self.history) < 2:
            raise LookupError("there is no previous page")
        self.history.pop()
        previous = self.history.pop()
        return self._arrive(await self._load(previous.path))

    def read(self) -> str:
        return self.current.render()


class TextBrowser(Browser):
    """Pages rendered from the site model in-process."""

    def __init__(self, site: Site):
        super().__init__()
        self.site = site

    async def _load(self, path: str) -> View:
        page = self.site.page(path)
        if page is None:
            raise LookupError(f"404: no page at {path}")
        return View(path, page.title, page.text(), tuple(page.links()))


class ChromiumBrowser(Browser):
    """Real headless Chromium against the site served on 127.0.0.1; links are clicked, not followed."""

    def __init__(self, page: Any, base: str):
        super().__init__()
        self.page = page
        self.base = base

    @classmethod
    @asynccontextmanager
    async def session(cls, site: Site) -> AsyncIterator[ChromiumBrowser]:
        """A browser for one episode: an HTTP server thread and a Chromium process, both closed after."""
        from playwright.async_api import async_playwright

        server = serve(site)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            async with async_playwright() as playwright:
                chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await chromium.new_page()
                    page.set_default_timeout(TIMEOUT_MS)
                    yield cls(page, f"http://127.0.0.1:{server.server_address[1]}")
                finally:
                    await chromium.close()
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    async def _view(self) -> View:
        anchors = await self.page.eval_on_selector_all(
            "a", "els => els.map(a => [a.textContent, a.getAttribute('href')])"
        )
        links = tuple(Link(text.split("] ", 1)[-1], href) for text, href in anchors)
        text = await self.page.inner_text("body")
        return View(site_path(self.page.url), await self.page.title(), text.rstrip(), links)

    async def _load(self, path: str) -> View:
        response = await self.page.goto(self.base + path, wait_until="domcontentloaded")
        if response is None or response.status != 200:
            if self.history:  # stay where we were, as the text browser does
                await self.page.goto(self.base + self.current.path, wait_until="domcontentloaded")
            raise LookupError(f"404: no page at {path}")
        return await self._view()

    async def _follow(self, index: int) -> View:
        async with self.page.expect_navigation(wait_until="domcontentloaded"):
            await self.page.locator("a").nth(index).click()
        return await self._view()


def serve(site: Site) -> ThreadingHTTPServer:
    """An HTTP server for the site's pages on a free loopback port (not yet serving)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = site.page(self.path)
            body = (page.html() if page else "<html><body>Not found</body></html>").encode()
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: requests are not worth a line on stderr."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


__all__ = ["Browser", "ChromiumBrowser", "TextBrowser", "View", "resolve", "serve", "site_path"]
