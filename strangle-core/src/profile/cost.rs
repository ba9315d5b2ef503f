//! What a round trip of the profile's strangle costs, and the warnings when an exit threshold
//! lies within that cost.
//!
//! Selling at the bids and buying straight back at the asks loses the bid/ask spread and two
//! taker fees. An exit threshold (as % of premium) below that cost behaves differently from
//! what it seems to say: a close-now stop below it fires at once, a mark-basis profit exit can
//! realise a loss. [`Profile::round_trip`] measures the cost on a selection at current prices
//! (`strangle check`); [`Profile::fee_warnings`] needs no prices and warns when a threshold is
//! below what the fees alone can reach at the fee model's premium cap (`configs create/update`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{PnlBasis, Profile, Warning, WarningKind};
use crate::model::ChainEntry;

/// The cost of one round trip: sell both legs at the bids, buy them back at the asks, taker
/// fees both ways. USD, and % of the premium received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTrip {
    /// Premium received at the bids, USD.
    pub premium: Decimal,
    /// Entry and exit taker fees, USD.
    pub fees: Decimal,
    /// What the asks cost above the bids, USD.
    pub spread: Decimal,
    /// `fees + spread` as % of the premium: the close-now PnL right after entry, negated.
    pub pct: Decimal,
    /// The mark PnL right after entry, negated, as % of the premium: the marks above the bids
    /// plus the entry fees.
    pub mark_pct: Decimal,
}

fn pct_of(part: Decimal, whole: Decimal) -> Decimal {
    (part * Decimal::ONE_HUNDRED / whole).round_dp(2)
}

impl Profile {
    /// The round trip of `call` and `put` at their quotes with the underlying at `spot`, for
    /// `contracts_per_leg` contracts; `None` when a leg has no positive bid or no ask.
    pub fn round_trip(
        &self,
        call: &ChainEntry,
        put: &ChainEntry,
        spot: Decimal,
    ) -> Option<RoundTrip> {
        let (mut premium, mut fees, mut spread, mut marks) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let n = self.contracts_per_leg;
        for e in [call, put] {
            let q = &e.quote;
            let cs = e.contract.contract_size;
            let bid = q.bid.filter(|b| *b > Decimal::ZERO)?;
            let ask = q.ask.filter(|a| *a >= bid)?;
            premium += bid * n * cs;
            spread += (ask - bid) * n * cs;
            marks += (q.mark - bid).max(Decimal::ZERO) * n * cs;
            let entry_fee = self.fees.fee(spot, bid, cs, n, true);
            fees += entry_fee + self.fees.fee(spot, ask, cs, n, true);
            marks += entry_fee;
        }
        if premium <= Decimal::ZERO {
            return None;
        }
        Some(RoundTrip {
            premium,
            fees,
            spread,
            pct: pct_of(fees + spread, premium),
            mark_pct: pct_of(marks, premium),
        })
    }

    /// Warnings for exit thresholds within the round-trip cost `rt`, each naming its field and
    /// what the threshold will do on its basis.
    pub fn cost_warnings(&self, rt: &RoundTrip) -> Vec<Warning> {
        let mut out = Vec::new();
        let cost = format!(
            "the round trip costs {} % of premium at current prices ({} USD fees, {} USD bid/ask \
             spread on {} USD premium)",
            rt.pct,
            rt.fees.round_dp(4),
            rt.spread.round_dp(4),
            rt.premium.round_dp(4)
        );
        if let Some(v) = self.max_profit_pct.filter(|v| *v < rt.pct) {
            let what = match self.exit_basis.max_profit {
                PnlBasis::CloseNow => format!(
                    "on the close-now basis it fires only once the premium has decayed by about \
                     {} %",
                    v + rt.pct
                ),
                PnlBasis::Mark => "on the mark basis the exit can realise a loss (the mark \
                                   leaves out the ask and the exit fee)"
                    .to_string(),
            };
            out.push(Warning::new(
                "max_profit_pct",
                WarningKind::ProfitWithinCost,
                format!("{v} % is below the cost: {cost}; {what}"),
            ));
        }
        if let Some(v) = self.max_loss_pct {
            let (at_entry, basis) = match self.exit_basis.max_loss {
                PnlBasis::CloseNow => (rt.pct, "close-now"),
                PnlBasis::Mark => (rt.mark_pct, "mark"),
            };
            if v <= at_entry {
                out.push(Warning::new(
                    "max_loss_pct",
                    WarningKind::LossFiresAtOnce,
                    format!(
                        "{v} % fires at once: right after entry the {basis} PnL is already \
                         −{at_entry} % ({cost})"
                    ),
                ));
            } else if v < rt.pct {
                out.push(Warning::new(
                    "max_loss_pct",
                    WarningKind::LossWithinCost,
                    format!("{v} % is below the cost: {cost}; a small move stops the strangle out"),
                ));
            }
        }
        out
    }

    /// The most the two taker fees of a round trip can cost, as % of premium: both sides at
    /// the fee model's premium cap, plus tax (the fees are lower when the notional rate is
    /// below the cap).
    pub fn capped_round_trip_fee_pct(&self) -> Decimal {
        let f = &self.fees;
        Decimal::TWO * f.premium_cap_pct * (Decimal::ONE_HUNDRED + f.tax_pct) / Decimal::ONE_HUNDRED
    }

    /// Warnings that need no prices: an exit threshold below
    /// [`Profile::capped_round_trip_fee_pct`]; `strangle check` measures the cost at current
    /// prices.
    pub fn fee_warnings(&self) -> Vec<Warning> {
        let f = &self.fees;
        let cap = self.capped_round_trip_fee_pct();
        let mut out = Vec::new();
        for (field, v) in [
            ("max_profit_pct", self.max_profit_pct),
            ("max_loss_pct", self.max_loss_pct),
            ("leg_exit.stop_pct", self.leg_exit.stop_pct),
            ("leg_exit.target_pct", self.leg_exit.target_pct),
        ] {
            if let Some(v) = v.filter(|v| *v < cap) {
                out.push(Warning::new(
                    field,
                    WarningKind::WithinCappedFees,
                    format!(
                        "{v} % may be within the round-trip fees alone: entry and exit fees can \
                         reach {} % of premium (two sides at the {} % premium cap plus {} % \
                         tax); `strangle check` measures the cost at current prices",
                        cap.normalize(),
                        f.premium_cap_pct.normalize(),
                        f.tax_pct.normalize()
                    ),
                ));
            }
        }
        out
    }
}
