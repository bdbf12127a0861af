"""Immutable means immutable: one file per (project, version, tag) however its name is spelled, and a
wheel's RECORD must match its contents."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError
from tests.hub.server.conftest import HubFixture, LiveHub
from tests.hub.server.wheels import make_sdist, make_wheel, metadata, upload_form

from rlhub.hub.schema import PEP691_JSON, EnvInfo, ErrorResponse
from rlhub.hub.server.archive import UnsafeArchive, inspect
from rlhub.hub.server.config import Limits
from rlhub.hub.server.models import File, FileTag


def wheel(variant: str = "", filename: str | None = None) -> tuple[str, bytes]:
    """acme-pkg 0.1.0; `variant` changes the bytes (a different build of the "same" file)."""
    name, data = make_wheel("acme", "pkg", extra={"acme_pkg/variant.py": variant.encode()} if variant else None)
    return filename or name, data


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = ErrorResponse.model_validate(response.json()).error
    return response.status_code, body.code.value, body.message


def files_listed(hub: HubFixture) -> list[str]:
    info = EnvInfo.model_validate(hub.client.get("/api/v1/envs/acme/pkg").json())
    api = [f.filename for v in info.versions for f in v.files]
    index = hub.client.get("/simple/acme-pkg/", headers={"Accept": PEP691_JSON}).json()["files"]
    assert sorted(f["filename"] for f in index) == sorted(api)
    return api


@pytest.mark.parametrize(
    "variant",
    [
        "Acme_Pkg-0.1.0-py3-none-any.whl",  # case
        "acme.pkg-0.1.0-py3-none-any.whl",  # separator
        "ACME_pkg-0.1.0-py3-none-any.whl",  # mixed case
        "acme_pkg-0.1.0.0-py3-none-any.whl",  # same version, other spelling
        "acme_pkg-0.1.0-1-py3-none-any.whl",  # a build tag would outrank the published wheel in pip
        "acme_pkg-0.1.0-py2.py3-none-any.whl",  # overlaps py3-none-any
        "acme_pkg-0.1.0-PY3-none-any.whl",  # tag case
    ],
)
def test_a_second_spelling_of_a_published_wheel_is_refused(hub: HubFixture, variant: str) -> None:
    token = hub.user("acme")
    first = hub.upload(token, *wheel(), "acme", "pkg")
    assert first.status_code == 200, first.text
    other = hub.upload(token, *wheel("different bytes", variant), "acme", "pkg")
    status, code, message = error(other)
    assert (status, code) == (409, "conflict"), message
    assert "acme_pkg-0.1.0-py3-none-any.whl" in message and "second file" in message
    assert files_listed(hub) == ["acme_pkg-0.1.0-py3-none-any.whl"]


def test_other_tags_and_an_sdist_are_new_files(hub: HubFixture) -> None:
    token = hub.user("acme")
    assert hub.upload(token, *wheel(), "acme", "pkg").status_code == 200
    native = hub.upload(token, *wheel("native", "acme_pkg-0.1.0-cp311-cp311-linux_x86_64.whl"), "acme", "pkg")
    assert native.status_code == 200, native.text
    assert hub.upload(token, *make_sdist("acme", "pkg"), "acme", "pkg").status_code == 200
    assert len(files_listed(hub)) == 3


@pytest.mark.parametrize("second", ["acme-pkg-0.1.0.tar.gz", "Acme_Pkg-0.1.0.tar.gz", "acme_pkg-0.1.0.zip"])
def test_one_sdist_per_version(hub: HubFixture, second: str) -> None:
    token = hub.user("acme")
    filename, data = make_sdist("acme", "pkg")
    assert hub.upload(token, filename, data, "acme", "pkg").status_code == 200
    if second.endswith(".zip"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("acme_pkg-0.1.0/PKG-INFO", metadata("acme", "pkg", "0.1.0"))
        data = buffer.getvalue()
    status, code, message = error(hub.upload(token, second, data, "acme", "pkg"))
    assert (status, code) == (409, "conflict") and "is already the sdist" in message, message
    assert files_listed(hub) == [filename]


def test_the_database_refuses_a_second_file_for_one_tag(hub: HubFixture) -> None:
    """The key holds even for code that skips the service's check (what makes races safe)."""
    hub.publish(hub.user("acme"), "acme", "pkg")
    with pytest.raises(IntegrityError), hub.hub.db.write() as session:
        published = session.scalars(select(File)).one()
        twin = File(
            version_id=published.version_id,
            filename="Acme_Pkg-0.1.0-py3-none-any.whl",
            filetype="bdist_wheel",
            sha256="0" * 64,
            size=1,
        )
        session.add(twin)
        session.flush()
        session.add(FileTag(version_id=published.version_id, tag="py3-none-any", file_id=twin.id))
        session.flush()


@pytest.mark.slow
def test_concurrent_spellings_exactly_one_wins(live_hub: LiveHub) -> None:
    token = live_hub.fixture.user("acme")
    spellings = [
        "acme_pkg-0.1.0-py3-none-any.whl",
        "Acme_Pkg-0.1.0-py3-none-any.whl",
        "ACME_PKG-0.1.0-py3-none-any.whl",
        "acme.pkg-0.1.0-py3-none-any.whl",
        "ACME_pkg-0.1.0-py3-none-any.whl",
        "Acme.Pkg-0.1.0-py3-none-any.whl",
        "acme_pkg-0.1.0-py2.py3-none-any.whl",
        "acme_pkg-0.1.0-7-py3-none-any.whl",
    ]
    barrier = threading.Barrier(len(spellings))
    statuses: list[int] = []

    def push(i: int, filename: str) -> None:
        form, files = upload_form(*wheel(f"build {i}", filename), "acme", "pkg")
        with httpx.Client(base_url=live_hub.url, timeout=60) as client:
            barrier.wait()
            statuses.append(client.post("/legacy/", data=form, files=files, auth=("__token__", token)).status_code)

    threads = [threading.Thread(target=push, args=item) for item in enumerate(spellings)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * (len(spellings) - 1)
    assert len(files_listed(live_hub.fixture)) == 1


def test_migration_indexes_existing_files_and_refuses_duplicates(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from rlhub.hub.server.db import MIGRATIONS

    def database(rows: list[tuple[int, str]]) -> Callable[[str], None]:
        engine = create_engine(f"sqlite:///{tmp_path / f'hub{len(rows)}.db'}")
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))

        def upgrade(revision: str) -> None:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)

        upgrade("0002")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO owners (id, name, kind, created_at) VALUES (1, 'acme', 'user', '2026-01-01')")
            )
            conn.execute(
                text(
                    "INSERT INTO projects (id, owner_id, name, normalized, skeleton, private, downloads, stars,"
                    " search_text, created_at, updated_at)"
                    " VALUES (1, 1, 'pkg', 'acme-pkg', 'acmepkg', 0, 0, 0, '', '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO versions (id, project_id, version, canonical, summary, requires_dist, tags, env_ids,"
                    " readme, readme_content_type, yanked, yanked_reason, created_at, check_status, check_report,"
                    " check_results) VALUES (1, 1, '0.1.0', '0.1', '', '[]', '[]', '[]', '', 'text/markdown', 0, '',"
                    " '2026-01-01', 'pending', '', '[]')"
                )
            )
            for file_id, filename in rows:
                conn.execute(
                    text(
                        "INSERT INTO files (id, version_id, filename, filetype, sha256, size, uploaded_at)"
                        " VALUES (:id, 1, :name, 'x', :sha, 1, '2026-01-01')"
                    ),
                    {"id": file_id, "name": filename, "sha": f"{file_id:064d}"},
                )
        return upgrade

    database([(1, "acme_pkg-0.1.0-py2.py3-none-any.whl"), (2, "acme_pkg-0.1.0.tar.gz")])("head")
    engine = create_engine(f"sqlite:///{tmp_path / 'hub2.db'}")
    with engine.connect() as conn:
        tags = sorted(conn.execute(text("SELECT file_id, tag FROM file_tags")).all())
    assert tags == [(1, "py2-none-any"), (1, "py3-none-any"), (2, "sdist")]

    duplicated = database(
        [(1, "acme_pkg-0.1.0-py3-none-any.whl"), (2, "acme_pkg-0.1.0.tar.gz"), (3, "Acme_Pkg-0.1.0-py3-none-any.whl")]
    )
    with pytest.raises(RuntimeError, match=r"Acme_Pkg-0.1.0-py3-none-any.whl \(same install as acme_pkg"):
        duplicated("head")


# RECORD


def rezip(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """The wheel with members replaced, added or (None) removed, RECORD left as it was."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename not in change:
                target.writestr(info.filename, source.read(info))
        for name, content in change.items():
            if content is not None:
                target.writestr(name, content)
    return out.getvalue()


RECORD = "acme_pkg-0.1.0.dist-info/RECORD"


def record_lines(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(RECORD).decode().splitlines()


def with_record(data: bytes, edit: Callable[[list[str]], list[str]]) -> bytes:
    return rezip(data, {RECORD: ("\n".join(edit(record_lines(data))) + "\n").encode()})


def _rehash_md5(lines: list[str]) -> list[str]:
    return [line.replace("sha256=", "md5=", 1) if line.startswith("acme_pkg/env.py") else line for line in lines]


def _bad_size(lines: list[str]) -> list[str]:
    return [line.rsplit(",", 1)[0] + ",1" if line.startswith("acme_pkg/env.py") else line for line in lines]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda d: rezip(d, {"acme_pkg/env.py": b"import os\n"}), "does not match its sha256 hash"),
        (lambda d: rezip(d, {"acme_pkg/evil.py": b"import os\n"}), "'acme_pkg/evil.py' is in the wheel but not in"),
        (lambda d: rezip(d, {"acme_pkg/__init__.py": None}), "lists 'acme_pkg/__init__.py', which the wheel does not"),
        (lambda d: rezip(d, {RECORD: None}), "has no acme_pkg-0.1.0.dist-info/RECORD"),
        (lambda d: with_record(d, _bad_size), "'acme_pkg/env.py' is"),
        (lambda d: with_record(d, _rehash_md5), "expected one of sha256"),
        (lambda d: with_record(d, lambda lines: [*lines, lines[0]]), "lists 'acme_pkg/__init__.py' twice"),
        (lambda d: rezip(d, {"other-1.0.dist-info/METADATA": b"Name: other\n"}), "2 .dist-info directories"),
    ],
)
def test_a_wheel_whose_record_disagrees_is_refused(tamper: Callable[[bytes], bytes], message: str) -> None:
    _, data = wheel()
    inspect("acme_pkg-0.1.0-py3-none-any.whl", data, Limits())  # the untampered wheel passes
    with pytest.raises(UnsafeArchive) as caught:
        inspect("acme_pkg-0.1.0-py3-none-any.whl", tamper(data), Limits())
    assert message in str(caught.value)


def test_record_hashes_may_be_sha512(hub: HubFixture) -> None:
    import base64
    import hashlib

    filename, data = wheel()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        env = zf.read("acme_pkg/env.py")
    digest = base64.urlsafe_b64encode(hashlib.sha512(env).digest()).rstrip(b"=").decode()
    lines = [
        f"acme_pkg/env.py,sha512={digest},{len(env)}" if line.startswith("acme_pkg/env.py") else line
        for line in record_lines(data)
    ]
    good = rezip(data, {RECORD: ("\n".join(lines) + "\n").encode()})
    assert hub.upload(hub.user("acme"), filename, good, "acme", "pkg").status_code == 200


def test_the_upload_api_refuses_a_wheel_with_a_bad_record(hub: HubFixture) -> None:
    filename, data = wheel()
    status, code, message = error(
        hub.upload(hub.user("acme"), filename, rezip(data, {"acme_pkg/env.py": b"x = 1\n"}), "acme", "pkg")
    )
    assert (status, code) == (400, "unsafe_archive")
    assert "RECORD check failed" in message and "acme_pkg/env.py" in message


def test_two_spellings_of_one_member_are_refused() -> None:
    _, data = wheel()
    with pytest.raises(UnsafeArchive, match="appears twice"):
        inspect("acme_pkg-0.1.0-py3-none-any.whl", rezip(data, {"acme_pkg//env.py": b"import os\n"}), Limits())


@pytest.mark.parametrize("directory", ["acme_other-0.1.0.dist-info", "acme_pkg-0.2.0.dist-info", "acme_pkg.dist-info"])
def test_a_dist_info_for_another_project_or_version_is_refused(hub: HubFixture, directory: str) -> None:
    filename, data = make_wheel("acme", "pkg", dist_info=directory)
    status, code, message = error(hub.upload(hub.user("acme"), filename, data, "acme", "pkg"))
    assert (status, code) == (400, "bad_metadata") and directory in message, message
