"""Delta payloads, synthetic data, spot series, sweeps and Ctrl-C, from the installed wheel.

The Delta payloads are the repository's copies of Delta's exact schema
(strangle-delta/tests/fixtures); the spot series is the committed BTC hourly data
(examples/data).
"""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import strangle

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "strangle-delta" / "tests" / "fixtures"
SPOT = ROOT / "examples" / "data" / "btcusd_1h_20210324_20220301.csv"


# ----------------------------------------------------------------------------- Delta payloads

def test_a_chain_from_delta_tickers_and_products():
    tickers = FIXTURES / "tickers_btc_options.json"
    products = FIXTURES / "products_options.json"
    c = strangle.chain_from_delta(tickers, products)
    assert c.underlying == "BTC" and len(c) == 32 and c.spot > 0
    symbols = [e["contract"]["symbol"] for e in c.entries]
    assert symbols == sorted(symbols)
    # Text, parsed envelopes and bare result lists give the same chain.
    t = json.loads(tickers.read_text())
    p = json.loads(products.read_text())
    assert strangle.chain_from_delta(t, p).to_dict() == c.to_dict()
    assert strangle.chain_from_delta(t["result"], json.dumps(p)).to_dict() == c.to_dict()
    # The engine's selection runs on it, with a chosen pair or the reason.
    s = strangle.select(c, strangle.Profile(name="delta", expiry_buffer_hours=0,
                                            liquidity={"max_quote_age_secs": 10**9}))
    assert (s.call is not None) or s.reason


def test_malformed_delta_payloads_are_named():
    p = FIXTURES / "products_options.json"
    with pytest.raises(strangle.DataError, match="item 0"):
        strangle.chain_from_delta({"result": [{"symbol": 5}]}, p)
    with pytest.raises(strangle.DataError, match="line 1"):
        strangle.chain_from_delta("[1,", p)
    with pytest.raises(strangle.DataError, match="ETH"):
        strangle.chain_from_delta(FIXTURES / "tickers_btc_options.json", p, "ETH")
    with pytest.raises(ValueError, match="BTC or ETH"):
        strangle.chain_from_delta("[]", p, "DOGE")


# ----------------------------------------------------------------------------- synthetic data

def test_a_synthetic_backtest_is_deterministic_per_seed():
    p = strangle.Profile(name="syn", contracts_per_leg="2")
    m = strangle.Synthetic(seed=7, start=datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc), days=4)
    a = strangle.backtest(p, m)
    assert a.kpis["sessions"] >= 3
    assert strangle.backtest(p, m).to_dict() == a.to_dict()
    other = strangle.backtest(p, strangle.Synthetic(seed=8, start=m.start, days=4))
    assert other.to_dict() != a.to_dict()
    eth = strangle.backtest(p.replace(underlying="ETH"), strangle.Synthetic(seed=7, start=m.start, days=2, underlying="ETH"))
    assert all("ETH" in s["legs"][0]["symbol"] for s in eth.sessions)


def test_leg_exits_in_a_backtest():
    # Issue 33 B: a leg's stop closes that leg alone (exit_leg), or moves the other's stop to
    # its cost; the sessions say which leg closed why, and the legs CSV carries it.
    m = strangle.Synthetic(seed=7, start=datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc), days=10)
    plain = strangle.backtest(strangle.Profile(name="legs", contracts_per_leg="2"), m)
    assert all("exit_reason" not in g for s in plain.sessions for g in s["legs"])
    kept = strangle.backtest(
        strangle.Profile(name="legs", contracts_per_leg="2", leg_exit={"stop_pct": "40", "on_stop": "exit_leg"}), m)
    reasons = [g.get("exit_reason") for s in kept.sessions for g in s["legs"]]
    assert "leg_stop" in reasons and None in reasons
    assert set(kept.exit_reasons) <= {"exit_time", "leg_stop"}
    assert kept.legs_csv().splitlines()[0].endswith(",leg_exit_reason")
    assert any(line.endswith(",leg_stop") for line in kept.legs_csv().splitlines())
    cost = strangle.backtest(
        strangle.Profile(name="legs", contracts_per_leg="2",
                         leg_exit={"stop_pct": "40", "on_stop": "exit_leg_and_move_other_to_cost"}), m)
    survivors = [g for s in cost.sessions for g in s["legs"] if g.get("stop_at_cost")]
    assert survivors and "leg_cost_stop" in cost.exit_reasons
    assert kept.to_dict() != plain.to_dict() != cost.to_dict()


def test_a_portfolio_backtest_under_one_governor():
    # Issue 33 A: BTC and ETH profiles on one synthetic market (two sources merged), one account
    # risk governor over both.
    start = datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc)
    btc = strangle.Synthetic(seed=7, start=start, days=4)
    eth = strangle.Synthetic(seed=7, start=start, days=4, underlying="ETH")
    profiles = [strangle.Profile(name="btc", contracts_per_leg="5"),
                strangle.Profile(name="eth", underlying="ETH", contracts_per_leg="5")]
    free = strangle.backtest_portfolio(profiles, [btc, eth])
    assert free.transitions == []
    # Each profile trades as it would alone, to the digit (the data read differs: each of
    # them read both markets).
    for p, data in zip(profiles, [btc, eth]):
        alone = strangle.backtest(p, data).to_dict()
        got = free.runs[p.name].to_dict()
        assert got["result"]["sessions"] == alone["result"]["sessions"]
        assert got["result"]["fills"] == alone["result"]["fills"]
        assert got["report"]["kpis"] == alone["report"]["kpis"]
    assert free.net == free.runs["btc"].kpis["net"] + free.runs["eth"].kpis["net"]
    assert free.account["sessions"] == sum(len(r.sessions) for r in free.runs.values())
    assert isinstance(free.account["max_drawdown"], Decimal)
    # A cap of a hundredth of a cent: the first open strangles halt the account.
    capped = strangle.backtest_portfolio(profiles, [btc, eth], risk={"daily_loss_usd": "0.0001"})
    first = capped.transitions[0]
    assert (first["from"], first["to"], first["trigger"]["trigger"]) == ("active", "halted", "daily_loss")
    assert isinstance(first["day_pnl"], Decimal) and first["day_pnl"] < 0
    reasons = {s["exit_reason"] for r in capped.runs.values() for s in r.sessions}
    assert "account_risk" in reasons
    assert any(t["trigger"]["trigger"] == "reset" for t in capped.transitions)
    never = strangle.backtest_portfolio(profiles, [btc, eth], risk={"daily_loss_usd": "0.0001"},
                                        reset="never")
    assert len(never.transitions) == 1
    assert all(len(r.sessions) == 1 for r in never.runs.values())
    with pytest.raises(strangle.ProfileError) as e:
        strangle.backtest_portfolio(profiles, btc, risk={"daily_loss_usd": "-1"})
    assert [f for f, _ in e.value.fields] == ["risk.daily_loss_usd"]
    with pytest.raises(ValueError, match="reset"):
        strangle.backtest_portfolio(profiles, btc, reset="sometimes")


def test_synthetic_settings_are_checked():
    p = strangle.Profile(name="syn")
    for bad, word in [(dict(days=0), "days"), (dict(iv=0), "iv"), (dict(step_minutes=0), "step_minutes"),
                      (dict(spot=-1.0), "spot")]:
        with pytest.raises(ValueError, match=word):
            strangle.backtest(p, strangle.Synthetic(**bad))
    with pytest.raises(ValueError, match="time zone"):
        strangle.backtest(p, strangle.Synthetic(start=datetime(2026, 1, 5)))
    with pytest.raises(ValueError, match="underlying .XRP.: expected BTC or ETH"):
        strangle.backtest(p, strangle.Synthetic(underlying="XRP"))


def test_a_spot_series_backtest_with_a_window():
    p = strangle.Profile(name="spot", liquidity={"max_quote_age_secs": 7200})
    start = datetime(2021, 6, 1, tzinfo=timezone.utc)
    r = strangle.backtest(p, SPOT, start=start, until=start + timedelta(days=10))
    assert 5 <= r.kpis["sessions"] <= 11
    assert r.to_dict()["result"]["data"]["first"] >= start
    with pytest.raises(strangle.DataError, match="no spot point"):
        strangle.backtest(p, SPOT, start=datetime(2030, 1, 1, tzinfo=timezone.utc))


def test_stale_quotes_wait_or_are_priced_by_the_model():
    # Hourly chains, quotes usable for 10 minutes, exits 5 minutes before the 12:00 UTC expiry.
    p = strangle.Profile(name="stale", liquidity={"max_quote_age_secs": 600}, expiry_buffer_hours=0,
                         exit_time="18:00", exit_before_expiry_minutes=5, max_loss_pct=None,
                         max_profit_pct=None, trailing={"tiers": []})
    start = datetime(2021, 11, 1, tzinfo=timezone.utc)
    until = datetime(2021, 11, 7, 6, tzinfo=timezone.utc)
    waited = strangle.backtest(p, SPOT, start=start, until=until)
    assert waited.stale_quotes == {"exits_waited": 2, "longest_exit_wait_secs": 300,
                                   "orders_waited": 0, "model_fills": 0}
    assert waited.exit_reasons == {"settled": 2, "data_end": 1}
    assert any("data_end" in w or "ended" in w for w in waited.warnings), waited.warnings
    modelled = strangle.backtest(p, SPOT, start=start, until=until, stale_quotes="model")
    assert modelled.stale_quotes["model_fills"] == 4
    assert modelled.stale_quotes["exits_waited"] == 0
    with pytest.raises(ValueError, match="stale_quotes"):
        strangle.backtest(p, SPOT, start=start, until=until, stale_quotes="guess")


# ----------------------------------------------------------------------------- sweeps

def test_a_sweep_ranks_every_combination():
    p = strangle.Profile(name="sw", contracts_per_leg="2")
    m = strangle.Synthetic(seed=3, start=datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc), days=3)
    res = strangle.sweep(p, {"delta_band.low": [0.08, 0.1], "max_profit_pct": ["50", "80"]}, m, threads=2)
    assert len(res) == 4
    assert [r["rank"] for r in res.rows] == [1, 2, 3, 4]
    nets = [r["kpis"]["net"] for r in res.rows]
    assert nets == sorted(nets, reverse=True)
    best = res.profile(res.best["name"])
    assert isinstance(best, strangle.Profile)
    # The best row's profile backtested alone gives the same figures.
    assert strangle.backtest(best, m).kpis["net"] == res.best["kpis"]["net"]
    assert len(res.records()) == 4 and "net" in res.records()[0]
    with pytest.raises(KeyError):
        res.profile("nope")


def test_a_bad_grid_is_refused():
    p = strangle.Profile(name="sw")
    m = strangle.Synthetic(days=1)
    with pytest.raises(strangle.ProfileError):
        strangle.sweep(p, {"delta_band.low": [0.5]}, m)  # low above high
    with pytest.raises(ValueError, match="grid"):
        strangle.sweep(p, {}, m)
    with pytest.raises((ValueError, strangle.ProfileError), match="no_such"):
        strangle.sweep(p, {"no_such.field": [1]}, m)


# ----------------------------------------------------------------------------- Ctrl-C

def test_ctrl_c_interrupts_a_long_backtest(ctrl_c):
    p = strangle.Profile(name="long")
    m = strangle.Synthetic(days=3000, step_minutes=1)  # far longer than the test waits
    with ctrl_c(0.5), pytest.raises(KeyboardInterrupt):
        strangle.backtest(p, m)
    # The package still works afterwards.
    assert strangle.backtest(p, strangle.Synthetic(days=1)).kpis["sessions"] >= 0


def test_ctrl_c_interrupts_a_long_sweep(ctrl_c):
    p = strangle.Profile(name="long")
    m = strangle.Synthetic(days=3000, step_minutes=1)
    with ctrl_c(0.5), pytest.raises(KeyboardInterrupt):
        strangle.sweep(p, {"contracts_per_leg": ["1", "2"]}, m, threads=2)
