"""The engine's JSON made Pythonic and back: decimals and times typed, paths checked."""

from __future__ import annotations

import errno
import json
import os
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Union


# Keys whose values are exact money or sizes (decimal strings in the engine's JSON).
_DECIMAL_KEYS = {
    "spot", "bid", "ask", "mark", "bid_size", "ask_size", "open_interest", "strike", "contract_size",
    "tick_size", "premium", "gross", "fees", "net", "sold", "sold_value", "bought", "bought_value",
    "entry_spot", "trailing_level", "peak_pnl_pct", "trough_pnl_pct", "final_cash", "initial_cash",
    "max_drawdown", "avg_win", "avg_loss", "profit_factor", "win_rate_pct", "value", "from", "to",
    "target", "size", "price", "fee", "limit_price", "available", "balance", "distance_pct", "filled_size",
    "max_drawdown_pct", "max_profit_pct", "open", "pnl", "pnl_pct", "spot_high", "spot_low", "entry_price",
    # profile settings
    "contracts_per_leg", "max_loss_pct", "max_profit_pct", "max_spread_pct", "min_open_interest",
    "trigger_pct", "lock_pct", "every_pct", "partial_fill_threshold_pct", "taker_rate_pct",
    "maker_rate_pct", "premium_cap_pct", "tax_pct", "min", "max",
}
_TIME_KEYS = {"timestamp", "expiry", "opened_at", "closed_at", "planned_exit", "at", "first", "last", "created_at",
              "updated_at", "next_entry", "from", "to", "date"}


def _time(v: str) -> datetime:
    return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(timezone.utc)


def _py(v: Any, key: str = "") -> Any:
    """The engine's JSON made Pythonic: decimals and times typed."""
    if isinstance(v, dict):
        return {k: _py(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_py(x, key) for x in v]
    if isinstance(v, str):
        if key in _DECIMAL_KEYS:
            try:
                return Decimal(v)
            except Exception:
                pass
        if key in _TIME_KEYS:
            try:
                return _time(v)
            except ValueError:
                return v
    return v


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
