"""strangle from Python: profiles, Black-76 pricing and implied volatility, chains (chain
files and Delta payloads), strike selection, backtests and sweeps, read-only ledgers, and
sim/paper/live trading sessions — the same Rust code the `strangle` engine runs.

Money comes back as :class:`decimal.Decimal` (exact, as the engine computes it); times as
timezone-aware :class:`datetime.datetime` in UTC.

>>> import strangle
>>> p = strangle.Profile(name="btc", contracts_per_leg="10")
>>> p.delta_band
{'low': 0.1, 'high': 0.15}

The package is split by topic: ``profiles``, ``pricing``, ``chains``, ``backtests``,
``ledger``, ``sessions``; everything public is importable from ``strangle`` itself.
"""

from __future__ import annotations

from . import _strangle
from ._strangle import (
    ConflictError,
    DataError,
    ExchangeError,
    InvalidError,
    LockedError,
    NotFoundError,
    ProfileError,
    RefusedError,
    StrangleError,
)
from .backtests import (
    Data,
    BacktestResult,
    PortfolioResult,
    Synthetic,
    SweepResult,
    backtest,
    backtest_portfolio,
    sweep,
)
from .chains import Chain, Selection, chain_from_delta, read_chain_file, select
from .ledger import Ledger
from .pricing import Greeks, black76, implied_vol
from .profiles import Profile
from .sessions import LocalServer, Session

__all__ = [
    "Profile",
    "StrangleError",
    "InvalidError",
    "ProfileError",
    "DataError",
    "NotFoundError",
    "ConflictError",
    "LockedError",
    "RefusedError",
    "ExchangeError",
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
    "backtest_portfolio",
    "PortfolioResult",
    "sweep",
    "SweepResult",
    "Data",
    "Ledger",
    "Session",
    "LocalServer",
    "__version__",
]

__version__: str = _strangle.__version__
