import pytest
from rlhub_reasoning_gym import ReasoningGym

import rlhub


@pytest.mark.parametrize(
    "config",
    [{}, {"dataset": "knights_knaves", "dataset_config": {"n_people": 3}}],
)
def test_check_env_passes(config: dict[str, object]) -> None:
    report = rlhub.check_env(ReasoningGym(**config), n=15)
    assert report.ok, report.failures()


def test_tasks_are_the_datasets_entries_and_scored_by_its_own_verifier() -> None:
    import reasoning_gym

    env = ReasoningGym(dataset="leg_counting", dataset_config={"min_animals": 4, "max_animals": 4})
    task = env.task(7, "test", seed=3)
    entry = reasoning_gym.create_dataset("leg_counting", seed=3, size=env.size, min_animals=4, max_animals=4)[
        task.info["rg_index"]
    ]
    assert task.prompt[0].content.startswith(entry["question"].strip())
    assert task.answer == entry["answer"] and task.split == "test"
    good = env.score(task, [rlhub.Message.assistant(f"Counting... <answer>{entry['answer']}</answer>")])
    assert good.value == 1.0 and good.extracted == entry["answer"]
    assert env.score(task, [rlhub.Message.assistant(entry["answer"])]).status == rlhub.ScoreStatus.unparseable


def test_seeds_change_the_pool_and_rebuilt_envs_agree() -> None:
    env = ReasoningGym()
    assert env.tasks(5, seed=0) != env.tasks(5, seed=1)
    assert ReasoningGym().tasks(5, "test") == env.tasks(5, "test")


@pytest.mark.parametrize(
    "config", [{"dataset": "no_such_dataset"}, {"dataset": "leg_counting", "dataset_config": {"bogus": 1}}]
)
def test_bad_config_is_a_config_error(config: dict[str, object]) -> None:
    with pytest.raises(rlhub.ConfigError):
        ReasoningGym(**config).task(0)
