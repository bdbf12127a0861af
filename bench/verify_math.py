"""Math verification: rlhub.verify.math vs math-verify 0.9 on the same cases, one core, one run.

    python bench/verify_math.py [--quick] [--show-errors] [--data FILE.jsonl ...]

Corpora (JSONL: response, reference, label 1/0, source), deduplicated, reported per corpus:
- `tests/verify/data/math_peer_math_verify.jsonl`: math-verify's own regression tests (0.9.0 sdist),
  ported by `--port-math-verify-tests DIR`; math-verify runs each with the options its test used;
- `tests/verify/data/math_published.jsonl`: cases from the peer's issue tracker and the MATH grader's tests;
- `tests/verify/data/math_hacking_probes.jsonl`: answers that must not score, plus plain controls;
- `bench/data/math_heldout.jsonl`, `bench/data/math_dev.jsonl`: written by us (kept for comparison;
  `--quick` drops the dev corpus and every other held-out case).
The run is pinned to one CPU (children inherit it). math-verify runs in a child process killed and
restarted when a case exceeds HANG_S; its time per case is measured inside the child (IPC excluded,
in its favour). rlhub runs in-process with its reference cache cleared before every case. Both sides
are warmed up first. A case is over budget when rlhub takes more than BUDGET_S on it.
Last line: JSON with per-corpus accuracy, false positives, over-budget counts and throughput.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HANG_S = 5.0
BUDGET_S = 1.0
ROOT = Path(__file__).resolve().parent.parent
CORPORA = [
    ROOT / "tests/verify/data/math_peer_math_verify.jsonl",
    ROOT / "tests/verify/data/math_published.jsonl",
    ROOT / "tests/verify/data/math_hacking_probes.jsonl",
    ROOT / "bench/data/math_heldout.jsonl",
    ROOT / "bench/data/math_dev.jsonl",
]
WARMUP = [
    ("The answer is $\\boxed{\\frac{1}{2}}$", "0.5"),
    ("so $x = (a+1)^2$", "a^2+2a+1"),
    ("\\boxed{[1,2)}", "[1,2)"),
]
Case = dict[str, Any]


def load(paths: list[Path], quick: bool) -> list[Case]:
    seen: set[tuple[str, str, str]] = set()
    cases = []
    for path in paths:
        for i, line in enumerate(path.read_text().splitlines()):
            case = json.loads(line)
            case["corpus"] = path.stem
            key = (path.stem, case["response"], case["reference"])
            ours = path.parent == ROOT / "bench" / "data"
            if key not in seen and (not quick or not ours or i % 2 == 0):
                seen.add(key)
                cases.append(case)
    return [c for c in cases if not quick or c["corpus"] != "math_dev"]


# -- porting math-verify's tests ----------------------------------------------------------------


def port_math_verify_tests(directory: Path) -> None:
    """Print math-verify's parametrized (gold, pred, expected) tests as JSONL (gold is our reference)."""
    for path in sorted(directory.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            for dec in fn.decorator_list:
                if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"):
                    continue
                names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
                if not {"gold", "pred"} <= set(names):
                    continue
                keywords: dict[str, Any] = {}
                for node in ast.walk(fn):
                    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "compare_strings":
                        for k in node.keywords:
                            is_param = isinstance(k.value, ast.Name)
                            keywords[str(k.arg)] = ("param", k.value.id) if is_param else ast.literal_eval(k.value)  # type: ignore[attr-defined]
                call = "compare_strings" if keywords or "compare_strings" in ast.unparse(fn) else "default"
                assert isinstance(dec.args[1], ast.List)
                for element in dec.args[1].elts:  # f-strings use math: evaluate each row
                    values = eval(compile(ast.Expression(element), str(path), "eval"), {"math": math})
                    row = dict(zip(names, values, strict=True))
                    options = {k: row[v[1]] if isinstance(v, tuple) else v for k, v in keywords.items()}
                    options.update({k: row[k] for k in ("strict", "precision", "allow_set_relation_comp") if k in row})
                    expected = row.get("expected", row.get("result"))
                    case = {
                        "response": row["pred"],
                        "reference": row["gold"],
                        "label": int(expected or 0),
                        "source": f"huggingface/Math-Verify 0.9.0 tests/{path.name}::{fn.name}",
                        "peer": {"call": call, **options},
                    }
                    print(json.dumps(case, ensure_ascii=False))


# -- peer: math-verify in a killable child ------------------------------------------------------


def peer_worker() -> None:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    def run(response: str, reference: str, peer: dict[str, Any] | None) -> bool:
        if peer is None:
            gold = parse(f"$\\boxed{{{reference}}}$") or parse(reference)
            return bool(verify(gold, parse(response)))
        if peer["call"] == "default":
            return bool(verify(parse(reference), parse(response)))
        targets: list[Any] = []  # the peer's own test helper, compare_strings
        for kind in peer.get("match_types", ["latex", "expr"]):
            targets.append(LatexExtractionConfig(boxed_match_priority=0) if kind == "latex" else ExprExtractionConfig())
        return bool(
            verify(
                parse(reference, targets),
                parse(response, targets),
                float_rounding=peer.get("precision", 6),
                strict=peer.get("strict", True),
                allow_set_relation_comp=peer.get("allow_set_relation_comp", False),
            )
        )

    for line in sys.stdin:
        response, reference, peer = json.loads(line)
        start = time.perf_counter()
        try:
            ok = run(response, reference, peer)
        except Exception:
            ok = False
        print(json.dumps([ok, time.perf_counter() - start]), flush=True)


class Peer:
    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--peer-worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        return self.proc

    def check(self, case: Case) -> tuple[bool, float, bool]:
        """(verdict, seconds, hung)."""
        proc = self.start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps([case["response"], case["reference"], case.get("peer")]) + "\n")
        proc.stdin.flush()
        if select.select([proc.stdout], [], [], HANG_S)[0]:
            line = proc.stdout.readline()
            if line:
                ok, seconds = json.loads(line)
                return ok, seconds, False
        self.close()
        return False, HANG_S, True

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


# -- run ----------------------------------------------------------------------------------------


def rlhub_options(case: Case) -> Any:
    """The options a case's own test asked of the peer, in our terms (precision -> approx_places)."""
    from rlhub.verify.math import MathOptions

    peer = case.get("peer") or {}
    options = MathOptions()
    if "precision" in peer:
        options = MathOptions(approx_places=peer["precision"])
    if peer.get("allow_set_relation_comp") is False:
        options = MathOptions(approx_places=options.approx_places, inequality_as_interval=False)
    return options


def summary(
    cases: list[Case], ours: list[tuple[bool, float]], theirs: list[tuple[bool, float, bool]]
) -> dict[str, Any]:
    n = len(cases)
    fp = sum(1 for c, (ok, _) in zip(cases, ours, strict=True) if ok and not c["label"])
    peer_fp = sum(1 for c, (ok, _, _) in zip(cases, theirs, strict=True) if ok and not c["label"])
    return {
        "cases": n,
        "accuracy": round(sum(ok == bool(c["label"]) for c, (ok, _) in zip(cases, ours, strict=True)) / n, 3),
        "peer_accuracy": round(sum(ok == bool(c["label"]) for c, (ok, _, _) in zip(cases, theirs, strict=True)) / n, 3),
        "false_positives": fp,
        "peer_false_positives": peer_fp,
        "over_budget": sum(t > BUDGET_S for _, t in ours),
        "peer_over_budget": sum(t > BUDGET_S or hung for _, t, hung in theirs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="skip the dev corpus and half the held-out one (< 1 minute)"
    )
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--data", type=Path, nargs="*", default=CORPORA, help="JSONL corpora (default: all five)")
    parser.add_argument("--port-math-verify-tests", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_worker:
        peer_worker()
        return
    if args.port_math_verify_tests:
        port_math_verify_tests(args.port_math_verify_tests)
        return

    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    from rlhub.verify import math as rmath

    cases = load(args.data, args.quick)
    for response, reference in WARMUP:
        rmath.score(response, reference)
    rmath.warm_up()

    ours: list[tuple[bool, float]] = []
    statuses = []
    for case in cases:
        rmath._reference_answer.cache_clear()
        options = rlhub_options(case)
        start = time.perf_counter()
        result = rmath.score(str(case["response"]), str(case["reference"]), options=options)
        ours.append((result.value == 1.0, time.perf_counter() - start))
        statuses.append((result.status.value, result.extracted))

    peer = Peer()
    for response, reference in WARMUP:
        peer.check({"response": response, "reference": reference})
    theirs = [peer.check(case) for case in cases]
    peer.close()

    if args.show_errors:
        for case, (ok, t), (pok, _, _), (status, extracted) in zip(cases, ours, theirs, statuses, strict=True):
            if ok != bool(case["label"]) or t > BUDGET_S:
                print(
                    f"[{case['corpus']}] label={case['label']} ours={status} ({t:.2f}s) peer={pok} "
                    f"extracted={extracted!r}\n    response={str(case['response'])[-150:]!r}\n"
                    f"    reference={str(case['reference'])[-150:]!r}"
                )
    per_corpus = {}
    for name in dict.fromkeys(c["corpus"] for c in cases):
        index = [i for i, c in enumerate(cases) if c["corpus"] == name]
        per_corpus[name] = summary([cases[i] for i in index], [ours[i] for i in index], [theirs[i] for i in index])
        s = per_corpus[name]
        print(
            f"{name:24s} {s['cases']:4d} cases  rlhub {s['accuracy']:.3f} (fp {s['false_positives']}, "
            f"over {s['over_budget']})  math-verify {s['peer_accuracy']:.3f} (fp {s['peer_false_positives']}, "
            f"over {s['peer_over_budget']})"
        )
    our_time = sum(t for _, t in ours)
    peer_time = sum(t for _, t, _ in theirs)
    kept = [i for i, (_, _, hung) in enumerate(theirs) if not hung]
    n = len(cases)
    print(f"{n} cases on cpu {cpu}: rlhub {n / our_time:.1f}/s, math-verify {n / peer_time:.1f}/s")
    report = {
        "corpora": per_corpus,
        "throughput_ratio": round(peer_time / our_time, 1),
        "throughput_ratio_without_peer_hangs": round(
            sum(theirs[i][1] for i in kept) / sum(ours[i][1] for i in kept), 1
        ),
        "median_us": round(statistics.median(t for _, t in ours) * 1e6, 1),
        "peer_median_us": round(statistics.median(t for _, t, _ in theirs) * 1e6, 1),
        "max_s": round(max(t for _, t in ours), 3),
        "over_budget": sum(t > BUDGET_S for _, t in ours),
        "cases_per_s": round(n / our_time, 1),
        "peer_cases_per_s": round(n / peer_time, 1),
        "cases": n,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
