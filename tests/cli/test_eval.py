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

import pytest

from rlhub.cli.main import main
from rlhub.rollout.log import read_log

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


@pytest.fixture
def slow_stub() -> Iterator[str]:
    proc, url = start_stub("--delay", "0.05")
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


TOTAL = 200
"""Rollouts in the killed run: at 50 ms each, two at a time, the signal lands mid-run on a loaded machine."""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_resumes_without_repeats(
    env_file: Path, tmp_path: Path, slow_stub: str, sig: signal.Signals
) -> None:
    out_file = tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "rlhub", "eval", str(env_file), "--model", "stub", "--base-url", slow_stub]
    command += ["-n", str(TOTAL), "-c", "2", "--out", str(out_file), "-q"]  # ~5 s: time to land the signal
    proc = subprocess.Popen(  # SIGINT restored: CI may start us as a background job, which ignores it
        command,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if out_file.exists() and out_file.read_bytes().count(b'"type":"rollout"') >= 10:
            break
        time.sleep(0.02)
    os.kill(proc.pid, sig)
    proc.wait(10)
    if sig == signal.SIGKILL:
        assert workers_gone(proc.pid)  # scoring workers died with their parent
    else:
        assert proc.returncode == 130
    before = out_file.read_bytes()
    done_before = {(r.task.id, r.sample) for r in read_log(out_file).rollouts}
    assert 10 <= len(done_before) < TOTAL and read_log(out_file).footer is None
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=60)
    after = out_file.read_bytes()
    assert after.startswith(before[: before.rfind(b"\n") + 1])  # finished rollouts were kept as they were
    records = [json.loads(x) for x in after.splitlines() if b'"type":"rollout"' in x]
    keys = [(r["task"]["id"], r["sample"]) for r in records]
    assert len(keys) == len(set(keys)) == TOTAL  # none twice, none lost
    assert read_log(out_file).footer is not None
