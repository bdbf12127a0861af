"""Where environments are found: the `@environment` decorator, installed packages' entry points
(group `rlhub.environments`, value `module:Class` or a module), and source directories.

`load("owner/name@version", **config)` returns a configured instance. Packages are imported only
when asked for, so listing ids stays cheap and a broken package cannot break another's loading.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tomllib
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from rlhub.core.env import Environment
from rlhub.core.errors import EnvNotFound, RlhubError
from rlhub.core.ids import EnvId, version_key
from rlhub.core.origin import origin

ENTRY_POINT_GROUP = "rlhub.environments"
E = TypeVar("E", bound=type[Environment])

_registry: dict[str, dict[str, type[Environment]]] = {}
_entry_points_loaded: set[str] = set()


def environment(env_id: str, version: str = "0.1.0") -> Callable[[E], E]:
    """Class decorator: give an environment its id and version and register it."""
    parsed = EnvId.parse(f"{env_id}@{version}")

    def decorate(cls: E) -> E:
        cls.id = parsed.base
        cls.version = version
        register(cls)
        return cls

    return decorate


def register(cls: type[Environment]) -> None:
    versions = _registry.setdefault(cls.id, {})
    versions[cls.version] = cls


def _load_entry_points(distribution: str | None = None) -> None:
    """Import installed environment packages (all, or the one whose entry name is `distribution`)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _entry_points_loaded or (distribution and ep.name != distribution):
            continue
        _entry_points_loaded.add(ep.name)
        try:
            ep.load()
        except Exception as exc:
            raise RlhubError(f"environment package {ep.name!r} failed to import: {origin(exc)}") from exc


def registered(include_installed: bool = True) -> list[type[Environment]]:
    """Every known environment class, newest version first within an id."""
    if include_installed:
        _load_entry_points()
    out: list[type[Environment]] = []
    for env_id in sorted(_registry):
        versions = _registry[env_id]
        out.extend(versions[v] for v in sorted(versions, key=version_key, reverse=True))
    return out


def env_class(spec: str) -> type[Environment]:
    """The class for `owner/name[@version]`; without a version, the newest."""
    parsed = EnvId.parse(spec)
    if parsed.base not in _registry:
        _load_entry_points(parsed.distribution)
    versions = _registry.get(parsed.base)
    if not versions:
        raise EnvNotFound(
            f"unknown environment {parsed.base!r}: not registered and no installed package provides it "
            f"(try `rlhub list`, or `rlhub install {parsed.base}`)"
        )
    if parsed.version is None:
        return versions[max(versions, key=version_key)]
    if parsed.version not in versions:
        have = ", ".join(sorted(versions, key=version_key))
        raise EnvNotFound(f"{parsed.base} has no version {parsed.version}; available: {have}")
    return versions[parsed.version]


def load(spec: str, **config: Any) -> Environment:
    """A configured environment: an id (`owner/name[@version]`), a source directory or a `.py` file."""
    if "/" in spec and not Path(spec).exists():
        return env_class(spec)(**config)
    classes = load_path(spec)
    if len(classes) != 1:
        ids = ", ".join(f"{c.id}@{c.version}" for c in classes)
        raise EnvNotFound(f"{spec} defines {len(classes)} environments ({ids}); load one of them by id")
    return classes[0](**config)


def load_path(path: str | Path) -> list[type[Environment]]:
    """Import the environments defined by a package directory (pyproject entry points) or a file."""
    path = Path(path).resolve()
    if not path.exists():
        raise EnvNotFound(f"{path} does not exist; expected an environment id, directory or .py file")
    before = {cls for versions in _registry.values() for cls in versions.values()}
    if path.is_file():
        _import_file(path)
    else:
        _import_project(path)
    found = [cls for versions in _registry.values() for cls in versions.values() if cls not in before]
    if not found:
        raise EnvNotFound(f"no environment is registered by {path} (is the class decorated with @rlhub.environment?)")
    return found


def _import_file(path: Path) -> None:
    name = f"rlhub_local_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EnvNotFound(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def _import_project(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        raise EnvNotFound(f"{root} has no pyproject.toml; is it an environment package?")
    try:
        data = tomllib.loads(pyproject.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise RlhubError(f"{pyproject}: invalid TOML: {exc}") from None
    targets = data.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if not targets:
        raise EnvNotFound(f'{pyproject} declares no [project.entry-points."{ENTRY_POINT_GROUP}"]')
    source = root / "src" if (root / "src").is_dir() else root
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))
    for target in targets.values():
        load_ref(target)


def load_ref(target: str) -> Any:
    """Import `module` or `module:attribute`."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


__all__ = ["ENTRY_POINT_GROUP", "env_class", "environment", "load", "load_path", "load_ref", "register", "registered"]
