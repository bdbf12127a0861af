"""Build tiny wheels and sdists in memory (zipfile/tarfile), fast enough to make hundreds in a test."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import time
import zipfile

ENV_SOURCE = '''
import rlhub


def exact(response, answer):
    return float(response.strip() == str(answer))


@rlhub.environment("{owner}/{name}", version="{version}")
class Demo(rlhub.SingleTurnEnv):
    """Add two small numbers."""

    rubric = rlhub.Rubric(correct=exact)

    def make_task(self, rng):
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        return rlhub.Task(prompt=f"What is {{a}} + {{b}}?", answer=str(a + b))
'''

README = "# Demo environment\n\nAdds **two numbers**.\n"


def dist_name(owner: str, name: str) -> str:
    return f"{owner}-{name}"


def metadata(
    owner: str,
    name: str,
    version: str,
    *,
    summary: str = "A demo environment",
    keywords: str = "math,demo",
    readme: str = README,
    requires_python: str = ">=3.11",
    content_type: str = "text/markdown",
) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {owner}-{name}\n"
        f"Version: {version}\n"
        f"Summary: {summary}\n"
        "License: Apache-2.0\n"
        f"Keywords: {keywords}\n"
        f"Requires-Python: {requires_python}\n"
        "Requires-Dist: rlhub>=0.1\n"
        f"Description-Content-Type: {content_type}\n"
        f"\n{readme}"
    )


def make_wheel(
    owner: str,
    name: str,
    version: str = "0.1.0",
    *,
    extra: dict[str, bytes] | None = None,
    source: str | None = None,
    dist_info: str | None = None,
    **meta: str,
) -> tuple[str, bytes]:
    """(filename, bytes) of a valid wheel defining one environment `owner/name` (with a correct RECORD,
    whatever `dist_info` directory it is given)."""
    package = f"{owner}_{name.replace('-', '_')}"
    dist_info = dist_info or f"{package}-{version}.dist-info"
    files = {
        f"{package}/__init__.py": b"",
        f"{package}/env.py": (source or ENV_SOURCE.format(owner=owner, name=name, version=version)).encode(),
        f"{dist_info}/METADATA": metadata(owner, name, version, **meta).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: rlhub-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist_info}/entry_points.txt": f"[rlhub.environments]\n{owner}-{name} = {package}.env\n".encode(),
        **(extra or {}),
    }
    record = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return f"{package}-{version}-py3-none-any.whl", buffer.getvalue()


def make_sdist(
    owner: str, name: str, version: str = "0.1.0", *, members: list[tarfile.TarInfo] | None = None
) -> tuple[str, bytes]:
    package = f"{owner}_{name.replace('-', '_')}"
    base = f"{package}-{version}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in {
            f"{base}/PKG-INFO": metadata(owner, name, version).encode(),
            f"{base}/src/{package}/env.py": ENV_SOURCE.format(owner=owner, name=name, version=version).encode(),
        }.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
        for member in members or []:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isreg() else None)
    return f"{base}.tar.gz", buffer.getvalue()


def upload_form(
    filename: str, data: bytes, owner: str, name: str, version: str = "0.1.0", **fields: str
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The multipart form twine sends: (data, files) for httpx."""
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": f"{owner}-{name}",
        "version": version,
        "filetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
        "pyversion": "py3" if filename.endswith(".whl") else "source",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "summary": "A demo environment",
        **fields,
    }
    return form, {"content": (filename, data, "application/octet-stream")}
