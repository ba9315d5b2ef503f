//! [`PaperExchange`]: Delta's real market data, simulated fills.
//!
//! Chains and quotes come from Delta's public endpoints (no keys needed); every chain and
//! quote fetched is also fed to a [`SimExchange`], which fills the strategy's orders against
//! those real quotes (crossing the bid/ask, size-limited, with the fee model). Nothing is ever
//! sent to Delta's order endpoints.

use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, SystemClock};
use strangle_core::error::Result;
use strangle_core::model::{
    ChainSnapshot, FeeModel, Fill, OrderRequest, OrderStatus, Position, ProductRef, Quote,
    Underlying,
};
use strangle_core::sim::{QuoteRule, SimExchange};
use strangle_core::{Execution, MarketData};

use crate::exchange::DeltaExchange;

/// Paper trading: real quotes, simulated orders.
pub struct PaperExchange {
    data: DeltaExchange,
    venue: SimExchange,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PaperExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperExchange")
            .field("data", &self.data)
            .field("venue", &self.venue)
            .finish_non_exhaustive()
    }
}

impl PaperExchange {
    /// Paper trading on `data`'s market with `cash` USD and `fees`, by the wall clock.
    pub fn new(data: DeltaExchange, fees: FeeModel, cash: Decimal) -> Self {
        Self::with_clock(data, fees, cash, Arc::new(SystemClock))
    }

    /// Paper trading by the market's `clock` (a local market's, see
    /// `strangle_delta_runtime::market_clock`): expiries and settlements are judged by it.
    pub fn with_clock(
        data: DeltaExchange,
        fees: FeeModel,
        cash: Decimal,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            data,
            venue: SimExchange::new(clock.clone(), fees, cash),
            clock,
        }
    }

    /// Fills paper orders only against quotes no older than `rule` allows (the profile's
    /// `max_quote_age_secs`, see [`QuoteRule::of`]): an order on an older quote waits.
    pub fn with_quote_rule(self, rule: QuoteRule) -> Self {
        Self {
            venue: self.venue.with_quote_rule(rule),
            ..self
        }
    }

    /// The simulated venue holding the paper orders.
    pub fn venue(&self) -> &SimExchange {
        &self.venue
    }
}

#[async_trait]
impl MarketData for PaperExchange {
    async fn chain(&self, underlying: Underlying) -> Result<ChainSnapshot> {
        let c = self.data.chain(underlying).await?;
        self.venue.push_chain(c.clone());
        Ok(c)
    }

    async fn quotes(&self, symbols: &[strangle_core::ids::Symbol]) -> Result<Vec<Quote>> {
        let q = self.data.quotes(symbols).await?;
        self.venue.push_quotes(q.clone());
        Ok(q)
    }

    async fn spot(&self, underlying: Underlying) -> Result<Decimal> {
        self.data.spot(underlying).await
    }

    fn quote_source(&self) -> Option<strangle_core::exchange::QuoteSource> {
        self.data.quote_source()
    }
}

#[async_trait]
impl Execution for PaperExchange {
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
        self.venue.place_order(request).await
    }

    async fn cancel_order(
        &self,
        client_order_id: &strangle_core::ids::ClientOrderId,
        product_id: strangle_core::ids::ProductId,
    ) -> Result<OrderStatus> {
        self.venue.cancel_order(client_order_id, product_id).await
    }

    async fn order(
        &self,
        client_order_id: &strangle_core::ids::ClientOrderId,
    ) -> Result<Option<OrderStatus>> {
        self.venue.order(client_order_id).await
    }

    async fn positions(&self, underlying: Underlying) -> Result<Vec<Position>> {
        self.venue.positions(underlying).await
    }

    /// Contracts that expired while held are settled at the index price Delta published on
    /// the expired product; while it has not (or the product cannot be found), at the index
    /// price Delta reports now (an approximation: Delta settles on a 30-minute TWAP).
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
        let now = self.clock.now();
        let expired: Vec<_> = self
            .venue
            .contracts()
            .into_iter()
            .filter(|c| products.iter().any(|p| p.symbol == c.symbol) && c.expiry <= now)
            .collect();
        for u in [Underlying::Btc, Underlying::Eth] {
            if let Some(c) = expired.iter().find(|c| c.underlying == u) {
                let published = self
                    .data
                    .settlement_index(&ProductRef {
                        product_id: c.product_id,
                        symbol: c.symbol.clone(),
                    })
                    .await?;
                let index = match published {
                    Some(i) => i,
                    None => self.data.spot(u).await?,
                };
                self.venue.settle(u, c.expiry, index);
            }
        }
        self.venue.settlement_fills(products).await
    }
}
