"""strangle from Python: profiles, Black-76 pricing and implied volatility, chains (chain
files and Delta payloads), strike selection, backtests and sweeps, read-only ledgers, and
sim/paper/live trading sessions — the same Rust code the `strangle` engine runs.

Money comes back as :class:`decimal.Decimal` (exact, as the engine computes it); times as
timezone-aware :class:`datetime.datetime` in UTC.

>>> import strangle
>>> p = strangle.Profile(name="btc", contracts_per_leg="10")
>>> p.delta_band
{'low': 0.1, 'high': 0.15}
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from . import _strangle
from ._strangle import BacktestError, DataError, LedgerError, ProfileError, SessionError

__all__ = [
    "Profile",
    "ProfileError",
    "DataError",
    "BacktestError",
    "LedgerError",
    "SessionError",
    "Greeks",
    "black76",
    "implied_vol",
    "read_chain_file",
    "chain_from_delta",
    "Chain",
    "select",
    "Selection",
    "Synthetic",
    "backtest",
    "BacktestResult",
    "sweep",
    "SweepResult",
    "Ledger",
    "Session",
    "LocalServer",
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
        """``BTC`` or ``ETH``."""
        return self._raw["underlying"]

    @property
    def timestamp(self) -> datetime:
        """When the snapshot was taken (UTC)."""
        return _time(self._raw["timestamp"])

    @property
    def spot(self) -> Decimal:
        """The underlying's index price, USD."""
        return Decimal(self._raw["spot"])

    @property
    def entries(self) -> List[Dict[str, Any]]:
        """Every contract with its ``contract`` (symbol, kind, strike, expiry, sizes) and
        ``quote`` (bid, ask, mark, sizes, IVs, greeks)."""
        return _py(self._raw["entries"], "entries")

    def __len__(self) -> int:
        return len(self._raw["entries"])

    def to_dict(self) -> Dict[str, Any]:
        """The whole snapshot (decimals and times typed)."""
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


def _existing(path: Union[str, "os.PathLike[str]"]) -> str:
    """The path as a string; FileNotFoundError when no file is there."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(errno.ENOENT, "no such data file", p)
    return p


def read_chain_file(path: Union[str, "os.PathLike[str]"]) -> List[Chain]:
    """Every snapshot of a chain file (``#strangle-chain v1``, ``.gz`` too); raises
    :class:`DataError` naming the line and column of the first problem. Ctrl-C interrupts it."""
    return [Chain(s) for s in json.loads(_strangle.read_chain_file(_existing(path)))]


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
        """How many sessions ended for each reason (``exit_time``, ``max_loss``, ...)."""
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




@dataclass(frozen=True)
class Synthetic:
    """A seeded synthetic market for backtests: a random walk of ``underlying``'s spot from
    ``spot`` (default 82,000 for BTC, 2,150 for ETH), priced into a full chain with Black-76 at
    ``iv`` every ``step_minutes`` for ``days`` from ``start``. The same seed gives the same
    market, to the last digit."""

    seed: int = 1
    start: datetime = datetime(2026, 1, 5, tzinfo=timezone.utc)
    days: float = 30
    underlying: str = "BTC"
    spot: Optional[float] = None
    iv: float = 0.5
    step_minutes: int = 5
    max_move: float = 0.0015

    def _spec(self) -> Dict[str, Any]:
        if str(self.underlying).upper() not in ("BTC", "ETH"):
            raise ValueError(f"synthetic market: underlying {self.underlying!r}: expected BTC or ETH")
        return {"synthetic": {
            "seed": int(self.seed), "start": _jsonable(_utc(self.start)), "days": float(self.days),
            "underlying": str(self.underlying).upper(), "spot": None if self.spot is None else float(self.spot),
            "iv": float(self.iv), "step_minutes": int(self.step_minutes), "max_move": float(self.max_move),
        }}


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t!r} has no time zone; pass an aware datetime (e.g. tzinfo=timezone.utc)")
    return t.astimezone(timezone.utc)


Data = Union[str, "os.PathLike[str]", Synthetic]


def _data_spec(data: Data, quoted_size: Any, iv: Any, start: Optional[datetime], end: Optional[datetime]) -> str:
    if isinstance(data, Synthetic):
        if iv is not None or start is not None or end is not None or quoted_size is not None:
            raise ValueError("iv, start, end and quoted_size apply to data files; a Synthetic market has its own")
        return json.dumps(data._spec())
    return json.dumps({"file": {
        "path": _existing(data),
        "quoted_size": None if quoted_size is None else str(quoted_size),
        "iv": None if iv is None else _existing(iv),
        "from": None if start is None else _jsonable(_utc(start)),
        "until": None if end is None else _jsonable(_utc(end)),
    }})


def _options(cash: Any, poll_seconds: int, until: Optional[datetime]) -> str:
    return json.dumps({"cash": str(cash), "poll_seconds": int(poll_seconds),
                       "until": None if until is None else _jsonable(_utc(until))})


def backtest(profile: Profile, data: Data, *, cash: Union[str, Decimal, int] = "10000", poll_seconds: int = 60,
             until: Optional[datetime] = None, quoted_size: Union[str, Decimal, None] = None,
             iv: Union[str, "os.PathLike[str]", None] = None, start: Optional[datetime] = None) -> BacktestResult:
    """Backtests ``profile`` with the engine, the simulated venue and a simulated clock.

    ``data`` is a file — a chain file (``#strangle-chain v1``, ``.gz`` too), a Deribit snapshot
    CSV (``quoted_size`` coins per side, default 1) or a BTC spot series priced into chains (at
    the DVOL CSV ``iv``, default 30-day realised volatility, between ``start`` and ``until``) —
    or a :class:`Synthetic` market. Runs without the GIL; Ctrl-C interrupts it. The same inputs
    give the same result, to the last digit.
    """
    spec = _data_spec(data, quoted_size, iv, start, until if not isinstance(data, Synthetic) else None)
    raw = _strangle.backtest(profile._json(), spec, _options(cash, poll_seconds, until))
    return BacktestResult(json.loads(raw))


class SweepResult:
    """A sweep's ranked rows (best first: highest net, then smallest drawdown) and the
    profile behind each row."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self._raw = raw

    @property
    def rows(self) -> List[Dict[str, Any]]:
        """``rank``, ``name``, ``params`` (``field=value``), ``kpis`` (or ``None``) and ``error``."""
        return _py(self._raw["rows"])

    @property
    def best(self) -> Dict[str, Any]:
        """The first-ranked row."""
        return self.rows[0]

    def profile(self, name: str) -> Profile:
        """The profile a row ran (``best["name"]``, say)."""
        try:
            return Profile.from_dict(self._raw["profiles"][name])
        except KeyError:
            raise KeyError(f"no profile {name!r} in this sweep") from None

    def records(self) -> List[Dict[str, Any]]:
        """One flat row per profile, KPIs as columns (for pandas)."""
        out = []
        for r in self.rows:
            row = {"rank": r["rank"], "name": r["name"], "params": r["params"], "error": r["error"]}
            row.update(r["kpis"] or {})
            out.append(row)
        return out

    def to_dict(self) -> Dict[str, Any]:
        """The ranked rows and every profile's settings."""
        return {"rows": self.rows, "profiles": {k: Profile.from_dict(v).to_dict() for k, v in self._raw["profiles"].items()}}

    def to_pandas(self):  # type: ignore[no-untyped-def]
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame.from_records(self.records())

    def __len__(self) -> int:
        return len(self._raw["rows"])

    def __repr__(self) -> str:
        b = self._raw["rows"][0] if self._raw["rows"] else None
        best = f", best {b['name']} ({b['params']})" if b else ""
        return f"SweepResult({len(self)} profiles{best})"


def sweep(profile: Profile, grid: Mapping[str, Sequence[Any]], data: Data, *, threads: Optional[int] = None,
          cash: Union[str, Decimal, int] = "10000", poll_seconds: int = 60, until: Optional[datetime] = None,
          quoted_size: Union[str, Decimal, None] = None, iv: Union[str, "os.PathLike[str]", None] = None,
          start: Optional[datetime] = None) -> SweepResult:
    """Backtests every combination of ``grid`` (``{"delta_band.low": [0.1, 0.15], ...}``,
    dotted profile fields to lists of values) over ``profile`` on the same data, on
    ``threads`` worker threads (default: one per core), and ranks them. An invalid field or
    value raises :class:`ProfileError`. Ctrl-C interrupts it."""
    spec = _data_spec(data, quoted_size, iv, start, until if not isinstance(data, Synthetic) else None)
    g = json.dumps({k: _jsonable(list(v)) for k, v in grid.items()})
    raw = _strangle.sweep(profile._json(), g, spec, _options(cash, poll_seconds, until), threads)
    return SweepResult(json.loads(raw))


def _payload_text(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, os.PathLike):
        with open(v, encoding="utf-8") as f:
            return f.read()
    return str(v)


def chain_from_delta(tickers: Any, products: Any, underlying: str = "BTC") -> Chain:
    """The chain of ``underlying`` from Delta's ``GET /v2/tickers`` and ``GET /v2/products``
    answers — JSON text, parsed JSON (the envelope or its ``result`` list) or a file path —
    built exactly as the live adapter builds it. Raises :class:`DataError` naming a malformed
    item."""
    raw = _strangle.chain_from_delta(_payload_text(tickers), _payload_text(products), underlying)
    return Chain(json.loads(raw))


_STATES = ("entering", "open", "exiting", "closed")


def _filter(profile: Optional[str], since: Optional[datetime], until: Optional[datetime], state: Optional[str],
            limit: Optional[int], offset: Optional[int]) -> str:
    if state is not None and state not in _STATES:
        raise ValueError(f"state {state!r}: expected one of {', '.join(_STATES)}")
    return json.dumps({
        "profile": profile, "from": None if since is None else _jsonable(_utc(since)),
        "to": None if until is None else _jsonable(_utc(until)), "state": state, "limit": limit, "offset": offset,
    })


class Ledger:
    """A strangle ledger opened **read-only**: a SQLite file path or a ``postgres://`` URL
    (``schema`` picks a PostgreSQL schema). Nothing is created or migrated, and the database
    itself refuses writes. Raises :class:`LedgerError` when it cannot be opened.

    >>> with strangle.Ledger("strangle.db") as ledger:      # doctest: +SKIP
    ...     ledger.sessions(profile="btc")[0]["pnl"]["net"]
    """

    def __init__(self, location: Union[str, "os.PathLike[str]"], *, schema: Optional[str] = None) -> None:
        self._native: Any = _strangle.NativeLedger(os.fspath(location), schema)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgres``."""
        return self._native.backend()

    def sessions(self, *, profile: Optional[str] = None, since: Optional[datetime] = None,
                 until: Optional[datetime] = None, state: Optional[str] = None, limit: Optional[int] = None,
                 offset: Optional[int] = None) -> List[Dict[str, Any]]:
        """Sessions with their legs and PnL, newest first. Without ``limit``, every matching
        session; with it, one page (``limit`` 1–1000 from ``offset``). ``state`` is one of
        ``entering``, ``open``, ``exiting``, ``closed``."""
        f = _filter(profile, since, until, state, limit, offset)
        if limit is None and offset is None:
            return list(reversed(_py(json.loads(self._native.all_sessions(f)))))
        return _py(json.loads(self._native.sessions(f)))["items"]

    def session(self, session_id: str) -> Optional[Dict[str, Any]]:
        """One session with ``session`` (legs, PnL), ``orders`` (with client order ids),
        ``fills`` and ``events`` (the audit trail); ``None`` when unknown."""
        raw = self._native.session(session_id)
        return None if raw is None else _py(json.loads(raw))

    def legs(self, session_id: str) -> List[Dict[str, Any]]:
        """A session's legs."""
        return self._detail(session_id)["session"]["legs"]

    def orders(self, session_id: str) -> List[Dict[str, Any]]:
        """A session's orders, oldest first."""
        return self._detail(session_id)["orders"]

    def fills(self, session_id: str) -> List[Dict[str, Any]]:
        """A session's fills, oldest first."""
        return self._detail(session_id)["fills"]

    def _detail(self, session_id: str) -> Dict[str, Any]:
        d = self.session(session_id)
        if d is None:
            raise KeyError(f"no session {session_id!r} in this ledger")
        return d

    def analytics(self, *, profile: Optional[str] = None, since: Optional[datetime] = None,
                  until: Optional[datetime] = None) -> Dict[str, Any]:
        """KPIs and series over the closed sessions: net, win rate, profit factor, drawdown,
        cumulative PnL, rolling win rate, histogram."""
        return _py(json.loads(self._native.analytics(_filter(profile, since, until, None, None, None))))

    def sessions_csv(self, *, profile: Optional[str] = None, since: Optional[datetime] = None,
                     until: Optional[datetime] = None) -> str:
        """The sessions as CSV, one row per session with both legs."""
        return self._native.sessions_csv(_filter(profile, since, until, None, None, None))

    def profiles(self) -> List[Dict[str, Any]]:
        """Stored profiles: ``id``, ``active``, ``created_at``, ``updated_at`` and ``profile``
        (a :class:`Profile`)."""
        out = []
        for p in json.loads(self._native.profiles()):
            settings = p.pop("profile")
            row = _py(p)
            row["profile"] = Profile.from_dict(settings)
            out.append(row)
        return out

    def records(self, **filters: Any) -> List[Dict[str, Any]]:
        """One flat row per session (for pandas); takes the filters of :meth:`sessions`."""
        rows = []
        for s in self.sessions(**filters):
            legs = s.get("legs") or []
            rows.append({
                "session_id": s["session_id"], "profile": s["profile"], "mode": s["mode"], "state": s["state"],
                "opened_at": s["opened_at"], "closed_at": s["closed_at"], "exit_reason": s["exit_reason"],
                "call": legs[0]["symbol"] if legs else None, "put": legs[1]["symbol"] if len(legs) > 1 else None,
                "premium": s["pnl"]["premium"], "gross": s["pnl"]["gross"], "fees": s["pnl"]["fees"], "net": s["pnl"]["net"],
            })
        return rows

    def to_pandas(self, **filters: Any):  # type: ignore[no-untyped-def]
        """The sessions as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame.from_records(self.records(**filters))

    def close(self) -> None:
        """Closes the connections (also done when the object goes away)."""
        self._native = None

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.backend})" if self._native is not None else "Ledger(closed)"


class LocalServer:
    """The Delta-compatible market, served on loopback by this process: the same REST and
    WebSocket API as Delta Exchange, a seeded synthetic BTC/ETH market, and the demo account
    (``api_key``/``api_secret``, public and never valid on Delta). Point a paper or live
    :class:`Session` at ``url`` to try them with no network and no money.

    ``speed``/``start`` run the market on a shifted, sped-up clock; paper and live sessions on
    this market follow its clock (read from ``GET /v2/settings``), so ``start`` decides the
    time for them too, whatever the hour."""

    def __init__(self, *, seed: int = 1, port: int = 0, speed: Optional[float] = None,
                 start: Optional[datetime] = None) -> None:
        self._native: Any = _strangle.NativeLocalServer(int(seed), int(port), speed,
                                                         None if start is None else _jsonable(_utc(start)))

    @property
    def url(self) -> str:
        """The REST base URL; pass it as a session's ``env``."""
        return self._native.url

    @property
    def api_key(self) -> str:
        """The demo API key the market accepts."""
        return self._native.api_key

    @property
    def api_secret(self) -> str:
        """The demo secret (public)."""
        return self._native.api_secret

    def deadman_armed(self) -> bool:
        """Whether a live session armed the dead-man switch on this market."""
        return self._native.deadman_armed()

    def shutdown(self) -> None:
        """Stops serving."""
        self._native.shutdown()

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"LocalServer({self.url})"


class Session:
    """A trading session: one profile's engine on a simulated, paper or live market, running
    in the background of this process.

    Start one with :meth:`sim`, :meth:`paper` or :meth:`live` (or their ``*_async``
    counterparts in asyncio code); read :meth:`status`; end it with :meth:`stop` (flatten,
    then stop), :meth:`panic` (cancel and market-close everything) and :meth:`wait`. With a
    ``ledger`` (SQLite path or ``postgres://`` URL) every order, fill and session is recorded
    there, and the profile's lease keeps a second engine off it; without one, a memory ledger
    is used. Used as a context manager, the session is stopped and waited for on exit; a
    session that is garbage-collected while running is stopped too.
    """

    def __init__(self, native: Any) -> None:
        self._native = native

    @classmethod
    def _start(cls, profile: Profile, market: Dict[str, Any], ledger: Any, schema: Optional[str],
               poll_seconds: Optional[int], adopt: bool, api_key: Optional[str] = None,
               api_secret: Optional[str] = None) -> "Session":
        location = None if ledger is None else os.fspath(ledger)
        return cls(_strangle.NativeSession.start(profile._json(), json.dumps(market), location, schema,
                                                 poll_seconds, adopt, api_key, api_secret))

    @classmethod
    def sim(cls, profile: Profile, *, seed: int = 1, speed: Optional[float] = None, start: Optional[datetime] = None,
            fast_forward: Optional[Union[float, "timedelta"]] = None, ledger: Any = None, schema: Optional[str] = None,
            poll_seconds: Optional[int] = None) -> "Session":
        """A session on the simulated market (in-process, no network, no keys): in real time,
        sped up ``speed`` times from ``start``, or ``fast_forward`` (hours or a timedelta) of
        simulated time run as fast as possible, after which the engine ends by itself."""
        hours = None
        if fast_forward is not None:
            hours = fast_forward.total_seconds() / 3600 if hasattr(fast_forward, "total_seconds") else float(fast_forward)
        market = {"kind": "sim", "seed": int(seed), "speed": speed,
                  "start": None if start is None else _jsonable(_utc(start)), "fast_forward_hours": hours}
        return cls._start(profile, market, ledger, schema, poll_seconds, False)

    @classmethod
    def paper(cls, profile: Profile, *, env: str = "india-testnet", cash: Union[str, Decimal, int] = "10000",
              ledger: Any = None, schema: Optional[str] = None, poll_seconds: Optional[int] = None) -> "Session":
        """A session on Delta's market data (``env``: ``india``, ``india-testnet``, ``global``,
        ``global-testnet`` or a base URL such as a :class:`LocalServer`'s) with simulated fills."""
        market = {"kind": "paper", "env": env, "cash": str(cash)}
        return cls._start(profile, market, ledger, schema, poll_seconds, False)

    @classmethod
    def live(cls, profile: Profile, *, env: str, confirm_live: bool = False, api_key: Optional[str] = None,
             api_secret: Optional[str] = None, ledger: Any = None, schema: Optional[str] = None,
             poll_seconds: Optional[int] = None, adopt: bool = False) -> "Session":
        """A session sending **real orders** to ``env``, with the dead-man switch armed.
        Refused unless ``confirm_live=True``. Credentials come from ``api_key``/``api_secret``
        or the environment (``STRANGLE_DELTA_API_KEY``/``STRANGLE_DELTA_API_SECRET`` or
        ``STRANGLE_DELTA_CREDENTIALS_FILE``); the secret is never printed, logged or stored."""
        market = {"kind": "live", "env": env, "confirm": bool(confirm_live)}
        return cls._start(profile, market, ledger, schema, poll_seconds, adopt, api_key, api_secret)

    @classmethod
    async def sim_async(cls, profile: Profile, **kwargs: Any) -> "Session":
        """:meth:`sim` without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, lambda: cls.sim(profile, **kwargs))

    @classmethod
    async def paper_async(cls, profile: Profile, **kwargs: Any) -> "Session":
        """:meth:`paper` without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, lambda: cls.paper(profile, **kwargs))

    @classmethod
    async def live_async(cls, profile: Profile, **kwargs: Any) -> "Session":
        """:meth:`live` without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, lambda: cls.live(profile, **kwargs))

    @property
    def mode(self) -> str:
        """``sim``, ``paper`` or ``live``."""
        return self._native.mode

    def status(self) -> Dict[str, Any]:
        """The latest heartbeat: ``phase``, ``session_id``, ``legs`` (strike, entry, mark, PnL),
        ``pnl``, ``pnl_pct``, ``trailing_level``, ``spot``, ``next_entry``, ``planned_exit``…"""
        return _py(json.loads(self._native.status()))

    @property
    def running(self) -> bool:
        """Whether the engine is still running."""
        return self._native.running()

    def stop(self) -> bool:
        """Flattens open legs, then stops. ``False`` if the engine had already ended."""
        return self._native.stop()

    def panic(self) -> bool:
        """Cancels working orders and market-closes everything, then stops."""
        return self._native.panic()

    def restart(self) -> bool:
        """Reloads the strategy from the ledger without flattening."""
        return self._native.restart()

    def wait(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """Waits for the engine to end (at most ``timeout`` seconds) and returns its last
        heartbeat, or ``None`` on timeout. Raises :class:`SessionError` if it ended with an
        error. Ctrl-C interrupts the wait, not the session."""
        raw = self._native.wait(timeout)
        return None if raw is None else _py(json.loads(raw))

    async def wait_async(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """:meth:`wait` without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.wait, timeout)

    def watch(self, interval: float = 1.0) -> Iterator[Dict[str, Any]]:
        """Yields the heartbeat every ``interval`` seconds while the engine runs, then the last one."""
        while True:
            last = self.wait(interval)
            if last is not None:
                yield last
                return
            yield self.status()

    async def watch_async(self, interval: float = 1.0) -> AsyncIterator[Dict[str, Any]]:
        """:meth:`watch` for ``async for``: the event loop keeps running between heartbeats."""
        while True:
            last = await self.wait_async(interval)
            if last is not None:
                yield last
                return
            yield self.status()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.wait()

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.stop()
        await self.wait_async()

    def __repr__(self) -> str:
        st = self.status()
        return f"Session({st['profile']!r} {self.mode} {st['phase']})"
