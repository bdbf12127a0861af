"""Build swe-mini's task data: mutate each library, keep the bugs its own tests catch.

    python tools/build_tasks.py --python /path/to/venv/bin/python [--libraries toolz idna] [--budget 120]

For every library (`rlhub_swe_mini.libraries`) the pinned sdist is fetched (hash-checked, cached) and
unpacked into a temporary directory; its test suite runs twice unmutated (a test counts only if it
passed both times), then once per candidate mutation (`rlhub_swe_mini.mutate`, drawn round-robin over
mutation kinds in a fixed shuffled order). A mutation is kept when some passing tests fail under it
(its fail-to-pass tests), but not more than half of them (a bug that breaks the import is no bug
to find), and the run ends in time. The libraries' code runs in a plain subprocess: it is the
published release and its own tests, trusted here as pip would trust it; the sandbox is for the
model's code. `--python` must have pytest (the version `env.PYTEST` pins). Output:
`src/rlhub_swe_mini/tasks.json.gz`, merged with what is there for libraries not rebuilt.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rlhub_swe_mini.libraries import LIBRARIES, Library
from rlhub_swe_mini.mutate import KINDS, Mutation, candidates
from rlhub_swe_mini.sdists import source_files

DATA = Path(__file__).resolve().parents[1] / "src" / "rlhub_swe_mini" / "tasks.json.gz"

PLUGIN = """
import json, os
_out = {}
def pytest_runtest_logreport(report):
    if report.failed:
        _out[report.nodeid] = "failed"
    elif report.when == "call" and report.passed:
        _out.setdefault(report.nodeid, "passed")
    elif report.skipped:
        _out.setdefault(report.nodeid, "skipped")
def pytest_sessionfinish(session):
    with open(os.environ["SWE_OUTCOMES"], "w") as f:
        json.dump(_out, f)
"""


def test_files(lib: Library, files: dict[str, str]) -> list[str]:
    return sorted(
        p
        for p in files
        if any(p == t or p.startswith(t + "/") for t in lib.tests)
        and p.rsplit("/", 1)[-1].startswith("test")
        and p.endswith(".py")
    )


def scope(lib: Library, module: str, tests: list[str]) -> list[str]:
    if not lib.scope_by_module:
        return tests
    stem = module.rsplit("/", 1)[-1].removesuffix(".py")
    return [t for t in tests if t.rsplit("/", 1)[-1].startswith(f"test_{stem}")]


def run_pytest(python: str, root: Path, paths: list[str], timeout_s: float) -> tuple[dict[str, str] | None, float]:
    """Outcome per node id, or None when the run did not finish in time; and its wall time."""
    out = root.parent / "outcomes.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "SWE_OUTCOMES": str(out), "PYTHONPATH": str(root.parent / "plugin"), "PYTHONHASHSEED": "0"}
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "swe_outcomes", *paths]
    start = time.monotonic()
    try:
        subprocess.run(argv, cwd=root, env=env, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return None, timeout_s
    took = time.monotonic() - start
    return (json.loads(out.read_text()) if out.exists() else {}), took


def order(found: list[Mutation], seed: str) -> list[Mutation]:
    """Round-robin over kinds, each kind in a fixed shuffled order: every kind gets its share."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Mutation]] = defaultdict(list)
    for m in found:
        by_kind[m.kind].append(m)
    for bucket in by_kind.values():
        rng.shuffle(bucket)
    out: list[Mutation] = []
    while any(by_kind.values()):
        for kind in KINDS:
            if by_kind.get(kind):
                out.append(by_kind[kind].pop())
    return out


def build_library(lib: Library, python: str, budget: int, keep: int) -> dict[str, object]:
    files = source_files(lib)
    tests = test_files(lib, files)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "src"
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        (Path(tmp) / "plugin").mkdir()
        (Path(tmp) / "plugin" / "swe_outcomes.py").write_text(PLUGIN)
        first, took = run_pytest(python, root, tests, 600)
        second, took2 = run_pytest(python, root, tests, 600)
        assert first is not None and second is not None
        passing = sorted(t for t, o in first.items() if o == "passed" and second.get(t) == "passed")
        print(f"{lib.name}: {len(passing)} of {len(first)} tests pass twice, {max(took, took2):.1f}s", flush=True)
        if not passing:
            raise SystemExit(f"{lib.name}: no test passes unmutated")
        index = {t: i for i, t in enumerate(passing)}
        pool = [m for module in lib.modules if scope(lib, module, tests) for m in candidates(module, files[module])]
        kept: list[list[object]] = []
        tried = 0
        for mutation in order(pool, f"swe-mini:{lib.name}:{lib.version}"):
            if tried >= budget or len(kept) >= keep:
                break
            tried += 1
            paths = scope(lib, mutation.path, tests)
            in_scope = [t for t in passing if t.split("::", 1)[0] in paths]
            (root / mutation.path).write_text(mutation.apply(files[mutation.path]))
            try:
                outcomes, _ = run_pytest(python, root, paths, max(20.0, 4 * max(took, took2)))
            finally:
                (root / mutation.path).write_text(files[mutation.path])
            if outcomes is None:
                continue
            f2p = [t for t in in_scope if outcomes.get(t) != "passed"]
            if 0 < len(f2p) <= len(in_scope) // 2:
                kept.append([*mutation.to_json(), paths, [index[t] for t in f2p]])
        print(f"{lib.name}: kept {len(kept)} of {tried} mutations tried ({len(pool)} candidates)", flush=True)
        return {"version": lib.version, "passing": passing, "tasks": kept}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", required=True, help="an interpreter with pytest")
    parser.add_argument("--libraries", nargs="*", default=sorted(LIBRARIES))
    parser.add_argument("--budget", type=int, default=120, help="mutations tried per library at most")
    parser.add_argument("--keep", type=int, default=80, help="mutations kept per library at most")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args()
    data = json.loads(gzip.decompress(args.out.read_bytes())) if args.out.exists() else {}
    for name in args.libraries:
        data[name] = build_library(LIBRARIES[name], args.python, args.budget, args.keep)
        args.out.write_bytes(gzip.compress(json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), mtime=0))
    total = sum(len(v["tasks"]) for v in data.values())
    print(f"{total} tasks over {len(data)} libraries -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
