"""The body of a PyPI-protocol upload (`POST /legacy/`), streamed from disk with a progress callback.

The form carries the same fields twine sends: the protocol fields, the file's sha256, and the core
metadata (the server re-reads the metadata from the archive and rejects a form that disagrees).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

from rlhub.hub.client.dists import CHUNK, DistFile

Progress = Callable[[int], None]
"""Called with the number of bytes just sent or received."""

_SINGLE = {
    "Metadata-Version": "metadata_version",
    "Summary": "summary",
    "Home-page": "home_page",
    "Author": "author",
    "Author-email": "author_email",
    "Maintainer": "maintainer",
    "Maintainer-email": "maintainer_email",
    "License": "license",
    "License-Expression": "license_expression",
    "Keywords": "keywords",
    "Requires-Python": "requires_python",
    "Description-Content-Type": "description_content_type",
}
_MULTI = {
    "Classifier": "classifiers",
    "Requires-Dist": "requires_dist",
    "Provides-Extra": "provides_extra",
    "Project-URL": "project_urls",
    "License-File": "license_file",
}


def upload_fields(dist: DistFile, private: bool = False) -> list[tuple[str, str]]:
    """The non-file form fields, in order; multi-valued metadata repeats its field.

    `private` (an rlhub extension) makes a new environment visible only to its owner's tokens.
    """
    meta = dist.metadata
    fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", dist.name),
        ("version", dist.version),
        ("filetype", dist.filetype),
        ("pyversion", "py3" if dist.filetype == "bdist_wheel" else "source"),
        ("sha256_digest", dist.sha256),
    ]
    fields += [(field, str(meta[key])) for key, field in _SINGLE.items() if meta[key] is not None]
    for key, field in _MULTI.items():
        fields += [(field, str(value)) for value in meta.get_all(key) or []]
    description = meta.get_payload() or meta["Description"]
    if description:
        fields.append(("description", str(description)))
    if private:
        fields.append(("private", "true"))
    return fields


class MultipartUpload:
    """A `multipart/form-data` body of known length whose file part is read from disk as it is sent."""

    def __init__(self, dist: DistFile, progress: Progress | None = None, private: bool = False) -> None:
        self.dist = dist
        self.progress = progress
        self.boundary = secrets.token_hex(16)
        fields = upload_fields(dist, private)
        head = b"".join(self._part_header(name) + value.encode() + b"\r\n" for name, value in fields)
        self._head = head + self._part_header("content", dist.path.name)
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()

    def _part_header(self, name: str, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: application/octet-stream\r\n" if filename else ""
        return f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode()

    @property
    def headers(self) -> dict[str, str]:
        length = len(self._head) + self.dist.size + len(self._tail)
        return {"Content-Type": f"multipart/form-data; boundary={self.boundary}", "Content-Length": str(length)}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        with self.dist.path.open("rb") as src:
            while chunk := src.read(CHUNK):
                yield chunk
                if self.progress:
                    self.progress(len(chunk))
        yield self._tail


__all__ = ["MultipartUpload", "Progress", "upload_fields"]
