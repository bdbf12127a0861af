"""Commands for training: `train sft|grpo|pipeline|tiny-model CONFIG` and `serve-model PATH`.

Configs are TOML files (see configs/); any field can be overridden after the file with
`--section.field VALUE`, e.g. `rlhub train grpo configs/arithmetic.toml --grpo.lr 3e-5`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperCommand

if TYPE_CHECKING:
    from rlhub.train.config import TrainConfig

console = Console()
train_app = typer.Typer(help="Train a model on an environment: SFT, GRPO, or both in a row.", no_args_is_help=True)
_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def _overrides(*sections: str) -> type[TyperCommand]:
    """A command class whose `--help` ends with the `--section.field` overrides it reads: each with
    its type, default and the field's docstring in the config dataclass."""

    class WithOverrides(TyperCommand):
        reads = sections

        def format_help(self, ctx: Any, formatter: Any) -> None:
            from rlhub.train.config import TrainConfig, help_table

            super().format_help(ctx, formatter)
            Console().print(help_table(TrainConfig(), "config overrides (after CONFIG)", sections))

    return WithOverrides


_ALL = ("model", "env", "optim", "sft", "grpo", "run", "diloco")
ConfigArg = Annotated[Path, typer.Argument(help="A TOML config (see configs/); overrides follow it.")]


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.command("serve-model")(serve_model)


def _first_worker() -> bool:
    """Under `torchrun` with several DiLoCo workers, only rank 0 reports (they share one result)."""
    return os.environ.get("RANK", "0") == "0"


def _config(path: Path, ctx: typer.Context) -> TrainConfig:
    from rlhub.train.config import load_config, parse_overrides

    return load_config(path, parse_overrides(list(ctx.args)))


@train_app.command("sft", context_settings=_EXTRA, cls=_overrides("model", "env", "optim", "sft", "run", "diloco"))
def sft(ctx: typer.Context, config: ConfigArg) -> None:
    """Supervised fine-tuning on an environment's oracle answers or a chat JSONL (`--sft.data`)."""
    from rlhub.train.sft import train_sft

    result = train_sft(_config(config, ctx))
    if _first_worker():
        console.print(f"model: {result.model} · {result.steps} steps · val accuracy {result.val_accuracy:.1%}")


@train_app.command("grpo", context_settings=_EXTRA, cls=_overrides("model", "env", "optim", "grpo", "run", "diloco"))
def grpo(ctx: typer.Context, config: ConfigArg) -> None:
    """GRPO on an environment's rubric (start from an SFT model with `--run.init_from DIR`)."""
    from rlhub.train.grpo import train_grpo

    result = train_grpo(_config(config, ctx))
    if _first_worker():
        console.print(f"model: {result.model} · {result.steps} steps · last batch reward {result.reward:.3f}")


@train_app.command("pipeline", context_settings=_EXTRA, cls=_overrides(*_ALL))
def pipeline(ctx: typer.Context, config: ConfigArg) -> None:
    """SFT to a validation threshold, then GRPO; held-out accuracy before and after."""
    from rlhub.train.pipeline import train_pipeline

    cfg = _config(config, ctx)
    result = train_pipeline(cfg)
    console.print(
        f"held-out accuracy ({result.after.tasks} test tasks): "
        f"SFT {result.before.accuracy:.1%} → GRPO {result.after.accuracy:.1%} "
        f"([bold]{100 * (result.after.accuracy - result.before.accuracy):+.1f} points[/])"
    )
    console.print(f"summary: {Path(cfg.run.out) / 'summary.json'} · curve: {Path(cfg.run.out) / 'curve.png'}")
    console.print(json.dumps(result.summary()), highlight=False, soft_wrap=True)


@train_app.command("tiny-model", context_settings=_EXTRA, cls=_overrides("model", "env", "run"))
def tiny_model(ctx: typer.Context, config: ConfigArg) -> None:
    """Create the config's tiny from-scratch model (tokenizer from the environment's alphabet) at model.path."""
    from rlhub.core.registry import load
    from rlhub.train.modeling import create_tiny_model, load_policy, parameter_count

    cfg = _config(config, ctx)
    env = load(cfg.env.id, **cfg.env.args)
    m = cfg.model
    path = create_tiny_model(m.path, env, m.hidden, m.layers, m.heads, cfg.run.seed)
    policy = load_policy(path, "cpu")
    console.print(f"{path}: {parameter_count(policy.model):,} parameters, vocabulary {len(policy.tokenizer)}")


def serve_model(
    path: Annotated[Path, typer.Argument(help="A local Hugging Face causal-LM directory.")],
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    name: Annotated[str | None, typer.Option(help="Model name to answer with (default: the directory name).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    max_tokens: Annotated[int, typer.Option(help="Completion limit when a request sets none.")] = 256,
) -> None:
    """Serve a local model as an OpenAI-compatible API: streaming, tool calls, seed, top_p; requests batched."""
    from rlhub.train.serve import serve

    console.print(f"serving {path} at http://{host}:{port}/v1")
    serve(path, host, port, name or path.name, device, max_tokens)


__all__ = ["register"]
