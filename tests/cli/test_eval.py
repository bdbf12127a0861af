import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlhub.cli.main import main
from rlhub.core.metrics import compute_metrics
from rlhub.rollout.log import read_log
from rlhub.rollout.stub_server import solve

ENV_FILE = '''
import random
import rlhub
from rlhub import Rubric, Task


def exact(response, reference):
    return response.strip() == str(reference)


@rlhub.environment("clitests/add", version="0.1.0")
class Add(rlhub.SingleTurnEnv):
    """Adds two numbers."""

    digits: int = 3
    rubric = Rubric(correct=exact)

    def make_task(self, rng: random.Random) -> Task:
        a, b = rng.randint(0, 10**self.digits), rng.randint(0, 10**self.digits)
        return Task(prompt=f"What is {a} + {b}?", answer=str(a + b), tags=(f"digits:{self.digits}",))
'''


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / "add_env.py"
    path.write_text(textwrap.dedent(ENV_FILE))
    return path


def start_stub(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlhub.rollout.stub_server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line
    return proc, line.split()[-1]


@pytest.fixture
def stub() -> Iterator[str]:
    proc, url = start_stub("--wrong-pct", "30")
    yield url
    proc.terminate()
    proc.wait(5)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def log_of(out: str) -> Path:
    return Path(next(line for line in out.splitlines() if line.startswith("log: "))[5:].strip())


def test_eval_mock_then_view(env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys, "eval", str(env_file), "--model", "mock", "-n", "20", "-r", "2", "--out", str(tmp_path / "runs"), "-q"
    )
    assert code == 0, err
    assert "mean reward" in out and "0.600" in out and "pass@2" in out
    path = log_of(out)
    assert path.parent == tmp_path / "runs" / "clitests-add" and path.name.startswith("mock-test-s0-")
    code, again, _ = cli(
        capsys, "eval", str(env_file), "--model", "mock", "-n", "20", "-r", "2", "--out", str(tmp_path / "runs"), "-q"
    )
    assert code == 0 and log_of(again) == path and len(read_log(path).rollouts) == 40
    code, out, _ = cli(capsys, "view", str(path), "--examples", "2")
    assert code == 0 and "digits:3" in out and "What is" in out and "correct" in out


def test_eval_against_a_real_server_and_rescore(
    env_file: Path, tmp_path: Path, stub: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "stub.jsonl"
    args = ["eval", str(env_file), "--model", "stub", "--base-url", stub, "-n", "30", "-r", "2", "-c", "8"]
    code, out, err = cli(capsys, *args, "--out", str(out_file), "-q", "--temperature", "0.5", "--max-tokens", "16")
    assert code == 0, err
    assert log_of(out) == out_file
    log = read_log(out_file)
    assert log.header.base_url == stub and log.header.sampling.max_tokens == 16 and log.header.env_source
    assert log.footer is not None and 0.4 < log.footer.metrics.mean < 0.95  # the stub is wrong on ~30%
    code, out, _ = cli(capsys, "view", str(out_file), "--rescore")
    assert code == 0 and "re-scored 60 rollouts: all match the log" in out
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(out_file.read_text().replace('"score":{"value":1.0', '"score":{"value":0.0', 1))
    code, out, _ = cli(capsys, "view", str(tampered), "--rescore")
    assert code == 1 and "1 differ" in out
    rehashed = tmp_path / "rehashed.jsonl"  # the hub's rules: a log of other code is refused
    rehashed.write_text(out_file.read_text().replace(f'"env_hash":"{log.header.env_hash}"', '"env_hash":"0"', 1))
    code, out, _ = cli(capsys, "view", str(rehashed), "--rescore")
    assert code == 1 and "0 differ" in out and "content hash 0;" in out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "nosuch/env", "--model", "mock"], "unknown environment 'nosuch/env'"),
        (["eval", "{env}", "--model", "mock", "--config", "digits=lots"], "bad config"),
        (["eval", "{env}", "--model", "mock", "--config", "colour=red"], "unknown config key(s) colour"),
        (
            ["eval", "{env}", "--model", "m", "--base-url", "http://127.0.0.1:{port}/v1"],
            "cannot reach the model server",
        ),
        (["eval", "{env}", "--model", "m"], "--base-url is required"),
        (["eval", "{env}", "--model", "mock", "--split", "dev"], "--split must be train or test"),
        (["view", "{tmp}/nothing.jsonl"], "is not a file"),
    ],
)
def test_user_mistakes_are_one_clear_line(
    args: list[str],
    message: str,
    env_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    values = {"env": str(env_file), "port": str(free_port()), "tmp": str(tmp_path)}
    extra = ["--out", str(tmp_path)] if args[0] == "eval" else []
    code, _, err = cli(capsys, *[a.format(**values) for a in args], *extra)
    assert code == 1
    assert message in " ".join(err.split()) and "Traceback" not in err


def workers_gone(group: int) -> bool:
    for _ in range(100):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    return False


def test_each_configuration_gets_its_own_log(
    env_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = str(tmp_path / "runs")
    base = ["eval", str(env_file), "--model", "mock", "--out", runs, "-q"]
    code, first, err = cli(capsys, *base, "--mock-accuracy", "0.6", "-n", "50", "-r", "2")
    assert code == 0, err
    code, second, err = cli(capsys, *base, "--mock-accuracy", "0.9", "-n", "100")
    assert code == 0, err
    one, two = log_of(first), log_of(second)
    assert one != two and one.parent == two.parent
    assert f"new log {one}\n" in first
    assert f"new log {two} (mock_accuracy, n, r differ from the earlier run)" in " ".join(second.split())
    for path, count, tasks, mean in [(one, 100, 50, 0.6), (two, 100, 100, 0.9)]:
        log = read_log(path)
        lines = [json.loads(x) for x in path.read_text().splitlines()]
        assert [x["type"] for x in lines] == ["header"] + ["rollout"] * count + ["footer"]
        assert len(log.rollouts) == count and len({r.task.id for r in log.rollouts}) == tasks
        assert log.footer is not None and log.footer.metrics.mean == pytest.approx(mean)
    code, again, _ = cli(capsys, *base, "--mock-accuracy", "0.6", "-n", "50", "-r", "2")
    assert code == 0 and f"resumed 100 of 100 rollouts from {one}" in again and log_of(again) == one
    code, hot, _ = cli(capsys, *base, "--mock-accuracy", "0.6", "-n", "50", "-r", "2", "--temperature", "0.7")
    assert code == 0 and "(temperature differs from the earlier run)" in " ".join(hot.split())
    code, _, err = cli(capsys, *base[:-3], "--out", str(one), "--mock-accuracy", "0.9", "-n", "50", "-r", "2")
    assert code == 1 and "different run (mock_accuracy differs" in " ".join(err.split())


def eval_process(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """`rlhub eval` as a user runs it: its own process, SIGINT as a terminal sends it (CI may start us
    as a background job, which ignores SIGINT)."""
    return subprocess.Popen(
        [sys.executable, "-m", "rlhub", "eval", *args],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


NOISE = ("Traceback", "Unclosed", "Task exception", "was destroyed", "Exception ignored")


def test_dead_server_is_one_line_without_aiohttp_noise(env_file: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = eval_process(str(env_file), "--model", "m", "--base-url", url, "--out", str(tmp_path), "-q")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip().count("\n") == 0 and f"cannot reach the model server at {url}" in err, err
    assert not any(word in err for word in NOISE), err


N, R = 200, 2


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_faults_and_a_kill_leave_every_rollout_exactly_once(
    env_file: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    """20% of model requests fail (429, 5xx, hangs past the request timeout, resets, broken bodies);
    the run is killed at about 40%, rerun until done: each (task, sample) exactly once, ok only for a
    valid answer, finished rollouts kept as they were, failed ones replaced by their retries."""
    server, url = start_stub("--fault-pct", "20", "--hang", "2")
    out_file = tmp_path / "run.jsonl"
    args = [str(env_file), "--model", "stub", "--base-url", url, "-n", str(N), "-r", str(R), "-c", "8"]
    args += ["--out", str(out_file), "-q", "--request-timeout", "0.5", "--retries", "1"]  # some rollouts fail
    try:
        proc = eval_process(*args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if out_file.exists() and out_file.read_bytes().count(b'"type":"rollout"') >= 0.4 * N * R:
                break
            time.sleep(0.02)
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == (-9 if sig == signal.SIGKILL else 130)
        assert not any(word in err for word in NOISE), err
        if sig == signal.SIGKILL:
            assert workers_gone(proc.pid)  # scoring workers died with their parent
        killed = read_log(out_file)
        assert killed.footer is None and 0.3 * N * R <= len(killed.rollouts) < N * R
        kept = [line for line in out_file.read_bytes().splitlines() if b'"status":"ok"' in line]
        failed = {r.key for r in killed.rollouts if r.status != "ok"}
        for attempt in range(4):
            rerun = eval_process(*args)
            out, err = rerun.communicate(timeout=120)
            assert rerun.returncode == 0 and not any(word in err for word in NOISE), err
            if attempt == 0:
                assert f"resumed {len(kept)} of {N * R} rollouts from {out_file}" in out
            lines = [json.loads(x) for x in out_file.read_text().splitlines()]
            assert [x["type"] for x in lines] == ["header"] + ["rollout"] * (N * R) + ["footer"]
            keys = [(x["task"]["id"], x["sample"]) for x in lines[1:-1]]
            assert set(keys) == {(f"test-0-{i}", s) for i in range(N) for s in range(R)}  # each exactly once
            log = read_log(out_file)
            assert log.footer is not None and log.footer.metrics == compute_metrics(log.rollouts)
            ok = [r for r in log.rollouts if r.status == "ok"]
            assert all(r.response == solve(r.task.prompt[-1].content) and r.reward == 1.0 for r in ok)
            if len(ok) == N * R:
                break
            failed |= {r.key for r in log.rollouts if r.status != "ok"}
        assert len(ok) == N * R and failed  # every failed record was replaced by its retry
        assert set(kept) <= set(out_file.read_bytes().splitlines())  # finished rollouts kept as they were
    finally:
        server.terminate()
        server.wait(5)
