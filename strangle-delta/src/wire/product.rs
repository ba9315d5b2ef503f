//! `GET /v2/products` items.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lenient::{decimal_opt, time_opt};

/// An asset reference inside a product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Asset id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Symbol, e.g. `BTC` or `USD`.
    #[serde(default)]
    pub symbol: String,
}

/// Product specifics of options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductSpecs {
    /// Fee cap as a fraction of premium (0.1 = 10 %).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub premium_commission_rate: Option<Decimal>,
    /// Index price used at settlement (expired products).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub settlement_index_price: Option<Decimal>,
}

/// One product (an option contract, for us).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Product id used by orders and positions.
    pub id: u64,
    /// Symbol, e.g. `C-BTC-84000-130326`.
    pub symbol: String,
    /// `call_options`, `put_options`, ...
    #[serde(default)]
    pub contract_type: String,
    /// Strike (options only).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub strike_price: Option<Decimal>,
    /// Settlement instant.
    #[serde(default, deserialize_with = "time_opt")]
    pub settlement_time: Option<DateTime<Utc>>,
    /// `live`, `expired`, `upcoming`.
    #[serde(default)]
    pub state: String,
    /// `operational`, `disrupted_cancel_only`, ...
    #[serde(default)]
    pub trading_status: String,
    /// Underlying per contract.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub contract_value: Option<Decimal>,
    /// Price increment.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub tick_size: Option<Decimal>,
    /// Taker fee as a fraction of notional.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub taker_commission_rate: Option<Decimal>,
    /// Maker fee as a fraction of notional.
    #[serde(default, deserialize_with = "decimal_opt")]
    pub maker_commission_rate: Option<Decimal>,
    /// Settlement price (expired products).
    #[serde(default, deserialize_with = "decimal_opt")]
    pub settlement_price: Option<Decimal>,
    /// Option specifics.
    #[serde(default)]
    pub product_specs: Option<ProductSpecs>,
    /// The underlying asset.
    #[serde(default)]
    pub underlying_asset: Option<Asset>,
    /// The settling asset.
    #[serde(default)]
    pub settling_asset: Option<Asset>,
}
