//! Delta's JSON payloads, exactly as sent on the wire (read by the client, written by the
//! local server). Numbers are parsed leniently (see [`crate::lenient`]); unknown fields are
//! ignored.

mod account;
mod order;
mod product;
mod ticker;
pub mod ws;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

pub use account::{
    Heartbeat, HeartbeatAck, MarginedPosition, Position, WalletBalance, WalletTransaction,
};
pub use order::{
    BracketSide, CancelOrder, CreateBracket, CreateOrder, EditBracket, EditOrder, Fill, Order,
    OrderType, Side,
};
pub use product::{Asset, Product, ProductSpecs};
pub use ticker::{Greeks, L2Level, L2Orderbook, PriceBand, Ticker, TickerQuotes};

/// Pagination cursors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Cursor of the next page, `None` on the last.
    #[serde(default)]
    pub after: Option<String>,
    /// Cursor of the previous page.
    #[serde(default)]
    pub before: Option<String>,
}

/// The error part of an envelope: `{"code": ..., "context": {...}}`, or a bare string as in
/// `{"error": "SignatureExpired", "message": ...}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErrorBody {
    /// Delta's error code (`insufficient_margin`, `SignatureExpired`, ...).
    pub code: String,
    /// Extra details Delta sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Object {
                #[serde(default)]
                code: Option<String>,
                #[serde(default)]
                context: Option<serde_json::Value>,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Text(code) => ErrorBody {
                code,
                context: None,
            },
            Raw::Object { code, context } => ErrorBody {
                code: code.unwrap_or_default(),
                context,
            },
        })
    }
}

/// Every REST answer: `{"success": true, "result": ..., "meta": ...}` or
/// `{"success": false, "error": ...}`; CDN and signature failures may lack `success`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Whether the call succeeded (absent on bare error bodies).
    #[serde(default)]
    pub success: bool,
    /// The payload.
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
    /// Pagination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// Message of bare error bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Envelope<T> {
    /// A successful answer.
    pub fn ok(result: T) -> Self {
        Self {
            success: true,
            result: Some(result),
            meta: None,
            error: None,
            message: None,
        }
    }

    /// A failed answer with a code and optional context.
    pub fn err(code: impl Into<String>, context: Option<serde_json::Value>) -> Self {
        Self {
            success: false,
            result: None,
            meta: None,
            error: Some(ErrorBody {
                code: code.into(),
                context,
            }),
            message: None,
        }
    }
}
