//! What `strangle sim-server` quotes: with `--replay FILE` a recorded chain file served as
//! Delta's market, each snapshot when the market clock reaches it (a client polling a ticker
//! sees the file's quotes in the file's order); without it the synthetic market, the same for
//! the same `--seed` and `--start` at the same market instant.

mod common;

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::{sim_server_with, Dir};
use rust_decimal::Decimal;
use strangle_core::data::ChainWriter;
use strangle_core::sim::synthetic::SyntheticMarket;

#[test]
fn a_replayed_chain_file_is_served_in_order() {
    let d = Dir::new("replay");
    let path = d.path("chain.csv");
    let first = Utc
        .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("instant");
    // Four snapshots a minute apart, spot rising 100 USD each.
    let market = SyntheticMarket::btc();
    let snaps: Vec<_> = (0..4)
        .map(|i| {
            market.chain(
                first + chrono::Duration::minutes(i),
                Decimal::from(82_000 + 100 * i),
                0.45,
            )
        })
        .collect();
    let mut w = ChainWriter::new(std::fs::File::create(&path).expect("file")).expect("writer");
    for s in &snaps {
        w.write(s).expect("written");
    }
    w.finish().expect("flushed");
    // A contract listed in every snapshot (the strike grid follows spot).
    let symbol = snaps[0]
        .entries
        .iter()
        .map(|e| e.contract.symbol.to_string())
        .find(|sym| snaps.iter().all(|s| s.get(sym).is_some()))
        .expect("a contract listed throughout");
    let want: Vec<(i64, String)> = snaps
        .iter()
        .map(|s| {
            let e = s.get(&symbol).expect("listed in every snapshot");
            (s.timestamp.timestamp_micros(), e.quote.mark.to_string())
        })
        .collect();

    // 60x: a market minute per real second.
    let file = path.to_string_lossy().to_string();
    let (_s, url, banner) = sim_server_with(&["--replay", &file, "--speed", "60"]);
    assert!(
        banner
            .iter()
            .any(|l| l.contains("replay of") && l.contains("4 snapshots")),
        "{banner:?}"
    );
    let seen = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let http = reqwest::Client::builder()
                .user_agent("replay-test")
                .build()
                .expect("client");
            let mut seen: Vec<(i64, String)> = Vec::new();
            let begun = Instant::now();
            while seen.len() < want.len() && begun.elapsed() < Duration::from_secs(30) {
                let (at, mark, _) = ticker(&http, &url, &symbol).await;
                let got = (at, mark);
                if seen.last() != Some(&got) {
                    seen.push(got);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        });
    assert_eq!(seen, want, "every snapshot, in the file's order");
}

#[test]
fn a_spot_series_is_not_replayed() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strangle"))
        .args([
            "sim-server",
            "--port",
            "0",
            "--start",
            "2026-03-10T04:00:00Z",
            "--replay",
        ])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/data/btcusd_1h_20210324_20220301.csv"
        ))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a spot series has no quotes to replay"),
        "{err}"
    );
}

/// `symbol`'s ticker on the server at `url`: quote time (µs), mark price, best bid.
async fn ticker(http: &reqwest::Client, url: &str, symbol: &str) -> (i64, String, String) {
    let v: serde_json::Value = http
        .get(format!("{url}/v2/tickers/{symbol}"))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let t = &v["result"];
    (
        t["timestamp"].as_i64().expect("timestamp"),
        t["mark_price"].as_str().expect("mark").to_string(),
        t["quotes"]["best_bid"].to_string(),
    )
}

/// A ticker's (quote time, mark, best bid) on the server at `url`, polled for `span`.
async fn marks_over(
    url: &str,
    symbol: &str,
    span: Duration,
) -> std::collections::BTreeMap<i64, (String, String)> {
    let http = reqwest::Client::builder()
        .user_agent("seed-test")
        .build()
        .expect("client");
    let mut seen = std::collections::BTreeMap::new();
    let begun = Instant::now();
    while begun.elapsed() < span {
        let (at, mark, bid) = ticker(&http, url, symbol).await;
        seen.insert(at, (mark, bid));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    seen
}

/// Marks by market time, as `marks_over` collects them.
type Marks = std::collections::BTreeMap<i64, (String, String)>;

#[test]
fn the_same_seed_quotes_the_same_market_at_the_same_market_time() {
    // Three servers from the same instant at 60x: two with seed 7, one with seed 8. Whenever
    // two of them quote the same market instant, seed 7 agrees with itself to the digit and
    // seed 8 does not.
    let args = |seed: &'static str| ["--speed", "60", "--seed", seed];
    let (_a, a, banner) = sim_server_with(&args("7"));
    assert!(
        banner.iter().any(|l| l.contains("seed 7")),
        "the banner states the seed: {banner:?}"
    );
    let (_b, b, _) = sim_server_with(&args("7"));
    let (_c, c, _) = sim_server_with(&args("8"));
    let symbol = "C-BTC-82500-100326";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The three clocks run from each server's own start, so a server that started later
    // quotes the same instants later: keep reading (3 s at a time, at most 30 s) until the
    // servers have quoted enough common instants, however far apart a loaded machine
    // started them.
    let (mut ma, mut mb, mut mc) = (Marks::new(), Marks::new(), Marks::new());
    for _ in 0..10 {
        let (ra, rb, rc) = rt.block_on(async {
            let span = Duration::from_secs(3);
            tokio::join!(
                marks_over(&a, symbol, span),
                marks_over(&b, symbol, span),
                marks_over(&c, symbol, span)
            )
        });
        ma.extend(ra);
        mb.extend(rb);
        mc.extend(rc);
        let common = |x: &Marks, y: &Marks| x.keys().filter(|t| y.contains_key(t)).count();
        if common(&ma, &mb) >= 3 && common(&ma, &mc) >= 1 {
            break;
        }
    }
    let same: Vec<_> = ma.keys().filter(|t| mb.contains_key(t)).collect();
    assert!(same.len() >= 3, "a few common instants: {}", same.len());
    for t in &same {
        assert_eq!(ma[*t], mb[*t], "seed 7 at {t}");
    }
    let other: Vec<_> = ma.keys().filter(|t| mc.contains_key(t)).collect();
    assert!(!other.is_empty());
    assert!(
        other.iter().any(|t| ma[*t] != mc[*t]),
        "another seed, another market"
    );
}
