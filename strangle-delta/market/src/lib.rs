//! A Delta-compatible local market: the same REST paths, JSON shapes and signature checks as
//! Delta Exchange, served on loopback over real HTTP, with orders matched by the core's
//! simulated venue ([`SimExchange`]) against a seeded synthetic market or chains the caller
//! pushes. Tests, `sim` mode and any Delta client (ours, the official Python client) can be
//! pointed at it. Fault knobs ([`Faults`]) make it misbehave on purpose.
//!
//! It is its own package so that the adapter (`strangle-delta`) stays a client: nothing in it
//! serves HTTP. Its errors are [`MarketError`] (`Invalid` for a bad knob or scenario, `Listen`
//! when it cannot listen).
//!
//! ```no_run
//! # async fn demo() -> Result<(), strangle_delta_market::MarketError> {
//! use strangle_delta_market::{LocalServer, ServerConfig};
//! let server = LocalServer::start(ServerConfig::default()).await?;
//! println!("Delta-compatible market at {}", server.base_url());
//! # Ok(()) }
//! ```

mod admin;
mod auth;
pub mod control;
mod edit;
mod error;
pub mod faults;
mod full;
mod routes;
pub mod sim;
mod ws;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, SystemClock};
use strangle_core::ids::ClientOrderId;
use strangle_core::model::{ChainSnapshot, FeeModel};
use strangle_core::sim::synthetic::{SyntheticMarket, WalkFeed};
use strangle_core::sim::{MarketFeed, SimExchange, VecFeed};
use tokio::sync::oneshot;

use strangle_delta::credentials::Credentials;
use strangle_delta::env::Environment;
use strangle_delta::error::Secret;

pub use error::MarketError;
use strangle_delta::wire::Envelope;

pub use faults::{ExistingHeartbeat, FaultKind, FaultRule, Faults, HeartbeatAck, PositionRows};
pub use sim::{sim_market_source, sim_max_move};

/// How the server's market moves.
#[derive(Debug, Clone)]
pub enum MarketSource {
    /// A seeded random walk of spot priced into synthetic chains every `step` of the market
    /// clock, lazily (when someone looks).
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
    /// The token `/admin/faults` requires; `None` turns the admin endpoint off.
    pub admin_token: Option<Secret>,
    /// The market instant a synthetic market's walk starts from (`None`: the clock's time
    /// when the server starts). Two servers with the same seed and origin quote the same
    /// prices at the same market instant.
    pub origin: Option<chrono::DateTime<chrono::Utc>>,
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

/// BTC's starting spot (USD) and ATM implied volatility in the synthetic demo market.
pub const DEMO_BTC: (f64, f64) = (82_000.0, 0.45);

/// ETH's starting spot (USD) and ATM implied volatility in the synthetic demo market.
pub const DEMO_ETH: (f64, f64) = (2_150.0, 0.6);

/// The markets of the synthetic demo market (the default local market, `sim` mode):
/// BTC and ETH from [`DEMO_BTC`] and [`DEMO_ETH`], with realistic liquidity (spreads widen
/// and sizes thin away from the money and near expiry; see [`SyntheticMarket::realistic`]).
pub fn demo_markets() -> Vec<(SyntheticMarket, f64, f64)> {
    vec![
        (SyntheticMarket::btc().realistic(), DEMO_BTC.0, DEMO_BTC.1),
        (SyntheticMarket::eth().realistic(), DEMO_ETH.0, DEMO_ETH.1),
    ]
}

/// The demo API key the server accepts by default.
pub const DEMO_API_KEY: &str = "sim-key";

/// The demo API secret the server accepts by default: public (documented in README), and
/// never valid on Delta itself.
pub const DEMO_API_SECRET: &str = "sim-secret-not-for-real-money";

/// The demo credentials the server accepts by default (never valid on Delta itself).
pub fn demo_credentials() -> Credentials {
    Credentials {
        api_key: DEMO_API_KEY.into(),
        secret: Secret::new(DEMO_API_SECRET),
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
                markets: demo_markets(),
                seed: 1,
                step: Duration::from_secs(1),
                max_move: 0.0005,
            },
            clock: Arc::new(SystemClock),
            ws_heartbeat: Duration::from_secs(30),
            admin_token: None,
            origin: None,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Orders {
    by_coid: HashMap<ClientOrderId, OrderMeta>,
    by_id: HashMap<u64, ClientOrderId>,
    auto: u64,
    /// How each `DELETE /v2/orders` named its order: `"id"` or `"client_order_id"`.
    cancelled_by: Vec<&'static str>,
}

impl Orders {
    /// A new id of the market's own for an order the client gave none (`_srv<n>`) or reused
    /// one for (`_dup<n>`): letters, digits and `_`, always a valid client order id.
    fn own_id(&mut self, prefix: &str) -> ClientOrderId {
        self.auto += 1;
        ClientOrderId::new(format!("{prefix}{}", self.auto))
            .unwrap_or_else(|_| unreachable!("a prefix and digits make a valid id"))
    }
}

#[derive(Debug, Default)]
pub(crate) struct DeadMan {
    /// `cancel_after`: the instant after which every open order is cancelled.
    cancel_after: Option<tokio::time::Instant>,
    /// Heartbeats created, by id.
    beats: std::collections::BTreeMap<String, Beat>,
    /// How many times a deadline passed and orders were cancelled.
    fired: u64,
}

/// One dead-man heartbeat: its scope, as created, and its deadline while armed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Beat {
    /// `underlying_assets` (empty: every underlying).
    underlyings: Vec<String>,
    /// `contract_types` (empty: every contract type).
    contract_types: Vec<String>,
    /// When the orders in scope are cancelled unless a heartbeat comes first.
    deadline: Option<tokio::time::Instant>,
    /// The last `ttl` sent, ms.
    ttl_ms: u64,
    /// The `impact` it was created with, echoed by the list.
    impact: String,
}

impl Beat {
    /// Whether an order on `symbol` (`C-BTC-…`, `P-ETH-…`) is in this heartbeat's scope.
    fn covers(&self, symbol: &str) -> bool {
        let mut parts = symbol.split('-');
        let kind = match parts.next() {
            Some("C") => "call_options",
            Some("P") => "put_options",
            _ => "other",
        };
        let underlying = parts.next().unwrap_or("");
        (self.contract_types.is_empty() || self.contract_types.iter().any(|t| t == kind))
            && (self.underlyings.is_empty()
                || self
                    .underlyings
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(underlying)))
    }
}

/// A heartbeat as the tests see it: id, scope, armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatView {
    /// The heartbeat id.
    pub id: String,
    /// Underlyings it covers (empty: all).
    pub underlyings: Vec<String>,
    /// Contract types it covers (empty: all).
    pub contract_types: Vec<String>,
    /// Whether a deadline is running (a heartbeat with a TTL above zero came last).
    pub armed: bool,
}

/// What the server remembers of an order beyond the venue's status.
#[derive(Debug, Clone)]
pub(crate) struct OrderMeta {
    /// Exchange id.
    pub id: u64,
    /// Product id.
    pub product_id: u64,
    /// Market or limit.
    pub order_type: strangle_delta::wire::OrderType,
    /// `gtc` / `ioc`.
    pub time_in_force: String,
    /// Reduce-only.
    pub reduce_only: bool,
    /// The client's id, if the client gave one.
    pub client_order_id: Option<String>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// A stop order's trigger as placed.
    pub stop: Option<strangle_core::model::StopOrder>,
    /// One of a position's bracket orders.
    pub bracket: bool,
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
    admin_token: Option<Secret>,
    /// Delta JSON already rendered: live products, and tickers by quote.
    rendered: Mutex<Rendered>,
    /// Held by an order entry from the venue taking the order to its metadata being
    /// recorded, and by a WebSocket connection while it looks for private updates: an
    /// order or fill seen in between had no metadata, so its frames were left out and then
    /// counted as sent (an order update or a user trade lost for good).
    order_entry: tokio::sync::Mutex<()>,
}

/// A rendered ticker: the quote's time, the trading status it was rendered with, the JSON.
type RenderedTicker = (chrono::DateTime<chrono::Utc>, Option<String>, Arc<str>);

/// Payloads rendered once: a live product does not change, a ticker changes with its quote.
#[derive(Default)]
struct Rendered {
    products: HashMap<u64, Arc<str>>,
    tickers: HashMap<strangle_core::ids::Symbol, RenderedTicker>,
}

impl ServerState {
    /// Every listed contract by symbol.
    fn contracts_by_symbol(
        &self,
    ) -> HashMap<strangle_core::ids::Symbol, strangle_core::model::OptionContract> {
        self.venue
            .contracts()
            .into_iter()
            .map(|c| (c.symbol.clone(), c))
            .collect()
    }

    /// Each underlying's spot (for the positions' margins).
    async fn spots(&self) -> HashMap<strangle_core::model::Underlying, rust_decimal::Decimal> {
        use strangle_core::MarketData;
        let mut spots = HashMap::new();
        for u in [
            strangle_core::model::Underlying::Btc,
            strangle_core::model::Underlying::Eth,
        ] {
            if let Ok(x) = self.venue.spot(u).await {
                spots.insert(u, x);
            }
        }
        spots
    }

    fn rendered(&self) -> std::sync::MutexGuard<'_, Rendered> {
        self.rendered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A quote as a Delta ticker (JSON), rendered once per quote and trading status (the
    /// `set_trading_status` knob's, `operational` otherwise).
    fn ticker_json(
        &self,
        c: &strangle_core::model::OptionContract,
        q: &strangle_core::model::Quote,
    ) -> Arc<str> {
        let halt = self.faults.trading_halt(c.symbol.as_str());
        if let Some((at, h, json)) = self.rendered().tickers.get(&c.symbol) {
            if *at == q.timestamp && *h == halt {
                return json.clone();
            }
        }
        let halted;
        let q = match &halt {
            Some(h) => {
                halted = strangle_core::model::Quote {
                    trading_halt: Some(h.clone()),
                    ..q.clone()
                };
                &halted
            }
            None => q,
        };
        let json: Arc<str> = full::ticker(c, q, full::quote_ivs(c, q)).into();
        self.rendered()
            .tickers
            .insert(c.symbol.clone(), (q.timestamp, halt, json.clone()));
        json
    }

    /// A contract as a Delta product (JSON): live ones rendered once; an expired one with
    /// its settlement, whenever asked.
    fn product_json(&self, c: &strangle_core::model::OptionContract) -> Arc<str> {
        if c.expiry <= self.clock.now() {
            let index = self.venue.settlement_index(&c.symbol);
            return full::product(c, &self.fees, true, index).to_string().into();
        }
        if let Some(json) = self.rendered().products.get(&c.product_id.get()) {
            return json.clone();
        }
        let json: Arc<str> = full::product(c, &self.fees, false, None).to_string().into();
        self.rendered()
            .products
            .insert(c.product_id.get(), json.clone());
        json
    }

    fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deadman(&self) -> std::sync::MutexGuard<'_, DeadMan> {
        self.deadman.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An error answer in Delta's envelope.
pub(crate) fn api_error(status: StatusCode, code: &str, context: Option<String>) -> Response {
    let ctx = context.map(|c| {
        if code == "bad_schema" {
            // Delta lists each invalid parameter: `{"schema_errors": [{code, message, param}]}`.
            // The parameter is the message's first word when it names one.
            let first = c.split([' ', ':']).next().unwrap_or_default();
            let named =
                !first.is_empty() && first.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_');
            let param = if named { first } else { "body" };
            serde_json::json!({ "schema_errors": [
                {"code": "validation_error", "message": c, "param": param}
            ]})
        } else {
            serde_json::json!({ "message": c })
        }
    });
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
    /// Binds and starts serving.
    pub async fn start(config: ServerConfig) -> Result<Self, MarketError> {
        let faults = Arc::new(Faults::default());
        let now = config.origin.unwrap_or_else(|| config.clock.now());
        let feed: Option<Box<dyn MarketFeed>> = match &config.market {
            MarketSource::Replay(chains) => Some(Box::new(VecFeed::new(chains.clone()))),
            MarketSource::Walk {
                markets,
                seed,
                grid,
                max_move,
            } => Some(Box::new(WalkFeed::new(
                markets.clone(),
                *seed,
                *max_move,
                now,
                *grid,
            ))),
            MarketSource::Synthetic {
                markets,
                seed,
                step,
                max_move,
            } => {
                let grid =
                    chrono::Duration::from_std(*step).unwrap_or(chrono::Duration::seconds(1));
                Some(Box::new(WalkFeed::new(
                    markets.clone(),
                    *seed,
                    *max_move,
                    now,
                    grid,
                )))
            }
            MarketSource::Scripted => None,
        };
        let mut venue = SimExchange::new(
            config.clock.clone(),
            config.fees.clone(),
            config.initial_cash,
        );
        if let Some(inner) = feed {
            venue = venue.with_feed(Box::new(Gated {
                inner,
                faults: faults.clone(),
            }));
        }
        // Price the first snapshot now, so the market is never empty (even under faults).
        let _ = venue.contracts();
        let venue = Arc::new(venue);
        let state = Arc::new(ServerState {
            venue: venue.clone(),
            clock: config.clock.clone(),
            faults,
            accounts: config
                .accounts
                .iter()
                .map(|c| (c.api_key.clone(), c.secret.clone()))
                .collect(),
            fees: config.fees.clone(),
            orders: Mutex::new(Orders::default()),
            deadman: Mutex::new(DeadMan::default()),
            ws_heartbeat: config.ws_heartbeat,
            admin_token: config.admin_token.clone(),
            rendered: Mutex::new(Rendered::default()),
            order_entry: tokio::sync::Mutex::new(()),
        });
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| MarketError::Listen {
                addr: config.addr,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MarketError::Listen {
                addr: config.addr,
                source,
            })?;
        let app = routes::router(state.clone()).merge(admin::router(state.clone()));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let mut tasks = vec![tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stop_rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "local server stopped");
            }
        })];
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

    /// The client id every order was placed with, as the client gave it (an order placed
    /// without one is left out): a reused id shows twice, though the venue keeps the second
    /// order under an id of its own (see `duplicate_ids_accepted`).
    pub fn client_ids_placed(&self) -> Vec<String> {
        self.state
            .orders()
            .by_coid
            .values()
            .filter_map(|m| m.client_order_id.clone())
            .collect()
    }

    /// Applies a scenario's steps as the market clock reaches them (steps already due apply
    /// at once). Stops with the server.
    pub fn play(&mut self, scenario: &control::Scenario, start: chrono::DateTime<chrono::Utc>) {
        let timeline = scenario.timeline(start);
        let st = self.state.clone();
        self.tasks.push(tokio::spawn(async move {
            for (at, spec) in timeline {
                while st.clock.now() < at {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                st.faults.apply(&spec);
                tracing::info!(fault = %spec.knob.name(), at = %at, "scenario: fault set");
            }
        }));
    }

    /// Pushes a chain snapshot (for [`MarketSource::Scripted`] markets or replays).
    pub fn push_chain(&self, chain: ChainSnapshot) {
        if !self.state.faults.stale_quotes() {
            self.state.venue.push_chain(chain);
        }
    }

    /// How each cancel named its order, in order: `"id"` (Delta's order id) or
    /// `"client_order_id"`.
    pub fn cancels_named_by(&self) -> Vec<&'static str> {
        self.state.orders().cancelled_by.clone()
    }

    /// How many times the dead-man switch has cancelled orders.
    pub fn deadman_fired(&self) -> u64 {
        self.state.deadman().fired
    }

    /// Whether a dead-man deadline is armed (a heartbeat or `cancel_after`).
    pub fn deadman_armed(&self) -> bool {
        let d = self.state.deadman();
        d.cancel_after.is_some() || d.beats.values().any(|b| b.deadline.is_some())
    }

    /// Lets every armed heartbeat lapse now, as if its TTL had passed without a refresh: the
    /// switch fires within 50 ms (a test need not wait out a 30 s TTL).
    pub fn lapse_heartbeats(&self) {
        let now = tokio::time::Instant::now();
        for b in self.state.deadman().beats.values_mut() {
            if b.deadline.is_some() {
                b.deadline = Some(now);
            }
        }
    }

    /// The heartbeats created on this market.
    pub fn heartbeats(&self) -> Vec<HeartbeatView> {
        self.state
            .deadman()
            .beats
            .iter()
            .map(|(id, b)| HeartbeatView {
                id: id.clone(),
                underlyings: b.underlyings.clone(),
                contract_types: b.contract_types.clone(),
                armed: b.deadline.is_some(),
            })
            .collect()
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

/// When a heartbeat's deadline passes, cancels the open orders in its scope; when the
/// `cancel_after` deadline passes, every open order.
async fn deadman_watch(st: Arc<ServerState>) {
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        every.tick().await;
        let now = tokio::time::Instant::now();
        let (all, scopes) = {
            let mut d = st.deadman();
            let all = d.cancel_after.is_some_and(|t| t <= now);
            if all {
                d.cancel_after = None;
            }
            let mut scopes = Vec::new();
            for b in d.beats.values_mut() {
                if b.deadline.is_some_and(|t| t <= now) {
                    b.deadline = None;
                    scopes.push(b.clone());
                }
            }
            d.fired += u64::from(all) + scopes.len() as u64;
            (all, scopes)
        };
        // Whether untriggered stops count as "open orders" is not documented: the knob says.
        let stops = st.faults.deadman_cancels_stops();
        if all {
            routes::cancel_all(&st, stops).await;
            tracing::info!("cancel_after fired: every open order cancelled");
        }
        if !scopes.is_empty() {
            let n =
                routes::cancel_where(&st, stops, |symbol| scopes.iter().any(|b| b.covers(symbol)))
                    .await;
            tracing::info!(
                cancelled = n,
                "dead-man heartbeat fired: orders in its scope cancelled"
            );
        }
    }
}

/// A feed that stands still while the stale-quotes fault is on.
struct Gated {
    inner: Box<dyn MarketFeed>,
    faults: Arc<Faults>,
}

impl MarketFeed for Gated {
    fn peek_time(&mut self) -> Option<chrono::DateTime<chrono::Utc>> {
        if self.faults.stale_quotes() {
            return None;
        }
        self.inner.peek_time()
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        self.inner.next_snapshot()
    }

    fn advance_to(&mut self, now: chrono::DateTime<chrono::Utc>) {
        if !self.faults.stale_quotes() {
            self.inner.advance_to(now);
        }
    }
}
