//! Positions and wallet balances.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lenient::{decimal_opt, int_opt};

/// `GET /v2/positions?product_id=` (one object) and `?underlying_asset_symbol=` (array).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Product id (in the array form).
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol (in the array form).
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// Signed contracts: negative is short.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
    /// Average entry price, null when flat.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub entry_price: Option<Decimal>,
    /// Time, µs.
    #[serde(default, deserialize_with = "int_opt")]
    pub timestamp: Option<i64>,
}

/// `GET /v2/positions/margined` items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MarginedPosition {
    /// Product id.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol.
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// Signed contracts.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub size: Option<Decimal>,
    /// Average entry price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub entry_price: Option<Decimal>,
    /// Mark price.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub mark_price: Option<Decimal>,
    /// Margin blocked.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub margin: Option<Decimal>,
    /// Realised PnL.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub realized_pnl: Option<Decimal>,
    /// Unrealised PnL as Delta computes it (recompute it: its sign is unreliable for shorts).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub unrealized_pnl: Option<Decimal>,
}

/// One wallet (`GET /v2/wallet/balances`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WalletBalance {
    /// Asset id.
    #[serde(default)]
    pub asset_id: Option<u64>,
    /// Asset symbol.
    #[serde(default)]
    pub asset_symbol: String,
    /// Total balance.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub balance: Option<Decimal>,
    /// What can fund new orders.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub available_balance: Option<Decimal>,
    /// India F&O accounts may hold the tradable amount here.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub available_balance_for_robo: Option<Decimal>,
    /// Margin blocked by orders and positions.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub blocked_margin: Option<Decimal>,
}

/// One dead-man heartbeat (`GET /v2/heartbeat`). Only the id is relied on; the scope is read
/// when present.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Heartbeat {
    /// The id it was created with.
    pub heartbeat_id: String,
    /// Underlyings it covers, when the answer says.
    #[serde(default)]
    pub underlying_assets: Option<Vec<String>>,
    /// Contract types it covers, when the answer says.
    #[serde(default)]
    pub contract_types: Option<Vec<String>>,
    /// What it was created with as `impact`, as Delta echoes it (the docs say `contracts` /
    /// `products`, the swagger `low` / `medium` / `high`).
    #[serde(default)]
    pub impact: Option<String>,
}

/// The acknowledgement of `POST /v2/heartbeat`: whether the switch is armed, and until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HeartbeatAck {
    /// The next expiry (µs since the epoch, as a string in Delta's docs).
    #[serde(default, deserialize_with = "crate::lenient::time_opt")]
    pub heartbeat_timestamp: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the switch is armed (`"true"` / `"false"` in Delta's docs).
    #[serde(default, deserialize_with = "crate::lenient::bool_opt")]
    pub process_enabled: Option<bool>,
}

/// `GET /v2/wallet/transactions` items: one row of the wallet's ledger. Which rows name a
/// product, and where, is not documented: the product is read from the row or from its
/// `meta_data` (`product_id`, `product_symbol`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WalletTransaction {
    /// Row id.
    #[serde(default, deserialize_with = "crate::lenient::id_opt")]
    pub uuid: Option<String>,
    /// Signed amount in the asset: positive credits the wallet.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub amount: Option<Decimal>,
    /// Balance after the row.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub balance: Option<Decimal>,
    /// Asset id.
    #[serde(default)]
    pub asset_id: Option<u64>,
    /// Asset symbol, when given.
    #[serde(default)]
    pub asset_symbol: Option<String>,
    /// `cashflow`, `commission`, `pnl`, `deposit`, `withdrawal`, ...
    #[serde(default)]
    pub transaction_type: String,
    /// Product id, when the row carries it at the top level.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// Product symbol, when the row carries it at the top level.
    #[serde(default)]
    pub product_symbol: Option<String>,
    /// Details, shaped by the type.
    #[serde(default)]
    pub meta_data: Option<serde_json::Value>,
    /// When it was booked.
    #[serde(default, deserialize_with = "crate::lenient::time_opt")]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl WalletTransaction {
    /// The product the row names, at the top level or in its `meta_data`.
    pub fn product(&self) -> (Option<u64>, Option<String>) {
        let meta = self.meta_data.as_ref();
        let id = self.product_id.or_else(|| {
            meta.and_then(|m| m.get("product_id")).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        });
        let symbol = self.product_symbol.clone().or_else(|| {
            meta.and_then(|m| m.get("product_symbol"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
        (id, symbol)
    }
}
