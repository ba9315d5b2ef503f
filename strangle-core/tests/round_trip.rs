//! The round-trip cost of a strangle and the warnings on exit thresholds within it.

mod common;

use common::*;
use rust_decimal_macros::dec;
use strangle_core::profile::{PnlBasis, Profile, WarningKind};

fn legs() -> (
    strangle_core::model::ChainEntry,
    strangle_core::model::ChainEntry,
) {
    let c = market(
        at(4, 0),
        dec!(82000),
        px(dec!(500), dec!(510), dec!(505)),
        px(dec!(400), dec!(410), dec!(405)),
    );
    let get = |s: &str| {
        c.entries
            .iter()
            .find(|e| e.contract.symbol == s)
            .cloned()
            .expect("listed")
    };
    (get(CALL), get(PUT))
}

fn rt(p: &Profile) -> strangle_core::profile::RoundTrip {
    let (call, put) = legs();
    p.round_trip(&call, &put, dec!(82000)).expect("priced")
}

#[test]
fn the_round_trip_adds_two_taker_fees_and_the_spread() {
    let r = rt(&profile());
    // 10 contracts of 0.001 BTC: premium (500 + 400) × 0.01 = 9 USD; asks 10 above the bids.
    assert_eq!(r.premium, dec!(9));
    assert_eq!(r.spread, dec!(0.2));
    // Each fill: 0.03 % of 82,000 × 0.01 = 0.246 USD (below the 10 % cap); four fills.
    assert_eq!(r.fees, dec!(0.984));
    assert_eq!(r.pct, dec!(13.16));
    // Right after entry the marks stand 5 above the bids, and the entry fees are paid.
    assert_eq!(r.mark_pct, dec!(6.58));
}

/// The (field, kind) of each warning.
fn kinds(p: &Profile) -> Vec<(String, WarningKind)> {
    p.cost_warnings(&rt(p))
        .into_iter()
        .map(|w| (w.field, w.kind))
        .collect()
}

fn one(field: &str, kind: WarningKind) -> Vec<(String, WarningKind)> {
    vec![(field.to_string(), kind)]
}

#[test]
fn thresholds_within_the_cost_are_named_with_what_they_will_do() {
    let mut p = profile();
    assert!(kinds(&p).is_empty(), "the defaults are far from the cost");
    // 10 % is below the 13.16 % round trip, whatever the basis.
    p.max_profit_pct = Some(dec!(10));
    assert_eq!(
        kinds(&p),
        one("max_profit_pct", WarningKind::ProfitWithinCost)
    );
    p.exit_basis.max_profit = PnlBasis::Mark;
    assert_eq!(
        kinds(&p),
        one("max_profit_pct", WarningKind::ProfitWithinCost)
    );
    p.max_profit_pct = Some(dec!(13.16));
    assert!(kinds(&p).is_empty(), "at the cost itself: no warning");

    // On the mark basis the PnL right after entry is −6.58 %: a 5 % stop fires at once, a
    // 10 % one sits inside the 13.16 % round trip.
    p.max_loss_pct = Some(dec!(5));
    assert_eq!(kinds(&p), one("max_loss_pct", WarningKind::LossFiresAtOnce));
    p.max_loss_pct = Some(dec!(10));
    assert_eq!(kinds(&p), one("max_loss_pct", WarningKind::LossWithinCost));
    // On the close-now basis the PnL right after entry is −13.16 %: 10 % fires at once.
    p.exit_basis.max_loss = PnlBasis::CloseNow;
    assert_eq!(kinds(&p), one("max_loss_pct", WarningKind::LossFiresAtOnce));
    p.max_loss_pct = Some(dec!(13.17));
    assert!(kinds(&p).is_empty());
}

#[test]
fn without_prices_a_threshold_below_the_capped_fees_is_named() {
    let mut p = Profile::named("fees");
    // Delta's default fee model: 10 % cap per side, 18 % GST: up to 23.6 % both ways.
    assert_eq!(p.capped_round_trip_fee_pct(), dec!(23.6));
    assert!(p.fee_warnings().is_empty());
    p.max_profit_pct = Some(dec!(10));
    let w: Vec<_> = p
        .fee_warnings()
        .into_iter()
        .map(|w| (w.field, w.kind))
        .collect();
    assert_eq!(w, one("max_profit_pct", WarningKind::WithinCappedFees));
    // A leg's stop is a % of that leg's premium, which the same fees come out of.
    p.max_profit_pct = Some(dec!(80));
    p.leg_exit.stop_pct = Some(dec!(20));
    let w: Vec<_> = p
        .fee_warnings()
        .into_iter()
        .map(|w| (w.field, w.kind))
        .collect();
    assert_eq!(w, one("leg_exit.stop_pct", WarningKind::WithinCappedFees));
}
