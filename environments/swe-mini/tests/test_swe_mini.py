"""swe-mini against real sdists (served on loopback), the real sandbox and real pytest runs."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from rlhub_swe_mini.env import SweMini
from rlhub_swe_mini.grading import RUNTIME, buggy_tree, hidden_tests, outside_tests
from rlhub_swe_mini.libraries import LIBRARIES, Library
from rlhub_swe_mini.mutate import Mutation, MutationError, candidates
from rlhub_swe_mini.sdists import SdistError, cache_dir, sdist_bytes, source_files

import rlhub
from rlhub.core.model import PolicyClient
from rlhub.core.types import Message, ToolCall
from rlhub.verify.workspace import run_tests


def scripted(messages: list[Message]) -> PolicyClient:
    """A model that plays fixed assistant messages, one per turn, then says it is done."""
    queue = list(messages)
    return PolicyClient(lambda _: queue.pop(0) if queue else Message.assistant("done"))


def call(name: str, **arguments: object) -> Message:
    return Message.assistant("", tool_calls=(ToolCall(id=f"c-{name}", name=name, arguments=json.dumps(arguments)),))


def play(env: SweMini, task: rlhub.Task, messages: list[Message]) -> tuple[rlhub.Score, Any]:
    episode = asyncio.run(env.rollout(task, scripted(messages)))
    return env.score(task, episode.messages, episode.info), episode


@pytest.fixture(scope="module")
def env() -> SweMini:
    return SweMini()


def test_the_task_data_spans_several_hundred_bugs_over_at_least_five_libraries(env: SweMini) -> None:
    data = json.loads(gzip.decompress(files("rlhub_swe_mini").joinpath("tasks.json.gz").read_bytes()))
    assert len(data) >= 5 and set(data) <= set(LIBRARIES)
    assert sum(len(lib["tasks"]) for lib in data.values()) >= 300
    assert env.size("train") + env.size("test") == sum(len(lib["tasks"]) for lib in data.values())
    for name, lib in data.items():
        assert lib["version"] == LIBRARIES[name].version
        tree = source_files(LIBRARIES[name])
        for *spec, paths, f2p in lib["tasks"]:
            mutation = Mutation.from_json(spec)
            assert mutation.revert(mutation.apply(tree[mutation.path])) == tree[mutation.path]
            assert f2p and all(p in tree for p in paths)


def test_a_task_is_a_pure_function_of_seed_and_index(env: SweMini) -> None:
    task = env.task(3, "test", seed=7)
    assert task == SweMini().task(3, "test", seed=7)
    assert rlhub.Task.model_validate_json(task.model_dump_json()) == task
    answer = task.answer
    assert answer["fail_to_pass"] and not set(answer["fail_to_pass"]) & set(answer["pass_to_pass"])
    assert answer["fail_to_pass"][0] in task.prompt[0].content


def test_the_oracle_reverts_the_mutation_and_scores_one(env: SweMini) -> None:
    task = env.task(0, "test")
    score, episode = play(env, task, [env.oracle(task, [])])
    assert score.value == 1.0, score.detail
    mutation = Mutation.from_json(task.answer["mutation"])
    assert episode.info["workspace"]["changed"] == {
        mutation.path: source_files(LIBRARIES[task.answer["library"]])[mutation.path]
    }
    # recomputed from the log alone: the task and the recorded info
    logged = json.loads(json.dumps(episode.info))
    assert env.score(task, episode.messages, logged).value == 1.0


def test_doing_nothing_earns_half_without_running_anything(env: SweMini) -> None:
    task = env.task(1, "train")
    score, _ = play(env, task, [Message.assistant("I fixed it.")])
    assert score.value == 0.5
    f2p, p2p = len(task.answer["fail_to_pass"]), len(task.answer["pass_to_pass"])
    assert score.detail == f"fail-to-pass 0/{f2p}, pass-to-pass {p2p}/{p2p}"


def test_editing_the_hidden_tests_and_their_configuration_pays_nothing(env: SweMini) -> None:
    task = env.task(2, "test")
    lib = LIBRARIES[task.answer["library"]]
    tests = hidden_tests(lib)
    test_file = task.answer["fail_to_pass"][0].split("::")[0]
    folder = test_file.rsplit("/", 1)[0] + "/" if "/" in test_file else ""
    hooks = (
        "import pytest\n"
        "@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n"
        "    outcome.get_result().outcome = 'passed'\n"
    )
    edits = [
        call("write_file", path=test_file, content="def test_nothing():\n    pass\n"),
        call("write_file", path="conftest.py", content=hooks),
        call("write_file", path=f"{folder}conftest.py", content=hooks),
        call("write_file", path="pytest.ini", content="[pytest]\naddopts = -p no:terminal\n"),
        call("write_file", path="evil.pth", content="import os\n"),
        call("bash", command=f"rm -f {' '.join(p for p in tests if p.endswith('.py'))}"),
    ]
    score, episode = play(env, task, edits)
    assert episode.info["workspace"]["changed"]  # the edits happened in the workspace...
    assert score.value == 0.5, score.detail  # ...and none of them reached the graded tree


def test_a_shadowing_pytest_module_cannot_fake_the_verdict(env: SweMini) -> None:
    task = env.task(4, "test")
    fake = "import sys\nprint('all passed')\nsys.exit(0)\n"
    score, _ = play(env, task, [call("write_file", path="pytest.py", content=fake)])
    assert score.value == 0.5, score.detail


def test_breaking_the_library_scores_zero(env: SweMini) -> None:
    task = env.task(5, "test")
    mutation = Mutation.from_json(task.answer["mutation"])
    score, _ = play(env, task, [call("write_file", path=mutation.path, content="raise ImportError('gone')\n")])
    assert score.value == 0.0, score.detail


class QuickCommands(SweMini):
    command_timeout_s = 2.0


def test_tools_work_on_the_buggy_tree_and_are_bounded() -> None:
    env = QuickCommands()
    task = env.task(0, "train")
    mutation = Mutation.from_json(task.answer["mutation"])
    f2p = task.answer["fail_to_pass"]

    async def episode() -> tuple[dict[str, str], Any]:
        state = rlhub.State(task=task)
        async with env.episode(state):
            tools = {f.__name__: f for f in env.tools(state)}
            seen = {
                "line": await tools["bash"](f"sed -n {mutation.line}p {mutation.path}"),
                "tests": await tools["run_tests"](),
                "sleep": await tools["bash"]("sleep 30"),
                "flood": await tools["bash"]("yes | head -c 100000"),
                "escape": await tools["read_file"]("../etc/passwd"),
                "edit": await tools["bash"]("rm PKG-INFO && echo hi > made.txt"),
            }
        return seen, state.info["workspace"]

    seen, changes = asyncio.run(episode())
    assert mutation.new in seen["line"]  # the workspace holds the bug
    assert "failed" in seen["tests"] and f2p[0].split("::")[0] in seen["tests"]
    assert "timed out after 2 s" in seen["sleep"]
    assert len(seen["flood"]) < 9000 and "output cut" in seen["flood"]
    assert seen["escape"].startswith("error:")
    assert changes == {"changed": {"made.txt": "hi\n"}, "binary": {}, "deleted": ["PKG-INFO"]}


def test_commands_cannot_reach_the_network(loopback_index: str) -> None:
    env = SweMini()

    async def fetch() -> str:
        state = rlhub.State(task=env.task(0, "train"))
        async with env.episode(state):
            bash = {f.__name__: f for f in env.tools(state)}["bash"]
            code = f"import urllib.request; urllib.request.urlopen('{loopback_index}', timeout=3); print('reached')"
            return str(await bash(f'python -c "{code}"; echo rc=$?'))

    out = asyncio.run(fetch())
    assert "rc=1" in out and "reached" not in out, out  # the index answers on the host's loopback, not here


def test_changes_inside_the_test_folders_are_dropped() -> None:
    lib = LIBRARIES["toolz"]
    changes = {
        "changed": {"toolz/itertoolz.py": "x = 2\n", "toolz/tests/helper.py": "", "toolz/tests/test_new.py": ""},
        "binary": {"toolz/tests/x.bin": "AA=="},
        "deleted": ["toolz/tests/test_itertoolz.py", "README.rst"],
    }
    kept = {"changed": {"toolz/itertoolz.py": "x = 2\n"}, "binary": {}, "deleted": ["README.rst"]}
    assert outside_tests(changes, lib) == kept


def test_mutations_change_one_token_and_revert_exactly() -> None:
    source = "def f(a, b):\n    if a < b and not a:\n        return a + 1\n    return True\n"
    found = {(m.kind, m.old, m.new) for m in candidates("m.py", source)}
    assert found == {
        ("compare", "<", "<="),
        ("boolean", "and", "or"),
        ("not", "not ", ""),
        ("arithmetic", "+", "-"),
        ("constant", "1", "2") if ("constant", "1", "2") in found else ("constant", "1", "0"),
        ("return", "True", "False"),
    }
    for m in candidates("m.py", source):
        assert m.revert(m.apply(source)) == source
        compile(m.apply(source), "m.py", "exec")
    with pytest.raises(MutationError):
        Mutation("m.py", 2, 9, "<=", "<", "compare", "f").apply(source)


class _Serve(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tampered_index(tmp_path: Path) -> Iterator[tuple[str, Library]]:
    lib = LIBRARIES["inflection"]
    (tmp_path / "inflection").mkdir()
    (tmp_path / "inflection" / lib.filename).write_bytes(b"not the release")
    (tmp_path / "inflection" / "index.html").write_text(f'<a href="{lib.filename}">{lib.filename}</a>')
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Serve(*a, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", lib
    server.shutdown()
    server.server_close()


def test_an_sdist_is_hash_checked_and_cached(
    tampered_index: tuple[str, Library], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, lib = tampered_index
    monkeypatch.setenv("RLHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RLHUB_SWE_MINI_INDEX", url)
    with pytest.raises(SdistError, match="not the pinned"):
        sdist_bytes(lib)
    assert not (cache_dir() / lib.filename).exists()
    monkeypatch.setenv("RLHUB_SWE_MINI_INDEX", "http://127.0.0.1:9/simple/")  # nothing listens there
    with pytest.raises(SdistError, match="nothing is cached at"):
        sdist_bytes(lib)
    shipped = (Path(__file__).parent / "sdists" / lib.filename).read_bytes()
    cache_dir().mkdir(parents=True)
    (cache_dir() / lib.filename).write_bytes(shipped)
    assert hashlib.sha256(sdist_bytes(lib)).hexdigest() == lib.sha256  # from the cache, index unreachable


def test_the_workspace_is_the_sdist_with_one_line_changed(env: SweMini) -> None:
    task = env.task(6, "train")
    lib = LIBRARIES[task.answer["library"]]
    clean, buggy = source_files(lib), buggy_tree(task.answer)
    differing = [p for p in clean if clean[p] != buggy[p]]
    assert differing == [Mutation.from_json(task.answer["mutation"]).path]
    diff = [
        (a, b)
        for a, b in zip(clean[differing[0]].splitlines(), buggy[differing[0]].splitlines(), strict=True)
        if a != b
    ]
    assert len(diff) == 1


@pytest.mark.slow
def test_check_env_passes_with_the_exploit_battery(env: SweMini) -> None:
    report = rlhub.check_env(env, n=4)
    assert report.ok, report.failures()


@pytest.mark.slow
@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_in_the_sandbox_the_bug_fails_exactly_its_fail_to_pass_tests(library: str) -> None:
    """What the build measured in a plain subprocess holds in the sandbox: the buggy tree fails the
    fail-to-pass tests and passes the others; the released tree passes all of them."""
    env = SweMini(libraries=(library,))
    task = env.task(0, "test")
    reference = task.answer
    hidden = hidden_tests(LIBRARIES[library])
    tests = reference["fail_to_pass"] + reference["pass_to_pass"]
    report = run_tests(buggy_tree(reference), {}, hidden=hidden, tests=tests, runtime=RUNTIME)
    outcomes = report.outcomes
    assert report.status == "ok", report.output
    assert {t for t in reference["fail_to_pass"] if outcomes[t] != "passed"} == set(reference["fail_to_pass"])
    assert all(outcomes[t] == "passed" for t in reference["pass_to_pass"])
    score, _ = play(env, task, [env.oracle(task, [])])
    assert score.value == 1.0, score.detail
