"""The distributed-training workloads: shards that never touch the held-out samples, labels where the
loss should be, and a text corpus every machine with Python has."""

from __future__ import annotations

import math

import torch

from rlhub.core.registry import load
from rlhub.train.distributed import lm


def test_training_shards_are_disjoint_and_never_hold_out_indices() -> None:
    seen = [i for step in range(5) for rank in range(2) for i in lm.train_indices(step, rank, 2, 32)]
    assert len(seen) == len(set(seen)) == 320
    assert not set(seen) & set(lm.validation_indices(1000))


def test_arithmetic_labels_only_the_answer() -> None:
    ids, labels = lm.Arithmetic(digits=2).batch([0, 1, 2])
    for row in range(3):
        text = "".join(lm.VOCAB[t] for t in ids[row].tolist()).rstrip("#")
        answer = text.split("=")[1]
        labelled = "".join(lm.VOCAB[t] for t in labels[row].tolist() if t != -100)
        question = text.split("=")[0]
        a, op, b = question.partition("+") if "+" in question else question.partition("-")
        assert labelled == answer and int(answer) == (int(a) + int(b) if op == "+" else int(a) - int(b))


def test_text_validation_windows_come_only_from_the_held_out_tail() -> None:
    corpus = bytes(range(32, 127)) * 200  # 19,000 bytes
    text = lm.Text(corpus, context=16)
    train_ids, train_labels = text.batch(lm.train_indices(0, 0, 1, 64))
    val_ids, _ = text.batch(lm.validation_indices(20))
    assert train_ids.shape == (64, 17) and torch.equal(train_ids, train_labels)
    starts = [text._start(i, 17) for i in lm.train_indices(0, 0, 1, 64)]
    assert all(s + 17 <= text.split for s in starts)
    assert all(text._start(i, 17) >= text.split for i in lm.validation_indices(20))
    assert val_ids.max() < 127


def test_non_ascii_bytes_fold_into_the_vocabulary() -> None:
    ids, _ = lm.Text("naïve café ".encode() * 100, context=8).batch([0, 63])
    assert ids.max() == 127 and ids.min() >= 0


def test_the_stdlib_corpus_is_large_enough_to_train_on() -> None:
    corpus = lm.stdlib_corpus()
    assert len(corpus) > 1_000_000 and b"def " in corpus


def test_an_untrained_model_starts_near_the_uniform_loss() -> None:
    text = lm.Text(lm.stdlib_corpus(), context=32)
    model = lm.tiny_model(text, hidden=32, layers=1)
    with torch.no_grad():
        loss = float(lm.loss_of(model, *text.batch(lm.validation_indices(16))))
    assert abs(loss - math.log(128)) < 0.5


def test_arithmetic_samples_are_the_environments_tasks() -> None:
    workload = lm.Arithmetic(digits=2)
    env = load("rlhub/arithmetic", digits=2, operators="+-", style="equation", instruction=False)
    for index, (split, number) in {5: ("train", 5), 63: ("test", 0), 127: ("test", 1)}.items():
        task = env.task(number, split)
        assert workload.line(index) == f"{task.prompt[-1].content}{task.answer}\n"
