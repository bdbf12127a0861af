"""`rlhub init`: write a new environment package from the templates in `templates/`.

Templates use `string.Template` placeholders (`$owner`, `$name`, `$package`, `$distribution`,
`$class_name`, `$env_id`), so braces in the generated Python need no escaping.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from rlhub.core.errors import RlhubError
from rlhub.core.ids import EnvId

FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "init.py.tmpl": "src/$package/__init__.py",
    "env.py.tmpl": "src/$package/env.py",
    "test_env.py.tmpl": "tests/test_$package.py",
}


def scaffold(env_id: EnvId, target: Path) -> list[Path]:
    if target.exists() and any(target.iterdir()):
        raise RlhubError(f"{target} already exists and is not empty; choose another --dir")
    values = {
        "owner": env_id.owner,
        "name": env_id.name,
        "package": env_id.package,
        "distribution": env_id.distribution,
        "class_name": "".join(part.capitalize() for part in env_id.name.split("-")) or "Env",
        "env_id": env_id.base,
    }
    templates = resources.files("rlhub.cli") / "templates"
    written = []
    for source, destination in FILES.items():
        path = target / Template(destination).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(templates.joinpath(source).read_text()).substitute(values))
        written.append(path)
    return written


__all__ = ["scaffold"]
