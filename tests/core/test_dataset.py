import json
from pathlib import Path

import pytest
from tests.core import examples

import rlhub
from rlhub.core.dataset import DatasetEnv, read_rows
from rlhub.core.export import export_rows
from rlhub.verify import numeric

DATA = Path(__file__).parent / "data" / "capitals.jsonl"


@rlhub.environment("tests/capitals", version="0.1.0")
class Capitals(DatasetEnv):
    data_file = "data/capitals.jsonl"
    rubric = rlhub.Rubric(correct=lambda r, ref: r.strip().lower() == str(ref).lower())


def test_rows_split_by_question_hash_and_never_overlap() -> None:
    env = Capitals()
    train = {t.prompt[0].content for t in env.tasks(env.size("train"), "train")}
    test = {t.prompt[0].content for t in env.tasks(env.size("test"), "test")}
    assert not train & test and len(train) + len(test) == len(env.rows) == 40


def test_seed_orders_a_split_and_indices_wrap() -> None:
    env = Capitals()
    size = env.size("train")
    assert env.task(size, "train").prompt == env.task(0, "train").prompt
    assert [t.prompt for t in env.tasks(5, seed=1)] != [t.prompt for t in env.tasks(5, seed=0)]


def test_extra_columns_become_info() -> None:
    assert set(Capitals().task(0).info) == {"continent"}


def test_passes_check_env() -> None:
    report = rlhub.check_env(Capitals(), n=10)
    assert report.ok, report.failures()


def test_csv_and_bad_files(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("question,answer\nWhat is 2+2?,4\n")
    assert read_rows(csv) == [{"question": "What is 2+2?", "answer": "4"}]
    bad = tmp_path / "d.jsonl"
    bad.write_text('{"question": 1}\n[1]\n')
    with pytest.raises(rlhub.ConfigError, match=r"d\.jsonl:2"):
        read_rows(bad)


def test_export_sft_has_oracle_answers_and_rl_has_tasks() -> None:
    env = examples.Add()
    sft = list(export_rows(env, "sft", n=3))
    assert [m["role"] for m in sft[0]["messages"]] == ["user", "assistant"]
    assert sft[0]["messages"][1]["content"] == env.task(0).answer
    rl = list(export_rows(env, "rl", split="test", n=2))
    assert rlhub.Task.model_validate(rl[1]["task"]) == env.task(1, "test")


def test_export_of_a_tool_env_lists_tools_and_tool_calls() -> None:
    row = next(export_rows(examples.EchoTools(), "sft", n=1))
    assert row["tools"][0]["function"]["name"] == "secret"
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert json.dumps(row)  # serialisable as it is


def test_numeric_verifier_reads_committed_numbers() -> None:
    assert numeric.score("so 12 + 5 = 17. The answer is 17.", "17").value == 1.0
    assert numeric.score(r"\boxed{1,250.50}", "1250.5").value == 1.0
    assert numeric.score("<think>maybe 3</think> It is 4", "3").value == 0.0
    assert numeric.score("no idea", "3").status == rlhub.ScoreStatus.unparseable
