"""Web browsing over a generated company intranet: answer a question whose facts are spread over a
chain of pages ("the phone extension of the department that the author of article X works in") with
search, open, click, back and read tools.

The site is a pure function of a seed drawn from the task's rng, so every episode of a task browses the
same site. The default backend renders pages in-process; `backend="chromium"` serves the same pages on
a loopback HTTP server and drives headless Chromium through Playwright (same observations, real
clicks). Reward: 1.0 when the final answer equals the fact, after normalisation, else 0.0.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, Literal

import rlhub
from rlhub.core.env import Episode
from rlhub.verify import text
from rlhub.verify.text import final_answer
from rlhub_web_browse.browser import Browser, ChromiumBrowser, TextBrowser
from rlhub_web_browse.site import Entity, Site, site

RELATIONS = {
    "article": {"author": "the author of {}", "project": "the project that {} is about"},
    "project": {"lead": "the lead of {}", "department": "the department that runs {}"},
    "person": {"department": "the department that {} works in"},
    "department": {"head": "the head of {}"},
}
QUESTIONS = {
    "person": {
        "email": "What is the email address of {}?",
        "office": "What is the office number of {}?",
        "joined": "In which year did {} join the company?",
    },
    "department": {"extension": "What is the phone extension of {}?", "floor": "On which floor is {}?"},
    "project": {"budget code": "What is the budget code of {}?"},
}
STARTS = {"article": 'the article "{}"', "project": "{}", "person": "{}"}
SYSTEM_PROMPT = (
    "You answer questions about a company intranet by browsing it with the tools: search(query) finds "
    "pages, open(url) opens a page by URL, click(link) follows a link on the current page by its number "
    "or text, back() returns to the previous page, read() shows the current page again. Facts are only "
    "on their own pages, so follow the links. When you know the answer, reply without a tool call and "
    "end with a line 'Answer: <answer>', giving the value exactly as the page shows it."
)

_CHROMIUM: ContextVar[ChromiumBrowser] = ContextVar("web_browse_chromium")
"""The Chromium session of the episode running in this asyncio task (see `WebBrowse.rollout`)."""


def answer(response: str, reference: str) -> rlhub.Score:
    """Normalised exact match (case, punctuation, articles, spacing ignored) of the final answer."""
    return text.normalized(final_answer(response), reference)


def _walk(rng: random.Random, start: Entity, relations: int) -> list[tuple[str, Entity]] | None:
    """A chain of `relations` distinct entities from `start`, each step a random relation."""
    chain: list[tuple[str, Entity]] = []
    current = start
    for _ in range(relations):
        name = rng.choice(sorted(RELATIONS[current.kind]))
        current = current.relations[name]
        if current is start or any(current is e for _, e in chain):
            return None
        chain.append((name, current))
    return chain


@rlhub.environment("rlhub/web-browse", version="0.2.0")
class WebBrowse(rlhub.ToolEnv):
    """Answer multi-hop questions by browsing a generated intranet."""

    hops: int = 3
    """Pages on the shortest path from the first search result to the answer (2-4)."""
    backend: Literal["text", "chromium"] = "text"
    """How pages are fetched: rendered in-process, or served on loopback and browsed in headless Chromium."""

    max_turns = 16
    task_independent = ("backend",)
    system_prompt = SYSTEM_PROMPT
    rubric = rlhub.Rubric(correct=answer)

    def __init__(self, **config: Any):
        super().__init__(**config)
        if not 2 <= self.hops <= 4:
            raise rlhub.ConfigError("hops must be 2-4")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        site_seed = rng.getrandbits(32)
        web = site(site_seed)
        while True:
            kind = rng.choice(["article", "article", "project", "person"])
            start = rng.choice({"article": web.articles, "project": web.projects, "person": web.people}[kind])
            chain = _walk(rng, start, self.hops - 1)
            if chain is not None and chain[-1][1].kind in QUESTIONS:
                break
        phrase, previous = STARTS[kind].format(start.title), start
        for relation, entity in chain:
            phrase = RELATIONS[previous.kind][relation].format(phrase)
            previous = entity
        target = chain[-1][1]
        fact = rng.choice(sorted(QUESTIONS[target.kind]))
        question = QUESTIONS[target.kind][fact].format(phrase)
        return rlhub.Task(
            prompt=f"On the {web.company} intranet: {question}",
            answer=target.facts[fact],
            info={
                "site_seed": site_seed,
                "path": [start.url, *(e.url for _, e in chain)],
                "clicks": [start.title, *(e.title for _, e in chain)],
                "fact": fact,
            },
            tags=(f"hops:{self.hops}", f"start:{kind}", f"fact:{fact}"),
        )

    # --- episodes ------------------------------------------------------------------------------

    async def rollout(
        self, task: rlhub.Task, model: rlhub.ModelClient, sampling: rlhub.Sampling = rlhub.Sampling()
    ) -> Episode:
        if self.backend == "text":
            return await super().rollout(task, model, sampling)
        async with ChromiumBrowser.session(site(task.info["site_seed"])) as browser:
            token = _CHROMIUM.set(browser)
            try:
                return await super().rollout(task, model, sampling)
            finally:
                _CHROMIUM.reset(token)

    def setup(self, state: rlhub.State) -> None:
        browser: Browser = (
            TextBrowser(site(state.task.info["site_seed"])) if self.backend == "text" else _CHROMIUM.get()
        )
        state.browser = browser
        state.info["visited"] = browser.visited

    def tools(self, state: rlhub.State) -> list[Callable[..., Any]]:
        browser: Browser = state.browser

        async def search(query: str) -> str:
            """Search the intranet; returns the result page with numbered links.

            Args:
                query: words the page must contain, e.g. a title or a name
            """
            return await browser.search(query)

        async def open(url: str) -> str:
            """Open a page by its URL, e.g. "/people" or "/departments/finance".

            Args:
                url: a path on the intranet
            """
            return await browser.open(url)

        async def click(link: int | str) -> str:
            """Follow a link on the current page.

            Args:
                link: the link's number (as shown in [n]) or its text
            """
            return await browser.click(link)

        async def back() -> str:
            """Go back to the previous page."""
            return await browser.back()

        def read() -> str:
            """Show the current page again."""
            return browser.read()

        return [search, open, click, back, read]

    # --- reference behaviour -------------------------------------------------------------------

    def oracle(self, task: rlhub.Task, messages: Sequence[rlhub.Message]) -> rlhub.Message:
        """Search for the start page's title, click along the chain turn by turn, then answer."""
        turn = sum(1 for m in messages if m.role == "assistant")
        clicks: list[str] = task.info["clicks"]
        if turn == 0:
            call = rlhub.ToolCall(id="t0", name="search", arguments=json.dumps({"query": clicks[0]}))
        elif turn <= len(clicks):
            call = rlhub.ToolCall(id=f"t{turn}", name="click", arguments=json.dumps({"link": clicks[turn - 1]}))
        else:
            return rlhub.Message.assistant(f"Answer: {task.answer}")
        return rlhub.Message.assistant(tool_calls=(call,))

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        """No answer, and the same fact of another entity of the same kind (a one-hop slip)."""
        web = site(task.info["site_seed"])
        target = _entity(web, task.info["path"][-1])
        fact = task.info["fact"]
        others = [e.facts[fact] for e in web.entities if e.kind == target.kind and e.facts[fact] != task.answer]
        return ["", "I don't know.", *(f"Answer: {value}" for value in others[:1])]


def _entity(web: Site, url: str) -> Entity:
    return next(e for e in web.entities if e.url == url)


__all__ = ["WebBrowse", "answer", "final_answer"]
