"""The public surface: `__all__` is exactly what we promise, and `import rlhub` stays light."""

import subprocess
import sys

import rlhub

PUBLIC = {
    "CheckReport", "Completion", "ConfigError", "EnvNotFound", "Environment", "MCPTools", "Message", "ModelClient",
    "ModelError", "MultiTurnEnv", "RlhubError", "Rollout", "Rubric", "Runtime", "Sampling", "Score", "ScoreStatus",
    "SingleTurnEnv", "State", "Task", "ToolCall", "ToolEnv", "ToolSpec", "WorkspaceEnv", "__version__", "check_env",
    "environment", "load", "registered",
}  # fmt: skip


def test_all_is_the_public_api() -> None:
    assert set(rlhub.__all__) == PUBLIC
    for name in rlhub.__all__:
        assert getattr(rlhub, name) is not None


def test_import_is_light_and_fast() -> None:
    # CPU time, not wall time: the suite runs in parallel on a small machine, and waiting for a core
    # is not import cost. Best of five.
    code = (
        "import sys, time; t = time.process_time(); import rlhub; dt = time.process_time() - t; "
        "heavy = [m for m in ('torch', 'sympy', 'fastapi', 'sqlalchemy', 'transformers', 'aiohttp') "
        "if m in sys.modules]; "
        "print(dt, heavy)"
    )
    times = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(
            " ", 1
        )
        times.append(float(out[0]))
        assert out[1].strip() == "[]", f"heavy modules imported: {out[1]}"
    assert min(times) < 0.5, times
