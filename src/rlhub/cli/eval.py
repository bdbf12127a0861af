"""Commands for model builders: `eval` runs an environment against a model, `view` summarises its log.

`eval` writes to `OUT/<owner>-<name>/<model>-<split>-s<seed>-<run hash>.jsonl`, the hash being of the
run's identity (everything that changes results, `LogHeader.identity`): rerunning an interrupted command
resumes its log, a run with other settings starts its own. `--out` may also name a `.jsonl` file,
which is resumed by the same run only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rlhub.cli._options import parse_config
from rlhub.core.errors import ConfigError, LogError

if TYPE_CHECKING:
    from rlhub.core.env import Environment
    from rlhub.core.model import ModelClient
    from rlhub.rollout.log import LogHeader, RunLog
    from rlhub.rollout.runner import RolloutConfig

console = Console()


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_env)
    app.command("view")(view)


def eval_env(
    target: Annotated[
        str, typer.Argument(help="An environment id (owner/name or owner/name@version), package directory or .py file.")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="Model name sent to the server, or 'mock' (offline).")],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Tasks.")] = 10,
    r: Annotated[int, typer.Option("-r", min=1, help="Rollouts (samples) per task.")] = 1,
    start: Annotated[int, typer.Option("--start", min=0, help="Index of the first task.")] = 0,
    concurrency: Annotated[int, typer.Option("-c", "--concurrency", min=1, help="Rollouts in flight.")] = 64,
    out: Annotated[Path, typer.Option("--out", "-o", help="Log directory, or a .jsonl file.")] = Path("runs"),
    split: Annotated[str, typer.Option(help="train or test.")] = "test",
    seed: Annotated[int, typer.Option(help="Task seed.")] = 0,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 1.0,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Completion token limit per model call.")] = None,
    sampling_seed: Annotated[
        int | None, typer.Option(help="Sampling seed sent to the server (plus the sample number).")
    ] = None,
    config: Annotated[list[str] | None, typer.Option("--config", "-C", help="Environment config as key=value.")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (prefer --api-key-env).")] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    mock_accuracy: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of tasks the mock gets right.")] = 0.6,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per rollout, retries included.")] = 600.0,
    request_timeout: Annotated[
        float, typer.Option(help="Seconds a model request may wait for the server's answer before a retry.")
    ] = 600.0,
    retries: Annotated[int, typer.Option(min=0, help="Retries per model request on 429/5xx/timeouts.")] = 5,
    score_workers: Annotated[int, typer.Option(min=1, help="Processes that score rollouts.")] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    push: Annotated[bool, typer.Option("--push", help="Upload the log to the hub's leaderboard when done.")] = False,
    hub: Annotated[str | None, typer.Option("--hub", help="Hub URL for --push (default $RLHUB_HUB_URL).")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Hub token for --push (default: saved login).")] = None,
) -> None:
    """Evaluate a model on an environment; prints metrics and the log path. Rerun to resume."""
    from rlhub.core.types import Sampling
    from rlhub.rollout.runner import RolloutConfig

    if split not in ("train", "test"):
        raise ConfigError(f"--split must be train or test, not {split!r}")
    env, source = _load_env(target, parse_config(config))
    sampling = Sampling(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=sampling_seed)
    try:
        run_config = RolloutConfig(
            n=n,
            r=r,
            start=start,
            concurrency=concurrency,
            split=split,
            seed=seed,
            sampling=sampling,
            retries=retries,
            timeout_s=timeout,
            score_workers=score_workers,
            progress=False if quiet else None,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if model != "mock":
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ConfigError("--base-url is required for a served model (or use --model mock)")
    key = api_key or os.environ.get(api_key_env)
    log = _execute(env, source, model, base_url, key, run_config, out, mock_accuracy, request_timeout)
    show(log)
    console.print(f"log: {log.path}", highlight=False, soft_wrap=True)
    if push:
        from rlhub.cli.hub import push_results

        push_results(log.path, model=None, hub=hub, token=token)


def _load_env(target: str, config: dict[str, Any]) -> tuple[Environment, str | None]:
    from rlhub.core.registry import load

    is_path = Path(target).exists()
    return load(target, **config), str(Path(target).resolve()) if is_path else None


def log_path(out: Path, header: LogHeader) -> Path:
    """Where a run's log goes: `out` itself if it names a .jsonl file, else a name fixed by the run's identity."""
    import hashlib
    import json

    if out.suffix == ".jsonl":
        return out
    digest = hashlib.sha256(json.dumps(header.identity(), sort_keys=True, default=str).encode()).hexdigest()[:8]
    env_dir = header.env.split("@")[0].replace("/", "-")
    return out / env_dir / f"{_slug(header.model)}-{header.split}-s{header.seed}-{digest}.jsonl"


def _slug(model: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "-" for c in model)


def earlier_difference(path: Path, header: LogHeader) -> str:
    """ " (temperature differs from the earlier run)" naming what sets this run apart from the closest
    other log of the same environment and model next to `path` (fewest differences, then newest)."""
    from rlhub.rollout.log import read_header

    env = header.env.split("@")[0]
    earlier = []
    for other in path.parent.glob(f"{_slug(header.model)}-*.jsonl"):
        theirs = read_header(other) if other != path else None
        if theirs is not None and theirs.model == header.model and theirs.env.split("@")[0] == env:
            earlier.append((len(diff := header.differences(theirs)), -other.stat().st_mtime, diff))
    if not earlier:
        return ""
    diff = min(earlier)[2]
    return f" ({', '.join(diff)} {'differs' if len(diff) == 1 else 'differ'} from the earlier run)"


def _execute(
    env: Environment,
    source: str | None,
    model: str,
    base_url: str | None,
    api_key: str | None,
    config: RolloutConfig,
    out: Path,
    mock_accuracy: float,
    request_timeout: float,
) -> RunLog:
    from rlhub.rollout.client import OpenAIClient
    from rlhub.rollout.mock import MockClient
    from rlhub.rollout.runner import make_header, run, run_sync

    async def go(client: ModelClient, url: str | None) -> RunLog:
        header = make_header(env, client, config, env_source=source, base_url=url)
        path = log_path(out, header)
        note = earlier_difference(path, header) if _is_new(path, out) else ""

        def announce(line: str) -> None:
            console.print(line + note, highlight=False, soft_wrap=True)

        return await run(env, client, config, path, env_source=source, base_url=url, announce=announce)

    async def served() -> RunLog:
        assert base_url is not None
        async with OpenAIClient(
            model, base_url, api_key=api_key, max_connections=config.concurrency, request_timeout_s=request_timeout
        ) as client:  # closed on every path: an unclosed session makes aiohttp print warnings at exit
            await client.ping()
            return await go(client, base_url)

    if model == "mock":
        tasks = env.tasks(config.n, config.split, config.seed, config.start)
        return run_sync(go(MockClient(env, tasks, mock_accuracy), None))
    return run_sync(served())


def _is_new(path: Path, out: Path) -> bool:
    """Whether the run starts a log of its own in a directory of logs (not a named file, not a resume)."""
    return out.suffix != ".jsonl" and not (path.exists() and path.stat().st_size)


def view(
    log: Annotated[Path, typer.Argument(help="A rollout log (.jsonl) written by `rlhub eval`.")],
    examples: Annotated[int, typer.Option("--examples", "-e", min=0, help="Show this many example rollouts.")] = 0,
    rescore: Annotated[bool, typer.Option("--rescore", help="Re-score every rollout offline and compare.")] = False,
) -> None:
    """Summarise a rollout log: metrics, pass@k, per-tag results, statuses, examples."""
    from rlhub.rollout.log import read_log

    if not log.is_file():
        raise LogError(f"{log} is not a file")
    run_log = read_log(log)
    show(run_log, examples=examples)
    if rescore:
        _rescore(log)


def show(log: RunLog, examples: int = 0) -> None:
    """Print a log's summary tables."""
    from rlhub.core.metrics import compute_metrics

    h = log.header
    metrics = log.footer.metrics if log.footer else compute_metrics(log.rollouts)
    state = "" if log.footer else " [yellow](unfinished: no footer; metrics from the rollouts so far)[/]"
    console.print(
        f"[bold]{h.env}[/] · model [bold]{h.model}[/] · {h.split} split, seed {h.seed}{state}", highlight=False
    )
    table = Table("metric", "value")
    table.add_row("rollouts", f"{metrics.count} ({metrics.tasks} tasks x up to {h.r} samples)")
    table.add_row("mean reward", f"{metrics.mean:.3f} ± {metrics.stderr:.3f}")
    for name, value in metrics.pass_at_k.items():
        table.add_row(name, f"{value:.3f}")
    table.add_row("tokens in / out", f"{metrics.prompt_tokens} / {metrics.completion_tokens}")
    if log.footer:
        table.add_row("throughput", f"{log.footer.rollouts_per_s:.1f} rollouts/s over {log.footer.duration_s:.2f} s")
    console.print(table)
    if metrics.by_tag:
        tags = Table("tag", "rollouts", "mean reward", "± stderr")
        for tag, group in metrics.by_tag.items():
            tags.add_row(tag, str(group.count), f"{group.mean:.3f}", f"{group.stderr:.3f}")
        console.print(tags)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(metrics.score_status.items()))
    runs = ", ".join(f"{k} {v}" for k, v in sorted(metrics.rollout_status.items()))
    console.print(f"scores: {statuses or '-'} · rollouts: {runs or '-'}", highlight=False)
    errors = [r for r in log.rollouts if r.status != "ok"]
    if errors:
        console.print(
            f"[yellow]{len(errors)} rollout(s) failed[/] (rerunning the same command retries them), "
            f"e.g.: {errors[0].error}",
            highlight=False,
        )
    for status in ("error", "timeout", "unparseable"):  # why scoring failed, not just how often
        unscored = [r.score for r in log.rollouts if r.score is not None and r.score.status.value == status]
        if unscored:
            console.print(f"[yellow]{len(unscored)} score(s) {status}[/], e.g.: {unscored[0].detail}", highlight=False)
    if examples:
        sample = Table("task", "prompt", "response", "reward", "status", show_lines=True)
        for rollout in log.rollouts[:examples]:
            status = rollout.score.status.value if rollout.score else rollout.status
            prompt = rollout.task.prompt[-1].content if rollout.task.prompt else ""
            sample.add_row(rollout.task.id, _clip(prompt), _clip(rollout.response), f"{rollout.reward:.3f}", status)
        console.print(sample)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rescore(path: Path) -> None:
    """Apply the re-score contract (the hub's rules) to the log; exit 1 when it is refused."""
    from rlhub.rollout.rescore import rescore

    report = rescore(path)
    for item in report.mismatches[:5]:
        console.print(
            f"  {item.task}#{item.sample}: logged {item.logged.value}, now {item.score.value}", highlight=False
        )
    if report.ok:
        console.print(f"[green]re-scored {len(report.results)} rollouts: all match the log[/]")
        return
    console.print(
        f"[red]re-scored {len(report.results)} rollouts: {len(report.mismatches)} differ from the log, "
        f"{len(report.altered_tasks)} task(s) altered; refused: {report.reason}[/]",
        highlight=False,
    )
    raise typer.Exit(1)


__all__ = ["log_path", "register", "show"]
