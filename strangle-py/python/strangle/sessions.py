"""Trading sessions (sim, paper, live) and the local Delta market."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, AsyncIterator, Dict, Iterator, Optional, Union

from . import _strangle
from ._convert import _jsonable, _utc
from .profiles import Profile


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
    then stop), :meth:`panic` (cancel and buy every leg back at once) and :meth:`wait`. With a
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
        return self._native.status()

    @property
    def running(self) -> bool:
        """Whether the engine is still running."""
        return self._native.running()

    def stop(self) -> bool:
        """Flattens open legs, then stops. ``False`` if the engine had already ended."""
        return self._native.stop()

    def panic(self) -> bool:
        """Cancels working orders and buys every leg back at once, then stops."""
        return self._native.panic()

    def restart(self) -> bool:
        """Reloads the strategy from the ledger without flattening."""
        return self._native.restart()

    def wait(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """Waits for the engine to end (at most ``timeout`` seconds) and returns its last
        heartbeat, or ``None`` on timeout. Raises the :class:`StrangleError` of the error's kind
        if it ended with one. Ctrl-C interrupts the wait, not the session."""
        return self._native.wait(timeout)

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
