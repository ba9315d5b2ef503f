//! What the strategy needs from a venue, in two halves: [`MarketData`] (what is quoted) and
//! [`Execution`] (orders, positions, settlement). A venue implements both and is then an
//! [`Exchange`]; a test double that changes one half implements that half and borrows the
//! other from a real venue through [`Split`].

use async_trait::async_trait;
use rust_decimal::Decimal;

use crate::error::Result;
use crate::ids::{ClientOrderId, ProductId, Symbol};
use crate::model::{
    ChainSnapshot, Fill, OrderRequest, OrderStatus, Position, ProductRef, Quote, Underlying,
    VenueActivity,
};
use chrono::{DateTime, Utc};

/// Where a venue's last leg quotes came from, as the heartbeat says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum QuoteSource {
    /// REST polling (no stream configured).
    #[serde(rename = "rest")]
    Rest,
    /// The public WebSocket, every leg fresh.
    #[serde(rename = "websocket")]
    WebSocket,
    /// REST for at least one leg, because the stream had no fresh quote (stale or down).
    #[serde(rename = "rest (websocket stale or down)")]
    RestFallback,
}

impl QuoteSource {
    /// The heartbeat's text: `rest`, `websocket`, `rest (websocket stale or down)`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::WebSocket => "websocket",
            Self::RestFallback => "rest (websocket stale or down)",
        }
    }
}

impl std::fmt::Display for QuoteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Market data: chains, quotes and the index.
#[async_trait]
pub trait MarketData: Send + Sync {
    /// The whole option chain of `underlying` with quotes and greeks.
    async fn chain(&self, underlying: Underlying) -> Result<ChainSnapshot>;
    /// Quotes of the given symbols (missing symbols are left out).
    async fn quotes(&self, symbols: &[Symbol]) -> Result<Vec<Quote>>;
    /// The underlying's index price.
    async fn spot(&self, underlying: Underlying) -> Result<Decimal>;
    /// Where the last quotes came from, for the heartbeat; `None` for venues with one source.
    fn quote_source(&self) -> Option<QuoteSource> {
        None
    }
}

/// Execution: orders, positions and settlement.
///
/// Errors are [`crate::Error::Exchange`] with a kind the engine acts on: an
/// [`crate::error::ExchangeErrorKind::Uncertain`] placement is looked up by
/// `client_order_id` before anything else is sent.
#[async_trait]
pub trait Execution: Send + Sync {
    /// Places an order; returns its state right after placement.
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus>;
    /// Cancels an order by client id; returns its final state.
    async fn cancel_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<OrderStatus>;
    /// Looks an order up by client id; `Ok(None)` if the venue never saw it.
    async fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<OrderStatus>>;
    /// Looks for an order that [`Execution::order`] did not find, by the venue's other reads
    /// (Delta: the open orders and the order history of `product_id`, every page): a venue
    /// may not find a new order by its client id at once, and absence is taken as proven
    /// only when these reads agree. `Ok(None)` when none of them shows it. A venue whose
    /// reads are one (the simulated venue) asks [`Execution::order`] again.
    async fn find_order(
        &self,
        client_order_id: &ClientOrderId,
        _product_id: ProductId,
    ) -> Result<Option<OrderStatus>> {
        self.order(client_order_id).await
    }
    /// Non-flat positions in options of `underlying`.
    async fn positions(&self, underlying: Underlying) -> Result<Vec<Position>>;
    /// Settlement fills of expired contracts among `products` (Delta reports these as fills
    /// of type `settlement`): price = the contract's settlement value, fee as charged. The
    /// products are named by id too, because an expired product has left the live list.
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>>;
    /// The venue's own record of `products` since `since`: every fill on them and the
    /// wallet's rows, for checking a closed session's money against the venue's
    /// ([`crate::reconciliation`]). `Ok(None)` from a venue that keeps no such record.
    async fn venue_activity(
        &self,
        _products: &[ProductRef],
        _since: DateTime<Utc>,
    ) -> Result<Option<VenueActivity>> {
        Ok(None)
    }
    /// Called by the engine on every step: venues with a dead-man switch refresh it here.
    async fn keepalive(&self) -> Result<()> {
        Ok(())
    }
    /// Request units left in the venue's current rate-limit window for this account, for
    /// the heartbeat; `None` for venues without a limit.
    fn rate_budget_left(&self) -> Option<u32> {
        None
    }
}

/// A venue: Delta Exchange live or paper (in `strangle-delta`), or the simulated venue
/// ([`crate::sim::SimExchange`]) for sim mode and backtests. Anything that is both
/// [`MarketData`] and [`Execution`] is one.
pub trait Exchange: MarketData + Execution {}

impl<T: MarketData + Execution + ?Sized> Exchange for T {}

/// A venue made of two parts: market data from `data`, execution by `exec`. Test doubles use
/// it to change one half of a venue and keep the other, e.g.
/// `Split { data: Muted(venue.clone()), exec: venue }`.
#[derive(Debug, Clone)]
pub struct Split<D, X> {
    /// Where quotes come from.
    pub data: D,
    /// Where orders go.
    pub exec: X,
}

#[async_trait]
impl<D: MarketData, X: Send + Sync> MarketData for Split<D, X> {
    async fn chain(&self, underlying: Underlying) -> Result<ChainSnapshot> {
        self.data.chain(underlying).await
    }
    async fn quotes(&self, symbols: &[Symbol]) -> Result<Vec<Quote>> {
        self.data.quotes(symbols).await
    }
    async fn spot(&self, underlying: Underlying) -> Result<Decimal> {
        self.data.spot(underlying).await
    }
    fn quote_source(&self) -> Option<QuoteSource> {
        self.data.quote_source()
    }
}

#[async_trait]
impl<D: Send + Sync, X: Execution> Execution for Split<D, X> {
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
        self.exec.place_order(request).await
    }
    async fn cancel_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<OrderStatus> {
        self.exec.cancel_order(client_order_id, product_id).await
    }
    async fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<OrderStatus>> {
        self.exec.order(client_order_id).await
    }
    async fn find_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<Option<OrderStatus>> {
        self.exec.find_order(client_order_id, product_id).await
    }
    async fn positions(&self, underlying: Underlying) -> Result<Vec<Position>> {
        self.exec.positions(underlying).await
    }
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
        self.exec.settlement_fills(products).await
    }
    async fn venue_activity(
        &self,
        products: &[ProductRef],
        since: DateTime<Utc>,
    ) -> Result<Option<VenueActivity>> {
        self.exec.venue_activity(products, since).await
    }
    async fn keepalive(&self) -> Result<()> {
        self.exec.keepalive().await
    }
    fn rate_budget_left(&self) -> Option<u32> {
        self.exec.rate_budget_left()
    }
}

#[async_trait]
impl<T: MarketData + ?Sized> MarketData for std::sync::Arc<T> {
    async fn chain(&self, underlying: Underlying) -> Result<ChainSnapshot> {
        (**self).chain(underlying).await
    }
    async fn quotes(&self, symbols: &[Symbol]) -> Result<Vec<Quote>> {
        (**self).quotes(symbols).await
    }
    async fn spot(&self, underlying: Underlying) -> Result<Decimal> {
        (**self).spot(underlying).await
    }
    fn quote_source(&self) -> Option<QuoteSource> {
        (**self).quote_source()
    }
}

#[async_trait]
impl<T: Execution + ?Sized> Execution for std::sync::Arc<T> {
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
        (**self).place_order(request).await
    }
    async fn cancel_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<OrderStatus> {
        (**self).cancel_order(client_order_id, product_id).await
    }
    async fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<OrderStatus>> {
        (**self).order(client_order_id).await
    }
    async fn find_order(
        &self,
        client_order_id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<Option<OrderStatus>> {
        (**self).find_order(client_order_id, product_id).await
    }
    async fn positions(&self, underlying: Underlying) -> Result<Vec<Position>> {
        (**self).positions(underlying).await
    }
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
        (**self).settlement_fills(products).await
    }
    async fn venue_activity(
        &self,
        products: &[ProductRef],
        since: DateTime<Utc>,
    ) -> Result<Option<VenueActivity>> {
        (**self).venue_activity(products, since).await
    }
    async fn keepalive(&self) -> Result<()> {
        (**self).keepalive().await
    }
    fn rate_budget_left(&self) -> Option<u32> {
        (**self).rate_budget_left()
    }
}
