"""Typed training configs: nested dataclasses loaded from TOML, then overridden from the command line.

One `TrainConfig` serves `train sft`, `train grpo` and `train pipeline`; each command reads the
sub-configs it needs. A TOML table per sub-config (`[model]`, `[env]`, `[optim]`, `[sft]`, `[grpo]`,
`[run]`, `[diloco]`); dotted overrides (`--optim.lr 3e-4`) are parsed with the field's type, so a typo or a
wrong type is an error naming the field, never a silently ignored key.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import textwrap
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rlhub.core.errors import ConfigError
from rlhub.train.distributed.diloco import DilocoConfig


@dataclass
class ModelConfig:
    path: str = "runs/tiny-model"
    """A local Hugging Face causal-LM directory (config, weights, tokenizer with a chat template)."""
    tiny: bool = True
    """Create a tiny from-scratch model at `path` when the directory does not exist yet."""
    hidden: int = 128
    """Tiny model: hidden size."""
    layers: int = 3
    """Tiny model: transformer layers."""
    heads: int = 4
    """Tiny model: attention heads."""
    device: str = "auto"
    """`auto` (CUDA when present, else CPU), `cpu` or `cuda`."""


@dataclass
class EnvConfig:
    id: str = "rlhub/arithmetic"
    """Environment id (`owner/name[@version]`), source directory or `.py` file."""
    args: dict[str, Any] = field(default_factory=dict)
    """Environment config (its difficulty knobs), e.g. `{digits = 3}`."""
    seed: int = 0
    """Task seed for training tasks (the train split)."""
    eval_tasks: int = 500
    """Held-out test-split tasks (seed `eval_seed`) for the before/after evaluation."""
    eval_seed: int = 0
    """Seed of the held-out evaluation tasks."""
    max_tokens: int = 16
    """Most tokens the model may generate per turn."""


@dataclass
class OptimConfig:
    lr: float = 1e-3
    """Peak learning rate (AdamW)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_steps: int = 20
    """Linear warm-up steps, then constant."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this (0 turns clipping off)."""


@dataclass
class SFTConfig:
    steps: int = 1500
    """Most optimizer steps."""
    batch_size: int = 256
    """Sequences per optimizer step."""
    micro_batch_size: int = 256
    """Sequences per forward/backward; gradients accumulate up to `batch_size`."""
    data: str = ""
    """A chat JSONL file (`{"messages": [...]}` per line); empty: the environment's oracle answers."""
    pack: bool = False
    """Pack several short examples into one row of `pack_length` tokens (attention stays causal over the row)."""
    pack_length: int = 256
    """Row length when packing."""
    eval_every: int = 50
    """Validate every this many steps (greedy accuracy on `val_tasks` held-out tasks)."""
    val_tasks: int = 200
    """Test-split tasks (seed `env.eval_seed + 1`) used for validation."""
    stop_at: float = 0.0
    """Stop once validation accuracy reaches this (0: run all steps). The pipeline's SFT→GRPO switch."""


@dataclass
class GRPOConfig:
    steps: int = 120
    """Most GRPO steps (one batch of groups each)."""
    prompts: int = 32
    """Tasks per step."""
    group: int = 8
    """Completions sampled per task (G)."""
    temperature: float = 1.0
    """Sampling temperature."""
    lr: float = 1e-4
    """GRPO's learning rate (constant); RL wants a much smaller one than SFT's `optim.lr`."""
    epochs: int = 1
    """Optimizer steps per batch; above 1 the importance ratio against the sampling policy matters."""
    micro_batch_size: int = 256
    """Sequences per forward/backward; gradients accumulate over the batch."""
    loss: Literal["grpo", "dr_grpo", "dapo"] = "dapo"
    """Normalisation: `grpo` per-sequence mean, `dr_grpo` sum / (batch x max_tokens), `dapo` per-token mean."""
    scale_rewards: bool = True
    """Divide advantages by the group's reward std (`false` for Dr. GRPO)."""
    clip_low: float = 0.2
    """Ratio clip below: 1 - clip_low."""
    clip_high: float = 0.2
    """Ratio clip above: 1 + clip_high (DAPO's clip-higher uses e.g. 0.28)."""
    beta: float = 0.0
    """Weight of the KL penalty to the frozen initial model (0: no reference model is kept)."""
    dynamic_sampling: bool = False
    """DAPO: drop groups whose rewards are all equal (they carry no signal)."""
    score_workers: int = 2
    """Processes scoring finished rollouts (in batches) while others are still generating."""
    time_budget_s: float = 0.0
    """Stop after this many seconds of training (0: no limit)."""


@dataclass
class JobConfig:
    """The job around a training loop (`[run]`, `--run.*`): outputs, seed, checkpoints, resume, progress."""

    out: str = "runs/train"
    """Output directory: checkpoints, metrics.jsonl, curve.png, the final model."""
    seed: int = 0
    """Seed for weights, data order and sampling."""
    save_every: int = 0
    """Checkpoint every this many steps (0: only at the end)."""
    resume: bool = False
    """Continue from `out/checkpoint` when it exists."""
    init_from: str = ""
    """Start from this model directory instead of `model.path` (e.g. the SFT output for GRPO)."""
    threads: int = 0
    """torch CPU threads (0: torch's default)."""
    progress: bool = True
    """Show progress: a bar on a terminal, plain lines when the output is a file or a pipe."""
    progress_every: float = 30.0
    """Seconds between plain progress lines (output not a terminal)."""


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    run: JobConfig = field(default_factory=JobConfig)
    diloco: DilocoConfig = field(default_factory=DilocoConfig)
    """Used when launched by `torchrun` with several workers: SFT and GRPO then train as DiLoCo."""


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass, read from its source, for `--help`
    (`rlhub train ... --help`, `python -m rlhub.train.distributed.run --help`)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body.body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            docs[node.target.id] = " ".join(str(following.value.value).split())
    return docs


def load_config(path: str | Path | None = None, overrides: dict[str, str] | None = None) -> TrainConfig:
    """A config from a TOML file (or defaults) with `section.field` overrides given as strings."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    config = TrainConfig()
    for section, values in data.items():
        target = _section(config, section)
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table")
        for name, value in values.items():
            _set(target, section, name, value)
    return apply_overrides(config, overrides or {})


def apply_overrides(config: Any, overrides: dict[str, str]) -> Any:
    """Set fields of the dataclass `config` from string values: `section.field`, or a bare `field` of
    the config itself or of exactly one of its sections (the distributed runner's `--inner-steps`)."""
    for key, text in overrides.items():
        section, _, name = key.rpartition(".")
        if not section and name not in _scalars(config):
            owners = [s for s in _sections(config) if name in _scalars(getattr(config, s))]
            if len(owners) != 1:
                raise ConfigError(f"unknown flag --{key}; known: {', '.join(flags(config, flat=True))}")
            section = owners[0]
        target = _section(config, section) if section else config
        _set(target, section or "", name, _parse(text))
    return config


def parse_overrides(args: list[str]) -> dict[str, str]:
    """`["--optim.lr", "3e-4", "--run.out=x"]` -> `{"optim.lr": "3e-4", "run.out": "x"}`."""
    out: dict[str, str] = {}
    items = iter(args)
    for arg in items:
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --section.field VALUE")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            value = next(items, None)  # type: ignore[assignment]
            if value is None:
                raise ConfigError(f"--{key} needs a value")
        out[key.replace("-", "_")] = value
    return out


def flags(config: Any, sections: tuple[str, ...] | None = None, flat: bool = False) -> list[str]:
    """Every flag a command reads, in field order: `--section.field` (or, `flat`, the bare
    `--field-name` of the config's own fields and its sections'). Frozen by a test, shown by `--help`."""
    return [row[0] for row in flag_rows(config, sections, flat)]


def flag_rows(config: Any, sections: tuple[str, ...] | None = None, flat: bool = False) -> list[tuple[str, ...]]:
    """(flag, type, default, meaning) for each field, the meaning being the field's docstring."""
    rows: list[tuple[str, ...]] = []
    owners = [("", config)] + [(s, getattr(config, s)) for s in sections or _sections(config)]
    for section, target in owners:
        docs = field_docs(type(target))
        hints = typing.get_type_hints(type(target))
        for name in _scalars(target):
            flag = f"--{name.replace('_', '-')}" if flat else f"--{section}.{name}"
            if section or flat:
                kind = hints[name]
                choices = typing.get_args(kind) if typing.get_origin(kind) is Literal else ()
                shown = "|".join(choices) or getattr(kind, "__name__", None) or str(kind).replace("typing.", "")
                rows.append((flag, shown, repr(getattr(target, name)), docs.get(name, "")))
    return rows


def help_table(config: Any, title: str, sections: tuple[str, ...] | None = None, flat: bool = False) -> Any:
    """`flag_rows` as a rich table, for `--help`."""
    from rich.table import Table

    table = Table("flag", "type", "default", "meaning", title=title)
    for row in flag_rows(config, sections, flat):
        table.add_row(*row)
    return table


def to_dict(config: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _sections(config: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(config) if dataclasses.is_dataclass(getattr(config, f.name))]


def _scalars(config: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(config) if not dataclasses.is_dataclass(getattr(config, f.name))]


def _section(config: Any, section: str) -> Any:
    names = _sections(config)
    if section not in names:
        raise ConfigError(f"unknown config section [{section}]; known: {', '.join(names)}")
    return getattr(config, section)


def _set(target: Any, section: str, name: str, value: Any) -> None:
    fields = _scalars(target)
    where = f"{section}.{name}" if section else name
    if name not in fields:
        raise ConfigError(f"unknown config field {where}; known: {', '.join(fields)}")
    hint = typing.get_type_hints(type(target))[name]
    setattr(target, name, _coerce(value, hint, where))


def _parse(text: str) -> Any:
    """A command-line value: TOML syntax when it parses (numbers, booleans, tables), else the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where} must be one of {', '.join(map(str, typing.get_args(hint)))}, not {value!r}")
        return value
    kind = origin or hint
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is str and not isinstance(value, str):
        return str(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


__all__ = [
    "EnvConfig",
    "GRPOConfig",
    "JobConfig",
    "ModelConfig",
    "OptimConfig",
    "SFTConfig",
    "TrainConfig",
    "apply_overrides",
    "field_docs",
    "flag_rows",
    "flags",
    "help_table",
    "load_config",
    "parse_overrides",
    "to_dict",
]
