"""The loopback package index: PEP 503 pages whose hashes match the bytes served, and loud failures."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from rlhub.verify.local_index import LocalIndex, closure, repack


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def test_pages_list_wheels_and_sdists_with_the_sha256_of_what_is_served(tmp_path: Path) -> None:
    wheels, sdists = tmp_path / "wheels", tmp_path / "sdists"
    wheels.mkdir()
    sdists.mkdir()
    wheel = repack("iniconfig", wheels)
    (sdists / "My.Lib-1.0.tar.gz").write_bytes(b"an sdist")
    with LocalIndex(wheels, sdists) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/simple/")
        assert re.findall(r'href="([^"]+)"', get(url).decode()) == ["iniconfig/", "my-lib/"]
        for project, path in (("iniconfig", wheel), ("My_Lib", sdists / "My.Lib-1.0.tar.gz")):
            page = url + project  # any spelling of the name, with or without the slash
            (href,) = re.findall(r'href="([^"]+)"', get(page).decode())
            served = get(urllib.parse.urljoin(page + "/", href))
            assert served == path.read_bytes()
            assert href.endswith(f"#sha256={hashlib.sha256(served).hexdigest()}")
        with pytest.raises(urllib.error.HTTPError, match="404"):
            get(url + "numpy/")


def test_a_repacked_wheel_records_the_hash_of_every_file(tmp_path: Path) -> None:
    with zipfile.ZipFile(repack("pluggy", tmp_path)) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        rows = [line.split(",") for line in archive.read(record).decode().splitlines()]
        assert {r[0] for r in rows} == set(archive.namelist())
        for name, digest, _ in rows:
            if name != record:
                data = archive.read(name)
                assert (
                    digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                )


def test_closure_follows_requirements() -> None:
    assert closure(["pytest"]) >= {"pytest", "pluggy", "iniconfig", "packaging"}


def test_a_file_that_is_not_a_distribution_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    with pytest.raises(ValueError, match="neither a wheel nor an sdist"), LocalIndex(tmp_path):
        pass
