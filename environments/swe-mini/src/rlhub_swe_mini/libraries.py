"""The libraries swe-mini injects bugs into: each a pinned sdist from the package index.

`modules` are the files mutated; `tests` the test files or folders the library ships, which are the
hidden tests; `scope` maps a mutated module to the tests run for it (default: all of `tests`), so a
large suite (boltons) runs only the tests of the module a bug is in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    filename: str
    sha256: str
    license: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    scope_by_module: bool = False
    """Run only `tests/test_<module stem>*.py` for a bug in `<module>` (modules without one are not mutated)."""


LIBRARIES: dict[str, Library] = {
    lib.name: lib
    for lib in [
        Library(
            "toolz",
            "1.2.0",
            "toolz-1.2.0.tar.gz",
            "9667a038e9d6ecba37995e26cb2f59ec6420b6ad8dd9677de59db9b956b08490",
            "BSD-3-Clause",
            ("toolz/itertoolz.py", "toolz/dicttoolz.py", "toolz/functoolz.py", "toolz/recipes.py"),
            ("toolz/tests",),
        ),
        Library(
            "more-itertools",
            "9.1.0",
            "more-itertools-9.1.0.tar.gz",
            "cabaa341ad0389ea83c17a94566a53ae4c9d07349861ecb14dc6d0345cf9ac5d",
            "MIT",
            ("more_itertools/more.py", "more_itertools/recipes.py"),
            ("tests",),
            scope_by_module=True,
        ),
        Library(
            "inflection",
            "0.5.1",
            "inflection-0.5.1.tar.gz",
            "1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417",
            "MIT",
            ("inflection/__init__.py",),
            ("test_inflection.py",),
        ),
        Library(
            "tabulate",
            "0.9.0",
            "tabulate-0.9.0.tar.gz",
            "0095b12bf5966de529c0feb1fa08671671b3368eec77d7ef7ab114be2c068b3c",
            "MIT",
            ("tabulate/__init__.py",),
            ("test",),
        ),
        Library(
            "boltons",
            "26.2.0",
            "boltons-26.2.0.tar.gz",
            "d39cfd15c1a1c3bd4d705c82252fa9edb8e4f5e8cc039f8e39afac7b1b47e92c",
            "BSD-3-Clause",
            (
                "boltons/cacheutils.py",
                "boltons/dictutils.py",
                "boltons/formatutils.py",
                "boltons/funcutils.py",
                "boltons/iterutils.py",
                "boltons/listutils.py",
                "boltons/mathutils.py",
                "boltons/queueutils.py",
                "boltons/setutils.py",
                "boltons/statsutils.py",
                "boltons/strutils.py",
                "boltons/tableutils.py",
                "boltons/timeutils.py",
                "boltons/urlutils.py",
            ),
            ("tests",),
            scope_by_module=True,
        ),
        Library(
            "idna",
            "3.9",
            "idna-3.9.tar.gz",
            "e5c5dafde284f26e9e0f28f6ea2d6400abd5ca099864a67f576f3981c6476124",
            "BSD-3-Clause",
            ("idna/core.py", "idna/codec.py", "idna/intranges.py"),
            ("tests",),
        ),
    ]
}
