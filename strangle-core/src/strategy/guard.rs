//! Venue stops: a reduce-only stop order resting at the venue for every open short leg, the
//! protection that stays when strangle is down.
//!
//! A leg gets its stop as soon as it holds contracts. The trigger is where the session's loss
//! limit is passed whatever the other leg does (see [`crate::profile::VenueStop`]), or the
//! leg's own stop (`leg_exit`) where that is lower, so it never fires before the strategy's
//! own exits would. A stop is replaced (never edited) when the leg's
//! size changes, when the premium it is sized on changes during the entry, and when the
//! trailing stop tightens it by at least a tick: the new one is placed first and the old one is
//! cancelled only once the venue shows the new one resting, so the leg is never without one.
//! A flat leg's stop is cancelled, and the session closes only when every stop has ended.
//!
//! A stop that fills closes (part of) its leg: in an open session that begins the exit of the
//! rest (`venue_stop`), during an entry it abandons the entry. A stop the venue refuses
//! [`MAX_STOP_REFUSALS`] times in a row is given up for the session, and new entries are held
//! (a strangle without a venue stop is not opened again until the operator has looked).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Action, HoldCause, Live, Phase, Strategy, Work, Write};
use crate::audit::EventKind;
use crate::ids::{self, ClientOrderId};
use crate::ledger::{OrderIntent, OrderPurpose};
use crate::model::{
    OrderRequest, OrderState, OrderStatus, OrderType, Side, StopOrder, TimeInForce,
};
use crate::profile::Profile;
use crate::risk::ExitReason;

/// Refusals in a row after which a leg's venue stop is given up for the session.
pub const MAX_STOP_REFUSALS: u32 = 3;

/// The venue stop of one leg.
#[derive(Debug, Clone)]
pub(super) struct StopWork {
    /// The stop order.
    pub work: Work,
    /// Its trigger price (`None` for a stop adopted from a ledger that did not record it).
    pub stop_price: Option<Decimal>,
    /// Contracts it buys back.
    pub size: Decimal,
    /// The venue has shown it resting (pending).
    pub resting: bool,
    /// Sized during the entry, on the premium received so far: replaced by the final level
    /// once the entry is over.
    pub provisional: bool,
    /// The stop it replaces: cancelled once this one rests.
    pub replaces: Option<Box<StopWork>>,
}

fn ceil_to_tick(p: Decimal, tick: Decimal) -> Decimal {
    if tick > Decimal::ZERO {
        (p / tick).ceil() * tick
    } else {
        p
    }
}

/// The trigger of leg `i`'s venue stop: the lower of where the session's loss limit is
/// passed whatever the other leg does ([`session_stop_level`]) and the leg's own stop
/// ([`super::legs::leg_stop_level`]), rounded up to the tick. `None` when neither applies.
pub(super) fn stop_level(profile: &Profile, live: &Live, i: usize) -> Option<Decimal> {
    let tick = live.rec.legs.get(i)?.tick_size;
    let session = session_stop_level(profile.max_loss_pct, live, i);
    let leg = super::legs::leg_stop_level(profile, live, i).map(|p| ceil_to_tick(p, tick));
    [session, leg]
        .into_iter()
        .flatten()
        .filter(|p| *p > Decimal::ZERO)
        .min()
}

/// The leg's price at which the session's PnL reaches the floor of its exit rules even if
/// every other leg fell to zero. `None` without a loss limit or open contracts.
pub(super) fn session_stop_level(
    max_loss_pct: Option<Decimal>,
    live: &Live,
    i: usize,
) -> Option<Decimal> {
    let max_loss = max_loss_pct?;
    let g = live.rec.legs.get(i)?;
    let open = g.book.open();
    if open <= Decimal::ZERO || g.contract_size <= Decimal::ZERO {
        return None;
    }
    let premium: Decimal = live
        .rec
        .legs
        .iter()
        .map(|g| g.book.sold_value * g.contract_size)
        .sum();
    let received: Decimal = live
        .rec
        .legs
        .iter()
        .map(|g| (g.book.sold_value - g.book.bought_value) * g.contract_size)
        .sum();
    let floor_pct = match live.trailing.level {
        Some(lock) => lock.max(-max_loss),
        None => -max_loss,
    };
    let floor = floor_pct / Decimal::ONE_HUNDRED * premium;
    let level = ceil_to_tick((received - floor) / (open * g.contract_size), g.tick_size);
    (level > Decimal::ZERO).then_some(level)
}

impl Strategy {
    /// Places, replaces and cancels the legs' venue stops (after every event).
    pub(super) fn guard(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        self.retry_stop_cancels(now, out);
        if !self.profile.venue_stop.enabled || self.phase == Phase::Stopped {
            return;
        }
        for i in 0..2 {
            self.guard_leg(now, i, out);
        }
    }

    fn guard_leg(&mut self, now: DateTime<Utc>, i: usize, out: &mut Vec<Action>) {
        let phase = self.phase;
        let Some(l) = self.live.as_mut() else { return };
        let Some(g) = l.rec.legs.get(i) else { return };
        let open = g.book.open();
        let tick = g.tick_size;
        if open <= Decimal::ZERO {
            // A flat leg needs no stop: cancel it (and one it was replacing).
            if let Some(mut s) = l.work[i].stop.take() {
                if let Some(old) = s.replaces.take() {
                    retire(l, i, old.work, now, out);
                }
                retire(l, i, s.work, now, out);
            }
            return;
        }
        // Nothing goes to a contract the venue takes no order on: the stop it has stays.
        let halted = l.quotes[i]
            .as_ref()
            .is_some_and(|q| q.trading_halt.is_some());
        if l.work[i].stop_given_up || halted {
            return;
        }
        let Some(level) = stop_level(&self.profile, l, i) else {
            return;
        };
        let replace = match &l.work[i].stop {
            None => true,
            Some(s) if !s.resting || s.replaces.is_some() => false,
            Some(s) => match s.stop_price {
                _ if phase == Phase::Exiting => false,
                _ if s.size != open => true,
                None => true,
                Some(p) if phase == Phase::Entering || s.provisional => p != level,
                // Once the strangle is open the stop only ever tightens.
                Some(p) => level <= p - tick,
            },
        };
        if replace {
            self.place_stop(now, i, open, level, out);
        }
    }

    /// Sends a new venue stop for leg `i`; the current one (if any) is cancelled once the
    /// new one rests.
    fn place_stop(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        size: Decimal,
        level: Decimal,
        out: &mut Vec<Action>,
    ) {
        let vs = self.profile.venue_stop.clone();
        let phase = self.phase;
        let Some(l) = self.live.as_mut() else { return };
        let g = &mut l.rec.legs[i];
        let tick = g.tick_size;
        // Not capped by today's price band: the band it meets when it fires is around the
        // price then, not now.
        let offset = level * vs.limit_offset_pct / Decimal::ONE_HUNDRED;
        let limit = ceil_to_tick(level + offset, tick);
        let attempt = g.next_attempt(OrderPurpose::Stop);
        g.stop_price = Some(level);
        let client_order_id =
            ids::client_order_id(&l.rec.session_id, g.kind, OrderPurpose::Stop, attempt);
        let request = OrderRequest {
            client_order_id: client_order_id.clone(),
            product_id: g.product_id,
            symbol: g.symbol.clone(),
            side: Side::Buy,
            size,
            order_type: OrderType::Limit,
            limit_price: Some(limit),
            time_in_force: TimeInForce::Gtc,
            reduce_only: true,
            stop: Some(StopOrder {
                stop_price: level,
                trigger: vs.trigger,
                trail_amount: None,
                kind: crate::model::StopKind::StopLoss,
            }),
        };
        l.orders.insert(client_order_id.clone(), i);
        let previous = l.work[i].stop.take().map(Box::new);
        l.work[i].stop = Some(StopWork {
            work: Work::sent(client_order_id, g.product_id, now),
            stop_price: Some(level),
            size,
            resting: false,
            provisional: phase == Phase::Entering,
            replaces: previous,
        });
        let intent = OrderIntent {
            session_id: l.rec.session_id.clone(),
            leg: g.kind,
            purpose: OrderPurpose::Stop,
            attempt,
            request,
            created_at: now,
        };
        out.push(Action::Write(Write::Session(l.rec.clone())));
        out.push(Action::Place(intent));
    }

    /// Sends again the cancels of retired stops that the venue has not confirmed, backing
    /// off as for any order; after [`super::MAX_CANCELS`] it only reads them.
    fn retry_stop_cancels(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let confirm = self.profile.execution.cancel_confirm_secs;
        let Some(l) = self.live.as_mut() else { return };
        for w in l.work.iter_mut().flat_map(|w| w.retired.iter_mut()) {
            let Some(sent) = w.cancel_sent_at else {
                continue;
            };
            if w.cancels < super::MAX_CANCELS
                && now >= sent + super::orders::cancel_gap(confirm, w.cancels)
            {
                w.cancel_sent_at = Some(now);
                w.cancels += 1;
                out.push(Action::Cancel {
                    client_order_id: w.client_order_id.clone(),
                    product_id: w.product_id,
                });
            }
        }
    }

    /// Handles the venue's view of a stop order of leg `i` (its fills are already booked).
    /// Returns whether `status` was one of the leg's stops.
    pub(super) fn on_stop_order(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        status: &OrderStatus,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(l) = self.live.as_mut() else {
            return false;
        };
        let id = &status.client_order_id;
        let filled = status.filled_size();
        let lw = &mut l.work[i];
        let is_current = lw
            .stop
            .as_ref()
            .is_some_and(|s| s.work.client_order_id == *id);
        let replaced = lw.stop.as_ref().is_some_and(|s| {
            s.replaces
                .as_ref()
                .is_some_and(|p| p.work.client_order_id == *id)
        });
        let retired = lw.retired.iter().position(|w| w.client_order_id == *id);
        if !is_current && !replaced && retired.is_none() {
            return false;
        }
        if let Some(k) = retired {
            if status.state.is_terminal() {
                lw.retired.remove(k);
            }
        }
        if replaced && status.state.is_terminal() {
            // The stop being replaced ended on its own (it fired, or the venue dropped it).
            if let Some(s) = lw.stop.as_mut() {
                s.replaces = None;
            }
        }
        if is_current {
            match status.state {
                OrderState::Pending => {
                    let old = lw.stop.as_mut().and_then(|s| {
                        s.resting = true;
                        s.replaces.take()
                    });
                    lw.stop_refusals = 0;
                    if let Some(old) = old {
                        retire(l, i, old.work, now, out);
                    }
                }
                OrderState::Open => {
                    // Triggered and working: it fills at the venue; read again next step.
                    if let Some(s) = lw.stop.as_mut() {
                        s.resting = true;
                    }
                }
                _ => {
                    let s = lw.stop.take();
                    if filled.is_zero() {
                        // Refused or dropped without a fill: the stop it replaced (if any)
                        // stays the leg's stop, otherwise a new one is placed.
                        lw.stop = s.and_then(|s| s.replaces.map(|b| *b));
                        let refused = status.state == OrderState::Rejected;
                        let reason = status.reason.as_deref().unwrap_or("no reason given");
                        self.stop_lost(now, i, id, reason, refused, out);
                    } else if let Some(s) = s {
                        if let Some(old) = s.replaces {
                            if let Some(l) = self.live.as_mut() {
                                retire(l, i, old.work, now, out);
                            }
                        }
                    }
                }
            }
        }
        if !filled.is_zero() && status.state != OrderState::Pending {
            self.stop_fired(now, i, status, out);
        }
        true
    }

    /// A stop placement that failed with no trace at the venue.
    pub(super) fn on_stop_failed(
        &mut self,
        now: DateTime<Utc>,
        id: &ClientOrderId,
        reason: &str,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(l) = self.live.as_mut() else {
            return false;
        };
        let Some(i) = l.work.iter().position(|w| {
            w.stop
                .as_ref()
                .is_some_and(|s| s.work.client_order_id == *id)
        }) else {
            // A retired stop the venue does not know any more has ended.
            for w in l.work.iter_mut() {
                w.retired.retain(|r| r.client_order_id != *id);
            }
            return false;
        };
        let lw = &mut l.work[i];
        let s = lw.stop.take();
        lw.stop = s.and_then(|s| s.replaces.map(|b| *b));
        self.stop_lost(now, i, id, reason, true, out);
        true
    }

    /// Leg `i`'s stop `id` ended without a fill: refused (placement failed or rejected: it
    /// counts towards giving up) or dropped by the venue. The next step places another.
    fn stop_lost(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        id: &ClientOrderId,
        reason: &str,
        refused: bool,
        out: &mut Vec<Action>,
    ) {
        let Some(l) = self.live.as_mut() else { return };
        let symbol = l.rec.legs[i].symbol.clone();
        let lw = &mut l.work[i];
        let still_open = l.rec.legs[i].book.open() > Decimal::ZERO;
        if refused {
            lw.stop_refusals += 1;
        }
        let n = lw.stop_refusals;
        if !still_open {
            return;
        }
        let msg = if refused {
            format!("venue stop {id} for {symbol} refused ({n} of {MAX_STOP_REFUSALS}): {reason}")
        } else {
            format!(
                "venue stop {id} for {symbol} ended without a fill ({reason}); placing it again"
            )
        };
        self.last_error = Some(msg.clone());
        self.audit(now, EventKind::VenueStopLost, msg, out);
        self.give_up_stop_if_refused(now, i, out);
    }

    fn give_up_stop_if_refused(&mut self, now: DateTime<Utc>, i: usize, out: &mut Vec<Action>) {
        let Some(l) = self.live.as_mut() else { return };
        let lw = &mut l.work[i];
        if lw.stop_refusals < MAX_STOP_REFUSALS || lw.stop_given_up {
            return;
        }
        lw.stop_given_up = true;
        let symbol = l.rec.legs[i].symbol.clone();
        let msg = format!(
            "the venue refused {MAX_STOP_REFUSALS} stop orders for {symbol} in a row: this leg \
             has no stop at the venue (strangle's own exits still watch it); no new strangle is \
             entered until the engine is restarted — check the venue's answer in the audit trail"
        );
        self.holds.insert(HoldCause::NoVenueStop, msg.clone());
        self.last_error = Some(msg.clone());
        self.audit(now, EventKind::VenueStopRefused, msg, out);
    }

    /// A venue stop bought (part of) leg `i` back.
    fn stop_fired(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        status: &OrderStatus,
        out: &mut Vec<Action>,
    ) {
        let Some(l) = self.live.as_mut() else { return };
        let g = &l.rec.legs[i];
        let avg = status
            .fills
            .iter()
            .map(|f| f.price * f.size)
            .sum::<Decimal>()
            / status.filled_size();
        let detail = format!(
            "venue stop {} bought back {} of {} at {} (avg); {} left open",
            status.client_order_id,
            status.filled_size(),
            g.symbol,
            avg.round_dp(8),
            g.book.open()
        );
        // Said once per stop, however often its fills are read again.
        if l.venue_stopped.insert(status.client_order_id.clone()) {
            self.audit(now, EventKind::VenueStop, detail, out);
        }
        match self.phase {
            Phase::Open if self.profile.leg_exit.splits() => self.leg_stopped_at_venue(now, i, out),
            Phase::Open => self.begin_exit(now, ExitReason::VenueStop, out),
            Phase::Entering => {
                if let Some(l) = self.live.as_mut() {
                    l.abort.get_or_insert(ExitReason::VenueStop);
                }
            }
            _ => {}
        }
    }

    /// The trigger of leg `i`'s venue stop, once the venue shows it resting.
    pub(super) fn resting_stop(&self, i: usize) -> Option<Decimal> {
        let s = self.live.as_ref()?.work.get(i)?.stop.as_ref()?;
        s.resting.then_some(s.stop_price).flatten()
    }

    /// Whether every venue stop of the session has ended (the session may close).
    pub(super) fn stops_ended(&self) -> bool {
        self.live.as_ref().is_none_or(|l| {
            l.work
                .iter()
                .all(|w| w.stop.is_none() && w.retired.is_empty())
        })
    }

    /// Client ids of the venue stops to read every step.
    pub(super) fn stop_orders(&self) -> impl Iterator<Item = ClientOrderId> + '_ {
        self.live.iter().flat_map(|l| l.work.iter()).flat_map(|w| {
            w.stop
                .iter()
                .flat_map(|s| {
                    std::iter::once(s.work.client_order_id.clone())
                        .chain(s.replaces.iter().map(|p| p.work.client_order_id.clone()))
                })
                .chain(w.retired.iter().map(|r| r.client_order_id.clone()))
        })
    }
}

/// Moves a stop to the retired list and asks the venue to cancel it.
fn retire(l: &mut Live, i: usize, mut w: Work, now: DateTime<Utc>, out: &mut Vec<Action>) {
    w.cancel_sent_at = Some(now);
    w.cancels += 1;
    out.push(Action::Cancel {
        client_order_id: w.client_order_id.clone(),
        product_id: w.product_id,
    });
    l.work[i].retired.push(w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{LegRecord, Mode, SessionRecord, SessionState};
    use crate::model::OptionKind;
    use crate::pnl::{LegBook, SessionPnl};
    use crate::risk::TrailingStop;
    use chrono::Duration;
    use rust_decimal_macros::dec;

    fn live(call: Decimal, put: Decimal, lock: Option<Decimal>) -> Live {
        let leg = |kind, price: Decimal| {
            let mut book = LegBook::default();
            book.sell(dec!(10), price, dec!(0));
            LegRecord {
                kind,
                symbol: crate::ids::Symbol::new("C-BTC-1-010126").expect("symbol"),
                product_id: crate::ids::ProductId(1),
                strike: dec!(1),
                contract_size: dec!(0.001),
                tick_size: dec!(0.1),
                target: dec!(10),
                entry_delta: None,
                book,
                mark: None,
                entry_attempts: 1,
                exit_attempts: 0,
                stop_attempts: 0,
                stop_price: None,
                exit_reason: None,
                stop_at_cost: false,
            }
        };
        let t = chrono::DateTime::UNIX_EPOCH;
        let mut l = Live::new(SessionRecord {
            session_id: crate::ids::SessionId::new("s-1").expect("id"),
            profile: "p".into(),
            underlying: crate::model::Underlying::Btc,
            mode: Mode::Sim,
            trading_day: t.date_naive(),
            state: SessionState::Open,
            opened_at: t,
            closed_at: None,
            expiry: t + Duration::days(1),
            planned_exit: t + Duration::hours(6),
            entry_spot: None,
            legs: vec![leg(OptionKind::Call, call), leg(OptionKind::Put, put)],
            exit_reason: None,
            pnl: SessionPnl::default(),
            trailing_level: lock,
            peak_pnl_pct: None,
            trough_pnl_pct: None,
            reentry_of: None,
            reentry: 0,
        });
        l.trailing = TrailingStop {
            peak_pct: None,
            level: lock,
        };
        l
    }

    #[test]
    fn the_stop_sits_where_the_loss_limit_is_passed_whatever_the_other_leg_does() {
        // 100 + 80 = 180 received per unit. With a 100 % loss limit the floor is -180: a leg
        // at 360 has cost 180 more than all the premium, even if the other is worth nothing.
        let l = live(dec!(100), dec!(80), None);
        assert_eq!(session_stop_level(Some(dec!(100)), &l, 0), Some(dec!(360)));
        assert_eq!(session_stop_level(Some(dec!(100)), &l, 1), Some(dec!(360)));
        // At 50 %: 180 × 1.5 = 270.
        assert_eq!(session_stop_level(Some(dec!(50)), &l, 0), Some(dec!(270)));
        // No loss limit: no stop.
        assert_eq!(session_stop_level(None, &l, 0), None);
    }

    #[test]
    fn a_trailing_lock_tightens_the_stop_and_a_bought_back_leg_counts_its_cost() {
        // Locked 25 % of 180: the session may give back down to +45, so a leg alone may cost
        // at most 135.
        let l = live(dec!(100), dec!(80), Some(dec!(25)));
        assert_eq!(session_stop_level(Some(dec!(100)), &l, 0), Some(dec!(135)));
        // The put bought back at 30: 150 received net; with the 100 % limit the call may cost
        // 150 + 180 = 330.
        let mut l = live(dec!(100), dec!(80), None);
        l.rec.legs[1].book.buy(dec!(10), dec!(30), dec!(0));
        assert_eq!(session_stop_level(Some(dec!(100)), &l, 0), Some(dec!(330)));
        assert_eq!(session_stop_level(Some(dec!(100)), &l, 1), None);
    }

    #[test]
    fn the_level_rounds_up_to_the_tick() {
        let l = live(dec!(100.05), dec!(80), None);
        // 180.05 × 2 = 360.1 exactly; 100.07 + 80 → 360.14 → 360.2.
        assert_eq!(
            session_stop_level(Some(dec!(100)), &l, 0),
            Some(dec!(360.1))
        );
        let l = live(dec!(100.07), dec!(80), None);
        assert_eq!(
            session_stop_level(Some(dec!(100)), &l, 0),
            Some(dec!(360.2))
        );
    }
}
