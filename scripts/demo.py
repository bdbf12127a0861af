"""`make demo`: rlhub's main job end to end on this machine, with the real commands printed as they run.

1. check the starter environments;
2. evaluate with the offline mock model, and with a real OpenAI-compatible server on loopback;
3. start a local hub (SQLite + blobs under .demo/home), publish every catalogue environment;
4. author flow: scaffold an environment, check it, publish it, pip-install it from the hub, evaluate
   it and push the result to its leaderboard;
5. train the tiny model on arithmetic (SFT warm start, then GRPO), evaluate before and after on
   held-out tasks, push both evaluations so the leaderboard shows the improvement, and serve the
   trained model over an OpenAI-compatible API for one more evaluation.

Everything is written under .demo/; the hub keeps running at the end so its pages can be browsed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
BIN = Path(sys.executable).parent
RLHUB = str(BIN / "rlhub")
STARTERS = ["rlhub/arithmetic", "rlhub/word-problems", "rlhub/calculator"]
started = time.monotonic()
background: list[subprocess.Popen[bytes]] = []


def free_port(preferred: int | None = None) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred or 0))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def title(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m  [{time.monotonic() - started:.0f}s]", flush=True)


def rlhub(*args: str, env: dict[str, str], capture: bool = False) -> str:
    print(f"$ rlhub {' '.join(args)}", flush=True)
    done = subprocess.run([RLHUB, *args], env=env, check=True, text=True, capture_output=capture)
    if capture:
        print(done.stdout, end="")
    return done.stdout if capture else ""


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing answered at {url} within {seconds:.0f}s") from None
            time.sleep(0.2)


def start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    print(f"$ {' '.join(Path(a).name if i == 0 else a for i, a in enumerate(args))} &   (log: {log.relative_to(ROOT)})")
    process = subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    background.append(process)
    return process


def stop_previous_hub() -> None:
    pid_file = DEMO / "hub.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)


def latest_log(directory: Path) -> Path:
    return max(directory.glob("**/*.jsonl"), key=lambda p: p.stat().st_mtime)


def main() -> None:
    stop_previous_hub()
    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "home").mkdir(parents=True)
    hub_port = free_port(8787)
    hub_url = f"http://127.0.0.1:{hub_port}"
    env = {**os.environ, "RLHUB_HOME": str(DEMO / "home"), "RLHUB_HUB_URL": hub_url, "PYTHONUNBUFFERED": "1"}
    runs = DEMO / "runs"

    title("1. Check the starter environments (determinism, gold answers, reward range, splits)")
    for env_id in STARTERS:
        rlhub("check", env_id, "-n", "20", env=env)

    title("2. Evaluate: the offline mock model, then a real OpenAI-compatible server on loopback")
    rlhub("eval", "rlhub/arithmetic", "--model", "mock", "-n", "100", "-r", "2", "--out", str(runs / "mock"), env=env)
    model_port = free_port()
    start([sys.executable, "-m", "rlhub.rollout.stub_server", "--port", str(model_port), "--wrong-pct", "25"],
          DEMO / "model-server.log", env)  # fmt: skip
    wait_http(f"http://127.0.0.1:{model_port}/v1/models")
    base_url = f"http://127.0.0.1:{model_port}/v1"
    for env_id in ("rlhub/arithmetic", "rlhub/calculator"):
        rlhub("eval", env_id, "--model", "stub", "--base-url", base_url, "-n", "100", "-r", "2", "-c", "64",
              "--out", str(runs / "stub"), "--quiet", env=env)  # fmt: skip
    rlhub("view", str(latest_log(runs / "stub")), env=env)

    title(f"3. A local hub at {hub_url}: SQLite and blobs in .demo/home")
    hub = start([RLHUB, "serve", "--port", str(hub_port)], DEMO / "hub.log", env)
    (DEMO / "hub.pid").write_text(str(hub.pid))
    wait_http(f"{hub_url}/simple/")
    token = rlhub("admin", "create-user", "rlhub", env=env, capture=True).strip().splitlines()[-1]
    demo_token = rlhub("admin", "create-user", "demo", env=env, capture=True).strip().splitlines()[-1]
    packages = sorted(p.parent for p in (ROOT / "environments").glob("*/pyproject.toml"))
    print(f"publishing {len(packages)} catalogue environments (wheel + sdist each) ...")

    def push(path: Path) -> str:
        done = subprocess.run([RLHUB, "push", str(path), "--token", token], env=env, text=True, capture_output=True)
        line = (done.stdout.strip().splitlines() or [done.stderr.strip()])[-1]
        return f"  {'ok ' if done.returncode == 0 else 'ERR'} {path.name}: {line}"

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(push, packages))
    print("\n".join(results))
    if any("ERR" in r for r in results):
        raise SystemExit("some environments failed to publish")
    rlhub("search", "tool", env=env)

    title("4. Author flow: init, check, push, pip install from the hub, eval, push the result")
    hello = DEMO / "hello"
    rlhub("init", "demo/hello", "--dir", str(hello), env=env)
    rlhub("check", str(hello), "-n", "20", env=env)
    rlhub("push", str(hello), "--token", demo_token, env=env)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--index-url", f"{hub_url}/simple/", "demo-hello"]
    print(f"$ pip install --index-url {hub_url}/simple/ demo-hello")
    subprocess.run(pip, env=env, check=True)
    rlhub("eval", "demo/hello", "--model", "mock", "-n", "50", "--out", str(runs / "hello"), "--quiet", env=env)
    rlhub("push-results", str(latest_log(runs / "hello")), "--token", demo_token, env=env)

    title("5. Train the tiny model on arithmetic: SFT warm start, then GRPO (2 CPU cores)")
    train_out = DEMO / "train"
    rlhub("train", "pipeline", str(ROOT / "configs" / "arithmetic.toml"), "--run.out", str(train_out),
          "--model.path", str(train_out / "tiny-model"), env=env)  # fmt: skip
    summary = json.loads((train_out / "summary.json").read_text())
    print(f"held-out accuracy ({summary['eval_tasks']} test tasks): SFT {summary['accuracy_before']:.1%} -> "
          f"GRPO {summary['accuracy_after']:.1%}")  # fmt: skip
    for stage, log in zip(("sft", "grpo"), summary["eval_logs"], strict=True):
        rlhub("push-results", log, "--model", f"tiny-{stage}", "--token", token, env=env)
    port = free_port()
    server = start([RLHUB, "serve-model", summary["grpo_model"], "--port", str(port), "--name", "tiny-grpo"],
                   DEMO / "serve-model.log", env)  # fmt: skip
    wait_http(f"http://127.0.0.1:{port}/v1/models", 120)
    rlhub("eval", "rlhub/arithmetic", "--model", "tiny-grpo", "--base-url", f"http://127.0.0.1:{port}/v1",
          "-n", "50", "--split", "test", "--temperature", "0", "--max-tokens", "5", "--quiet",
          "-C", "digits=2", "-C", "instruction=false", "-C", "style=equation",
          "--out", str(runs / "tiny-served"), env=env)  # fmt: skip
    server.terminate()

    title("Done")
    print(f"  hub (still running, pid {hub.pid}; stop it with: kill {hub.pid}):")
    print(f"    {hub_url}/                         home and search")
    print(f"    {hub_url}/rlhub/arithmetic         README, versions, leaderboard (tiny SFT vs GRPO)")
    print(f"    {hub_url}/demo/hello               the environment you just made")
    print(f"  logs: {runs.relative_to(ROOT)}/   (summarise any with: rlhub view LOG)")
    print(f"  training: {train_out.relative_to(ROOT)}/   (curve.png, summary.json, sft/ and grpo/ models)")
    print(f"  total: {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    try:
        main()
    finally:
        for process in background:
            if process.poll() is None and process.args[1:2] != ["serve"]:
                process.terminate()
