"""Commands for your own data: `new --from-data` builds an environment from question/answer pairs;
`export` writes any environment's tasks as chat JSONL for SFT or RL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from rlhub.cli._options import parse_config

console = Console()

VERIFIERS = {
    "exact": ("text.exact", "from rlhub.verify import text", "exact string match (surrounding whitespace ignored)."),
    "normalized": (
        "text.normalized",
        "from rlhub.verify import text",
        "match after lower-casing and removing punctuation, articles and extra spaces.",
    ),
    "numeric": ("numeric.score", "from rlhub.verify import numeric", "the last number in the reply equals the answer."),
    "math": ("math.score", "from rlhub.verify import math", "mathematical equivalence (`rlhub.verify.math`)."),
    "judge": (
        "judged",
        "import os\n\nfrom rlhub.rollout import OpenAIClient\nfrom rlhub.verify import judge, text",
        "1.0 for a normalised exact match; otherwise an LLM judge grades the reply against the answer "
        "(A = 1, B = 0.5, C = 0) through the OpenAI-compatible server at `RLHUB_JUDGE_BASE_URL` "
        "(model `RLHUB_JUDGE_MODEL`).",
    ),
}
JUDGE_HELPERS = '''
class _JudgeModel:
    """A fresh HTTP session per request, as the judge runs each grade on its own event loop."""

    name = os.environ.get("RLHUB_JUDGE_MODEL", "judge")

    async def complete(self, messages, *, tools=(), sampling=rlhub.Sampling()):
        base_url = os.environ.get("RLHUB_JUDGE_BASE_URL", "http://127.0.0.1:8000/v1")
        async with OpenAIClient(self.name, base_url) as client:
            return await client.complete(messages, tools=tools, sampling=sampling)


_judge = judge.Judge(_JudgeModel())


def judged(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    if text.normalized(response, reference).value == 1.0:
        return rlhub.Score.of(True, extracted=response.strip())
    return _judge(response, reference, task)

'''


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("export")(export)


def new(
    name: Annotated[str, typer.Argument(help="owner/name of the new environment.")],
    from_data: Annotated[Path, typer.Option("--from-data", help="JSONL or CSV with question/answer columns.")],
    verifier: Annotated[str, typer.Option(help="exact, normalized, numeric, math or judge.")] = "normalized",
    question_key: Annotated[str, typer.Option(help="Column holding the question.")] = "question",
    answer_key: Annotated[str, typer.Option(help="Column holding the reference answer.")] = "answer",
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to create it (default ./NAME).")] = None,
) -> None:
    """Build an environment package from your own question/answer data (institutional knowledge)."""
    from rlhub.cli.scaffold import scaffold
    from rlhub.core.dataset import read_rows
    from rlhub.core.errors import ConfigError
    from rlhub.core.ids import EnvId

    if verifier not in VERIFIERS:
        raise ConfigError(f"unknown verifier {verifier!r}; choose one of {', '.join(VERIFIERS)}")
    env_id = EnvId.parse(name)
    rows = read_rows(from_data)
    if not rows:
        raise ConfigError(f"{from_data} has no rows")
    kept = []
    for number, row in enumerate(rows, 1):
        if question_key not in row or answer_key not in row:
            raise ConfigError(f"{from_data} row {number} lacks {question_key!r} or {answer_key!r}")
        rest = {k: v for k, v in row.items() if k not in (question_key, answer_key)}
        kept.append({"question": str(row[question_key]).strip(), "answer": row[answer_key], **rest})
    expression, imports, doc = VERIFIERS[verifier]
    target = directory or Path(env_id.name)
    extra = {
        "verifier": expression,
        "imports": imports,
        "helpers": JUDGE_HELPERS if verifier == "judge" else "",
        "verifier_doc": doc,
        "source": from_data.name,
        "rows": str(len(kept)),
        "test_percent": "20",
    }
    package_dir = scaffold(env_id, target, "from_data", extra)
    (package_dir / "data.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    pyproject = target / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'\n[tool.setuptools.package-data]\n{env_id.package} = ["*.jsonl"]\n')
    console.print(f"created [bold]{env_id.base}[/] from {len(kept)} rows in {target}/ (verifier: {verifier})")
    console.print(
        f"  next: [cyan]rlhub check {target}[/] · [cyan]rlhub export {target} --format sft --out sft.jsonl[/]"
    )


def export(
    target: Annotated[str, typer.Argument(help="Environment id, package directory or .py file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file.")],
    format: Annotated[
        Literal["sft", "rl"], typer.Option(help="sft: full chats with reference answers; rl: prompts + answers.")
    ] = "sft",
    split: Annotated[str, typer.Option(help="train or test.")] = "train",
    n: Annotated[int, typer.Option("-n", min=1, help="Number of tasks.")] = 1000,
    seed: Annotated[int, typer.Option(help="Task seed.")] = 0,
    config: Annotated[list[str] | None, typer.Option("--config", "-C", help="Environment config key=value.")] = None,
) -> None:
    """Write an environment's tasks as chat JSONL: `sft` (with the oracle's answers) or `rl`."""
    from rlhub.core.export import export_rows
    from rlhub.core.registry import load

    env = load(target, **parse_config(config))
    out.parent.mkdir(parents=True, exist_ok=True)
    distinct = set()
    with out.open("w", encoding="utf-8") as handle:
        for row in export_rows(env, format, split, n, seed):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            distinct.add(json.dumps(row.get("messages") or [row["prompt"], row["answer"]], sort_keys=True))
    console.print(f"wrote {n:,} {format} rows of {env.spec} ({split} split) to {out}")
    if len(distinct) < n:
        Console(stderr=True).print(
            f"[yellow]warning:[/] rows repeat: {len(distinct):,} distinct of {n:,} "
            f"(the {split} split has fewer distinct tasks than -n)",
            highlight=False,
            soft_wrap=True,
        )
