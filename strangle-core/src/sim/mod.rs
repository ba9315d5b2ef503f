//! The simulated venue: fills orders against the quotes it is fed.
//!
//! [`SimExchange`] keeps the latest [`ChainSnapshot`] per underlying, either pushed by the
//! caller ([`SimExchange::push_chain`]) or pulled from a [`MarketFeed`] up to the clock's
//! `now` on every call, so a backtest only has to advance the clock. Its fill model:
//!
//! - a sell crosses when its limit is at or below the best bid (a buy: at or above the ask)
//!   and fills at the quoted price as taker, up to the quoted size, which each snapshot makes
//!   available once (so repeated orders cannot take the same liquidity twice);
//! - the unfilled part of a GTC limit rests and fills at its limit price as maker when a
//!   later snapshot's bid/ask reaches it, again up to the quoted size;
//! - market and IOC orders cancel whatever cannot fill at once;
//! - reduce-only orders must reduce an existing position;
//! - fees come from the [`FeeModel`]; positions in contracts that reach their expiry are
//!   cash-settled at the index in force at the settlement instant: a snapshot stamped exactly
//!   then is applied first (its index settles), otherwise the last one before it. Settlement
//!   goes by the clock: it happens when the clock passes the expiry, whether or not a later
//!   snapshot ever comes, and [`Settlement::index_at`] says how old the index was;
//! - with a [`QuoteRule`] (backtests and sim mode set one from the profile's
//!   `max_quote_age_secs`), an order never fills against a quote older than the limit: it waits
//!   for a fresh one (market and IOC orders are cancelled unfilled), and the venue counts the
//!   orders that waited ([`QuoteStats`]). With [`StaleQuotes::Model`], an exit (an order that
//!   reduces a held position) on a stale quote is instead priced by Black-76 on that quote's
//!   mark IV, the current underlying and the time left, keeping the quote's last spread
//!   around the mark; such fills are counted too.

mod book;
pub mod synthetic;

pub use book::{BracketLeg, OrderEdit};

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::clock::Clock;
use crate::error::{Error, ExchangeErrorKind, Result};
use crate::exchange::{Execution, MarketData};
use crate::ids::{ClientOrderId, ProductId, Symbol};
use crate::model::{
    ChainSnapshot, FeeModel, Fill, OptionContract, OrderRequest, OrderStatus, Position, ProductRef,
    Quote, Underlying,
};

use book::Book;

/// A time-ordered source of chain snapshots (recorded or synthetic).
pub trait MarketFeed: Send {
    /// Time of the next snapshot, if any.
    fn peek_time(&mut self) -> Option<DateTime<Utc>>;
    /// Takes the next snapshot.
    fn next_snapshot(&mut self) -> Option<ChainSnapshot>;
    /// Called before snapshots up to `now` are taken: a feed may skip what lies far behind.
    fn advance_to(&mut self, _now: DateTime<Utc>) {}
}

/// Several feeds as one, in time order (the BTC and ETH chains of one market, say); at equal
/// times the earlier feed's snapshot comes first.
pub struct MergedFeed(Vec<Box<dyn MarketFeed>>);

impl MergedFeed {
    /// Merges `feeds`.
    pub fn new(feeds: Vec<Box<dyn MarketFeed>>) -> Self {
        Self(feeds)
    }

    fn next_index(&mut self) -> Option<usize> {
        let mut best: Option<(usize, DateTime<Utc>)> = None;
        for (i, f) in self.0.iter_mut().enumerate() {
            if let Some(t) = f.peek_time() {
                if best.is_none_or(|(_, b)| t < b) {
                    best = Some((i, t));
                }
            }
        }
        best.map(|(i, _)| i)
    }
}

impl MarketFeed for MergedFeed {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        self.0.iter_mut().filter_map(|f| f.peek_time()).min()
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        let i = self.next_index()?;
        self.0.get_mut(i)?.next_snapshot()
    }

    fn advance_to(&mut self, now: DateTime<Utc>) {
        for f in self.0.iter_mut() {
            f.advance_to(now);
        }
    }
}

/// A feed from snapshots already in memory (sorted by time on construction).
#[derive(Debug, Default)]
pub struct VecFeed {
    items: VecDeque<ChainSnapshot>,
}

impl VecFeed {
    /// Wraps snapshots; they are sorted by timestamp (stable for equal times).
    pub fn new(mut items: Vec<ChainSnapshot>) -> Self {
        items.sort_by_key(|c| c.timestamp);
        Self {
            items: items.into(),
        }
    }
}

impl VecFeed {
    /// Time of the last snapshot.
    pub fn last_time(&self) -> Option<DateTime<Utc>> {
        self.items.back().map(|c| c.timestamp)
    }
}

impl MarketFeed for VecFeed {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        self.items.front().map(|c| c.timestamp)
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        self.items.pop_front()
    }
}

/// A fault the simulated venue injects into order placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderFault {
    /// Reject every order for this symbol with this kind of error.
    RejectSymbol(String, ExchangeErrorKind),
}

/// What the simulated venue does with an order whose quote is older than the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleQuotes {
    /// The order waits for a fresh quote (the default: nothing fills on an old price).
    #[default]
    Wait,
    /// An exit is priced by Black-76 on the stale quote's mark IV and the current underlying
    /// (a modelling choice a backtest opts into; entries still wait).
    Model,
}

impl StaleQuotes {
    /// The name used by the CLI, Python and reports: `wait` or `model`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::Model => "model",
        }
    }

    /// The variant of a name given by [`StaleQuotes::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Wait, Self::Model]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// The venue's rule for old quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteRule {
    /// The oldest quote an order may fill against.
    pub max_age: chrono::Duration,
    /// What happens to an order whose quote is older.
    pub stale: StaleQuotes,
}

impl QuoteRule {
    /// The rule of a profile: its `liquidity.max_quote_age_secs`, orders waiting on older
    /// quotes.
    pub fn of(profile: &crate::profile::Profile) -> Self {
        Self {
            max_age: chrono::Duration::seconds(i64::from(profile.liquidity.max_quote_age_secs)),
            stale: StaleQuotes::Wait,
        }
    }
}

/// What the quote rule did over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuoteStats {
    /// Orders that found only a stale quote when they tried to fill (each counted once).
    pub orders_waited: usize,
    /// Fills priced by the model instead of a quote (fill ids).
    pub model_fills: Vec<String>,
}

/// A settlement that the venue carried out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settlement {
    /// Contract symbol.
    pub symbol: Symbol,
    /// Settlement instant.
    pub at: DateTime<Utc>,
    /// Index price used.
    pub index: Decimal,
    /// When that index was published (the snapshot it came from): at or before `at`; how
    /// much before is how stale the settlement price was.
    pub index_at: DateTime<Utc>,
    /// Signed contracts settled.
    pub size: Decimal,
    /// Cash paid (negative) or received, USD.
    pub cash: Decimal,
}

/// The simulated venue. Cheap to share: wrap it in an `Arc`.
pub struct SimExchange {
    clock: Arc<dyn Clock>,
    state: Mutex<Book>,
    feed: Mutex<Option<Box<dyn MarketFeed>>>,
}

impl std::fmt::Debug for SimExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimExchange").finish_non_exhaustive()
    }
}

impl SimExchange {
    /// Orders still open, by client id (the local market's open-order list).
    pub fn open_orders(&self) -> Vec<OrderStatus> {
        let b = self.sync();
        let mut v: Vec<_> = b
            .orders
            .values()
            .filter(|o| !o.status.state.is_terminal())
            .map(|o| o.status.clone())
            .collect();
        v.sort_by(|a, b| a.client_order_id.cmp(&b.client_order_id));
        v
    }

    /// A venue with no market yet, charging `fees`, with `cash` USD in the wallet.
    pub fn new(clock: Arc<dyn Clock>, fees: FeeModel, cash: Decimal) -> Self {
        Self {
            clock,
            state: Mutex::new(Book::new(fees, cash)),
            feed: Mutex::new(None),
        }
    }

    /// Pulls snapshots from `feed` as the clock passes their timestamps.
    pub fn with_feed(self, feed: Box<dyn MarketFeed>) -> Self {
        *self.feed.lock().unwrap_or_else(|e| e.into_inner()) = Some(feed);
        self
    }

    /// Applies a snapshot now: new quotes, resting orders matched, expiries settled.
    pub fn push_chain(&self, chain: ChainSnapshot) {
        self.book().apply(chain);
    }

    /// Updates the quotes of listed contracts (e.g. the legs, polled from a real venue) and
    /// matches resting orders against them. Quotes of unknown symbols are ignored.
    pub fn push_quotes(&self, quotes: Vec<Quote>) {
        self.book().apply_quotes(quotes);
    }

    /// Sets the rule for old quotes (none by default: every quote fills, as on an exchange).
    pub fn with_quote_rule(self, rule: QuoteRule) -> Self {
        self.book().rule = Some(rule);
        self
    }

    /// What the quote rule did so far.
    pub fn quote_stats(&self) -> QuoteStats {
        let b = self.book();
        QuoteStats {
            orders_waited: b.waited.len(),
            model_fills: b.model_fills.clone(),
        }
    }

    /// Injects a fault into order placement.
    pub fn inject(&self, fault: OrderFault) {
        self.book().faults.push(fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.book().faults.clear();
    }

    /// Every fill so far, in order.
    pub fn fills(&self) -> Vec<Fill> {
        self.book().fills.clone()
    }

    /// Every order request received, in order (including rejected ones).
    pub fn requests(&self) -> Vec<OrderRequest> {
        self.book().requests.clone()
    }

    /// Every contract the venue has listed, by symbol.
    pub fn contracts(&self) -> Vec<OptionContract> {
        let b = self.sync();
        let mut v = b.contracts();
        v.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        v
    }

    /// Every order the venue has accepted, oldest first.
    pub fn all_orders(&self) -> Vec<OrderStatus> {
        self.sync().orders_in_order()
    }

    /// The index price `symbol`'s expiry settled at, once it has (whether or not anything
    /// was held in it).
    pub fn settlement_index(&self, symbol: &str) -> Option<Decimal> {
        let b = self.sync();
        let c = b.contracts_get(symbol)?;
        b.expiries.get(&(c.underlying, c.expiry)).copied().flatten()
    }

    /// Settlements carried out so far.
    pub fn settlements(&self) -> Vec<Settlement> {
        self.book().settlements.clone()
    }

    /// Edits a working order in place (see Delta's `PUT /v2/orders` and [`OrderEdit`]).
    pub fn edit_order(&self, client_order_id: &str, edit: &OrderEdit) -> Result<OrderStatus> {
        let (mut book, now) = self.synced();
        book.edit(client_order_id, edit, now)
    }

    /// Places a bracket on the open position in `symbol` (see Delta's
    /// `POST /v2/orders/bracket`): a reduce-only stop loss and take profit for the whole
    /// position, one cancelling the other, both cancelled when the position closes; refused
    /// without a position or when one is already waiting on it. Returns the orders placed.
    pub fn place_bracket(
        &self,
        symbol: &Symbol,
        stop_loss: Option<(ClientOrderId, BracketLeg)>,
        take_profit: Option<(ClientOrderId, BracketLeg)>,
    ) -> Result<Vec<OrderStatus>> {
        let (mut book, now) = self.synced();
        book.place_bracket(symbol, stop_loss, take_profit, now)
    }

    /// Cash in the wallet, USD.
    pub fn cash(&self) -> Decimal {
        self.book().cash
    }

    /// Settles every open position expiring at or before `at` at `index` (for callers that
    /// know the official settlement price).
    pub fn settle(&self, underlying: Underlying, at: DateTime<Utc>, index: Decimal) {
        self.book().settle(underlying, at, index);
    }

    /// Applies every fed snapshot up to the clock's `now` (settling what expired) without
    /// asking for anything.
    pub fn catch_up(&self) {
        drop(self.sync());
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the market up to the clock: applies every fed snapshot not after `now`.
    fn sync(&self) -> std::sync::MutexGuard<'_, Book> {
        self.synced().0
    }

    /// [`Self::sync`], with the instant it brought the market to: the time an order placed
    /// or cancelled now happens at (read once, so nothing it does is stamped before a chain
    /// it already saw or after one it has not).
    fn synced(&self) -> (std::sync::MutexGuard<'_, Book>, DateTime<Utc>) {
        let now = self.clock.now();
        let mut book = self.book();
        let mut feed = self.feed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feed.as_mut() {
            feed.advance_to(now);
            while feed.peek_time().is_some_and(|t| t <= now) {
                if let Some(c) = feed.next_snapshot() {
                    book.apply(c);
                }
            }
        }
        book.now = book.now.max(Some(now));
        book.settle_by_clock(now);
        (book, now)
    }
}

#[async_trait]
impl MarketData for SimExchange {
    async fn chain(&self, underlying: Underlying) -> Result<ChainSnapshot> {
        let b = self.sync();
        let now = self.clock.now();
        let c = b.chain(underlying).ok_or_else(|| {
            Error::exchange(
                ExchangeErrorKind::NotFound,
                format!("no {underlying} market yet"),
            )
        })?;
        let mut c = c.clone();
        c.entries.retain(|e| e.contract.expiry > now);
        Ok(c)
    }

    async fn quotes(&self, symbols: &[Symbol]) -> Result<Vec<Quote>> {
        let now = self.clock.now();
        let b = self.sync();
        Ok(symbols
            .iter()
            .filter_map(|s| b.quote_for_holder(s, now))
            .collect())
    }

    async fn spot(&self, underlying: Underlying) -> Result<Decimal> {
        let b = self.sync();
        b.chain(underlying).map(|c| c.spot).ok_or_else(|| {
            Error::exchange(
                ExchangeErrorKind::NotFound,
                format!("no {underlying} market yet"),
            )
        })
    }
}

#[async_trait]
impl Execution for SimExchange {
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
        let (mut book, now) = self.synced();
        book.place(request, now)
    }

    async fn cancel_order(
        &self,
        client_order_id: &ClientOrderId,
        _product_id: ProductId,
    ) -> Result<OrderStatus> {
        let (mut book, now) = self.synced();
        book.cancel(client_order_id, now)
    }

    async fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<OrderStatus>> {
        Ok(self
            .sync()
            .orders
            .get(client_order_id)
            .map(|o| o.status.clone()))
    }

    async fn positions(&self, underlying: Underlying) -> Result<Vec<Position>> {
        let b = self.sync();
        let by_symbol: BTreeMap<_, _> = b.positions.iter().collect();
        Ok(by_symbol
            .into_iter()
            .filter(|(_, p)| !p.size.is_zero() && p.underlying == underlying)
            .map(|(sym, p)| Position {
                product_id: p.product_id,
                symbol: sym.clone(),
                size: p.size,
                entry_price: p.entry_price(),
            })
            .collect())
    }

    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
        let b = self.sync();
        Ok(b.fills
            .iter()
            .filter(|f| {
                f.fill_id.starts_with(book::SETTLEMENT_PREFIX)
                    && products.iter().any(|p| p.symbol == f.symbol)
            })
            .cloned()
            .collect())
    }
}
