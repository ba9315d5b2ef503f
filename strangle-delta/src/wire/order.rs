//! Orders and fills.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lenient::{bool_opt, decimal_opt, id_opt, int_opt, time_opt};

/// `buy` or `sell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy.
    #[default]
    Buy,
    /// Sell.
    Sell,
}

/// `limit_order` or `market_order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// A limit order.
    #[default]
    LimitOrder,
    /// A market order.
    MarketOrder,
}

/// Body of `POST /v2/orders`, fields in the order they are sent and signed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateOrder {
    /// Product id (one of this or `product_symbol`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<u64>,
    /// Product symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_symbol: Option<String>,
    /// Contracts.
    #[serde(deserialize_with = "int_req")]
    pub size: i64,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    #[serde(default)]
    pub order_type: OrderType,
    /// Limit price as a string.
    #[serde(
        default,
        deserialize_with = "decimal_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_price: Option<Decimal>,
    /// `gtc` or `ioc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_force: Option<String>,
    /// `"true"` / `"false"`.
    #[serde(
        default,
        deserialize_with = "bool_opt",
        serialize_with = "bool_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub post_only: Option<bool>,
    /// `"true"` / `"false"`.
    #[serde(
        default,
        deserialize_with = "bool_opt",
        serialize_with = "bool_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub reduce_only: Option<bool>,
    /// Our id, at most 32 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<String>,
    /// `stop_loss_order` or `take_profit_order`: makes it a stop order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_order_type: Option<String>,
    /// The stop's trigger level, as a string.
    #[serde(
        default,
        deserialize_with = "decimal_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_price: Option<Decimal>,
    /// A trailing stop's distance, as a string.
    #[serde(
        default,
        deserialize_with = "decimal_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub trail_amount: Option<Decimal>,
    /// `mark_price` (Delta's default), `last_traded_price` or `spot_price`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_trigger_method: Option<String>,
}

fn bool_str<S: serde::Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(true) => s.serialize_str("true"),
        Some(false) => s.serialize_str("false"),
        None => s.serialize_none(),
    }
}

fn int_req<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    int_opt(d)?.ok_or_else(|| serde::de::Error::custom("size is required"))
}

/// Body of `DELETE /v2/orders`: by id or by client id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelOrder {
    /// Exchange order id.
    #[serde(
        default,
        deserialize_with = "int_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<i64>,
    /// Client order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<String>,
    /// Product id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<u64>,
}

/// An order as Delta reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Exchange order id (can exceed 2³²).
    #[serde(deserialize_with = "u64_req")]
    pub id: u64,
    /// Owner.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol.
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// Ordered contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
    /// Contracts not yet filled.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub unfilled_size: Option<Decimal>,
    /// `buy` / `sell`.
    pub side: Side,
    /// Limit or market.
    #[serde(default)]
    pub order_type: OrderType,
    /// Limit price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub limit_price: Option<Decimal>,
    /// `gtc` / `ioc`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Reduce-only flag.
    #[serde(default, deserialize_with = "bool_opt")]
    pub reduce_only: Option<bool>,
    /// Our id.
    #[serde(default)]
    pub client_order_id: Option<String>,
    /// `open`, `pending`, `closed`, `cancelled`.
    #[serde(default)]
    pub state: String,
    /// Average fill price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub average_fill_price: Option<Decimal>,
    /// Fees charged so far.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub paid_commission: Option<Decimal>,
    /// Fee blocked for the unfilled part.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub commission: Option<Decimal>,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// `stop_loss_order` / `take_profit_order` for a stop order.
    #[serde(default)]
    pub stop_order_type: Option<String>,
    /// A stop order's trigger level.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub stop_price: Option<Decimal>,
    /// What the stop watches.
    #[serde(default)]
    pub stop_trigger_method: Option<String>,
    /// A trailing stop's distance.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub trail_amount: Option<Decimal>,
    /// Creation time (ISO or µs string).
    #[serde(default, deserialize_with = "time_opt")]
    pub created_at: Option<DateTime<Utc>>,
}

fn u64_req<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = int_opt(d)?.ok_or_else(|| serde::de::Error::custom("id is required"))?;
    u64::try_from(v).map_err(|_| serde::de::Error::custom("id must not be negative"))
}

/// A fill (`GET /v2/fills`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// Fill id (hex string or integer on the wire).
    #[serde(default, deserialize_with = "id_opt")]
    pub id: Option<String>,
    /// Contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
    /// `normal`, `settlement`, `adl`, `liquidation`, ...
    #[serde(default)]
    pub fill_type: String,
    /// `buy` / `sell`.
    pub side: Option<Side>,
    /// Price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub price: Option<Decimal>,
    /// `maker` / `taker`.
    #[serde(default)]
    pub role: Option<String>,
    /// Fee (negative = rebate).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub commission: Option<Decimal>,
    /// Time of the fill.
    #[serde(default, deserialize_with = "time_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol.
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// Order id (a UUID for settlement fills).
    #[serde(default, deserialize_with = "id_opt")]
    pub order_id: Option<String>,
    /// Client order id of the order, when Delta includes it.
    #[serde(default)]
    pub client_order_id: Option<String>,
}

/// One side of a bracket (`stop_loss_order`, `take_profit_order` of
/// `POST /v2/orders/bracket`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BracketSide {
    /// `limit_order` or `market_order` once triggered (unset: a limit order when a
    /// `limit_price` is given).
    #[serde(default)]
    pub order_type: Option<OrderType>,
    /// The trigger level.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub stop_price: Option<Decimal>,
    /// The limit once triggered (limit orders).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub limit_price: Option<Decimal>,
    /// A trailing stop loss's distance.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub trail_amount: Option<Decimal>,
}

/// Body of `POST /v2/orders/bracket`: a stop loss and take profit for a whole open position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateBracket {
    /// Product id (or `product_symbol`).
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol (or `product_id`).
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// The stop loss.
    #[serde(default)]
    pub stop_loss_order: Option<BracketSide>,
    /// The take profit.
    #[serde(default)]
    pub take_profit_order: Option<BracketSide>,
    /// `mark_price`, `last_traded_price` or `spot_price`, for both sides.
    #[serde(default)]
    pub bracket_stop_trigger_method: Option<String>,
}

/// Body of `PUT /v2/orders/bracket`: new bracket prices for the order `id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EditBracket {
    /// The order carrying the bracket.
    #[serde(default, deserialize_with = "int_opt")]
    pub id: Option<i64>,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol.
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// The stop loss's trigger.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bracket_stop_loss_price: Option<Decimal>,
    /// The stop loss's limit.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bracket_stop_loss_limit_price: Option<Decimal>,
    /// The take profit's trigger.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bracket_take_profit_price: Option<Decimal>,
    /// The take profit's limit.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bracket_take_profit_limit_price: Option<Decimal>,
    /// The stop loss's trail.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bracket_trail_amount: Option<Decimal>,
    /// The trigger price both watch.
    #[serde(default)]
    pub bracket_stop_trigger_method: Option<String>,
}

/// Body of `PUT /v2/orders`: a working order edited in place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EditOrder {
    /// The order.
    #[serde(default, deserialize_with = "int_opt")]
    pub id: Option<i64>,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol.
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// New limit price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub limit_price: Option<Decimal>,
    /// New size.
    #[serde(default, deserialize_with = "int_opt")]
    pub size: Option<i64>,
    /// New stop level.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub stop_price: Option<Decimal>,
    /// New trail.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub trail_amount: Option<Decimal>,
}
