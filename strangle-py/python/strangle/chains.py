"""Option chains (chain files, Delta payloads) and strike selection."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Union

from . import _strangle
from ._convert import _existing, _payload_text
from .profiles import Profile


class Chain:
    """One option-chain snapshot: ``underlying``, ``timestamp``, ``spot`` and ``entries`` (each
    with ``contract`` and ``quote``)."""

    __slots__ = ("_json", "_view")

    def __init__(self, json_text: str) -> None:
        self._json = json_text  # what the engine reads back (selection)
        self._view: Optional[Dict[str, Any]] = None  # the same snapshot typed by the engine, on demand

    @property
    def _data(self) -> Dict[str, Any]:
        if self._view is None:
            self._view = _strangle.chain_view(self._json)
        return self._view

    @property
    def underlying(self) -> str:
        """``BTC`` or ``ETH``."""
        return self._data["underlying"]

    @property
    def timestamp(self) -> datetime:
        """When the snapshot was taken (UTC)."""
        return self._data["timestamp"]

    @property
    def spot(self) -> Decimal:
        """The underlying's index price, USD."""
        return self._data["spot"]

    @property
    def entries(self) -> List[Dict[str, Any]]:
        """Every contract with its ``contract`` (symbol, kind, strike, expiry, sizes) and
        ``quote`` (bid, ask, mark, sizes, IVs, greeks)."""
        return self._data["entries"]

    def __len__(self) -> int:
        return len(self._data["entries"])

    def to_dict(self) -> Dict[str, Any]:
        """The whole snapshot (decimals and times typed)."""
        return self._data

    def records(self) -> List[Dict[str, Any]]:
        """One flat row per contract (for pandas)."""
        rows = []
        for e in self._data["entries"]:
            c, q = e["contract"], e["quote"]
            g = q.get("greeks") or {}
            rows.append({
                "timestamp": self.timestamp, "underlying": self.underlying, "spot": self.spot,
                "symbol": c["symbol"], "kind": c["kind"], "strike": c["strike"], "expiry": c["expiry"],
                "bid": q.get("bid"), "ask": q.get("ask"), "mark": q["mark"], "mark_iv": q.get("mark_iv"),
                "delta": g.get("delta"), "gamma": g.get("gamma"), "vega": g.get("vega"), "theta": g.get("theta"),
            })
        return rows

    def to_pandas(self):  # type: ignore[no-untyped-def]
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency

        return pd.DataFrame.from_records(self.records())

    def __repr__(self) -> str:
        t = self.timestamp.isoformat().replace("+00:00", "Z")
        return f"Chain({self.underlying} {t}, {len(self)} contracts, spot {self.spot})"


def read_chain_file(path: Union[str, "os.PathLike[str]"]) -> List[Chain]:
    """Every snapshot of a chain file (``#strangle-chain v1``, ``.gz`` too); raises
    :class:`DataError` naming the line and column of the first problem. Ctrl-C interrupts it."""
    return [Chain(j) for j in _strangle.read_chain_file(_existing(path))]


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
    r = _strangle.select(chain._json, profile._json(), at)
    return Selection(expiry=r["expiry"], call=r["call"], put=r["put"], reason=r["reason"])


def chain_from_delta(tickers: Any, products: Any, underlying: str = "BTC") -> Chain:
    """The chain of ``underlying`` from Delta's ``GET /v2/tickers`` and ``GET /v2/products``
    answers — JSON text, parsed JSON (the envelope or its ``result`` list) or a file path —
    built exactly as the live adapter builds it. Raises :class:`DataError` naming a malformed
    item."""
    return Chain(_strangle.chain_from_delta(_payload_text(tickers), _payload_text(products), underlying))
