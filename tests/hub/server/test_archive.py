"""Archive safety and metadata parsing, unit level: hostile zips and tars are refused with a reason."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile

import pytest
from tests.hub.server.wheels import make_sdist, make_wheel

from rlhub.core.errors import InvalidId
from rlhub.hub.server.archive import TooLarge, UnsafeArchive, inspect
from rlhub.hub.server.config import Limits
from rlhub.hub.server.names import normalize, skeleton, split_distribution

LIMITS = Limits(max_unpacked_bytes=4 * 1024 * 1024)


def zip_with(name: str, data: bytes = b"x", mode: int | None = None) -> bytes:
    _, wheel = make_wheel("acme", "demo")
    buffer = io.BytesIO(wheel)
    with zipfile.ZipFile(buffer, "a") as zf:
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)
    return buffer.getvalue()


def test_a_valid_wheel_gives_its_metadata() -> None:
    filename, data = make_wheel("acme", "demo", "1.2.0", keywords="math, tool use")
    meta = inspect(filename, data, LIMITS)
    assert (meta.name, meta.version, meta.license) == ("acme-demo", "1.2.0", "Apache-2.0")
    assert meta.keywords == ("math", "tool use")
    assert meta.entry_points == {"acme-demo": "acme_demo.env"}
    assert meta.requires_dist == ("rlhub>=0.1",) and meta.requires_python == ">=3.11"
    assert "two numbers" in meta.description
    filename, data = make_sdist("acme", "demo", "1.2.0")
    assert inspect(filename, data, LIMITS).version == "1.2.0"


def test_entry_points_are_read_by_importlib_metadata_and_a_broken_file_is_refused() -> None:
    points = b"[console_scripts]\nx = y:z\n\n[rlhub.environments]\nacme-demo = acme_demo.env\nAcme-Two=acme_demo.two\n"
    entry = "acme_demo-0.1.0.dist-info/entry_points.txt"
    filename, data = make_wheel("acme", "demo", extra={entry: points})
    assert inspect(filename, data, LIMITS).entry_points == {"acme-demo": "acme_demo.env", "Acme-Two": "acme_demo.two"}
    filename, data = make_wheel("acme", "demo", extra={entry: b"[rlhub.environments]\nno equals sign\n"})
    with pytest.raises(UnsafeArchive, match=r"entry_points\.txt is not valid"):
        inspect(filename, data, LIMITS)


@pytest.mark.parametrize("name", ["../evil.py", "/etc/passwd", "a/../../b", "C:/x", "a\\b"])
def test_zip_traversal_and_absolute_paths(name: str) -> None:
    with pytest.raises(UnsafeArchive):
        inspect("acme_demo-0.1.0-py3-none-any.whl", zip_with(name), LIMITS)


def test_zip_symlink() -> None:
    with pytest.raises(UnsafeArchive, match="link"):
        inspect(
            "acme_demo-0.1.0-py3-none-any.whl", zip_with("acme_demo/link", b"/etc/passwd", stat.S_IFLNK | 0o777), LIMITS
        )


def test_zip_bomb() -> None:
    bomb = zip_with("acme_demo/zeros.bin", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(TooLarge):
        inspect("acme_demo-0.1.0-py3-none-any.whl", bomb, LIMITS)


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, linkname
    return info


@pytest.mark.parametrize(
    "member",
    [
        tar_member("acme_demo-0.1.0/../../evil"),
        tar_member("/abs/path"),
        tar_member("acme_demo-0.1.0/link", tarfile.SYMTYPE, 0, "/etc/passwd"),
        tar_member("acme_demo-0.1.0/hard", tarfile.LNKTYPE, 0, "acme_demo-0.1.0/PKG-INFO"),
        tar_member("acme_demo-0.1.0/fifo", tarfile.FIFOTYPE, 0),
        tar_member("acme_demo-0.1.0/dev", tarfile.CHRTYPE, 0),
    ],
    ids=["traversal", "absolute", "symlink", "hardlink", "fifo", "device"],
)
def test_tar_refuses_unsafe_members(member: tarfile.TarInfo) -> None:
    filename, data = make_sdist("acme", "demo", members=[member])
    with pytest.raises(UnsafeArchive):
        inspect(filename, data, LIMITS)


def test_tar_bomb_stops_at_the_budget() -> None:
    """A member that inflates past the budget stops the walk while streaming, whatever its header says."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("acme_demo-0.1.0/zeros")
        info.size = 16 * 1024 * 1024
        tar.addfile(info, io.BytesIO(b"\0" * info.size))
    bomb = gzip.compress(raw.getvalue(), compresslevel=9)
    assert len(bomb) < 100_000
    with pytest.raises(TooLarge):
        inspect("acme_demo-0.1.0.tar.gz", bomb, LIMITS)


def test_garbage_is_not_an_archive() -> None:
    with pytest.raises(UnsafeArchive):
        inspect("acme_demo-0.1.0-py3-none-any.whl", b"not a zip", LIMITS)
    with pytest.raises(UnsafeArchive):
        inspect("acme_demo-0.1.0.tar.gz", b"not a tar", LIMITS)


def test_names() -> None:
    assert normalize("Acme_Invoice.Math") == "acme-invoice-math"
    assert split_distribution("acme_invoice-math").base == "acme/invoice-math"
    assert skeleton("acme-invoice-math") == skeleton("acrne-lnvoice_rnath") == skeleton("acme-1nvoice-math")
    assert skeleton("acme-0ne") == skeleton("acme-one")
    assert skeleton("acme-invoice") != skeleton("acme-invoices")
    for bad in ("-acme-x", "acme-x.", "acme x", "acme/x"):
        with pytest.raises(InvalidId, match="not a valid distribution name"):
            split_distribution(bad)
    with pytest.raises(InvalidId, match="named owner-name"):
        split_distribution("acme")
