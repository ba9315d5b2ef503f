//! The simulated venue's state and matching rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{OrderFault, QuoteRule, Settlement, StaleQuotes};
use crate::error::{Error, ExchangeErrorKind, Result};
use crate::ids::{ClientOrderId, ProductId, Symbol};
use crate::model::{
    ChainSnapshot, FeeModel, Fill, Greeks, OptionContract, OrderRequest, OrderState, OrderStatus,
    OrderType, Quote, Side, StopKind, StopOrder, StopTrigger, TimeInForce, Underlying,
};
use crate::pricing::black76;

/// Fill ids of settlements start with this.
pub(super) const SETTLEMENT_PREFIX: &str = "settle-";

pub(super) struct SimOrder {
    pub status: OrderStatus,
    seq: u64,
    remaining: Decimal,
    reduce_only: bool,
    /// A stop order's trigger (its level moves when it trails); `None` once triggered.
    stop: Option<StopOrder>,
    /// Whether the order works as a market order (a stop-market once triggered).
    market: bool,
}

pub(super) struct SimPosition {
    pub product_id: ProductId,
    pub underlying: Underlying,
    /// Signed contracts (negative = short).
    pub size: Decimal,
    /// Average entry price of the open contracts.
    avg: Decimal,
}

impl SimPosition {
    pub fn entry_price(&self) -> Option<Decimal> {
        (!self.size.is_zero()).then_some(self.avg)
    }
}

pub(super) struct Book {
    fees: FeeModel,
    pub cash: Decimal,
    pub now: Option<DateTime<Utc>>,
    chains: BTreeMap<Underlying, ChainSnapshot>,
    /// Symbol → (underlying, index into that chain's entries).
    index: HashMap<Symbol, (Underlying, usize)>,
    contracts: HashMap<Symbol, OptionContract>,
    pub orders: HashMap<ClientOrderId, SimOrder>,
    order_seq: u64,
    pub positions: HashMap<Symbol, SimPosition>,
    pub fills: Vec<Fill>,
    fill_seq: u64,
    pub requests: Vec<OrderRequest>,
    pub settlements: Vec<Settlement>,
    /// Every expiry listed so far, with the index it settled at once it has.
    pub expiries: BTreeMap<(Underlying, DateTime<Utc>), Option<Decimal>>,
    /// The earliest expiry not settled yet (`Some(None)`: none), or `None` when it must be
    /// looked up again: lets [`Book::settle_by_clock`] do nothing until an expiry is due.
    next_due: Option<Option<DateTime<Utc>>>,
    pub faults: Vec<OrderFault>,
    /// Liquidity already taken from the current snapshot: (from the bid, from the ask).
    used: HashMap<Symbol, (Decimal, Decimal)>,
    /// The rule for old quotes, if any.
    pub rule: Option<QuoteRule>,
    /// Orders that met only a stale quote.
    pub waited: BTreeSet<ClientOrderId>,
    /// Fills priced by the model (fill ids).
    pub model_fills: Vec<String>,
    /// The last traded price of each contract (what `last_traded_price` stops watch).
    last_trade: HashMap<Symbol, Decimal>,
    /// Orders linked one-cancels-other (a bracket's stop loss and take profit), each to the
    /// other.
    oco: HashMap<ClientOrderId, ClientOrderId>,
    /// Bracket orders: cancelled when their contract's position is closed.
    brackets: BTreeSet<ClientOrderId>,
}

/// What an edit of a working order changes (`None`: unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderEdit {
    /// New limit price.
    pub limit_price: Option<Decimal>,
    /// New total size.
    pub size: Option<Decimal>,
    /// New stop level (a stop still waiting).
    pub stop_price: Option<Decimal>,
    /// New trail (a stop loss still waiting).
    pub trail_amount: Option<Decimal>,
}

/// One side of a bracket: the stop it waits for and the price it then works at (`None`: a
/// market order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BracketLeg {
    /// Its trigger.
    pub stop: StopOrder,
    /// Its limit once triggered; `None` for a market order.
    pub limit_price: Option<Decimal>,
}

/// The price an order may fill against now.
enum FillQuote {
    /// A quote within the age limit (or any quote when there is no rule).
    Quoted(Quote),
    /// A model price standing in for a stale quote.
    Model(Quote),
    /// Only a stale quote: the order waits.
    Stale,
    /// No quote at all.
    Missing,
}

/// Seconds in the 365-day year of [`black76`].
const SECS_PER_YEAR: f64 = 365.0 * 86_400.0;

fn floor_to(p: Decimal, tick: Decimal) -> Decimal {
    if tick > Decimal::ZERO {
        (p / tick).floor() * tick
    } else {
        p
    }
}

fn ceil_to(p: Decimal, tick: Decimal) -> Decimal {
    if tick > Decimal::ZERO {
        (p / tick).ceil() * tick
    } else {
        p
    }
}

/// A refusal in Delta's terms: its kind, Delta's code for it, and the details.
fn reject(kind: ExchangeErrorKind, code: &str, msg: impl Into<String>) -> Error {
    Error::venue(kind, code, msg)
}

impl Book {
    pub fn new(fees: FeeModel, cash: Decimal) -> Self {
        Self {
            fees,
            cash,
            now: None,
            chains: BTreeMap::new(),
            index: HashMap::new(),
            contracts: HashMap::new(),
            orders: HashMap::new(),
            order_seq: 0,
            positions: HashMap::new(),
            fills: Vec::new(),
            fill_seq: 0,
            requests: Vec::new(),
            settlements: Vec::new(),
            expiries: BTreeMap::new(),
            next_due: None,
            faults: Vec::new(),
            used: HashMap::new(),
            rule: None,
            waited: BTreeSet::new(),
            model_fills: Vec::new(),
            last_trade: HashMap::new(),
            oco: HashMap::new(),
            brackets: BTreeSet::new(),
        }
    }

    pub fn chain(&self, u: Underlying) -> Option<&ChainSnapshot> {
        self.chains.get(&u)
    }

    pub fn contracts(&self) -> Vec<OptionContract> {
        self.contracts.values().cloned().collect()
    }

    pub fn contracts_get(&self, symbol: &str) -> Option<&OptionContract> {
        self.contracts.get(symbol)
    }

    pub fn orders_in_order(&self) -> Vec<OrderStatus> {
        let mut v: Vec<_> = self
            .orders
            .values()
            .map(|o| (o.seq, o.status.clone()))
            .collect();
        v.sort_by_key(|(seq, _)| *seq);
        v.into_iter().map(|(_, s)| s).collect()
    }

    pub fn quote(&self, symbol: &str) -> Option<&Quote> {
        let (u, i) = self.index.get(symbol)?;
        self.chains.get(u)?.entries.get(*i).map(|e| &e.quote)
    }

    /// Whether `q` is too old to fill against at `at` under the quote rule.
    fn is_stale(&self, q: &Quote, at: DateTime<Utc>) -> bool {
        self.rule.is_some_and(|r| at - q.timestamp > r.max_age)
    }

    /// Whether an order of `side` in `symbol` reduces a position the venue holds.
    fn reduces(&self, symbol: &str, side: Side) -> bool {
        let pos = self.positions.get(symbol).map_or(Decimal::ZERO, |p| p.size);
        match side {
            Side::Buy => pos < Decimal::ZERO,
            Side::Sell => pos > Decimal::ZERO,
        }
    }

    /// What an order of `side` in `symbol` fills against at `at`.
    fn fill_quote(&self, symbol: &str, side: Side, at: DateTime<Utc>) -> FillQuote {
        let Some(q) = self.quote(symbol) else {
            return FillQuote::Missing;
        };
        if !self.is_stale(q, at) {
            return FillQuote::Quoted(q.clone());
        }
        let model = self.rule.is_some_and(|r| r.stale == StaleQuotes::Model);
        match self.model_quote(q, at) {
            Some(m) if model && self.reduces(symbol, side) => FillQuote::Model(m),
            _ => FillQuote::Stale,
        }
    }

    /// The quote of `symbol` as the venue answers it at `now`: with [`StaleQuotes::Model`],
    /// a stale quote of a contract the venue holds a position in is replaced by its model
    /// price (what an exit would fill at); otherwise the stored quote, however old.
    pub fn quote_for_holder(&self, symbol: &str, now: DateTime<Utc>) -> Option<Quote> {
        let q = self.quote(symbol)?;
        let held = self
            .positions
            .get(symbol)
            .is_some_and(|p| !p.size.is_zero());
        let model = self.rule.is_some_and(|r| r.stale == StaleQuotes::Model);
        if model && held && self.is_stale(q, now) {
            if let Some(m) = self.model_quote(q, now) {
                return Some(m);
            }
        }
        Some(q.clone())
    }

    /// Black-76 price of `q`'s contract at `at`: the quote's mark IV, the underlying's
    /// latest index and the time left to expiry; bid and ask keep the quote's distance from
    /// its mark (rounded to the tick away from the mark). `None` without a mark IV.
    fn model_quote(&self, q: &Quote, at: DateTime<Utc>) -> Option<Quote> {
        use rust_decimal::prelude::ToPrimitive;
        let c = self.contracts.get(&q.symbol)?;
        let spot = self.chains.get(&c.underlying)?.spot;
        let iv = q.mark_iv.filter(|v| v.is_finite() && *v > 0.0)?;
        let years = (c.expiry - at).num_seconds() as f64 / SECS_PER_YEAR;
        let p = black76(c.kind, spot.to_f64()?, c.strike.to_f64()?, years, iv);
        let mark = Decimal::try_from(p.price).ok()?.round_dp(8);
        let ask = q
            .ask
            .map(|a| ceil_to(mark + (a - q.mark).max(Decimal::ZERO), c.tick_size))
            .filter(|a| *a > Decimal::ZERO)
            .or_else(|| q.ask.map(|_| c.tick_size));
        let bid = q
            .bid
            .map(|b| floor_to(mark - (q.mark - b).max(Decimal::ZERO), c.tick_size))
            .filter(|b| *b > Decimal::ZERO);
        Some(Quote {
            symbol: q.symbol.clone(),
            timestamp: at,
            mark,
            bid,
            bid_size: q.bid_size,
            ask,
            ask_size: q.ask_size,
            greeks: Some(Greeks {
                delta: p.delta,
                gamma: p.gamma,
                theta: p.theta,
                vega: p.vega,
            }),
            mark_iv: Some(iv),
            bid_iv: None,
            ask_iv: None,
            spot: Some(spot),
            open_interest: q.open_interest,
            price_band: q.price_band,
            trading_halt: q.trading_halt.clone(),
        })
    }

    /// Applies a new snapshot: settles what expired before it, then re-quotes and matches.
    pub fn apply(&mut self, chain: ChainSnapshot) {
        let u = chain.underlying;
        let t = chain.timestamp;
        // Contracts that expired before this snapshot settle at the index in force at their
        // expiry: the previous snapshot's (this one's when there is none). A snapshot at the
        // settlement instant itself is applied first: its index is the settlement price.
        let index = self
            .chains
            .get(&u)
            .map_or((chain.spot, t), |c| (c.spot, c.timestamp));
        let spot = chain.spot;
        self.settle_due(u, |expiry| expiry < t, index);
        // Recorded and synthetic chains usually list the same contracts in the same order
        // from one snapshot to the next: then the symbol index still holds.
        let same_listing = self.chains.get(&u).is_some_and(|old| {
            old.entries.len() == chain.entries.len()
                && old
                    .entries
                    .iter()
                    .zip(&chain.entries)
                    .all(|(a, b)| a.contract.symbol == b.contract.symbol)
        });
        if !same_listing {
            self.index.retain(|_, (uu, _)| *uu != u);
            for (i, e) in chain.entries.iter().enumerate() {
                self.index.insert(e.contract.symbol.clone(), (u, i));
                if !self.contracts.contains_key(&e.contract.symbol) {
                    self.contracts
                        .insert(e.contract.symbol.clone(), e.contract.clone());
                    self.expiries.entry((u, e.contract.expiry)).or_insert(None);
                }
            }
        }
        // A new snapshot brings fresh liquidity for every contract it quotes.
        if !self.used.is_empty() {
            for e in &chain.entries {
                self.used.remove(&e.contract.symbol);
            }
        }
        self.chains.insert(u, chain);
        self.settle_due(u, |expiry| expiry <= t, (spot, t));
        self.next_due = None;
        self.now = self.now.max(Some(t));
        self.match_resting(u, t);
    }

    /// Replaces the quotes of listed contracts (a partial update) and matches resting orders.
    pub fn apply_quotes(&mut self, quotes: Vec<Quote>) {
        let mut touched = Vec::new();
        for q in quotes {
            let Some((u, i)) = self.index.get(&q.symbol).copied() else {
                continue;
            };
            let Some(chain) = self.chains.get_mut(&u) else {
                continue;
            };
            let Some(e) = chain.entries.get_mut(i) else {
                continue;
            };
            if q.timestamp < e.quote.timestamp {
                continue;
            }
            if let Some(s) = q.spot {
                chain.spot = s;
            }
            chain.timestamp = chain.timestamp.max(q.timestamp);
            self.used.remove(&q.symbol);
            self.now = self.now.max(Some(q.timestamp));
            e.quote = q;
            if !touched.contains(&u) {
                touched.push(u);
            }
        }
        for u in touched {
            let t = self.chains.get(&u).map(|c| c.timestamp).unwrap_or_default();
            self.match_resting(u, t);
        }
    }

    fn match_resting(&mut self, u: Underlying, t: DateTime<Utc>) {
        self.trigger_stops(u, t);
        for id in self.orders_in(u, OrderState::Open) {
            self.cross(&id, t, false);
        }
    }

    /// Client ids of the orders of `u`'s contracts in `state`, oldest first.
    fn orders_in(&self, u: Underlying, state: OrderState) -> Vec<ClientOrderId> {
        let mut v: Vec<(u64, ClientOrderId)> = self
            .orders
            .iter()
            .filter(|(_, o)| o.status.state == state)
            .filter(|(_, o)| {
                self.contracts
                    .get(&o.status.symbol)
                    .is_some_and(|c| c.underlying == u)
            })
            .map(|(id, o)| (o.seq, id.clone()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    }

    /// The price a stop of `symbol` watches by `trigger` now.
    fn trigger_price(&self, symbol: &str, trigger: StopTrigger) -> Option<Decimal> {
        match trigger {
            StopTrigger::MarkPrice => self.quote(symbol).map(|q| q.mark),
            StopTrigger::LastTradedPrice => self
                .last_trade
                .get(symbol)
                .copied()
                .or_else(|| self.quote(symbol).map(|q| q.mark)),
            StopTrigger::SpotPrice => {
                let c = self.contracts.get(symbol)?;
                self.chains.get(&c.underlying).map(|ch| ch.spot)
            }
        }
    }

    /// Moves trailing stops of `u` after their trigger price and triggers every stop whose
    /// price has been reached: a buy stop at or above its level, a sell stop at or below. A
    /// triggered stop works at once as the order it carries (a reduce-only one cut to the
    /// position it can still reduce, or cancelled when there is none).
    fn trigger_stops(&mut self, u: Underlying, t: DateTime<Utc>) {
        for id in self.orders_in(u, OrderState::Pending) {
            let Some(o) = self.orders.get(&id) else {
                continue;
            };
            let Some(stop) = o.stop else { continue };
            let side = o.status.side;
            let Some(price) = self.trigger_price(&o.status.symbol, stop.trigger) else {
                continue;
            };
            let level = match (stop.trail_amount, side) {
                (Some(trail), Side::Buy) => stop.stop_price.min(price + trail),
                (Some(trail), Side::Sell) => stop.stop_price.max(price - trail),
                (None, _) => stop.stop_price,
            };
            let hit = stop.kind.hit(side, price, level);
            if let Some(o) = self.orders.get_mut(&id) {
                if let Some(s) = o.stop.as_mut() {
                    s.stop_price = level;
                }
            }
            if hit {
                self.trigger(&id, t);
            }
        }
    }

    /// Turns the pending stop `id` into a working order and fills what it can now.
    fn trigger(&mut self, id: &str, t: DateTime<Utc>) {
        if let Some(sibling) = self.oco.remove(id) {
            self.oco.remove(&sibling);
            self.cancel_pending(
                &sibling,
                "one-cancels-other: its bracket partner triggered",
                t,
            );
        }
        let Some(o) = self.orders.get(id) else { return };
        let (symbol, side, reduce_only) = (o.status.symbol.clone(), o.status.side, o.reduce_only);
        let reducible = self.reducible(&symbol, side);
        let Some(o) = self.orders.get_mut(id) else {
            return;
        };
        o.status.updated_at = t;
        if reduce_only && reducible <= Decimal::ZERO {
            o.status.state = OrderState::Cancelled;
            o.status.reason = Some("reduce_only: no position left to reduce".into());
            return;
        }
        if reduce_only {
            o.remaining = o.remaining.min(reducible);
        }
        o.status.state = OrderState::Open;
        self.cross(id, t, true);
        if let Some(o) = self.orders.get_mut(id) {
            if o.market && !o.status.state.is_terminal() {
                o.status.state = OrderState::Cancelled;
                o.status.reason = Some("market: unfilled part cancelled".into());
            }
        }
    }

    /// Contracts of `symbol` an order of `side` can reduce (zero when it would open or add).
    fn reducible(&self, symbol: &str, side: Side) -> Decimal {
        let pos = self.positions.get(symbol).map_or(Decimal::ZERO, |p| p.size);
        match side {
            Side::Buy => (-pos).max(Decimal::ZERO),
            Side::Sell => pos.max(Decimal::ZERO),
        }
    }

    /// Fills as much of order `id` as the current quote allows. `taker` orders fill at the
    /// quote; resting (maker) orders at their limit. A reduce-only order never fills beyond
    /// the position it reduces; one with nothing left to reduce is cancelled.
    fn cross(&mut self, id: &str, t: DateTime<Utc>, taker: bool) {
        let Some(o) = self.orders.get(id) else { return };
        let symbol = o.status.symbol.clone();
        let side = o.status.side;
        let limit = o.status.limit_price;
        let mut remaining = o.remaining;
        if o.reduce_only {
            let reducible = self.reducible(&symbol, side);
            if reducible <= Decimal::ZERO {
                if let Some(o) = self.orders.get_mut(id) {
                    o.status.state = OrderState::Cancelled;
                    o.status.reason = Some("reduce_only: no position left to reduce".into());
                    o.status.updated_at = t;
                }
                return;
            }
            remaining = remaining.min(reducible);
        }
        let (q, model) = match self.fill_quote(&symbol, side, t) {
            FillQuote::Quoted(q) => (q, false),
            FillQuote::Model(q) => (q, true),
            FillQuote::Stale => {
                if let Some(o) = self.orders.get(id) {
                    self.waited.insert(o.status.client_order_id.clone());
                }
                return;
            }
            FillQuote::Missing => return,
        };
        let used = self.used.get(&symbol).copied().unwrap_or_default();
        let (book_price, avail) = match side {
            Side::Sell => (q.bid, q.bid_size - used.0),
            Side::Buy => (q.ask, q.ask_size - used.1),
        };
        let Some(book_price) = book_price.filter(|p| *p > Decimal::ZERO) else {
            return;
        };
        let crosses = match (side, limit) {
            (_, None) => true,
            (Side::Sell, Some(l)) => l <= book_price,
            (Side::Buy, Some(l)) => l >= book_price,
        };
        let qty = remaining.min(avail.max(Decimal::ZERO));
        if !crosses || qty <= Decimal::ZERO {
            return;
        }
        let price = match (taker, limit) {
            (false, Some(l)) => l,
            _ => book_price,
        };
        let u = self.used.entry(symbol.clone()).or_default();
        match side {
            Side::Sell => u.0 += qty,
            Side::Buy => u.1 += qty,
        }
        self.fill(id, qty, price, taker, t);
        if model {
            self.model_fills.push(format!("sim-{}", self.fill_seq));
        }
    }

    fn fill(&mut self, id: &str, qty: Decimal, price: Decimal, taker: bool, t: DateTime<Utc>) {
        let Some(o) = self.orders.get_mut(id) else {
            return;
        };
        let Some(c) = self.contracts.get(&o.status.symbol) else {
            return;
        };
        let spot = self
            .chains
            .get(&c.underlying)
            .map_or(Decimal::ZERO, |ch| ch.spot);
        let fee = self.fees.fee(spot, price, c.contract_size, qty, taker);
        self.fill_seq += 1;
        let fill = Fill {
            fill_id: format!("sim-{}", self.fill_seq),
            client_order_id: Some(o.status.client_order_id.clone()),
            symbol: o.status.symbol.clone(),
            side: o.status.side,
            size: qty,
            price,
            fee,
            timestamp: t,
        };
        o.remaining -= qty;
        self.last_trade.insert(o.status.symbol.clone(), price);
        o.status.fills.push(fill.clone());
        o.status.updated_at = t;
        if o.remaining.is_zero() {
            o.status.state = OrderState::Filled;
        }
        let signed = match o.status.side {
            Side::Sell => -qty,
            Side::Buy => qty,
        };
        let cash_flow = -signed * price * c.contract_size - fee;
        self.cash += cash_flow;
        let p = self
            .positions
            .entry(o.status.symbol.clone())
            .or_insert(SimPosition {
                product_id: c.product_id,
                underlying: c.underlying,
                size: Decimal::ZERO,
                avg: Decimal::ZERO,
            });
        let new = p.size + signed;
        if p.size.is_zero() || p.size.is_sign_negative() == signed.is_sign_negative() {
            // Opening or adding: weighted average.
            p.avg = (p.avg * p.size.abs() + price * qty) / new.abs();
        } else if new.is_zero() {
            p.avg = Decimal::ZERO;
        } else if new.is_sign_negative() != p.size.is_sign_negative() {
            // Flipped through zero: the remainder opened at this price.
            p.avg = price;
        }
        p.size = new;
        let symbol = fill.symbol.clone();
        self.fills.push(fill);
        if new.is_zero() {
            self.end_brackets(&symbol, t);
        }
    }

    /// Cancels order `id` if it is a stop still waiting for its trigger.
    fn cancel_pending(&mut self, id: &str, reason: &str, t: DateTime<Utc>) {
        if let Some(o) = self.orders.get_mut(id) {
            if o.status.state == OrderState::Pending {
                o.status.state = OrderState::Cancelled;
                o.status.reason = Some(reason.into());
                o.status.updated_at = t;
            }
        }
    }

    /// Cancels the waiting bracket orders of `symbol`, whose position is closed.
    fn end_brackets(&mut self, symbol: &Symbol, t: DateTime<Utc>) {
        let ids: Vec<ClientOrderId> = self
            .brackets
            .iter()
            .filter(|id| {
                self.orders
                    .get(*id)
                    .is_some_and(|o| o.status.symbol == *symbol)
            })
            .cloned()
            .collect();
        for id in ids {
            self.brackets.remove(&id);
            self.oco.remove(&id);
            self.cancel_pending(&id, "bracket: the position is closed", t);
        }
    }

    /// A bracket on the open position in `symbol` (Delta's `POST /v2/orders/bracket`): a
    /// reduce-only stop loss and take profit (either may be left out) for the whole position,
    /// on the side that closes it, one cancelling the other, both cancelled when the position
    /// closes. Refused without a position, or when the position already has a bracket
    /// waiting: Delta allows one bracket per open position.
    pub fn place_bracket(
        &mut self,
        symbol: &Symbol,
        stop_loss: Option<(ClientOrderId, BracketLeg)>,
        take_profit: Option<(ClientOrderId, BracketLeg)>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OrderStatus>> {
        let Some(c) = self.contracts.get(symbol) else {
            return Err(reject(
                ExchangeErrorKind::NotFound,
                "invalid_contract",
                format!("no product {symbol}"),
            ));
        };
        let product_id = c.product_id;
        let pos = self.positions.get(symbol).map_or(Decimal::ZERO, |p| p.size);
        if pos.is_zero() {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "no_position_for_bracket_order",
                format!("no open position in {symbol} to attach a bracket to"),
            ));
        }
        let waiting = self.brackets.iter().any(|id| {
            self.orders.get(id).is_some_and(|o| {
                o.status.symbol == *symbol && o.status.state == OrderState::Pending
            })
        });
        if waiting {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "bracket_order_position_exists",
                format!("the position in {symbol} already has a bracket order"),
            ));
        }
        if stop_loss.is_none() && take_profit.is_none() {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "bad_schema",
                "a bracket needs a stop_loss_order, a take_profit_order or both",
            ));
        }
        for (leg, kind) in [
            (&stop_loss, StopKind::StopLoss),
            (&take_profit, StopKind::TakeProfit),
        ] {
            if leg.as_ref().is_some_and(|(_, l)| l.stop.kind != kind) {
                return Err(reject(
                    ExchangeErrorKind::Rejected,
                    "bad_schema",
                    format!("the bracket's {} leg must be one", kind.name()),
                ));
            }
        }
        let side = if pos < Decimal::ZERO {
            Side::Buy
        } else {
            Side::Sell
        };
        let mut ids: Vec<ClientOrderId> = Vec::new();
        for (id, leg) in [stop_loss, take_profit].into_iter().flatten() {
            let req = OrderRequest {
                client_order_id: id.clone(),
                product_id,
                symbol: symbol.clone(),
                side,
                size: pos.abs(),
                order_type: if leg.limit_price.is_some() {
                    OrderType::Limit
                } else {
                    OrderType::Market
                },
                limit_price: leg.limit_price,
                time_in_force: TimeInForce::Gtc,
                reduce_only: true,
                stop: Some(leg.stop),
            };
            if let Err(e) = self.place(&req, now) {
                // All or nothing: a leg already placed goes with the refused one.
                for placed in &ids {
                    self.cancel_pending(placed, "bracket: its other leg was refused", now);
                }
                return Err(e);
            }
            self.brackets.insert(id.clone());
            ids.push(id);
        }
        if let [a, b] = &ids[..] {
            self.oco.insert(a.clone(), b.clone());
            self.oco.insert(b.clone(), a.clone());
            // One already triggered on placement: the other has nothing left to do.
            for (x, y) in [(a, b), (b, a)] {
                let triggered = self
                    .orders
                    .get(x)
                    .is_some_and(|o| o.status.state != OrderState::Pending);
                if triggered {
                    self.oco.remove(x);
                    self.oco.remove(y);
                    self.cancel_pending(y, "one-cancels-other: its bracket partner triggered", now);
                }
            }
        }
        Ok(ids
            .iter()
            .filter_map(|id| self.orders.get(id).map(|o| o.status.clone()))
            .collect())
    }

    pub fn place(&mut self, req: &OrderRequest, now: DateTime<Utc>) -> Result<OrderStatus> {
        self.requests.push(req.clone());
        let id = &req.client_order_id;
        if id.is_empty() || id.len() > 32 {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "bad_schema",
                "client_order_id must be 1 to 32 characters",
            ));
        }
        if self.orders.contains_key(id) {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "duplicate_client_order_id",
                format!("{id} was used before"),
            ));
        }
        for f in &self.faults {
            let OrderFault::RejectSymbol(sym, kind) = f;
            if *sym == req.symbol {
                let code = match kind {
                    ExchangeErrorKind::InsufficientMargin => "insufficient_margin",
                    ExchangeErrorKind::NotFound => "invalid_contract",
                    _ => "order_rejected",
                };
                return Err(reject(
                    *kind,
                    code,
                    format!("injected fault: {kind} for {sym}"),
                ));
            }
        }
        let Some(c) = self.contracts.get(&req.symbol) else {
            return Err(reject(
                ExchangeErrorKind::NotFound,
                "invalid_contract",
                req.symbol.to_string(),
            ));
        };
        if c.expiry <= now {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "invalid_contract",
                format!("{} has expired", req.symbol),
            ));
        }
        if req.size <= Decimal::ZERO || !req.size.fract().is_zero() {
            return Err(reject(
                ExchangeErrorKind::Rejected,
                "bad_schema",
                "size must be a positive whole number",
            ));
        }
        match (req.order_type, req.limit_price) {
            (OrderType::Limit, Some(p)) if p > Decimal::ZERO => {}
            (OrderType::Market, None) => {}
            _ => {
                return Err(reject(
                    ExchangeErrorKind::Rejected,
                    "bad_schema",
                    "limit orders need a positive limit_price, market orders none",
                ))
            }
        }
        if req.reduce_only {
            let pos = self
                .positions
                .get(&req.symbol)
                .map_or(Decimal::ZERO, |p| p.size);
            let reduces = match req.side {
                Side::Buy => pos < Decimal::ZERO && req.size <= -pos,
                Side::Sell => pos > Decimal::ZERO && req.size <= pos,
            };
            if !reduces {
                return Err(reject(
                    ExchangeErrorKind::Rejected,
                    "no_position_for_reduce_only",
                    format!(
                        "position {pos}, order {} {}",
                        match req.side {
                            Side::Buy => "buy",
                            Side::Sell => "sell",
                        },
                        req.size
                    ),
                ));
            }
        }
        if let Some(stop) = &req.stop {
            let trail_ok = stop.trail_amount.is_none_or(|t| t > Decimal::ZERO);
            if stop.stop_price <= Decimal::ZERO || !trail_ok {
                return Err(reject(
                    ExchangeErrorKind::Rejected,
                    "bad_schema",
                    "a stop order needs a positive stop_price (and trail_amount, if any)",
                ));
            }
            if stop.kind == StopKind::TakeProfit && stop.trail_amount.is_some() {
                return Err(reject(
                    ExchangeErrorKind::Rejected,
                    "bad_schema",
                    "a take-profit order does not trail",
                ));
            }
        }
        self.order_seq += 1;
        let tif = if req.order_type == OrderType::Market && req.stop.is_none() {
            TimeInForce::Ioc
        } else {
            req.time_in_force
        };
        let status = OrderStatus {
            client_order_id: id.clone(),
            exchange_order_id: format!("{}", 1_000_000 + self.order_seq),
            symbol: req.symbol.clone(),
            side: req.side,
            size: req.size,
            limit_price: req.limit_price,
            state: if req.stop.is_some() {
                OrderState::Pending
            } else {
                OrderState::Open
            },
            fills: Vec::new(),
            reason: None,
            updated_at: now,
        };
        self.orders.insert(
            id.clone(),
            SimOrder {
                status,
                seq: self.order_seq,
                remaining: req.size,
                reduce_only: req.reduce_only,
                stop: req.stop,
                market: req.order_type == OrderType::Market,
            },
        );
        if req.stop.is_some() {
            // A stop whose price is already reached triggers at once.
            if let Some(c) = self.contracts.get(&req.symbol) {
                let u = c.underlying;
                self.trigger_stops(u, now);
            }
            return self
                .orders
                .get(id)
                .map(|o| o.status.clone())
                .ok_or_else(|| {
                    Error::exchange(ExchangeErrorKind::InvalidResponse, "order vanished")
                });
        }
        self.cross(id, now, true);
        let o = self
            .orders
            .get_mut(id)
            .ok_or_else(|| Error::exchange(ExchangeErrorKind::InvalidResponse, "order vanished"))?;
        if tif == TimeInForce::Ioc && !o.status.state.is_terminal() {
            o.status.state = OrderState::Cancelled;
            o.status.reason = Some(if self.waited.contains(id) {
                "ioc: no quote within the age limit; unfilled part cancelled".into()
            } else {
                "ioc: unfilled part cancelled".into()
            });
        }
        Ok(o.status.clone())
    }

    /// Edits a working order in place (Delta's `PUT /v2/orders`): its limit price, its size
    /// (not below what has filled), and for a stop still waiting, its level and trail. An
    /// open order crosses again at its new price; a stop whose new level is reached
    /// triggers. What is not given stays.
    pub fn edit(&mut self, id: &str, edit: &OrderEdit, now: DateTime<Utc>) -> Result<OrderStatus> {
        let refuse = |m: String| Err(reject(ExchangeErrorKind::Rejected, "bad_schema", m));
        let Some(o) = self
            .orders
            .get(id)
            .filter(|o| !o.status.state.is_terminal())
        else {
            return Err(reject(
                ExchangeErrorKind::NotFound,
                "open_order_not_found",
                id.to_string(),
            ));
        };
        let filled = o.status.filled_size();
        if edit.size.is_some_and(|s| s <= Decimal::ZERO || s < filled) {
            return refuse(format!(
                "size must be above 0 and at least the {filled} filled"
            ));
        }
        if edit.limit_price.is_some_and(|p| p <= Decimal::ZERO) {
            return refuse("limit_price must be above 0".into());
        }
        if o.market && edit.limit_price.is_some() {
            return refuse("a market order has no limit_price to edit".into());
        }
        let stop_edit = edit.stop_price.is_some() || edit.trail_amount.is_some();
        match o.stop {
            None if stop_edit => {
                return refuse("stop_price and trail_amount edit stop orders only".into())
            }
            Some(st) if st.kind == StopKind::TakeProfit && edit.trail_amount.is_some() => {
                return refuse("a take-profit order does not trail".into())
            }
            _ => {}
        }
        if edit.stop_price.is_some_and(|p| p <= Decimal::ZERO)
            || edit.trail_amount.is_some_and(|t| t <= Decimal::ZERO)
        {
            return refuse("stop_price and trail_amount must be above 0".into());
        }
        let Some(c) = self.contracts.get(&o.status.symbol) else {
            return refuse(format!("no product {}", o.status.symbol));
        };
        let u = c.underlying;
        let pending = o.status.state == OrderState::Pending;
        let Some(o) = self.orders.get_mut(id) else {
            return refuse(format!("no order {id}"));
        };
        if let Some(size) = edit.size {
            o.remaining = size - filled;
            o.status.size = size;
        }
        if let Some(p) = edit.limit_price {
            o.status.limit_price = Some(p);
        }
        if let Some(st) = o.stop.as_mut() {
            if let Some(p) = edit.stop_price {
                st.stop_price = p;
            }
            if let Some(t) = edit.trail_amount {
                st.trail_amount = Some(t);
            }
        }
        o.status.updated_at = now;
        if o.remaining.is_zero() {
            o.status.state = OrderState::Filled;
        }
        if pending {
            self.trigger_stops(u, now);
        } else if !self
            .orders
            .get(id)
            .is_some_and(|o| o.status.state.is_terminal())
        {
            self.cross(id, now, true);
        }
        self.orders
            .get(id)
            .map(|o| o.status.clone())
            .ok_or_else(|| Error::exchange(ExchangeErrorKind::InvalidResponse, "order vanished"))
    }

    pub fn cancel(&mut self, id: &str, now: DateTime<Utc>) -> Result<OrderStatus> {
        match self.orders.get_mut(id) {
            Some(o) if !o.status.state.is_terminal() => {
                o.status.state = OrderState::Cancelled;
                o.status.reason = Some("cancelled_by_user".into());
                o.status.updated_at = now;
                Ok(o.status.clone())
            }
            _ => Err(reject(
                ExchangeErrorKind::NotFound,
                "open_order_not_found",
                id.to_string(),
            )),
        }
    }

    /// Cash-settles every position of `u` whose contract expires at or before `at`, at an
    /// index published at `at`.
    pub fn settle(&mut self, u: Underlying, at: DateTime<Utc>, index: Decimal) {
        self.settle_due(u, |expiry| expiry <= at, (index, at));
        self.next_due = None;
    }

    /// Settles by the clock: every expiry at or before `now` that no later snapshot has
    /// settled settles at the index of the last snapshot (which is at or before the expiry,
    /// or that snapshot would have settled it), whether or not another snapshot ever comes.
    pub fn settle_by_clock(&mut self, now: DateTime<Utc>) {
        let next = match self.next_due {
            Some(n) => n,
            None => {
                let n = self
                    .expiries
                    .iter()
                    .filter(|(_, settled)| settled.is_none())
                    .map(|((_, e), _)| *e)
                    .min();
                self.next_due = Some(n);
                n
            }
        };
        if next.is_none_or(|t| t > now) {
            return;
        }
        self.next_due = None;
        let last: Vec<_> = self
            .chains
            .iter()
            .map(|(u, c)| (*u, c.spot, c.timestamp))
            .collect();
        for (u, spot, at) in last {
            self.settle_due(u, |expiry| expiry <= now, (spot, at));
        }
    }

    /// Cash-settles every open position of `u` whose expiry satisfies `due` at `index`, an
    /// index price and the time it was published.
    fn settle_due(
        &mut self,
        u: Underlying,
        is_due: impl Fn(DateTime<Utc>) -> bool,
        (index, index_at): (Decimal, DateTime<Utc>),
    ) {
        for ((uu, expiry), settled) in self.expiries.iter_mut() {
            if *uu == u && settled.is_none() && is_due(*expiry) {
                *settled = Some(index);
            }
        }
        let mut due: Vec<Symbol> = self
            .positions
            .iter()
            .filter(|(_, p)| p.underlying == u && !p.size.is_zero())
            .filter(|(s, _)| self.contracts.get(*s).is_some_and(|c| is_due(c.expiry)))
            .map(|(s, _)| s.clone())
            .collect();
        due.sort();
        for sym in due {
            let (Some(c), Some(p)) = (self.contracts.get(&sym), self.positions.get_mut(&sym))
            else {
                continue;
            };
            let value = c.intrinsic(index);
            let fee = self
                .fees
                .settlement_fee(index, value, c.contract_size, p.size);
            let cash = p.size * value * c.contract_size;
            self.cash += cash - fee;
            self.settlements.push(Settlement {
                symbol: sym.clone(),
                at: c.expiry,
                index,
                index_at,
                size: p.size,
                cash,
            });
            self.fill_seq += 1;
            self.fills.push(Fill {
                fill_id: format!("{SETTLEMENT_PREFIX}{}", self.fill_seq),
                client_order_id: None,
                symbol: sym.clone(),
                side: if p.size < Decimal::ZERO {
                    Side::Buy
                } else {
                    Side::Sell
                },
                size: p.size.abs(),
                price: value,
                fee,
                timestamp: c.expiry,
            });
            p.size = Decimal::ZERO;
            p.avg = Decimal::ZERO;
        }
        // Orders in expired contracts die with them.
        for o in self.orders.values_mut() {
            if !o.status.state.is_terminal()
                && self
                    .contracts
                    .get(&o.status.symbol)
                    .is_some_and(|c| is_due(c.expiry) && c.underlying == u)
            {
                o.status.state = OrderState::Cancelled;
                o.status.reason = Some("contract expired".into());
            }
        }
    }
}
