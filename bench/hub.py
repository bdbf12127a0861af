"""Hub under load: rlhub's simple index vs pypiserver (gevent) on the same files, plus publish/install integrity.

1. Makes 50 tiny environment packages (wheel + sdist each), starts `rlhub serve` (a real uvicorn process
   with a fresh RLHUB_HOME) and publishes all 50 concurrently through `HubClient`, racing a second upload
   of 10 of the wheels: exactly one upload of each file must win, the other must get 409.
2. Serves the same files with pypiserver (`pypi-server run --server gevent`), then drives `GET /simple/`
   on each server in turn with the same load generator: `--clients` keep-alive connections (1,000),
   each sending its next request as soon as the previous answer is complete, for a fixed time. The
   generator is raw asyncio protocols on uvloop in its own process (a request unanswered for 2 s at
   the end counts as an error, so starved connections cannot hide); its ceiling is measured first
   against a trivial server answering the same bytes, so a peer figure near it would mean the
   generator, not the server, was the limit. Without --quick, one project page (`/simple/<name>/`,
   what pip fetches) is measured the same way (reported, not part of the targets), and the `/simple/`
   runs are repeated 3 times, interleaved, reporting medians (this machine is shared and noisy).
3. Installs: resolves and downloads all 50 wheels concurrently from rlhub's PEP 691 index (hash checked
   against the index and against the sha256 computed before publishing), then pip-installs them into a
   fresh venv hash-pinned and compares every installed file with the bytes that were published.

Last line: JSON with req_per_s, peer_req_per_s, ratio, p99_ms, errors (and the details).
Targets: ratio >= 1.5, p99 < 250 ms, errors 0, nothing lost or corrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, cast

PACKAGES = 50
RACED = 10
STALLED_S = 2.0
"""A request still unanswered this long when the load stops counts as an error (a timeout)."""
OWNER = "bench"


# --- packages --------------------------------------------------------------------------------------


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_package(out: Path, name: str, version: str = "0.1.0") -> dict[str, str]:
    """Write a wheel and an sdist of environment `bench/<name>`; returns {relative installed path: sha256}."""
    dist = f"{OWNER}-{name}"
    module = dist.replace("-", "_")
    source = (
        f'"""Benchmark environment {OWNER}/{name}: echo a number."""\n\nimport rlhub\n\n\n'
        f'@rlhub.environment("{OWNER}/{name}", version="{version}")\n'
        "class Echo(rlhub.SingleTurnEnv):\n"
        "    def make_task(self, rng):\n"
        "        n = rng.randint(0, 999)\n"
        '        return rlhub.Task(prompt=f"Say {n}.", answer=str(n))\n\n'
        "    rubric = rlhub.Rubric(correct=lambda completion, answer: float(completion.strip() == answer))\n"
    ).encode()
    metadata = (
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\nSummary: benchmark environment {name}\n"
        "Requires-Python: >=3.11\nRequires-Dist: rlhub>=0.1\nKeywords: bench\n"
    ).encode()
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": source,
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: rlhub-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[rlhub.environments]\n{dist} = {module}\n".encode(),
    }
    record = (
        "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items()) + f"{info}/RECORD,,\n"
    )
    with zipfile.ZipFile(out / f"{module}-{version}-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in [*files.items(), (f"{info}/RECORD", record.encode())]:
            member = zipfile.ZipInfo(path, (2026, 1, 1, 0, 0, 0))
            member.external_attr, member.compress_type = 0o100644 << 16, zipfile.ZIP_DEFLATED
            zf.writestr(member, data)
    pyproject = (
        f'[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{dist}"\nversion = "{version}"\ndependencies = ["rlhub>=0.1"]\n'
    ).encode()
    root = f"{module}-{version}"
    with tarfile.open(out / f"{root}.tar.gz", "w:gz") as tf:
        for path, data in [
            ("PKG-INFO", metadata),
            ("pyproject.toml", pyproject),
            (f"src/{module}/__init__.py", source),
        ]:
            entry = tarfile.TarInfo(f"{root}/{path}")
            entry.size, entry.mode = len(data), 0o644
            tf.addfile(entry, io.BytesIO(data))
    return {f"{module}/__init__.py": hashlib.sha256(source).hexdigest()}


# --- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rlhub_cli(home: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "RLHUB_HOME": str(home), "RLHUB_HUB_CHECKS": "0"}
    return [sys.executable, "-m", "rlhub"], env


# --- load generator (runs in its own process: `hub.py --loadgen URL`) -------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive client: send, read one full response (Content-Length or chunked), repeat."""

    def __init__(self, gen: _LoadGen) -> None:
        self.gen = gen
        self.buf = bytearray()
        self.need = -1
        self.inflight = False
        self.status = 0
        self.chunked = False
        self.close_after = False
        self.t0 = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.gen.conns.add(self)
        self._send()

    def _send(self) -> None:
        if self.gen.stopping:
            self.transport.close()
            return
        self.buf.clear()
        self.need, self.inflight, self.t0 = -1, True, time.perf_counter()
        self.transport.write(self.gen.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            self.status = int(head[9:12])
            match = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
            self.chunked = match is None
            self.need = end + 4 + (int(match.group(1)) if match else 0)
            self.close_after = b"\r\nconnection: close" in head
        complete = self.buf.endswith(b"\r\n0\r\n\r\n") if self.chunked else len(self.buf) >= self.need
        if complete:
            self.inflight = False
            self.gen.record(self.t0, time.perf_counter(), self.status == 200)
            if self.close_after:
                self.transport.close()
            else:
                self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inflight and not self.gen.stopping:
            self.gen.record(self.t0, time.perf_counter(), False)
        self.gen.conns.discard(self)
        if not self.done.done():
            self.done.set_result(None)


class _LoadGen:
    def __init__(self, host: str, port: int, path: str, start: float, end: float) -> None:
        self.host, self.port = host, port
        self.request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/html\r\n\r\n".encode()
        self.start, self.end = start, end
        self.latencies: list[float] = []
        self.errors = 0
        self.connect_errors = 0
        self.stopping = False
        self.conns: set[_Conn] = set()

    def stalled(self, older_than: float) -> int:
        """Requests still unanswered after `older_than` seconds: timeouts, counted as errors."""
        now = time.perf_counter()
        return sum(1 for c in self.conns if c.inflight and now - c.t0 > older_than)

    def record(self, t0: float, t1: float, ok: bool) -> None:
        if self.start <= t1 <= self.end:
            if ok:
                self.latencies.append(t1 - t0)
            else:
                self.errors += 1

    async def client(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping:
            try:
                _, conn = await loop.create_connection(lambda: _Conn(self), self.host, self.port)
            except OSError:
                if self.start <= time.perf_counter() <= self.end:
                    self.connect_errors += 1
                await asyncio.sleep(0.05)
                continue
            await conn.done


async def _loadgen(url: str, clients: int, warmup: float, duration: float) -> dict[str, float]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    now = time.perf_counter()
    gen = _LoadGen(
        parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/", now + warmup, now + warmup + duration
    )
    cpu0 = time.process_time()
    tasks = [asyncio.create_task(gen.client()) for _ in range(clients)]
    await asyncio.sleep(warmup + duration)
    stalled = gen.stalled(STALLED_S)
    gen.stopping = True
    cpu = time.process_time() - cpu0
    await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lat = sorted(gen.latencies)

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else 0.0

    return {
        "req_per_s": round(len(lat) / duration, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": gen.errors + gen.connect_errors + stalled,
        "connect_errors": gen.connect_errors,
        "stalled": stalled,
        "loadgen_cpu_pct": round(100 * cpu / (warmup + duration), 1),
    }


def loadgen_main(url: str, clients: int, warmup: float, duration: float) -> None:
    import resource

    import uvloop

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * clients + 100)), hard))
    print(json.dumps(uvloop.run(_loadgen(url, clients, warmup, duration))))


def run_loadgen(url: str, clients: int, warmup: float, duration: float) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--loadgen", url, "--clients", str(clients)]
    cmd += ["--warmup", str(warmup), "--duration", str(duration)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=warmup + duration + 120)
    if proc.returncode != 0:
        raise SystemExit(f"load generator failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def median_round(results: list[dict[str, float]]) -> dict[str, float]:
    """Median req/s and latencies over rounds; errors summed (one error in any round counts)."""
    keys = ("req_per_s", "p50_ms", "p99_ms")
    out = {k: statistics.median(r[k] for r in results) for k in keys}
    out["errors"] = sum(r["errors"] for r in results)
    return out


async def _static_server(port: int, body: bytes) -> None:
    """The generator's ceiling: a server that answers every request with fixed bytes, no parsing."""
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.Transport, transport)

        def data_received(self, data: bytes) -> None:
            self.transport.write(response * data.count(b"\r\n\r\n"))

    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", port, backlog=4096)
    await server.serve_forever()


# --- publish and install ---------------------------------------------------------------------------


async def publish_all(url: str, token: str, files: list[Path]) -> dict[str, Any]:
    """Publish every file concurrently, plus a racing duplicate upload of the first RACED wheels."""
    from rlhub.hub.client import HubClient, HubConflict, read_dist

    dists = [read_dist(f) for f in files]
    raced = [d for d in dists if d.filetype == "bdist_wheel"][:RACED]
    async with HubClient(url, token, timeout=120.0) as hub:

        async def one(dist: object) -> str:
            try:
                await hub.upload(dist)  # type: ignore[arg-type]
                return "ok"
            except HubConflict:
                return "conflict"

        outcomes = await asyncio.gather(*(one(d) for d in [*dists, *raced]), return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    per_file: dict[str, list[str]] = {}
    for dist, outcome in zip([*dists, *raced], outcomes, strict=True):
        per_file.setdefault(dist.path.name, []).append(str(outcome))
    lost = sum(1 for o in per_file.values() if o.count("ok") != 1)
    return {
        "uploads": len(outcomes),
        "upload_failures": len(failures),
        "files_not_published_exactly_once": lost,
        "race_conflicts": sum(o.count("conflict") for o in per_file.values()),
        "first_failure": str(failures[0])[:300] if failures else "",
    }


async def download_all(url: str, names: list[str], expected: dict[str, str], dest: Path) -> dict[str, int]:
    """Resolve each package from the PEP 691 index and download its wheel, all at once; count bad hashes."""
    from packaging.specifiers import SpecifierSet

    from rlhub.hub.client import HubClient
    from rlhub.hub.client.install import TargetEnv, choose

    target = TargetEnv.probe()
    async with HubClient(url, token="", timeout=120.0) as hub:

        async def one(dist: str) -> Path:
            page = await hub.project(dist)
            assert page is not None, f"{dist} missing from the index"
            _, file = choose(page, SpecifierSet(), target)
            return await hub.download(file, dest)

        paths = await asyncio.gather(*(one(n) for n in names), return_exceptions=True)
    bad = [p for p in paths if isinstance(p, BaseException)]
    mismatched = [
        p for p in paths if isinstance(p, Path) and hashlib.sha256(p.read_bytes()).hexdigest() != expected[p.name]
    ]
    return {"downloads": len(paths) - len(bad), "download_failures": len(bad), "hash_mismatches": len(mismatched)}


_INSTALLED = """
import hashlib, importlib.metadata as m, json, sys
out = {}
for d in m.distributions():
    if d.metadata["Name"].startswith(sys.argv[1]):
        for f in d.files or []:
            if f.suffix == ".py":
                out[str(f)] = hashlib.sha256(f.locate().read_bytes()).hexdigest()
print(json.dumps(out))
"""


def pip_install_all(wheels: list[Path], published: dict[str, str], work: Path) -> dict[str, int]:
    """Install the downloaded wheels hash-pinned into a fresh venv; compare every installed .py file."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True
    )
    parent = subprocess.run(
        [sys.executable, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True
    )
    Path(site.stdout.strip(), "_rlhub_parent.pth").write_text(
        f"import site; site.addsitedir({parent.stdout.strip()!r})\n"
    )
    requirements = work / "pinned.txt"
    requirements.write_text(
        "".join(
            f"{w.name.split('-')[0]} @ {w.as_uri()} --hash=sha256:{hashlib.sha256(w.read_bytes()).hexdigest()}\n"
            for w in wheels
        )
    )
    pip = [sys.executable, "-m", "pip", "--python", python, "--isolated", "install", "-q", "--no-index", "--no-deps"]
    proc = subprocess.run([*pip, "--require-hashes", "-r", str(requirements)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"installed": 0, "installed_files_mismatched": len(published), "pip_error": 1}
    found = json.loads(subprocess.run([python, "-c", _INSTALLED, OWNER + "-"], capture_output=True, text=True).stdout)
    mismatched = sum(1 for path, sha in published.items() if found.get(path) != sha)
    return {"installed": len(found), "installed_files_mismatched": mismatched, "pip_error": 0}


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short load phases (the whole run under a minute)")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per server")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers for rlhub serve")
    parser.add_argument("--loadgen", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--static", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=None)
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 3.0)
    duration = args.duration or (3.0 if args.quick else 10.0)
    if args.loadgen:
        loadgen_main(args.loadgen, args.clients, warmup, duration)
        return
    if args.static:
        import uvloop

        uvloop.run(_static_server(args.static, sys.stdin.buffer.read()))
        return

    work = Path(tempfile.mkdtemp(prefix="rlhub-bench-hub-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        result = run(work, procs, args.clients, warmup, duration, args.workers, args.quick)
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def run(
    work: Path,
    procs: list[subprocess.Popen[bytes]],
    clients: int,
    warmup: float,
    duration: float,
    workers: int,
    quick: bool,
) -> dict[str, object]:
    t_start = time.monotonic()
    files_dir, home = work / "files", work / "home"
    files_dir.mkdir()
    names = [f"pkg{i:03d}" for i in range(PACKAGES)]
    published: dict[str, str] = {}
    for name in names:
        published.update(make_package(files_dir, name))
    files = sorted(files_dir.iterdir())
    file_sha = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}

    cli, env = rlhub_cli(home)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_cmd = [*cli, "serve", "--port", str(port), "--workers", str(workers), "--no-checks"]
    procs.append(subprocess.Popen(server_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_http(f"{url}/api/v1/health", procs[-1])
    made = subprocess.run([*cli, "admin", "create-user", OWNER], env=env, capture_output=True, text=True, check=True)
    token = made.stdout.strip().splitlines()[-1]
    t0 = time.perf_counter()
    publish = asyncio.run(publish_all(url, token, files))
    publish["publish_s"] = round(time.perf_counter() - t0, 2)
    print(
        f"published {len(files)} files (+{RACED} racing duplicates) in {publish['publish_s']} s: {publish}",
        file=sys.stderr,
    )

    peer_dir = work / "peer"
    shutil.copytree(files_dir, peer_dir)
    peer_port = free_port()
    peer_url = f"http://127.0.0.1:{peer_port}"
    peer_cmd = [
        sys.executable,
        "-m",
        "pypiserver",
        "run",
        "-p",
        str(peer_port),
        "-i",
        "127.0.0.1",
        "--server",
        "gevent",
    ]
    peer_cmd += ["--disable-fallback", str(peer_dir)]
    procs.append(subprocess.Popen(peer_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_http(f"{peer_url}/simple/", procs[-1])

    import httpx

    body = httpx.get(f"{url}/simple/", headers={"Accept": "text/html"}).content
    static_port = free_port()
    static = subprocess.Popen([sys.executable, __file__, "--static", str(static_port)], stdin=subprocess.PIPE)
    procs.append(static)
    assert static.stdin is not None
    static.stdin.write(body)
    static.stdin.close()
    time.sleep(0.5)
    ceiling = run_loadgen(f"http://127.0.0.1:{static_port}/simple/", clients, min(warmup, 1.0), min(duration, 2.5))
    stop(static)
    print(f"load generator ceiling (trivial server, same bytes): {ceiling}", file=sys.stderr)

    rounds: dict[str, list[dict[str, float]]] = {"rlhub": [], "pypiserver": []}
    for _ in range(1 if quick else 3):  # interleaved, so both sides see the same background noise
        for side, base in (("rlhub", url), ("pypiserver", peer_url)):
            rounds[side].append(run_loadgen(f"{base}/simple/", clients, warmup, duration))
            print(f"{side}: {rounds[side][-1]}", file=sys.stderr)
    ours, peer = median_round(rounds["rlhub"]), median_round(rounds["pypiserver"])
    project: dict[str, object] = {}
    if not quick:
        page = f"/simple/{OWNER}-{names[0]}/"
        project = {"path": page, "rlhub": run_loadgen(url + page, clients, warmup, duration)}
        project["pypiserver"] = run_loadgen(peer_url + page, clients, warmup, duration)
        print(f"project page {page}: {project}", file=sys.stderr)

    dl_dir = work / "downloads"
    dl_dir.mkdir()
    downloads = asyncio.run(download_all(url, [f"{OWNER}-{n}" for n in names], file_sha, dl_dir))
    installs = pip_install_all(sorted(dl_dir.glob("*.whl")), published, work)
    print(f"installs: {downloads} {installs}", file=sys.stderr)

    integrity_errors = (
        publish["upload_failures"]
        + publish["files_not_published_exactly_once"]
        + downloads["download_failures"]
        + downloads["hash_mismatches"]
        + installs["installed_files_mismatched"]
        + installs["pip_error"]
        + (PACKAGES - downloads["downloads"])
    )
    ratio = ours["req_per_s"] / peer["req_per_s"] if peer["req_per_s"] else float("inf")
    return {
        "bench": "hub",
        "clients": clients,
        "duration_s": duration,
        "req_per_s": ours["req_per_s"],
        "peer_req_per_s": peer["req_per_s"],
        "ratio": round(ratio, 2),
        "p50_ms": ours["p50_ms"],
        "p99_ms": ours["p99_ms"],
        "peer_p50_ms": peer["p50_ms"],
        "peer_p99_ms": peer["p99_ms"],
        "errors": int(ours["errors"]) + integrity_errors,
        "peer_errors": peer["errors"],
        "loadgen_ceiling_req_per_s": ceiling["req_per_s"],
        "rounds": rounds,
        "project_page": project,
        "publish": publish,
        "downloads": downloads,
        "installs": installs,
        "targets_met": ratio >= 1.5 and ours["p99_ms"] < 250 and ours["errors"] == 0 and integrity_errors == 0,
        "wall_s": round(time.monotonic() - t_start, 1),
    }


if __name__ == "__main__":
    main()
