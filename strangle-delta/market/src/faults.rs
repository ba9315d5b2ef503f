//! Fault injection for the local server: what tests use to make the network misbehave.

use std::sync::Mutex;
use std::time::Duration;

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer 429 with `X-RATE-LIMIT-RESET: reset_ms`, without processing.
    RateLimit {
        /// Milliseconds until the window resets.
        reset_ms: u64,
    },
    /// Answer with this 5xx status without processing.
    ServerError(u16),
    /// Process the request, then hold the answer for this long (longer than the client's
    /// timeout makes the client see a timeout for a request that did happen).
    SlowAnswer(Duration),
    /// Hold the request this long, then answer 503 without processing it (a timeout for a
    /// request that never happened).
    DropRequest(Duration),
    /// Reject an order placement with this Delta error code (HTTP 400).
    RejectOrder(String),
    /// Process the request, then answer 200 with a body that is not Delta's JSON (a proxy's
    /// page, a cut connection): the order was placed, but the answer does not prove it.
    GarbledAnswer,
    /// Answer with this status and raw body without processing the request: an error in a
    /// shape Delta does not document (an HTML 404, `api_key_not_found` for an order lookup).
    Answer {
        /// HTTP status.
        status: u16,
        /// The body, sent as it is.
        body: String,
    },
}

/// How the market answers `POST /v2/heartbeat/create` for an id that already exists: Delta
/// does not document it, so a client must cope with both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExistingHeartbeat {
    /// 200, and the heartbeat takes the new scope.
    #[default]
    Replace,
    /// 400 `heartbeat_already_exists`, and the heartbeat keeps its scope.
    Refuse,
}

/// How the market acknowledges `POST /v2/heartbeat` (Delta documents `process_enabled`, but
/// not when it would say false, nor how long an id lives unrefreshed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeartbeatAck {
    /// `process_enabled: "true"`, the next expiry in `heartbeat_timestamp`.
    #[default]
    Armed,
    /// `process_enabled: "false"`: acknowledged, not armed.
    Disabled,
    /// The id is forgotten at the next refresh (answered 400 `not_found`), then acknowledged
    /// as armed again: a heartbeat that lapsed or was deleted.
    Lapsed,
}

/// How the rows of `GET /v2/positions?underlying_asset_symbol=` name their product. Delta
/// documents both fields on that array, but its `?product_id=` form carries neither, so a
/// client must not rely on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PositionRows {
    /// `product_id` and `product_symbol`, as documented.
    #[default]
    Full,
    /// `product_id` only.
    IdOnly,
    /// Neither: `size`, `entry_price` and `timestamp` only.
    SizeOnly,
}

/// One rule: requests matching `method` and `path_prefix` get `kind`, `remaining` times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// HTTP method to match (`None` = any).
    pub method: Option<String>,
    /// Path prefix to match (`None` = any).
    pub path_prefix: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// How many more requests it applies to.
    pub remaining: u32,
}

impl FaultRule {
    /// A rule for the next `n` requests of `method` to paths starting with `path_prefix`.
    pub fn new(method: Option<&str>, path_prefix: Option<&str>, kind: FaultKind, n: u32) -> Self {
        Self {
            method: method.map(str::to_string),
            path_prefix: path_prefix.map(str::to_string),
            kind,
            remaining: n,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    pub rules: Vec<FaultRule>,
    pub latency: Duration,
    pub clock_skew_secs: i64,
    pub stale_quotes: bool,
    pub ws_generation: u64,
    pub hits: u64,
    pub existing_heartbeat: ExistingHeartbeat,
    pub position_rows: PositionRows,
    pub margined_lagging: bool,
    pub expired_by_symbol_hidden: bool,
    pub hidden_fills: Option<String>,
    pub band_enforced: bool,
    pub heartbeat_ack: HeartbeatAck,
    pub heartbeat_list_needs_user: bool,
    pub lookup_lag: Duration,
    pub trading_status: Option<(String, String)>,
    pub deadman_cancels_stops: bool,
    pub duplicate_ids_accepted: bool,
    pub tax_apart: bool,
}

/// The server's fault knobs (all off by default).
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every knob's setting now.
    pub(crate) fn snapshot(&self) -> State {
        self.lock().clone()
    }

    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) {
        self.lock().rules.push(rule);
    }

    /// Removes every rule and resets every knob.
    pub fn clear(&self) {
        let mut s = self.lock();
        let gen = s.ws_generation;
        *s = State::default();
        s.ws_generation = gen;
    }

    /// Adds latency to every answer.
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// Shifts the server's clock used to check signature timestamps.
    pub fn set_clock_skew(&self, secs: i64) {
        self.lock().clock_skew_secs = secs;
    }

    /// Freezes market data: tickers keep their last timestamps and prices.
    pub fn set_stale_quotes(&self, stale: bool) {
        self.lock().stale_quotes = stale;
    }

    /// Closes every open WebSocket connection now.
    pub fn drop_websockets(&self) {
        self.lock().ws_generation += 1;
    }

    /// Sets the answer to creating a heartbeat id that exists.
    pub fn set_existing_heartbeat(&self, answer: ExistingHeartbeat) {
        self.lock().existing_heartbeat = answer;
    }

    pub(crate) fn existing_heartbeat(&self) -> ExistingHeartbeat {
        self.lock().existing_heartbeat
    }

    /// Sets how position rows name their product.
    pub fn set_position_rows(&self, rows: PositionRows) {
        self.lock().position_rows = rows;
    }

    pub(crate) fn position_rows(&self) -> PositionRows {
        self.lock().position_rows
    }

    /// Makes `GET /v2/positions/margined` lag behind fills (Delta: up to ~10 s): while on,
    /// it lists no position.
    pub fn set_margined_lagging(&self, lagging: bool) {
        self.lock().margined_lagging = lagging;
    }

    pub(crate) fn margined_lagging(&self) -> bool {
        self.lock().margined_lagging
    }

    /// Makes `GET /v2/products/{symbol}` answer 404 for an expired product (Delta does not
    /// document whether it finds one): only `GET /v2/products?states=expired` lists it.
    pub fn set_expired_by_symbol_hidden(&self, hidden: bool) {
        self.lock().expired_by_symbol_hidden = hidden;
    }

    pub(crate) fn expired_by_symbol_hidden(&self) -> bool {
        self.lock().expired_by_symbol_hidden
    }

    /// Leaves out of `GET /v2/fills` every fill whose symbol starts with `prefix` (`""`: all
    /// of them; `None`: none): an order the venue shows filled whose fills it does not list
    /// yet. Delta does not document how far its fills may lag its orders.
    pub fn set_hidden_fills(&self, prefix: Option<&str>) {
        self.lock().hidden_fills = prefix.map(str::to_string);
    }

    pub(crate) fn fill_hidden(&self, symbol: &str) -> bool {
        self.lock()
            .hidden_fills
            .as_deref()
            .is_some_and(|p| symbol.starts_with(p))
    }

    /// Books the tax on fees (the fee model's `tax_pct`, India's 18 % GST) as wallet rows of
    /// its own (`gst`) and leaves it out of the fills' commissions. Delta does not document
    /// whether its commissions include the tax; by default this market includes it.
    pub fn set_tax_apart(&self, on: bool) {
        self.lock().tax_apart = on;
    }

    pub(crate) fn tax_apart(&self) -> bool {
        self.lock().tax_apart
    }

    /// Refuses a limit order priced outside the product's price band (code
    /// `out_of_price_band`, this market's own: Delta's answer is not documented), so a test
    /// can prove a client never sends one.
    pub fn set_band_enforced(&self, on: bool) {
        self.lock().band_enforced = on;
    }

    pub(crate) fn band_enforced(&self) -> bool {
        self.lock().band_enforced
    }

    /// Sets how heartbeats are acknowledged.
    pub fn set_heartbeat_ack(&self, ack: HeartbeatAck) {
        self.lock().heartbeat_ack = ack;
    }

    pub(crate) fn heartbeat_ack(&self) -> HeartbeatAck {
        self.lock().heartbeat_ack
    }

    /// Refuses `GET /v2/heartbeat` without the `user_id` the swagger marks required.
    pub fn set_heartbeat_list_needs_user(&self, on: bool) {
        self.lock().heartbeat_list_needs_user = on;
    }

    pub(crate) fn heartbeat_list_needs_user(&self) -> bool {
        self.lock().heartbeat_list_needs_user
    }

    /// Makes a new order invisible to `GET /v2/orders/client_order_id/{id}` (404 `not_found`)
    /// until it is this old on the market's clock: Delta does not document how soon an order
    /// can be found by its client id.
    pub fn set_lookup_lag(&self, lag: Duration) {
        self.lock().lookup_lag = lag;
    }

    pub(crate) fn lookup_lag(&self) -> Duration {
        self.lock().lookup_lag
    }

    /// Sets the trading status of the contracts whose symbol starts with `prefix` (`None`:
    /// every contract operational): tickers carry it in `product_trading_status`, and an
    /// order on such a contract is refused (`market_disrupted`, this market's code: Delta's
    /// is not documented).
    pub fn set_trading_status(&self, prefix: Option<(&str, &str)>) {
        self.lock().trading_status = prefix.map(|(p, s)| (p.to_string(), s.to_string()));
    }

    /// The status of `symbol` when it is not operational.
    pub(crate) fn trading_halt(&self, symbol: &str) -> Option<String> {
        self.lock()
            .trading_status
            .as_ref()
            .filter(|(p, s)| symbol.starts_with(p.as_str()) && s != "operational")
            .map(|(_, s)| s.clone())
    }

    /// Makes the venue accept a second order with a client id it has seen (by default it
    /// refuses it, `duplicate_client_order_id`: Delta does not document which it does).
    pub fn set_duplicate_ids_accepted(&self, on: bool) {
        self.lock().duplicate_ids_accepted = on;
    }

    pub(crate) fn duplicate_ids_accepted(&self) -> bool {
        self.lock().duplicate_ids_accepted
    }

    /// Makes the dead-man switch (a lapsed heartbeat, `cancel_after`) cancel untriggered stop
    /// orders too. Delta's docs say the switch "cancels all open orders" and call an
    /// untriggered stop `pending`, not `open`; whether it spares them is not stated. By default
    /// this market spares them; this strict mode does the opposite.
    pub fn set_deadman_cancels_stops(&self, on: bool) {
        self.lock().deadman_cancels_stops = on;
    }

    pub(crate) fn deadman_cancels_stops(&self) -> bool {
        self.lock().deadman_cancels_stops
    }

    /// How many requests a rule has hit so far.
    pub fn hits(&self) -> u64 {
        self.lock().hits
    }

    pub(crate) fn latency(&self) -> Duration {
        self.lock().latency
    }

    pub(crate) fn clock_skew(&self) -> i64 {
        self.lock().clock_skew_secs
    }

    pub(crate) fn stale_quotes(&self) -> bool {
        self.lock().stale_quotes
    }

    pub(crate) fn ws_generation(&self) -> u64 {
        self.lock().ws_generation
    }

    /// Takes the first rule matching this request, if any.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut s = self.lock();
        let i = s.rules.iter().position(|r| {
            r.remaining > 0
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
        })?;
        s.rules[i].remaining -= 1;
        let kind = s.rules[i].kind.clone();
        if s.rules[i].remaining == 0 {
            s.rules.remove(i);
        }
        s.hits += 1;
        Some(kind)
    }
}
