//! `GET /v2/tickers` items and the L2 order book.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lenient::{decimal_opt, int_opt};

/// Best quotes and their IVs (all strings or null on the wire).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TickerQuotes {
    /// Best bid.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub best_bid: Option<Decimal>,
    /// Best ask.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub best_ask: Option<Decimal>,
    /// Contracts at the best bid.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bid_size: Option<Decimal>,
    /// Contracts at the best ask.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub ask_size: Option<Decimal>,
    /// Bid IV (0.45 = 45 %).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bid_iv: Option<Decimal>,
    /// Ask IV.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub ask_iv: Option<Decimal>,
    /// Mark IV.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub mark_iv: Option<Decimal>,
}

/// Greeks per one unit of underlying.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Greeks {
    /// Delta.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub delta: Option<Decimal>,
    /// Gamma.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub gamma: Option<Decimal>,
    /// Theta per day.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub theta: Option<Decimal>,
    /// Vega per vol point.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub vega: Option<Decimal>,
    /// Rho.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub rho: Option<Decimal>,
}

/// Allowed order price range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceBand {
    /// Lowest accepted price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub lower_limit: Option<Decimal>,
    /// Highest accepted price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub upper_limit: Option<Decimal>,
}

/// One ticker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticker {
    /// Product symbol.
    pub symbol: String,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// `call_options`, `put_options`, ...
    #[serde(default)]
    pub contract_type: String,
    /// Strike.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub strike_price: Option<Decimal>,
    /// Underlying symbol (`BTC`).
    #[serde(default)]
    pub underlying_asset_symbol: Option<String>,
    /// Time of the ticker, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub timestamp: Option<i64>,
    /// Mark price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub mark_price: Option<Decimal>,
    /// Mark volatility.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub mark_vol: Option<Decimal>,
    /// Underlying index.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub spot_price: Option<Decimal>,
    /// Quotes.
    #[serde(default)]
    pub quotes: Option<TickerQuotes>,
    /// Greeks (null for non-options).
    #[serde(default)]
    pub greeks: Option<Greeks>,
    /// Open interest in contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub oi_contracts: Option<Decimal>,
    /// Open interest in underlying.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub oi: Option<Decimal>,
    /// Underlying per contract (seen in 2026 India payloads).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub contract_value: Option<Decimal>,
    /// Tick size (seen in 2026 India payloads).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub tick_size: Option<Decimal>,
    /// Allowed price band.
    #[serde(default)]
    pub price_band: Option<PriceBand>,
    /// The product's trading status (`operational`, `disrupted_cancel_only`, ...): seen in
    /// India payloads, not in Delta's schema.
    #[serde(default)]
    pub product_trading_status: Option<String>,
    /// 24 h volume in contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
    /// 24 h turnover, USD.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub turnover_usd: Option<Decimal>,
}

/// One level of the L2 book.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct L2Level {
    /// Price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub price: Option<Decimal>,
    /// Contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
}

/// `GET /v2/l2orderbook/{symbol}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct L2Orderbook {
    /// Product symbol.
    #[serde(default)]
    pub symbol: String,
    /// Book time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub last_updated_at: Option<i64>,
    /// Bids, best first.
    #[serde(default)]
    pub buy: Vec<L2Level>,
    /// Asks, best first.
    #[serde(default)]
    pub sell: Vec<L2Level>,
}
