import ast
import asyncio
import json
from collections.abc import Callable, Sequence

import pytest
from rlhub_code_bugfix import CodeBugfix
from rlhub_code_bugfix.env import asserts, bugs, report_tests

import rlhub
from rlhub.core.env import Episode
from rlhub.core.model import PolicyClient
from rlhub.verify import code

Policy = Callable[[Sequence[rlhub.Message]], rlhub.Message]


def play(env: CodeBugfix, task: rlhub.Task, policy: Policy) -> tuple[Episode, rlhub.Score]:
    episode = asyncio.run(env.rollout(task, PolicyClient(policy)))
    return episode, env.score(task, episode.messages, episode.info)


def test_check_env_passes() -> None:
    report = rlhub.check_env(CodeBugfix(), n=20)
    assert report.ok, report.failures()


@pytest.mark.slow
def test_every_bug_fails_some_tests_and_every_fix_passes_all() -> None:
    data = bugs()
    assert len(data) >= 100 and len({b["problem"] for b in data}) >= 80
    items = [
        (f"```python\n{source}```", {"tests": asserts(b), "timeout_s": 10})
        for b in data
        for source in (b["buggy"], b["solution"])
    ]
    scores = code.score_many(items)
    buggy, fixed = scores[0::2], scores[1::2]
    assert [b["id"] for b, s in zip(data, buggy, strict=True) if not 0.0 < s.value < 1.0] == []
    assert [b["id"] for b, s in zip(data, fixed, strict=True) if s.value != 1.0] == []


def test_run_tests_shows_visible_failures_and_only_a_hidden_count() -> None:
    bug = next(b for b in bugs() if b["id"] == "is_prime-2")
    tests = asserts(bug)
    report = report_tests(bug["buggy"], tests, bug["examples"], 10.0)
    assert report == "Visible tests: 2/2 passed\nHidden tests: 5/7 passed"
    everything = report_tests(bug["buggy"], tests, len(tests), 10.0)
    assert "assert is_prime(9) == False: got True" in everything
    fixed = report_tests(bug["solution"], tests, bug["examples"], 10.0)
    assert fixed.endswith("Hidden tests: 7/7 passed")


def test_the_tool_runs_in_an_episode_and_the_final_code_is_what_counts() -> None:
    env = CodeBugfix()
    task = env.task(3, "test")
    call = rlhub.ToolCall(id="c1", name="run_tests", arguments=json.dumps({"code": ""}))

    def test_then_submit_the_bug(messages: Sequence[rlhub.Message]) -> rlhub.Message:
        if messages[-1].role != "tool":
            return rlhub.Message.assistant(tool_calls=(call,))
        return rlhub.Message.assistant(f"```python\n{task.info['buggy']}```")

    episode, score = play(env, task, test_then_submit_the_bug)
    assert episode.info["test_runs"] == 1 and "Hidden tests: " in episode.messages[1].content
    assert 0.0 < score.value < 1.0

    episode, score = play(env, task, lambda m: rlhub.Message.assistant(tool_calls=(call,)))
    assert episode.turns == env.max_turns and score.value == 0.0


def test_each_bug_is_one_changed_line_and_the_hint_names_it() -> None:
    for bug in bugs():
        reference = ast.unparse(ast.parse(bug["solution"])).splitlines()
        changed = [i for i, (a, b) in enumerate(zip(reference, bug["buggy"].splitlines(), strict=True), 1) if a != b]
        assert bug["bug"].startswith(f"line {changed[0]}: ") and len(changed) == 1, bug["id"]


def test_knobs_and_splits() -> None:
    hinted = CodeBugfix(hint=True, difficulties=("easy",))
    task = hinted.task(0)
    assert "Hint: the bug is on line" in task.prompt[0].content and task.tags == ("difficulty:easy",)
    env = CodeBugfix()
    train = {b["problem"] for b in env.split_records("train")}
    test = {b["problem"] for b in env.split_records("test")}
    assert train and test and not train & test
    with pytest.raises(rlhub.ConfigError):
        CodeBugfix(timeout_s=0)
