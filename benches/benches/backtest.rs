//! Criterion bench of backtest replay: the whole engine (strategy, simulated venue, ledger,
//! manual clock) over dense synthetic chains, reported as contract-quote updates per second.

#![allow(missing_docs)]

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;
use strangle_core::backtest::sweep::SharedFeed;
use strangle_core::backtest::Backtest;
use strangle_core::profile::Profile;
use strangle_core::sim::synthetic::SyntheticMarket;

fn replay(c: &mut Criterion) {
    // One IST day (entry at 09:30, exit at 15:20) of 1,002-contract BTC chains, one per
    // simulated minute: 1,441 snapshots, about 1.44 million quotes.
    let mut m = SyntheticMarket::btc();
    m.strikes_each_side = 83;
    m.strike_step = Decimal::from(200);
    let start = Utc
        .with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .expect("time");
    let chains = m.path(
        start,
        start + Duration::days(1),
        Duration::minutes(1),
        0.45,
        |t| Decimal::from(82_000 + ((t - start).num_minutes() % 400) - 200),
    );
    let quotes: u64 = chains.iter().map(|s| s.entries.len() as u64).sum();
    let data = Arc::new(chains);
    let mut p = Profile::named("bench");
    p.contracts_per_leg = Decimal::from(10);
    let bt = Backtest::new(p);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    // Sanity: the day trades one strangle.
    let r = rt
        .block_on(bt.run(SharedFeed::new(data.clone())))
        .expect("backtest");
    assert_eq!(r.sessions.len(), 1);
    assert_eq!(r.data.quotes, quotes);
    let mut g = c.benchmark_group("backtest");
    g.throughput(Throughput::Elements(quotes));
    g.sample_size(10);
    g.bench_function("replay/1_day_1000_contracts_1min", |b| {
        b.iter(|| {
            rt.block_on(bt.run(SharedFeed::new(data.clone())))
                .expect("backtest")
        })
    });
    // The same run stepping every minute while idle, as before backtests advanced by
    // events: the side-by-side figure for that change.
    let stepping = Backtest {
        step_while_idle: true,
        ..bt.clone()
    };
    g.bench_function("replay/1_day_1000_contracts_1min_stepping_idle", |b| {
        b.iter(|| {
            rt.block_on(stepping.run(SharedFeed::new(data.clone())))
                .expect("backtest")
        })
    });
    g.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
