//! A Delta-compatible local market: the same REST paths, JSON shapes and signature checks as
//! Delta Exchange, served on loopback over real HTTP, with orders matched by the core's
//! simulated venue ([`SimExchange`]) against a seeded synthetic market or chains the caller
//! pushes. Tests, `sim` mode and any Delta client (ours, the official Python client) can be
//! pointed at it. Fault knobs ([`Faults`]) make it misbehave on purpose.
//!
//! ```no_run
//! # async fn demo() -> Result<(), strangle_delta::DeltaError> {
//! use strangle_delta::server::{LocalServer, ServerConfig};
//! let server = LocalServer::start(ServerConfig::default()).await?;
//! println!("Delta-compatible market at {}", server.base_url());
//! # Ok(()) }
//! ```

mod auth;
pub mod faults;
mod render;
mod routes;
mod ws;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, SystemClock};
use strangle_core::model::{ChainSnapshot, FeeModel};
use strangle_core::sim::synthetic::{RandomWalk, SyntheticMarket, WalkFeed};
use strangle_core::sim::{SimExchange, VecFeed};
use tokio::sync::oneshot;

use crate::credentials::Credentials;
use crate::env::Environment;
use crate::error::{DeltaError, Secret};
use crate::wire::Envelope;

pub use faults::{FaultKind, FaultRule, Faults};
use render::OrderMeta;

/// How the server's market moves.
#[derive(Debug, Clone)]
pub enum MarketSource {
    /// A seeded random walk of spot priced into synthetic chains every `step` of wall time.
    Synthetic {
        /// Markets to list, with their starting spot and ATM IV.
        markets: Vec<(SyntheticMarket, f64, f64)>,
        /// Seed of the random walk.
        seed: u64,
        /// How often the market moves.
        step: Duration,
        /// Largest move per step (0.001 = 0.1 %).
        max_move: f64,
    },
    /// Nothing moves by itself: the caller pushes chains with [`LocalServer::push_chain`].
    Scripted,
    /// Recorded or scripted chains, applied as the market clock passes their timestamps.
    Replay(Vec<ChainSnapshot>),
    /// Synthetic chains priced lazily on a grid of the market clock's time (see
    /// [`WalkFeed`]): with a simulated clock the market fast-forwards with it.
    Walk {
        /// Markets to list, with their starting spot and ATM IV.
        markets: Vec<(SyntheticMarket, f64, f64)>,
        /// Seed of the random walks.
        seed: u64,
        /// Market time between two snapshots.
        grid: chrono::Duration,
        /// Largest move per snapshot (0.001 = 0.1 %).
        max_move: f64,
    },
}

/// Settings of the local server.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub addr: SocketAddr,
    /// Accepted API keys and their secrets.
    pub accounts: Vec<Credentials>,
    /// Fees charged.
    pub fees: FeeModel,
    /// Starting wallet, USD.
    pub initial_cash: Decimal,
    /// The market.
    pub market: MarketSource,
    /// The market's clock (the wall clock unless a test shares a simulated one).
    pub clock: Arc<dyn Clock>,
    /// Interval of WebSocket heartbeats once a client enables them (Delta: 30 s).
    pub ws_heartbeat: Duration,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("addr", &self.addr)
            .field("accounts", &self.accounts)
            .field("market", &self.market)
            .finish_non_exhaustive()
    }
}

/// The demo credentials the server accepts by default (never valid on Delta itself).
pub fn demo_credentials() -> Credentials {
    Credentials {
        api_key: "sim-key".into(),
        secret: Secret::new("sim-secret-not-for-real-money"),
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            accounts: vec![demo_credentials()],
            fees: FeeModel::default(),
            initial_cash: Decimal::from(10_000),
            market: MarketSource::Synthetic {
                markets: vec![
                    (SyntheticMarket::btc(), 82_000.0, 0.45),
                    (SyntheticMarket::eth(), 2_150.0, 0.6),
                ],
                seed: 1,
                step: Duration::from_secs(1),
                max_move: 0.0005,
            },
            clock: Arc::new(SystemClock),
            ws_heartbeat: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Orders {
    by_coid: HashMap<String, OrderMeta>,
    by_id: HashMap<u64, String>,
    auto: u64,
}

#[derive(Debug, Default)]
pub(crate) struct DeadMan {
    /// Wall-clock instant after which open orders are cancelled.
    deadline: Option<tokio::time::Instant>,
    /// Heartbeat ids created.
    ids: Vec<String>,
    /// How many times it fired.
    fired: u64,
}

pub(crate) struct ServerState {
    venue: Arc<SimExchange>,
    clock: Arc<dyn Clock>,
    faults: Arc<Faults>,
    accounts: HashMap<String, Secret>,
    fees: FeeModel,
    orders: Mutex<Orders>,
    deadman: Mutex<DeadMan>,
    ws_heartbeat: Duration,
}

impl ServerState {
    fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deadman(&self) -> std::sync::MutexGuard<'_, DeadMan> {
        self.deadman.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An error answer in Delta's envelope.
pub(crate) fn api_error(status: StatusCode, code: &str, context: Option<String>) -> Response {
    let ctx = context.map(|c| serde_json::json!({ "message": c }));
    (status, axum::Json(Envelope::<()>::err(code, ctx))).into_response()
}

/// A running local server. Dropping it stops it.
pub struct LocalServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LocalServer {
    /// Binds, starts serving, and (for a synthetic market) starts moving prices.
    pub async fn start(config: ServerConfig) -> Result<Self, DeltaError> {
        let mut venue = SimExchange::new(
            config.clock.clone(),
            config.fees.clone(),
            config.initial_cash,
        );
        match &config.market {
            MarketSource::Replay(chains) => {
                venue = venue.with_feed(Box::new(VecFeed::new(chains.clone())))
            }
            MarketSource::Walk {
                markets,
                seed,
                grid,
                max_move,
            } => {
                let feed =
                    WalkFeed::new(markets.clone(), *seed, *max_move, config.clock.now(), *grid);
                venue = venue.with_feed(Box::new(feed));
            }
            _ => {}
        }
        let venue = Arc::new(venue);
        let state = Arc::new(ServerState {
            venue: venue.clone(),
            clock: config.clock.clone(),
            faults: Arc::new(Faults::default()),
            accounts: config
                .accounts
                .iter()
                .map(|c| (c.api_key.clone(), c.secret.clone()))
                .collect(),
            fees: config.fees.clone(),
            orders: Mutex::new(Orders::default()),
            deadman: Mutex::new(DeadMan::default()),
            ws_heartbeat: config.ws_heartbeat,
        });
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| DeltaError::Server(format!("cannot listen on {}: {e}", config.addr)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| DeltaError::Server(format!("no local address: {e}")))?;
        let app = routes::router(state.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let mut tasks = vec![tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stop_rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "local server stopped");
            }
        })];
        if let MarketSource::Synthetic {
            markets,
            seed,
            step,
            max_move,
        } = config.market
        {
            // Price the first snapshot at once so the market is never empty.
            let mut walk = Walk::new(seed, markets, max_move);
            for c in walk.next_chains(config.clock.now()) {
                venue.push_chain(c);
            }
            let (v, clock, faults) = (venue.clone(), config.clock.clone(), state.faults.clone());
            tasks.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(step);
                every.tick().await;
                loop {
                    every.tick().await;
                    // With stale quotes on, the market stands still (old timestamps, old prices).
                    if faults.stale_quotes() {
                        continue;
                    }
                    for c in walk.next_chains(clock.now()) {
                        v.push_chain(c);
                    }
                }
            }));
        }
        tasks.push(tokio::spawn(deadman_watch(state.clone())));
        Ok(Self {
            addr,
            state,
            stop: Some(stop_tx),
            tasks,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An [`Environment`] pointing at this server.
    pub fn environment(&self) -> Environment {
        Environment::local(&self.base_url())
    }

    /// The fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// The simulated venue behind the API (to inspect orders, fills, positions).
    pub fn venue(&self) -> &SimExchange {
        &self.state.venue
    }

    /// Pushes a chain snapshot (for [`MarketSource::Scripted`] markets or replays).
    pub fn push_chain(&self, chain: ChainSnapshot) {
        if !self.state.faults.stale_quotes() {
            self.state.venue.push_chain(chain);
        }
    }

    /// How many times the dead-man switch has cancelled orders.
    pub fn deadman_fired(&self) -> u64 {
        self.state.deadman().fired
    }

    /// Whether a dead-man deadline is armed.
    pub fn deadman_armed(&self) -> bool {
        self.state.deadman().deadline.is_some()
    }

    /// Stops serving.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Cancels every open order when the dead-man deadline passes.
async fn deadman_watch(st: Arc<ServerState>) {
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        every.tick().await;
        let due = {
            let mut d = st.deadman();
            match d.deadline {
                Some(t) if t <= tokio::time::Instant::now() => {
                    d.deadline = None;
                    d.fired += 1;
                    true
                }
                _ => false,
            }
        };
        if due {
            routes::cancel_all(&st).await;
            tracing::info!("dead-man switch fired: open orders cancelled");
        }
    }
}

/// The synthetic markets, each moved by its own random walk.
struct Walk {
    markets: Vec<(SyntheticMarket, RandomWalk, f64)>,
    started: bool,
}

impl Walk {
    fn new(seed: u64, markets: Vec<(SyntheticMarket, f64, f64)>, max_move: f64) -> Self {
        let markets = markets
            .into_iter()
            .enumerate()
            .map(|(i, (m, spot, iv))| {
                (
                    m,
                    RandomWalk::new(seed.wrapping_add(i as u64), spot, max_move),
                    iv,
                )
            })
            .collect();
        Self {
            markets,
            started: false,
        }
    }

    fn next_chains(&mut self, t: chrono::DateTime<chrono::Utc>) -> Vec<ChainSnapshot> {
        let started = std::mem::replace(&mut self.started, true);
        self.markets
            .iter_mut()
            .map(|(m, walk, iv)| {
                let spot = if started { walk.step() } else { walk.spot() };
                let s = Decimal::from_f64(spot)
                    .map(|d| d.round_dp(1))
                    .unwrap_or_default();
                m.chain(t, s, *iv)
            })
            .collect()
    }
}
