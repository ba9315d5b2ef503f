//! Working orders: pricing, attempts, timeouts, cancels and fills.
//!
//! Entry sells at the bid and exits buy at the ask, each rounded to the tick in the
//! direction that fills; every further attempt moves `reprice_step_ticks` ticks more
//! aggressive. A resting order is cancelled after `fill_wait_secs`, and its replacement is
//! only sent once the venue has confirmed the cancel (a terminal state), so two orders of
//! one leg are never working at once. After the last limit attempt an aggressive IOC is sent
//! if `market_fallback` is on: priced `ioc_ticks` past the touch within the product's price
//! band. No order is ever a market order (Delta ignores a market order's limit). Exits are
//! reduce-only and continue until flat.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::{Action, HoldCause, Phase, Strategy, Work, Write};
use crate::audit::EventKind;
use crate::ids::{self, ClientOrderId};
use crate::ledger::{OrderIntent, OrderPurpose, SessionState};
use crate::model::{OrderRequest, OrderState, OrderStatus, OrderType, Quote, Side, TimeInForce};
use crate::profile::Profile;
use crate::risk::ExitReason;

/// Cancels sent for one order before the strategy stops asking: the order is then held as
/// stuck (still read every step), new entries are held, and an entry in progress is
/// abandoned, its filled legs bought back.
pub const MAX_CANCELS: u32 = 6;

/// The longest wait between two cancels of one order.
const MAX_CANCEL_GAP_SECS: i64 = 120;

/// How long to wait for the `cancels`-th cancel (1-based) to be confirmed before the next
/// one: `cancel_confirm_secs`, doubling with each cancel, at most two minutes (or
/// `cancel_confirm_secs` when that is longer).
pub(super) fn cancel_gap(confirm_secs: u32, cancels: u32) -> Duration {
    let base = i64::from(confirm_secs.max(1));
    let doubled = base.saturating_mul(1_i64 << cancels.saturating_sub(1).min(16));
    Duration::seconds(doubled.min(MAX_CANCEL_GAP_SECS.max(base)))
}

fn floor_to_tick(p: Decimal, tick: Decimal) -> Decimal {
    if tick > Decimal::ZERO {
        (p / tick).floor() * tick
    } else {
        p
    }
}

fn ceil_to_tick(p: Decimal, tick: Decimal) -> Decimal {
    if tick > Decimal::ZERO {
        (p / tick).ceil() * tick
    } else {
        p
    }
}

/// Limit price of attempt `attempt` (1-based) to sell at the bid.
pub(crate) fn sell_price(
    profile: &Profile,
    q: &Quote,
    tick: Decimal,
    attempt: u32,
) -> Option<Decimal> {
    let base = match q.bid.filter(|b| *b > Decimal::ZERO) {
        Some(b) => b,
        None if !profile.liquidity.require_bid && q.mark > Decimal::ZERO => q.mark,
        None => return None,
    };
    let step = Decimal::from(profile.execution.reprice_step_ticks)
        * tick
        * Decimal::from(attempt.saturating_sub(1));
    Some(floor_to_tick(base - step, tick).max(tick))
}

/// Limit price of attempt `attempt` (1-based) to buy at the ask.
pub(crate) fn buy_price(
    profile: &Profile,
    q: &Quote,
    tick: Decimal,
    attempt: u32,
) -> Option<Decimal> {
    let base = q.ask.filter(|a| *a > Decimal::ZERO)?;
    let step = Decimal::from(profile.execution.reprice_step_ticks)
        * tick
        * Decimal::from(attempt.saturating_sub(1));
    Some(ceil_to_tick(base + step, tick))
}

/// The band's limit on the tick grid inside it: its upper limit floored, its lower ceiled.
fn band_cap(q: &Quote, tick: Decimal) -> (Option<Decimal>, Option<Decimal>) {
    q.price_band.map_or((None, None), |b| {
        (
            Some(ceil_to_tick(b.lower, tick)),
            Some(floor_to_tick(b.upper, tick)),
        )
    })
}

/// Price of an aggressive IOC buy (the fallback after the limit attempts, and every panic
/// exit): the ask plus `ioc_ticks` ticks, at most the band's upper limit; without an ask,
/// the band's upper limit. `None` when neither is known: no order goes out without a limit.
pub(crate) fn ioc_buy_price(profile: &Profile, q: &Quote, tick: Decimal) -> Option<Decimal> {
    let (_, upper) = band_cap(q, tick);
    let past = Decimal::from(profile.execution.ioc_ticks) * tick;
    let price = match (q.ask.filter(|a| *a > Decimal::ZERO), upper) {
        (Some(a), Some(u)) => ceil_to_tick(a + past, tick).min(u.max(a)),
        (Some(a), None) => ceil_to_tick(a + past, tick),
        (None, Some(u)) => u,
        (None, None) => return None,
    };
    Some(price).filter(|p| *p > Decimal::ZERO)
}

/// Price of an aggressive IOC sell (the entry fallback): the bid less `ioc_ticks` ticks, at
/// least the band's lower limit and one tick. `None` without a bid: nothing is sold into an
/// empty book.
pub(crate) fn ioc_sell_price(profile: &Profile, q: &Quote, tick: Decimal) -> Option<Decimal> {
    let bid = q.bid.filter(|b| *b > Decimal::ZERO)?;
    let (lower, _) = band_cap(q, tick);
    let past = Decimal::from(profile.execution.ioc_ticks) * tick;
    let floor = lower.map_or(tick, |l| l.max(tick)).min(bid);
    Some(floor_to_tick(bid - past, tick).max(floor))
}

impl Strategy {
    /// Advances order work after every event: timeouts, next attempts, phase changes.
    pub(super) fn drive(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        self.check_timeouts(now, out);
        self.guard(now, out);
        match self.phase {
            Phase::Entering => self.drive_entry(now, out),
            Phase::Open => self.drive_leg_exits(now, out),
            Phase::Exiting => self.drive_exit(now, out),
            _ => {}
        }
    }

    fn check_timeouts(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let ex = self.profile.execution.clone();
        let Some(l) = self.live.as_mut() else { return };
        let cancel_all = l.panic || l.abort.is_some();
        let mut unconfirmed = Vec::new();
        let mut stuck = Vec::new();
        for w in l.work.iter_mut().filter_map(|w| w.working.as_mut()) {
            let due = match w.cancel_sent_at {
                None => {
                    cancel_all || now >= w.sent_at + Duration::seconds(i64::from(ex.fill_wait_secs))
                }
                Some(c) => {
                    let late = now >= c + cancel_gap(ex.cancel_confirm_secs, w.cancels);
                    if late && w.cancels >= MAX_CANCELS {
                        // Asking again would not tell more: the order is read every step
                        // and resolves when the venue shows it ended.
                        if !w.stuck {
                            w.stuck = true;
                            stuck.push((w.client_order_id.clone(), now - w.sent_at));
                        }
                        false
                    } else {
                        if late {
                            unconfirmed.push((w.client_order_id.clone(), w.cancels + 1));
                        }
                        late
                    }
                }
            };
            if due {
                w.cancel_sent_at = Some(now);
                w.cancels += 1;
                out.push(Action::Cancel {
                    client_order_id: w.client_order_id.clone(),
                    product_id: w.product_id,
                });
            }
        }
        for (id, n) in unconfirmed {
            self.audit(
                now,
                EventKind::CancelUnconfirmed,
                format!("cancel of {id} not confirmed yet; asking again ({n} of {MAX_CANCELS})"),
                out,
            );
        }
        for (id, age) in stuck {
            self.order_stuck(now, &id, age, out);
        }
    }

    /// An order whose cancels ran out while the venue still shows it working: hold new
    /// entries, abandon an entry in progress (its filled legs are bought back), and say so.
    fn order_stuck(
        &mut self,
        now: DateTime<Utc>,
        id: &ClientOrderId,
        age: Duration,
        out: &mut Vec<Action>,
    ) {
        let msg = format!(
            "order {id}: {MAX_CANCELS} cancels over {} s and the venue still shows it working; \
             no new strangle is entered until it ends (it is read every step) — look it up on \
             the exchange by this client order id",
            age.num_seconds()
        );
        self.holds.insert(HoldCause::StuckOrder, msg.clone());
        self.last_error = Some(msg.clone());
        if self.phase == Phase::Entering {
            if let Some(l) = self.live.as_mut() {
                l.abort.get_or_insert(ExitReason::FailedEntry);
            }
        }
        self.audit(now, EventKind::OrderStuck, msg, out);
    }

    fn drive_entry(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let aborting = self.live.as_ref().is_some_and(|l| l.abort.is_some());
        if !aborting {
            for i in 0..2 {
                self.next_entry_order(now, i, out);
            }
            let failed = self.live.as_ref().and_then(|l| {
                l.work
                    .iter()
                    .position(|w| w.entry_failed)
                    .map(|i| l.rec.legs[i].symbol.clone())
            });
            if let Some(sym) = failed {
                if let Some(l) = self.live.as_mut() {
                    l.abort = Some(ExitReason::FailedEntry);
                }
                self.audit(
                    now,
                    EventKind::FailedEntry,
                    format!("entry of {sym} failed; unwinding the other leg"),
                    out,
                );
                // Cancel the other leg's working order at once.
                self.check_timeouts(now, out);
            }
        }
        let Some(l) = self.live.as_mut() else { return };
        let idle = l.work.iter().all(|w| w.working.is_none());
        if let Some(reason) = l.abort {
            // A leg that is short with no order working is bought back now, without waiting
            // for the other leg's order to end (it may never be confirmed).
            let exposed = l
                .rec
                .legs
                .iter()
                .zip(&l.work)
                .any(|(g, w)| g.book.open() > Decimal::ZERO && w.working.is_none());
            let short = l.rec.legs.iter().any(|g| g.book.open() > Decimal::ZERO);
            if exposed || (idle && short) {
                self.begin_exit(now, reason, out);
                self.drive_exit(now, out);
            } else if idle {
                l.rec.exit_reason = Some(reason);
                if self.stops_ended() {
                    self.close_session(now, out);
                }
            }
        } else if idle && l.work.iter().all(|w| w.entry_done) {
            l.rec.state = SessionState::Open;
            let premium = l.rec.pnl.premium;
            self.phase = Phase::Open;
            self.audit(
                now,
                EventKind::Open,
                format!("strangle open: premium received {premium} USD"),
                out,
            );
            self.write_session(out);
        }
    }

    fn next_entry_order(&mut self, now: DateTime<Utc>, i: usize, out: &mut Vec<Action>) {
        let ex = &self.profile.execution;
        let Some(l) = self.live.as_mut() else { return };
        let (w, g) = (&mut l.work[i], &l.rec.legs[i]);
        if w.entry_done || w.entry_failed || w.working.is_some() {
            return;
        }
        if g.book.sold >= g.target {
            w.entry_done = true;
            return;
        }
        let max_attempts = ex.limit_attempts + u32::from(ex.market_fallback);
        let attempt = g.entry_attempts + 1;
        let market = g.entry_attempts >= ex.limit_attempts;
        // Priced only on a fresh quote: an old one may be far from the market. The fallback
        // is an IOC priced past the bid, never a market order.
        let max_age = i64::from(self.profile.liquidity.max_quote_age_secs);
        let fresh = l.quotes[i].as_ref().filter(|q| q.age_secs(now) <= max_age);
        // A contract the venue takes no order on gets none: the entry waits, and gives up as
        // for any leg without a price.
        let price = match (fresh.filter(|q| q.trading_halt.is_none()), market) {
            (Some(q), true) => ioc_sell_price(&self.profile, q, g.tick_size),
            (Some(q), false) => sell_price(&self.profile, q, g.tick_size, attempt),
            (None, _) => None,
        };
        let out_of_time = w
            .waiting_since
            .is_some_and(|t| now >= t + Duration::seconds(i64::from(ex.fill_wait_secs)));
        if g.entry_attempts >= max_attempts || (price.is_none() && out_of_time) {
            // Attempts are used up: keep a large enough partial fill, otherwise give up.
            let thr = ex.partial_fill_threshold_pct;
            let enough =
                g.book.sold > Decimal::ZERO && g.book.sold * Decimal::ONE_HUNDRED >= g.target * thr;
            let (sym, sold, target) = (g.symbol.clone(), g.book.sold, g.target);
            if enough {
                w.entry_done = true;
                self.audit(
                    now,
                    EventKind::PartialEntry,
                    format!("{sym}: keeping {sold} of {target} contracts"),
                    out,
                );
            } else {
                w.entry_failed = true;
            }
            return;
        }
        let Some(price) = price else {
            w.waiting_since.get_or_insert(now);
            return;
        };
        let size = g.target - g.book.sold;
        let tif = if market || self.ioc_entries {
            TimeInForce::Ioc
        } else {
            TimeInForce::Gtc
        };
        self.place(
            now,
            i,
            OrderPurpose::Entry,
            Side::Sell,
            size,
            price,
            tif,
            out,
        );
    }

    pub(super) fn drive_exit(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        for i in 0..2 {
            self.next_exit_order(now, i, out);
        }
        let Some(l) = self.live.as_ref() else { return };
        let flat = l.rec.legs.iter().all(|g| g.book.open() <= Decimal::ZERO);
        if flat && l.work.iter().all(|w| w.working.is_none()) && self.stops_ended() {
            self.close_session(now, out);
        }
    }

    pub(super) fn next_exit_order(&mut self, now: DateTime<Utc>, i: usize, out: &mut Vec<Action>) {
        let ex = &self.profile.execution;
        let Some(l) = self.live.as_mut() else { return };
        let Some(g) = l.rec.legs.get(i) else { return };
        let open = g.book.open();
        let w = &mut l.work[i];
        if open <= Decimal::ZERO || w.working.is_some() {
            return;
        }
        if let Some(since) = w.stalled {
            // Fresh quotes clear this sooner (see `on_quotes`); without them, the exit must
            // still go on: a leg left open because no quote moved is a leg never closed.
            let retry = chrono::Duration::seconds(i64::from(ex.fill_wait_secs.max(5)));
            if now - since < retry {
                return;
            }
            w.stalled = None;
        }
        let attempt = g.exit_attempts + 1;
        let market = l.panic || (g.exit_attempts >= ex.limit_attempts && ex.market_fallback);
        let max_age = self.profile.liquidity.max_quote_age_secs;
        let fresh = l.quotes[i]
            .as_ref()
            .filter(|q| q.age_secs(now) <= i64::from(max_age));
        // An exit is never sent on an old quote: it waits for a fresh one (the heartbeat says
        // so, and the audit trail says when the wait began), unless it is a panic, which
        // prices on the latest quote whatever its age. Every exit has a price limit: a limit
        // at the ask, or an IOC past it within the price band (the fallback, and panic); a
        // quote that allows neither waits.
        let quote = if l.panic { l.quotes[i].as_ref() } else { fresh };
        let Some(q) = quote else {
            if w.waiting_since.is_none() {
                w.waiting_since = Some(now);
                let age = l.quotes[i].as_ref().map(|q| q.age_secs(now));
                let detail = format!(
                    "{}: exit waits for a fresh quote ({}; limit {max_age} s)",
                    g.symbol,
                    age.map_or("no quote yet".to_string(), |a| format!(
                        "last one {a} s old"
                    )),
                );
                self.audit(now, EventKind::QuoteWait, detail, out);
            }
            return;
        };
        // The venue takes no order on the contract now: the exit waits, says so once, and goes
        // out when a quote shows trading again.
        if let Some(halt) = &q.trading_halt {
            if w.waiting_since.is_none() {
                w.waiting_since = Some(now);
                let msg = format!(
                    "{}: exit waits, the venue takes no order on it ({halt})",
                    g.symbol
                );
                self.last_error = Some(msg.clone());
                self.audit(now, EventKind::TradingHalt, msg, out);
            }
            return;
        }
        let limit = (!market)
            .then(|| buy_price(&self.profile, q, g.tick_size, attempt))
            .flatten();
        let (price, tif) = match limit {
            Some(p) => (Some(p), TimeInForce::Gtc),
            // No ask for a limit: the fallback's IOC prices on the band, when allowed.
            None if market || ex.market_fallback => (
                ioc_buy_price(&self.profile, q, g.tick_size),
                TimeInForce::Ioc,
            ),
            None => (None, TimeInForce::Gtc),
        };
        let Some(price) = price else {
            w.waiting_since.get_or_insert(now);
            return;
        };
        self.place(now, i, OrderPurpose::Exit, Side::Buy, open, price, tif, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn place(
        &mut self,
        now: DateTime<Utc>,
        i: usize,
        purpose: OrderPurpose,
        side: Side,
        size: Decimal,
        price: Decimal,
        time_in_force: TimeInForce,
        out: &mut Vec<Action>,
    ) {
        let Some(l) = self.live.as_mut() else { return };
        let g = &mut l.rec.legs[i];
        let attempt = g.next_attempt(purpose);
        let client_order_id = ids::client_order_id(&l.rec.session_id, g.kind, purpose, attempt);
        let request = OrderRequest {
            client_order_id: client_order_id.clone(),
            product_id: g.product_id,
            symbol: g.symbol.clone(),
            side,
            size,
            // Every order carries a price limit: Delta ignores a market order's limit.
            order_type: OrderType::Limit,
            limit_price: Some(price),
            time_in_force,
            reduce_only: purpose == OrderPurpose::Exit,
            stop: None,
        };
        l.orders.insert(client_order_id.clone(), i);
        l.work[i].working = Some(Work::sent(client_order_id, g.product_id, now));
        l.work[i].waiting_since = None;
        let intent = OrderIntent {
            session_id: l.rec.session_id.clone(),
            leg: g.kind,
            purpose,
            attempt,
            request,
            created_at: now,
        };
        // The session (with its attempt counters) is written before the order goes out.
        out.push(Action::Write(Write::Session(l.rec.clone())));
        out.push(Action::Place(intent));
    }

    pub(super) fn on_order(
        &mut self,
        now: DateTime<Utc>,
        status: OrderStatus,
        out: &mut Vec<Action>,
    ) {
        let Some(l) = self.live.as_mut() else { return };
        let Some(&i) = l.orders.get(&status.client_order_id) else {
            let id = status.client_order_id.clone();
            self.audit(
                now,
                EventKind::UnknownOrder,
                format!("update for unknown order {id} ignored"),
                out,
            );
            return;
        };
        // A resting venue stop read again unchanged writes nothing.
        let seen_resting = l.work[i]
            .stop
            .as_ref()
            .is_some_and(|s| s.resting && s.work.client_order_id == status.client_order_id)
            || l.work[i]
                .retired
                .iter()
                .any(|w| w.client_order_id == status.client_order_id);
        if seen_resting && status.state == OrderState::Pending {
            return;
        }
        let session_id = l.rec.session_id.clone();
        let leg = &mut l.rec.legs[i];
        for f in &status.fills {
            if !l.seen_fills.insert(f.fill_id.clone()) {
                continue;
            }
            match f.side {
                Side::Sell => leg.book.sell(f.size, f.price, f.fee),
                Side::Buy => leg.book.buy(f.size, f.price, f.fee),
            }
            out.push(Action::Write(Write::Fill {
                session_id: session_id.clone(),
                fill: f.clone(),
            }));
        }
        out.push(Action::Write(Write::OrderUpdate {
            session_id,
            status: status.clone(),
        }));
        if self.on_stop_order(now, i, &status, out) {
            if let Some(l) = self.live.as_mut() {
                super::refresh_pnl(&mut l.rec);
            }
            self.write_session(out);
            return;
        }
        let Some(l) = self.live.as_mut() else { return };
        let w = &mut l.work[i];
        let is_working = w
            .working
            .as_ref()
            .is_some_and(|w| w.client_order_id == status.client_order_id);
        let mut rejected = None;
        let mut resolved = false;
        if is_working && status.state.is_terminal() {
            resolved = w.working.as_ref().is_some_and(|x| x.stuck);
            w.working = None;
            if status.filled_size().is_zero() {
                w.stalled = Some(now);
            }
            if status.state == OrderState::Rejected {
                rejected = Some(format!(
                    "{} rejected: {}",
                    status.client_order_id,
                    status
                        .reason
                        .clone()
                        .unwrap_or_else(|| "no reason given".into())
                ));
            }
        }
        let still_stuck = l
            .work
            .iter()
            .any(|w| w.working.as_ref().is_some_and(|x| x.stuck));
        super::refresh_pnl(&mut l.rec);
        if resolved {
            let id = &status.client_order_id;
            self.audit(
                now,
                EventKind::OrderResolved,
                format!(
                    "order {id} ended at the venue ({})",
                    format!("{:?}", status.state).to_lowercase()
                ),
                out,
            );
            if !still_stuck {
                self.holds.remove(&HoldCause::StuckOrder);
            }
        }
        if let Some(msg) = rejected {
            self.last_error = Some(msg.clone());
            self.audit(now, EventKind::OrderRejected, msg, out);
        }
        self.write_session(out);
    }

    pub(super) fn on_order_failed(
        &mut self,
        now: DateTime<Utc>,
        id: &ClientOrderId,
        reason: String,
        out: &mut Vec<Action>,
    ) {
        if self.on_stop_failed(now, id, &reason, out) {
            self.write_session(out);
            return;
        }
        let Some(l) = self.live.as_mut() else { return };
        for w in l.work.iter_mut() {
            if w.working.as_ref().is_some_and(|x| x.client_order_id == *id) {
                w.working = None;
                w.stalled = Some(now);
            }
        }
        let msg = format!("{id} failed: {reason}");
        self.last_error = Some(msg.clone());
        self.audit(now, EventKind::OrderError, msg, out);
        self.write_session(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Symbol;
    use crate::model::PriceBand;
    use rust_decimal_macros::dec;

    fn quote(
        bid: Option<Decimal>,
        ask: Option<Decimal>,
        band: Option<(Decimal, Decimal)>,
    ) -> Quote {
        Quote {
            symbol: Symbol::new("C-BTC-90000-110326").expect("symbol"),
            timestamp: chrono::DateTime::UNIX_EPOCH,
            mark: dec!(100),
            bid,
            bid_size: dec!(10),
            ask,
            ask_size: dec!(10),
            greeks: None,
            mark_iv: None,
            bid_iv: None,
            ask_iv: None,
            spot: None,
            open_interest: None,
            price_band: band.map(|(lower, upper)| PriceBand { lower, upper }),
            trading_halt: None,
        }
    }

    fn profile(ticks: u32) -> Profile {
        let mut p = Profile::named("ioc");
        p.execution.ioc_ticks = ticks;
        p
    }

    #[test]
    fn an_ioc_buy_goes_past_the_ask_within_the_band() {
        let tick = dec!(0.1);
        let p = profile(10);
        let q = quote(None, Some(dec!(150.05)), Some((dec!(0.1), dec!(400))));
        // 150.05 + 1.0, on the tick grid upwards.
        assert_eq!(ioc_buy_price(&p, &q, tick), Some(dec!(151.1)));
        // A band's upper limit below that caps it (floored to the tick).
        let q = quote(None, Some(dec!(150)), Some((dec!(0.1), dec!(150.57))));
        assert_eq!(ioc_buy_price(&p, &q, tick), Some(dec!(150.5)));
        // No ask: the band's upper limit; no band either: no order.
        let q = quote(None, None, Some((dec!(0.1), dec!(300.04))));
        assert_eq!(ioc_buy_price(&p, &q, tick), Some(dec!(300.0)));
        assert_eq!(ioc_buy_price(&p, &quote(None, None, None), tick), None);
        // No band: the ask plus the ticks.
        let q = quote(None, Some(dec!(150)), None);
        assert_eq!(ioc_buy_price(&profile(3), &q, tick), Some(dec!(150.3)));
    }

    #[test]
    fn an_ioc_sell_goes_under_the_bid_never_below_the_band_or_a_tick() {
        let tick = dec!(0.1);
        let p = profile(10);
        let q = quote(Some(dec!(80)), None, Some((dec!(0.1), dec!(300))));
        assert_eq!(ioc_sell_price(&p, &q, tick), Some(dec!(79.0)));
        let q = quote(Some(dec!(80)), None, Some((dec!(79.55), dec!(300))));
        assert_eq!(ioc_sell_price(&p, &q, tick), Some(dec!(79.6)));
        let q = quote(Some(dec!(0.5)), None, None);
        assert_eq!(ioc_sell_price(&p, &q, tick), Some(dec!(0.1)));
        // No bid: nothing is sold.
        assert_eq!(
            ioc_sell_price(&p, &quote(None, Some(dec!(5)), None), tick),
            None
        );
    }
}
