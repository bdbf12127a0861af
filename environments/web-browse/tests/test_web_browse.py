import asyncio
import json
from collections.abc import Sequence

import pytest
from rlhub_web_browse import WebBrowse
from rlhub_web_browse.browser import ChromiumBrowser, TextBrowser
from rlhub_web_browse.site import Site, site

import rlhub
from rlhub.core.env import Episode
from rlhub.core.model import PolicyClient


@pytest.mark.parametrize("hops", [2, 4])
def test_check_env_passes(hops: int) -> None:
    report = rlhub.check_env(WebBrowse(hops=hops), n=20)
    assert report.ok, report.failures()


def _run(env: WebBrowse, task: rlhub.Task, script: Sequence[rlhub.Message]) -> Episode:
    replies = iter(script)
    return asyncio.run(env.rollout(task, PolicyClient(lambda m: next(replies))))


def _call(name: str, **arguments: object) -> rlhub.Message:
    return rlhub.Message.assistant(f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>")


@pytest.mark.parametrize("hops", [2, 3, 4])
def test_oracle_walks_the_shortest_path_and_records_it(hops: int) -> None:
    env = WebBrowse(hops=hops)
    task = env.task(5)
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: env.oracle(task, m))))
    assert episode.turns == hops + 2
    assert episode.info["visited"][1:] == task.info["path"] and len(task.info["path"]) == hops
    assert env.score(task, episode.messages, episode.info).value == 1.0


def test_the_answer_is_only_on_the_last_page() -> None:
    env = WebBrowse(hops=3)
    for task in env.tasks(30):
        web = site(task.info["site_seed"])
        label = {"extension": "Phone extension"}.get(task.info["fact"], task.info["fact"].capitalize())
        pages_with_fact = [url for url, page in web.pages.items() if f"{label}: {task.answer}" in page.text()]
        assert task.info["path"][-1] in pages_with_fact
        assert not set(task.info["path"][:-1]) & set(pages_with_fact)


def test_click_by_number_text_and_errors_go_back_to_the_model() -> None:
    env = WebBrowse(hops=2)
    task = env.task(0)
    episode = _run(
        env,
        task,
        [
            _call("read"),
            _call("open", url="/nowhere"),
            _call("open", url="http://intranet/people"),
            _call("click", link=99),
            _call("click", link=2),
            _call("back"),
            _call("click", link="no such link"),
            rlhub.Message.assistant("Answer: 12"),
        ],
    )
    tools = [m.content for m in episode.messages if m.role == "tool"]
    assert tools[0].startswith("error:") and "no page is open" in tools[0]
    assert "404: no page at /nowhere" in tools[1]
    assert tools[2].startswith("# People\nURL: /people")
    assert "no link [99]" in tools[3]
    assert tools[4].startswith("# People") and tools[5].startswith("# People")
    assert "give the link's number" in tools[6]
    assert episode.info["visited"] == ["/people", "/people", "/people"]


def test_search_finds_pages_by_every_word() -> None:
    web = Site(3)
    person = web.people[0]
    results = asyncio.run(TextBrowser(web).search(person.title.lower()))
    assert f"{person.title} (person)" in results
    assert "0 result(s)" in asyncio.run(TextBrowser(web).search("zebra"))


def test_answers_are_normalised_and_taken_from_the_answer_line() -> None:
    env = WebBrowse()
    task = next(t for t in env.tasks(30) if t.info["fact"] == "email")
    assert env.score(task, [rlhub.Message.assistant(f"I found it.\nAnswer: {task.answer.upper()}.")]).value == 1.0
    assert env.score(task, [rlhub.Message.assistant(f"Answer: {task.answer} or x@y.z")]).value == 0.0


def test_config_is_checked() -> None:
    with pytest.raises(rlhub.ConfigError):
        WebBrowse(hops=5)
    with pytest.raises(rlhub.ConfigError):
        WebBrowse(backend="firefox")


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_backend_runs_the_oracle_and_shows_the_same_pages() -> None:
    env = WebBrowse(hops=3, backend="chromium")
    task = env.task(0)
    episode = asyncio.run(env.rollout(task, PolicyClient(lambda m: env.oracle(task, m))))
    assert env.score(task, episode.messages, episode.info).value == 1.0
    assert episode.info["visited"][1:] == task.info["path"]
    text_env = WebBrowse(hops=3)
    assert text_env.task(0) == task  # the backend is not part of the task seed
    text_episode = asyncio.run(text_env.rollout(task, PolicyClient(lambda m: env.oracle(task, m))))
    seen = [m.content for m in episode.messages if m.role == "tool"]
    assert seen == [m.content for m in text_episode.messages if m.role == "tool"]

    async def stray() -> list[str]:
        async with ChromiumBrowser.session(site(task.info["site_seed"])) as browser:
            return [await browser.open("/people"), await browser.click("2"), await browser.back()]

    people, after_click, back = asyncio.run(stray())
    assert people.startswith("# People") and after_click.startswith("# People") and back == people
