//! A profile's engine started on a [`Market`] as a tokio task ([`RunningEngine`]): the
//! lease, the market built with the live safety rule, the quote stream, the dead-man switch,
//! the venue's fee rates, the money check, and the notifier with its final notice.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use strangle_core::clock::{Clock, ManualClock, SystemClock};
use strangle_core::engine::{Engine, EngineCommand, EngineConfig, EngineHandle};
use strangle_core::error::ExchangeErrorKind;
use strangle_core::ledger::{process_holder, LeaseGuard, Ledger, Mode};
use strangle_core::profile::Profile;
use strangle_core::sim::QuoteRule;
use strangle_core::strategy::Status;
use strangle_core::{Exchange, Execution};
use strangle_delta::api::DeltaClient;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::paper::PaperExchange;
use strangle_delta_market::{sim_market_source, LocalServer, ServerConfig};
use tokio::task::JoinHandle;

use crate::market::{market_clock, Market, SimTime};
use crate::notify::Notifier;
use crate::RunError;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The strategy.
    pub profile: Profile,
    /// Where.
    pub market: Market,
    /// Longest time between two engine steps (simulated time when fast-forwarding).
    pub poll: Duration,
    /// Accept the exchange's positions when they differ from the ledger.
    pub adopt: bool,
    /// Who holds the profile's lease while the engine runs (default: this process,
    /// `host:pid`; Python sessions add a per-session tag so that two sessions of one process
    /// exclude each other too).
    pub holder: Option<String>,
    /// The account risk governor's state when the engine starts (`reducing` or `halted`),
    /// with why: applied before its first step, so a halted account enters nothing.
    pub account_risk: Option<(strangle_core::governor::RiskState, String)>,
}

impl RunSpec {
    /// A spec with a 5-second poll (60 s when fast-forwarding) and no adoption.
    pub fn new(profile: Profile, market: Market) -> Self {
        let fast = matches!(&market, Market::Sim(s) if matches!(s.time, SimTime::FastForward(_)));
        Self {
            profile,
            market,
            poll: Duration::seconds(if fast { 60 } else { 5 }),
            adopt: false,
            holder: None,
            account_risk: None,
        }
    }

    /// The ledger lease that keeps this profile from running twice on one account
    /// (`profile:<name>@<sim|environment>`).
    pub fn lease_name(&self) -> String {
        let account = match &self.market {
            Market::Sim(_) => "sim",
            Market::Paper { env, .. } | Market::Live { env, .. } => env.name(),
        };
        format!("profile:{}@{account}", self.profile.name)
    }
}

/// How recently a WebSocket quote must have arrived to be used instead of asking REST: the
/// profile's quote age limit, at most 15 s (Delta's `ticker` channel sends every few seconds,
/// so a quiet stream is a stale or broken one).
fn stream_age(profile: &Profile) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(profile.liquidity.max_quote_age_secs).min(15))
}

/// What must happen when an engine task ends.
#[derive(Default)]
struct Ends {
    /// The in-process market it traded on, shut down with it.
    server: Option<LocalServer>,
    /// Its exchange, whose share of the dead-man switch is released.
    deadman: Option<Arc<DeltaExchange>>,
}

/// The engine's hold on its ledger: the profile's lease, given up (after the ledger is
/// flushed) when the engine ends, or at once when it fails to start.
struct Hold<L> {
    ledger: Arc<L>,
    lease: Box<dyn LeaseGuard>,
}

impl<L: Ledger> Hold<L> {
    /// Flushes the ledger, then releases the lease; failures are logged, not returned (the
    /// engine's own result is what the caller waits for).
    async fn end(self) {
        if let Err(e) = self.ledger.flush().await {
            tracing::error!(error = %e, "flushing the ledger after an engine ended");
        }
        if let Err(e) = self.lease.release().await {
            tracing::warn!(error = %e, "releasing a profile lease");
        }
    }
}

/// An engine running as a tokio task.
pub struct RunningEngine {
    handle: EngineHandle,
    mode: Mode,
    started_at: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    task: JoinHandle<Result<Status, RunError>>,
    /// The clock the engine runs on (a simulated market's own, or the wall clock).
    clock: Arc<dyn Clock>,
    /// Where notices go, with the task that watches the heartbeats for them.
    notifier: Option<(Notifier, JoinHandle<()>)>,
}

impl std::fmt::Debug for RunningEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEngine")
            .field("mode", &self.mode)
            .field("started_at", &self.started_at)
            .field("until", &self.until)
            .field("notifies", &self.notifier.is_some())
            .finish_non_exhaustive()
    }
}

/// The environment variable that sets how long an order must stay unknown to the venue's
/// client-id lookup before its absence is checked by the other reads (whole seconds, default
/// [`strangle_core::engine::ABSENCE_CONFIRM_SECS`]): Delta does not say how soon a new order
/// becomes visible; `strangle check --orders` measures it on the venue.
pub const VISIBILITY_LAG_VAR: &str = "STRANGLE_VISIBILITY_LAG_SECS";

/// What [`VISIBILITY_LAG_VAR`] says: `None` when unset, an error naming the value when it is
/// not a whole number of seconds from 1 to 300.
pub fn visibility_lag_from_env() -> Result<Option<Duration>, RunError> {
    let Ok(v) = std::env::var(VISIBILITY_LAG_VAR) else {
        return Ok(None);
    };
    match v.trim().parse::<i64>() {
        Ok(n) if (1..=300).contains(&n) => Ok(Some(Duration::seconds(n))),
        _ => Err(RunError::Invalid(format!(
            "{VISIBILITY_LAG_VAR}={v:?}: a whole number of seconds from 1 to 300"
        ))),
    }
}

/// The profile with the option fee rates Delta's products carry (see [`strangle_delta::fees`]): a
/// live or paper engine estimates costs at the venue's rates. The profile's own stay where
/// the products give none or cannot be read; a difference is logged.
async fn venue_fees(mut profile: Profile, client: &DeltaClient) -> Profile {
    match client.option_products().await {
        Ok(products) => match strangle_delta::fees::FeeRates::of(&products, profile.underlying) {
            Some(rates) => {
                if let Some(d) = rates.differences(&profile.fees) {
                    tracing::warn!("fees: Delta's products say {rates}; using them ({d})");
                }
                profile.fees = rates.applied_to(&profile.fees);
            }
            None => tracing::warn!(
                "fees: Delta's products carry no option fee rates; using the profile's"
            ),
        },
        Err(e) => {
            tracing::warn!(error = %e, "fees: products not read; using the profile's fee rates");
        }
    }
    profile
}

/// What an engine is given before its first step.
#[derive(Debug, Clone)]
struct Setup {
    /// How long an order the venue does not show is waited for (see
    /// [`visibility_lag_from_env`]).
    visibility_lag: Option<Duration>,
    /// The account risk governor's state to apply first.
    account_risk: Option<(strangle_core::governor::RiskState, String)>,
}

impl RunningEngine {
    /// Takes the profile's lease on the ledger (`profile:<name>@<account>`: a second engine
    /// on the same profile and account, in this process or another, is refused with
    /// `Error::Locked`), builds the market, starts the engine (validation, reconciliation with
    /// the exchange, resume from the ledger) and spawns it; a live market's dead-man switch is
    /// armed first, which also proves the credentials. When the engine ends, the ledger is
    /// flushed and the lease released. An error here means nothing is running and nothing is
    /// held. This is the one place an engine's lease is taken (run, serve and Python).
    pub async fn start<L>(spec: RunSpec, ledger: L) -> Result<Self, RunError>
    where
        L: Ledger + Send + Sync + 'static,
    {
        spec.profile.validate()?;
        let ledger = Arc::new(ledger);
        let holder = spec.holder.clone().unwrap_or_else(process_holder);
        let lease = ledger.lease(&spec.lease_name(), &holder).await?;
        let hold = Hold {
            ledger: ledger.clone(),
            lease,
        };
        Self::start_held(spec, ledger, hold).await
    }

    async fn start_held<L>(spec: RunSpec, ledger: Arc<L>, hold: Hold<L>) -> Result<Self, RunError>
    where
        L: Ledger + Send + Sync + 'static,
    {
        // Until the engine is spawned, a failure gives the lease back.
        macro_rules! or_release {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        hold.end().await;
                        return Err(e.into());
                    }
                }
            };
        }
        let setup = Setup {
            visibility_lag: or_release!(visibility_lag_from_env()),
            account_risk: spec.account_risk.clone(),
        };
        let mode = spec.market.mode();
        let config = EngineConfig {
            mode,
            poll_interval: spec.poll,
            adopt: spec.adopt,
            ioc_entries: false,
        };
        match spec.market {
            Market::Sim(sim) => {
                let (clock, until): (Arc<dyn Clock>, _) = match sim.time {
                    SimTime::FastForward(f) => {
                        (Arc::new(ManualClock::new(f.start)), Some(f.start + f.span))
                    }
                    SimTime::Scaled(c) => (Arc::new(c), None),
                    SimTime::RealTime => (Arc::new(SystemClock), None),
                };
                let server = or_release!(
                    LocalServer::start(ServerConfig {
                        accounts: vec![sim.credentials.clone()],
                        // A fresh chain every 5 simulated seconds live, so a quote is never
                        // older than a profile's quote-age limit (30 s by default) between two
                        // chains, at any speed; every 5 minutes when fast-forwarding (the
                        // engine then steps on the chains' own times).
                        market: sim_market_source(
                            sim.seed,
                            if until.is_some() {
                                Duration::minutes(5)
                            } else {
                                Duration::seconds(5)
                            },
                        ),
                        clock: clock.clone(),
                        ..ServerConfig::default()
                    })
                    .await
                );
                let client = or_release!(DeltaClient::local(
                    server.environment(),
                    Some(sim.credentials)
                ));
                let ex = DeltaExchange::new(client);
                let ends = Ends {
                    server: Some(server),
                    deadman: None,
                };
                Self::spawn(
                    spec.profile,
                    config,
                    ex,
                    ledger,
                    clock,
                    until,
                    ends,
                    hold,
                    setup.clone(),
                )
                .await
            }
            Market::Paper { env, cash } => {
                let client = or_release!(DeltaClient::new(env.clone(), None));
                let profile = venue_fees(spec.profile, &client).await;
                let clock = or_release!(market_clock(&client, &env).await);
                let data = DeltaExchange::new(client)
                    .with_stream(stream_age(&profile))
                    .with_market_clock(clock.clone());
                let ex = PaperExchange::with_clock(data, profile.fees.clone(), cash, clock.clone())
                    .with_quote_rule(QuoteRule::of(&profile));
                Self::spawn(
                    profile,
                    config,
                    ex,
                    ledger,
                    clock,
                    None,
                    Ends::default(),
                    hold,
                    setup.clone(),
                )
                .await
            }
            Market::Live { env, credentials } => {
                let cancels_stops = or_release!(strangle_delta::deadman::cancels_stops_from_env());
                let client = or_release!(DeltaClient::new(env.clone(), Some(credentials)));
                let profile = venue_fees(spec.profile, &client).await;
                let clock = or_release!(market_clock(&client, &env).await);
                let ex = if cancels_stops {
                    DeltaExchange::new(client)
                } else {
                    DeltaExchange::live(client, profile.underlying)
                };
                let ex = Arc::new(
                    ex.with_stream(stream_age(&profile))
                        .with_market_clock(clock.clone()),
                );
                let (config, ends) = if cancels_stops {
                    // A switch that would take the legs' stops with it is not armed; entries
                    // never rest instead, so nothing it would have cancelled is ever working.
                    tracing::warn!(
                        "{}=yes: no dead-man switch is armed (it would cancel the venue \
                         stops); entry orders go out as IOC",
                        strangle_delta::deadman::CANCELS_STOPS_VAR
                    );
                    let config = EngineConfig {
                        ioc_entries: true,
                        ..config
                    };
                    (config, Ends::default())
                } else {
                    // Arm the dead-man switch before anything else: this proves the
                    // credentials (a wrong key fails the start, with nothing running) and
                    // protects the account from the first step on. A switch that cannot be
                    // confirmed for any other reason does not stop the start: an open strangle
                    // after a crash must still be managed. The engine then holds new entries
                    // (exits only) until a refresh proves the switch armed.
                    if let Err(e) = ex.keepalive().await {
                        if e.exchange_kind() == Some(ExchangeErrorKind::Auth) {
                            hold.end().await;
                            return Err(e.into());
                        }
                        tracing::error!(
                            error = %e,
                            "the dead-man switch is not armed: starting with exits only, no new entries"
                        );
                    }
                    let ends = Ends {
                        server: None,
                        deadman: Some(ex.clone()),
                    };
                    (config, ends)
                };
                Self::spawn(
                    profile,
                    config,
                    ex,
                    ledger,
                    clock,
                    None,
                    ends,
                    hold,
                    setup.clone(),
                )
                .await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn spawn<E, L>(
        profile: Profile,
        config: EngineConfig,
        ex: E,
        ledger: Arc<L>,
        clock: Arc<dyn Clock>,
        until: Option<DateTime<Utc>>,
        ends: Ends,
        hold: Hold<L>,
        setup: Setup,
    ) -> Result<Self, RunError>
    where
        E: Exchange + Send + Sync + 'static,
        L: Ledger + Send + Sync + 'static,
    {
        let started_at = clock.now();
        let market_clock = clock.clone();
        let (mut engine, handle) = match Engine::start(profile, config, ex, ledger, clock).await {
            Ok(e) => e,
            Err(e) => {
                hold.end().await;
                return Err(e.into());
            }
        };
        if let Some((state, why)) = setup.account_risk {
            // Queued before the task starts: the first step reads it before anything else.
            handle.send(strangle_core::engine::EngineCommand::AccountRisk { state, why });
        }
        if let Some(lag) = setup.visibility_lag {
            engine.absence_confirm(lag);
        }
        // Engines that trade at a Delta venue (live, a rehearsal on a local market, the sim
        // market) check each closed session's money against its fills and wallet; a paper
        // venue's records are the engine's own.
        if matches!(config.mode, Mode::Live | Mode::Rehearsal | Mode::Sim) {
            engine.check_money_with_venue(strangle_core::reconciliation::DEFAULT_TOLERANCE_USD);
        }
        let task = tokio::spawn(async move {
            let res = engine.run_until(until).await;
            // The last engine on a dead-man switch disarms it when it stopped cleanly with no
            // open leg; after an error the switch is left armed, to fire.
            if let Some(ex) = ends.deadman {
                let flat = res
                    .as_ref()
                    .is_ok_and(|s| s.legs.iter().all(|g| g.open.is_zero()));
                if let Err(e) = ex.release_deadman(flat).await {
                    tracing::warn!(error = %e, "the dead-man switch could not be disarmed");
                }
            }
            // The in-process market lives exactly as long as the engine that trades on it.
            if let Some(s) = ends.server {
                s.shutdown();
            }
            hold.end().await;
            Ok(res?)
        });
        Ok(Self {
            handle,
            mode: config.mode,
            started_at,
            until,
            task,
            clock: market_clock,
            notifier: None,
        })
    }

    /// Sends the operator notices the engine's heartbeats bring (entry, exit, error, daily
    /// summary) to `notifier`, and, from [`RunningEngine::wait`], the error that ended the
    /// engine, stamped with the engine's clock.
    pub fn with_notifier(mut self, notifier: Option<Notifier>) -> Self {
        self.notifier = notifier.map(|n| {
            let watcher = crate::notify::watch_engine(self.handle.watch(), n.clone());
            (n, watcher)
        });
        self
    }

    /// The engine's time now: its simulated market's clock, or the wall clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The handle that commands the engine and reads its heartbeat.
    pub fn handle(&self) -> &EngineHandle {
        &self.handle
    }

    /// The latest heartbeat.
    pub fn status(&self) -> Status {
        self.handle.status()
    }

    /// Live, paper or sim.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// When the engine started (by its clock).
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// The end of a fast-forwarded span.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }

    /// Flatten open legs, then stop. `false` if the engine has already ended.
    pub fn stop(&self) -> bool {
        self.handle.send(EngineCommand::Stop)
    }

    /// Cancel working orders and market-close everything, then stop.
    pub fn panic(&self) -> bool {
        self.handle.send(EngineCommand::Panic)
    }

    /// Reload the strategy from the ledger without flattening.
    pub fn restart(&self) -> bool {
        self.handle.send(EngineCommand::Restart)
    }

    /// Whether the engine task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the engine to end and returns its last heartbeat or the error that ended it.
    /// With a notifier, the notices of its last heartbeats are sent first, then the error
    /// (if it ended on one), stamped with the engine's clock.
    pub async fn wait(self) -> Result<Status, RunError> {
        let res = match self.task.await {
            Ok(r) => r,
            Err(e) => Err(RunError::Engine(strangle_core::Error::Engine(format!(
                "the engine task ended abnormally: {e}"
            )))),
        };
        if let Some((notifier, watcher)) = self.notifier {
            let _ = watcher.await;
            if let Err(e) = &res {
                let notice = strangle_core::notice::Notice::Error {
                    profile: self.handle.status().profile,
                    mode: self.mode,
                    at: self.clock.now(),
                    message: format!("the engine stopped: {e}"),
                };
                if let Err(e) = notifier.send(&notice).await {
                    tracing::warn!(error = %e, "notification not delivered");
                }
            }
        }
        res
    }

    /// Ends the engine task at once, without flattening (open legs stay open; the ledger
    /// and a later start reconcile them).
    pub fn abort(&self) {
        self.task.abort();
    }
}
