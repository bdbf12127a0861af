"""Models: the tiny model and any saved HF directory load through one path; sampling agrees with training."""

import asyncio

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from rlhub.core.errors import ConfigError
from rlhub.core.types import Message, Sampling
from rlhub.train.client import LocalModelClient
from rlhub.train.generate import completion_logprobs, sample
from rlhub.train.modeling import build_tokenizer, load_policy, parameter_count


def test_character_tokenizer_round_trips_and_renders_chat(add_env):
    tokenizer = build_tokenizer("0123456789+=")
    ids = tokenizer("12+30=", add_special_tokens=False)["input_ids"]
    assert len(ids) == 6
    assert tokenizer.decode(ids) == "12+30="
    chat = [{"role": "user", "content": "1+1="}]
    text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    assert text == "<|user|>1+1=<|end|><|assistant|>"


def test_tiny_model_directory_loads_like_any_model(tiny_path, add_env):
    policy = load_policy(tiny_path, "cpu")
    assert 10_000 < parameter_count(policy.model) < 100_000
    task = add_env.task(0)
    _, completion = policy.encode_example(add_env.prompt_messages(task), Message.assistant(task.answer))
    assert policy.decode(completion) == task.answer
    assert completion[-1] == policy.tokenizer.eos_token_id  # the model learns to stop


def test_a_model_saved_with_save_pretrained_loads(tmp_path):
    tokenizer = build_tokenizer("abc")
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
    )
    LlamaForCausalLM(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    policy = load_policy(tmp_path, "auto")
    assert policy.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert tokenizer.eos_token_id in policy.stop_ids  # plus the generation config's eos ids
    with pytest.raises(ConfigError, match="not a Hugging Face model"):
        load_policy(tmp_path / "missing")


def test_sampled_logprobs_equal_the_training_forward(tiny_path):
    policy = load_policy(tiny_path, "cpu")
    prompts = [[3, 9, 10, 11], [3, 12], [3, 13, 14, 9, 9, 10]]
    generator = torch.Generator().manual_seed(0)
    out = sample(policy, prompts, max_tokens=5, temperature=0.7, generator=generator)
    logps, mask = completion_logprobs(policy, prompts, [g.ids for g in out], temperature=0.7)
    for row, g in enumerate(out):
        torch.testing.assert_close(logps[row, : len(g.ids)], torch.tensor(g.logprobs), atol=1e-4, rtol=1e-4)
        assert mask[row].sum() == len(g.ids)


def test_greedy_sampling_is_deterministic_and_padding_free(tiny_path):
    policy = load_policy(tiny_path, "cpu")
    alone = sample(policy, [[3, 9, 10]], max_tokens=4, temperature=0.0)[0]
    batched = sample(policy, [[3, 9, 12, 13, 14, 11], [3, 9, 10]], max_tokens=4, temperature=0.0)[1]
    assert alone.ids == batched.ids  # left padding does not change a row's result


async def test_client_batches_concurrent_requests_and_returns_tokens(tiny_path):
    policy = load_policy(tiny_path, "cpu")
    client = LocalModelClient(policy, max_tokens=4, generator=torch.Generator().manual_seed(1))
    calls = []
    original = client._run

    def spy(requests, temperature, max_tokens):
        calls.append(len(requests))
        return original(requests, temperature, max_tokens)

    client._run = spy

    async def one(i):
        [completion] = await client.complete([Message.user(f"{i}+1=")], sampling=Sampling(temperature=1.0))
        return i, completion

    results = await asyncio.gather(*(one(i) for i in range(10)))
    assert calls == [10]
    for i, completion in results:
        assert list(completion.prompt_token_ids) == policy.encode_prompt([Message.user(f"{i}+1=")])
        assert policy.decode(list(completion.token_ids)) == completion.message.content
        assert completion.usage.completion_tokens == len(completion.token_ids) == len(completion.logprobs) <= 4


def test_shared_prompts_give_the_same_logprobs_and_gradients(tiny_path):
    policy = load_policy(tiny_path, "cpu")
    prompts = [[3, 9, 10, 11]] * 3 + [[3, 12]] * 2 + [[3, 13, 14, 9, 9, 10]]
    completions = [[9, 6], [10, 11, 12, 6], [13], [9, 9, 9, 6], [11, 6], [12, 6]]
    results = []
    for share in (True, False):
        policy.model.zero_grad()
        logps, mask = completion_logprobs(policy, prompts, completions, 0.8, share_prompts=share)
        (logps * mask).sum().backward()
        results.append((logps * mask, [p.grad.clone() for p in policy.model.parameters()]))
    (shared, shared_grads), (plain, plain_grads) = results
    torch.testing.assert_close(shared, plain, atol=1e-5, rtol=1e-5)
    for a, b in zip(shared_grads, plain_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_repeated_prompts_share_one_prefill_and_sample_consistently(tiny_path):
    policy = load_policy(tiny_path, "cpu")
    prompts = [[3, 9, 10, 11]] * 4 + [[3, 12]] * 4
    out = sample(policy, prompts, max_tokens=5, temperature=1.0, generator=torch.Generator().manual_seed(3))
    logps, _ = completion_logprobs(policy, prompts, [g.ids for g in out], share_prompts=False)
    for row, g in enumerate(out):
        torch.testing.assert_close(logps[row, : len(g.ids)], torch.tensor(g.logprobs), atol=1e-4, rtol=1e-4)
    greedy = sample(policy, prompts, max_tokens=5, temperature=0.0)
    assert greedy[0].ids == greedy[3].ids == sample(policy, [prompts[0]], 5, 0.0)[0].ids
