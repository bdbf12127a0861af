"""Project names: PEP 503 normalisation, the owner-name grammar, and confusable look-alikes.

Two names are confusable when their *skeletons* are equal: lowercase, separators dropped, and
characters that read alike folded together (0/o, 1/l/i, rn/m, vv/w). `acme-invoice` and
`acrne-lnvoice` share a skeleton, so the second cannot be registered once the first exists.
"""

from __future__ import annotations

import re

from packaging.utils import InvalidName, canonicalize_name

from rlhub.core.errors import InvalidId
from rlhub.core.ids import EnvId

_SEPARATORS = re.compile(r"[-_.]+")
_FOLDS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"))


def normalize(name: str) -> str:
    """PEP 503: lowercase, runs of `-_.` become one `-` (`packaging.utils.canonicalize_name`)."""
    return str(canonicalize_name(name))


def skeleton(name: str) -> str:
    text = _SEPARATORS.sub("", name.lower())
    for seq, repl in _FOLDS:
        text = text.replace(seq, repl)
    return text


def split_distribution(name: str) -> EnvId:
    """`owner-name` (any PEP 503 spelling) -> EnvId(owner, name); raises InvalidId with the rule broken."""
    try:
        owner, dash, rest = canonicalize_name(name, validate=True).partition("-")
    except InvalidName:
        raise InvalidId(f"{name!r} is not a valid distribution name (PEP 508)") from None
    if not dash or not rest:
        raise InvalidId(f"{name!r}: a hub distribution is named owner-name, e.g. acme-invoice-math")
    return EnvId.parse(f"{owner}/{rest}")


__all__ = ["normalize", "skeleton", "split_distribution"]
