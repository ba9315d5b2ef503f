"""strangle from Python: profiles, Black-76 pricing and implied volatility, strike selection,
chain files and backtests — the same Rust code the `strangle` engine runs.

Money comes back as :class:`decimal.Decimal` (exact, as the engine computes it); times as
timezone-aware :class:`datetime.datetime` in UTC.

>>> import strangle
>>> p = strangle.Profile(name="btc", contracts_per_leg="10")
>>> p.delta_band
{'low': 0.1, 'high': 0.15}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _strangle
from ._strangle import BacktestError, DataError, ProfileError

__all__ = [
    "Profile",
    "ProfileError",
    "DataError",
    "BacktestError",
    "black76",
    "implied_vol",
    "read_chain_file",
    "Chain",
    "select",
    "Selection",
    "backtest",
    "BacktestResult",
    "__version__",
]

__version__: str = _strangle.__version__

ProfileError.fields = property(  # type: ignore[attr-defined]
    lambda self: list(self.args[1]) if len(self.args) > 1 else [],
    doc="Every invalid field as (field, problem).",
)

# Keys whose values are exact money or sizes (decimal strings in the engine's JSON).
_DECIMAL_KEYS = {
    "spot", "bid", "ask", "mark", "bid_size", "ask_size", "open_interest", "strike", "contract_size",
    "tick_size", "premium", "gross", "fees", "net", "sold", "sold_value", "bought", "bought_value",
    "entry_spot", "trailing_level", "peak_pnl_pct", "trough_pnl_pct", "final_cash", "initial_cash",
    "max_drawdown", "avg_win", "avg_loss", "profit_factor", "win_rate_pct", "value", "from", "to",
    "target", "size", "price", "fee", "limit_price",
    # profile settings
    "contracts_per_leg", "max_loss_pct", "max_profit_pct", "max_spread_pct", "min_open_interest",
    "trigger_pct", "lock_pct", "every_pct", "partial_fill_threshold_pct", "taker_rate_pct",
    "maker_rate_pct", "premium_cap_pct", "tax_pct", "min", "max",
}
_TIME_KEYS = {"timestamp", "expiry", "opened_at", "closed_at", "planned_exit", "at", "first", "last", "created_at"}


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
                return v
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


class Profile:
    """Every setting of one strangle strategy, validated by the engine's own rules.

    Build from keyword arguments (``Profile(name="btc", delta_band={"low": 0.1, "high": 0.15})``),
    a dict (:meth:`from_dict`) or a TOML/JSON file (:meth:`from_file`). An invalid profile raises
    :class:`ProfileError`, whose ``fields`` lists every bad field. Settings read as attributes.
    """

    __slots__ = ("_data",)

    def __init__(self, **settings: Any) -> None:
        self._data: Dict[str, Any] = json.loads(_strangle.profile_from_json(json.dumps(_jsonable(settings))))

    @classmethod
    def from_dict(cls, settings: Dict[str, Any]) -> "Profile":
        """A profile from a dict of settings (missing ones take their defaults)."""
        return cls(**settings)

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "Profile":
        """A profile from a ``.toml`` or ``.json`` file."""
        text = open(path, encoding="utf-8").read()
        p = cls.__new__(cls)
        if str(path).lower().endswith(".json"):
            p._data = json.loads(_strangle.profile_from_json(text))
        else:
            p._data = json.loads(_strangle.profile_from_toml(text))
        return p

    def to_dict(self) -> Dict[str, Any]:
        """Every setting, defaults included (decimals as :class:`~decimal.Decimal`)."""
        return _py(json.loads(json.dumps(self._data)))

    def to_toml(self) -> str:
        """The profile as TOML, as `strangle` reads it."""
        return _strangle.profile_to_toml(json.dumps(self._data))

    def replace(self, **changes: Any) -> "Profile":
        """A copy with some settings changed (validated again)."""
        d = json.loads(json.dumps(self._data))
        d.update(_jsonable(changes))
        return Profile(**d)

    def _json(self) -> str:
        return json.dumps(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _py(self._data[name], name)
        except KeyError:
            raise AttributeError(name) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self._data == other._data

    def __repr__(self) -> str:
        return f"Profile(name={self._data.get('name')!r}, underlying={self._data.get('underlying')!r})"


def _vec(*args: Any) -> tuple:
    """Broadcasts scalars and sequences to lists of one length."""
    seqs = [a for a in args if isinstance(a, (list, tuple)) or hasattr(a, "__len__") and not isinstance(a, str)]
    n = max((len(a) for a in seqs), default=1)
    out = []
    for a in args:
        if isinstance(a, str) or not hasattr(a, "__len__"):
            out.append([a] * n)
        else:
            a = list(a)
            if len(a) != n:
                raise ValueError(f"sequences of different lengths: {len(a)} and {n}")
            out.append(a)
    return tuple(out), not seqs


@dataclass(frozen=True)
class Greeks:
    """Black-76 price and greeks: lists (or floats when every input was a scalar)."""

    price: Any
    delta: Any
    gamma: Any
    vega: Any
    theta: Any


def black76(kind: Union[str, Sequence[str]], forward: Any, strike: Any, years: Any, sigma: Any) -> Greeks:
    """Black-76 with zero rates: price per unit of underlying, delta, gamma, vega per vol point,
    theta per day. Every argument may be a scalar or a sequence (numpy arrays too)."""
    (k, f, s, t, v), scalar = _vec(kind, forward, strike, years, sigma)
    cols = _strangle.black76_many([str(x) for x in k], [float(x) for x in f], [float(x) for x in s],
                                  [float(x) for x in t], [float(x) for x in v])
    if scalar:
        return Greeks(*(c[0] for c in cols))
    return Greeks(*cols)


def implied_vol(kind: Union[str, Sequence[str]], price: Any, forward: Any, strike: Any, years: Any) -> Any:
    """The Black-76 volatility of each price (``None`` where no volatility gives it)."""
    (k, p, f, s, t), scalar = _vec(kind, price, forward, strike, years)
    out = _strangle.implied_vol_many([str(x) for x in k], [float(x) for x in p], [float(x) for x in f],
                                     [float(x) for x in s], [float(x) for x in t])
    return out[0] if scalar else out


class Chain:
    """One option-chain snapshot: ``underlying``, ``timestamp``, ``spot`` and ``entries`` (each
    with ``contract`` and ``quote``)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Dict[str, Any]) -> None:
        self._raw = raw

    @property
    def underlying(self) -> str:
        return self._raw["underlying"]

    @property
    def timestamp(self) -> datetime:
        return _time(self._raw["timestamp"])

    @property
    def spot(self) -> Decimal:
        return Decimal(self._raw["spot"])

    @property
    def entries(self) -> List[Dict[str, Any]]:
        return _py(self._raw["entries"], "entries")

    def __len__(self) -> int:
        return len(self._raw["entries"])

    def to_dict(self) -> Dict[str, Any]:
        return _py(self._raw)

    def records(self) -> List[Dict[str, Any]]:
        """One flat row per contract (for pandas)."""
        rows = []
        for e in self._raw["entries"]:
            c, q = e["contract"], e["quote"]
            g = q.get("greeks") or {}
            rows.append({
                "timestamp": self.timestamp, "underlying": self.underlying, "spot": self.spot,
                "symbol": c["symbol"], "kind": c["kind"], "strike": Decimal(c["strike"]), "expiry": _time(c["expiry"]),
                "bid": Decimal(q["bid"]) if q.get("bid") is not None else None,
                "ask": Decimal(q["ask"]) if q.get("ask") is not None else None,
                "mark": Decimal(q["mark"]), "mark_iv": q.get("mark_iv"), "delta": g.get("delta"),
                "gamma": g.get("gamma"), "vega": g.get("vega"), "theta": g.get("theta"),
            })
        return rows

    def to_pandas(self):  # type: ignore[no-untyped-def]
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame.from_records(self.records())

    def __repr__(self) -> str:
        return f"Chain({self.underlying} {self._raw['timestamp']}, {len(self)} contracts, spot {self._raw['spot']})"


def read_chain_file(path: Union[str, "os.PathLike[str]"]) -> List[Chain]:
    """Every snapshot of a chain file (``#strangle-chain v1``); raises :class:`DataError`
    naming the line and column of the first problem."""
    return [Chain(s) for s in json.loads(_strangle.read_chain_file(os.fspath(path)))]


@dataclass(frozen=True)
class Selection:
    """The outcome of strike selection: the call and put to sell, or why none qualifies."""

    expiry: Optional[datetime]
    call: Optional[Dict[str, Any]]
    put: Optional[Dict[str, Any]]
    reason: Optional[str]

    def __bool__(self) -> bool:
        return self.call is not None


def select(chain: Chain, profile: Profile, now: Optional[datetime] = None) -> Selection:
    """Strike selection exactly as the engine does it, at ``now`` (default: the chain's time)."""
    at = (now or chain.timestamp).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    r = json.loads(_strangle.select(json.dumps(chain._raw), profile._json(), at))
    return Selection(
        expiry=_time(r["expiry"]) if r["expiry"] else None,
        call=_py(r["call"]) if r["call"] else None,
        put=_py(r["put"]) if r["put"] else None,
        reason=r["reason"],
    )


class BacktestResult:
    """A backtest's sessions, KPIs and report."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self._raw = raw

    @property
    def kpis(self) -> Dict[str, Any]:
        """Net, gross, fees, win rate, average win/loss, profit factor, max drawdown, Sharpe,
        Sortino, sessions."""
        return _py(self._raw["report"]["kpis"])

    @property
    def sessions(self) -> List[Dict[str, Any]]:
        """Every session with its legs."""
        return _py(self._raw["result"]["sessions"])

    @property
    def exit_reasons(self) -> Dict[str, int]:
        return dict(self._raw["report"]["exit_reasons"])

    def to_dict(self) -> Dict[str, Any]:
        """Everything: data read, sessions, fills, KPIs, daily PnL and curves."""
        return {"result": _py(self._raw["result"]), "report": _py(self._raw["report"])}

    def records(self) -> List[Dict[str, Any]]:
        """One flat row per session (for pandas)."""
        rows = []
        for s in self.sessions:
            legs = s["legs"]
            rows.append({
                "session_id": s["session_id"], "opened_at": s["opened_at"], "closed_at": s["closed_at"],
                "state": s["state"], "exit_reason": s["exit_reason"],
                "call": legs[0]["symbol"] if legs else None, "put": legs[1]["symbol"] if len(legs) > 1 else None,
                "premium": s["pnl"]["premium"], "gross": s["pnl"]["gross"], "fees": s["pnl"]["fees"], "net": s["pnl"]["net"],
            })
        return rows

    def to_pandas(self):  # type: ignore[no-untyped-def]
        """The sessions as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame.from_records(self.records())

    def legs_csv(self) -> str:
        """One CSV row per leg, as `strangle backtest --csv` writes it."""
        return self._raw["legs_csv"]

    def write_html(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes the standalone HTML report (equity and drawdown curves, no network)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self._raw["html"])

    def __repr__(self) -> str:
        k = self._raw["report"]["kpis"]
        return f"BacktestResult({k['sessions']} sessions, net {k['net']} USD)"


def backtest(profile: Profile, data: Union[str, "os.PathLike[str]"], *, cash: Union[str, Decimal, int] = "10000",
             poll_seconds: int = 60) -> BacktestResult:
    """Backtests ``profile`` on a chain file with the engine, the simulated venue and a
    simulated clock. Releases the GIL while it runs; the same inputs give the same result."""
    raw = _strangle.backtest(profile._json(), os.fspath(data), str(cash), int(poll_seconds))
    return BacktestResult(json.loads(raw))
