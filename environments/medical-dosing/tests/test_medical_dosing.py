import pytest
from rlhub_medical_dosing import MedicalDosing
from rlhub_medical_dosing.env import DRUGS, band_factor, crcl

import rlhub


def test_check_env_passes() -> None:
    report = rlhub.check_env(MedicalDosing(), n=40)
    assert report.ok, report.failures()


def test_cockcroft_gault_and_bands_by_hand() -> None:
    assert crcl(40, 70, 1.0, female=False) == pytest.approx(97.222, abs=1e-3)
    assert crcl(40, 70, 1.0, female=True) == pytest.approx(82.639, abs=1e-3)
    zorvalin = DRUGS[0]
    assert [band_factor(zorvalin, c) for c in (90, 60, 59.9, 30, 20, 5)] == [1.0, 1.0, 0.75, 0.75, 0.5, 0.25]


def test_renal_prompts_state_the_method_and_the_disclaimer() -> None:
    env = MedicalDosing()
    task = next(t for t in env.tasks(60) if t.info["kind"] == 5)
    text = task.prompt[-1].content
    assert "SYNTHETIC" in env.prompt_messages(task)[0].content and "(synthetic)" in text
    assert "Cap the weight-based dose at the maximum first" in text


def test_levels_are_a_curriculum() -> None:
    assert {t.info["kind"] for t in MedicalDosing(level=1).tasks(30)} == {1}
    assert {t.info["kind"] for t in MedicalDosing(level=5).tasks(100)} == {1, 2, 3, 4, 5}
    with pytest.raises(rlhub.ConfigError):
        MedicalDosing(level=6)


def test_reward_tolerates_rounding_but_not_unit_or_rule_errors() -> None:
    env = MedicalDosing()
    for task in env.tasks(30, "test"):
        exact = float(task.answer)
        assert env.score(task, [rlhub.Message.assistant(f"Working...\nAnswer: {exact * 1.004:.6g}")]).value == 1.0
        assert env.score(task, [rlhub.Message.assistant(f"Answer: {exact * 1000}")]).value == 0.0
        for wrong in task.info["wrong"]:
            assert env.score(task, [rlhub.Message.assistant(f"Answer: {wrong}")]).value == 0.0
    task = env.task(0)
    assert env.score(task, [rlhub.Message.assistant("no idea")]).status == rlhub.ScoreStatus.unparseable
