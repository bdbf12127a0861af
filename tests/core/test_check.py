import pytest
from tests.core import examples

import rlhub
from rlhub.core.check import check_env


def failed(report: rlhub.CheckReport) -> set[str]:
    return {r.name for r in report.failures()}


def test_a_good_single_turn_env_passes() -> None:
    report = check_env(examples.Add(), n=20)
    assert report.ok, report.failures()
    assert len([r for r in report.results if not r.is_exploit]) == 9


def test_a_good_tool_env_passes() -> None:
    report = check_env(examples.EchoTools(), n=10)
    assert report.ok, report.failures()


def test_catches_a_non_deterministic_generator() -> None:
    assert "deterministic within a process" in failed(check_env(examples.FlakyGenerator(), n=10))


def test_catches_use_of_the_global_rng() -> None:
    assert failed(check_env(examples.GlobalRng(), n=10)) == {"no network or global state while generating"}


def test_catches_a_gold_answer_that_fails_its_own_verifier() -> None:
    report = check_env(examples.WrongGold(), n=10)
    assert "reference answers score the maximum" in failed(report)
    detail = next(r.detail for r in report.results if r.name == "reference answers score the maximum")
    assert "reference scored 0.000" in detail


def test_catches_a_reward_out_of_range() -> None:
    assert "rewards in range" in failed(check_env(examples.OutOfRange(), n=10))


def test_catches_a_verifier_that_accepts_anything() -> None:
    assert failed(check_env(examples.AcceptsAnything(), n=10)) == {"wrong answers score less"}


def test_catches_network_use_while_generating() -> None:
    import contextlib
    import socket

    class Phones(examples.Add):
        def make_task(self, rng):  # type: ignore[no-untyped-def]
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", 9), timeout=0.1)
            return super().make_task(rng)

    report = check_env(Phones(), n=3, target="tests.core.examples:Add")
    assert "no network or global state while generating" in failed(report)


def test_a_child_process_that_cannot_load_the_env_is_reported() -> None:
    report = check_env(examples.Add(), n=3, target="tests.core.no_such_module:Add")
    assert "deterministic across processes" in failed(report)


@pytest.mark.parametrize("n", [5])
def test_config_reaches_the_child_process(n: int) -> None:
    report = check_env(examples.Add(digits=5), n=n)
    assert report.ok, report.failures()
