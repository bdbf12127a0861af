"""A small git history as data, drawn from a seeded rng, and the real repository built from it.

The history is plain JSON (it lives in `task.info`), so a task stays a pure function of its seed and
index; the repository exists only during an episode, written by one `git fast-import` from that JSON.
Every answer is computed here, from the same JSON, never read back from git.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Any

PEOPLE = [
    ("Ada Okafor", "ada@example.org"),
    ("Bruno Lindqvist", "bruno@example.org"),
    ("Chen Wei", "chen@example.org"),
    ("Dalia Haddad", "dalia@example.org"),
    ("Emeka Nwosu", "emeka@example.org"),
    ("Freya Castillo", "freya@example.org"),
    ("Goran Petrov", "goran@example.org"),
    ("Hana Sato", "hana@example.org"),
]
PROJECTS = ["kestrel", "lantern", "meridian", "nimbus", "orchard", "pylon", "quartz", "ripple", "saffron", "tundra"]
FILES = [
    "README.md", "Makefile", "setup.cfg", "docs/usage.md", "docs/changelog.md",
    "src/{pkg}/__init__.py", "src/{pkg}/cli.py", "src/{pkg}/config.py", "src/{pkg}/parser.py",
    "src/{pkg}/storage.py", "tests/test_cli.py", "tests/test_parser.py",
]  # fmt: skip
VERBS = {
    "add": ["Add", "Introduce", "Create"],
    "change": ["Fix", "Refactor", "Tidy", "Speed up", "Document", "Harden", "Simplify", "Extend"],
}
TOPICS = [
    "option parsing", "error messages", "config loading", "the storage layer", "input validation",
    "logging", "the release notes", "unicode handling", "retries", "the test fixtures", "path handling",
    "the cache", "timeouts", "the help text", "empty inputs",
]  # fmt: skip
START = 1_672_531_200  # 2023-01-01T00:00:00Z


def make_history(rng: random.Random, commits: int) -> dict[str, Any]:
    """`commits` commits over a few files: the first adds two or three, later ones add one file or change
    one or two. Subjects are unique (each carries its pull-request number)."""
    project = f"{rng.choice(PROJECTS)}-{rng.randint(100, 9999)}"
    pkg = project.split("-")[0]
    pool = [f.format(pkg=pkg) for f in FILES]
    rng.shuffle(pool)
    authors = rng.sample(PEOPLE, rng.randint(3, 4))
    contents: dict[str, list[str]] = {}
    history: list[dict[str, Any]] = []
    when = START + rng.randint(0, 700) * 86_400
    numbers = rng.sample(range(10, 999), commits)
    for i in range(commits):
        if i == 0:
            added = [pool.pop() for _ in range(rng.randint(2, 3))]
            changed: list[str] = []
        elif pool and rng.random() < 0.3:
            added, changed = [pool.pop()], []
        else:
            added, changed = [], rng.sample(sorted(contents), min(len(contents), rng.randint(1, 2)))
        for path in added:
            contents[path] = [f"# {path} of {project}"]
        for path in [*added, *changed]:
            contents[path].append(f"step_{i} = {rng.randint(0, 10**6)}")
        name, email = rng.choice(authors)
        verb = rng.choice(VERBS["add" if added else "change"])
        subject = f"{verb} {rng.choice(TOPICS)} (#{numbers[i]})" if changed or i else f"Initial commit (#{numbers[i]})"
        when += rng.randint(1, 72) * 3600
        history.append(
            {
                "author": name,
                "email": email,
                "time": when,
                "subject": subject,
                "added": added,
                "files": {path: "\n".join(contents[path]) + "\n" for path in [*added, *changed]},
            }
        )
    return {"project": project, "commits": history}


def touching(history: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """The commits that changed `path`, oldest first."""
    return [c for c in history["commits"] if path in c["files"]]


def build_repository(history: dict[str, Any], where: Path) -> None:
    """Write `history` as a real repository (branch `main`, checked out) into the empty directory `where`."""
    stream: list[bytes] = []
    for commit in history["commits"]:
        person = f"{commit['author']} <{commit['email']}> {commit['time']} +0000"
        message = commit["subject"].encode() + b"\n"
        stream += [b"commit refs/heads/main\n", f"author {person}\ncommitter {person}\n".encode()]
        stream.append(b"data %d\n%s\n" % (len(message), message))
        for path, text in sorted(commit["files"].items()):
            data = text.encode()
            stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(where), "GIT_CONFIG_NOSYSTEM": "1"}
    git = ["git", "-C", str(where)]
    for command, stdin in (
        ([*git, "init", "-q", "--initial-branch=main"], None),
        ([*git, "fast-import", "--quiet"], b"".join(stream)),
        ([*git, "reset", "-q", "--hard", "main"], None),
    ):
        done = subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[3:5])} failed: {done.stderr.decode(errors='replace').strip()}")


__all__ = ["build_repository", "make_history", "touching"]
