"""The re-score contract's rules on a real log: altered tasks and another environment hash are refused.

The hub applies the same function in its sandbox; tests/hub/server/test_checks_and_results.py checks
that it refuses these logs with the very same reasons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.rollout.envs import Add

from rlhub.core.types import Rollout
from rlhub.rollout import MockClient, RolloutConfig, read_log, rescore, run
from rlhub.verify.rescore import REPORT_VERSION, RescoreReport, env_hash
from rlhub.verify.rescore import rescore as apply_contract


@pytest.fixture
async def log(tmp_path: Path) -> Path:
    env = Add()
    path = tmp_path / "run.jsonl"
    config = RolloutConfig(n=6, r=2, progress=False, score_workers=1)
    await run(env, MockClient(env, env.tasks(6, "test"), 0.5), config, path)
    return path


def edit(path: Path, change: Callable[[dict[str, Any]], None], line: int | None = None) -> Path:
    """A copy of the log with one record changed (by default the first rollout the model got wrong)."""
    lines = path.read_text().splitlines()
    if line is None:
        line = next(i for i, text in enumerate(lines) if '"status":"incorrect"' in text)
    record = json.loads(lines[line])
    change(record)
    lines[line] = json.dumps(record)
    edited = path.with_name("edited.jsonl")
    edited.write_text("\n".join(lines) + "\n")
    return edited


def test_a_faithful_log_is_reproduced_with_the_hub_numbers(log: Path) -> None:
    report = rescore(log)
    assert report.ok and report.reason == "" and report.version == REPORT_VERSION
    assert report.env == "rollouttests/add@1.0.0" and report.env_hash == env_hash(Add())
    assert report.metrics == read_log(log).footer.metrics  # type: ignore[union-attr]
    assert RescoreReport.model_validate_json(report.model_dump_json()) == report  # it crosses a process boundary


def answer_is_the_response(record: dict[str, Any]) -> None:
    record["task"]["answer"] = record["messages"][-1]["content"]
    record["score"] = {**record["score"], "value": 1.0, "status": "correct"}


def prompt_changed(record: dict[str, Any]) -> None:
    record["task"]["prompt"][-1]["content"] = "What is 1 + 1?"


@pytest.mark.parametrize("change", [answer_is_the_response, prompt_changed])
def test_an_altered_task_is_refused(log: Path, change: Callable[[dict[str, Any]], None]) -> None:
    task = next(r.task.id for r in read_log(log).rollouts if r.reward == 0.0)  # the record `edit` changes
    report = rescore(edit(log, change))
    assert not report.ok and report.altered_tasks == (task,)
    assert report.reason == f"task {task} differs from the one rollouttests/add@1.0.0 generates"


def test_a_log_of_another_environment_hash_is_refused_before_anything_else(log: Path) -> None:
    def other_hash(header: dict[str, Any]) -> None:
        header["env_hash"] = "0123456789abcdef"

    report = rescore(edit(edit(log, prompt_changed), other_hash, line=0))
    assert not report.ok and report.logged_env_hash == "0123456789abcdef"
    assert report.reason.startswith(
        "the log was written with rollouttests/add@1.0.0 of content hash 0123456789abcdef; the installed one hashes"
    )


def test_the_footer_must_claim_the_rescored_mean_and_a_log_needs_rollouts(log: Path) -> None:
    def inflate(footer: dict[str, Any]) -> None:
        footer["metrics"]["mean"] += 0.25

    report = rescore(edit(log, inflate, line=-1))
    assert not report.ok and report.reason.startswith("footer claims mean")
    empty = apply_contract(Add(), [], env_hash(Add()))
    assert empty.reason == "the log has no rollouts" and empty.metrics.count == 0


def test_failed_rollouts_count_as_zero_and_are_not_scored(log: Path) -> None:
    rollouts = read_log(log).rollouts
    failed = [Rollout(task=r.task, sample=r.sample, status="error", error="boom") for r in rollouts[:2]]
    report = apply_contract(Add(), [*failed, *rollouts[2:]], env_hash(Add()))
    assert report.ok and len(report.results) == len(rollouts) - 2 and report.metrics.count == len(rollouts)
