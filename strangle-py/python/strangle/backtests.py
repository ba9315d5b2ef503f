"""Backtests and sweeps on recorded, imported or synthetic chains."""

from __future__ import annotations

import concurrent.futures
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _strangle
from ._convert import _existing, _jsonable, _utc
from .profiles import Profile


class BacktestResult:
    """A backtest's sessions, KPIs and report."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self._raw = raw

    @property
    def kpis(self) -> Dict[str, Any]:
        """Net, gross, fees, win rate, average win/loss, profit factor, max drawdown, Sharpe,
        Sortino, sessions."""
        return self._raw["report"]["kpis"]

    @property
    def sessions(self) -> List[Dict[str, Any]]:
        """Every session with its legs."""
        return self._raw["result"]["sessions"]

    @property
    def exit_reasons(self) -> Dict[str, int]:
        """How many sessions ended for each reason (``exit_time``, ``max_loss``, ...)."""
        return dict(self._raw["report"]["exit_reasons"])

    @property
    def stale_quotes(self) -> Dict[str, Any]:
        """How the quote-age rule acted: ``exits_waited`` (sessions whose exit waited for a fresh
        quote), ``longest_exit_wait_secs``, ``orders_waited`` (at the simulated venue) and
        ``model_fills`` (exits priced by Black-76 with ``stale_quotes="model"``)."""
        r = self._raw["report"]
        return {k: r[k] for k in ("exits_waited", "longest_exit_wait_secs", "orders_waited", "model_fills")}

    @property
    def warnings(self) -> List[str]:
        """What the run wants you to know: an ``until`` before the data, a session the data
        ended on (closed at its marks as ``data_end``)."""
        return list(self._raw["result"].get("warnings", []))

    def to_dict(self) -> Dict[str, Any]:
        """Everything: data read, sessions, fills, KPIs, daily PnL and curves."""
        return {"result": self._raw["result"], "report": self._raw["report"]}

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


def _options(cash: Any, poll_seconds: int, until: Optional[datetime], stale_quotes: str) -> str:
    if stale_quotes not in ("wait", "model"):
        raise ValueError(f"stale_quotes must be 'wait' or 'model', not {stale_quotes!r}")
    return json.dumps({"cash": str(cash), "poll_seconds": int(poll_seconds),
                       "until": None if until is None else _jsonable(_utc(until)),
                       "stale_quotes": stale_quotes})


def backtest(profile: Profile, data: Data, *, cash: Union[str, Decimal, int] = "10000", poll_seconds: int = 60,
             until: Optional[datetime] = None, quoted_size: Union[str, Decimal, None] = None,
             iv: Union[str, "os.PathLike[str]", None] = None, start: Optional[datetime] = None,
             stale_quotes: str = "wait") -> BacktestResult:
    """Backtests ``profile`` with the engine, the simulated venue and a simulated clock.

    ``data`` is a file — a chain file (``#strangle-chain v1``, ``.gz`` too), a Deribit snapshot
    CSV (``quoted_size`` coins per side, default 1) or a BTC spot series priced into chains (at
    the DVOL CSV ``iv``, default 30-day realised volatility, between ``start`` and ``until``) —
    or a :class:`Synthetic` market. Nothing fills on a quote older than the profile's
    ``max_quote_age_secs``: an exit waits for a fresh one, or with ``stale_quotes="model"`` fills
    at a Black-76 price (the report counts both). Runs without the GIL; Ctrl-C interrupts it. The
    same inputs give the same result, to the last digit.
    """
    spec = _data_spec(data, quoted_size, iv, start, until if not isinstance(data, Synthetic) else None)
    return BacktestResult(_strangle.backtest(profile._json(), spec, _options(cash, poll_seconds, until, stale_quotes)))


class PortfolioResult:
    """A portfolio backtest: each profile's result, the account risk governor's changes and the
    account's totals."""

    def __init__(self, raw: Dict[str, Any], names: List[str]) -> None:
        self._raw = raw
        self._runs = {n: BacktestResult(r) for n, r in zip(names, raw["runs"])}

    @property
    def runs(self) -> Dict[str, BacktestResult]:
        """Each profile's result, by profile name, in the order given."""
        return dict(self._runs)

    @property
    def transitions(self) -> List[Dict[str, Any]]:
        """Every change of the governor's state (``at``, ``from``, ``to``, ``trigger`` with its
        figures, ``day_pnl``, ``open_pnl``), resets included, in order."""
        return list(self._raw["transitions"])

    @property
    def account(self) -> Dict[str, Any]:
        """The account's KPIs and series over every profile's sessions together, as
        :meth:`Ledger.analytics` gives them: ``net``, ``daily``, ``max_drawdown``, ..."""
        return self._raw["account"]

    @property
    def net(self) -> Decimal:
        """Net PnL of every profile's sessions, USD."""
        return self.account["net"]

    def to_dict(self) -> Dict[str, Any]:
        """Everything: each profile's result and report, the transitions, the account's
        analytics, the limits."""
        return {"runs": {n: r.to_dict() for n, r in self._runs.items()},
                "transitions": self.transitions, "account": self.account, "risk": self._raw["risk"]}

    def __repr__(self) -> str:
        return (f"PortfolioResult({len(self._runs)} profiles, net {self.net} USD, "
                f"{len(self._raw['transitions'])} governor changes)")


def backtest_portfolio(profiles: Sequence[Profile], data: Union[Data, Sequence[Data]], *,
                       risk: Optional[Mapping[str, Any]] = None, reset: str = "next_day",
                       cash: Union[str, Decimal, int] = "10000", poll_seconds: int = 60,
                       until: Optional[datetime] = None, stale_quotes: str = "wait") -> PortfolioResult:
    """Backtests several ``profiles`` (BTC and ETH ones, say) on the same market under one account
    risk governor: ``risk`` holds its limits (``daily_loss_usd``, ``mtm_stop_usd``,
    ``mtm_target_usd``, ``lock``, balance levels, ``basis``), as ``strangle risk limits`` reads
    them. ``data`` is one source or several (a BTC and an ETH source are merged in time order),
    each as :func:`backtest` takes it. A halt lasts until the simulated operator resets it: the
    next trading day (``reset="next_day"``) or never. Each profile has ``cash`` of its own. With
    no limit set every profile's result is its own :func:`backtest`'s. Runs without the GIL;
    Ctrl-C interrupts it.
    """
    sources = list(data) if isinstance(data, (list, tuple)) else [data]
    specs = [_data_spec(d, None, None, None, None) for d in sources]
    names = [p.name for p in profiles]
    raw = _strangle.backtest_portfolio([p._json() for p in profiles], specs,
                                       _options(cash, poll_seconds, until, stale_quotes),
                                       json.dumps(_jsonable(dict(risk or {}))), reset)
    return PortfolioResult(raw, names)


class SweepResult:
    """A sweep's ranked rows (best first: highest net, then smallest drawdown) and the
    profile behind each row."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self._raw = raw

    @property
    def rows(self) -> List[Dict[str, Any]]:
        """``rank``, ``name``, ``params`` (``field=value``), ``kpis`` (or ``None``) and ``error``."""
        return self._raw["rows"]

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
        return {"rows": self.rows, "profiles": dict(self._raw["profiles"])}

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
          start: Optional[datetime] = None, stale_quotes: str = "wait",
          executor: Optional["concurrent.futures.Executor"] = None,
          progress: Optional[Callable[[int, int], None]] = None) -> SweepResult:
    """Backtests every combination of ``grid`` (``{"delta_band.low": [0.1, 0.15], ...}``,
    dotted profile fields to lists of values) over ``profile`` on the same data, on
    ``threads`` worker threads (default: one per core), and ranks them. An invalid field or
    value raises :class:`ProfileError`. Ctrl-C interrupts it.

    With ``executor`` (any :class:`concurrent.futures.Executor`: a
    :class:`~concurrent.futures.ProcessPoolExecutor`, ``dask.distributed.Client(...)
    .get_executor()``, ...) each profile's backtest is one task submitted to it instead; every
    worker must be able to read ``data`` at the same path. The ranking is the in-process
    sweep's, to the last digit. ``progress(done, total)`` is called as tasks finish; Ctrl-C
    (or any error) cancels the tasks not yet started."""
    spec = _data_spec(data, quoted_size, iv, start, until if not isinstance(data, Synthetic) else None)
    g = json.dumps({k: _jsonable(list(v)) for k, v in grid.items()})
    options = _options(cash, poll_seconds, until, stale_quotes)
    if executor is None:
        return SweepResult(_strangle.sweep(profile._json(), g, spec, options, threads))
    plan = _strangle.sweep_plan(profile._json(), g)
    futures: List[concurrent.futures.Future] = []
    try:
        for p in plan:
            futures.append(executor.submit(_sweep_task, p, spec, options))
        for done, _ in enumerate(concurrent.futures.as_completed(futures), start=1):
            if progress is not None:
                progress(done, len(futures))
        outcomes = [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return SweepResult(_strangle.sweep_rank(profile._json(), g, outcomes))


def _sweep_task(profile_json: str, spec: str, options: str) -> str:
    """One profile's backtest in a sweep on an executor (runs in the worker; plain strings in
    and out, so it pickles)."""
    return _strangle.sweep_task(profile_json, spec, options)
