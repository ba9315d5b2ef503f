//! The backtest runner on synthetic chains: sessions, determinism, and the four renderings.

use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use strangle_core::audit::EventKind;
use strangle_core::backtest::{Backtest, Report};
use strangle_core::profile::Profile;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::sim::VecFeed;

/// The chains, priced once per test binary (pricing is the slow part in a debug build).
fn chains() -> Vec<strangle_core::model::ChainSnapshot> {
    static CHAINS: std::sync::OnceLock<Vec<strangle_core::model::ChainSnapshot>> =
        std::sync::OnceLock::new();
    CHAINS.get_or_init(price_chains).clone()
}

fn price_chains() -> Vec<strangle_core::model::ChainSnapshot> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .expect("time");
    // Three IST days; spot drifts along a deterministic wave.
    SyntheticMarket::btc().path(
        start,
        start + Duration::days(3),
        Duration::minutes(10),
        0.45,
        |t| {
            let m = (t - start).num_minutes();
            Decimal::from(82_000 + (m % 600) - 300)
        },
    )
}

fn backtest() -> Backtest {
    Backtest {
        poll: Duration::minutes(5),
        ..Backtest::new(profile())
    }
}

fn profile() -> Profile {
    let mut p = Profile::named("synthetic");
    p.contracts_per_leg = Decimal::from(5);
    p.liquidity.max_quote_age_secs = 600;
    p
}

#[tokio::test]
async fn a_backtest_trades_each_day_and_repeats_itself_exactly() {
    let run = || async {
        backtest()
            .run(VecFeed::new(chains()))
            .await
            .expect("backtest")
    };
    let r = run().await;
    assert_eq!(r.sessions.len(), 3, "one session per IST day");
    assert_eq!(r.data.snapshots, chains().len() as u64);
    assert!(r.data.quotes > 0);
    let rep = r.report();
    assert_eq!(rep.kpis.closed, 3);
    assert_eq!(rep.kpis.days, 4, "the data spans four IST dates");
    assert_eq!(rep.exit_reasons.values().sum::<usize>(), 3);
    // Cash on the venue moved by exactly the sessions' net PnL.
    assert_eq!(r.final_cash - r.initial_cash, rep.kpis.totals.net);
    // Byte-identical reports on a second run.
    let again = run().await;
    assert_eq!(r, again);
    let rep2 = again.report();
    assert_eq!(rep.to_table(&r), rep2.to_table(&again));
    assert_eq!(rep.to_json(&r), rep2.to_json(&again));
    assert_eq!(Report::legs_csv(&r), Report::legs_csv(&again));
    assert_eq!(rep.to_html(&r), rep2.to_html(&again));
}

/// On minute chains (an entry, exits and expiries that fall between snapshots of an hourly
/// series never would), jumping over idle time gives the result of stepping every poll, to
/// the byte, with a fraction of the steps.
#[tokio::test]
async fn jumping_over_idle_time_gives_the_stepped_result() {
    let jumping = backtest()
        .run(VecFeed::new(chains()))
        .await
        .expect("backtest");
    let stepping = Backtest {
        step_while_idle: true,
        ..backtest()
    }
    .run(VecFeed::new(chains()))
    .await
    .expect("backtest");
    assert_eq!(jumping.sessions.len(), 3);
    let json =
        |r: &strangle_core::backtest::BacktestResult| serde_json::to_string(r).expect("json");
    assert_eq!(json(&jumping), json(&stepping));
    assert_eq!(
        jumping.report().to_json(&jumping),
        stepping.report().to_json(&stepping)
    );
    assert!(
        jumping.engine_steps * 2 < stepping.engine_steps,
        "{} steps against {}",
        jumping.engine_steps,
        stepping.engine_steps
    );
}

#[tokio::test]
async fn the_renderings_hold_every_session() {
    let r = backtest()
        .run(VecFeed::new(chains()))
        .await
        .expect("backtest");
    let rep = r.report();
    let table = rep.to_table(&r);
    for s in &r.sessions {
        assert!(table.contains(s.session_id.as_str()), "{table}");
    }
    assert!(table.contains("Sharpe / Sortino"));
    let json: serde_json::Value = serde_json::from_str(&rep.to_json(&r)).expect("json");
    assert_eq!(json["kpis"]["sessions"], 3);
    assert_eq!(json["sessions"].as_array().map(Vec::len), Some(3));
    assert!(json["exit_reasons"].is_object());
    let csv = Report::legs_csv(&r);
    assert_eq!(
        csv.lines().count(),
        1 + 2 * 3,
        "a header and one row per leg"
    );
    let html = rep.to_html(&r);
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(html.matches("<svg").count(), 2, "equity and drawdown");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );
}

#[tokio::test]
async fn no_data_is_an_error_not_an_empty_report() {
    let e = backtest()
        .run(VecFeed::new(Vec::new()))
        .await
        .expect_err("empty");
    assert!(e.to_string().contains("no snapshot"), "{e}");
}

#[test]
fn a_sweep_ranks_the_same_whatever_the_thread_count() {
    use strangle_core::backtest::sweep::{rank, sweep, Grid};
    let grid = Grid::from_json(&serde_json::json!({
        "delta_band.low": [0.08, 0.1],
        "max_profit_pct": ["40", "80"]
    }))
    .expect("grid");
    let variants = grid.profiles(&profile()).expect("profiles");
    let runs: Vec<Backtest> = variants
        .iter()
        .map(|v| Backtest {
            profile: v.profile.clone(),
            ..backtest()
        })
        .collect();
    let data = std::sync::Arc::new(chains());
    let one = rank(&variants, &sweep(data.clone(), &runs, 1, |_| {}));
    let two = rank(&variants, &sweep(data, &runs, 2, |_| {}));
    assert_eq!(one, two);
    assert_eq!(one.len(), 4);
    assert!(one.iter().all(|r| r.kpis.is_some()), "{one:?}");
    let nets: Vec<_> = one
        .iter()
        .filter_map(|r| r.kpis.as_ref().map(|k| k.totals.net))
        .collect();
    assert!(
        nets.windows(2).all(|w| w[0] >= w[1]),
        "ranked by net: {nets:?}"
    );
    let table = strangle_core::backtest::sweep::table(&one);
    assert!(table.contains("synthetic#1") && table.contains("max_profit_pct=40"));
}

/// `until` bounds everything: a session still open then is closed at its last marks with
/// exit reason `data_end` (counted in the KPIs, not left open), and none opens after it.
#[tokio::test]
async fn until_closes_an_open_session_at_its_marks_as_data_end() {
    let until = Utc
        .with_ymd_and_hms(2026, 3, 10, 6, 0, 0)
        .single()
        .expect("time");
    let r = run_until(until).await;
    assert_eq!(
        r.sessions.len(),
        1,
        "the first day's session, opened at 04:00 UTC"
    );
    let s = &r.sessions[0];
    assert!(s.opened_at <= until);
    assert_eq!(s.state, strangle_core::ledger::SessionState::Closed);
    assert_eq!(
        s.exit_reason,
        Some(strangle_core::risk::ExitReason::DataEnd)
    );
    assert_eq!(s.closed_at, Some(until));
    // Valued at the legs' last marks, fees paid so far, no exit fill.
    let at_marks: Decimal = s
        .legs
        .iter()
        .map(|g| g.book.pnl(g.mark.expect("a mark"), g.contract_size).net)
        .sum();
    assert_eq!(s.pnl.net, at_marks);
    assert!(s.legs.iter().all(|g| g.book.bought.is_zero()));
    let rep = r.report();
    assert_eq!(rep.kpis.closed, 1);
    assert_eq!(rep.kpis.open_at_end, 0);
    assert_eq!(
        rep.exit_reasons.get("data_end"),
        Some(&1),
        "{:?}",
        rep.exit_reasons
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.events.iter().any(|e| e.kind == EventKind::DataEnd));
}

/// An `until` before the first snapshot runs nothing and says so.
#[tokio::test]
async fn until_before_the_data_runs_nothing_and_warns() {
    let until = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("time");
    let r = run_until(until).await;
    assert!(r.sessions.is_empty());
    assert!(r.fills.is_empty());
    assert_eq!(r.final_cash, r.initial_cash);
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].contains("precedes the data"),
        "{:?}",
        r.warnings
    );
}

/// A strangle held to expiry settles at the expiry by the clock even though the data stops
/// before it, and the report says how old the settlement index was.
#[tokio::test]
async fn a_position_held_to_expiry_settles_when_the_data_stops_before_it() {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 10, 11, 0, 0)
        .single()
        .expect("time");
    // Data from 11:00 to 11:50 UTC; today's contracts settle at 12:00 UTC.
    let snaps = SyntheticMarket::btc().path(
        start,
        start + Duration::minutes(50),
        Duration::minutes(10),
        0.45,
        |_| Decimal::from(82_000),
    );
    let mut p = profile();
    p.entry_time = strangle_core::profile::TimeOfDay::hm(16, 35).expect("time"); // 11:05 UTC
    p.exit_time = strangle_core::profile::TimeOfDay::hm(16, 0).expect("time"); // tomorrow
    p.expiry_buffer_hours = 0;
    p.exit_before_expiry_minutes = 0;
    p.max_loss_pct = None;
    p.max_profit_pct = None;
    p.trailing = strangle_core::profile::Trailing::default();
    let r = Backtest {
        poll: Duration::minutes(5),
        ..Backtest::new(p)
    }
    .run(VecFeed::new(snaps))
    .await
    .expect("backtest");
    assert_eq!(r.sessions.len(), 1);
    let s = &r.sessions[0];
    assert_eq!(s.expiry.format("%H:%M").to_string(), "12:00");
    assert_eq!(
        s.exit_reason,
        Some(strangle_core::risk::ExitReason::Settled),
        "{:?}",
        r.events
    );
    let rep = r.report();
    assert_eq!(rep.settlements, 2);
    assert_eq!(rep.max_settlement_index_age_secs, Some(10 * 60));
    assert!(rep.to_table(&r).contains("settlements"));
    assert_eq!(r.final_cash - r.initial_cash, rep.kpis.totals.net);
}

/// The synthetic backtest bounded by `until`.
async fn run_until(until: chrono::DateTime<Utc>) -> strangle_core::backtest::BacktestResult {
    Backtest {
        until: Some(until),
        ..backtest()
    }
    .run(VecFeed::new(chains()))
    .await
    .expect("backtest")
}

/// Issue 31: a backtest that enters on few days says why it did not on the others, counting
/// the days by cause.
#[tokio::test]
async fn the_report_counts_days_without_an_entry_by_cause() {
    let r = backtest()
        .run(VecFeed::new(chains()))
        .await
        .expect("backtest");
    assert_eq!(r.entry_days.windows, 3);
    assert_eq!(r.entry_days.entered, 3);
    assert!(r.entry_days.missed.is_empty());

    // No contract has |delta| in 0.01–0.011 on the synthetic grid: every day is missed, and
    // said so.
    let mut narrow = profile();
    narrow.delta_band = strangle_core::profile::DeltaBand {
        low: 0.01,
        high: 0.011,
    };
    let r = Backtest {
        poll: Duration::minutes(5),
        ..Backtest::new(narrow)
    }
    .run(VecFeed::new(chains()))
    .await
    .expect("backtest");
    assert!(r.sessions.is_empty());
    assert_eq!(r.entry_days.windows, 3);
    assert_eq!(r.entry_days.entered, 0);
    assert_eq!(
        r.entry_days
            .missed
            .get(&strangle_core::select::NoEntryCause::OutsideBand),
        Some(&3),
        "{:?}",
        r.entry_days
    );
    let table = r.report().to_table(&r);
    assert!(
        table.contains("entry days         3 windows in the data, entered on 0; no entry: 3 no strike in the band"),
        "{table}"
    );
    assert!(r.report().to_json(&r).contains("\"outside_band\": 3"));
}

/// Issue 33 D: entry gates close days by weekday and calendar, and markets by hours to
/// expiry, ATM IV and the pair's spread; every day closed is counted by its gate.
#[tokio::test]
async fn entry_gates_close_days_and_say_which_gate() {
    use strangle_core::profile::{SkipDate, Weekday};
    use strangle_core::select::NoEntryCause;
    let run = |p: Profile| async move {
        Backtest {
            poll: Duration::minutes(5),
            ..Backtest::new(p)
        }
        .run(VecFeed::new(chains()))
        .await
        .expect("backtest")
    };
    // The data's IST days are Tue 10, Wed 11 and Thu 12 March 2026.
    let mut days = profile();
    days.gates.weekdays = vec![Weekday::Tue, Weekday::Thu];
    days.gates.skip_dates = vec![SkipDate {
        date: chrono::NaiveDate::from_ymd_opt(2026, 3, 12).expect("a date"),
        reason: "FOMC".into(),
    }];
    days.validate().expect("valid");
    let r = run(days).await;
    let entered: Vec<String> = r
        .sessions
        .iter()
        .map(|s| s.trading_day.to_string())
        .collect();
    assert_eq!(entered, ["2026-03-10"]);
    let missed = &r.entry_days.missed;
    assert_eq!(
        missed.get(&NoEntryCause::GateWeekday),
        Some(&1),
        "{missed:?}"
    );
    assert_eq!(
        missed.get(&NoEntryCause::GateSkipDate),
        Some(&1),
        "{missed:?}"
    );
    let said: Vec<&str> = r
        .events
        .iter()
        .filter(|e| e.kind == EventKind::NoEntry)
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        said.contains(&"2026-03-11 is a wed, not one of gates.weekdays"),
        "{said:?}"
    );
    assert!(said.contains(&"2026-03-12 is skipped: FOMC"), "{said:?}");
    let table = r.report().to_table(&r);
    assert!(
        table.contains("gate: weekday") && table.contains("gate: skip date"),
        "{table}"
    );

    // Market gates: each closes every day, and only that gate is counted.
    type Set = fn(&mut Profile);
    let cases: [(Set, NoEntryCause); 3] = [
        (
            |p| p.gates.max_hours_to_expiry = Some(1),
            NoEntryCause::GateHoursToExpiry,
        ),
        (
            |p| p.gates.min_atm_iv_pct = Some(Decimal::from(60)),
            NoEntryCause::GateAtmIv,
        ),
        (
            |p| p.gates.max_pair_spread_pct = Some(Decimal::new(1, 4)),
            NoEntryCause::GatePairSpread,
        ),
    ];
    for (set, cause) in cases {
        let mut p = profile();
        set(&mut p);
        p.validate().expect("valid");
        let r = run(p).await;
        assert!(r.sessions.is_empty(), "{cause:?}");
        assert_eq!(
            r.entry_days.missed.get(&cause),
            Some(&3),
            "{:?}",
            r.entry_days
        );
        assert_eq!(r.entry_days.missed.len(), 1, "{:?}", r.entry_days);
    }

    // The same gates, wide enough, change nothing: the result is the ungated one.
    let mut open = profile();
    open.gates.weekdays = vec![Weekday::Tue, Weekday::Wed, Weekday::Thu];
    open.gates.min_atm_iv_pct = Some(Decimal::from(20));
    open.gates.max_atm_iv_pct = Some(Decimal::from(90));
    open.gates.max_hours_to_expiry = Some(24 * 40);
    open.gates.max_pair_spread_pct = Some(Decimal::from(100));
    let gated = run(open).await;
    let plain = run(profile()).await;
    assert_eq!(gated.sessions.len(), 3);
    assert_eq!(
        serde_json::to_string(&gated.sessions).expect("json"),
        serde_json::to_string(&plain.sessions).expect("json")
    );
}
