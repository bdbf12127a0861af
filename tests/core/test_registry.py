from pathlib import Path

import pytest
from tests.core import examples

import rlhub
from rlhub.core.errors import InvalidId
from rlhub.core.ids import EnvId, version_key
from rlhub.core.registry import env_class, load, load_path


def test_load_by_id_picks_the_newest_version_or_the_one_asked() -> None:
    assert type(load("tests/add")) is examples.Add
    assert type(load("tests/add@0.9.0")) is examples.OldAdd
    assert load("tests/add", digits=3).digits == 3


def test_unknown_ids_and_versions_say_what_exists() -> None:
    with pytest.raises(rlhub.EnvNotFound, match="unknown environment 'tests/nope'"):
        env_class("tests/nope")
    with pytest.raises(rlhub.EnvNotFound, match=r"available: 0\.9\.0, 1\.0\.0"):
        env_class("tests/add@2.0.0")


def test_installed_packages_load_through_entry_points() -> None:
    env = load("rlhub/arithmetic", digits=2)
    assert env.id == "rlhub/arithmetic" and env.digits == 2


@pytest.mark.parametrize(
    "text", ["acme", "Acme/x", "ac-me/x", "acme/-x", "acme/x-", "acme/x_y", "acme/x@", "acme/x@v1"]
)
def test_invalid_ids(text: str) -> None:
    with pytest.raises(rlhub.core.InvalidId):
        EnvId.parse(text)


def test_id_forms() -> None:
    parsed = EnvId.parse("acme/invoice-math@1.2.0")
    assert (parsed.distribution, parsed.package, str(parsed)) == (
        "acme-invoice-math",
        "acme_invoice_math",
        "acme/invoice-math@1.2.0",
    )
    assert sorted(["1.10.0", "1.2.0", "1.2.0rc1"], key=version_key) == ["1.2.0rc1", "1.2.0", "1.10.0"]


def test_load_a_single_file(tmp_path: Path) -> None:
    source = tmp_path / "my_env.py"
    source.write_text(
        "import rlhub\n"
        "@rlhub.environment('files/one', version='0.1.0')\n"
        "class One(rlhub.SingleTurnEnv):\n"
        "    rubric = rlhub.Rubric(x=lambda r, ref: r == ref)\n"
        "    def make_task(self, rng):\n"
        "        return rlhub.Task(prompt='p', answer=str(rng.random()))\n"
    )
    assert load(str(source)).id == "files/one"


def test_load_path_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(rlhub.EnvNotFound, match="does not exist"):
        load_path(tmp_path / "missing")
    with pytest.raises(rlhub.EnvNotFound, match="no pyproject"):
        load_path(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    with pytest.raises(rlhub.EnvNotFound, match="declares no"):
        load_path(tmp_path)


def test_versions_order_as_pep440_says() -> None:
    # A post-release follows its release; dev and pre-releases precede it (PEP 440, as pip and the hub order them).
    versions = ["1.0.post1", "1.0", "1.0rc1", "1.0.dev0", "1.0a1", "0.9"]
    assert sorted(versions, key=version_key) == ["0.9", "1.0.dev0", "1.0a1", "1.0rc1", "1.0", "1.0.post1"]


def test_an_id_with_a_non_pep440_version_is_refused() -> None:
    with pytest.raises(InvalidId, match="PEP 440"):
        EnvId.parse("acme/pkg@1.0~beta")
