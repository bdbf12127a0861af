"""`rlhub train pipeline` with its output in a pipe (a log file, `| tee`) prints plain progress lines."""

import subprocess
import sys
from pathlib import Path

import pytest

ADD_ENV = Path(__file__).parents[1] / "train" / "add_env.py"


@pytest.mark.slow
def test_pipeline_prints_progress_lines_into_a_pipe(tmp_path: Path) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(
        f"""
[model]
path = "{tmp_path / "model"}"
hidden = 32
layers = 1
heads = 2
[env]
id = "{ADD_ENV}"
max_tokens = 6
eval_tasks = 8
[sft]
steps = 4
batch_size = 8
micro_batch_size = 8
eval_every = 2
val_tasks = 8
[grpo]
steps = 2
prompts = 4
group = 4
[run]
out = "{tmp_path / "out"}"
threads = 1
"""
    )
    command = [sys.executable, "-m", "rlhub.cli.main", "train", "pipeline", str(config), "--run.progress_every", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    sft = [line for line in lines if line.startswith("sft step ")]
    grpo = [line for line in lines if line.startswith("grpo step ")]
    assert [line.split(" · ")[0] for line in sft] == [f"sft step {i}/4" for i in range(1, 5)]
    assert "loss " in sft[0] and "val acc" in sft[1]
    assert [line.split(" · ")[0] for line in grpo] == ["grpo step 1/2", "grpo step 2/2"] and "reward " in grpo[0]
    assert any(line.startswith("held-out accuracy after SFT:") for line in lines)
    assert "\x1b[" not in done.stdout  # no terminal control codes in a log file


def test_plain_lines_are_periodic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rlhub.train.common import PlainProgress

    with PlainProgress(total=100, description="sft", every=3600) as bar:
        for step in range(1, 101):
            bar.update(bar.task_ids[0], completed=step, stats=f"loss {1 / step:.3f}")
    assert capsys.readouterr().out.splitlines() == ["sft step 100/100 · loss 0.010 · 0 s"]
