"""`HubClient`: the hub's HTTP API (docs/hub-api.md) as async methods returning `rlhub.hub.schema` models.

The transport is injectable, so tests run the client against the server app in-process
(`httpx.ASGITransport(app)`) or against a real server on loopback with the same code. The token is
sent only to the hub's own origin, never to a file URL that points elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rlhub.core.ids import EnvId
from rlhub.hub.client.config import hub_url, resolve_token
from rlhub.hub.client.dists import CHUNK, DistFile
from rlhub.hub.client.errors import HubAuthError, HubConflict, HubError, HubNotFound, HubUnreachable, InstallError
from rlhub.hub.client.upload import MultipartUpload, Progress
from rlhub.hub.schema import (
    API_PREFIX,
    PEP691_JSON,
    SIMPLE_PATH,
    UPLOAD_PATH,
    EnvInfo,
    ErrorResponse,
    Health,
    Leaderboard,
    ResultInfo,
    ResultUpload,
    SearchResponse,
    SortOrder,
    TokenCreate,
    TokenCreated,
    TokenScope,
    UploadResponse,
    VersionInfo,
    WhoAmI,
    YankRequest,
)

M = TypeVar("M", bound=BaseModel)
_BY_STATUS: dict[int, type[HubError]] = {401: HubAuthError, 403: HubAuthError, 404: HubNotFound, 409: HubConflict}


class IndexFile(BaseModel):
    """One file of a PEP 691 project page (only the fields rlhub uses; others are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    filename: str
    url: str
    hashes: dict[str, str] = Field(default_factory=dict)
    requires_python: str | None = Field(default=None, alias="requires-python")
    yanked: bool | str = False
    size: int | None = None


class IndexPage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    files: tuple[IndexFile, ...] = ()


class HubClient:
    """A hub at `url` (default: `RLHUB_HUB_URL` or http://127.0.0.1:8787), as the token's owner.

    Use as `async with HubClient() as hub: ...`.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = hub_url(url)
        self.token = resolve_token(self.url, token)
        self._origin = urlsplit(self.url)[:2]
        self._http = httpx.AsyncClient(base_url=self.url, transport=transport, timeout=timeout, follow_redirects=True)

    async def __aenter__(self) -> HubClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- plumbing -------------------------------------------------------------------------------

    def _auth(self, url: str) -> dict[str, str]:
        """The Authorization header, only for requests to the hub's own origin."""
        absolute = urljoin(self.url + "/", url)
        if not self.token or urlsplit(absolute)[:2] != self._origin:
            return {}
        return {"Authorization": f"Bearer {self.token}"}

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._auth(path), **kwargs.pop("headers", {})}
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise HubUnreachable(f"hub at {self.url} did not answer in time ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise HubUnreachable(
                f"cannot reach hub at {self.url}: {exc or type(exc).__name__}; is `rlhub serve` running "
                "(or set --hub / RLHUB_HUB_URL)?"
            ) from None
        if response.is_error:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> HubError:
        status = response.status_code
        try:
            body = ErrorResponse.model_validate_json(response.content).error
            code, message = body.code.value, body.message
        except ValidationError:
            code, message = str(status), response.text.strip()[:300] or response.reason_phrase
        hint = ""
        if status == 401:
            hint = " (no valid token: run `rlhub login`, pass --token, or set RLHUB_TOKEN)"
        elif status == 403:
            hint = " (the token does not cover this owner or action)"
        cls = _BY_STATUS.get(status, HubError)
        where = f"{response.request.method} {response.request.url.path}"
        return cls(f"hub {where} -> {status}: {message}{hint}", code, status)

    async def _get(self, path: str, model: type[M], **params: Any) -> M:
        response = await self._send("GET", path, params={k: v for k, v in params.items() if v is not None})
        return self._parse(response, model)

    async def _post(self, path: str, model: type[M], body: BaseModel | None = None) -> M:
        content = body.model_dump_json().encode() if body is not None else b"{}"
        response = await self._send("POST", path, content=content, headers={"Content-Type": "application/json"})
        return self._parse(response, model)

    def _parse(self, response: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise HubError(
                f"{response.url} did not answer like an rlhub hub ({exc.error_count()} problems with its "
                f"{model.__name__}); is --hub right, and are client and server the same rlhub version?"
            ) from None

    @staticmethod
    def _env_path(env: str | EnvId) -> str:
        parsed = EnvId.parse(env) if isinstance(env, str) else env
        return f"{API_PREFIX}/envs/{parsed.owner}/{parsed.name}"

    # --- accounts -------------------------------------------------------------------------------

    async def whoami(self) -> WhoAmI:
        return await self._get(f"{API_PREFIX}/whoami", WhoAmI)

    async def create_token(
        self, username: str, password: str, name: str, scope: TokenScope = TokenScope.publish
    ) -> TokenCreated:
        """Log in with a password and get a new API token (the secret is only in this answer)."""
        body = TokenCreate(name=name, scope=scope).model_dump_json().encode()
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        response = await self._send(
            "POST",
            f"{API_PREFIX}/tokens",
            content=body,
            headers={"Content-Type": "application/json", "Authorization": f"Basic {basic}"},
        )
        return self._parse(response, TokenCreated)

    # --- discovery ------------------------------------------------------------------------------

    async def health(self) -> Health:
        return await self._get(f"{API_PREFIX}/health", Health)

    async def search(
        self, query: str = "", tag: str | None = None, sort: SortOrder = SortOrder.relevance, limit: int = 20
    ) -> SearchResponse:
        return await self._get(f"{API_PREFIX}/envs", SearchResponse, q=query, tag=tag, sort=sort.value, limit=limit)

    async def info(self, env: str | EnvId) -> EnvInfo:
        return await self._get(self._env_path(env), EnvInfo)

    async def version(self, env: str | EnvId) -> VersionInfo:
        parsed = EnvId.parse(env) if isinstance(env, str) else env
        return await self._get(f"{self._env_path(parsed)}/versions/{parsed.version}", VersionInfo)

    async def leaderboard(self, env: str | EnvId, version: str | None = None) -> Leaderboard:
        return await self._get(f"{self._env_path(env)}/leaderboard", Leaderboard, version=version)

    # --- publishing -----------------------------------------------------------------------------

    async def upload(self, dist: DistFile, progress: Progress | None = None, private: bool = False) -> UploadResponse:
        """Upload one wheel or sdist through the PyPI upload protocol (`POST /legacy/`).

        `private` applies when the upload creates the environment: only its owner's tokens see it.
        """
        if not self.token:
            raise HubAuthError(
                f"publishing to {self.url} needs a token: run `rlhub login`, pass --token or set RLHUB_TOKEN"
            )
        body = MultipartUpload(dist, progress, private)
        response = await self._send("POST", UPLOAD_PATH, content=body, headers=body.headers, timeout=300.0)
        return self._parse(response, UploadResponse)

    async def yank(self, env: str | EnvId, reason: str = "", undo: bool = False) -> VersionInfo:
        parsed = EnvId.parse(env) if isinstance(env, str) else env
        if not parsed.version:
            raise HubError(f"say which version to {'un' if undo else ''}yank: {parsed.base}@VERSION")
        path = f"{self._env_path(parsed)}/versions/{parsed.version}/{'unyank' if undo else 'yank'}"
        return await self._post(path, VersionInfo, None if undo else YankRequest(reason=reason))

    async def push_results(self, log_path: str | Path, model: str | None = None) -> ResultInfo:
        """Upload a rollout log; the hub re-scores it and lists it on the environment's leaderboard."""
        path = Path(log_path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise HubError(f"cannot read log {path}: {exc.strerror}") from None
        return await self._post(f"{API_PREFIX}/results", ResultInfo, ResultUpload(log=text, model=model))

    # --- the simple index -----------------------------------------------------------------------

    async def project(self, distribution: str) -> IndexPage | None:
        """The PEP 691 page of a project, or None when the hub has no such project."""
        try:
            response = await self._send("GET", f"{SIMPLE_PATH}{distribution}/", headers={"Accept": PEP691_JSON})
        except HubNotFound:
            return None
        try:
            page = json.loads(response.content)
            page["files"] = [{**f, "url": urljoin(str(response.url), f["url"])} for f in page.get("files", [])]
            return IndexPage.model_validate(page)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise HubError(f"{response.url} is not a PEP 691 JSON project page: {exc}") from None

    async def download(self, file: IndexFile, dest: Path, progress: Progress | None = None) -> Path:
        """Stream `file` into directory `dest`, checking its sha256 against the index before keeping it."""
        expected = file.hashes.get("sha256")
        if not expected:
            raise InstallError(f"the hub lists {file.filename} without a sha256; refusing to install it unpinned")
        target = Path(dest) / Path(file.filename).name
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        try:
            async with self._http.stream("GET", file.url, headers=self._auth(file.url), timeout=300.0) as response:
                if response.is_error:
                    await response.aread()
                    raise self._error(response)
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        if progress:
                            progress(len(chunk))
        except httpx.TransportError as exc:
            partial.unlink(missing_ok=True)
            reason = exc or type(exc).__name__
            raise HubUnreachable(f"download of {file.filename} from {self.url} failed: {reason}") from None
        if digest.hexdigest() != expected:
            partial.unlink()
            raise InstallError(
                f"{file.filename}: sha256 {digest.hexdigest()} does not match the index ({expected}); not installed"
            )
        partial.replace(target)
        return target


__all__ = ["HubClient", "IndexFile", "IndexPage"]
