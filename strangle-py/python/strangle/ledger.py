"""Ledgers opened read-only: sessions, analytics and profiles."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any, Dict, List, Optional, Union

from . import _strangle
from ._convert import _jsonable, _utc
from .profiles import Profile


_STATES = ("entering", "open", "exiting", "closed")


_MODES = ("live", "rehearsal", "paper", "sim", "backtest")


def _filter(profile: Optional[str], since: Optional[datetime], until: Optional[datetime], state: Optional[str],
            limit: Optional[int], offset: Optional[int], mode: Optional[str] = None) -> str:
    if state is not None and state not in _STATES:
        raise ValueError(f"state {state!r}: expected one of {', '.join(_STATES)}")
    if mode is not None and mode not in _MODES:
        raise ValueError(f"mode {mode!r}: expected one of {', '.join(_MODES)} or 'all'")
    return json.dumps({
        "profile": profile, "from": None if since is None else _jsonable(_utc(since)),
        "to": None if until is None else _jsonable(_utc(until)), "state": state, "mode": mode,
        "limit": limit, "offset": offset,
    })


class Ledger:
    """A strangle ledger opened **read-only**: a SQLite file path or a ``postgres://`` URL
    (``schema`` picks a PostgreSQL schema). Nothing is created or migrated, and the database
    itself refuses writes. Raises :class:`InvalidError` when it is no ledger, or another
    :class:`StrangleError` when it cannot be opened.

    >>> with strangle.Ledger("strangle.db") as ledger:      # doctest: +SKIP
    ...     ledger.sessions(profile="btc")[0]["pnl"]["net"]
    """

    def __init__(self, location: Union[str, "os.PathLike[str]"], *, schema: Optional[str] = None) -> None:
        self._native: Any = _strangle.NativeLedger(os.fspath(location), schema)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgres``."""
        return self._native.backend()

    def modes(self) -> List[str]:
        """The modes this ledger has sessions in (``live``, ``paper``, ``sim``, ``backtest``)."""
        return list(self._native.modes())

    def _mode(self, mode: Optional[str]) -> Optional[str]:
        """``mode`` as given (``"all"``: every mode), or without it the first of live, paper,
        sim, backtest that the ledger has: results never mix modes unless asked to."""
        if mode == "all":
            return None
        if mode is not None:
            return mode
        present = self.modes()
        return next((m for m in _MODES if m in present), None)

    def sessions(self, *, profile: Optional[str] = None, since: Optional[datetime] = None,
                 until: Optional[datetime] = None, state: Optional[str] = None, limit: Optional[int] = None,
                 offset: Optional[int] = None, mode: Optional[str] = None) -> List[Dict[str, Any]]:
        """Sessions with their legs and PnL, newest first. Without ``limit``, every matching
        session; with it, one page (``limit`` 1–1000 from ``offset``). ``state`` is one of
        ``entering``, ``open``, ``exiting``, ``closed``; ``mode`` one of ``live``, ``paper``,
        ``sim``, ``backtest`` or ``all`` (default: live if the ledger has any, else paper, else
        sim, else backtest — never a mix unless asked)."""
        f = _filter(profile, since, until, state, limit, offset, self._mode(mode))
        if limit is None and offset is None:
            return list(reversed(self._native.all_sessions(f)))
        return self._native.sessions(f)["items"]

    def session(self, session_id: str) -> Optional[Dict[str, Any]]:
        """One session with ``session`` (legs, PnL), ``orders`` (with client order ids),
        ``fills`` and ``events`` (the audit trail); ``None`` when unknown."""
        return self._native.session(session_id)

    def marks(self, session_id: str, *, points: Optional[int] = None) -> List[Dict[str, Any]]:
        """A session's PnL over time, oldest first: one flat record per mark (``at``,
        ``premium``, ``gross``, ``fees``, ``net``, ``close_now_net`` — what buying back at the
        asks would have realised, ``None`` while a leg had no ask — ``trailing_level_pct``,
        ``spot``), ready for ``pandas.DataFrame``. With ``points``, a long history is thinned
        to about that many marks, each stretch keeping its lowest and highest net PnL. Raises
        ``KeyError`` for an unknown session."""
        if points is not None and points < 2:
            raise ValueError(f"points must be at least 2, not {points}")
        self._detail(session_id)
        raw = self._native.marks(session_id, points or 0)
        return [{
            "at": m["at"], "premium": m["pnl"]["premium"], "gross": m["pnl"]["gross"], "fees": m["pnl"]["fees"],
            "net": m["pnl"]["net"], "close_now_net": m["close_now_net"], "trailing_level_pct": m["trailing_level"],
            "spot": m["spot"],
        } for m in raw["marks"]]

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
                  until: Optional[datetime] = None, mode: Optional[str] = None) -> Dict[str, Any]:
        """KPIs and series over the closed sessions of one mode (as :meth:`sessions` picks it):
        net, win rate, profit factor, drawdown, cumulative PnL, rolling win rate, histogram."""
        return self._native.analytics(_filter(profile, since, until, None, None, None, self._mode(mode)))

    def sessions_csv(self, *, profile: Optional[str] = None, since: Optional[datetime] = None,
                     until: Optional[datetime] = None, mode: Optional[str] = None) -> str:
        """The sessions of one mode (as :meth:`sessions` picks it) as CSV, one row per session
        with both legs."""
        return self._native.sessions_csv(_filter(profile, since, until, None, None, None, self._mode(mode)))

    def risk(self, *, now: Optional[datetime] = None) -> Optional[Dict[str, Any]]:
        """The account risk governor as this ledger holds it: ``limits``, ``state``
        (``active``, ``reducing`` or ``halted``), ``why``, ``governor`` (trigger, since, the
        lock), the day's PnL and the open sessions' PnL at ``now`` (default: now), or ``None``
        when no limits are set (``strangle risk limits`` sets them)."""
        return self._native.risk(None if now is None else _utc(now).isoformat())

    def profiles(self) -> List[Dict[str, Any]]:
        """Stored profiles: ``id``, ``active``, ``created_at``, ``updated_at`` and ``profile``
        (a :class:`Profile`)."""
        out = []
        for row in self._native.profiles():
            row["profile"] = Profile.from_dict(row["profile"])
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
