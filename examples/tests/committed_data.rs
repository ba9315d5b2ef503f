//! A backtest on the BTC hourly series committed in `examples/data` (synthetic chains at the
//! series' realised volatility): it trades, and it repeats itself to the last digit.

use std::io::BufReader;

use chrono::{TimeZone, Utc};
use strangle_core::backtest::Backtest;
use strangle_core::data::series::{self, SeriesFeed};
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_examples::{committed, profile};

fn feed() -> SeriesFeed {
    let p = committed("data/btcusd_1h_20210324_20220301.csv");
    let spot = series::read_spot(
        BufReader::new(std::fs::File::open(&p).expect("committed data")),
        "btcusd_1h",
    )
    .expect("spot");
    assert_eq!(spot.len(), 8_209);
    let iv = series::realized_vol(&spot, 720);
    let from = Utc.with_ymd_and_hms(2021, 11, 1, 0, 0, 0).single();
    let to = Utc.with_ymd_and_hms(2021, 11, 8, 0, 0, 0).single();
    SeriesFeed::new(SyntheticMarket::btc(), spot, iv).window(from, to)
}

#[tokio::test]
async fn a_week_of_real_btc_hourly_data_trades_every_day_deterministically() {
    let bt = Backtest::new(profile(&committed("profiles/btc-hourly.toml")).expect("profile"));
    let r = bt.run(feed()).await.expect("backtest");
    assert_eq!(r.data.snapshots, 7 * 24 + 1);
    assert_eq!(r.sessions.len(), 7, "one strangle per IST day");
    let again = bt.run(feed()).await.expect("backtest");
    assert_eq!(r, again);
    let rep = r.report();
    assert_eq!(rep.to_json(&r), again.report().to_json(&again));
    assert_eq!(r.final_cash - r.initial_cash, rep.kpis.totals.net);
}

/// Backtests advance by events: with no session open the clock jumps to the next entry
/// window instead of stepping every poll. The result and the report are byte for byte those
/// of stepping every minute, on the committed data, with the settings of the tests below
/// too (stale exits that wait, model fills, settlement at expiry).
#[tokio::test]
async fn jumping_over_idle_time_changes_nothing_in_the_result() {
    let plain = profile(&committed("profiles/btc-hourly.toml")).expect("profile");
    let until = Utc.with_ymd_and_hms(2021, 11, 7, 6, 0, 0).single();
    for (name, p, stale) in [
        ("btc-hourly", plain, strangle_core::sim::StaleQuotes::Wait),
        (
            "ten-minute quotes",
            ten_minute_quotes(),
            strangle_core::sim::StaleQuotes::Wait,
        ),
        (
            "model fills",
            ten_minute_quotes(),
            strangle_core::sim::StaleQuotes::Model,
        ),
    ] {
        let bt = Backtest {
            until,
            stale_quotes: stale,
            ..Backtest::new(p)
        };
        let jumping = bt.run(feed()).await.expect("backtest");
        let stepping = Backtest {
            step_while_idle: true,
            ..bt.clone()
        }
        .run(feed())
        .await
        .expect("backtest");
        assert!(!jumping.sessions.is_empty(), "{name}: it trades");
        assert!(
            jumping.engine_steps * 2 < stepping.engine_steps,
            "{name}: idle time is jumped over ({} steps against {})",
            jumping.engine_steps,
            stepping.engine_steps
        );
        let json = |r: &strangle_core::backtest::BacktestResult| {
            serde_json::to_string(r).expect("serialises")
        };
        assert_eq!(json(&jumping), json(&stepping), "{name}");
        assert_eq!(
            jumping.report().to_json(&jumping),
            stepping.report().to_json(&stepping),
            "{name}"
        );
    }
}

/// The btc-hourly profile with quotes usable for 10 minutes, exiting five minutes before the
/// 12:00 UTC expiry: the exit finds the 11:00 quotes stale.
fn ten_minute_quotes() -> strangle_core::profile::Profile {
    let mut p = profile(&committed("profiles/btc-hourly.toml")).expect("profile");
    p.liquidity.max_quote_age_secs = 600;
    p.expiry_buffer_hours = 0;
    p.exit_time = strangle_core::profile::TimeOfDay::hm(18, 0).expect("time"); // after expiry
    p.exit_before_expiry_minutes = 5; // 11:55 UTC
    p.max_loss_pct = None;
    p.max_profit_pct = None;
    p.trailing = strangle_core::profile::Trailing::default();
    p
}

/// One run on the committed data shows the three honest-backtest rules in its report: exits
/// that wait for a fresh quote (none fills on an hour-old price), settlement at expiry, and
/// a session still open at `until` closed as `data_end`.
#[tokio::test]
async fn the_report_counts_stale_quote_waits_settlements_and_data_end() {
    let until = Utc
        .with_ymd_and_hms(2021, 11, 7, 6, 0, 0)
        .single()
        .expect("time");
    let bt = Backtest {
        until: Some(until),
        ..Backtest::new(ten_minute_quotes())
    };
    let r = bt.run(feed()).await.expect("backtest");
    let rep = r.report();
    let table = rep.to_table(&r);
    // Three days have strikes in the delta band on the day's expiry (the other days' nearest
    // strikes straddle it, and the audit trail says so).
    assert_eq!(r.sessions.len(), 3, "{table}");
    // Each exit came at 11:55 UTC on 11:00 quotes: it waited, and the 12:00 snapshot
    // (at the expiry itself) settled the legs before any order went out.
    assert_eq!(rep.exits_waited, 2, "{table}");
    assert_eq!(rep.longest_exit_wait_secs, Some(5 * 60), "{table}");
    let exit_orders = r
        .fills
        .iter()
        .filter(|(_, f)| f.client_order_id.is_some() && f.side == strangle_core::model::Side::Buy)
        .count();
    assert_eq!(exit_orders, 0, "nothing bought back on a stale quote");
    assert_eq!(rep.settlements, 4, "{table}");
    assert_eq!(rep.exit_reasons.get("settled"), Some(&2), "{table}");
    assert_eq!(rep.exit_reasons.get("data_end"), Some(&1), "{table}");
    assert_eq!(rep.orders_waited, 0);
    assert_eq!(rep.model_fills, 0);
    assert!(
        table.contains("2 exits waited for a fresh quote, longest 0h 05m"),
        "{table}"
    );
    let html = rep.to_html(&r);
    assert!(html.contains("<p>Stale quotes: 2 exits waited"), "{html}");
    assert!(html.contains("<p>Settlements: 4;"), "{html}");
}

/// With model pricing chosen, the same exits fill at 11:55 on Black-76 prices, counted.
#[tokio::test]
async fn model_priced_exits_fill_on_time_and_are_counted() {
    let until = Utc
        .with_ymd_and_hms(2021, 11, 7, 6, 0, 0)
        .single()
        .expect("time");
    let bt = Backtest {
        until: Some(until),
        stale_quotes: strangle_core::sim::StaleQuotes::Model,
        ..Backtest::new(ten_minute_quotes())
    };
    let r = bt.run(feed()).await.expect("backtest");
    let rep = r.report();
    let table = rep.to_table(&r);
    assert_eq!(rep.exits_waited, 0, "{table}");
    assert_eq!(rep.model_fills, 4, "both legs of two sessions: {table}");
    assert_eq!(rep.settlements, 0, "{table}");
    for (_, f) in r
        .fills
        .iter()
        .filter(|(_, f)| f.side == strangle_core::model::Side::Buy)
    {
        assert_eq!(f.timestamp.format("%H:%M").to_string(), "11:55");
        assert!(r.quote_stats.model_fills.contains(&f.fill_id));
    }
    assert!(table.contains("4 fills priced by the model"), "{table}");
}
