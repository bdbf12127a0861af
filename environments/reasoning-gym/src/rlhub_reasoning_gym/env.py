"""Any reasoning-gym dataset (PyPI `reasoning-gym`) as an rlhub environment, by name and config.

Mapping: task `i` of `(split, seed)` is entry `j` of `create_dataset(dataset, seed=seed, size=size,
**dataset_config)`, where `j` is drawn from an RNG seeded by `(env version, config, split, seed, i)`
and re-drawn until the entry's content hash falls in `split` (the rule every rlhub environment uses),
so train and test never share a question and any task can be fetched on its own. Scoring rebuilds the
entry from `(seed, j)` and calls the dataset's own `score_answer` on the text inside the last
`<answer>...</answer>`, as reasoning-gym's own evaluations do.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import rlhub
from rlhub import Score, ScoreStatus
from rlhub.core.env import SPLITS

if TYPE_CHECKING:
    from reasoning_gym.dataset import ProceduralDataset

INSTRUCTION = "Give your final answer between <answer> and </answer> tags, with nothing else inside them."
_DRAWS = 1_000


def _reasoning_gym() -> ModuleType:
    """The `reasoning_gym` module; importing it draws from the global `random` state, which is restored."""
    state = random.getstate()
    import reasoning_gym

    random.setstate(state)
    return reasoning_gym


@lru_cache(maxsize=64)
def _dataset(name: str, config_json: str, seed: int, size: int) -> ProceduralDataset:
    return _reasoning_gym().create_dataset(name, seed=seed, size=size, **json.loads(config_json))


def _dataset_of(info: dict[str, Any]) -> ProceduralDataset:
    return _dataset(info["dataset"], json.dumps(info["dataset_config"], sort_keys=True), info["rg_seed"], info["size"])


def scored(response: str, reference: object, task: rlhub.Task) -> Score:
    """The dataset's `score_answer` on the last `<answer>` block (reasoning-gym's rewards lie in [0, 1]);
    exact match for datasets that keep the base class's containment-based partial credit."""
    reply = re.sub(r"<think>.*?(?:</think>|$)", "", response, flags=re.DOTALL)  # reasoning is never the answer
    answer = _reasoning_gym().utils.extract_answer(reply)
    if answer is None:
        return Score(value=0.0, status=ScoreStatus.unparseable, detail="no <answer>...</answer> block")
    dataset = _dataset_of(task.info)
    entry = dataset[task.info["rg_index"]]
    if type(dataset).score_answer is _reasoning_gym().dataset.ProceduralDataset.score_answer:
        # the base class pays len(right)/len(answer) to any answer containing the right one: a hedge
        # ("3 or 4") or a list of candidates earns credit, so datasets without their own verifier are exact
        value = float(answer.strip() == str(entry["answer"]).strip())
    else:
        value = float(dataset.score_answer(answer, entry))
    status = ScoreStatus.correct if value >= 1.0 else ScoreStatus.incorrect
    return Score(value=value, status=status, extracted=answer)


@rlhub.environment("rlhub/reasoning-gym", version="0.2.0")
class ReasoningGym(rlhub.SingleTurnEnv):
    """Tasks from any reasoning-gym dataset, scored by that dataset's own verifier."""

    dataset: str = "leg_counting"
    """A reasoning-gym dataset name (`reasoning_gym.factory.DATASETS`), e.g. `knights_knaves`, `sudoku`."""
    dataset_config: dict[str, Any] = {}  # noqa: RUF012 (pydantic copies config defaults per instance)
    """Keyword arguments for the dataset's config class (its difficulty knobs), e.g. `{"min_animals": 5}`."""
    size: int = 10_000
    """Entries per reasoning-gym seed that tasks are drawn from (some datasets cap it, e.g. word_ladder)."""

    rubric = rlhub.Rubric(scored=scored)

    def __init__(self, **config: object):
        super().__init__(**config)
        self._checked = False

    def _check_config(self) -> None:
        """Done at first use, not construction: importing reasoning-gym takes about a second."""
        reasoning_gym = _reasoning_gym()
        if self.dataset not in reasoning_gym.factory.DATASETS:
            known = ", ".join(sorted(reasoning_gym.factory.DATASETS))
            raise rlhub.ConfigError(f"unknown reasoning-gym dataset {self.dataset!r}; known: {known}")
        try:
            _dataset(self.dataset, json.dumps(self.dataset_config, sort_keys=True), 0, self.size)
        except Exception as exc:  # the dataset's own validation: assertions, TypeError for unknown keys
            raise rlhub.ConfigError(
                f"bad config for reasoning-gym {self.dataset!r}: {type(exc).__name__}: {exc}"
            ) from None

    def task(self, index: int, split: str = "train", seed: int = 0) -> rlhub.Task:
        if split not in SPLITS:
            raise rlhub.ConfigError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        if not self._checked:
            self._check_config()
            self._checked = True
        rng = random.Random(self._seed_material(split, seed, index))
        info = {"dataset": self.dataset, "dataset_config": self.dataset_config, "rg_seed": seed, "size": self.size}
        for _ in range(_DRAWS):
            info["rg_index"] = rng.randrange(self.size)
            entry = _dataset_of(info)[info["rg_index"]]
            prompt = f"{entry['question'].strip()}\n\n{INSTRUCTION}"
            task = rlhub.Task(prompt=prompt, answer=entry["answer"], info=dict(info), tags=(f"dataset:{self.dataset}",))
            if self.split_of(task) == split:
                return self._finish(task, split, seed, index)
        raise rlhub.ConfigError(
            f"{self.spec}: no {split} entry in {_DRAWS} draws; the dataset's task space is too small"
        )

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        return rlhub.Message.assistant(f"<answer>{task.answer}</answer>")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return ["", "I don't know.", "<answer></answer>", "<answer>?</answer>"]
