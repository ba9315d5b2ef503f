//! Orders, their states, fills, positions and balances.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{ClientOrderId, ProductId, Symbol};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy (closes a short leg).
    Buy,
    /// Sell (opens a short leg).
    Sell,
}

/// Limit or market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Rests at or better than `limit_price`.
    Limit,
    /// Takes whatever the book offers now.
    Market,
}

/// How long an order may rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: the unfilled part is cancelled at once.
    Ioc,
}

/// The price a stop order watches (Delta's `stop_trigger_method`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StopTrigger {
    /// The contract's mark price (Delta's default).
    #[default]
    MarkPrice,
    /// The contract's last traded price.
    LastTradedPrice,
    /// The underlying's index price.
    SpotPrice,
}

impl StopTrigger {
    /// Delta's name: `mark_price`, `last_traded_price` or `spot_price`.
    pub fn name(self) -> &'static str {
        match self {
            Self::MarkPrice => "mark_price",
            Self::LastTradedPrice => "last_traded_price",
            Self::SpotPrice => "spot_price",
        }
    }

    /// The variant of a name given by [`StopTrigger::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::MarkPrice, Self::LastTradedPrice, Self::SpotPrice]
            .into_iter()
            .find(|t| t.name() == name)
    }
}

/// Which way a stop order triggers (Delta's `stop_order_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// `stop_loss_order`: a buy triggers when the price rises to the level, a sell when it
    /// falls to it (the price moving against a position the order closes).
    #[default]
    StopLoss,
    /// `take_profit_order`: a buy triggers when the price falls to the level, a sell when it
    /// rises to it (the price moving in the position's favour). Never trails.
    TakeProfit,
}

impl StopKind {
    /// Delta's name: `stop_loss_order` or `take_profit_order`.
    pub fn name(self) -> &'static str {
        match self {
            Self::StopLoss => "stop_loss_order",
            Self::TakeProfit => "take_profit_order",
        }
    }

    /// The variant of a name given by [`StopKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::StopLoss, Self::TakeProfit]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// Whether a stop of this kind on the `side` given triggers with the price at `price`
    /// and its level at `level`.
    pub fn hit(self, side: Side, price: Decimal, level: Decimal) -> bool {
        match (self, side) {
            (Self::StopLoss, Side::Buy) | (Self::TakeProfit, Side::Sell) => price >= level,
            (Self::StopLoss, Side::Sell) | (Self::TakeProfit, Side::Buy) => price <= level,
        }
    }
}

/// What turns an order into a stop order: it rests untriggered ([`OrderState::Pending`])
/// until the trigger price reaches `stop_price` (a stop loss: at or above it for a buy, at or
/// below it for a sell; a take profit the other way), then works as the limit or market order
/// it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StopOrder {
    /// The trigger level.
    pub stop_price: Decimal,
    /// The price that is compared with it.
    #[serde(default)]
    pub trigger: StopTrigger,
    /// A trailing stop: the level follows the trigger price at this distance, only ever
    /// towards it (down for a buy, up for a sell).
    #[serde(default)]
    pub trail_amount: Option<Decimal>,
    /// Stop loss (the default) or take profit.
    #[serde(default)]
    pub kind: StopKind,
}

/// What the strategy asks the venue to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRequest {
    /// Deterministic id derived from session, leg, purpose and attempt.
    pub client_order_id: ClientOrderId,
    /// Venue product id.
    pub product_id: ProductId,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Contracts.
    pub size: Decimal,
    /// Limit or market.
    pub order_type: OrderType,
    /// Price per one unit of underlying; `None` for market orders.
    pub limit_price: Option<Decimal>,
    /// Gtc or Ioc.
    pub time_in_force: TimeInForce,
    /// Only reduces an existing position (all exits are reduce-only).
    pub reduce_only: bool,
    /// A stop order's trigger; `None` for an order that works at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopOrder>,
}

/// Life-cycle state of an order at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// A stop order waiting for its trigger (Delta's `pending`); nothing filled.
    Pending,
    /// Resting (possibly partially filled).
    Open,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after a partial fill).
    Cancelled,
    /// Refused by the venue; nothing filled.
    Rejected,
}

impl OrderState {
    /// Whether the order can no longer change.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Open | Self::Pending)
    }
}

/// One execution of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fill {
    /// Venue's fill id (unique per venue).
    pub fill_id: String,
    /// The order's client id; `None` for fills of no order (settlement at expiry), also
    /// read from an empty text.
    #[serde(default, deserialize_with = "crate::ids::optional_client_order_id")]
    pub client_order_id: Option<ClientOrderId>,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Contracts filled.
    pub size: Decimal,
    /// Price per one unit of underlying.
    pub price: Decimal,
    /// Fee charged for this fill (USD).
    pub fee: Decimal,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
}

/// The venue's view of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatus {
    /// The client id we gave it.
    pub client_order_id: ClientOrderId,
    /// The venue's id.
    pub exchange_order_id: String,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Ordered contracts.
    pub size: Decimal,
    /// Limit price, if any.
    pub limit_price: Option<Decimal>,
    /// Current state.
    pub state: OrderState,
    /// Every fill so far, oldest first.
    pub fills: Vec<Fill>,
    /// Why it was rejected or cancelled, if the venue said.
    pub reason: Option<String>,
    /// Last change at the venue.
    pub updated_at: DateTime<Utc>,
}

impl OrderStatus {
    /// Contracts filled so far.
    pub fn filled_size(&self) -> Decimal {
        self.fills.iter().map(|f| f.size).sum()
    }

    /// Fees charged so far.
    pub fn fees(&self) -> Decimal {
        self.fills.iter().map(|f| f.fee).sum()
    }
}

/// A position in one contract; `size` is negative for shorts (Delta's convention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Venue product id.
    pub product_id: ProductId,
    /// Contract symbol.
    pub symbol: Symbol,
    /// Signed contracts: negative = short.
    pub size: Decimal,
    /// Average entry price, if not flat.
    pub entry_price: Option<Decimal>,
}

/// One venue product named both ways: by id (what Delta's fills and positions filter on, and
/// what still finds a product after it has left the live list) and by symbol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProductRef {
    /// Venue product id.
    pub product_id: ProductId,
    /// Contract symbol.
    pub symbol: Symbol,
}

/// A wallet balance in one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Asset, e.g. `USD`.
    pub asset: String,
    /// Total balance.
    pub balance: Decimal,
    /// What can fund new orders.
    pub available: Decimal,
}
