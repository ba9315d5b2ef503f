//! Criterion benches of the core's hot paths: strike selection over a full chain, one
//! strategy decision on a quote update (tick-to-decision), and the account risk governor's
//! look at a book of sessions.

#![allow(missing_docs)]

use chrono::{Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use strangle_core::governor::{AccountRisk, Book, Governor, SessionView};
use strangle_core::ledger::Mode;
use strangle_core::profile::{Gates, Profile, Survivor, Weekday};
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
    // Leg rules that do not fire on this chain: each quote update evaluates both legs' stop,
    // target and cost rules.
    let mut legs = Profile::named("bench");
    legs.leg_exit.stop_pct = Some(Decimal::from(60));
    legs.leg_exit.target_pct = Some(Decimal::from(95));
    legs.leg_exit.on_stop = Survivor::ExitLegAndMoveOtherToCost;
    // The plain profile, then the same with every entry gate set (gates decide entries, so
    // an open session's quote update should cost the same), then with leg rules (side by
    // side in one run).
    for (name, profile) in [
        ("strategy/quote_update_to_decision", Profile::named("bench")),
        ("strategy/quote_update_to_decision_all_gates", gated),
        ("strategy/quote_update_to_decision_leg_rules", legs),
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

/// The account risk governor reading a book of ten sessions (five open), as `serve` does every
/// poll and a portfolio backtest every interval.
fn governor_observe(c: &mut Criterion) {
    let t = Utc
        .with_ymd_and_hms(2026, 3, 10, 6, 0, 0)
        .single()
        .expect("time");
    let day = t.date_naive();
    let sessions: Vec<SessionView> = (0..10)
        .map(|i| {
            let net = Decimal::new(-(i * 137), 2);
            if i % 2 == 0 {
                SessionView::open("p", &format!("s{i}"), day, net)
            } else {
                SessionView::closed("p", &format!("s{i}"), day, net)
            }
        })
        .collect();
    let book = Book {
        now: t,
        sessions,
        available_balance: Some(Decimal::from(10_000)),
    };
    let mut limits = AccountRisk::default();
    limits.daily_loss_usd = Some(Decimal::from(1_000));
    limits.mtm_stop_usd = Some(Decimal::from(800));
    limits.mtm_target_usd = Some(Decimal::from(2_000));
    limits.reduce_below_available_usd = Some(Decimal::from(500));
    let mut g = Governor::new(limits);
    c.bench_function("governor/observe_10_sessions", |b| {
        b.iter(|| g.observe(black_box(&book)))
    });
}

criterion_group!(benches, selection, tick_to_decision, governor_observe);
criterion_main!(benches);
