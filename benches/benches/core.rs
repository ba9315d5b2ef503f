//! Criterion benches of the core's hot paths: strike selection over a full chain, one
//! strategy decision on a quote update (tick-to-decision), and PnL of a session.

#![allow(missing_docs)]

use chrono::{Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use strangle_core::ledger::Mode;
use strangle_core::profile::{Gates, Profile, Weekday};
use strangle_core::schedule::ist_date;
use strangle_core::select::select;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::strategy::{Event, Strategy};

fn selection(c: &mut Criterion) {
    // 3 expiries x 167 strikes x 2 kinds = 1,002 contracts.
    let mut m = SyntheticMarket::btc();
    m.strikes_each_side = 83;
    m.strike_step = Decimal::from(200);
    let t = Utc
        .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("time");
    let chain = m.chain(t, Decimal::from(82_000), 0.45);
    assert!(chain.entries.len() >= 1000);
    let p = Profile::named("bench");
    c.bench_function("select/1000_contracts", |b| {
        b.iter(|| select(black_box(&chain), black_box(&p), t))
    });
    // The same decision with every entry gate set (all open on this chain): what the gates
    // add to an entry decision, side by side with the plain one.
    let mut gated = p.clone();
    gated.gates = all_gates();
    c.bench_function("select/1000_contracts_all_gates", |b| {
        b.iter(|| {
            let g = &black_box(&gated).gates;
            g.check_day(ist_date(t)).expect("an open day");
            let sel = select(black_box(&chain), &gated, t).expect("a selection");
            g.check_market(&chain, sel.expiry, &sel.call, &sel.put, t)
                .expect("an open market");
            sel
        })
    });
}

fn tick_to_decision(c: &mut Criterion) {
    let m = SyntheticMarket::btc();
    let t = Utc
        .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("time");
    let chain = m.chain(t, Decimal::from(82_000), 0.45);
    let mut gated = Profile::named("bench");
    gated.gates = all_gates();
    // The plain profile, then the same with every entry gate set: gates decide entries, so
    // an open session's quote update should cost the same (side by side in one run).
    for (name, profile) in [
        ("strategy/quote_update_to_decision", Profile::named("bench")),
        ("strategy/quote_update_to_decision_all_gates", gated),
    ] {
        let mut s = Strategy::new(profile, Mode::Backtest);
        // Enter, fill both legs, and reach the open state.
        strangle_benches::open_strangle(&mut s, &chain, t);
        let quotes: Vec<_> = s
            .session()
            .expect("open session")
            .legs
            .iter()
            .filter_map(|g| chain.get(&g.symbol).map(|e| e.quote.clone()))
            .collect();
        let now = t + Duration::seconds(1);
        c.bench_function(name, |b| {
            b.iter(|| {
                s.handle(
                    now,
                    Event::Quotes {
                        spot: Some(Decimal::from(82_000)),
                        quotes: black_box(quotes.clone()),
                    },
                )
            })
        });
    }
}

/// Every entry gate set, all open on the benches' synthetic chain (a Tuesday, 45 % IV).
fn all_gates() -> Gates {
    let mut g = Gates::default();
    g.weekdays = vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu];
    g.max_hours_to_expiry = Some(24 * 40);
    g.min_atm_iv_pct = Some(Decimal::from(10));
    g.max_atm_iv_pct = Some(Decimal::from(200));
    g.max_pair_spread_pct = Some(Decimal::from(100));
    g
}

criterion_group!(benches, selection, tick_to_decision);
criterion_main!(benches);
