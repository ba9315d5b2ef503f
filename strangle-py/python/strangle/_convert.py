"""Python values into the engine's JSON (decimals and times as text), and paths checked.

The other way, the engine types its answers itself (``strangle-py/src/topy.rs``): a
``Decimal`` field arrives as :class:`~decimal.Decimal`, a time as an aware ``datetime``."""

from __future__ import annotations

import errno
import json
import os
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Union


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t!r} has no time zone; pass an aware datetime (e.g. tzinfo=timezone.utc)")
    return t.astimezone(timezone.utc)


def _existing(path: Union[str, "os.PathLike[str]"]) -> str:
    """The path as a string; FileNotFoundError when no file is there."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(errno.ENOENT, "no such data file", p)
    return p


def _payload_text(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, os.PathLike):
        with open(v, encoding="utf-8") as f:
            return f.read()
    return str(v)
