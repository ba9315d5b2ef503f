//! The round-trip cost of a strangle and the warnings on exit thresholds within it.

mod common;

use common::*;
use rust_decimal_macros::dec;
use strangle_core::profile::{PnlBasis, Profile};

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

#[test]
fn thresholds_within_the_cost_are_named_with_what_they_will_do() {
    let mut p = profile();
    assert!(
        p.cost_warnings(&rt(&p)).is_empty(),
        "the defaults are far from the cost"
    );

    p.max_profit_pct = Some(dec!(10));
    let w = p.cost_warnings(&rt(&p));
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].field, "max_profit_pct");
    assert!(
        w[0].message.contains("decayed by about 23.16 %"),
        "{}",
        w[0].message
    );
    p.exit_basis.max_profit = PnlBasis::Mark;
    let w = p.cost_warnings(&rt(&p));
    assert!(w[0].message.contains("realise a loss"), "{}", w[0].message);

    p.max_profit_pct = Some(dec!(50));
    p.max_loss_pct = Some(dec!(5));
    let w = p.cost_warnings(&rt(&p));
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].field, "max_loss_pct");
    assert!(w[0].message.contains("fires at once"), "{}", w[0].message);
    assert!(
        w[0].message.contains("mark PnL is already −6.58 %"),
        "{}",
        w[0].message
    );
    p.max_loss_pct = Some(dec!(10));
    let w = p.cost_warnings(&rt(&p));
    assert!(w[0].message.contains("small move"), "{}", w[0].message);
    p.exit_basis.max_loss = PnlBasis::CloseNow;
    let w = p.cost_warnings(&rt(&p));
    assert!(
        w[0].message.contains("close-now PnL is already −13.16 %"),
        "{}",
        w[0].message
    );
}

#[test]
fn without_prices_a_threshold_below_the_capped_fees_is_named() {
    let mut p = Profile::named("fees");
    assert!(p.fee_warnings().is_empty());
    // Delta's default fee model: 10 % cap per side, 18 % GST: up to 23.6 % both ways.
    p.max_profit_pct = Some(dec!(10));
    let w = p.fee_warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].field, "max_profit_pct");
    assert!(w[0].message.contains("reach 23.6 %"), "{}", w[0].message);
}
