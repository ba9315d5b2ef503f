"""The strangle wheel from Python: profiles, pricing, chain files, selection and backtests.

Run against the installed wheel (scripts/test builds it with maturin into a fresh virtual
environment). The chain file is written by the `strangle` binary's own format tests' shape:
generated here from Black-76 so the test needs no data file.
"""

import re
import threading
from datetime import date
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

import strangle


# ----------------------------------------------------------------------------- profiles

def test_profile_from_kwargs_dict_and_files(tmp_path):
    p = strangle.Profile(name="btc", contracts_per_leg="10", delta_band={"low": 0.1, "high": 0.15})
    assert p.name == "btc"
    assert p.contracts_per_leg == Decimal("10")
    assert p.delta_band == {"low": 0.1, "high": 0.15}
    d = p.to_dict()
    assert d["max_loss_pct"] == Decimal("100")  # defaults filled in
    assert strangle.Profile.from_dict(d) == p
    toml = tmp_path / "p.toml"
    toml.write_text(p.to_toml())
    assert strangle.Profile.from_file(toml) == p
    js = tmp_path / "p.json"
    js.write_text('{"name": "eth", "underlying": "ETH"}')
    assert strangle.Profile.from_file(js).underlying == "ETH"
    assert p.replace(contracts_per_leg="3").contracts_per_leg == Decimal("3")


def test_entry_gates_and_a_calendar_file(tmp_path):
    # Issue 33 D: gates are profile settings like any other; a profile file may take its
    # skip dates from a calendar file beside it, as the CLI does.
    (tmp_path / "events.toml").write_text(
        'skip_dates = [{ date = "2026-12-16", reason = "FOMC" }]\n'
    )
    f = tmp_path / "gated.toml"
    f.write_text(
        'name = "gated"\n[gates]\nweekdays = ["mon", "fri"]\nmax_pair_spread_pct = "8"\n'
        'skip_dates_file = "events.toml"\n'
    )
    p = strangle.Profile.from_file(f)
    g = p.to_dict()["gates"]
    assert g["weekdays"] == ["mon", "fri"]
    assert g["skip_dates"] == [{"date": date(2026, 12, 16), "reason": "FOMC"}]
    assert g["max_pair_spread_pct"] == Decimal("8")
    assert "gates" not in strangle.Profile(name="plain").to_dict()
    (tmp_path / "bad.toml").write_text('name = "b"\n[gates]\nskip_dates_file = "nope.toml"\n')
    with pytest.raises(strangle.ProfileError) as e:
        strangle.Profile.from_file(tmp_path / "bad.toml")
    assert "gates.skip_dates_file: nope.toml" in str(e.value)
    with pytest.raises(strangle.ProfileError) as e:
        strangle.Profile(name="x", gates={"min_hours_to_expiry": 30, "max_hours_to_expiry": 20})
    assert "gates.min_hours_to_expiry" in [f for f, _ in e.value.fields]


def test_an_invalid_profile_lists_every_bad_field():
    with pytest.raises(strangle.ProfileError) as e:
        strangle.Profile(name="", delta_band={"low": 0.3, "high": 0.2}, contracts_per_leg="0")
    fields = [f for f, _ in e.value.fields]
    assert "name" in fields and "delta_band" in fields and "contracts_per_leg" in fields
    assert isinstance(e.value, ValueError)
    with pytest.raises(strangle.ProfileError) as e:
        strangle.Profile(name="x", no_such_setting=1)
    assert "no_such_setting" in str(e.value)


def test_a_profile_says_what_is_probably_not_meant_as_the_cli_does():
    # Issue 31: max_loss_pct = 0.4 (meant as 40 %) is 0.4 % of premium; every front says so.
    with pytest.warns(UserWarning, match="max_loss_pct"):
        p = strangle.Profile(name="w", max_loss_pct="0.4")
    assert any(field == "max_loss_pct" for field, _ in p.warnings)
    assert strangle.Profile(name="fine").warnings == []


# ----------------------------------------------------------------------------- pricing

def test_black76_scalars_and_vectors():
    g = strangle.black76("call", 100_000.0, 100_000.0, 30 / 365, 0.5)
    assert abs(g.delta - 0.528) < 0.001
    assert abs(g.price - 5714.0) < 1.0
    v = strangle.black76(["call", "put"], 80_000.0, [90_000.0, 70_000.0], 2 / 365, [0.5, 0.6])
    assert len(v.price) == 2 and v.delta[0] > 0 > v.delta[1]
    with pytest.raises(ValueError):
        strangle.black76(["call", "put"], [1.0, 2.0, 3.0], 1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="call"):
        strangle.black76("straddle", 1.0, 1.0, 1.0, 0.5)


def test_implied_vol_inverts_black76():
    ks = [70_000.0, 76_000.0, 84_000.0, 90_000.0]
    kinds = ["put", "put", "call", "call"]
    prices = strangle.black76(kinds, 80_000.0, ks, 5 / 365, 0.55).price
    ivs = strangle.implied_vol(kinds, prices, 80_000.0, ks, 5 / 365)
    assert all(abs(iv - 0.55) < 1e-7 for iv in ivs)
    assert strangle.implied_vol("call", 1e9, 80_000.0, 90_000.0, 0.1) is None


# ----------------------------------------------------------------------------- chains

def write_chain_file(path, days=2):
    """Synthetic BTC chains every 10 minutes from 00:00 IST, in the chain file format."""
    start = datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc)
    lines = ["#strangle-chain v1",
             "time,underlying,spot,symbol,expiry,contract_size,tick_size,bid,bid_size,ask,ask_size,mark,mark_iv,bid_iv,ask_iv,delta,gamma,theta,vega,open_interest"]
    t = start
    while t <= start + timedelta(days=days):
        spot = 82_000 - (t - start).total_seconds() / 60
        for d in range(1, 4):
            expiry = datetime(t.year, t.month, t.day, 12, tzinfo=timezone.utc) + timedelta(days=d)
            years = (expiry - t).total_seconds() / (365 * 86400)
            for k in range(70_000, 94_001, 500):
                for kind, letter in (("call", "C"), ("put", "P")):
                    g = strangle.black76(kind, spot, float(k), years, 0.45)
                    mark = round(max(g.price, 0.1), 1)
                    bid, ask = round(mark * 0.98, 1), round(mark * 1.02 + 0.1, 1)
                    sym = f"{letter}-BTC-{k}-{expiry:%d%m%y}"
                    lines.append(",".join(map(str, [
                        t.strftime("%Y-%m-%dT%H:%M:%SZ"), "BTC", spot, sym, expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "0.001", "0.1", bid if bid >= 0.1 else "", 500 if bid >= 0.1 else 0, ask, 500, mark, 0.45, "", "",
                        g.delta, g.gamma, g.theta, g.vega, 1000])))
        t += timedelta(minutes=10)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def chain_path(tmp_path_factory):
    return write_chain_file(tmp_path_factory.mktemp("data") / "chains.csv")


def test_read_chain_file(chain_path):
    chains = strangle.read_chain_file(chain_path)
    assert len(chains) == 2 * 144 + 1
    c = chains[0]
    assert c.underlying == "BTC" and c.spot == Decimal("82000.0")
    assert c.timestamp == datetime(2026, 3, 9, 18, 30, tzinfo=timezone.utc)
    rows = c.records()
    assert len(rows) == len(c) and isinstance(rows[0]["strike"], Decimal)


def test_a_malformed_chain_file_names_line_and_column(tmp_path, chain_path):
    bad = tmp_path / "bad.csv"
    lines = chain_path.read_text().splitlines()
    lines[5] = lines[5].replace(",BTC,", ",XRP,", 1)
    bad.write_text("\n".join(lines))
    with pytest.raises(strangle.DataError, match="line 6: underlying"):
        strangle.read_chain_file(bad)
    with pytest.raises(OSError):
        strangle.read_chain_file(tmp_path / "missing.csv")


def test_selection_is_the_engines(chain_path):
    chains = strangle.read_chain_file(chain_path)
    profile = strangle.Profile(name="sel", liquidity={"max_quote_age_secs": 900})
    at_entry = [c for c in chains if c.timestamp.hour == 4 and c.timestamp.minute == 0][0]
    s = strangle.select(at_entry, profile)
    assert s and s.reason is None
    assert 0.10 <= abs(s.call["quote"]["greeks"]["delta"]) <= 0.15
    assert 0.10 <= abs(s.put["quote"]["greeks"]["delta"]) <= 0.15
    narrow = profile.replace(delta_band={"low": 0.5, "high": 0.51})
    none = strangle.select(at_entry, narrow)
    assert not none and "qualifies" in none.reason


# ----------------------------------------------------------------------------- backtests

def test_backtest_from_python(chain_path, tmp_path):
    p = strangle.Profile(name="py", contracts_per_leg="5", liquidity={"max_quote_age_secs": 900})
    r = strangle.backtest(p, chain_path)
    assert r.kpis["sessions"] >= 1
    assert len(r.sessions) == r.kpis["sessions"]
    assert isinstance(r.kpis["net"], Decimal)
    d = r.to_dict()
    assert d["report"]["kpis"] == r.kpis
    assert len(r.records()) == len(r.sessions)
    html = tmp_path / "r.html"
    r.write_html(html)
    assert html.read_text().startswith("<!doctype html>")
    assert r.legs_csv().count("\n") == 1 + 2 * len(r.sessions)
    # Deterministic to the last digit.
    assert strangle.backtest(p, chain_path).to_dict() == d


_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9:]+)?)?$")


def _text_leaves(v, path="$"):
    """Every (path, text) leaf of a nested value."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _text_leaves(x, f"{path}.{k}")
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            yield from _text_leaves(x, f"{path}[{i}]")
    elif isinstance(v, str):
        yield path, v


def test_every_amount_and_time_arrives_typed(chain_path):
    """The engine types its answers by the Rust types (no list of field names): no number or
    time is left as text anywhere in a backtest's result, a chain or a profile."""
    p = strangle.Profile(name="typed", contracts_per_leg="5", liquidity={"max_quote_age_secs": 900})
    r = strangle.backtest(p, chain_path)
    chain = strangle.read_chain_file(chain_path)[0]
    for name, value in [("backtest", r.to_dict()), ("chain", chain.to_dict()), ("profile", p.to_dict())]:
        bad = [(path, t) for path, t in _text_leaves(value)
               if (_NUMBER.match(t) or _TIME.match(t)) and not path.endswith("_csv")]
        assert bad == [], f"{name}: {bad[:5]}"
    day, net = r.to_dict()["report"]["daily"][0]
    assert isinstance(day, date) and isinstance(net, Decimal)
    s = r.sessions[0]
    assert s["opened_at"].tzinfo is not None and isinstance(s["pnl"]["net"], Decimal)
    assert isinstance(chain.entries[0]["quote"]["mark"], Decimal)
    assert isinstance(chain.entries[0]["contract"]["expiry"], datetime)


def test_backtests_release_the_gil(chain_path):
    p = strangle.Profile(name="gil", contracts_per_leg="5", liquidity={"max_quote_age_secs": 900})
    out = []
    threads = [threading.Thread(target=lambda: out.append(strangle.backtest(p, chain_path).kpis["net"])) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 2 and out[0] == out[1]


def test_backtest_errors_are_python_exceptions(tmp_path, chain_path):
    p = strangle.Profile(name="e")
    with pytest.raises(OSError):
        strangle.backtest(p, tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text(chain_path.read_text().splitlines()[0] + "\n" + chain_path.read_text().splitlines()[1] + "\n")
    with pytest.raises(strangle.StrangleError, match="no snapshot"):
        strangle.backtest(p, empty)
    with pytest.raises(ValueError):
        strangle.backtest(p, chain_path, cash="lots")


def test_pandas_is_optional(chain_path):
    pd = pytest.importorskip("pandas")
    df = strangle.read_chain_file(chain_path)[0].to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) > 0


def test_every_error_kind_has_its_exception_class():
    # The one table (Rust's ErrorKind::front) names a class per kind; each is importable from
    # strangle, is a StrangleError carrying that kind, and a kind is not another kind.
    rows = strangle._strangle.error_kinds()
    assert {k for k, *_ in rows} == {"invalid", "not_found", "conflict", "locked", "refused",
                                     "exchange", "failed"}
    for kind, exit_code, status, name in rows:
        cls = getattr(strangle, name)
        assert issubclass(cls, strangle.StrangleError), name
        assert cls.kind == kind, name
    assert issubclass(strangle.InvalidError, ValueError)
    assert issubclass(strangle.ProfileError, strangle.InvalidError)
    assert issubclass(strangle.LockedError, strangle.ConflictError)
    assert not issubclass(strangle.RefusedError, strangle.ConflictError), "a refusal is not a lease conflict"
    with pytest.raises(strangle.ProfileError) as e:
        strangle.Profile(name="")
    assert e.value.kind == "invalid" and e.value.fields


def test_the_stubs_match_the_module():
    # mypy's stubtest compares _strangle.pyi with the built module: every function's
    # signature, every class and exception, __all__ (PEP 800's disjoint-base marks aside).
    pytest.importorskip("mypy.stubtest", reason="mypy is not installed (scripts/test installs it)")
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--ignore-disjoint-bases",
                          "strangle._strangle"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
