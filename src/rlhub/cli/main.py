"""Entry point of the `rlhub` command. Command modules are listed in `COMMAND_MODULES`; each has a
`register(app)` function and imports its heavy dependencies inside the commands, so `rlhub --help`
stays fast. User mistakes (`RlhubError`) print one clear line and exit 1, never a traceback; so does
any other error, e.g. in an environment's own code, as `file:line: Type: message` naming the user's
code (`rlhub.core.origin`). `--debug`, anywhere on the command line, prints the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Annotated

import typer
from rich.console import Console

import rlhub
from rlhub.core.errors import RlhubError
from rlhub.core.origin import origin

COMMAND_MODULES = [
    "rlhub.cli.envs",
    "rlhub.cli.data",
    "rlhub.cli.hub",
    "rlhub.cli.serve",
    "rlhub.cli.eval",
    "rlhub.cli.train",
    "rlhub.cli.mcp",
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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"rlhub {rlhub.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="On an error, print the full traceback (any position).")
    ] = False,
) -> None:
    """Global options; `main` reads `--debug` itself so that it works after the command too."""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    end = args.index("--") if "--" in args else len(args)
    debug = "--debug" in args[:end]
    if debug:
        args.remove("--debug")
    try:
        app(args=args, prog_name="rlhub")
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        sys.exit(130)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        elif isinstance(exc, RlhubError):
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        else:
            err.print(
                f"[bold red]error:[/] {origin(exc)}   (--debug for the traceback)", highlight=False, soft_wrap=True
            )
        sys.exit(1)


if __name__ == "__main__":
    main()
