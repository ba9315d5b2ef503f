//! WebSocket frames: the compact public channels, the private channels and control frames.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Order, Side};
use crate::lenient::{decimal_opt, id_opt, int_opt};

/// A number inside a positional array: string, number or null.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Num(pub Option<Decimal>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decimal_opt(d).map(Num)
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(d) => s.collect_str(&d),
            None => s.serialize_none(),
        }
    }
}

fn at(v: &Option<Vec<Num>>, i: usize) -> Option<Decimal> {
    v.as_ref().and_then(|v| v.get(i)).and_then(|n| n.0)
}

/// One contract inside a compact `ticker` frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TickerData {
    /// Symbol.
    pub s: String,
    /// Product id.
    #[serde(default)]
    pub i: Option<u64>,
    /// Mark price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub m: Option<Decimal>,
    /// Greeks: `[delta, gamma, rho, theta, vega]`.
    #[serde(default)]
    pub g: Option<Vec<Num>>,
    /// Quotes: `[best_ask, ask_size, best_bid, bid_size, impact_mid_price]`.
    #[serde(default)]
    pub q: Option<Vec<Num>>,
    /// IVs: `[ask_iv, bid_iv, mark_iv]`.
    #[serde(default)]
    pub qiv: Option<Vec<Num>>,
    /// `[oi_contracts, oi_change_usd_6h]`.
    #[serde(default)]
    pub oi: Option<Vec<Num>>,
    /// Price band: `[lower, upper]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pb: Option<Vec<Num>>,
}

impl TickerData {
    /// Delta.
    pub fn delta(&self) -> Option<Decimal> {
        at(&self.g, 0)
    }
    /// Gamma.
    pub fn gamma(&self) -> Option<Decimal> {
        at(&self.g, 1)
    }
    /// Theta.
    pub fn theta(&self) -> Option<Decimal> {
        at(&self.g, 3)
    }
    /// Vega.
    pub fn vega(&self) -> Option<Decimal> {
        at(&self.g, 4)
    }
    /// Best ask.
    pub fn best_ask(&self) -> Option<Decimal> {
        at(&self.q, 0)
    }
    /// Contracts at the best ask.
    pub fn ask_size(&self) -> Option<Decimal> {
        at(&self.q, 1)
    }
    /// Best bid.
    pub fn best_bid(&self) -> Option<Decimal> {
        at(&self.q, 2)
    }
    /// Contracts at the best bid.
    pub fn bid_size(&self) -> Option<Decimal> {
        at(&self.q, 3)
    }
    /// Ask IV.
    pub fn ask_iv(&self) -> Option<Decimal> {
        at(&self.qiv, 0)
    }
    /// Bid IV.
    pub fn bid_iv(&self) -> Option<Decimal> {
        at(&self.qiv, 1)
    }
    /// Mark IV.
    pub fn mark_iv(&self) -> Option<Decimal> {
        at(&self.qiv, 2)
    }
    /// Open interest in contracts.
    pub fn oi_contracts(&self) -> Option<Decimal> {
        at(&self.oi, 0)
    }
    /// The price band's lower limit.
    pub fn band_lower(&self) -> Option<Decimal> {
        at(&self.pb, 0)
    }
    /// The price band's upper limit.
    pub fn band_upper(&self) -> Option<Decimal> {
        at(&self.pb, 1)
    }
}

/// Compact `ticker` frame (every ~5 s per contract).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TickerFrame {
    /// Symbol.
    pub sy: String,
    /// Spot.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub sp: Option<Decimal>,
    /// Time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub ts: Option<i64>,
    /// The contract's data (one element in practice).
    #[serde(default)]
    pub d: Vec<TickerData>,
}

/// `ob_l1`: best bid and ask.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObL1Frame {
    /// Symbol.
    pub sy: String,
    /// Best ask.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub ap: Option<Decimal>,
    /// Ask size.
    #[serde(default, rename = "as", deserialize_with = "decimal_opt")]
    pub ask_size: Option<Decimal>,
    /// Best bid.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bp: Option<Decimal>,
    /// Bid size.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub bs: Option<Decimal>,
    /// Book time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub lts: Option<i64>,
    /// Frame time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub ts: Option<i64>,
}

/// `mark_price` and `spot_price`: one price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceFrame {
    /// Symbol (`MARK:C-BTC-...` or `.DEXBTUSD`).
    pub sy: String,
    /// Price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub p: Option<Decimal>,
    /// Time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub ts: Option<i64>,
}

/// `orders`: a snapshot (`result`) or one update (flat fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrdersFrame {
    /// `snapshot`, `create`, `update`, `delete`.
    #[serde(default)]
    pub action: String,
    /// Orders of a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Vec<Order>>,
    /// `fill`, `stop_update`, ... or null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Product symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Product id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<u64>,
    /// Exchange order id.
    #[serde(
        default,
        deserialize_with = "int_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_id: Option<i64>,
    /// Client order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<String>,
    /// Ordered contracts.
    #[serde(
        default,
        deserialize_with = "decimal_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<Decimal>,
    /// Unfilled contracts.
    #[serde(
        default,
        deserialize_with = "decimal_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub unfilled_size: Option<Decimal>,
    /// Average fill price.
    #[serde(
        default,
        deserialize_with = "decimal_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub average_fill_price: Option<Decimal>,
    /// Side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// `open`, `closed`, `cancelled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Per-symbol sequence number.
    #[serde(
        default,
        deserialize_with = "int_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub seq_no: Option<i64>,
    /// Time, µs.
    #[serde(
        default,
        deserialize_with = "int_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<i64>,
}

/// One position inside a `positions` frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WsPosition {
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol (snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_symbol: Option<String>,
    /// Product symbol (updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Signed contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
    /// Average entry price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub entry_price: Option<Decimal>,
}

impl WsPosition {
    /// The symbol, whichever field carried it.
    pub fn symbol(&self) -> Option<&str> {
        self.product_symbol.as_deref().or(self.symbol.as_deref())
    }
}

/// `positions`: a snapshot or one update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PositionsFrame {
    /// `snapshot`, `create`, `update`, `delete`.
    #[serde(default)]
    pub action: String,
    /// Positions of a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Vec<WsPosition>>,
    /// The updated position (flat fields).
    #[serde(flatten)]
    pub position: WsPosition,
}

/// `v2/user_trades`: one of our fills, fast (no commission).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserTradeFrame {
    /// Symbol.
    pub sy: String,
    /// Fill id.
    #[serde(default, deserialize_with = "id_opt")]
    pub f: Option<String>,
    /// Order id.
    #[serde(default, deserialize_with = "id_opt")]
    pub o: Option<String>,
    /// Side.
    #[serde(rename = "S")]
    pub side: Option<Side>,
    /// Contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub s: Option<Decimal>,
    /// Price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub p: Option<Decimal>,
    /// Position after the fill.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub po: Option<Decimal>,
    /// Client order id.
    #[serde(default)]
    pub c: Option<String>,
    /// Time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub t: Option<i64>,
}

/// A channel in a subscribe request or acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Channel name.
    pub name: String,
    /// Symbols (absent for `margins`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbols: Option<Vec<String>>,
    /// Why the subscription failed (acknowledgements only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `key-auth` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthFrame {
    /// Whether authentication succeeded.
    #[serde(default)]
    pub success: bool,
    /// HTTP-like status.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// `authenticated`, `request_expired`, `invalid_signature`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// Detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `subscriptions` acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionsFrame {
    /// Every subscription of the connection, with per-channel errors.
    #[serde(default)]
    pub channels: Vec<Channel>,
}

/// Any frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Frame {
    /// Compact ticker.
    #[serde(rename = "ticker")]
    Ticker(TickerFrame),
    /// Best bid/ask.
    #[serde(rename = "ob_l1")]
    ObL1(ObL1Frame),
    /// Mark price.
    #[serde(rename = "mark_price")]
    MarkPrice(PriceFrame),
    /// Spot index.
    #[serde(rename = "spot_price")]
    SpotPrice(PriceFrame),
    /// Our orders.
    #[serde(rename = "orders")]
    Orders(OrdersFrame),
    /// Our positions.
    #[serde(rename = "positions")]
    Positions(PositionsFrame),
    /// Our fills.
    #[serde(rename = "v2/user_trades")]
    UserTrade(UserTradeFrame),
    /// Subscription acknowledgement.
    #[serde(rename = "subscriptions")]
    Subscriptions(SubscriptionsFrame),
    /// Authentication answer.
    #[serde(rename = "key-auth")]
    KeyAuth(AuthFrame),
    /// Server heartbeat.
    #[serde(rename = "heartbeat")]
    Heartbeat,
    /// Answer to `ping`.
    #[serde(rename = "pong")]
    Pong,
    /// Anything else (legacy channels, margins, system status...).
    #[serde(other)]
    Other,
}

impl Frame {
    /// Decodes one frame (serde's tagged enum), `None` where that fails. A scan that found
    /// the `type` first and decoded the variant directly saved 5 % (2.49 → 2.36 µs a frame)
    /// and was removed: below the 2× a hand-written path must buy (BENCHMARKS.md).
    pub fn parse(text: &str) -> Option<Frame> {
        serde_json::from_str(text).ok()
    }
}
