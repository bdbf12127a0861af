"""`create_app`: the ASGI application behind `rlhub serve`.

Layers, outermost first: `SimpleFastPath` (anonymous simple-index reads from memory), then FastAPI
with the package protocols, `/api/v1` and the web pages. Every error leaves as
`{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Route

import rlhub
from rlhub.hub.schema import ErrorBody, ErrorCode, ErrorResponse
from rlhub.hub.server.config import HubConfig
from rlhub.hub.server.errors import HubError
from rlhub.hub.server.hub import Hub
from rlhub.hub.server.simple import SimpleFastPath

_HTTP_CODES = {
    401: ErrorCode.unauthorized,
    403: ErrorCode.forbidden,
    404: ErrorCode.not_found,
    409: ErrorCode.conflict,
    413: ErrorCode.too_large,
}


def error_response(status: int, code: ErrorCode, message: str) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message))
    headers = {"www-authenticate": 'Basic realm="rlhub"'} if status == 401 else None
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def allowed_methods(routes: list[Route], path: str) -> str:
    """Every method some route serves at `path` (Starlette's own 405 names only the first route's)."""
    methods: set[str] = set()
    for route in routes:
        if route.methods and route.path_regex.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))


def create_app(config: HubConfig | None = None, *, migrate: bool = True, workers: bool = True) -> Any:
    """The ASGI app. `migrate` applies migrations at startup; `workers` starts the background
    threads (download counter flush, upload checks when `config.run_checks`)."""
    from rlhub.hub.server import api, files, packages, pinned, upload, web
    from rlhub.hub.server.services.checks import CheckWorker

    hub = Hub(config or HubConfig.from_env())
    if migrate:
        hub.db.migrate()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if workers:
            hub.start()
            if hub.config.run_checks:
                checker = CheckWorker(hub.config, hub.db, hub.store, hub.stop_event)
                hub.checker = checker
                checker.start()
        yield
        hub.stop()

    app = FastAPI(title="rlhub", version=rlhub.__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.hub = hub

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error_response(422, ErrorCode.invalid, problems or "invalid request")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        response = error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, ErrorCode.invalid), str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["allow"] = allowed_methods(routes, request.url.path)
        return response

    app.include_router(api.router)
    app.include_router(upload.router)
    app.include_router(packages.router)
    app.include_router(files.router)
    app.include_router(pinned.router)
    web.mount_static(app)
    app.include_router(web.router)
    routers = (app, api.router, upload.router, packages.router, files.router, pinned.router, web.router)
    routes = [route for router in routers for route in router.routes if isinstance(route, Route)]
    return SimpleFastPath(app, hub.index)


def create_app_from_env() -> Any:
    """Factory for `uvicorn --factory` (what `rlhub serve` runs in each worker; it migrated already)."""
    import gc

    app = create_app(HubConfig.from_env(), migrate=False)
    gc.freeze()  # startup objects never die: keep them out of full collections (shorter latency tails)
    return app


__all__ = ["create_app", "create_app_from_env", "error_response"]
