//! The async engine: feeds the strategy from an [`Exchange`] and a [`Clock`], carries out its
//! actions, and records everything through a [`Ledger`].
//!
//! Each step: take operator commands, poll working orders, fetch the market data the
//! strategy asks for, hand it over, and execute the resulting actions in order. An order's
//! intent is written to the ledger before the order is sent; if the write fails, the order is
//! not sent and the engine stops with the error. A placement whose outcome is uncertain
//! (timeout, 5xx) is looked up by `client_order_id` before anything else happens, so a
//! retry never duplicates an order. Between steps the engine sleeps on the clock until the
//! next poll or the strategy's next deadline, whichever is first — a simulated clock makes
//! that instant.
//!
//! ```no_run
//! use std::sync::Arc;
//! use chrono::{Duration, Utc};
//! use rust_decimal::Decimal;
//! use strangle_core::{clock::ManualClock, engine::{Engine, EngineConfig}, memory::MemoryLedger};
//! use strangle_core::{profile::Profile, sim::SimExchange};
//!
//! # async fn demo() -> strangle_core::Result<()> {
//! let mut profile = Profile::named("btc-daily");
//! profile.contracts_per_leg = Decimal::from(10);
//! let clock = Arc::new(ManualClock::new(Utc::now()));
//! let venue = Arc::new(SimExchange::new(clock.clone(), profile.fees.clone(), Decimal::from(10_000)));
//! let ledger = Arc::new(MemoryLedger::new());
//! let (mut engine, handle) =
//!     Engine::start(profile, EngineConfig::default(), venue, ledger, clock).await?;
//! // Feed the venue with `venue.push_chain(...)` or a `MarketFeed`, then:
//! engine.run_until(Some(Utc::now() + Duration::days(1))).await?;
//! println!("{:?}", handle.status().phase);
//! # Ok(()) }
//! ```

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use tokio::sync::{mpsc, watch};

use crate::audit::EventKind;
use crate::clock::Clock;
use crate::error::{Error, ExchangeErrorKind, Result};
use crate::exchange::Exchange;
use crate::ids::ClientOrderId;
use crate::ledger::{AuditEvent, Ledger, Mode};
use crate::model::OrderStatus;
use crate::profile::Profile;
use crate::reconciliation::{self, Checks};
use crate::strategy::{
    Action, Command, Event, HoldCause, MarketNeed, Phase, Status, Strategy, Write,
};

/// What an operator can ask a running engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineCommand {
    /// Flatten open legs, then stop.
    Stop,
    /// Cancel working orders and buy every leg back at once (IOC orders priced past the ask,
    /// within the price band), then stop.
    Panic,
    /// Drop the strategy's in-memory state without flattening and start again from the
    /// ledger, adopting the open strangle (waits until no order is working).
    Restart,
    /// The account risk governor's state and why (see
    /// [`crate::strategy::Event::AccountRisk`]); it outlives a restart.
    AccountRisk {
        /// The governor's state.
        state: crate::governor::RiskState,
        /// Why, with the figures.
        why: String,
    },
}

/// Controls a running engine from another task.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<EngineCommand>,
    status: watch::Receiver<Status>,
}

impl EngineHandle {
    /// Sends a command; `false` if the engine has already ended.
    pub fn send(&self, cmd: EngineCommand) -> bool {
        self.commands.send(cmd).is_ok()
    }

    /// The latest heartbeat.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// A receiver that sees every new heartbeat.
    pub fn watch(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }
}

/// Engine settings that are not strategy settings.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// How the engine is connected (recorded on sessions).
    pub mode: Mode,
    /// Longest sleep between two steps.
    pub poll_interval: Duration,
    /// At start, accept the exchange's positions when they differ from the ledger (an
    /// operator's explicit decision); otherwise the engine refuses to start.
    pub adopt: bool,
    /// Entry orders go out as IOC and never rest: for a venue whose dead-man switch would
    /// also cancel the legs' stops, so that no switch is needed (nothing that opens a
    /// position is ever left working while nobody watches).
    pub ioc_entries: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Sim,
            poll_interval: Duration::seconds(5),
            adopt: false,
            ioc_entries: false,
        }
    }
}

/// The driver of one profile's strategy.
pub struct Engine<E, L, C> {
    exchange: E,
    ledger: L,
    clock: C,
    config: EngineConfig,
    strategy: Strategy,
    commands: mpsc::UnboundedReceiver<EngineCommand>,
    status: watch::Sender<Status>,
    restart_pending: bool,
    /// The next step's time, computed by [`Engine::run_to`] when it stopped before it.
    wake: Option<DateTime<Utc>>,
    /// Step every poll interval even with nothing to watch (see [`Engine::step_while_idle`]).
    step_idle: bool,
    /// Steps taken so far.
    steps: u64,
    /// The operator's stop or panic, kept so that a restart replacing the strategy hands it
    /// on instead of forgetting it.
    stop_requested: Option<Command>,
    /// The account risk governor's latest state sent to this engine.
    account_risk: Option<(crate::governor::RiskState, String)>,
    last_error: Option<String>,
    /// Working orders whose state could not be read, with how many polls in a row failed.
    unreadable: std::collections::HashMap<ClientOrderId, u32>,
    /// Audit lines seen in the last steps, so a repeated one is written once with a count.
    repeats: Repeats,
    /// Orders the venue said it does not know, with when it first said so: absence is
    /// taken as proven only when it still says so after [`Engine::absence_confirm`].
    absent_since: std::collections::HashMap<ClientOrderId, DateTime<Utc>>,
    /// How long an order must stay unknown to the venue before it counts as absent.
    absence_confirm: Duration,
    /// Checks of closed sessions' money against the venue's records (off unless asked for
    /// with [`Engine::check_money_with_venue`]).
    checks: Option<Checks>,
    /// The session recovery closed at start, if it did (checked too once checks are on).
    closed_at_start: Option<crate::ledger::SessionRecord>,
}

/// What the venue's reads say of an order its client-id lookup does not find.
enum Absence {
    /// Another read shows it.
    Found(OrderStatus),
    /// No read shows it and the position agrees: why it counts as never placed.
    Proven(String),
    /// Not proven: why.
    Unproven(String),
}

/// Seconds an order must stay unknown to the venue's lookups before it counts as never
/// placed: a venue may not find a new order by its client id at once (Delta does not say
/// how soon it does).
pub const ABSENCE_CONFIRM_SECS: i64 = 5;

/// An audit line repeated step after step (an error each poll, a cancel asked again) is
/// written the first time; its repeats are counted and written as one `repeated` line when
/// it stops recurring (a step without it) or the engine ends, and as a running count at
/// every power of ten, so a condition that never ends still shows in the trail.
#[derive(Debug, Default)]
struct Repeats {
    seen: std::collections::HashMap<(EventKind, String), Repeat>,
}

#[derive(Debug, Clone)]
struct Repeat {
    /// Repeats not yet written.
    unwritten: u64,
    /// Every occurrence, the first included.
    total: u64,
    /// The last step it occurred in.
    step: u64,
    /// Its session.
    session_id: Option<crate::ids::SessionId>,
}

impl Repeats {
    /// Whether `e` is a repeat (counted, not to be written); the running count to write
    /// when it reaches a power of ten.
    fn note(&mut self, e: &AuditEvent, step: u64) -> (bool, Option<AuditEvent>) {
        let key = (e.kind.clone(), e.detail.clone());
        match self.seen.get_mut(&key) {
            Some(r) if r.step + 1 >= step => {
                r.step = step;
                r.total += 1;
                r.unwritten += 1;
                let decade = r.total >= 10 && 10_u64.pow(r.total.ilog10()) == r.total;
                let summary = decade.then(|| {
                    r.unwritten = 0;
                    repeated(e, r.total, "so far")
                });
                (true, summary)
            }
            _ => {
                self.seen.insert(
                    key,
                    Repeat {
                        unwritten: 0,
                        total: 1,
                        step,
                        session_id: e.session_id.clone(),
                    },
                );
                (false, None)
            }
        }
    }

    /// The lines that did not recur in `step` (all of them with `all`), removed, with a
    /// `repeated` line for each whose repeats are not written yet.
    fn ended(&mut self, step: u64, all: bool, at: DateTime<Utc>, profile: &str) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        self.seen.retain(|(kind, detail), r| {
            if !all && r.step >= step {
                return true;
            }
            if r.unwritten > 0 {
                let e = AuditEvent {
                    at,
                    profile: profile.to_string(),
                    session_id: r.session_id.clone(),
                    kind: kind.clone(),
                    detail: detail.clone(),
                };
                out.push(repeated(&e, r.total, "in all"));
            }
            false
        });
        out.sort_by(|a, b| a.detail.cmp(&b.detail));
        out
    }
}

fn repeated(e: &AuditEvent, total: u64, when: &str) -> AuditEvent {
    AuditEvent {
        at: e.at,
        profile: e.profile.clone(),
        session_id: e.session_id.clone(),
        kind: EventKind::Repeated,
        detail: format!("{} {total} times {when}: {}", e.kind, e.detail),
    }
}

/// Polls in a row that may fail to read a working order's state before the engine stops:
/// it never sends anything for an order it cannot see, so it stops and names the order.
pub const MAX_UNREADABLE_POLLS: u32 = 30;

impl<E: Exchange, L: Ledger, C: Clock> Engine<E, L, C> {
    /// Validates the profile, saves it, reconciles the profile's open session with the
    /// exchange ([`crate::recovery::reconcile`]), and resumes from the profile's latest
    /// session (so an open strangle is carried on and a used trading day is not entered
    /// again). Refuses to start when the ledger and the exchange disagree, unless
    /// `config.adopt` is set.
    pub async fn start(
        profile: Profile,
        config: EngineConfig,
        exchange: E,
        ledger: L,
        clock: C,
    ) -> Result<(Self, EngineHandle)> {
        profile.validate()?;
        ledger.save_profile(&profile).await?;
        let reconciled = crate::recovery::reconcile(
            &exchange,
            &ledger,
            &profile.name,
            config.adopt,
            clock.now(),
        )
        .await;
        if let Err(e) = &reconciled {
            // Said in the trail as well as to the caller: a start that keeps failing leaves
            // an open strangle unmanaged, and the ledger is where that is looked for.
            let active = ledger.active_sessions(&profile.name).await.ok();
            let session_id = active.and_then(|v| v.last().map(|s| s.session_id.clone()));
            let _ = ledger
                .record_event(&AuditEvent {
                    at: clock.now(),
                    profile: profile.name.clone(),
                    session_id,
                    kind: EventKind::StartFailed,
                    detail: format!("the engine did not start: {e}"),
                })
                .await;
        }
        let recovered = reconciled?.session_id;
        let strategy = resumed(&ledger, profile, config.mode, clock.now())
            .await?
            .with_ioc_entries(config.ioc_entries);
        // A session that recovery itself closed (settled or stopped at the venue while no
        // engine ran) ended just now, as far as checking its money goes.
        let closed_at_start = strategy
            .last_closed()
            .filter(|s| recovered.as_ref() == Some(&s.session_id))
            .cloned();
        let (tx, rx) = mpsc::unbounded_channel();
        let (stx, srx) = watch::channel(strategy.status(clock.now()));
        let engine = Self {
            exchange,
            ledger,
            clock,
            config,
            strategy,
            commands: rx,
            status: stx,
            restart_pending: false,
            wake: None,
            step_idle: false,
            steps: 0,
            stop_requested: None,
            account_risk: None,
            unreadable: std::collections::HashMap::new(),
            last_error: None,
            repeats: Repeats::default(),
            absent_since: std::collections::HashMap::new(),
            absence_confirm: Duration::seconds(ABSENCE_CONFIRM_SECS),
            checks: None,
            closed_at_start,
        };
        Ok((
            engine,
            EngineHandle {
                commands: tx,
                status: srx,
            },
        ))
    }

    /// The strategy (for inspection).
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// The exchange.
    pub fn exchange(&self) -> &E {
        &self.exchange
    }

    /// The ledger.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The current heartbeat.
    pub fn status(&self) -> Status {
        let mut s = self.strategy.status(self.clock.now());
        s.quote_source = self.exchange.quote_source();
        s.rate_budget_left = self.exchange.rate_budget_left();
        if s.last_error.is_none() {
            s.last_error = self.last_error.clone();
        }
        s.reconciliation = self.checks.as_ref().and_then(|c| c.last.clone());
        s
    }

    /// Runs until the strategy stops (after an operator stop or panic).
    pub async fn run(&mut self) -> Result<Status> {
        self.run_until(None).await
    }

    /// Steps the engine on its own schedule until its next step would come after `t`, then
    /// returns without sleeping (the clock stays at its last step); the next call carries on
    /// from that step. With `stop_at_t` it also steps at `t` itself and returns there, as
    /// [`Engine::run_until`] does. Commands sent in between are read by the next step. A
    /// portfolio backtest advances its engines together with this: with nothing sent, each
    /// engine steps exactly when it would have run alone.
    pub async fn run_to(&mut self, t: DateTime<Utc>, stop_at_t: bool) -> Result<Status> {
        loop {
            if let Some(w) = self.wake.take() {
                let target = if stop_at_t { w.min(t) } else { w };
                if target > t {
                    self.wake = Some(w);
                    return Ok(self.status());
                }
                self.clock.sleep_until(target).await;
            }
            if let Some(end) = self.step_or_end(stop_at_t.then_some(t)).await? {
                return Ok(end);
            }
            self.wake = Some(self.next_wake(self.clock.now()));
        }
    }

    /// One step; the final heartbeat when the run ends with it (the strategy stopped, or the
    /// clock reached `until`): a session that just closed is checked then rather than never,
    /// and the counts of repeated lines are written (also after an error: they are part of
    /// the story of the failure).
    async fn step_or_end(&mut self, until: Option<DateTime<Utc>>) -> Result<Option<Status>> {
        if let Err(e) = self.step().await {
            let _ = self.flush_repeats(self.clock.now(), true).await;
            return Err(e);
        }
        let now = self.clock.now();
        if self.strategy.phase() == Phase::Stopped || until.is_some_and(|u| now >= u) {
            self.run_checks(now, true).await?;
            self.flush_repeats(now, true).await?;
            return Ok(Some(self.status()));
        }
        Ok(None)
    }

    /// When the step after one at `now` is due: a poll interval later, or sooner when
    /// something is due; a backtest with nothing to watch jumps to the next thing due (the
    /// steps in between would ask nothing and decide nothing, see `idle_until`).
    fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let wake = now + self.config.poll_interval;
        match self.strategy.next_deadline(now).filter(|d| *d > now) {
            Some(d) if self.idle_until(now) => d,
            Some(d) => wake.min(d),
            None => wake,
        }
    }

    /// Runs until the clock reaches `until` (if given) or the strategy stops.
    pub async fn run_until(&mut self, until: Option<DateTime<Utc>>) -> Result<Status> {
        // A step that `run_to` left due comes first.
        if let Some(w) = self.wake.take() {
            self.clock.sleep_until(until.map_or(w, |u| w.min(u))).await;
        }
        loop {
            if let Some(end) = self.step_or_end(until).await? {
                return Ok(end);
            }
            let mut wake = self.next_wake(self.clock.now());
            if let Some(u) = until {
                wake = wake.min(u);
            }
            // Commands first, so that a pending command is handled at the same simulated
            // instant every run.
            tokio::select! {
                biased;
                Some(cmd) = self.commands.recv() => self.queue_command(cmd).await?,
                () = self.clock.sleep_until(wake) => {}
            }
        }
    }

    /// Checks each session that closes while this engine runs against the venue's own
    /// records ([`crate::reconciliation`]): [`crate::reconciliation::FIRST_CHECK_SECS`] after
    /// it closes (at once when the engine ends first), again once if that finds a
    /// difference (`books_recheck`); the outcome is an audit line (`books_agree`,
    /// `books_differ`, `books_unread`, `books_unavailable`) and the heartbeat's
    /// `reconciliation`. A session that recovery closed at start is checked as well.
    pub fn check_money_with_venue(&mut self, tolerance: Decimal) {
        let mut checks = Checks::new(tolerance);
        // The session the engine resumed is watched from now: it may close on the first step.
        checks.observe(self.strategy.session(), None, self.clock.now());
        if let Some(s) = self.closed_at_start.take() {
            let at = self.clock.now() + Duration::seconds(reconciliation::FIRST_CHECK_SECS);
            checks.schedule(s, at);
        }
        self.checks = Some(checks);
    }

    /// Sets how long an order must stay unknown to the venue before it counts as never
    /// placed (default [`ABSENCE_CONFIRM_SECS`]).
    pub fn absence_confirm(&mut self, d: Duration) {
        self.absence_confirm = d;
    }

    /// Whether the venue's "no such order" for `id` is proven: it said so at least
    /// `absence_confirm` ago and says so still. Until then the order stays working and is
    /// read again; nothing is sent in its place.
    fn absence_proven(&mut self, id: &ClientOrderId, now: DateTime<Utc>) -> bool {
        let first = *self.absent_since.entry(id.clone()).or_insert(now);
        now - first >= self.absence_confirm && first < now
    }

    /// Forgets what was seen of `id`'s absence (it was found, or its absence proven).
    fn forget_absence(&mut self, id: &ClientOrderId) {
        self.absent_since.remove(id);
    }

    /// What the venue's other reads say of order `id`, which its client-id lookup has not
    /// found for [`Engine::absence_confirm`]: the product's open orders and order history
    /// ([`crate::Execution::find_order`]), then the venue's position on the order's contract, which
    /// must be what the fills known for the leg make it (an order that filled unseen moved
    /// it). Absence is proven only when every read agrees.
    async fn independent_reads(&self, id: &ClientOrderId) -> Absence {
        let Some(leg) = self.strategy.order_leg(id) else {
            return Absence::Unproven("the order belongs to no leg of the session".into());
        };
        match self.exchange.find_order(id, leg.product_id).await {
            Ok(Some(st)) => return Absence::Found(st),
            Ok(None) => {}
            Err(e) => return Absence::Unproven(format!("its product's orders: {e}")),
        }
        let underlying = self.strategy.profile().underlying;
        let held = match self.exchange.positions(underlying).await {
            Ok(p) => p
                .iter()
                .find(|p| p.symbol == leg.symbol)
                .map_or(Decimal::ZERO, |p| -p.size),
            Err(e) => return Absence::Unproven(format!("positions: {e}")),
        };
        if held != leg.book.open() {
            return Absence::Unproven(format!(
                "the venue holds {held} short of {}, the fills known make it {}",
                leg.symbol,
                leg.book.open()
            ));
        }
        Absence::Proven(format!(
            "the venue has no record of this order: not by its client id for {} s, not among \
             its product's open orders or order history, and its position on {} is what the \
             known fills make it",
            self.absence_confirm.num_seconds(),
            leg.symbol
        ))
    }

    /// Makes a backtest step every poll interval even when idle, as every engine did before
    /// backtests advanced by events; the results are the same (tested), only slower.
    pub fn step_while_idle(&mut self, on: bool) {
        self.step_idle = on;
    }

    /// Whether the steps from `now` to the strategy's next deadline can be skipped without
    /// changing anything: a backtest (no dead-man switch to keep alive, no operator, a
    /// venue that moves only when asked), no session, no restart pending and nothing to
    /// ask the market. Such a step feeds only a timer, which decides nothing without a
    /// session; the market is first asked at the deadline, as it would be by stepping.
    fn idle_until(&self, now: DateTime<Utc>) -> bool {
        self.config.mode == Mode::Backtest
            && !self.step_idle
            && !self.restart_pending
            && self.strategy.is_idle(now)
    }

    async fn queue_command(&mut self, cmd: EngineCommand) -> Result<()> {
        let now = self.clock.now();
        match cmd {
            EngineCommand::Stop => self.operator_stop(now, Command::Stop).await,
            EngineCommand::Panic => self.operator_stop(now, Command::Panic).await,
            EngineCommand::Restart => {
                self.restart_pending = true;
                Ok(())
            }
            EngineCommand::AccountRisk { state, why } => {
                self.account_risk = Some((state, why.clone()));
                self.feed(now, Event::AccountRisk { state, why }).await
            }
        }
    }

    /// Feeds a stop or panic and remembers it (a panic outranks a stop).
    async fn operator_stop(&mut self, now: DateTime<Utc>, cmd: Command) -> Result<()> {
        if self.stop_requested != Some(Command::Panic) {
            self.stop_requested = Some(cmd);
        }
        self.feed(now, Event::Command(cmd)).await
    }

    /// Steps taken so far (a backtest's measure of work).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One pass: commands, restart, order polls, market data.
    pub async fn step(&mut self) -> Result<()> {
        self.steps += 1;
        let now = self.clock.now();
        while let Ok(cmd) = self.commands.try_recv() {
            self.queue_command(cmd).await?;
        }
        if self.restart_pending && self.strategy.is_quiescent() {
            self.restart_pending = false;
            let profile = self.strategy.profile().clone();
            self.strategy = resumed(&self.ledger, profile, self.config.mode, now)
                .await?
                .with_ioc_entries(self.config.ioc_entries);
            self.audit(
                now,
                EventKind::Restart,
                "engine restarted from the ledger".into(),
            )
            .await?;
            // A stop or panic asked before the restart still holds for the new strategy, and
            // so does the account risk governor's state.
            if let Some(cmd) = self.stop_requested {
                self.feed(now, Event::Command(cmd)).await?;
            }
            if let Some((state, why)) = self.account_risk.clone() {
                self.feed(now, Event::AccountRisk { state, why }).await?;
            }
        }
        // A dead-man switch not known to be armed holds new entries at once (an open strangle
        // is still managed); the hold ends when a refresh proves it armed again.
        match self.exchange.keepalive().await {
            Err(e) => {
                self.exchange_error(now, "keepalive", &e).await?;
                let why = format!("the dead-man switch is not known to be armed ({e})");
                if self.strategy.entry_hold().is_none() {
                    self.audit(now, EventKind::EntriesHeld, why.clone()).await?;
                }
                self.strategy.hold_entries(HoldCause::DeadMan, why);
            }
            Ok(()) => {
                if self.strategy.release_entries(HoldCause::DeadMan) {
                    self.audit(
                        now,
                        EventKind::EntriesResumed,
                        "the dead-man switch is armed".into(),
                    )
                    .await?;
                }
            }
        }
        for id in self.strategy.working_orders() {
            let polled = self.exchange.order(&id).await;
            if polled.is_ok() {
                self.unreadable.remove(&id);
            }
            match polled {
                Ok(Some(st)) => {
                    self.forget_absence(&id);
                    self.feed(now, Event::Order(st)).await?
                }
                Ok(None) if self.absence_proven(&id, now) => {
                    match self.independent_reads(&id).await {
                        Absence::Found(st) => {
                            self.forget_absence(&id);
                            self.feed(now, Event::Order(st)).await?;
                        }
                        Absence::Proven(reason) => {
                            self.forget_absence(&id);
                            self.feed(
                                now,
                                Event::OrderFailed {
                                    client_order_id: id,
                                    reason,
                                },
                            )
                            .await?;
                        }
                        Absence::Unproven(why) => {
                            // Read again every step for as long as it takes; the strategy's
                            // own deadlines (cancel, stuck order) go on meanwhile.
                            let msg = format!(
                                "order {id}: the venue does not find it, but its absence is \
                                 not proven ({why}); nothing is sent in its place"
                            );
                            self.audit(now, EventKind::OrderUnresolved, msg).await?;
                        }
                    }
                }
                Ok(None) => {
                    let detail = format!(
                        "order {id}: the venue does not find it yet; read again until it does \
                         or {} s pass",
                        self.absence_confirm.num_seconds()
                    );
                    self.audit(now, EventKind::OrderNotVisible, detail).await?;
                }
                Err(e) => {
                    self.exchange_error(now, &format!("order_poll {id}"), &e)
                        .await?;
                    let n = self.unreadable.entry(id.clone()).or_default();
                    *n += 1;
                    if *n >= MAX_UNREADABLE_POLLS {
                        let msg = format!(
                            "order {id}: its state could not be read {n} times in a row (last: \
                             {e}); stopping without sending anything more for it — look it up \
                             on the exchange by this client order id"
                        );
                        self.audit(now, EventKind::OrderUnreadable, msg.clone())
                            .await?;
                        return Err(Error::Engine(msg));
                    }
                }
            }
        }
        match self.strategy.market_need(now) {
            MarketNeed::Chain(u) => match self.exchange.chain(u).await {
                Ok(chain) => self.feed(now, Event::Chain(chain)).await?,
                Err(e) => self.exchange_error(now, "chain", &e).await?,
            },
            MarketNeed::Quotes(symbols) => {
                let spot = self
                    .exchange
                    .spot(self.strategy.profile().underlying)
                    .await
                    .ok();
                match self.exchange.quotes(&symbols).await {
                    Ok(quotes) => self.feed(now, Event::Quotes { spot, quotes }).await?,
                    Err(e) => {
                        self.exchange_error(now, "quotes", &e).await?;
                        self.feed(now, Event::Timer).await?;
                    }
                }
            }
            MarketNeed::Settlement(products) => {
                match self.exchange.settlement_fills(&products).await {
                    Ok(fills) => self.feed(now, Event::Settlement(fills)).await?,
                    Err(e) => self.exchange_error(now, "settlement", &e).await?,
                }
            }
            MarketNeed::Nothing => self.feed(now, Event::Timer).await?,
        }
        self.run_checks(now, false).await?;
        self.flush_repeats(now, false).await?;
        let _ = self.status.send(self.status());
        Ok(())
    }

    /// Schedules a check of a session that has just closed and runs the checks due (every
    /// one waiting, with `all`: the engine is ending).
    async fn run_checks(&mut self, now: DateTime<Utc>, all: bool) -> Result<()> {
        let Some(checks) = self.checks.as_mut() else {
            return Ok(());
        };
        checks.observe(self.strategy.session(), self.strategy.last_closed(), now);
        let tolerance = checks.tolerance;
        for mut due in checks.take_due(now, all) {
            let session = due.session.clone();
            let products: Vec<_> = session.legs.iter().map(|l| l.product()).collect();
            let since = session.opened_at - Duration::seconds(reconciliation::WINDOW_LEAD_SECS);
            let (kind, detail, outcome) = match self.exchange.venue_activity(&products, since).await
            {
                Ok(None) => (
                    EventKind::BooksUnavailable,
                    format!(
                        "session {}: the venue keeps no record to check the ledger's money \
                         against",
                        session.session_id
                    ),
                    None,
                ),
                Err(e) => {
                    self.exchange_error(now, "venue_activity", &e).await?;
                    due.failed += 1;
                    if due.failed < reconciliation::MAX_TRIES && !all {
                        if let Some(c) = self.checks.as_mut() {
                            c.again(
                                due,
                                now + Duration::seconds(reconciliation::FIRST_CHECK_SECS),
                            );
                        }
                        continue;
                    }
                    (
                        EventKind::BooksUnread,
                        format!(
                            "session {}: the venue's fills and wallet could not be read ({} \
                             tries, last: {e}); its money is not checked against the venue",
                            session.session_id, due.failed
                        ),
                        None,
                    )
                }
                Ok(Some(activity)) => {
                    let fills = self.ledger.session_fills(&session.session_id).await?;
                    let r = reconciliation::compare(&session, &fills, &activity, tolerance, now);
                    if !r.agrees() && !due.differed && !all {
                        due.differed = true;
                        let again = now + Duration::seconds(reconciliation::RECHECK_SECS);
                        if let Some(c) = self.checks.as_mut() {
                            c.again(due, again);
                        }
                        // Said, not reported: a row the venue books late is not a difference.
                        let e = AuditEvent {
                            at: now,
                            profile: self.strategy.profile().name.clone(),
                            session_id: Some(session.session_id.clone()),
                            kind: EventKind::BooksRecheck,
                            detail: format!(
                                "{}; looked at again at {}",
                                r.summary(),
                                again.format("%H:%M:%S UTC")
                            ),
                        };
                        self.record(&e).await?;
                        continue;
                    }
                    let kind = if r.agrees() {
                        EventKind::BooksAgree
                    } else {
                        EventKind::BooksDiffer
                    };
                    (kind, r.summary(), Some(r))
                }
            };
            if let Some(r) = outcome {
                if !r.agrees() {
                    self.last_error = Some(format!("{kind}: {detail}"));
                }
                if let Some(c) = self.checks.as_mut() {
                    c.last = Some(r);
                }
            }
            let e = AuditEvent {
                at: now,
                profile: self.strategy.profile().name.clone(),
                session_id: Some(session.session_id.clone()),
                kind,
                detail,
            };
            self.record(&e).await?;
        }
        Ok(())
    }

    async fn exchange_error(&mut self, now: DateTime<Utc>, what: &str, e: &Error) -> Result<()> {
        let msg = format!("{what}: {e}");
        self.last_error = Some(msg.clone());
        self.audit(now, EventKind::ExchangeError, msg).await
    }

    async fn audit(&mut self, now: DateTime<Utc>, kind: EventKind, detail: String) -> Result<()> {
        let e = AuditEvent {
            at: now,
            profile: self.strategy.profile().name.clone(),
            session_id: self.strategy.session().map(|s| s.session_id.clone()),
            kind,
            detail,
        };
        self.record(&e).await
    }

    /// Writes an audit line, unless it repeats one of the last steps (then it is counted;
    /// see [`Repeats`]).
    async fn record(&mut self, e: &AuditEvent) -> Result<()> {
        match self.repeats.note(e, self.steps) {
            (false, _) => self.ledger.record_event(e).await,
            (true, Some(summary)) => self.ledger.record_event(&summary).await,
            (true, None) => Ok(()),
        }
    }

    /// Writes the count of every repeated audit line that did not recur this step (every
    /// one, with `all`).
    async fn flush_repeats(&mut self, now: DateTime<Utc>, all: bool) -> Result<()> {
        if self.repeats.seen.is_empty() {
            return Ok(());
        }
        let profile = self.strategy.profile().name.clone();
        for e in self.repeats.ended(self.steps, all, now, &profile) {
            self.ledger.record_event(&e).await?;
        }
        Ok(())
    }

    /// Hands an event to the strategy and carries out everything that follows from it.
    async fn feed(&mut self, now: DateTime<Utc>, event: Event) -> Result<()> {
        let mut queue: VecDeque<Action> = self.strategy.handle(now, event).into();
        while let Some(action) = queue.pop_front() {
            let follow_up = match action {
                Action::Write(w) => {
                    self.write(w).await?;
                    None
                }
                Action::Place(intent) => {
                    // Intent first: an order that is not in the ledger is never sent.
                    self.ledger.record_order_intent(&intent).await?;
                    let id = intent.request.client_order_id.clone();
                    match self.exchange.place_order(&intent.request).await {
                        Ok(st) => Some(Event::Order(st)),
                        Err(e) if e.exchange_kind() == Some(ExchangeErrorKind::Uncertain) => {
                            self.exchange_error(now, "place_order", &e).await?;
                            match self.exchange.order(&id).await {
                                Ok(Some(st)) => Some(Event::Order(st)),
                                // Not found at once proves nothing yet: the order stays
                                // working and is read again until its absence is proven.
                                Ok(None) => {
                                    self.absent_since.entry(id).or_insert(now);
                                    None
                                }
                                // Still unknown: the order stays working and is polled
                                // again on the next step.
                                Err(e2) => {
                                    self.exchange_error(now, "order_lookup", &e2).await?;
                                    None
                                }
                            }
                        }
                        Err(e) => Some(Event::OrderFailed {
                            client_order_id: id,
                            reason: e.to_string(),
                        }),
                    }
                }
                Action::Cancel {
                    client_order_id,
                    product_id,
                } => match self
                    .exchange
                    .cancel_order(&client_order_id, product_id)
                    .await
                {
                    Ok(st) => Some(Event::Order(st)),
                    Err(e) => {
                        // Not cancellable usually means it already filled: read its state.
                        match self.exchange.order(&client_order_id).await {
                            Ok(Some(st)) if st.state.is_terminal() => Some(Event::Order(st)),
                            _ => {
                                self.exchange_error(now, "cancel_order", &e).await?;
                                None
                            }
                        }
                    }
                },
            };
            if let Some(ev) = follow_up {
                queue.extend(self.strategy.handle(now, ev));
            }
        }
        Ok(())
    }

    async fn write(&mut self, w: Write) -> Result<()> {
        match w {
            Write::Session(s) => self.ledger.upsert_session(&s).await,
            Write::OrderUpdate { session_id, status } => {
                self.ledger.record_order_update(&session_id, &status).await
            }
            Write::Fill { session_id, fill } => self.ledger.record_fill(&session_id, &fill).await,
            Write::Mark(m) => self.ledger.record_mark(&m).await,
            Write::Event(e) => self.record(&e).await,
        }
    }
}

/// The strategy carried on from the profile's latest recorded session, with the session's
/// recorded fills marked as booked (an adopted venue stop's fills are not counted twice).
async fn resumed<L: Ledger>(
    ledger: &L,
    profile: Profile,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<Strategy> {
    let latest = ledger.latest_session(&profile.name).await?;
    let active = latest
        .as_ref()
        .filter(|s| s.state.is_active())
        .map(|s| s.session_id.clone());
    let mut strategy = Strategy::resume(profile, mode, latest).started_at(now);
    if let Some(id) = active {
        let fills = ledger.session_fills(&id).await?;
        strategy = strategy.with_recorded_fills(fills.into_iter().map(|f| f.fill_id));
    }
    Ok(strategy)
}
