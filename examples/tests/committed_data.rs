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
    assert_eq!(r.final_cash - r.initial_cash, rep.kpis.net);
}
