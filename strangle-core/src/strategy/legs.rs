//! Leg-wise exits of an open strangle ([`crate::profile::LegExit`]): each leg's stop and
//! target, the stop at cost of the leg left after the other's stop, and buying one leg back
//! while the session stays open.
//!
//! A leg rule that closes one leg sets that leg's `exit_reason`; the leg is then bought back
//! like any exit (the same pricing, attempts and fallback) while the session's own rules keep
//! watching the whole. Once every leg is flat the session closes with the last leg's reason.
//! A leg's stop under `exit_all` closes the whole strangle at once.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{orders, Action, Live, Phase, Strategy};
use crate::audit::EventKind;
use crate::ledger::{LegRecord, SessionRecord};
use crate::profile::{PnlBasis, Profile, Survivor};
use crate::risk::ExitReason;

/// Leg `i`'s net PnL and the premium it brought in (USD), on `basis`, at its quote if that is
/// fresh at `now`. `with_exit_fee` counts the fee of buying it back on the mark basis too (the
/// close-now basis always counts it). `None` without a fresh quote, a price to buy at (close
/// now), a spot for the fee, or premium. The rules compare these without dividing (a quote
/// update is the hot path); the percentage is worked out only for the audit line.
fn leg_net(
    profile: &Profile,
    live: &Live,
    spot: Option<Decimal>,
    now: DateTime<Utc>,
    i: usize,
    basis: PnlBasis,
    with_exit_fee: bool,
) -> Option<(Decimal, Decimal)> {
    let g = live.rec.legs.get(i)?;
    let q = live.fresh_quote(i, now, profile.liquidity.max_quote_age_secs)?;
    let premium = g.book.sold_value * g.contract_size;
    if premium <= Decimal::ZERO {
        return None;
    }
    let open = g.book.open();
    let fee_at = |price: Decimal| -> Option<Decimal> {
        let spot = spot.or(q.spot)?;
        Some(profile.fees.fee(spot, price, g.contract_size, open, true))
    };
    let net = match basis {
        PnlBasis::Mark if with_exit_fee => {
            g.book
                .close_now(q.mark, g.contract_size, fee_at(q.mark)?)
                .net
        }
        PnlBasis::Mark => g.book.pnl(q.mark, g.contract_size).net,
        PnlBasis::CloseNow => {
            let ask = orders::buy_price(profile, q, g.tick_size, 1)?;
            g.book.close_now(ask, g.contract_size, fee_at(ask)?).net
        }
    };
    Some((net, premium))
}

/// `net` in % of `premium`, to six places.
fn pct((net, premium): (Decimal, Decimal)) -> Decimal {
    (net * Decimal::ONE_HUNDRED / premium).round_dp(6)
}

/// Applies the leg policy to a resumed session whose legs' venue stops fired while strangle
/// was down (reconciliation marked them `venue_stop`): with `exit_leg_and_move_other_to_cost`,
/// every other open leg's stop moves to its cost.
pub(super) fn keep_survivors(profile: &Profile, rec: &mut SessionRecord) {
    let stopped = rec
        .legs
        .iter()
        .any(|g| g.exit_reason == Some(ExitReason::VenueStop));
    if stopped && profile.leg_exit.on_stop == Survivor::ExitLegAndMoveOtherToCost {
        move_to_cost(&mut rec.legs);
    }
}

/// Moves the stop of every leg still running (no exit of its own, contracts open) to its
/// cost; returns an audit line for each.
fn move_to_cost(legs: &mut [LegRecord]) -> Vec<String> {
    legs.iter_mut()
        .filter(|o| o.exit_reason.is_none() && o.book.open() > Decimal::ZERO)
        .map(|o| {
            o.stop_at_cost = true;
            let cost = o.book.entry_price().unwrap_or_default().round_dp(8);
            format!(
                "{}: stop moves to its cost (sold at {cost} on average; bought back once closing \
                 it would no longer leave a profit, fees included)",
                o.symbol
            )
        })
        .collect()
}

/// The trigger of leg `i`'s own stop at the venue: where its loss reaches `leg_exit.stop_pct`
/// of its premium, or, once its stop is at cost, its average sale price (fees left out, so the
/// venue never fires before the strategy's own rule). `None` when neither applies.
pub(super) fn leg_stop_level(profile: &Profile, live: &Live, i: usize) -> Option<Decimal> {
    let g = live.rec.legs.get(i)?;
    let units = g.book.open() * g.contract_size;
    if units <= Decimal::ZERO {
        return None;
    }
    let received = (g.book.sold_value - g.book.bought_value) * g.contract_size;
    let premium = g.book.sold_value * g.contract_size;
    let at_cost = g.stop_at_cost.then_some(received / units);
    let at_stop = profile
        .leg_exit
        .stop_pct
        .map(|s| (received + s / Decimal::ONE_HUNDRED * premium) / units);
    [at_cost, at_stop].into_iter().flatten().min()
}

impl Strategy {
    /// Evaluates the leg rules of an open session on its fresh quotes (after the session's
    /// own rules, which win).
    pub(super) fn check_leg_exits(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let rules = self.profile.leg_exit;
        if !rules.is_set() {
            return;
        }
        let basis = self.profile.exit_basis;
        for i in 0..2 {
            if self.phase != Phase::Open {
                return;
            }
            let Some(l) = self.live.as_ref() else { return };
            let Some(g) = l.rec.legs.get(i) else { continue };
            if g.exit_reason.is_some() || g.book.open() <= Decimal::ZERO {
                continue;
            }
            let net = |b, fee| leg_net(&self.profile, l, self.spot, now, i, b, fee);
            let hundred = Decimal::ONE_HUNDRED;
            // Each rule reads its basis only when it is set, and compares without dividing.
            let cost = g
                .stop_at_cost
                .then(|| net(basis.max_loss, true))
                .flatten()
                .filter(|(n, _)| *n <= Decimal::ZERO);
            let loss = rules
                .stop_pct
                .and_then(|s| net(basis.max_loss, false).filter(|(n, p)| *n * hundred <= -s * *p));
            let target = rules
                .target_pct
                .and_then(|t| net(basis.max_profit, false).filter(|(n, p)| *n * hundred >= t * *p));
            let fired = match (cost, loss, target) {
                (Some(x), _, _) => Some((ExitReason::LegCostStop, pct(x))),
                (None, Some(x), _) => Some((ExitReason::LegStop, pct(x))),
                (None, None, Some(x)) => Some((ExitReason::LegTarget, pct(x))),
                _ => None,
            };
            if let Some((reason, p)) = fired {
                self.begin_leg_exit(now, i, reason, Some(p), out);
            }
        }
    }

    /// Closes leg `i` alone for `reason` (its PnL `pct` of its premium, when known), and
    /// applies the leg policy: a stop under `exit_all` closes the whole strangle instead, and
    /// under `exit_leg_and_move_other_to_cost` moves the other leg's stop to its cost.
    pub(super) fn begin_leg_exit(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        reason: ExitReason,
        pct: Option<Decimal>,
        out: &mut Vec<Action>,
    ) {
        let policy = self.profile.leg_exit.on_stop;
        let is_stop = matches!(reason, ExitReason::LegStop | ExitReason::VenueStop);
        if is_stop && policy == Survivor::ExitAll {
            self.begin_exit(now, reason, out);
            return;
        }
        let Some(l) = self.live.as_mut() else { return };
        let Some(g) = l.rec.legs.get_mut(i) else {
            return;
        };
        g.exit_reason = Some(reason);
        let symbol = g.symbol.clone();
        let at = pct.map_or(String::new(), |p| format!(" at {p} % of its premium"));
        // The stopped leg has its exit reason now, so it is not among those moved.
        let moved = if is_stop && policy == Survivor::ExitLegAndMoveOtherToCost {
            move_to_cost(&mut l.rec.legs)
        } else {
            Vec::new()
        };
        self.audit(
            now,
            EventKind::LegExit,
            format!("leg exit: {reason} on {symbol}{at}; the session stays open"),
            out,
        );
        for m in moved {
            self.audit(now, EventKind::LegAtCost, m, out);
        }
        self.write_session(out);
    }

    /// Buys back the legs being closed alone; a leg that is flat is reported once, and the
    /// session closes once every leg is flat.
    pub(super) fn drive_leg_exits(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let Some(l) = self.live.as_ref() else { return };
        let closing: Vec<usize> = (0..l.rec.legs.len())
            .filter(|&i| l.rec.legs[i].exit_reason.is_some())
            .collect();
        if closing.is_empty() {
            return;
        }
        for &i in &closing {
            self.next_exit_order(now, i, out);
        }
        let Some(l) = self.live.as_mut() else { return };
        let mut done = Vec::new();
        // The session's reason once every leg is flat: that of the leg closed last.
        let mut last = None;
        for &i in &closing {
            let g = &l.rec.legs[i];
            if g.book.open() <= Decimal::ZERO && l.work[i].working.is_none() && !l.leg_closed[i] {
                l.leg_closed[i] = true;
                last = g.exit_reason;
                let pnl = g.pnl_at_mark();
                done.push(format!(
                    "{} closed ({}): net {} USD on {} USD premium",
                    g.symbol,
                    g.exit_reason.map(|r| r.to_string()).unwrap_or_default(),
                    pnl.net,
                    pnl.premium
                ));
            }
        }
        for d in done {
            self.audit(now, EventKind::LegClosed, d, out);
        }
        let Some(l) = self.live.as_ref() else { return };
        let flat = l.rec.legs.iter().all(|g| g.book.open() <= Decimal::ZERO);
        if flat && l.work.iter().all(|w| w.working.is_none()) {
            let reason = last.or_else(|| closing.iter().find_map(|&i| l.rec.legs[i].exit_reason));
            if let Some(reason) = reason {
                self.begin_exit(now, reason, out);
                self.drive_exit(now, out);
            }
        }
    }

    /// A venue stop bought (part of) leg `i` back in an open session whose leg policy keeps
    /// the other leg: the leg is closed alone (its rest bought back) and the policy applied.
    pub(super) fn leg_stopped_at_venue(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        out: &mut Vec<Action>,
    ) {
        let closing = self
            .live
            .as_ref()
            .and_then(|l| l.rec.legs.get(i))
            .is_some_and(|g| g.exit_reason.is_some());
        if !closing {
            self.begin_leg_exit(now, i, ExitReason::VenueStop, None, out);
        }
    }
}
