//! The engines `serve` runs: at most one per profile, several profiles at once.
//!
//! Starting takes the profile's ledger lease (so `strangle run` in another process cannot
//! trade the same profile at the same time), starts a [`RunningEngine`] on the chosen market,
//! and spawns a reaper that flushes the ledger, releases the lease and keeps the engine's last
//! heartbeat once it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strangle_core::clock::{Clock, ScaledClock};
use strangle_core::engine::EngineHandle;
use strangle_core::exchange::QuoteSource;
use strangle_core::governor::{self, Tick};
use strangle_core::ledger::Mode;
use strangle_core::profile::{Profile, Trailing};
use strangle_core::schedule;
use strangle_core::strategy::Status;
use strangle_delta::{Credentials, Environment};
use strangle_delta_runtime::notify::Notifier;
use strangle_delta_runtime::{
    LiveRequest, Market, MarketRequest, RunError, RunSpec, RunningEngine, SimRequest, SimTime,
};
use strangle_store::{profile_in, Store};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use super::error::ApiError;
use super::profile_cache::ProfileCache;
use super::snapshot::{Latest, Snapshot, StateJson};

/// Markets an operator can pick when starting a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarketKind {
    /// The Delta-compatible market in this process.
    Sim,
    /// Delta's public market data with simulated fills.
    Paper,
    /// Real orders (only when `serve` was started with `--live` and credentials).
    Live,
}

/// What `serve` may start engines on.
#[derive(Debug, Clone)]
pub struct MarketSettings {
    /// Market used when a start request names none.
    pub default: MarketKind,
    /// Delta environment for paper and live.
    pub env: Environment,
    /// Seed of the simulated market.
    pub seed: u64,
    /// How time passes on the simulated market.
    pub sim_time: SimTime,
    /// Credentials of the simulated market.
    pub sim_credentials: Credentials,
    /// Live credentials; `None` means live starts are refused.
    pub live: Option<Credentials>,
    /// Seconds between engine steps.
    pub poll: Duration,
}

impl From<MarketKind> for strangle_delta_runtime::MarketKind {
    fn from(k: MarketKind) -> Self {
        match k {
            MarketKind::Sim => Self::Sim,
            MarketKind::Paper => Self::Paper,
            MarketKind::Live => Self::Live,
        }
    }
}

struct Slot {
    name: String,
    handle: EngineHandle,
    /// The engine's latest state, serialised once per change.
    latest: Latest,
    mode: Mode,
    started_at: DateTime<Utc>,
    stopping: bool,
    reaper: Option<JoinHandle<()>>,
    /// The simulated market's clock, when it is not the wall clock.
    clock: Option<ScaledClock>,
    /// What the account risk governor last told the engine.
    told: governor::Told,
}

/// A simulated clock asked for by a start request: the market starts at `start` and runs
/// `speed` times faster than the wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimStart {
    /// The market's time at the start.
    pub start: DateTime<Utc>,
    /// Market seconds per real second.
    pub speed: f64,
}

/// The market time and speed of a simulated clock (none for the wall clock).
fn market_of(clock: Option<&ScaledClock>) -> (Option<DateTime<Utc>>, Option<f64>) {
    match clock {
        Some(c) => (Some(c.now()), Some(c.speed())),
        None => (None, None),
    }
}

/// How an engine ended.
#[derive(Debug, Clone)]
struct Ended {
    /// The simulated market's clock it ran on (none: the wall clock).
    clock: Option<ScaledClock>,
    name: String,
    mode: Mode,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    last: Arc<Snapshot>,
    error: Option<String>,
}

/// The engines of one `serve` process.
pub struct Trading {
    store: Arc<Store>,
    profiles: Arc<ProfileCache>,
    markets: MarketSettings,
    notifier: Option<Notifier>,
    running: Mutex<HashMap<i64, Slot>>,
    ended: StdMutex<HashMap<i64, Ended>>,
}

/// Where a profile's engine is, as the heartbeat says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    /// Trading.
    Running,
    /// Flattening before it stops.
    Stopping,
    /// Ended cleanly.
    Stopped,
    /// Ended on an error.
    Failed,
    /// Never started by this server.
    Idle,
}

/// One engine's heartbeat as the API reports it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Heartbeat {
    /// Profile id.
    pub configuration_id: i64,
    /// Profile name.
    pub profile: String,
    /// Where the engine is: running, stopping, stopped, failed or idle.
    pub status: EngineState,
    /// Sim, paper or live (absent when idle).
    pub mode: Option<Mode>,
    /// The strategy's phase (absent when idle).
    pub phase: Option<strangle_core::strategy::Phase>,
    /// The open session, if any.
    pub session_id: Option<strangle_core::ids::SessionId>,
    /// When the engine started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Time of the latest heartbeat.
    pub updated_at: Option<DateTime<Utc>>,
    /// The server's clock.
    pub server_time: DateTime<Utc>,
    /// The engine's market time, when it runs on a simulated clock (its timestamps —
    /// `started_at`, `updated_at`, `ended_at`, orders, fills, sessions — are on this clock).
    pub market_time: Option<DateTime<Utc>>,
    /// Market seconds per real second of that clock.
    pub market_speed: Option<f64>,
    /// The latest error.
    pub last_error: Option<String>,
    /// Why the engine enters no new strangle (an order the venue never let go of, a dead-man
    /// switch not known to be armed); an open strangle is still managed.
    pub entry_hold: Option<String>,
    /// Why a running engine inside its entry window has not entered: the selection's failure
    /// with the nearest contracts (`no call qualifies …: no |delta| in 0.1–0.15 (nearest:
    /// 82500 at 0.201, 83000 at 0.065)`).
    pub no_entry_reason: Option<String>,
    /// Legs without a fresh quote while a strangle is live: no profit exit is checked and no
    /// order priced until one comes.
    pub stale_quotes: Option<String>,
    /// Where the legs' quotes come from: `websocket`, `rest`, or `rest (websocket stale or
    /// down)` when the stream had no fresh quote (absent for the simulated market).
    pub quote_source: Option<QuoteSource>,
    /// Request units left in Delta's rate-limit window for the engine's API key (10,000 per
    /// 5 minutes, shared by every engine on the key); absent where no limit applies.
    pub rate_budget_left: Option<u32>,
    /// The latest check of a closed session's money against the venue's fills and wallet
    /// (live, rehearsal and sim engines); absent until one has run.
    pub reconciliation: Option<strangle_core::reconciliation::Reconciliation>,
}

/// The schedule with countdowns, in seconds from the heartbeat's time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleView {
    /// IST entry time of day.
    pub entry_time_ist: String,
    /// IST exit time of day.
    pub exit_time_ist: String,
    /// Minutes the entry window stays open.
    pub entry_window_minutes: u32,
    /// Start of the next entry window (when waiting).
    pub next_entry: Option<DateTime<Utc>>,
    /// Seconds until `next_entry`.
    pub seconds_to_entry: Option<i64>,
    /// The rule of `next_entry`: `window` (the daily entry window) or `late_start` (the
    /// profile's `late_entry`: at once, the day's window having passed).
    pub next_entry_rule: Option<schedule::EntryRule>,
    /// Whether the profile enters on a late start.
    pub late_entry: bool,
    /// The open session's planned exit.
    pub planned_exit: Option<DateTime<Utc>>,
    /// Seconds until `planned_exit`.
    pub seconds_to_exit: Option<i64>,
    /// The open session's expiry.
    pub expiry: Option<DateTime<Utc>>,
    /// Seconds until `expiry`.
    pub seconds_to_expiry: Option<i64>,
}

/// Loss and profit limits of the profile, in % and in USD of the open session's premium.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitsView {
    /// Max loss, % of premium.
    #[schema(value_type = Option<String>)]
    pub max_loss_pct: Option<Decimal>,
    /// Max loss in USD for the open session (negative net PnL that closes it).
    #[schema(value_type = Option<String>)]
    pub max_loss_usd: Option<Decimal>,
    /// Max profit, % of premium.
    #[schema(value_type = Option<String>)]
    pub max_profit_pct: Option<Decimal>,
    /// Max profit in USD for the open session.
    #[schema(value_type = Option<String>)]
    pub max_profit_usd: Option<Decimal>,
    /// Trailing-stop tiers and step.
    pub trailing: Trailing,
    /// Locked trailing level, % of premium.
    #[schema(value_type = Option<String>)]
    pub trailing_level_pct: Option<Decimal>,
    /// Locked trailing level in USD of net PnL.
    #[schema(value_type = Option<String>)]
    pub trailing_level_usd: Option<Decimal>,
}

/// Everything about one engine: heartbeat, full state, schedule and limits.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Runtime {
    /// The heartbeat.
    pub heartbeat: Heartbeat,
    /// The engine's latest state (legs with strike, delta, mark and PnL; totals; spot;
    /// max profit and drawdown seen; exit reason). Absent when idle.
    #[schema(value_type = Option<Status>)]
    pub state: Option<StateJson>,
    /// Schedule and countdowns.
    pub schedule: ScheduleView,
    /// Limits and the trailing level.
    pub limits: LimitsView,
}

fn pct_of(premium: Option<Decimal>, pct: Option<Decimal>) -> Option<Decimal> {
    Some((premium? * pct? / Decimal::ONE_HUNDRED).round_dp(8))
}

impl Trading {
    /// A supervisor with no engine running.
    pub fn new(
        store: Arc<Store>,
        profiles: Arc<ProfileCache>,
        markets: MarketSettings,
        notifier: Option<Notifier>,
    ) -> Self {
        Self {
            store,
            profiles,
            markets,
            notifier,
            running: Mutex::new(HashMap::new()),
            ended: StdMutex::new(HashMap::new()),
        }
    }

    /// Whether the profile has an engine in this process.
    pub async fn is_running(&self, id: i64) -> bool {
        self.running.lock().await.contains_key(&id)
    }

    /// Starts the profile `id` on `market` (or the server's default).
    pub async fn start(
        self: &Arc<Self>,
        id: i64,
        market: Option<MarketKind>,
        sim: Option<SimStart>,
    ) -> Result<Heartbeat, ApiError> {
        // Held across the start so two concurrent starts of one profile cannot both succeed.
        let mut running = self.running.lock().await;
        let stored = self.store.profile_by_id(id).await?;
        if running.contains_key(&id) {
            return Err(ApiError::Conflict(format!(
                "profile {:?} is already running",
                stored.profile.name
            )));
        }
        let kind = market.unwrap_or(self.markets.default);
        let market = self.market(kind, sim)?;
        let clock = market.scaled_clock();
        // A reducing or halted account holds the engine's entries from its first step.
        let risk = governor::starting_state(&*self.store).await?;
        let told = governor::Told::started_with(risk.as_ref().map(|r| r.0));
        let spec = RunSpec {
            poll: self.markets.poll,
            account_risk: risk,
            ..RunSpec::new(stored.profile.clone(), market)
        };
        // The engine takes the profile's lease (another process running it is refused) and
        // flushes the ledger and gives the lease up when it ends.
        let engine = RunningEngine::start(spec, self.store.clone())
            .await?
            .with_notifier(self.notifier.clone());
        let name = stored.profile.name.clone();
        let mode = engine.mode();
        let started_at = engine.started_at();
        let handle = engine.handle().clone();
        let this = Arc::clone(self);
        let reaper = tokio::spawn(async move {
            let res = engine.wait().await;
            this.reap(id, res).await;
        });
        tracing::info!(profile = %name, %mode, "engine started");
        let slot = Slot {
            name,
            latest: Latest::new(handle.watch()),
            handle,
            mode,
            started_at,
            stopping: false,
            reaper: Some(reaper),
            clock,
            told,
        };
        let hb = heartbeat_of(id, &slot, &slot.latest.get().status);
        running.insert(id, slot);
        if let Ok(mut ended) = self.ended.lock() {
            ended.remove(&id);
        }
        Ok(hb)
    }

    /// Records how an engine ended and forgets its slot.
    async fn reap(&self, id: i64, res: Result<Status, RunError>) {
        let Some(slot) = self.running.lock().await.remove(&id) else {
            return;
        };
        let last = slot.latest.get();
        let error = res.as_ref().err().map(ToString::to_string);
        match &error {
            Some(e) => tracing::error!(profile = %slot.name, error = %e, "engine failed"),
            None => tracing::info!(profile = %slot.name, "engine stopped"),
        }
        if let Ok(mut ended) = self.ended.lock() {
            ended.insert(
                id,
                Ended {
                    name: slot.name,
                    mode: slot.mode,
                    started_at: slot.started_at,
                    ended_at: slot.clock.as_ref().map_or_else(Utc::now, |c| c.now()),
                    clock: slot.clock,
                    last,
                    error,
                },
            );
        }
    }

    /// The server's simulated clock, when `--sim-start`/`--sim-speed` set one.
    pub fn sim_clock(&self) -> Option<ScaledClock> {
        match self.markets.sim_time {
            SimTime::Scaled(c) => Some(c),
            _ => None,
        }
    }

    fn market(&self, kind: MarketKind, sim: Option<SimStart>) -> Result<Market, ApiError> {
        let mut request = MarketRequest::new(kind.into(), self.markets.env.clone());
        request.sim = SimRequest {
            seed: self.markets.seed,
            credentials: Some(self.markets.sim_credentials.clone()),
            start: sim.map(|s| s.start),
            speed: sim.map(|s| s.speed),
            fast_forward: None,
            shared: Some(self.markets.sim_time),
        };
        request.live = LiveRequest {
            confirmed: self.markets.live.is_some(),
            how_to_confirm:
                "start `strangle serve --live` with credentials to enable it on this server",
            credentials: self.markets.live.clone(),
        };
        match request.build(Utc::now()) {
            Err(RunError::Refused(m)) => Err(ApiError::Forbidden(m)),
            other => Ok(other?),
        }
    }

    /// Sends stop, panic or restart to a running profile.
    pub async fn command(&self, id: i64, action: Action) -> Result<Heartbeat, ApiError> {
        let mut running = self.running.lock().await;
        let Some(slot) = running.get_mut(&id) else {
            let name = self.store.profile_by_id(id).await?.profile.name;
            return Err(ApiError::Conflict(format!(
                "profile {name:?} is not running"
            )));
        };
        let sent = match action {
            Action::Stop => slot.handle.send(strangle_core::engine::EngineCommand::Stop),
            Action::Panic => slot
                .handle
                .send(strangle_core::engine::EngineCommand::Panic),
            Action::Restart => slot
                .handle
                .send(strangle_core::engine::EngineCommand::Restart),
            Action::Start => false,
        };
        if !sent {
            return Err(ApiError::Conflict(format!(
                "profile {:?} is already ending",
                slot.name
            )));
        }
        if matches!(action, Action::Stop | Action::Panic) {
            slot.stopping = true;
        }
        tracing::info!(profile = %slot.name, action = ?action, "operator command");
        Ok(heartbeat_of(id, slot, &slot.latest.get().status))
    }

    /// Heartbeats of every engine this server runs or ran.
    pub async fn heartbeats(&self) -> Vec<Heartbeat> {
        let running = self.running.lock().await;
        let mut out: Vec<Heartbeat> = running
            .iter()
            .map(|(id, s)| heartbeat_of(*id, s, &s.latest.get().status))
            .collect();
        if let Ok(ended) = self.ended.lock() {
            out.extend(
                ended
                    .iter()
                    .filter(|(id, _)| !running.contains_key(id))
                    .map(|(id, e)| heartbeat_of_ended(*id, e)),
            );
        }
        out.sort_by_key(|h| h.configuration_id);
        out
    }

    /// The heartbeat of profile `id` (idle if this server never ran it).
    pub async fn heartbeat(&self, id: i64) -> Result<Heartbeat, ApiError> {
        let profiles = self.profiles.list(&self.store).await?;
        let stored = profile_in(&profiles, id)?;
        Ok(self.engine_of(id, &stored.profile.name).await.0)
    }

    /// The full runtime state of profile `id`.
    pub async fn runtime(&self, id: i64) -> Result<Runtime, ApiError> {
        let profiles = self.profiles.list(&self.store).await?;
        let stored = profile_in(&profiles, id)?;
        let (hb, state) = self.engine_of(id, &stored.profile.name).await;
        Ok(runtime_of(hb, state, &stored.profile))
    }

    /// The heartbeat and latest state of profile `id`, named `name`: running, ended, or
    /// idle (no state).
    async fn engine_of(&self, id: i64, name: &str) -> (Heartbeat, Option<Arc<Snapshot>>) {
        let running = self.running.lock().await;
        if let Some(s) = running.get(&id) {
            let snapshot = s.latest.get();
            return (heartbeat_of(id, s, &snapshot.status), Some(snapshot));
        }
        drop(running);
        let ended = self.ended.lock().ok().and_then(|e| {
            e.get(&id)
                .map(|e| (heartbeat_of_ended(id, e), e.last.clone()))
        });
        match ended {
            Some((hb, last)) => (hb, Some(last)),
            None => (idle(id, name), None),
        }
    }

    /// Ids of every engine this server runs or ran, in order.
    pub async fn engine_ids(&self) -> Vec<i64> {
        let mut ids = self.running_ids().await;
        if let Ok(ended) = self.ended.lock() {
            ids.extend(ended.keys());
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Ids of the running engines.
    pub async fn running_ids(&self) -> Vec<i64> {
        self.running.lock().await.keys().copied().collect()
    }

    /// Running engines' states, for metrics.
    pub async fn states(&self) -> Vec<(String, Status)> {
        self.running
            .lock()
            .await
            .values()
            .map(|s| (s.name.clone(), s.latest.get().status.clone()))
            .collect()
    }

    /// One round of the account risk governor over the ledger this server writes (see
    /// [`governor::tick`]): every running engine is sent the state when it differs from the
    /// one it has, and a transition is logged and notified.
    pub async fn govern(&self, now: DateTime<Utc>) -> Result<Tick, ApiError> {
        let mut running = self.running.lock().await;
        let mut engines: Vec<_> = running
            .values_mut()
            .map(|s| (&s.handle, &mut s.told))
            .collect();
        Ok(strangle_delta_runtime::governor::round(
            &*self.store,
            now,
            &mut engines,
            self.notifier.as_ref(),
        )
        .await?)
    }

    /// Logs a change of the governor's state and notifies it.
    pub fn announce(&self, tr: &governor::Transition) {
        strangle_delta_runtime::governor::announce(tr, self.notifier.as_ref());
    }

    /// The governor's time: the server's simulated market clock when it runs one (so that
    /// the day it counts is the sessions' day), the wall clock otherwise.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim_clock().map_or_else(Utc::now, |c| c.now())
    }

    /// Runs [`Trading::govern`] every `every` (wall clock) until this supervisor is dropped.
    pub fn spawn_governor(self: &Arc<Self>, every: std::time::Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(t) = weak.upgrade() else { break };
                if let Err(e) = t.govern(t.now()).await {
                    tracing::warn!(error = %e, "account risk check failed");
                }
            }
        });
    }

    /// The ledger, for the account risk routes.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Statuses of the running engines (the governor's fresh figures).
    pub async fn statuses(&self) -> Vec<Status> {
        self.states().await.into_iter().map(|(_, s)| s).collect()
    }

    /// Stops every engine (flattening open legs) and waits for them to end.
    pub async fn stop_all(&self) {
        let reapers: Vec<JoinHandle<()>> = {
            let mut running = self.running.lock().await;
            running
                .values_mut()
                .filter_map(|s| {
                    s.handle.send(strangle_core::engine::EngineCommand::Stop);
                    s.stopping = true;
                    s.reaper.take()
                })
                .collect()
        };
        for r in reapers {
            let _ = r.await;
        }
    }
}

/// A control action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Start the profile's engine.
    Start,
    /// Flatten open legs, then stop.
    Stop,
    /// Reload the strategy from the ledger without flattening.
    Restart,
    /// Cancel working orders and buy every leg back at once (IOC orders priced past the ask),
    /// then stop.
    Panic,
}

/// The heartbeat of a running engine whose latest state is `st`.
fn heartbeat_of(id: i64, s: &Slot, st: &Status) -> Heartbeat {
    let (market_time, market_speed) = market_of(s.clock.as_ref());
    Heartbeat {
        configuration_id: id,
        profile: s.name.clone(),
        status: if s.stopping {
            EngineState::Stopping
        } else {
            EngineState::Running
        },
        mode: Some(s.mode),
        phase: Some(st.phase),
        session_id: st.session_id.clone(),
        started_at: Some(s.started_at),
        ended_at: None,
        updated_at: Some(st.at),
        server_time: Utc::now(),
        market_time,
        market_speed,
        last_error: st.last_error.clone(),
        entry_hold: st.entry_hold.clone(),
        no_entry_reason: st.no_entry_reason.clone(),
        stale_quotes: st.stale_quotes.clone(),
        quote_source: st.quote_source,
        rate_budget_left: st.rate_budget_left,
        reconciliation: st.reconciliation.clone(),
    }
}

fn heartbeat_of_ended(id: i64, e: &Ended) -> Heartbeat {
    let (market_time, market_speed) = market_of(e.clock.as_ref());
    let last = &e.last.status;
    Heartbeat {
        configuration_id: id,
        profile: e.name.clone(),
        status: if e.error.is_some() {
            EngineState::Failed
        } else {
            EngineState::Stopped
        },
        mode: Some(e.mode),
        phase: Some(last.phase),
        session_id: last.session_id.clone(),
        started_at: Some(e.started_at),
        ended_at: Some(e.ended_at),
        updated_at: Some(last.at),
        server_time: Utc::now(),
        market_time,
        market_speed,
        last_error: e.error.clone().or_else(|| last.last_error.clone()),
        entry_hold: last.entry_hold.clone(),
        no_entry_reason: None,
        stale_quotes: None,
        quote_source: None,
        rate_budget_left: None,
        reconciliation: last.reconciliation.clone(),
    }
}

fn idle(id: i64, name: &str) -> Heartbeat {
    Heartbeat {
        configuration_id: id,
        profile: name.to_string(),
        status: EngineState::Idle,
        mode: None,
        phase: None,
        session_id: None,
        started_at: None,
        ended_at: None,
        updated_at: None,
        server_time: Utc::now(),
        market_time: None,
        market_speed: None,
        last_error: None,
        entry_hold: None,
        no_entry_reason: None,
        stale_quotes: None,
        quote_source: None,
        rate_budget_left: None,
        reconciliation: None,
    }
}

fn runtime_of(heartbeat: Heartbeat, snapshot: Option<Arc<Snapshot>>, p: &Profile) -> Runtime {
    let state = snapshot.as_ref().map(|s| &s.status);
    let now = state.map_or(heartbeat.server_time, |s| s.at);
    let secs = |t: Option<DateTime<Utc>>| t.map(|t| (t - now).num_seconds());
    let (next_entry, next_entry_rule) = match &state {
        Some(s) => (s.next_entry, s.next_entry_rule),
        None => (
            Some(schedule::next_entry(p, now, None)),
            Some(schedule::EntryRule::Window),
        ),
    };
    let planned_exit = state.and_then(|s| s.planned_exit);
    let expiry = state.and_then(|s| s.expiry);
    let premium = state.and_then(|s| s.pnl.map(|x| x.premium));
    let level = state.and_then(|s| s.trailing_level);
    Runtime {
        schedule: ScheduleView {
            entry_time_ist: p.entry_time.to_string(),
            exit_time_ist: p.exit_time.to_string(),
            entry_window_minutes: p.entry_window_minutes,
            next_entry,
            seconds_to_entry: secs(next_entry),
            next_entry_rule,
            late_entry: p.late_entry,
            planned_exit,
            seconds_to_exit: secs(planned_exit),
            expiry,
            seconds_to_expiry: secs(expiry),
        },
        limits: LimitsView {
            max_loss_pct: p.max_loss_pct,
            max_loss_usd: pct_of(premium, p.max_loss_pct).map(|v| -v),
            max_profit_pct: p.max_profit_pct,
            max_profit_usd: pct_of(premium, p.max_profit_pct),
            trailing: p.trailing.clone(),
            trailing_level_pct: level,
            trailing_level_usd: pct_of(premium, level),
        },
        heartbeat,
        state: snapshot.map(StateJson),
    }
}
