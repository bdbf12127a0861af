import asyncio
import json
from typing import Any

import pytest
from rlhub_function_calling import FunctionCalling
from rlhub_function_calling.catalogue import CATALOGUE

import rlhub
from rlhub.core.model import PolicyClient


def test_check_env_passes() -> None:
    report = rlhub.check_env(FunctionCalling(), n=30)
    assert report.ok, report.failures()


def _call(name: str, arguments: dict[str, Any], i: int = 0) -> rlhub.ToolCall:
    return rlhub.ToolCall(id=f"c{i}", name=name, arguments=json.dumps(arguments))


def _score(env: FunctionCalling, task: rlhub.Task, reply: rlhub.Message) -> float:
    client = PolicyClient(lambda m: reply)
    episode = asyncio.run(env.rollout(task, client))
    assert [t.name for t in client.tools] == task.info["tools"]
    assert episode.turns == 1
    return env.score(task, episode.messages).value


def _task(env: FunctionCalling, kind: str) -> rlhub.Task:
    return next(t for t in env.tasks(200) if t.info["kind"] == kind)


def test_parallel_calls_score_in_any_order_with_partial_credit() -> None:
    env = FunctionCalling()
    task = _task(env, "parallel")
    calls = [_call(c["name"], c["arguments"], i) for i, c in enumerate(task.answer)]
    assert _score(env, task, rlhub.Message.assistant(tool_calls=tuple(reversed(calls)))) == 1.0
    missing = _score(env, task, rlhub.Message.assistant(tool_calls=tuple(calls[:-1])))
    assert missing == pytest.approx((len(calls) - 1) / len(calls))
    extra = _score(env, task, rlhub.Message.assistant(tool_calls=(*calls, calls[0].model_copy(update={"id": "x"}))))
    assert extra == pytest.approx(len(calls) / (len(calls) + 1))


def test_one_wrong_argument_costs_its_share() -> None:
    env = FunctionCalling(parallel=False)
    task = next(t for t in env.tasks(50) if len(t.answer[0]["arguments"]) == 3)
    name, arguments = task.answer[0]["name"], dict(task.answer[0]["arguments"])
    key = sorted(arguments)[0]
    arguments[key] = "wrong"
    assert _score(env, task, rlhub.Message.assistant(tool_calls=(_call(name, arguments),))) == pytest.approx(
        0.5 + 0.5 * 2 / 3
    )


def test_omitted_optional_arguments_count_as_their_default() -> None:
    env = FunctionCalling(parallel=False, no_call_share=0.0)
    task = next(
        t
        for t in env.tasks(300)
        if t.answer[0]["name"] == "get_weather" and t.answer[0]["arguments"]["unit"] == "celsius"
    )
    city = task.answer[0]["arguments"]["city"]
    assert _score(env, task, rlhub.Message.assistant(tool_calls=(_call("get_weather", {"city": city}),))) == 1.0
    wrong_unit = _call("get_weather", {"city": city, "unit": "fahrenheit"})
    assert _score(env, task, rlhub.Message.assistant(tool_calls=(wrong_unit,))) < 1.0


def test_no_call_tasks_want_text_and_offer_no_fitting_tool() -> None:
    env = FunctionCalling(no_call_share=1.0)
    for task in env.tasks(40):
        assert task.answer == [] and "web_search" not in task.info["tools"]
    task = env.task(0)
    assert _score(env, task, rlhub.Message.assistant("I can't do that with these tools.")) == 1.0
    offered = task.info["tools"][0]
    assert _score(env, task, rlhub.Message.assistant(tool_calls=(_call(offered, {}),))) == 0.0
    assert _score(env, task, rlhub.Message.assistant("<tool_call>{broken</tool_call>")) == 0.0


def test_knobs_shape_the_tasks() -> None:
    single = FunctionCalling(parallel=False, no_call_share=0.0, distractors=0).tasks(50)
    assert all(len(t.answer) == 1 and t.info["tools"] == [t.answer[0]["name"]] for t in single)
    many = FunctionCalling(distractors=10, no_call_share=0.0).tasks(50)
    assert {len(t.answer) for t in many} == {1, 2, 3}
    assert all(len(t.info["tools"]) == len({c["name"] for c in t.answer}) + 10 for t in many)
    with pytest.raises(rlhub.ConfigError):
        FunctionCalling(distractors=99)


def test_every_catalogue_request_has_a_schema_valid_answer() -> None:
    import random

    import jsonschema

    rng = random.Random(7)
    for name, function in CATALOGUE.items():
        for _ in range(30):
            text, arguments = function.request(rng)
            jsonschema.validate(arguments, function.spec.parameters)
            assert text and set(arguments) == set(function.spec.parameters["properties"]), name
