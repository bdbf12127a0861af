"""The libraries' source: pinned sdists fetched from a package index on first use, hash-checked, cached.

The index is a PEP 503 simple index: `$RLHUB_SWE_MINI_INDEX`, else `$PIP_INDEX_URL`, else PyPI. A file
whose sha256 differs from the pin is refused, whatever served it, so a mirror or the cache can only
serve the exact release the tasks were built from. The cache is `$RLHUB_HOME/swe-mini/sdists`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
import tempfile
import urllib.request
from functools import cache
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from rlhub.core.errors import RlhubError
from rlhub.hub.schema.constants import rlhub_home
from rlhub_swe_mini.libraries import Library

PYPI = "https://pypi.org/simple/"
MAX_FILE_BYTES = 1 << 20
"""Files of an sdist larger than this are left out of the workspace (none of the pinned libraries' code is)."""


class SdistError(RlhubError):
    """A library's sdist could not be fetched, or what was fetched is not the pinned file."""


def index_url() -> str:
    return os.environ.get("RLHUB_SWE_MINI_INDEX") or os.environ.get("PIP_INDEX_URL") or PYPI


def cache_dir() -> Path:
    return rlhub_home() / "swe-mini" / "sdists"


def sdist_bytes(lib: Library) -> bytes:
    """The pinned sdist: from the cache when it is there and intact, else from the index (then cached)."""
    path = cache_dir() / lib.filename
    if path.exists():
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() == lib.sha256:
            return data
    data = _fetch(lib, index_url())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
    return data


@cache
def source_files(lib: Library) -> dict[str, str]:
    """The sdist's text files by path, its top folder and `*.egg-info` left out: the workspace's tree."""
    out: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(sdist_bytes(lib)), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts[1:]
            if not member.isfile() or not parts or member.size > MAX_FILE_BYTES:
                continue
            if any(p.endswith(".egg-info") or p in ("..", "") for p in parts):
                continue
            raw = tar.extractfile(member)
            assert raw is not None  # a regular file
            try:
                out["/".join(parts)] = raw.read().decode("utf-8")
            except UnicodeDecodeError:
                continue  # binary files are no part of a text workspace
    return out


def _fetch(lib: Library, index: str) -> bytes:
    page_url = urljoin(index.rstrip("/") + "/", _normalise(lib.name) + "/")
    page = _get(page_url, lib).decode("utf-8", "replace")
    links = _Links()
    links.feed(page)
    for href in links.hrefs:
        url = urljoin(page_url, href)
        if PurePosixPath(urlsplit(url).path).name == lib.filename:
            data = _get(url, lib)
            digest = hashlib.sha256(data).hexdigest()
            if digest != lib.sha256:
                raise SdistError(f"{lib.filename} from {url} has sha256 {digest}, not the pinned {lib.sha256}")
            return data
    raise SdistError(f"{lib.filename} is not listed on {page_url}")


def _get(url: str, lib: Library) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return bytes(response.read())
    except OSError as exc:
        raise SdistError(
            f"cannot fetch {lib.filename} (sha256 {lib.sha256}) for swe-mini from {url}: {exc}; nothing is cached at "
            f"{cache_dir()} (offline? set RLHUB_SWE_MINI_INDEX to a reachable simple index, or put the file there)"
        ) from exc


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)
