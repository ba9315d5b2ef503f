//! [`DeltaExchange`]: the core's [`Exchange`](strangle_core::Exchange) on Delta Exchange (live trading).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rust_decimal::Decimal;
use strangle_core::clock::Clock;
use strangle_core::error::{Error as CoreError, ExchangeErrorKind, Result};
use strangle_core::exchange::QuoteSource;
use strangle_core::model::{
    ChainSnapshot, Fill as CoreFill, OptionContract, OrderRequest, OrderState, OrderStatus,
    OrderType as CoreType, Position as CorePosition, ProductRef, Quote, Side as CoreSide,
    TimeInForce, Underlying, VenueActivity,
};
use strangle_core::{Execution, MarketData};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

use std::sync::Arc;

use crate::api::DeltaClient;
use crate::convert::{core_fill, core_side, quote_of, quote_of_ws, wallet_entry};
use crate::deadman::Deadman;
pub use crate::deadman::DeadmanConfig;
use crate::error::DeltaError;
use crate::identify;
use crate::lenient::micros_to_time;
use crate::wire::ws::{Channel, Frame};
use crate::wire::{CancelOrder, CreateOrder, Order, OrderType, Side};
use crate::ws::{WsClient, WsConfig, WsEvent};
use strangle_core::ids::{ClientOrderId, ProductId, Symbol};

#[derive(Debug, Default)]
struct Products {
    by_symbol: HashMap<Symbol, OptionContract>,
    fetched: Option<Instant>,
}

/// Live trading on Delta Exchange through [`DeltaClient`].
///
/// Products are cached (refreshed hourly and whenever an unknown symbol shows up); order
/// states come with their fills, and an order whose fills have not all been published yet is
/// reported as still open so that the strategy never mistakes it for a partial fill. When a
/// dead-man switch is configured it is armed on first use and refreshed from
/// [`Execution::keepalive`], which the engine calls on every step.
#[derive(Debug)]
pub struct DeltaExchange {
    client: DeltaClient,
    stream: Option<Stream>,
    products: RwLock<Products>,
    refresh: Duration,
    spot: Mutex<HashMap<Underlying, Decimal>>,
    deadman: Option<Deadman>,
    /// Delta's order id of each order seen, by client id: cancels name the order by it.
    order_ids: std::sync::Mutex<HashMap<ClientOrderId, u64>>,
    /// Where the last leg quotes came from.
    quote_source: std::sync::Mutex<Option<QuoteSource>>,
    /// Each leg's trading status as REST last gave it (`None`: operational), with when (by
    /// the market's clock): WebSocket tickers do not carry it, so a streamed quote takes it
    /// from here, read again from REST once it is [`STATUS_MAX_AGE_SECS`] old.
    statuses: std::sync::Mutex<HashMap<Symbol, KnownStatus>>,
}

/// A leg's trading status as REST gave it (`None`: operational), and when by the market's
/// clock.
type KnownStatus = (Option<String>, chrono::DateTime<Utc>);

/// How old (market seconds) a leg's trading status may be before a streamed quote reads it
/// again from REST.
pub const STATUS_MAX_AGE_SECS: i64 = 60;

/// The WebSocket quote cache of a [`DeltaExchange`].
struct Stream {
    ws: WsClient,
    cache: Arc<std::sync::Mutex<HashMap<Symbol, (Quote, Instant)>>>,
    max_age: Duration,
    /// The market's clock, when known: quotes are judged by their own timestamps too.
    clock: Option<Arc<dyn Clock>>,
    subscribed: std::sync::Mutex<Vec<String>>,
    _task: AbortOnDrop,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("max_age", &self.max_age)
            .field("market_clock", &self.clock.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Stream {
    /// A cached quote that arrived within `max_age`; subscribes the symbol otherwise.
    fn fresh(&self, symbol: &str) -> Option<Quote> {
        {
            let mut subs = self.subscribed.lock().unwrap_or_else(|e| e.into_inner());
            if !subs.iter().any(|s| s == symbol) {
                subs.push(symbol.to_string());
                let chan = |n: &str| Channel {
                    name: n.into(),
                    symbols: Some(vec![symbol.to_string()]),
                    error: None,
                };
                self.ws
                    .subscribe_public(vec![chan("ticker"), chan("ob_l1")]);
            }
        }
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let max_age = chrono::Duration::from_std(self.max_age).unwrap_or(chrono::Duration::MAX);
        c.get(symbol)
            .filter(|(_, at)| at.elapsed() <= self.max_age)
            // Stamped recently by the market's clock too: a stream that lags behind the
            // market (a fast simulated clock, a backlog) is not fresh however recently it spoke.
            .filter(|(q, _)| {
                self.clock
                    .as_ref()
                    .is_none_or(|clock| clock.now() - q.timestamp <= max_age)
            })
            .map(|(q, _)| q.clone())
    }
}

impl DeltaExchange {
    /// Wraps a client.
    pub fn new(client: DeltaClient) -> Self {
        Self {
            client,
            stream: None,
            products: RwLock::new(Products::default()),
            refresh: Duration::from_secs(3600),
            spot: Mutex::new(HashMap::new()),
            deadman: None,
            order_ids: std::sync::Mutex::new(HashMap::new()),
            quote_source: std::sync::Mutex::new(None),
            statuses: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// For live trading on `underlying`'s options: the dead-man switch is armed for that
    /// underlying's call and put orders only (heartbeat `strangle-<underlying>-options`, a
    /// 30-second TTL, shared by the process's engines on that scope; see [`crate::deadman`]),
    /// so that working orders are cancelled by Delta if the engines go silent.
    pub fn live(client: DeltaClient, underlying: Underlying) -> Self {
        Self::new(client).with_deadman(DeadmanConfig::for_options(underlying))
    }

    /// Arms Delta's dead-man switch: open orders in its scope are cancelled if no engine of
    /// this process sharing it calls for `ttl`.
    pub fn with_deadman(mut self, config: DeadmanConfig) -> Self {
        let rest = self.client.environment().rest_url().to_string();
        self.deadman = Some(Deadman::join(&rest, config));
        self
    }

    /// This engine is done with the dead-man switch: the last engine sharing it disarms it
    /// when `flat` (stopped with no open leg); otherwise it is left to fire.
    pub async fn release_deadman(&self, flat: bool) -> std::result::Result<(), DeltaError> {
        match &self.deadman {
            Some(d) => d.release(&self.client, flat).await,
            None => Ok(()),
        }
    }

    /// Serves leg quotes from the public WebSocket (`ticker` and `ob_l1` channels) when they
    /// arrived within `max_age`, and from REST otherwise. Symbols are subscribed the first
    /// time they are asked for.
    pub fn with_stream(mut self, max_age: Duration) -> Self {
        let cfg = WsConfig::new(self.client.rest().env().clone(), None);
        let (mut rx, ws) = WsClient::spawn(cfg, None);
        let cache: Arc<std::sync::Mutex<HashMap<Symbol, (Quote, Instant)>>> = Arc::default();
        let sink = cache.clone();
        let task = tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                let WsEvent::Frame {
                    frame, received, ..
                } = ev
                else {
                    continue;
                };
                let mut c = sink.lock().unwrap_or_else(|e| e.into_inner());
                match *frame {
                    Frame::Ticker(t) => {
                        if let Some(q) = quote_of_ws(&t) {
                            c.insert(q.symbol.clone(), (q, received));
                        }
                    }
                    Frame::ObL1(l) => {
                        if let Some((q, at)) = c.get_mut(l.sy.as_str()) {
                            let positive = |d: Option<Decimal>| d.filter(|x| *x > Decimal::ZERO);
                            q.bid = positive(l.bp);
                            q.bid_size = q.bid.and(l.bs).unwrap_or_default();
                            q.ask = positive(l.ap);
                            q.ask_size = q.ask.and(l.ask_size).unwrap_or_default();
                            if let Some(ts) =
                                l.ts.and_then(|t| micros_to_time::<serde_json::Error>(t).ok())
                            {
                                q.timestamp = q.timestamp.max(ts);
                            }
                            *at = received;
                        }
                    }
                    _ => {}
                }
            }
        });
        self.stream = Some(Stream {
            ws,
            cache,
            max_age,
            clock: None,
            subscribed: std::sync::Mutex::default(),
            _task: AbortOnDrop(task),
        });
        self
    }

    /// The index price `product` settled at, once Delta publishes it on the expired product
    /// (looked up by symbol, then in the expired list by id); `None` while it has not.
    pub async fn settlement_index(
        &self,
        product: &ProductRef,
    ) -> std::result::Result<Option<Decimal>, DeltaError> {
        match self.client.product(&product.symbol).await {
            Ok(p) => {
                if let Some(i) = identify::settlement_index(&p) {
                    return Ok(Some(i));
                }
            }
            Err(e) if e.kind() == ExchangeErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(self
            .client
            .expired_option_products()
            .await?
            .iter()
            .find(|p| ProductId(p.id) == product.product_id)
            .and_then(identify::settlement_index))
    }

    /// Judges the stream's quotes by the market's `clock` as well as by when they arrived:
    /// a quote stamped longer ago than the stream's `max_age` comes from REST instead. Call
    /// after [`DeltaExchange::with_stream`].
    pub fn with_market_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        if let Some(st) = self.stream.as_mut() {
            st.clock = Some(clock);
        }
        self
    }

    /// The client.
    pub fn client(&self) -> &DeltaClient {
        &self.client
    }

    async fn products(&self, force: bool) -> Result<HashMap<Symbol, OptionContract>> {
        {
            let p = self.products.read().await;
            if !force && p.fetched.is_some_and(|t| t.elapsed() < self.refresh) {
                return Ok(p.by_symbol.clone());
            }
        }
        let list = self.client.option_products().await?;
        let by_symbol = crate::chain::contracts(&list);
        let mut p = self.products.write().await;
        p.by_symbol = by_symbol.clone();
        p.fetched = Some(Instant::now());
        Ok(by_symbol)
    }

    async fn contract(&self, symbol: &str) -> Result<OptionContract> {
        {
            // One contract out of the cache, without copying the catalogue.
            let p = self.products.read().await;
            if p.fetched.is_some_and(|t| t.elapsed() < self.refresh) {
                if let Some(c) = p.by_symbol.get(symbol) {
                    return Ok(c.clone());
                }
            }
        }
        // Not cached (or the cache is old): a fresh list, which may have it.
        self.products(true)
            .await?
            .get(symbol)
            .cloned()
            .ok_or_else(|| {
                CoreError::exchange(
                    ExchangeErrorKind::NotFound,
                    format!("no live product {symbol}"),
                )
            })
    }

    /// The symbol of the product an order without a (valid) `product_symbol` is for, from the
    /// product list; an error when the list does not have it either.
    async fn symbol_of_product(&self, o: &Order) -> Result<Symbol> {
        let unknown = || {
            CoreError::exchange(
                ExchangeErrorKind::InvalidResponse,
                format!(
                    "order {} names no product we know (symbol {:?}, product id {:?})",
                    o.id, o.product_symbol, o.product_id
                ),
            )
        };
        let pid = o.product_id.ok_or_else(unknown)?;
        self.products(false)
            .await?
            .into_values()
            .find(|c| c.product_id == ProductId(pid))
            .map(|c| c.symbol)
            .ok_or_else(unknown)
    }

    /// The fills of order `o`, of which the order says `filled` contracts filled (fewer when
    /// the venue does not list them all yet: `status_of` then reports the order open).
    async fn fills_of(
        &self,
        o: &Order,
        filled: Decimal,
        symbol: &str,
        client_order_id: &ClientOrderId,
    ) -> Result<Vec<CoreFill>> {
        let pid = match o.product_id {
            Some(p) => p,
            None => self.contract(symbol).await?.product_id.get(),
        };
        let id = o.id.to_string();
        // From just before the order's creation first (one page, usually); when that finds
        // less than the order says filled, the product's whole history: a fill stamped
        // before its order by another clock is still the order's fill.
        let start = o.created_at.map(|t| t - chrono::Duration::seconds(5));
        let fills = self.fills_since(pid, start, &id, client_order_id).await?;
        let seen: Decimal = fills.iter().map(|f| f.size).sum();
        if seen >= filled || start.is_none() {
            return Ok(fills);
        }
        self.fills_since(pid, None, &id, client_order_id).await
    }

    /// The fills of order `id` (Delta's id) on product `pid` since `start`.
    async fn fills_since(
        &self,
        pid: u64,
        start: Option<chrono::DateTime<Utc>>,
        id: &str,
        client_order_id: &ClientOrderId,
    ) -> Result<Vec<CoreFill>> {
        Ok(self
            .client
            .fills(&[pid], start)
            .await?
            .iter()
            .filter(|f| f.order_id.as_deref() == Some(id))
            .filter_map(|f| core_fill(f, Some(client_order_id)))
            .collect())
    }

    /// The market's time: its clock when known (a local market's may run fast), else the
    /// wall clock.
    fn market_now(&self) -> chrono::DateTime<Utc> {
        self.stream
            .as_ref()
            .and_then(|st| st.clock.as_ref())
            .map_or_else(Utc::now, |c| c.now())
    }

    /// Records the trading status a REST quote carries.
    fn note_status(&self, q: &Quote) {
        let now = self.market_now();
        self.statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(q.symbol.clone(), (q.trading_halt.clone(), now));
    }

    /// The trading status of `symbol` for a streamed quote: the recorded one while it is
    /// fresh, else read from REST now (and recorded). A failed read keeps the last one known.
    async fn status_for_stream(&self, symbol: &Symbol) -> Option<String> {
        let now = self.market_now();
        let known = self
            .statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(symbol)
            .cloned();
        if let Some((status, at)) = &known {
            if now - *at <= chrono::Duration::seconds(STATUS_MAX_AGE_SECS) {
                return status.clone();
            }
        }
        match self.client.ticker(symbol).await.map(|t| quote_of(&t)) {
            Ok(Some(q)) => {
                self.note_status(&q);
                q.trading_halt
            }
            Ok(None) => known.and_then(|k| k.0),
            Err(e) => {
                tracing::warn!(symbol = symbol.as_str(), error = %e, "trading status not read");
                known.and_then(|k| k.0)
            }
        }
    }

    /// Delta's id of an order seen before, by its client id.
    fn order_id_of(&self, client_order_id: &ClientOrderId) -> Option<u64> {
        self.order_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(client_order_id)
            .copied()
    }

    async fn status_of(&self, o: &Order, client_order_id: &ClientOrderId) -> Result<OrderStatus> {
        if o.id != 0 {
            self.order_ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(client_order_id.clone(), o.id);
        }
        let size = o.size.unwrap_or_default();
        let filled = size - o.unfilled_size.unwrap_or(size);
        let symbol = match o.product_symbol.as_deref().map(Symbol::new) {
            Some(Ok(s)) => s,
            _ => self.symbol_of_product(o).await?,
        };
        let mut fills = Vec::new();
        if filled > Decimal::ZERO {
            // The order itself is known: a failure to read its fills (429, 5xx, timeout) must
            // not turn it into a failed order. It is reported open with the fills read so far
            // (none), and the next poll reads them.
            match self.fills_of(o, filled, &symbol, client_order_id).await {
                Ok(f) => fills = f,
                Err(e) => tracing::warn!(
                    client_order_id = client_order_id.as_str(),
                    error = %e,
                    "fills not read yet; the order stays open until they are"
                ),
            }
        }
        let seen: Decimal = fills.iter().map(|f| f.size).sum();
        let mut state = match o.state.as_str() {
            "closed" => OrderState::Filled,
            "cancelled" => OrderState::Cancelled,
            // An untriggered stop; one that shows fills is working.
            "pending" if filled.is_zero() => OrderState::Pending,
            _ => OrderState::Open,
        };
        if state.is_terminal() && seen < filled {
            state = OrderState::Open;
        }
        Ok(OrderStatus {
            client_order_id: client_order_id.clone(),
            exchange_order_id: o.id.to_string(),
            symbol,
            side: core_side(o.side),
            size,
            limit_price: o.limit_price,
            state,
            fills,
            reason: o.cancellation_reason.clone(),
            updated_at: Utc::now(),
        })
    }
}

#[async_trait]
impl MarketData for DeltaExchange {
    async fn chain(&self, underlying: Underlying) -> Result<ChainSnapshot> {
        let quotes = self.client.ticker_quotes(underlying.as_str(), None).await?;
        let mut products = self.products(false).await?;
        if !crate::chain::unknown_symbols(&quotes, &products).is_empty() {
            products = self.products(true).await?;
        }
        let chain = crate::chain::chain_from(underlying, quotes, &products)?;
        self.spot.lock().await.insert(underlying, chain.spot);
        Ok(chain)
    }

    async fn quotes(&self, symbols: &[Symbol]) -> Result<Vec<Quote>> {
        let mut out = Vec::with_capacity(symbols.len());
        let mut from_rest = 0;
        for s in symbols {
            if let Some(mut q) = self.stream.as_ref().and_then(|st| st.fresh(s)) {
                if let (Some(spot), Ok(u)) = (q.spot, self.contract(s).await.map(|c| c.underlying))
                {
                    self.spot.lock().await.insert(u, spot);
                }
                q.trading_halt = self.status_for_stream(s).await;
                out.push(q);
                continue;
            }
            from_rest += 1;
            match self.client.ticker(s).await {
                Ok(t) => {
                    if let Some(q) = quote_of(&t) {
                        self.note_status(&q);
                        if let (Some(spot), Ok(u)) =
                            (q.spot, self.contract(s).await.map(|c| c.underlying))
                        {
                            self.spot.lock().await.insert(u, spot);
                        }
                        out.push(q);
                    }
                }
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !symbols.is_empty() {
            let source = match (&self.stream, from_rest) {
                (None, _) => QuoteSource::Rest,
                (Some(_), 0) => QuoteSource::WebSocket,
                (Some(_), _) => QuoteSource::RestFallback,
            };
            *self.quote_source.lock().unwrap_or_else(|e| e.into_inner()) = Some(source);
        }
        Ok(out)
    }

    async fn spot(&self, underlying: Underlying) -> Result<Decimal> {
        if let Some(s) = self.spot.lock().await.get(&underlying) {
            return Ok(*s);
        }
        Ok(self.chain(underlying).await?.spot)
    }

    fn quote_source(&self) -> Option<QuoteSource> {
        *self.quote_source.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Execution for DeltaExchange {
    async fn place_order(&self, r: &OrderRequest) -> Result<OrderStatus> {
        let order = CreateOrder {
            product_id: Some(r.product_id.get()),
            product_symbol: None,
            size: rust_decimal::prelude::ToPrimitive::to_i64(&r.size)
                .filter(|s| *s > 0 && Decimal::from(*s) == r.size)
                .ok_or_else(|| {
                    CoreError::exchange(
                        ExchangeErrorKind::Rejected,
                        format!("size {} is not a whole number of contracts", r.size),
                    )
                })?,
            side: match r.side {
                CoreSide::Buy => Side::Buy,
                CoreSide::Sell => Side::Sell,
            },
            order_type: match r.order_type {
                CoreType::Limit => OrderType::LimitOrder,
                CoreType::Market => OrderType::MarketOrder,
            },
            limit_price: r.limit_price,
            time_in_force: Some(match r.time_in_force {
                TimeInForce::Gtc => "gtc".into(),
                TimeInForce::Ioc => "ioc".into(),
            }),
            post_only: Some(false),
            reduce_only: Some(r.reduce_only),
            client_order_id: Some(r.client_order_id.to_string()),
            stop_order_type: r.stop.map(|_| "stop_loss_order".to_string()),
            stop_price: r.stop.map(|s| s.stop_price),
            trail_amount: r.stop.and_then(|s| s.trail_amount),
            stop_trigger_method: r.stop.map(|s| s.trigger.name().to_string()),
        };
        let o = self.client.place_order(&order).await?;
        self.status_of(&o, &r.client_order_id).await
    }

    async fn cancel_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<OrderStatus> {
        // By Delta's order id when it is known; by client id only as a fallback.
        let id = self
            .order_id_of(client_order_id)
            .and_then(|id| i64::try_from(id).ok());
        let c = CancelOrder {
            id,
            client_order_id: id.is_none().then(|| client_order_id.to_string()),
            product_id: Some(product_id.get()),
        };
        let o = self.client.cancel_order(&c).await?;
        self.status_of(&o, client_order_id).await
    }

    async fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<OrderStatus>> {
        if let Some(o) = self.client.order_by_client_id(client_order_id).await? {
            return Ok(Some(self.status_of(&o, client_order_id).await?));
        }
        // An order whose Delta id was seen exists: it is followed by that id, and never
        // taken as absent because the client-id lookup does not find it (yet, or any more).
        let Some(id) = self.order_id_of(client_order_id) else {
            return Ok(None);
        };
        match self.client.order(id).await? {
            Some(o) => Ok(Some(self.status_of(&o, client_order_id).await?)),
            None => Err(CoreError::exchange(
                ExchangeErrorKind::Uncertain,
                format!(
                    "order {client_order_id} (Delta id {id}) was acknowledged, but neither its \
                     client id nor its Delta id finds it now"
                ),
            )),
        }
    }

    /// The product's open orders, then its order history (every page of each), for an
    /// order with this client id: Delta's list endpoints are reads apart from the client-id
    /// lookup, which may not find a new order at once.
    async fn find_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<Option<OrderStatus>> {
        let product_id = product_id.get();
        let ours = |o: &&Order| o.client_order_id.as_deref() == Some(client_order_id.as_str());
        let open = self.client.open_orders(&[product_id]).await?;
        let found = match open.iter().find(ours) {
            Some(o) => Some(o.clone()),
            None => self
                .client
                .order_history(&[product_id])
                .await?
                .iter()
                .find(ours)
                .cloned(),
        };
        match found {
            Some(o) => Ok(Some(self.status_of(&o, client_order_id).await?)),
            None => Ok(None),
        }
    }

    /// Every non-flat option position of `underlying`, each tied to its product (see
    /// `identify.rs`): a row that cannot be is an error naming it, never skipped.
    async fn positions(&self, underlying: Underlying) -> Result<Vec<CorePosition>> {
        let rows = self.client.positions(underlying.as_str()).await?;
        let mut src = identify::Sources {
            products: self.products(false).await?,
            margined: None,
        };
        let mut catalogues_read = false;
        loop {
            match identify::positions(underlying, &rows, &src) {
                Ok(v) => return Ok(v),
                // Cheapest first: the margined positions carry symbols, then a fresh live
                // list and the expired one (a product that expired is no longer live).
                Err(_) if src.margined.is_none() => {
                    src.margined = Some(self.client.margined_positions().await?);
                }
                Err(_) if !catalogues_read => {
                    src.products = self.products(true).await?;
                    let expired = self.client.expired_option_products().await?;
                    src.products.extend(crate::chain::contracts(&expired));
                    catalogues_read = true;
                }
                Err(row) => {
                    return Err(CoreError::UnidentifiedPosition {
                        underlying: underlying.to_string(),
                        row: serde_json::to_string(&row).unwrap_or_else(|_| format!("{row:?}")),
                    })
                }
            }
        }
    }

    /// By product id: an expired product has left the live list, but its fills are found
    /// by id however long after expiry this is asked.
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<CoreFill>> {
        let ids: Vec<u64> = products.iter().map(|p| p.product_id.get()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .client
            .fills(&ids, None)
            .await?
            .iter()
            .filter(|f| f.fill_type == "settlement")
            .filter_map(|f| core_fill(f, None))
            .collect())
    }

    /// Fills by product id since `since`, each tied to its order's client id through the
    /// products' open orders and order history (a fill of an order not found there is no
    /// order of ours and is left out; settlement fills have no order); wallet rows since
    /// `since` (`None` when Delta answers that the endpoint does not exist).
    async fn venue_activity(
        &self,
        products: &[ProductRef],
        since: chrono::DateTime<Utc>,
    ) -> Result<Option<VenueActivity>> {
        let ids: Vec<u64> = products.iter().map(|p| p.product_id.get()).collect();
        if ids.is_empty() {
            return Ok(Some(VenueActivity::default()));
        }
        let raw = self.client.fills(&ids, Some(since)).await?;
        let mut names: HashMap<String, ClientOrderId> = HashMap::new();
        if raw
            .iter()
            .any(|f| f.fill_type != "settlement" && f.client_order_id.is_none())
        {
            let mut orders = self.client.open_orders(&ids).await?;
            orders.extend(self.client.order_history(&ids).await?);
            for o in orders {
                if let Some(c) = o
                    .client_order_id
                    .as_deref()
                    .and_then(|c| ClientOrderId::new(c).ok())
                {
                    names.insert(o.id.to_string(), c);
                }
            }
        }
        let fills = raw
            .iter()
            .filter_map(|f| {
                if f.fill_type == "settlement" {
                    return core_fill(f, None);
                }
                let named = f
                    .client_order_id
                    .as_deref()
                    .and_then(|c| ClientOrderId::new(c).ok())
                    .or_else(|| f.order_id.as_ref().and_then(|o| names.get(o).cloned()))?;
                core_fill(f, Some(&named))
            })
            .collect();
        let wallet = match self.client.wallet_transactions(since).await {
            Ok(rows) => Some(rows.iter().filter_map(wallet_entry).collect()),
            Err(e) if e.kind() == ExchangeErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Some(VenueActivity { fills, wallet }))
    }

    fn rate_budget_left(&self) -> Option<u32> {
        self.client.rest().limiter().left()
    }

    async fn keepalive(&self) -> Result<()> {
        match &self.deadman {
            Some(d) => Ok(d.keepalive(&self.client).await?),
            None => Ok(()),
        }
    }
}
