"""Entry point of the `rlhub` command. Command modules are listed in `COMMAND_MODULES`; each has a
`register(app)` function and imports its heavy dependencies inside the commands, so `rlhub --help`
stays fast. User mistakes (`RlhubError`) print one clear line and exit 1, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from rlhub.core.errors import RlhubError

COMMAND_MODULES = [
    "rlhub.cli.envs",
    "rlhub.cli.data",
    "rlhub.cli.hub",
    "rlhub.cli.serve",
    "rlhub.cli.eval",
    "rlhub.cli.train",
]

app = typer.Typer(
    name="rlhub",
    help="RL environments for language models: write, check, share, evaluate and train.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="rlhub")
    except RlhubError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
