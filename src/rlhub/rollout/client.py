"""An OpenAI-compatible chat-completions client on aiohttp, built to hold thousands of requests in flight.

One `aiohttp.ClientSession` per client with a connection pool sized to the run's concurrency (HTTP/1.1
needs one connection per request in flight), no total timeout on waiting for a pooled connection (the
runner's per-rollout timeout bounds a rollout) and a read timeout per request. Errors are sorted for
the runner: 408/429/5xx, timeouts, connection failures and a 200 whose body is not a chat completion
(broken JSON, no `choices`: a server or proxy fault, never an answer) raise `RetryableModelError`;
other 4xx raise `ModelError` with the server's own message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp

from rlhub.core.errors import ModelError, RetryableModelError
from rlhub.core.openai_wire import error_message, parse_completions, request_body
from rlhub.core.types import Completion, Message, Sampling, ToolSpec
from rlhub.rollout._json import dumps, loads

_RETRY_STATUS = frozenset({408, 409, 425, 429})


class OpenAIClient:
    """`ModelClient` for any server speaking OpenAI's `/chat/completions` (vLLM, SGLang, OpenAI...).

    `base_url` ends before `/chat/completions` (e.g. `http://127.0.0.1:8000/v1`). `max_connections`
    should be at least the number of requests you keep in flight; 0 means unlimited.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        max_connections: int = 1024,
        request_timeout_s: float = 600.0,
        connect_timeout_s: float = 30.0,
        extra_body: dict[str, Any] | None = None,
    ):
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.extra_body = dict(extra_body or {})
        self.settings: dict[str, Any] = {"extra_body": self.extra_body} if self.extra_body else {}
        """What, beyond the name and URL, changes this model's answers: part of a run log's identity."""
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._max_connections = max_connections
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=request_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=self._headers, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def ping(self, timeout_s: float = 10.0) -> None:
        """Fail fast with a readable error when nothing accepts a connection at `base_url` or it refuses
        our key. A server that is there but answers badly (reset, hang, 5xx) passes: the run's retries
        are for that, and one transient fault must not stop a run before it starts."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout.sock_connect, sock_read=timeout_s)
        try:
            async with self._open().get(f"{self.base_url}/models", timeout=timeout) as response:
                raw = await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ModelError(f"cannot reach the model server at {self.base_url}: {_describe(exc)}") from None
        except (aiohttp.ClientError, TimeoutError):
            return
        if response.status in (401, 403):
            raise ModelError(f"{self.base_url} refused the API key (HTTP {response.status}): {error_message(raw)}")

    async def complete(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), sampling: Sampling = Sampling()
    ) -> list[Completion]:
        data = dumps(request_body(self.name, messages, tools, sampling) | self.extra_body)
        try:
            async with self._open().post(self.url, data=data) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryableModelError(f"{self.url}: {_describe(exc)}") from None
        if status >= 400:
            message = f"{self.url} answered HTTP {status}: {error_message(raw)}"
            if status >= 500 or status in _RETRY_STATUS:
                raise RetryableModelError(message)
            raise ModelError(message)
        try:
            return parse_completions(loads(raw))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise RetryableModelError(f"{self.url} sent a response that is not a chat completion ({detail})") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "request timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connection failed ({exc.os_error.strerror or exc.os_error})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


__all__ = ["OpenAIClient"]
