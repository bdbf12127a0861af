"""Commands for environment authors: `init`, `check`, `list`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from rlhub.cli._options import parse_config

if TYPE_CHECKING:
    from rlhub.core.check import CheckResult

console = Console()
ConfigOption = Annotated[list[str] | None, typer.Option("--config", "-C", help="Environment config as key=value.")]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("check")(check)
    app.command("list")(list_envs)


def init(
    name: Annotated[str, typer.Argument(help="owner/name, or just name (owner 'local').")],
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to create it (default ./NAME).")] = None,
) -> None:
    """Scaffold an environment package (pyproject, module, README, tests) that passes `rlhub check`."""
    from rlhub.cli.scaffold import scaffold
    from rlhub.core.ids import EnvId

    env_id = EnvId.parse(name if "/" in name else f"local/{name}")
    target = directory or Path(env_id.name)
    scaffold(env_id, target)
    console.print(f"created [bold]{env_id.base}[/] in {target}/")
    console.print(f"  next: [cyan]rlhub check {target}[/] · [cyan]rlhub eval {target} --model mock -n 20[/]")


def check(
    target: Annotated[str, typer.Argument(help="An environment id, package directory or .py file.")] = ".",
    n: Annotated[int, typer.Option("-n", min=1, help="Tasks per split to check.")] = 50,
    config: ConfigOption = None,
) -> None:
    """Conformance checks (determinism, gold answers, wrong answers, reward range, splits, import time) and
    the exploit battery: empty, echoed, spammed, hedged, huge and tool-flooding replies must not pay."""
    from rlhub.core.check import check_env
    from rlhub.core.registry import env_class, load_path

    values = parse_config(config)
    if Path(target).exists():
        classes = load_path(target)
        source = str(Path(target).resolve())
    else:
        classes = [env_class(target)]
        source = target
    failed = 0
    for cls in classes:
        env = cls(**values)
        runtime_line = _build_runtime(env)  # before the checks, which run the env's programs in it
        report = check_env(env, n=n, target=source)
        console.print(f"[bold]{report.env}[/]")
        if runtime_line:
            console.print(f"  {runtime_line}", highlight=False)
        if env.response_kind == "code":
            from rlhub.verify.sandbox import limits_tier

            console.print(f"  [dim]sandbox limits: {limits_tier()} (docs/sandbox.md)[/]", highlight=False)
        for result in report.results:
            if result.is_exploit:
                continue
            mark = "[green]✔[/]" if result.ok else "[red]✘[/]"
            detail = f" [dim]({result.detail})[/]" if result.detail else ""
            console.print(f"  {mark} {result.name}{detail}", highlight=False, soft_wrap=True)
        _print_exploits([r for r in report.results if r.is_exploit])
        failed += not report.ok
    if failed:
        console.print(f"[red]{failed} environment(s) failed their checks[/]")
        raise typer.Exit(1)


def _build_runtime(env: object) -> str:
    """Build the environment's runtime of packages, if it declares one: a line with its pins, size and time."""
    from rlhub.verify.runtime import Runtime, RuntimeBuildError

    runtime = getattr(env, "runtime", None)
    if not isinstance(runtime, Runtime) or not runtime.python_packages:
        return ""
    try:
        built = runtime.build()
    except RuntimeBuildError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    when = "cached, built" if built.cached else "built"
    pins = ", ".join(built.locked)
    return f"[dim]runtime: {pins} · {built.size_bytes / 1e6:.0f} MB · {when} in {built.build_s:.1f} s[/]"


def _print_exploits(results: list[CheckResult]) -> None:
    """One line per exploit: its best score against the wrong-answer ceiling, or why it did not apply.
    Result lines are never wrapped, so each stays one greppable line in a terminal, a pipe or a log."""
    from rlhub.core.check import EXPLOIT_PREFIX
    from rlhub.core.exploits import TASKS

    if not results:
        return
    console.print(f"  exploits [dim](on {TASKS} test tasks; none may score above the task's best wrong answer)[/]")
    width = max(len(r.name) for r in results) - len(EXPLOIT_PREFIX)
    for result in results:
        name = result.name.removeprefix(EXPLOIT_PREFIX).ljust(width)
        if result.score is None and result.ok:
            console.print(f"  [dim]· {name}  {result.detail}[/]", highlight=False, soft_wrap=True)
            continue
        mark = "[green]✔[/]" if result.ok else "[red]✘[/]"
        figures = f"{result.score:.2f} ≤ {result.ceiling:.2f}" if result.ok else result.detail
        console.print(f"  {mark} {name}  {figures}", highlight=False, soft_wrap=True)


def list_envs() -> None:
    """Environments installed or registered here, with their config knobs."""
    from rlhub.core.registry import registered

    table = Table("version", "kind", "knobs", "description")
    table.columns.insert(0, Column("id", no_wrap=True))
    for cls in registered():
        kind = next(b.__name__ for b in cls.__mro__ if b.__name__ in ("SingleTurnEnv", "ToolEnv", "MultiTurnEnv"))
        knobs = ", ".join(f"{k}={d!r}" for k, (_, d) in cls.config_fields().items())
        doc = re.split(r"\n\s*\n", (cls.__doc__ or "").strip())[0].replace("\n", " ")
        table.add_row(cls.id, cls.version, kind, knobs, doc)
    console.print(table)
