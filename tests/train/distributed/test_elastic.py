"""Workers that come and go (torchft), on the emulated wide-area testbed: a worker's process is killed
inside its namespace mid-round, or its link is cut; the survivor finishes the round and goes on without
a restart, a replacement joins at a round boundary with a peer's state, no sample is trained twice, and
the final loss stays within 2% of an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlhub.train.distributed.testbed import Testbed, namespaces

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="network namespaces need root"),
]
STEPS, H = 400, 20
TRAIN = ["--data", "text", "--steps", str(STEPS), "--inner-steps", str(H), "--hidden", "32", "--layers", "1",
         "--lr", "1e-2", "--decay", "true", "--val-size", "512",
         "--outer-lr", "0.8", "--outer-momentum", "0.6"]  # fmt: skip
PORT = 29510


def _worker(bed: Testbed, worker: int, replica: str, out: Path, min_start: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "rlhub.train.distributed.elastic", "worker", "--lighthouse",
            f"http://{bed.hub_addr}:{PORT}", "--host", bed.addr(worker), "--replica-id", replica,
            "--min-start", str(min_start), "--timeout", "10", "--out", str(out), *TRAIN]  # fmt: skip
    return bed.popen(worker, argv, stdout=(out / f"{replica}.log").open("w"), stderr=subprocess.STDOUT)


def _metrics(out: Path) -> list[dict[str, float]]:
    path = out / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _train(out: Path, fault: str | None) -> dict[str, dict[str, object]]:
    """Two workers at 100 Mbit/s; with a fault, worker 1 fails after round 3 and (killed) is replaced."""
    out.mkdir()
    with Testbed(2, mbit=100) as bed:
        lighthouse = bed.popen(None, [sys.executable, "-m", "rlhub.train.distributed.elastic", "lighthouse",
                                      "--bind", f"{bed.hub_addr}:{PORT}"],
                               stdout=subprocess.PIPE, stderr=(out / "lighthouse.log").open("w"))  # fmt: skip
        assert lighthouse.stdout is not None and lighthouse.stdout.readline()
        survivor, second = _worker(bed, 0, "w0", out, 2), _worker(bed, 1, "w1", out, 2)
        if fault is not None:
            deadline = time.monotonic() + 300
            while len(_metrics(out)) < 3:
                assert survivor.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.3)  # mid-round
            if fault == "kill":
                for pid in bed.pids(bed.ns(1)):  # the worker's process, found inside its namespace
                    os.kill(pid, signal.SIGKILL)
                assert second.wait(timeout=10) == -signal.SIGKILL
                second = _worker(bed, 1, "w1b", out, 1)
            else:
                bed.set_link(1, up=False)
        assert survivor.wait(timeout=600) == 0, (out / "w0.log").read_text()[-3000:]
        if fault != "cut":
            assert second.wait(timeout=120) == 0
    assert not any(ns.startswith(bed.name) for ns in namespaces())
    return {path.stem.removeprefix("result-"): json.loads(path.read_text()) for path in out.glob("result-*.json")}


def _trained_samples(out: Path) -> list[int]:
    samples = []
    for path in out.glob("samples-*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            samples += [first + j for first in record["first"] for j in range(record["count"])]
    return samples


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> float:
    results = _train(tmp_path_factory.mktemp("elastic") / "clean", None)
    assert results["w0"]["weights_sha256"] == results["w1"]["weights_sha256"]
    return float(results["w0"]["val_loss"])  # type: ignore[arg-type]


def test_a_killed_worker_is_replaced_and_the_survivor_never_restarts(tmp_path: Path, uninterrupted: float) -> None:
    results = _train(tmp_path / "run", "kill")
    survivor, replacement = results["w0"], results["w1b"]
    assert "w1" not in results  # the killed worker wrote nothing more
    worlds = [m["world"] for m in _metrics(tmp_path / "run")]
    assert worlds[:3] == [2, 2, 2] and 1 in worlds and worlds[-1] == 2  # alone for a while, then joined
    assert 0 < int(replacement["joined_at_step"]) < STEPS  # type: ignore[call-overload]
    assert replacement["weights_sha256"] == survivor["weights_sha256"]  # healed with the peer's state
    assert survivor["steps"] == STEPS  # one process from start to end: never restarted
    trained = _trained_samples(tmp_path / "run")
    assert len(trained) == len(set(trained))  # nothing trained twice
    assert abs(float(survivor["val_loss"]) - uninterrupted) / uninterrupted < 0.02  # type: ignore[arg-type]


def test_a_cut_link_leaves_the_survivor_training_alone(tmp_path: Path, uninterrupted: float) -> None:
    results = _train(tmp_path / "run", "cut")
    worlds = [m["world"] for m in _metrics(tmp_path / "run")]
    assert worlds[:3] == [2, 2, 2] and worlds[-1] == 1
    assert results["w0"]["steps"] == STEPS
    assert abs(float(results["w0"]["val_loss"]) - uninterrupted) / uninterrupted < 0.03  # type: ignore[arg-type]
