"""Where an error comes from, in one line: `path:line: Type: message`.

An environment author whose `make_task` raises, or whose module does not parse or import, needs the
file and line in their own code, not a 60-line traceback through rlhub, asyncio and importlib. The
line names the innermost frame outside rlhub, the standard library and installed packages (the
innermost frame of all when there is none), and the position a `SyntaxError` reports.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from pathlib import Path

_NOT_YOURS = tuple(
    {str(Path(__file__).parents[1])} | {sysconfig.get_path(p) for p in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def origin(exc: BaseException) -> str:
    """`path:line: Type: message` for `exc` (the first of an exception group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    name = type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_show(exc.filename)}:{exc.lineno}: {name}: {exc.msg}"
    frames = traceback.extract_tb(exc.__traceback__)
    yours = [f for f in frames if not f.filename.startswith(_NOT_YOURS) and not f.filename.startswith("<")]
    message = f"{name}: {exc}" if str(exc) else name
    if not frames:
        return message
    frame = (yours or frames)[-1]
    return f"{_show(frame.filename)}:{frame.lineno}: {message}"


def _show(filename: str) -> str:
    """The path relative to the working directory when it lies below it."""
    path = Path(filename)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(path)


__all__ = ["origin"]
