"""The wheel setuptools builds must carry every data file rlhub reads at run time (templates, pages, data)."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_data_patterns_cover_every_data_file_in_the_source_tree() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    source = ROOT / "src" / "rlhub"
    data_files = [p for p in source.rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}]
    missed = [
        str(p.relative_to(source)) for p in data_files if not any(fnmatch.fnmatch(p.name, pat) for pat in patterns)
    ]
    assert data_files
    assert missed == []
