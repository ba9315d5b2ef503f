"""Trading sessions and read-only ledgers from Python, on the installed wheel.

Sessions trade on the in-process simulated market or on a `strangle.LocalServer` (the
Delta-compatible market over real HTTP and WebSocket on loopback); nothing reaches the
network. The PostgreSQL tests need a server at STRANGLE_TEST_PG_URL (default
postgres://postgres@127.0.0.1:5432/test; `.ci/run` starts one).
"""

import asyncio
import hashlib
import os
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

import strangle

# Tuesday 10 March 2026, 09:29 IST: one minute before the default entry at 09:30 IST.
BEFORE_ENTRY = datetime(2026, 3, 10, 3, 59, tzinfo=timezone.utc)
MONDAY = datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc)  # 00:00 IST Tuesday
PG_URL = os.environ.get("STRANGLE_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/test")


def profile(name="py-run", **kw):
    return strangle.Profile(name=name, contracts_per_leg="3", **kw)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# ----------------------------------------------------------------------------- sessions

def test_a_fast_forwarded_sim_session_into_a_sqlite_ledger_then_read_only(tmp_path):
    db = tmp_path / "ledger.db"
    s = strangle.Session.sim(profile(), fast_forward=timedelta(days=2), start=MONDAY, ledger=db)
    assert s.mode == "sim"
    last = s.wait()
    assert last is not None and not s.running
    assert s.wait() == last  # waiting again gives the same ending

    before = sha(db)
    with strangle.Ledger(db) as ledger:
        assert ledger.backend == "sqlite"
        sessions = ledger.sessions()
        assert len(sessions) == 2
        assert sessions[0]["opened_at"] > sessions[1]["opened_at"]  # newest first
        assert ledger.sessions(limit=1, offset=1)[0]["session_id"] == sessions[1]["session_id"]
        assert ledger.sessions(profile="someone-else") == []
        one = sessions[0]
        assert one["state"] == "closed" and isinstance(one["pnl"]["net"], Decimal)
        detail = ledger.session(one["session_id"])
        assert len(detail["session"]["legs"]) == 2
        orders, fills = ledger.orders(one["session_id"]), ledger.fills(one["session_id"])
        assert len(orders) >= 4 and all(o["intent"]["request"]["client_order_id"] for o in orders)
        assert len(fills) >= 4 and all(isinstance(f["price"], Decimal) for f in fills)
        assert ledger.legs(one["session_id"]) == detail["session"]["legs"]
        # PnL adds up, exactly: per leg from its book, and per session from its fills.
        legs = detail["session"]["legs"]
        size = {l["symbol"]: l["contract_size"] for l in legs}
        leg_net = sum((l["book"]["sold_value"] - l["book"]["bought_value"]) * l["contract_size"] - l["book"]["fees"]
                      for l in legs)
        assert leg_net == one["pnl"]["net"]
        fill_net = sum((1 if f["side"] == "sell" else -1) * f["price"] * f["size"] * size[f["symbol"]] - f["fee"]
                       for f in fills)
        assert fill_net == one["pnl"]["net"]
        a = ledger.analytics()
        assert a["sessions"] == 2
        assert a["net"] == sum(x["pnl"]["net"] for x in sessions)
        assert ledger.sessions_csv().count("\n") == 3
        assert ledger.profiles()[0]["profile"].name == "py-run"
        assert ledger.session("nope") is None
        with pytest.raises(KeyError):
            ledger.orders("nope")
        with pytest.raises(ValueError, match="limit"):
            ledger.sessions(limit=0)
        with pytest.raises(ValueError, match="state"):
            ledger.sessions(state="sideways")
        assert len(ledger.records()) == 2
        # One mode only, unless asked: this ledger has sim sessions, so sim is the default.
        assert ledger.modes() == ["sim"]
        assert ledger.analytics(mode="paper")["sessions"] == 0
        assert ledger.analytics(mode="all")["sessions"] == 2
        assert ledger.sessions(mode="live") == []
        with pytest.raises(ValueError, match="mode"):
            ledger.sessions(mode="demo")
        # The PnL over time: flat records for pandas, thinned on request, ends kept.
        marks = ledger.marks(one["session_id"])
        assert len(marks) > 20 and all(isinstance(m["net"], Decimal) for m in marks)
        assert [m["at"] for m in marks] == sorted(m["at"] for m in marks)
        assert set(marks[0]) == {"at", "premium", "gross", "fees", "net", "close_now_net", "trailing_level_pct", "spot"}
        thin = ledger.marks(one["session_id"], points=10)
        assert len(thin) <= 10 and thin[0] == marks[0] and thin[-1] == marks[-1]
        with pytest.raises(KeyError):
            ledger.marks("nope")
    assert sha(db) == before, "reading changed the ledger file"

    # The account risk governor as the ledger holds it: nothing before limits are set; then a
    # halt written as `strangle risk limits` and a runner's tick would write it.
    with strangle.Ledger(db) as ledger:
        assert ledger.risk() is None
    import sqlite3
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO account_risk (id, limits, state, version, updated_at) VALUES (1, ?, ?, 3, ?)",
        ('{"daily_loss_usd": "0.01"}',
         '{"state": "halted", "trigger": {"trigger": "daily_loss", "day_pnl": "-0.5", "limit": "0.01"},'
         ' "since": "2026-03-10T05:00:00Z", "day": "2026-03-10", "baseline": "0", "peak": null, "lock": null}',
         "2026-03-10T05:00:00+00:00"))
    con.commit()
    con.close()
    with strangle.Ledger(db) as ledger:
        r = ledger.risk(now=datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc))
        assert r["state"] == "halted" and "daily loss cap" in r["why"]
        assert r["limits"]["daily_loss_usd"] == Decimal("0.01")
        tuesday = [x for x in ledger.sessions() if x["trading_day"].isoformat() == "2026-03-10"]
        assert r["day_pnl"] == sum(x["pnl"]["net"] for x in tuesday) and r["open_pnl"] == 0


def test_a_ledger_is_never_created_by_reading(tmp_path):
    missing = tmp_path / "none.db"
    with pytest.raises(strangle.InvalidError, match="no ledger file"):
        strangle.Ledger(missing)
    assert not missing.exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"")
    with pytest.raises(strangle.InvalidError, match="no strangle ledger"):
        strangle.Ledger(junk)
    with pytest.raises(strangle.InvalidError, match="PostgreSQL"):
        strangle.Ledger(junk, schema="x")


def _drop_schema(schema):
    if shutil.which("psql"):
        subprocess.run(["psql", PG_URL, "-qc", f"DROP SCHEMA IF EXISTS {schema} CASCADE"],
                       capture_output=True, check=False)


def test_a_postgres_ledger_written_by_a_session_and_read_only():
    schema = "py_" + uuid.uuid4().hex[:12]
    try:
        try:
            s = strangle.Session.sim(profile("py-pg"), fast_forward=timedelta(days=1), start=MONDAY,
                                     ledger=PG_URL, schema=schema)
        except strangle.StrangleError as e:
            pytest.fail(f"this test needs PostgreSQL at {PG_URL} (set STRANGLE_TEST_PG_URL; .ci/run starts it): {e}")
        s.wait()
        ledger = strangle.Ledger(PG_URL, schema=schema)
        assert ledger.backend == "postgres"
        sessions = ledger.sessions()
        assert len(sessions) == 1 and sessions[0]["profile"] == "py-pg"
        assert ledger.fills(sessions[0]["session_id"])
        assert ledger.analytics()["sessions"] == 1
        ledger.close()
        with pytest.raises(strangle.InvalidError, match="no strangle ledger"):
            strangle.Ledger(PG_URL, schema="py_" + uuid.uuid4().hex[:12])
    finally:
        _drop_schema(schema)


def wait_for(session, what, pred, ticks=600):
    """Polls the heartbeat until `pred` holds (bounded by a count of 0.1-s waits)."""
    for _ in range(ticks):
        st = session.status()
        if pred(st):
            return st
        if session.wait(0.1) is not None:
            break
    pytest.fail(f"never saw {what}; last heartbeat: {session.status()}")


def test_a_sped_up_sim_session_opens_a_strangle_and_stops_on_command(tmp_path):
    db = tmp_path / "run.db"
    with strangle.Session.sim(profile(), speed=30, start=BEFORE_ENTRY, ledger=db) as s:
        st = wait_for(s, "an open strangle", lambda h: h["phase"] == "open")
        assert len(st["legs"]) == 2 and st["session_id"]
        assert st["pnl"] is not None and st["spot"] > 0
        # A second engine on the same profile and ledger is refused by the lease.
        with pytest.raises(strangle.LockedError, match="already being traded"):
            strangle.Session.sim(profile(), speed=30, start=BEFORE_ENTRY, ledger=db)
        assert s.stop()
        last = s.wait()
    assert last is not None and last["profile"] == "py-run"
    with strangle.Ledger(db) as ledger:
        [one] = ledger.sessions()
        assert one["session_id"] == st["session_id"]
        assert one["state"] == "closed" and one["exit_reason"] == "operator_stop"


def test_sessions_from_asyncio(tmp_path):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        t = asyncio.create_task(ticker())
        s = await strangle.Session.sim_async(profile("py-async"), speed=30, start=BEFORE_ENTRY)
        seen = []
        async for st in s.watch_async(0.2):
            seen.append(st["phase"])
            if st["phase"] == "open":
                s.stop()
            if len(seen) > 600:
                break
        t.cancel()
        return seen, ticks

    seen, ticks = asyncio.run(main())
    assert "open" in seen
    assert ticks > 0, "the event loop was blocked while the session ran"


def test_paper_and_live_sessions_on_the_local_delta_market(tmp_path):
    # Sessions on a local market follow its clock, here fixed a minute before the entry.
    with strangle.LocalServer(seed=5, start=BEFORE_ENTRY) as market:
        assert market.url.startswith("http://127.0.0.1:")
        paper = strangle.Session.paper(profile("py-paper"), env=market.url, ledger=tmp_path / "p.db")
        assert paper.mode == "paper" and paper.running
        status = paper.status()
        assert status["mode"] == "paper"
        seen = status["at"]
        assert BEFORE_ENTRY <= seen < BEFORE_ENTRY + timedelta(minutes=5), "the market's clock"
        paper.stop()
        assert paper.wait() is not None

        with pytest.raises(strangle.RefusedError, match="confirm_live"):
            strangle.Session.live(profile("py-live"), env=market.url)
        live = strangle.Session.live(profile("py-live"), env=market.url, confirm_live=True,
                                     api_key=market.api_key, api_secret=market.api_secret)
        # A live session on a market on this machine is recorded as a rehearsal, never as money.
        assert live.mode == "rehearsal" and live.status()["mode"] == "rehearsal"
        assert market.deadman_armed(), "a live session arms the dead-man switch"
        live.stop()
        live.wait()
        assert not market.deadman_armed(), "a clean, flat stop disarms it"


def test_a_live_secret_never_shows(tmp_path, monkeypatch):
    secret = "S3CRET-" + uuid.uuid4().hex
    monkeypatch.delenv("STRANGLE_DELTA_API_KEY", raising=False)
    monkeypatch.delenv("STRANGLE_DELTA_API_SECRET", raising=False)
    monkeypatch.delenv("STRANGLE_DELTA_CREDENTIALS_FILE", raising=False)
    with strangle.LocalServer(seed=6, start=BEFORE_ENTRY) as market:
        with pytest.raises(strangle.RefusedError, match="STRANGLE_DELTA_API_KEY") as e:
            strangle.Session.live(profile("py-live"), env=market.url, confirm_live=True)
        with pytest.raises(strangle.ExchangeError, match="invalid_api_key") as e:
            strangle.Session.live(profile("py-live"), env=market.url, confirm_live=True,
                                  api_key="wrong-key", api_secret=secret, ledger=tmp_path / "l.db")
        assert secret not in str(e.value) and secret not in repr(e.value)
        assert not market.deadman_armed()
    for f in tmp_path.iterdir():
        assert secret.encode() not in f.read_bytes(), f"the secret reached {f}"


def test_bad_session_settings_change_nothing(tmp_path):
    db = tmp_path / "x.db"
    with pytest.raises(ValueError, match="speed"):
        strangle.Session.sim(profile(), speed=-1, start=BEFORE_ENTRY, ledger=db)
    with pytest.raises(ValueError, match="environment"):
        strangle.Session.paper(profile(), env="moon", ledger=db)
    with pytest.raises(ValueError, match="poll_seconds"):
        strangle.Session.sim(profile(), poll_seconds=0, start=BEFORE_ENTRY, ledger=db)
    assert not db.exists(), "a refused session created its ledger"


def test_ctrl_c_interrupts_a_wait_but_not_the_session(ctrl_c):
    s = strangle.Session.sim(profile("py-wait"), start=BEFORE_ENTRY)
    with ctrl_c(0.3), pytest.raises(KeyboardInterrupt):
        s.wait()
    assert s.running
    s.stop()
    assert s.wait() is not None
