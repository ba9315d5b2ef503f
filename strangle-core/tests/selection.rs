//! Strike-selection rules on the scripted chain.

mod common;

use common::*;
use rust_decimal_macros::dec;
use strangle_core::model::OptionKind;
use strangle_core::profile::{PickRule, PremiumWindows, PriceWindow, StrikeMode};
use strangle_core::select::{select, NoEntry};

fn chain() -> strangle_core::model::ChainSnapshot {
    market(
        at(4, 0),
        dec!(82000),
        px(dec!(500), dec!(510), dec!(505)),
        px(dec!(400), dec!(410), dec!(405)),
    )
}

#[test]
fn closest_to_mid_on_the_first_expiry_outside_the_buffer() {
    let sel = select(&chain(), &profile(), at(4, 0)).expect("selection");
    assert_eq!(sel.call.contract.symbol, CALL); // |0.12 - 0.125| beats |0.14 - 0.125|
    assert_eq!(sel.put.contract.symbol, PUT); // |0.13 - 0.125| beats |0.11 - 0.125|
                                              // With no buffer, today's in-band contracts win.
    let mut p = profile();
    p.expiry_buffer_hours = 0;
    let sel = select(&chain(), &p, at(4, 0)).expect("selection");
    assert_eq!(sel.call.contract.symbol, "C-BTC-86000-100326");
    assert_eq!(sel.put.contract.symbol, "P-BTC-78000-100326");
}

#[test]
fn highest_delta_rule() {
    let mut p = profile();
    p.pick_rule = PickRule::HighestDelta;
    let sel = select(&chain(), &p, at(4, 0)).expect("selection");
    assert_eq!(sel.call.contract.symbol, "C-BTC-88000-110326");
    assert_eq!(sel.put.contract.symbol, PUT);
}

#[test]
fn band_ends_are_inclusive() {
    let mut p = profile();
    p.delta_band.low = 0.20;
    p.delta_band.high = 0.22;
    let sel = select(&chain(), &p, at(4, 0)).expect("selection");
    assert_eq!(sel.call.contract.symbol, "C-BTC-86000-110326"); // 0.20, the low edge
    assert_eq!(sel.put.contract.symbol, "P-BTC-78000-110326"); // -0.22, the high edge
}

#[test]
fn ties_go_further_out_of_the_money() {
    let mut c = chain();
    for e in &mut c.entries {
        if e.contract.symbol == "C-BTC-88000-110326" {
            e.quote.greeks.as_mut().expect("greeks").delta = 0.13; // ties with 90000 (0.12)
        }
    }
    let sel = select(&c, &profile(), at(4, 0)).expect("selection");
    assert_eq!(
        sel.call.contract.symbol, CALL,
        "90000 is further OTM than 88000"
    );
}

#[test]
fn liquidity_filters_and_stale_quotes_are_reported() {
    let mut c = chain();
    for e in &mut c.entries {
        if e.contract.kind == OptionKind::Put {
            e.quote.bid = None;
        }
    }
    match select(&c, &profile(), at(4, 0)) {
        Err(NoEntry::NoContract {
            kind: OptionKind::Put,
            rejected,
            ..
        }) => {
            assert_eq!(rejected.listed, 4);
            assert_eq!(rejected.outside, 2, "two puts are outside the band");
            assert_eq!(rejected.illiquid, 2, "two in-band puts have no bid");
        }
        other => panic!("expected no put, got {other:?}"),
    }
    // Quotes older than the configured age are never used.
    let err = select(&chain(), &profile(), at(4, 3)).expect_err("stale");
    let msg = err.to_string();
    assert!(msg.contains("4 stale"), "{msg}");
    // Spread filter.
    let mut p = profile();
    p.liquidity.max_spread_pct = Some(dec!(1));
    assert!(
        select(&chain(), &p, at(4, 0)).is_err(),
        "10/505 is a 2 % spread"
    );
    // Contract size check against the product.
    p = profile();
    p.contract_size = Some(dec!(0.01));
    assert!(select(&chain(), &p, at(4, 0))
        .expect_err("wrong size")
        .to_string()
        .contains("4 wrong contract size"));
}

#[test]
fn no_expiry_far_enough() {
    let mut p = profile();
    p.expiry_buffer_hours = 48;
    assert!(matches!(
        select(&chain(), &p, at(4, 0)),
        Err(NoEntry::NoExpiry {
            buffer_hours: 48,
            ..
        })
    ));
    let mut empty = chain();
    empty.entries.clear();
    assert_eq!(select(&empty, &p, at(4, 0)), Err(NoEntry::EmptyChain));
}

#[test]
fn premium_mode_picks_the_bid_closest_to_the_window_middle() {
    let mut p = profile();
    p.strike_mode = StrikeMode::Premium;
    p.premium_windows = Some(PremiumWindows {
        call: PriceWindow {
            min: dec!(90),
            max: dec!(120),
        },
        put: PriceWindow {
            min: dec!(300),
            max: dec!(450),
        },
    });
    let sel = select(&chain(), &p, at(4, 0)).expect("selection");
    assert_eq!(sel.call.quote.bid, Some(dec!(100)));
    assert_eq!(
        sel.call.contract.symbol, "C-BTC-92000-110326",
        "ties at bid 100 go furthest OTM"
    );
    assert_eq!(sel.put.contract.symbol, PUT);
}

#[test]
fn an_empty_band_names_the_nearest_contracts_on_each_side() {
    let mut p = profile();
    p.delta_band.low = 0.15;
    p.delta_band.high = 0.19;
    let err = select(&chain(), &p, at(4, 0)).expect_err("nothing in 0.15–0.19");
    match &err {
        NoEntry::NoContract {
            kind: OptionKind::Call,
            nearest,
            ..
        } => {
            let below = nearest.below.as_ref().expect("a call under the band");
            let above = nearest.above.as_ref().expect("a call over the band");
            assert_eq!((below.strike, below.value), (dec!(88000), dec!(0.14)));
            assert_eq!((above.strike, above.value), (dec!(86000), dec!(0.2)));
        }
        other => panic!("expected no call, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("no |delta| in 0.15–0.19 (nearest: 86000 at 0.2, 88000 at 0.14)"),
        "{msg}"
    );
    // The same cause with other values is the same cause; another expiry or side is not.
    let mut moved = chain();
    for e in &mut moved.entries {
        if e.contract.symbol == "C-BTC-88000-110326" {
            e.quote.greeks.as_mut().expect("greeks").delta = 0.145;
        }
    }
    let again = select(&moved, &p, at(4, 0)).expect_err("still nothing");
    assert_ne!(again, err);
    assert!(again.same_cause(&err));
    assert!(!NoEntry::EmptyChain.same_cause(&err));
}

/// Two contracts equally near the band: the one named does not depend on the chain's order
/// (the lower symbol), so a replay explains a missed entry the same way every time.
#[test]
fn equally_near_contracts_are_named_whatever_the_order() {
    let mut p = profile();
    p.delta_band.low = 0.15;
    p.delta_band.high = 0.19;
    let mut c = chain();
    for e in &mut c.entries {
        if e.contract.symbol == "C-BTC-86000-110326" {
            e.quote.greeks.as_mut().expect("greeks").delta = 0.14;
        }
    }
    let named = |c: &strangle_core::model::ChainSnapshot| match select(c, &p, at(4, 0)) {
        Err(NoEntry::NoContract {
            kind: OptionKind::Call,
            nearest,
            ..
        }) => nearest.below.expect("a call under the band").symbol,
        other => panic!("expected no call, got {other:?}"),
    };
    let first = named(&c);
    c.entries.reverse();
    assert_eq!(named(&c), first);
    assert_eq!(first, "C-BTC-86000-110326");
}
