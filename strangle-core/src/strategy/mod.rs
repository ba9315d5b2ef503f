//! The strategy: a sans-I/O state machine. Events go in, actions come out; it never awaits,
//! sleeps or reads the clock — `now` comes with every call — so it behaves identically in
//! live trading and in a backtest, and can be tested exhaustively.
//!
//! Life of a session: `Waiting` → (entry window, legs selected) `Entering` → (both legs
//! sold) `Open` → (an exit fires) `Exiting` → (flat) `Waiting` again, or `Stopped` after an
//! operator stop. A failed or aborted entry goes from `Entering` straight to `Exiting` to buy
//! back whatever was sold.

mod guard;
mod legs;
mod orders;
mod reentry;
mod status;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::audit::EventKind;
use crate::ids::{self, ClientOrderId, ProductId, SessionId, Symbol};
use crate::ledger::{
    AuditEvent, LegRecord, Mode, OrderIntent, PnlMark, SessionRecord, SessionState,
};
use crate::model::{ChainSnapshot, Fill, OrderStatus, ProductRef, Quote, Underlying};
use crate::pnl::{LegBook, SessionPnl};
use crate::profile::Profile;
use crate::risk::{check_exit, ExitInputs, ExitReason, TrailingStop};
use crate::schedule;
use crate::select::{select, NoEntry};

pub use guard::MAX_STOP_REFUSALS;
pub use orders::MAX_CANCELS;
pub use status::{LegStatus, Status};

/// What the strategy is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No session; waiting for the next entry window.
    Waiting,
    /// Entry orders are working.
    Entering,
    /// Both legs are short; exits are watched.
    Open,
    /// Buying the legs back.
    Exiting,
    /// Stopped by the operator; nothing more will happen.
    Stopped,
}

/// An operator command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Flatten open legs (limit orders as configured), then stop.
    Stop,
    /// Cancel working orders and market-close everything now, then stop.
    Panic,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A fresh option chain (asked for with [`MarketNeed::Chain`]).
    Chain(ChainSnapshot),
    /// Fresh quotes of the legs (asked for with [`MarketNeed::Quotes`]).
    Quotes {
        /// Index price, if known.
        spot: Option<Decimal>,
        /// One quote per leg symbol that the venue had.
        quotes: Vec<Quote>,
    },
    /// The venue's view of one of our orders.
    Order(OrderStatus),
    /// Placing an order failed and the venue has no trace of it.
    OrderFailed {
        /// The order's client id.
        client_order_id: ClientOrderId,
        /// What the venue or the transport said.
        reason: String,
    },
    /// Settlement fills of the legs (asked for with [`MarketNeed::Settlement`]).
    Settlement(Vec<Fill>),
    /// Time passed.
    Timer,
    /// The operator said something.
    Command(Command),
    /// The account risk governor's state: `reducing` and `halted` hold new entries, `halted`
    /// also closes an open strangle; `active` lifts the hold.
    AccountRisk {
        /// The governor's state.
        state: crate::governor::RiskState,
        /// Why, with the figures.
        why: String,
    },
}

/// A durable record to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// The session changed.
    Session(SessionRecord),
    /// An order changed at the venue.
    OrderUpdate {
        /// Session of the order.
        session_id: SessionId,
        /// Its state.
        status: OrderStatus,
    },
    /// A new fill.
    Fill {
        /// Session of the fill.
        session_id: SessionId,
        /// The fill.
        fill: Fill,
    },
    /// A PnL observation.
    Mark(PnlMark),
    /// An audit line.
    Event(AuditEvent),
}

/// What the strategy wants done, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Write to the ledger.
    Write(Write),
    /// Record the intent in the ledger, then send the order.
    Place(OrderIntent),
    /// Cancel an order.
    Cancel {
        /// Client id of the order.
        client_order_id: ClientOrderId,
        /// Its product.
        product_id: ProductId,
    },
}

/// Which market data the strategy needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketNeed {
    /// Nothing.
    Nothing,
    /// The whole chain of an underlying (to select strikes).
    Chain(Underlying),
    /// Quotes of these symbols (the legs).
    Quotes(Vec<Symbol>),
    /// The legs reached their expiry while short: their settlement fills.
    Settlement(Vec<ProductRef>),
}

/// Order-working state of one leg.
#[derive(Debug, Clone, Default)]
struct LegWork {
    /// The order currently at the venue.
    working: Option<Work>,
    /// The entry side is finished (fully, or accepted partially).
    entry_done: bool,
    /// The entry side gave up.
    entry_failed: bool,
    /// Since when a next order has waited for a usable price.
    waiting_since: Option<DateTime<Utc>>,
    /// Since when the last order filled nothing: the next one waits for a fresh quote, or
    /// for `fill_wait_secs` (at least 5 s) to pass, whichever comes first.
    stalled: Option<DateTime<Utc>>,
    /// The leg's venue stop.
    stop: Option<guard::StopWork>,
    /// Earlier venue stops being cancelled.
    retired: Vec<Work>,
    /// Venue stops refused in a row.
    stop_refusals: u32,
    /// The venue refused too many stops: none is placed again this session.
    stop_given_up: bool,
}

#[derive(Debug, Clone)]
struct Work {
    client_order_id: ClientOrderId,
    product_id: ProductId,
    sent_at: DateTime<Utc>,
    cancel_sent_at: Option<DateTime<Utc>>,
    /// Cancels sent for it so far (bounded by [`MAX_CANCELS`]).
    cancels: u32,
    /// Its cancels ran out with the venue still showing it working: entries are held
    /// until it resolves.
    stuck: bool,
}

impl Work {
    /// An order just sent, no cancel asked yet.
    fn sent(client_order_id: ClientOrderId, product_id: ProductId, at: DateTime<Utc>) -> Self {
        Self {
            client_order_id,
            product_id,
            sent_at: at,
            cancel_sent_at: None,
            cancels: 0,
            stuck: false,
        }
    }
}

/// Why no new strangle may be entered: each cause is set and cleared by what found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HoldCause {
    /// An order's cancels ran out while the venue still showed it working.
    StuckOrder,
    /// The venue's dead-man switch is not known to be armed.
    DeadMan,
    /// The venue refused a leg's stop order too many times.
    NoVenueStop,
    /// The account risk governor is reducing or halted.
    AccountRisk,
}

/// The session being traded.
#[derive(Debug, Clone)]
struct Live {
    rec: SessionRecord,
    trailing: TrailingStop,
    work: [LegWork; 2],
    quotes: [Option<Quote>; 2],
    /// Why an entry is being abandoned (failed leg, stop, panic).
    abort: Option<ExitReason>,
    /// Market-close everything.
    panic: bool,
    seen_fills: HashSet<String>,
    /// Client order id → leg index, for every order of the session.
    orders: HashMap<ClientOrderId, usize>,
    /// Lowest and highest spot seen since entry (or since the engine resumed the session).
    spot_range: Option<(Decimal, Decimal)>,
    /// What closing now would realise, at the latest quotes (`None` while a leg with open
    /// contracts has no ask).
    close_now: Option<SessionPnl>,
    /// Venue stops whose fills have been reported.
    venue_stopped: HashSet<ClientOrderId>,
    /// Legs closed alone whose closing has been reported.
    leg_closed: [bool; 2],
}

impl Live {
    /// A session just begun or resumed: no quotes, orders or fills seen yet.
    fn new(rec: SessionRecord) -> Self {
        let closed = |i: usize| {
            rec.legs
                .get(i)
                .is_some_and(|g| g.exit_reason.is_some() && g.book.open() <= Decimal::ZERO)
        };
        Self {
            leg_closed: [closed(0), closed(1)],
            trailing: TrailingStop {
                peak_pct: rec.peak_pnl_pct,
                level: rec.trailing_level,
            },
            rec,
            work: Default::default(),
            quotes: [None, None],
            abort: None,
            panic: false,
            seen_fills: HashSet::new(),
            orders: HashMap::new(),
            spot_range: None,
            close_now: None,
            venue_stopped: HashSet::new(),
        }
    }

    /// Leg `i`'s quote if it is no older than `max_age_secs` at `now` (orders are priced
    /// only on such a quote).
    fn fresh_quote(&self, i: usize, now: DateTime<Utc>, max_age_secs: u32) -> Option<&Quote> {
        self.quotes[i]
            .as_ref()
            .filter(|q| q.age_secs(now) <= i64::from(max_age_secs))
    }
}

/// The short-strangle state machine of one profile.
#[derive(Debug, Clone)]
pub struct Strategy {
    profile: Profile,
    mode: Mode,
    phase: Phase,
    live: Option<Live>,
    last_closed: Option<SessionRecord>,
    used_day: Option<NaiveDate>,
    stop_requested: bool,
    spot: Option<Decimal>,
    /// Why the open entry window has not been used yet (cleared outside the window).
    last_no_entry: Option<crate::select::NoEntry>,
    last_error: Option<String>,
    /// When the engine started this strategy (what a late start is judged by).
    started_at: Option<DateTime<Utc>>,
    /// Why no new strangle may be entered now, by cause (empty: entries allowed).
    holds: std::collections::BTreeMap<HoldCause, String>,
    /// When the strategy last handled an event (what a late exit is explained by).
    last_event_at: Option<DateTime<Utc>>,
    /// Entry orders are IOC: none rests at the venue.
    ioc_entries: bool,
    /// Why each trading day's window has not led to an entry (the latest cause seen while
    /// it was open); a day is removed once entered. Kept in backtests only (their report
    /// counts the days): an engine that runs for months would grow it a day at a time.
    no_entry_days: std::collections::BTreeMap<NaiveDate, crate::select::NoEntryCause>,
    /// The re-entry the last closed session allows (`reentry`), until it is entered.
    reentry: Option<reentry::Due>,
}

/// How far past its due time a timed exit (the planned exit, the expiry buffer) may begin
/// before it is reported as late, with its cause.
pub const LATE_EXIT_GRACE_SECS: i64 = 120;

impl Strategy {
    /// A strategy with no history. The profile should have passed [`Profile::validate`].
    pub fn new(profile: Profile, mode: Mode) -> Self {
        Self {
            profile,
            mode,
            phase: Phase::Waiting,
            live: None,
            last_closed: None,
            used_day: None,
            stop_requested: false,
            spot: None,
            last_no_entry: None,
            last_error: None,
            started_at: None,
            holds: std::collections::BTreeMap::new(),
            last_event_at: None,
            ioc_entries: false,
            no_entry_days: std::collections::BTreeMap::new(),
            reentry: None,
        }
    }

    /// Why each trading day whose entry window opened has not been entered, by day (the
    /// latest cause seen while its window was open), in a backtest; empty in other modes. A
    /// day with no chain during its window is not here.
    pub fn no_entry_days(
        &self,
    ) -> &std::collections::BTreeMap<NaiveDate, crate::select::NoEntryCause> {
        &self.no_entry_days
    }

    /// Sends every entry order as IOC, so that none rests at the venue (see
    /// [`crate::engine::EngineConfig::ioc_entries`]).
    pub fn with_ioc_entries(mut self, on: bool) -> Self {
        self.ioc_entries = on;
        self
    }

    /// Holds new entries for `cause`, saying why (an open strangle is still managed and
    /// closed as usual); a later call replaces the text.
    pub fn hold_entries(&mut self, cause: HoldCause, why: String) {
        self.holds.insert(cause, why);
    }

    /// Lifts the hold of `cause`; whether there was one.
    pub fn release_entries(&mut self, cause: HoldCause) -> bool {
        self.holds.remove(&cause).is_some()
    }

    /// Why new entries are held, if they are.
    pub fn entry_hold(&self) -> Option<String> {
        (!self.holds.is_empty())
            .then(|| self.holds.values().cloned().collect::<Vec<_>>().join("; "))
    }

    /// Records when the engine started the strategy: with the profile's `late_entry`, a start
    /// after the day's entry window and before its exit time enters at once.
    pub fn started_at(mut self, now: DateTime<Utc>) -> Self {
        self.started_at = Some(now);
        self
    }

    /// When the next entry may happen and by which rule (`now` when a window is open or a
    /// late start may enter).
    pub fn next_entry(&self, now: DateTime<Utc>) -> (DateTime<Utc>, schedule::EntryRule) {
        let unused = |d: &NaiveDate| self.used_day.is_none_or(|u| *d > u);
        if schedule::window_day(&self.profile, now).is_none()
            && self.late_day(now).filter(unused).is_some()
        {
            return (now, schedule::EntryRule::LateStart);
        }
        let window = schedule::next_entry(&self.profile, now, self.used_day);
        match self.reentry.as_ref().filter(|r| now < r.until) {
            Some(r) if r.from.max(now) <= window => (r.from.max(now), schedule::EntryRule::Reentry),
            _ => (window, schedule::EntryRule::Window),
        }
    }

    fn late_day(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        schedule::late_day(&self.profile, self.started_at?, now)
    }

    /// A strategy that continues from the profile's latest recorded session: a closed one
    /// only uses up its trading day; an active one is adopted and carried on (monitoring an
    /// open strangle, finishing an entry or an exit).
    pub fn resume(profile: Profile, mode: Mode, latest: Option<SessionRecord>) -> Self {
        let mut s = Self::new(profile, mode);
        let Some(rec) = latest else { return s };
        s.used_day = Some(rec.trading_day);
        if !rec.state.is_active() {
            s.reentry = reentry::due_after(&s.profile, &rec);
            s.last_closed = Some(rec);
            return s;
        }
        // An open strangle whose legs are all flat was closed outside this engine (found by
        // reconciliation): it is closed on the first step, keeping what was recorded. One
        // that reconciliation found stopped at the venue closes what is left.
        let mut rec = rec;
        let flat = rec.legs.iter().all(|g| g.book.open() <= Decimal::ZERO);
        // A leg's venue stop that fired while strangle was down (found by reconciliation)
        // closes that leg alone when the leg policy keeps the other one.
        if rec.state == SessionState::Open
            && !flat
            && rec.exit_reason == Some(ExitReason::VenueStop)
            && s.profile.leg_exit.splits()
        {
            rec.exit_reason = None;
            legs::keep_survivors(&s.profile, &mut rec);
        }
        if rec.state == SessionState::Open && (flat || rec.exit_reason.is_some()) {
            rec.state = SessionState::Exiting;
            rec.exit_reason.get_or_insert(ExitReason::ClosedOutside);
        }
        s.phase = match rec.state {
            SessionState::Entering => Phase::Entering,
            SessionState::Open => Phase::Open,
            SessionState::Exiting | SessionState::Closed => Phase::Exiting,
        };
        let mut live = Live::new(rec);
        for i in 0..live.rec.legs.len().min(2) {
            let g = &live.rec.legs[i];
            live.work[i].entry_done =
                live.rec.state != SessionState::Entering || g.book.sold >= g.target;
            // The leg's latest venue stop may still rest at the venue: it is read on the
            // first step and adopted (or replaced) from what the venue says.
            if g.stop_attempts > 0 {
                let id = ids::client_order_id(
                    &live.rec.session_id,
                    g.kind,
                    crate::ledger::OrderPurpose::Stop,
                    g.stop_attempts,
                );
                live.orders.insert(id.clone(), i);
                live.work[i].stop = Some(guard::StopWork {
                    work: Work::sent(id, g.product_id, live.rec.opened_at),
                    stop_price: g.stop_price,
                    size: g.book.open(),
                    resting: false,
                    provisional: false,
                    replaces: None,
                });
            }
        }
        s.live = Some(live);
        s
    }

    /// Marks fills the ledger already holds as booked, so that orders read again after a
    /// resume (a venue stop adopted from before a restart) do not count them twice.
    pub fn with_recorded_fills(mut self, fill_ids: impl IntoIterator<Item = String>) -> Self {
        if let Some(l) = self.live.as_mut() {
            l.seen_fills.extend(fill_ids);
        }
        self
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The session closed last, if any.
    pub fn last_closed(&self) -> Option<&SessionRecord> {
        self.last_closed.as_ref()
    }

    /// The active session, if any.
    pub fn session(&self) -> Option<&SessionRecord> {
        self.live.as_ref().map(|l| &l.rec)
    }

    /// The leg of the live session that order `id` is for (its product, and the fills
    /// booked on it so far).
    pub fn order_leg(&self, id: &ClientOrderId) -> Option<&crate::ledger::LegRecord> {
        let l = self.live.as_ref()?;
        l.orders.get(id).and_then(|&i| l.rec.legs.get(i))
    }

    /// Client ids of orders working at the venue, venue stops included (to poll their
    /// state).
    pub fn working_orders(&self) -> Vec<ClientOrderId> {
        let mut ids = self.entry_exit_orders();
        ids.extend(self.stop_orders());
        ids
    }

    fn entry_exit_orders(&self) -> Vec<ClientOrderId> {
        self.live
            .iter()
            .flat_map(|l| l.work.iter())
            .filter_map(|w| w.working.as_ref().map(|w| w.client_order_id.clone()))
            .collect()
    }

    /// Whether no entry or exit order is working and no venue stop is being placed, replaced
    /// or cancelled (a restart may happen now: resting stops are adopted by the new strategy).
    pub fn is_quiescent(&self) -> bool {
        self.entry_exit_orders().is_empty()
            && self.live.as_ref().is_none_or(|l| {
                l.work.iter().all(|w| {
                    w.retired.is_empty()
                        && w.stop
                            .as_ref()
                            .is_none_or(|s| s.resting && s.replaces.is_none())
                })
            })
    }

    /// The market data the strategy needs at `now`.
    pub fn market_need(&self, now: DateTime<Utc>) -> MarketNeed {
        if let Some(l) = &self.live {
            return if now >= l.rec.expiry {
                MarketNeed::Settlement(l.rec.legs.iter().map(|g| g.product()).collect())
            } else {
                MarketNeed::Quotes(l.rec.legs.iter().map(|g| g.symbol.clone()).collect())
            };
        }
        if self.phase == Phase::Waiting && self.entry_day(now).is_some() {
            return MarketNeed::Chain(self.profile.underlying);
        }
        MarketNeed::Nothing
    }

    /// No session and nothing to ask the market at `now`: a timer at `now` decides nothing,
    /// and nothing changes until [`Strategy::next_deadline`].
    pub fn is_idle(&self, now: DateTime<Utc>) -> bool {
        self.live.is_none()
            && self.working_orders().is_empty()
            && matches!(self.market_need(now), MarketNeed::Nothing)
    }

    /// The next instant at which something is due without any market change: the next
    /// entry window, an order timeout, the planned exit or the expiry buffer.
    pub fn next_deadline(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (&self.live, self.phase) {
            (_, Phase::Stopped) => None,
            (None, _) => Some(self.next_entry(now).0),
            (Some(l), _) => {
                let ex = &self.profile.execution;
                let mut t = vec![
                    l.rec.planned_exit,
                    l.rec.expiry
                        - Duration::minutes(i64::from(self.profile.exit_before_expiry_minutes)),
                ];
                for w in l.work.iter().filter_map(|w| w.working.as_ref()) {
                    t.push(match w.cancel_sent_at {
                        None => w.sent_at + Duration::seconds(i64::from(ex.fill_wait_secs)),
                        Some(c) => c + Duration::seconds(i64::from(ex.cancel_confirm_secs)),
                    });
                }
                t.into_iter().min()
            }
        }
    }

    /// Handles one event at `now`; returns the actions to carry out, in order.
    pub fn handle(&mut self, now: DateTime<Utc>, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Chain(chain) => {
                self.spot = Some(chain.spot);
                self.try_enter(now, &chain, &mut out);
            }
            Event::Quotes { spot, quotes } => self.on_quotes(now, spot, quotes, &mut out),
            Event::Order(status) => self.on_order(now, status, &mut out),
            Event::OrderFailed {
                client_order_id,
                reason,
            } => self.on_order_failed(now, &client_order_id, reason, &mut out),
            Event::Settlement(fills) => self.on_settlement(now, fills, &mut out),
            Event::Timer => self.check_exits(now, None, None, &mut out),
            Event::Command(c) => self.on_command(now, c, &mut out),
            Event::AccountRisk { state, why } => self.on_account_risk(now, state, why, &mut out),
        }
        self.drive(now, &mut out);
        self.last_event_at = Some(now);
        out
    }

    fn audit(&self, now: DateTime<Utc>, kind: EventKind, detail: String, out: &mut Vec<Action>) {
        out.push(Action::Write(Write::Event(AuditEvent {
            at: now,
            profile: self.profile.name.clone(),
            session_id: self.live.as_ref().map(|l| l.rec.session_id.clone()),
            kind,
            detail,
        })));
    }

    fn write_session(&self, out: &mut Vec<Action>) {
        if let Some(l) = &self.live {
            out.push(Action::Write(Write::Session(l.rec.clone())));
        }
    }

    /// The trading day whose entry window is open and unused at `now`.
    pub(crate) fn entry_day(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        if self.stop_requested || self.live.is_some() {
            return None;
        }
        // Days only move forward: a day at or before the last one entered is never entered,
        // so a replay on an existing ledger cannot overwrite a recorded session.
        schedule::window_day(&self.profile, now)
            .or_else(|| self.late_day(now))
            .filter(|d| self.used_day.is_none_or(|u| *d > u))
            // A re-entry after a stop comes back to a day already used.
            .or_else(|| {
                self.reentry
                    .as_ref()
                    .filter(|r| r.open_at(now))
                    .map(|r| r.day)
            })
    }

    /// Records why `day` has not been entered (backtests only; see `no_entry_days`).
    fn note_no_entry(&mut self, day: NaiveDate, cause: crate::select::NoEntryCause) {
        if self.mode == Mode::Backtest {
            self.no_entry_days.insert(day, cause);
        }
    }

    fn try_enter(&mut self, now: DateTime<Utc>, chain: &ChainSnapshot, out: &mut Vec<Action>) {
        if self.phase != Phase::Waiting || chain.underlying != self.profile.underlying {
            return;
        }
        let Some(day) = self.entry_day(now) else {
            // Outside the window there is nothing to explain.
            self.last_no_entry = None;
            return;
        };
        let gates = &self.profile.gates;
        let day_gate = gates.check_day(day).map_err(NoEntry::Gated);
        if day_gate.is_ok() && !self.holds.is_empty() {
            self.note_no_entry(day, crate::select::NoEntryCause::EntriesHeld);
            return;
        }
        // A re-entry after a stop: the day is already used, and the due re-entry is open.
        let again = self
            .reentry
            .clone()
            .filter(|r| r.day == day && r.open_at(now) && self.used_day >= Some(day));
        let chosen = day_gate.and_then(|()| match &again {
            Some(r) if self.profile.reentry.mode == crate::profile::ReentryMode::SameStrikes => {
                crate::select::same_strikes(chain, &self.profile, now, &r.call, &r.put)
            }
            _ => select(chain, &self.profile, now),
        });
        let gated = chosen.and_then(|sel| {
            gates
                .check_market(chain, sel.expiry, &sel.call, &sel.put, now)
                .map(|()| sel)
                .map_err(NoEntry::Gated)
        });
        let sel = match gated {
            Ok(s) => s,
            Err(why) => {
                self.note_no_entry(day, why.cause());
                // An event when the cause changes; the status always shows the latest values.
                if !self
                    .last_no_entry
                    .as_ref()
                    .is_some_and(|last| last.same_cause(&why))
                {
                    self.audit(now, EventKind::NoEntry, why.to_string(), out);
                }
                self.last_no_entry = Some(why);
                return;
            }
        };
        self.last_no_entry = None;
        self.no_entry_days.remove(&day);
        self.used_day = Some(day);
        if let Some(r) = &again {
            self.reentry = None;
            self.audit(
                now,
                EventKind::Reentry,
                format!(
                    "re-entry {} of {} after {} (the day's first session {})",
                    r.n, self.profile.reentry.max_per_day, r.after, r.first
                ),
                out,
            );
        } else if schedule::window_day(&self.profile, now).is_none() {
            let (start, end) = schedule::entry_window(&self.profile, day);
            self.audit(
                now,
                EventKind::LateEntry,
                format!(
                    "late start: entering now, after the {day} window ({}–{} UTC), before its \
                     exit time",
                    start.format("%H:%M"),
                    end.format("%H:%M")
                ),
                out,
            );
        }
        let target = self.profile.contracts_per_leg;
        let leg = |e: &crate::model::ChainEntry| LegRecord {
            kind: e.contract.kind,
            symbol: e.contract.symbol.clone(),
            product_id: e.contract.product_id,
            strike: e.contract.strike,
            contract_size: e.contract.contract_size,
            tick_size: e.contract.tick_size,
            target,
            entry_delta: e.quote.greeks.map(|g| g.delta),
            book: LegBook::default(),
            mark: Some(e.quote.mark),
            entry_attempts: 0,
            exit_attempts: 0,
            stop_attempts: 0,
            stop_price: None,
            exit_reason: None,
            stop_at_cost: false,
        };
        let rec = SessionRecord {
            session_id: match &again {
                Some(r) => ids::reentry_session_id(&self.profile.name, day, r.n),
                None => ids::session_id(&self.profile.name, day),
            },
            profile: self.profile.name.clone(),
            underlying: self.profile.underlying,
            mode: self.mode,
            trading_day: day,
            state: SessionState::Entering,
            opened_at: now,
            closed_at: None,
            expiry: sel.expiry,
            planned_exit: schedule::planned_exit(&self.profile, now),
            entry_spot: Some(chain.spot),
            legs: vec![leg(&sel.call), leg(&sel.put)],
            exit_reason: None,
            pnl: SessionPnl::default(),
            trailing_level: None,
            peak_pnl_pct: None,
            trough_pnl_pct: None,
            reentry_of: again.as_ref().map(|r| r.first.clone()),
            reentry: again.as_ref().map_or(0, |r| r.n),
        };
        let mut live = Live::new(rec);
        live.quotes = [Some(sel.call.quote.clone()), Some(sel.put.quote.clone())];
        live.spot_range = Some((chain.spot, chain.spot));
        self.live = Some(live);
        self.phase = Phase::Entering;
        let fmt_delta = |d: Option<f64>| d.map_or("n/a".to_string(), |d| format!("{d:.4}"));
        self.audit(
            now,
            EventKind::Entry,
            format!(
                "selling {} x {} (delta {}, bid {}) and {} (delta {}, bid {}), expiry {}, spot {}",
                target,
                sel.call.contract.symbol,
                fmt_delta(sel.call.quote.greeks.map(|g| g.delta)),
                opt(sel.call.quote.bid),
                sel.put.contract.symbol,
                fmt_delta(sel.put.quote.greeks.map(|g| g.delta)),
                opt(sel.put.quote.bid),
                sel.expiry,
                chain.spot
            ),
            out,
        );
        self.write_session(out);
    }

    fn on_quotes(
        &mut self,
        now: DateTime<Utc>,
        spot: Option<Decimal>,
        quotes: Vec<Quote>,
        out: &mut Vec<Action>,
    ) {
        if spot.is_some() {
            self.spot = spot;
        }
        let Some(l) = self.live.as_mut() else { return };
        if let Some(s) = spot {
            l.spot_range = Some(match l.spot_range {
                Some((lo, hi)) => (lo.min(s), hi.max(s)),
                None => (s, s),
            });
        }
        for q in quotes {
            if let Some(i) = l.rec.legs.iter().position(|g| g.symbol == q.symbol) {
                let newer = l.quotes[i]
                    .as_ref()
                    .is_none_or(|old| q.timestamp >= old.timestamp);
                if newer {
                    l.rec.legs[i].mark = Some(q.mark);
                    l.quotes[i] = Some(q);
                    l.work[i].stalled = None;
                }
            }
        }
        let max_age = i64::from(self.profile.liquidity.max_quote_age_secs);
        let fresh = l
            .quotes
            .iter()
            .all(|q| q.as_ref().is_some_and(|q| q.age_secs(now) <= max_age));
        let pnl = refresh_pnl(&mut l.rec);
        l.close_now = close_now_pnl(&self.profile, &l.rec, &l.quotes, self.spot);
        let close = l.close_now;
        if l.rec.state == SessionState::Open {
            out.push(Action::Write(Write::Mark(PnlMark {
                session_id: l.rec.session_id.clone(),
                at: now,
                pnl,
                close_now_net: close.map(|c| c.net),
                trailing_level: l.trailing.level,
                spot: self.spot,
            })));
        }
        let (mark_pct, close_pct) = if fresh {
            (pnl.pct_of_premium(), close.and_then(|c| c.pct_of_premium()))
        } else {
            (None, None)
        };
        self.check_exits(now, mark_pct, close_pct, out);
    }

    /// Evaluates the exit rules of an open session with the given profits at the marks and
    /// on closing now (None when not trustworthy: only the time rules and the rules on the
    /// other basis apply then).
    fn check_exits(
        &mut self,
        now: DateTime<Utc>,
        mark_pct: Option<Decimal>,
        close_pct: Option<Decimal>,
        out: &mut Vec<Action>,
    ) {
        if self.phase != Phase::Open {
            return;
        }
        let Some(l) = self.live.as_mut() else { return };
        let inputs = ExitInputs {
            now,
            mark_pct,
            close_pct,
            planned_exit: l.rec.planned_exit,
            expiry: l.rec.expiry,
            stop_requested: self.stop_requested,
        };
        let before = l.trailing.level;
        let reason = check_exit(&self.profile, &mut l.trailing, &inputs);
        if let Some(p) = mark_pct {
            l.rec.peak_pnl_pct = Some(l.rec.peak_pnl_pct.map_or(p, |x| x.max(p)));
            l.rec.trough_pnl_pct = Some(l.rec.trough_pnl_pct.map_or(p, |x| x.min(p)));
        }
        l.rec.trailing_level = l.trailing.level;
        if l.trailing.level != before {
            let lvl = l.trailing.level.unwrap_or_default();
            self.audit(
                now,
                EventKind::Trailing,
                format!("trailing stop locks {lvl} % of premium"),
                out,
            );
            self.write_session(out);
        }
        if let Some(r) = reason {
            self.report_late_exit(now, r, out);
            self.begin_exit(now, r, out);
        } else {
            self.check_leg_exits(now, out);
        }
    }

    /// A timed exit that begins more than [`LATE_EXIT_GRACE_SECS`] after it was due is
    /// reported (`late_exit`), with why: the engine was not running then, it was not stepped
    /// in between, or it ran and the rule fired late.
    fn report_late_exit(&mut self, now: DateTime<Utc>, reason: ExitReason, out: &mut Vec<Action>) {
        let Some(l) = self.live.as_ref() else { return };
        let buffer = Duration::minutes(i64::from(self.profile.exit_before_expiry_minutes));
        let due = match reason {
            ExitReason::ExitTime => l.rec.planned_exit,
            ExitReason::ExpiryBuffer => l.rec.expiry - buffer,
            _ => return,
        };
        let late = now - due;
        if late <= Duration::seconds(LATE_EXIT_GRACE_SECS) {
            return;
        }
        let cause = self.why_late(due, now).unwrap_or_else(|| {
            "the engine ran, and the exit rule did not fire at the due time".to_string()
        });
        let msg = format!(
            "{reason} exit due at {due} begins {} min late: {cause}",
            late.num_minutes()
        );
        self.last_error = Some(msg.clone());
        self.audit(now, EventKind::LateExit, msg, out);
    }

    /// Why something due at `due` happens only at `now`, when the engine was the cause: it
    /// was not running then, or not stepped in between. `None` when it ran throughout.
    fn why_late(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
        match (self.started_at, self.last_event_at) {
            (Some(started), _) if started > due => Some(format!(
                "the engine was not running when it was due: it started at {started}"
            )),
            (_, Some(last)) if last < due => Some(format!(
                "the engine was not stepped between {last} and {now}"
            )),
            _ => None,
        }
    }

    fn begin_exit(&mut self, now: DateTime<Utc>, reason: ExitReason, out: &mut Vec<Action>) {
        let Some(l) = self.live.as_mut() else { return };
        l.rec.exit_reason = Some(reason);
        l.rec.state = SessionState::Exiting;
        if reason == ExitReason::Panic {
            l.panic = true;
        }
        let pnl = l.rec.pnl;
        let close = l
            .close_now
            .map_or("unknown".to_string(), |c| format!("{} USD", c.net));
        self.phase = Phase::Exiting;
        self.audit(
            now,
            EventKind::Exit,
            format!(
                "exit: {reason} (net PnL at marks {} USD, closing now at the asks {close})",
                pnl.net
            ),
            out,
        );
        self.write_session(out);
    }

    fn on_command(&mut self, now: DateTime<Utc>, cmd: Command, out: &mut Vec<Action>) {
        self.audit(
            now,
            EventKind::Command,
            format!("{cmd:?}").to_lowercase(),
            out,
        );
        self.stop_requested = true;
        let panic = cmd == Command::Panic;
        match self.phase {
            Phase::Waiting => self.phase = Phase::Stopped,
            Phase::Stopped => {}
            Phase::Entering => {
                if let Some(l) = self.live.as_mut() {
                    l.abort = Some(if panic {
                        ExitReason::Panic
                    } else {
                        ExitReason::OperatorStop
                    });
                    l.panic |= panic;
                }
            }
            Phase::Open => {
                if panic {
                    self.begin_exit(now, ExitReason::Panic, out);
                } else {
                    let (mark, close) = self.live.as_ref().map_or((None, None), |l| {
                        let close = l.close_now.and_then(|c| c.pct_of_premium());
                        (l.rec.pnl.pct_of_premium(), close)
                    });
                    self.check_exits(now, mark, close, out);
                }
            }
            Phase::Exiting => {
                if let Some(l) = self.live.as_mut() {
                    l.panic |= panic;
                }
            }
        }
    }

    /// Applies the account risk governor's state (see [`Event::AccountRisk`]).
    fn on_account_risk(
        &mut self,
        now: DateTime<Utc>,
        state: crate::governor::RiskState,
        why: String,
        out: &mut Vec<Action>,
    ) {
        use crate::governor::RiskState;
        if state == RiskState::Active {
            if self.holds.remove(&HoldCause::AccountRisk).is_some() {
                self.audit(
                    now,
                    EventKind::AccountRisk,
                    format!("account risk active: entries allowed again ({why})"),
                    out,
                );
            }
            return;
        }
        let msg = format!("account risk {state}: {why}");
        if self.holds.get(&HoldCause::AccountRisk) != Some(&msg) {
            self.holds.insert(HoldCause::AccountRisk, msg.clone());
            self.audit(now, EventKind::AccountRisk, msg, out);
        }
        if state != RiskState::Halted {
            return;
        }
        match self.phase {
            Phase::Open => self.begin_exit(now, ExitReason::AccountRisk, out),
            Phase::Entering => {
                if let Some(l) = self.live.as_mut() {
                    l.abort.get_or_insert(ExitReason::AccountRisk);
                }
            }
            _ => {}
        }
    }

    /// Applies settlement fills: the venue closed short legs at expiry.
    fn on_settlement(&mut self, now: DateTime<Utc>, fills: Vec<Fill>, out: &mut Vec<Action>) {
        let Some(l) = self.live.as_mut() else { return };
        let mut settled = Vec::new();
        for f in fills {
            let Some(i) = l.rec.legs.iter().position(|g| g.symbol == f.symbol) else {
                continue;
            };
            if !l.seen_fills.insert(f.fill_id.clone()) {
                continue;
            }
            let leg = &mut l.rec.legs[i];
            let size = f.size.min(leg.book.open());
            leg.book.buy(size, f.price, f.fee);
            leg.mark = Some(f.price);
            settled.push(format!("{} {} at {}", size, f.symbol, f.price));
            out.push(Action::Write(Write::Fill {
                session_id: l.rec.session_id.clone(),
                fill: f,
            }));
        }
        if settled.is_empty() {
            return;
        }
        l.rec.exit_reason = Some(ExitReason::Settled);
        l.rec.state = SessionState::Exiting;
        refresh_pnl(&mut l.rec);
        self.phase = Phase::Exiting;
        self.audit(
            now,
            EventKind::Settled,
            format!("settled at expiry: {}", settled.join(", ")),
            out,
        );
        self.write_session(out);
    }

    fn close_session(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let Some(mut l) = self.live.take() else {
            return;
        };
        l.rec.state = SessionState::Closed;
        l.rec.closed_at = Some(now);
        if l.rec.exit_reason.is_none() {
            l.rec.exit_reason = l.abort.or(Some(ExitReason::FailedEntry));
        }
        let pnl = refresh_pnl(&mut l.rec);
        let reason = l.rec.exit_reason.map(|r| r.to_string()).unwrap_or_default();
        // A session still open well past its planned exit (not one settled at expiry, which
        // is reported as such) is reported with the cause, whatever made its exit late.
        let due = l.rec.planned_exit;
        if now - due > Duration::seconds(LATE_EXIT_GRACE_SECS)
            && l.rec.exit_reason != Some(ExitReason::Settled)
        {
            let cause = self.why_late(due, now).unwrap_or_else(|| {
                "the engine ran; its exit orders took until now to be confirmed".to_string()
            });
            let msg = format!(
                "session {} ({reason}) closes {} min after its planned exit at {due}: {cause}",
                l.rec.session_id,
                (now - due).num_minutes()
            );
            self.last_error = Some(msg.clone());
            out.push(Action::Write(Write::Event(AuditEvent {
                at: now,
                profile: self.profile.name.clone(),
                session_id: Some(l.rec.session_id.clone()),
                kind: EventKind::LateClose,
                detail: msg,
            })));
        }
        out.push(Action::Write(Write::Session(l.rec.clone())));
        out.push(Action::Write(Write::Event(AuditEvent {
            at: now,
            profile: self.profile.name.clone(),
            session_id: Some(l.rec.session_id.clone()),
            kind: EventKind::Closed,
            detail: format!(
                "session closed ({reason}): net {} USD, gross {}, fees {}, premium {}",
                pnl.net, pnl.gross, pnl.fees, pnl.premium
            ),
        })));
        self.reentry = reentry::due_after(&self.profile, &l.rec);
        if let Some(r) = &self.reentry {
            out.push(Action::Write(Write::Event(AuditEvent {
                at: now,
                profile: self.profile.name.clone(),
                session_id: Some(l.rec.session_id.clone()),
                kind: EventKind::Reentry,
                detail: format!(
                    "re-entry {} of {} allowed after {}: from {} until {} UTC",
                    r.n,
                    self.profile.reentry.max_per_day,
                    r.after,
                    r.from.format("%Y-%m-%d %H:%M"),
                    r.until.format("%H:%M")
                ),
            })));
        }
        self.last_closed = Some(l.rec);
        self.phase = if self.stop_requested {
            Phase::Stopped
        } else {
            Phase::Waiting
        };
    }
}

/// Recomputes a session's PnL from its legs at their latest marks.
fn refresh_pnl(rec: &mut SessionRecord) -> SessionPnl {
    rec.pnl = rec.pnl_at_marks();
    rec.pnl
}

/// What closing every open contract now would realise: each leg bought back at its quote's
/// ask (rounded to the tick as the exit order prices it), paying the taker fee the profile's
/// fee model gives at `spot`. `None` while a leg with open contracts has no quote with an ask,
/// or no spot is known.
fn close_now_pnl(
    profile: &Profile,
    rec: &SessionRecord,
    quotes: &[Option<Quote>; 2],
    spot: Option<Decimal>,
) -> Option<SessionPnl> {
    let mut total = SessionPnl::default();
    for (i, g) in rec.legs.iter().enumerate() {
        let open = g.book.open();
        if open.is_zero() {
            total = total.plus(&g.book.pnl(Decimal::ZERO, g.contract_size));
            continue;
        }
        let q = quotes.get(i)?.as_ref()?;
        let price = orders::buy_price(profile, q, g.tick_size, 1)?;
        let spot = spot.or(q.spot)?;
        let fee = profile.fees.fee(spot, price, g.contract_size, open, true);
        total = total.plus(&g.book.close_now(price, g.contract_size, fee));
    }
    Some(total)
}

fn opt(d: Option<Decimal>) -> String {
    d.map_or("none".into(), |d| d.to_string())
}
