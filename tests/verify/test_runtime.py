"""Runtimes: built from a loopback index (see conftest.py), hash-pinned, read-only and offline in the sandbox."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rlhub.verify.runtime import Runtime, RuntimeBuildError
from rlhub.verify.sandbox import SandboxPool

PROBE = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2)
    print("network: reached")
except OSError as exc:
    print("network: off")
try:
    open("/opt/rlhub/runtime/x", "w")
except OSError as exc:
    print("runtime: read-only")
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def test_requirements_are_a_normalised_set() -> None:
    assert Runtime(["pytest", " numpy>=2", "numpy>=2"]) == Runtime(["numpy>=2", "pytest"])
    assert Runtime(["numpy>=2", "pytest"]).key() == Runtime(("pytest", "numpy>=2")).key()
    assert Runtime(["numpy>=2"]).key() != Runtime(["numpy>=1"]).key()
    with pytest.raises(TypeError):
        Runtime("numpy")  # type: ignore[arg-type]


def test_offline_with_nothing_cached_names_what_is_missing(use_index: Callable[[str], None]) -> None:
    use_index("http://127.0.0.1:9/simple")
    runtime = Runtime(["numpy>=2", "pytest"])
    with pytest.raises(RuntimeBuildError) as error:
        runtime.build()
    message = str(error.value)
    assert "missing numpy>=2, pytest" in message and "127.0.0.1:9" in message and str(runtime.path()) in message
    assert not runtime.path().exists()  # nothing half-built left behind


def test_a_runtime_is_pinned_by_hash_cached_and_read_only_offline_in_the_sandbox(
    runtime_home: Path, listener: socket.socket, use_index: Callable[[str], None]
) -> None:
    runtime = Runtime(["pytest"])
    built = runtime.build()
    assert built.prefix == runtime_home / "runtimes" / runtime.key()
    assert any(pin.startswith("pytest==") for pin in built.locked) and any(
        p.startswith("pluggy==") for p in built.locked
    )
    lock = (built.prefix / "requirements.lock").read_text().splitlines()
    assert len(lock) == len(built.locked) and all(" --hash=sha256:" in line for line in lock)
    assert built.size_bytes > 1_000_000 and built.build_s > 0

    use_index("http://127.0.0.1:9/simple")  # the cache answers without any index
    start = time.monotonic()
    again = runtime.build()
    assert again.cached and again.locked == built.locked and time.monotonic() - start < 1.0

    with SandboxPool(1, runtime=runtime) as pool:
        result = pool.run(
            PROBE.replace("PORT", str(listener.getsockname()[1])) + "import pytest; print(pytest.__file__)"
        )
        assert result.stdout.splitlines() == [
            "network: off",
            "runtime: read-only",
            "/opt/rlhub/runtime/lib/python3.11/site-packages/pytest/__init__.py",
        ], result
        cli = pool.run(
            "import subprocess; print(subprocess.run(['pytest', '--version'], capture_output=True, text=True).stdout)"
        )
        assert cli.stdout.startswith("pytest "), cli  # console scripts work where the runtime is mounted


@pytest.mark.slow
def test_numpy_imports_inside_the_sandbox_with_the_network_off(
    loopback_index: Callable[[list[str]], str], listener: socket.socket
) -> None:
    loopback_index(["numpy"])
    runtime = Runtime(["numpy>=2"])
    built = runtime.build()
    assert any(pin.startswith("numpy==2.") for pin in built.locked)
    with SandboxPool(1, runtime=runtime) as pool:
        code = PROBE.replace("PORT", str(listener.getsockname()[1]))
        code += "import numpy\nprint(int(numpy.arange(10).sum()), numpy.__version__[:2])"
        result = pool.run(code, memory_mb=1024)
    assert result.stdout.splitlines() == ["network: off", "runtime: read-only", "45 2."], result
