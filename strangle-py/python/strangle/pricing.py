"""Black-76 prices, greeks and implied volatility."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Union

from . import _strangle


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
