"""Models: load any local Hugging Face causal-LM directory, or create a tiny one from scratch.

The tiny model is a small Llama-style transformers model with a character-level tokenizer (built with
`tokenizers`) over the alphabet of an environment's prompts and answers, plus chat special tokens and
a chat template. It is saved as an ordinary HF directory, so training, evaluation and serving load it
exactly like any other model — there is only one loading path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from rlhub.core.env import Environment
from rlhub.core.errors import ConfigError
from rlhub.core.types import Message, ToolSpec

SPECIALS = ["<|pad|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass
class Policy:
    """A causal LM, its tokenizer and the token ids that end a turn."""

    model: Any
    tokenizer: Any
    device: torch.device
    stop_ids: frozenset[int]

    def render(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), generation: bool = True) -> str:
        """The chat-template text of a conversation (ending with the assistant header when `generation`)."""
        dicts = [{"role": m.role, "content": m.content} for m in messages]
        kwargs: dict[str, Any] = {"tools": [t.to_openai() for t in tools]} if tools else {}
        return self.tokenizer.apply_chat_template(dicts, tokenize=False, add_generation_prompt=generation, **kwargs)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_prompt(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> list[int]:
        return self.encode(self.render(messages, tools))

    def encode_example(self, messages: Sequence[Message], reply: Message) -> tuple[list[int], list[int]]:
        """(prompt ids, completion ids) of a conversation and the assistant's reply, end-of-turn included."""
        prompt = self.render(messages)
        full = self.render([*messages, reply], generation=False)
        if not full.startswith(prompt):
            raise ConfigError("the chat template does not render the reply after the generation prompt")
        return self.encode(prompt), self.encode(full[len(prompt) :])

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode([i for i in ids if i not in self.stop_ids], skip_special_tokens=True)


def load_policy(path: str | Path, device: str = "auto") -> Policy:
    """A local HF causal-LM directory as a `Policy` on `device`, in float32 (AdamW updates of 1e-4
    would vanish in bf16 weights; large models on GPU would want bf16 autocast, not covered here)."""
    _quiet()
    path = Path(path)
    if not (path / "config.json").exists():
        raise ConfigError(f"{path} is not a Hugging Face model directory (no config.json)")
    target = pick_device(device)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.chat_template is None:
        raise ConfigError(f"{path}: the tokenizer has no chat template")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.to(target)  # type: ignore[arg-type]  # transformers types `to` oddly
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    stops = {tokenizer.eos_token_id}
    eos = model.generation_config.eos_token_id
    stops.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    return Policy(model, tokenizer, target, frozenset(i for i in stops if i is not None))


def _quiet() -> None:
    """No transformers progress bars or advice in training logs."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def env_alphabet(env: Environment, samples: int = 2000) -> str:
    """Every character the environment's prompts and oracle answers use (train and test tasks)."""
    chars: set[str] = set("0123456789")
    for split in ("train", "test"):
        for i in range(samples if split == "train" else samples // 4):
            task = env.task(i, split)
            messages = env.prompt_messages(task)
            for message in [*messages, env.oracle(task, messages)]:
                chars.update(message.content)
    return "".join(sorted(chars))


def build_tokenizer(alphabet: str) -> PreTrainedTokenizerFast:
    """A character-level tokenizer: one id per character, the chat specials, a chat template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    vocab = {token: i for i, token in enumerate(SPECIALS)}
    for ch in alphabet:
        vocab.setdefault(ch, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<|unk|>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.add_special_tokens(SPECIALS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", unk_token="<|unk|>", eos_token="<|end|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_llama(
    vocab_size: int,
    hidden: int,
    layers: int,
    heads: int,
    seed: int = 0,
    pad_id: int | None = None,
    eos_id: int | None = None,
    positions: int = 512,
) -> LlamaForCausalLM:
    """The one tiny model: a freshly initialised Llama-style transformer (tied embeddings, RoPE), the
    same for the trainers (with a chat tokenizer, `create_tiny_model`) and the distributed LM runner."""
    _quiet()
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=positions,
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def create_tiny_model(
    path: str | Path, env: Environment, hidden: int = 128, layers: int = 3, heads: int = 4, seed: int = 0
) -> Path:
    """Save a freshly initialised tiny Llama-style model and its tokenizer for `env` at `path`."""
    _quiet()
    path = Path(path)
    tokenizer = build_tokenizer(env_alphabet(env))
    model = tiny_llama(len(tokenizer), hidden, layers, heads, seed, tokenizer.pad_token_id, tokenizer.eos_token_id)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "rlhub.json").write_text(json.dumps({"env": env.spec, "config": env.config}, default=str))
    return path


def ensure_model(path: str | Path, env: Environment, tiny: bool, **shape: int) -> Path:
    """`path` itself when it holds a model; else a new tiny model there when allowed."""
    path = Path(path)
    if (path / "config.json").exists():
        return path
    if not tiny:
        raise ConfigError(f"{path} is not a model directory and model.tiny is false")
    return create_tiny_model(path, env, **shape)


def parameter_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = [
    "CHAT_TEMPLATE",
    "Policy",
    "build_tokenizer",
    "create_tiny_model",
    "ensure_model",
    "env_alphabet",
    "load_policy",
    "parameter_count",
    "pick_device",
    "tiny_llama",
]
