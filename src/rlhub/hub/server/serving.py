"""Running the app under uvicorn: one process, or N worker processes with one listening socket each.

With several workers, uvicorn shares one listening socket and whichever worker wakes first accepts,
so under a burst of connections one worker ends up with far more of them than another and its clients
wait longer. Here every worker binds its own socket with `SO_REUSEPORT`, and the kernel spreads new
connections evenly across them. The parent only supervises: when a worker dies or a signal arrives,
all workers stop.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

FACTORY = "rlhub.hub.server.app:create_app_from_env"
PROTOCOL = "rlhub.hub.server.fastproto:FastSimpleProtocol"


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8787
    workers: int = 1
    access_log: bool = False
    proxy_headers: bool = False
    backlog: int = 4096


def _config(options: ServeOptions) -> Any:
    import uvicorn

    return uvicorn.Config(
        FACTORY,
        factory=True,
        host=options.host,
        port=options.port,
        access_log=options.access_log,
        log_level="info" if options.access_log else "warning",
        backlog=options.backlog,
        proxy_headers=options.proxy_headers,
        http=PROTOCOL,
        timeout_keep_alive=30,
    )


def _listen(options: ServeOptions) -> socket.socket:
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((options.host, options.port))
    sock.listen(options.backlog)
    sock.set_inheritable(True)
    return sock


def _worker(options: ServeOptions) -> None:
    import uvicorn

    config = _config(options)
    config.load()  # import the app before listening: the kernel hands connections to a socket as soon as it listens
    uvicorn.Server(config).run(sockets=[_listen(options)])


def serve(options: ServeOptions) -> None:
    if options.workers <= 1:
        import uvicorn

        uvicorn.Server(_config(options)).run()
        return
    _listen(options).close()  # fail here, with a clear error, if the port is taken
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker, args=(options,), name=f"rlhub-worker-{i}") for i in range(options.workers)
    ]
    for process in workers:
        process.start()

    def stop(*_: object) -> None:
        for process in workers:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        multiprocessing.connection.wait([p.sentinel for p in workers])
    stop()
    for process in workers:
        process.join(timeout=30)
    failed = [p.exitcode for p in workers if p.exitcode not in (0, -signal.SIGTERM)]
    if failed:
        sys.exit(f"a hub worker exited with status {failed[0]}")


__all__ = ["ServeOptions", "serve"]
