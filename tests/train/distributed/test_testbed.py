"""The emulated wide-area testbed: links carry about the bandwidth they are shaped to, torchrun's c10d
rendezvous spans the namespaces, and nothing is left behind, even after an exception or a SIGTERM."""

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

from rlhub.train.distributed.testbed import Testbed, measure_mbit, namespaces

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("tc") is None,
    reason="network namespaces need root, iproute2 and tc",
)


def _ours(bed: Testbed) -> list[str]:
    return [ns for ns in namespaces() if ns.startswith(bed.name)]


def test_a_link_carries_about_its_tbf_rate_and_teardown_leaves_nothing() -> None:
    with Testbed(2, mbit=100) as bed:
        assert len(_ours(bed)) == 3  # two workers and the hub
        shaped = measure_mbit(bed, 0, 1, megabytes=4)
    assert 75 <= shaped <= 102, shaped
    assert _ours(bed) == []


def test_an_unshaped_link_is_much_faster_so_the_shaping_is_what_limits() -> None:
    with Testbed(2, mbit=None) as bed:
        assert measure_mbit(bed, 0, 1, megabytes=16) > 300


def test_an_exception_inside_kills_the_processes_and_removes_the_namespaces() -> None:
    with pytest.raises(RuntimeError, match="boom"), Testbed(1, mbit=10) as bed:
        sleeper = bed.popen(0, ["sleep", "600"])
        time.sleep(0.2)
        assert bed.pids(bed.ns(0)) == [sleeper.pid]
        raise RuntimeError("boom")
    assert sleeper.wait(timeout=10) == -signal.SIGKILL
    assert _ours(bed) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signalled_owner_still_tears_down(sig: signal.Signals) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom rlhub.train.distributed.testbed import Testbed\n"
         "with Testbed(2, 100) as bed:\n    print(bed.name, flush=True)\n    time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert owner.stdout is not None
    name = owner.stdout.readline().strip()
    assert any(ns.startswith(name) for ns in namespaces())
    owner.send_signal(sig)
    assert owner.wait(timeout=30) != 0
    assert not any(ns.startswith(name) for ns in namespaces())


def test_two_testbeds_side_by_side_do_not_collide() -> None:
    with Testbed(1, 100) as first, Testbed(1, 100) as second:
        assert first.name != second.name and len(_ours(first)) == len(_ours(second)) == 2


@pytest.mark.slow
def test_torchrun_c10d_rendezvous_and_ddp_run_across_the_namespaces(tmp_path: Path) -> None:
    args = ["-m", "rlhub.train.distributed.run", "--mode", "ddp", "--steps", "20", "--hidden", "32", "--layers", "1",
            "--val-size", "64", "--log-every", "10", "--out", str(tmp_path)]  # fmt: skip
    with Testbed(2, mbit=100) as bed:
        nodes = [bed.torchrun(w, args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for w in range(2)]
        assert [node.wait(timeout=240) for node in nodes] == [0, 0]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["world"] == 2 and result["steps"] == 20
    for rank in (0, 1):
        timing = json.loads((tmp_path / f"timing-rank{rank}.json").read_text())
        assert 0 < timing["utilization"] < 1 and timing["phases_s"]["communication"] > 0
    assert _ours(bed) == []


def test_pinned_workers_run_on_their_own_cpu() -> None:
    with Testbed(2, mbit=None, pin=True) as bed:
        cpus = [
            bed.popen(w, [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
                      stdout=subprocess.PIPE, text=True).communicate(timeout=30)[0].strip()
            for w in range(2)
        ]  # fmt: skip
    assert cpus == [f"[{w % os.cpu_count()}]" for w in range(2)]  # type: ignore[operator]
