"""A small company intranet generated from one seed: departments, people, projects and articles that
link to each other (38 pages plus search), rendered as numbered-link text or as HTML.

Every fact lives on exactly one page (an extension only on its department's page, an email only on its
person's page), so a question that chains relations ("the department of the author of article X") has
to be answered by visiting the pages along the chain.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import parse_qs, quote, urlsplit

FIRST = [
    "Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kavya", "Luca",
    "Maren", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tove", "Umar", "Vera", "Wen", "Yusuf",
]  # fmt: skip
LAST = [
    "Abbott", "Brandt", "Castillo", "Dufresne", "Eriksen", "Fischer", "Gallo", "Haddad", "Ivanova", "Jansen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka",
]  # fmt: skip
DEPARTMENTS = [
    "Research", "Finance", "Legal", "Marketing", "Engineering", "Operations", "Sales", "Design", "Support",
    "Security", "Logistics", "Quality",
]  # fmt: skip
CODENAMES = [
    "Atlas", "Beacon", "Cobalt", "Driftwood", "Ember", "Falcon", "Granite", "Harbor", "Juniper", "Kestrel",
    "Lumen", "Meridian", "Nimbus", "Orchid", "Quartz", "Sextant",
]  # fmt: skip
COMPANIES = ["Northwind", "Bluefin", "Alder", "Coppergate", "Halcyon", "Tidewater", "Larkspur", "Ironbark"]
ARTICLE_TITLES = [
    "Lessons from the {p} pilot", "{p}: the first six months", "Why we rebuilt {p}", "Inside the {p} launch",
    "Scaling {p} across teams", "A field guide to {p}", "What {p} taught us about deadlines",
    "{p} in numbers", "Retiring the old tools behind {p}", "Five questions about {p}",
]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
NAV = (("Home", "/"), ("People", "/people"), ("Departments", "/departments"), ("Projects", "/projects"),
       ("Articles", "/articles"))  # fmt: skip
N_DEPARTMENTS, N_PEOPLE, N_PROJECTS, N_ARTICLES = 6, 12, 5, 10
MAX_RESULTS = 8


@dataclass(frozen=True)
class Link:
    text: str
    url: str


Segment = str | Link


@dataclass(frozen=True)
class Page:
    """One page: a title and lines made of text and links (numbered in order of appearance)."""

    url: str
    title: str
    lines: tuple[tuple[Segment, ...], ...]
    kind: str = "index"

    def links(self) -> list[Link]:
        return [s for line in self.lines for s in line if isinstance(s, Link)]

    def _lines(self, link: Callable[[int, Link], str], plain: Callable[[str], str]) -> list[str]:
        """Each line rendered, links numbered from 1 across the page in order."""
        out, n = [], 0
        for line in self.lines:
            parts = []
            for segment in line:
                if isinstance(segment, Link):
                    n += 1
                    parts.append(link(n, segment))
                else:
                    parts.append(plain(segment))
            out.append("".join(parts))
        return out

    def text(self) -> str:
        """The body as text, links shown as `[n] text` (what both backends show the model)."""
        return "\n".join(self._lines(lambda n, link: f"[{n}] {link.text}", str))

    def html(self) -> str:
        """The page as HTML whose visible text equals `text()` line for line."""
        body = self._lines(
            lambda n, link: f'<a href="{html.escape(link.url)}">[{n}] {html.escape(link.text)}</a>', html.escape
        )
        return (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(self.title)}</title></head>'
            f'<body style="white-space: pre-wrap">{chr(10).join(body)}</body></html>'
        )


@dataclass
class Entity:
    """A person, department, project or article: its page, facts and relations to other entities."""

    kind: str
    slug: str
    title: str
    facts: dict[str, str] = field(default_factory=dict)
    relations: dict[str, Entity] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"/{self.kind}s/{self.slug}" if self.kind != "person" else f"/people/{self.slug}"

    @property
    def link(self) -> Link:
        return Link(self.title, self.url)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


class Site:
    """The generated intranet of one seed."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        self.company = rng.choice(COMPANIES)
        domain = f"{self.company.lower()}.example"
        names = [
            f"{FIRST[i // len(LAST)]} {LAST[i % len(LAST)]}"
            for i in rng.sample(range(len(FIRST) * len(LAST)), N_PEOPLE)
        ]
        extensions = rng.sample(range(2000, 9999), N_DEPARTMENTS)
        self.departments = [
            Entity("department", _slug(name), name, {"extension": str(ext), "floor": str(rng.randint(1, 9))})
            for name, ext in zip(rng.sample(DEPARTMENTS, N_DEPARTMENTS), extensions, strict=True)
        ]
        rooms = [f"{'ABC'[i // 319]}-{101 + i % 319}" for i in rng.sample(range(3 * 319), N_PEOPLE)]
        self.people = []
        for i, (name, room) in enumerate(zip(names, rooms, strict=True)):
            first, last = name.lower().split()
            facts = {"email": f"{first}.{last}@{domain}", "office": room, "joined": str(rng.randint(2008, 2025))}
            person = Entity("person", _slug(name), name, facts)
            # the first N_DEPARTMENTS people make sure every department has a member
            department = self.departments[i] if i < N_DEPARTMENTS else rng.choice(self.departments)
            person.relations["department"] = department
            self.people.append(person)
        for department in self.departments:
            members = [p for p in self.people if p.relations["department"] is department]
            department.relations["head"] = rng.choice(members)
        codes = rng.sample(range(1000, 9999), N_PROJECTS)
        self.projects = []
        for codename, code in zip(rng.sample(CODENAMES, N_PROJECTS), codes, strict=True):
            project = Entity("project", _slug(codename), f"Project {codename}", {"budget code": f"PRJ-{code}"})
            project.relations["lead"] = rng.choice(self.people)
            project.relations["department"] = rng.choice(self.departments)
            self.projects.append(project)
        self.articles = []
        templates = rng.sample(ARTICLE_TITLES, N_ARTICLES)
        for template in templates:
            project = rng.choice(self.projects)
            title = template.format(p=project.title.removeprefix("Project "))
            date = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2022, 2025)}"
            article = Entity("article", _slug(title), title, {"date": date})
            article.relations["author"] = rng.choice(self.people)
            article.relations["project"] = project
            self.articles.append(article)
        self.entities = [*self.departments, *self.people, *self.projects, *self.articles]

    @cached_property
    def pages(self) -> dict[str, Page]:
        """Every page by URL, built on first use (making a task needs only the entities)."""
        return {p.url: p for p in self._index_pages() + [self._entity_page(e) for e in self.entities]}

    # --- pages ---------------------------------------------------------------------------------

    def _frame(self, url: str, title: str, body: list[tuple[Segment, ...]], kind: str = "index") -> Page:
        nav: list[Segment] = []
        for text, href in NAV:
            nav += [Link(text, href), " "]
        return Page(url, title, (tuple(nav[:-1]), ("",), *body), kind)

    def _index_pages(self) -> list[Page]:
        home = self._frame(
            "/",
            f"{self.company} intranet",
            [
                (f"Welcome to the {self.company} intranet. Browse the sections above or use the search.",),
                (f"{len(self.people)} people, {len(self.departments)} departments, {len(self.projects)} projects.",),
            ],
        )
        pages = [home]
        for title, url, entities in (
            ("People", "/people", self.people),
            ("Departments", "/departments", self.departments),
            ("Projects", "/projects", self.projects),
            ("Articles", "/articles", self.articles),
        ):
            pages.append(self._frame(url, title, [("- ", e.link) for e in sorted(entities, key=lambda e: e.title)]))
        return pages

    def _entity_page(self, entity: Entity) -> Page:
        rel = entity.relations
        lines: list[tuple[Segment, ...]]
        if entity.kind == "person":
            lines = [
                ("Department: ", rel["department"].link),
                (f"Office: {entity.facts['office']}",),
                (f"Email: {entity.facts['email']}",),
                (f"Joined: {entity.facts['joined']}",),
            ]
        elif entity.kind == "department":
            members = sorted((p for p in self.people if p.relations["department"] is entity), key=lambda p: p.title)
            lines = [
                ("Head: ", rel["head"].link),
                (f"Phone extension: {entity.facts['extension']}",),
                (f"Floor: {entity.facts['floor']}",),
                ("Members:",),
                *(("- ", p.link) for p in members),
            ]
        elif entity.kind == "project":
            lines = [
                ("Lead: ", rel["lead"].link),
                ("Run by: ", rel["department"].link),
                (f"Budget code: {entity.facts['budget code']}",),
            ]
        else:
            author, project = rel["author"], rel["project"]
            lines = [
                ("By ", author.link, f" · {entity.facts['date']}"),
                ("",),
                (f"This article looks back at {project.title.removeprefix('Project ')}: what went well, what did not, "
                 "and what the team would do differently next time. See ", project.link, " for the project page."),
            ]  # fmt: skip
        return self._frame(entity.url, entity.title, lines, entity.kind)

    def search(self, query: str) -> Page:
        """Entity pages containing every word of the query, title matches first."""
        wanted = words(query)
        hits = []
        for entity in self.entities:
            page = self.pages[entity.url]
            haystack = set(words(page.title + " " + page.text()))
            if wanted and all(w in haystack for w in wanted):
                in_title = sum(w in words(page.title) for w in wanted)
                hits.append((-in_title, entity.title, entity))
        hits.sort(key=lambda h: (h[0], h[1]))
        lines: list[tuple[Segment, ...]] = [(f'{len(hits)} result(s) for "{query}".',)]
        lines += [("- ", e.link, f" ({e.kind})") for _, _, e in hits[:MAX_RESULTS]]
        return self._frame(f"/search?q={quote(query)}", f'Search results for "{query}"', lines)

    def page(self, url: str) -> Page | None:
        """The page at a site-relative URL (search pages included), or None."""
        parts = urlsplit(url)
        path = parts.path.rstrip("/") or "/"
        if path == "/search":
            return self.search(parse_qs(parts.query).get("q", [""])[0])
        return self.pages.get(path)


@lru_cache(maxsize=256)
def site(seed: int) -> Site:
    """The site of a seed; cached so the episodes and scoring of one task build it once."""
    return Site(seed)


__all__ = ["Entity", "Link", "Page", "Site", "site", "words"]
