"""Write a new environment package from the templates in `templates/`: `rlhub init` (a generated
example) and `rlhub new --from-data` (questions and answers from a file, in `templates/from_data/`).

Templates use `string.Template` placeholders (`$owner`, `$name`, `$package`, `$distribution`,
`$class_name`, `$env_id`, plus any extra values), so braces in the generated Python need no escaping.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from rlhub.core.errors import RlhubError
from rlhub.core.ids import EnvId

COMMON = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "init.py.tmpl": "src/$package/__init__.py",
}
KINDS = {
    "example": {
        **COMMON,
        "README.md.tmpl": "README.md",
        "env.py.tmpl": "src/$package/env.py",
        "test_env.py.tmpl": "tests/test_$package.py",
    },
    "from_data": {
        **COMMON,
        "from_data/README.md.tmpl": "README.md",
        "from_data/env.py.tmpl": "src/$package/env.py",
        "from_data/test_env.py.tmpl": "tests/test_$package.py",
    },
}


def scaffold(env_id: EnvId, target: Path, kind: str = "example", extra: dict[str, str] | None = None) -> Path:
    """Write the package for `env_id` into `target`; returns the package's source directory."""
    if target.exists() and any(target.iterdir()):
        raise RlhubError(f"{target} already exists and is not empty; choose another --dir")
    values = {
        "owner": env_id.owner,
        "name": env_id.name,
        "package": env_id.package,
        "distribution": env_id.distribution,
        "class_name": "".join(part.capitalize() for part in env_id.name.split("-")),
        "env_id": env_id.base,
        **(extra or {}),
    }
    templates = resources.files("rlhub.cli") / "templates"
    for source, destination in KINDS[kind].items():
        path = target / Template(destination).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(templates.joinpath(source).read_text()).substitute(values))
    return target / "src" / env_id.package


__all__ = ["scaffold"]
