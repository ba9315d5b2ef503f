//! The local server's view of the simulated venue, rendered in Delta's JSON shapes.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use strangle_core::model::{
    FeeModel, Fill as CoreFill, OptionContract, OptionKind, OrderState, OrderStatus, Quote,
    Side as CoreSide,
};

use crate::wire::{
    Asset, Fill, Greeks, Order, OrderType, Product, ProductSpecs, Side, Ticker, TickerQuotes,
};

fn dec(x: f64) -> Option<Decimal> {
    Decimal::from_f64(x).map(|d| d.round_dp(8))
}

fn contract_type(k: OptionKind) -> &'static str {
    match k {
        OptionKind::Call => "call_options",
        OptionKind::Put => "put_options",
    }
}

/// A listed contract as a Delta product.
pub fn product(c: &OptionContract, fees: &FeeModel) -> Product {
    let hundred = Decimal::ONE_HUNDRED;
    Product {
        id: c.product_id,
        symbol: c.symbol.to_string(),
        contract_type: contract_type(c.kind).into(),
        strike_price: Some(c.strike),
        settlement_time: Some(c.expiry),
        state: "live".into(),
        trading_status: "operational".into(),
        contract_value: Some(c.contract_size),
        tick_size: Some(c.tick_size),
        taker_commission_rate: Some(fees.taker_rate_pct / hundred),
        maker_commission_rate: Some(fees.maker_rate_pct / hundred),
        settlement_price: None,
        product_specs: Some(ProductSpecs {
            premium_commission_rate: Some(fees.premium_cap_pct / hundred),
            settlement_index_price: None,
        }),
        underlying_asset: Some(Asset {
            id: None,
            symbol: c.underlying.to_string(),
        }),
        settling_asset: Some(Asset {
            id: Some(14),
            symbol: "USD".into(),
        }),
    }
}

/// A contract whose settlement time has passed, as Delta lists it with `states=expired`:
/// its settlement price and index once the market has settled it.
pub fn expired_product(c: &OptionContract, fees: &FeeModel, index: Option<Decimal>) -> Product {
    let mut p = product(c, fees);
    p.state = "expired".into();
    p.settlement_price = index.map(|i| c.intrinsic(i));
    if let Some(specs) = p.product_specs.as_mut() {
        specs.settlement_index_price = index;
    }
    p
}

/// A quote as a Delta ticker.
pub fn ticker(c: &OptionContract, q: &Quote) -> Ticker {
    Ticker {
        symbol: c.symbol.to_string(),
        product_id: Some(c.product_id),
        contract_type: contract_type(c.kind).into(),
        strike_price: Some(c.strike),
        underlying_asset_symbol: Some(c.underlying.to_string()),
        timestamp: Some(q.timestamp.timestamp_micros()),
        mark_price: Some(q.mark),
        mark_vol: q.mark_iv.and_then(dec),
        spot_price: q.spot,
        quotes: Some(TickerQuotes {
            best_bid: q.bid,
            best_ask: q.ask,
            bid_size: q.bid.map(|_| q.bid_size),
            ask_size: q.ask.map(|_| q.ask_size),
            bid_iv: q.bid_iv.and_then(dec),
            ask_iv: q.ask_iv.and_then(dec),
            mark_iv: q.mark_iv.and_then(dec),
        }),
        greeks: q.greeks.map(|g| Greeks {
            delta: dec(g.delta),
            gamma: dec(g.gamma),
            theta: dec(g.theta),
            vega: dec(g.vega),
            rho: Some(Decimal::ZERO),
        }),
        oi_contracts: q.open_interest,
        oi: q.open_interest.map(|oi| oi * c.contract_size),
        contract_value: Some(c.contract_size),
        tick_size: Some(c.tick_size),
        price_band: None,
        size: Some(Decimal::ZERO),
        turnover_usd: Some(Decimal::ZERO),
    }
}

fn side(s: CoreSide) -> Side {
    match s {
        CoreSide::Buy => Side::Buy,
        CoreSide::Sell => Side::Sell,
    }
}

/// What the server remembers of an order beyond the venue's status.
#[derive(Debug, Clone)]
pub struct OrderMeta {
    /// Exchange id.
    pub id: u64,
    /// Product id.
    pub product_id: u64,
    /// Market or limit.
    pub order_type: OrderType,
    /// `gtc` / `ioc`.
    pub time_in_force: String,
    /// Reduce-only.
    pub reduce_only: bool,
    /// The client's id, if the client gave one.
    pub client_order_id: Option<String>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A venue order as a Delta order.
pub fn order(st: &OrderStatus, meta: &OrderMeta) -> Order {
    let filled = st.filled_size();
    let avg = (!filled.is_zero())
        .then(|| st.fills.iter().map(|f| f.price * f.size).sum::<Decimal>() / filled);
    Order {
        id: meta.id,
        user_id: Some(1),
        product_id: Some(meta.product_id),
        product_symbol: Some(st.symbol.to_string()),
        size: Some(st.size),
        unfilled_size: Some(st.size - filled),
        side: side(st.side),
        order_type: meta.order_type,
        limit_price: st.limit_price,
        time_in_force: Some(meta.time_in_force.clone()),
        reduce_only: Some(meta.reduce_only),
        client_order_id: meta.client_order_id.clone(),
        state: match st.state {
            OrderState::Open => "open",
            OrderState::Filled => "closed",
            OrderState::Cancelled | OrderState::Rejected => "cancelled",
        }
        .into(),
        average_fill_price: avg,
        paid_commission: Some(st.fees()),
        commission: Some(Decimal::ZERO),
        cancellation_reason: match st.state {
            OrderState::Cancelled | OrderState::Rejected => Some(
                st.reason
                    .clone()
                    .unwrap_or_else(|| "cancelled_by_user".into()),
            ),
            _ => None,
        },
        created_at: Some(meta.created_at),
    }
}

/// A venue fill as a Delta fill.
pub fn fill(f: &CoreFill, product_id: u64, order_id: Option<u64>, settlement: bool) -> Fill {
    Fill {
        id: Some(f.fill_id.clone()),
        size: Some(f.size),
        fill_type: if settlement { "settlement" } else { "normal" }.into(),
        side: Some(side(f.side)),
        price: Some(f.price),
        // The simulated venue does not record maker/taker per fill.
        role: None,
        commission: Some(f.fee),
        created_at: Some(f.timestamp),
        product_id: Some(product_id),
        product_symbol: Some(f.symbol.to_string()),
        order_id: order_id.map(|i| i.to_string()),
        client_order_id: f.client_order_id.as_ref().map(ToString::to_string),
    }
}
