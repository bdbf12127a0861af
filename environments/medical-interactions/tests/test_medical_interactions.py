import asyncio
import json
from collections import Counter

import pytest
from rlhub_medical_interactions import MedicalInteractions
from rlhub_medical_interactions.env import drug_names, interaction, table

import rlhub
from rlhub.core.model import PolicyClient


def test_check_env_passes() -> None:
    report = rlhub.check_env(MedicalInteractions(), n=40)
    assert report.ok, report.failures()


def test_the_table_is_synthetic_symmetric_and_pair_rules_win() -> None:
    data = table()
    assert "SYNTHETIC" in data["note"] and len(set(drug_names())) == 32
    for a in drug_names()[:10]:
        for b in drug_names()[-10:]:
            assert interaction(a, b)["severity"] == interaction(b, a)["severity"]
    classes = {d["name"]: d["class"] for d in data["drugs"]}
    class_rules = {frozenset(r["classes"]): r["severity"] for r in data["class_rules"]}
    overriding = [
        r for r in data["pair_rules"]
        if r["severity"] != class_rules.get(frozenset(classes[n] for n in r["drugs"]), "none")
    ]  # fmt: skip
    assert overriding
    for rule in overriding:
        found = interaction(*rule["drugs"])
        assert found["severity"] == rule["severity"] and found["source"] == "pair rule"


def test_tools_in_an_episode_with_text_tool_calls_and_bad_names() -> None:
    env = MedicalInteractions(level=1)
    task = env.task(0)
    a, b = task.info["pairs"][0]
    call = {"name": "lookup_interaction", "arguments": {"drug_a": a.upper(), "drug_b": b}}
    hermes = f"<tool_call>{json.dumps(call)}</tool_call>"
    script = iter(
        [
            rlhub.Message.assistant('<tool_call>{"name": "drug_info", "arguments": {"name": "Aspirin"}}</tool_call>'),
            rlhub.Message.assistant(hermes),
            rlhub.Message.assistant(f"Answer: {task.answer.lower()}"),
        ]
    )
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: next(script))))
    tool_replies = [m.content for m in episode.messages if m.role == "tool"]
    assert "unknown drug 'Aspirin'" in tool_replies[0]
    assert json.loads(tool_replies[1])["severity"] in ("none", "minor", "moderate", "major", "contraindicated")
    assert episode.info["lookups"] == 1
    assert env.score(task, episode.messages, episode.info).value == 1.0


def test_levels_and_label_balance() -> None:
    pairs = MedicalInteractions(level=1).tasks(90)
    assert {t.info["kind"] for t in pairs} == {"pair"}
    counts = Counter(t.answer for t in pairs)
    assert set(counts) == {"SAFE", "CAUTION", "AVOID"} and min(counts.values()) >= 18
    kinds = {t.info["kind"] for t in MedicalInteractions(level=3).tasks(60)}
    assert kinds == {"pair", "regimen", "new_drug"}
    with pytest.raises(rlhub.ConfigError):
        MedicalInteractions(level=4)


def test_answers_are_exact_matches() -> None:
    env = MedicalInteractions()
    task = next(t for t in env.tasks(40) if t.info["kind"] == "new_drug" and t.answer != "NONE")
    say = lambda text: env.score(task, [rlhub.Message.assistant(text)])  # noqa: E731
    assert say(f"It is {task.answer}.\nAnswer: {task.answer.lower()}").value == 1.0
    assert say("Answer: NONE").value == 0.0
    assert say(task.answer).status == rlhub.ScoreStatus.unparseable
