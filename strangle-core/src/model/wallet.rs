//! What a venue's own books say of some products: its fills and its wallet's ledger rows,
//! read after a session ends to check the ledger's money against the venue's
//! ([`crate::reconciliation`]).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Fill;
use crate::ids::{ProductId, Symbol};

/// What a wallet row moved, as far as a session's money goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum WalletKind {
    /// Premium paid or received, settlement value, realised PnL: the trades' cash.
    Cash,
    /// A fee: commission, a rebate (negative), a tax on the fee charged apart.
    Fee,
    /// Money that is not a trade's: deposits, withdrawals, transfers, bonuses.
    Transfer,
    /// A type this build does not know (its name as the venue gave it).
    Unknown(String),
}

/// One row of the venue's wallet ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletEntry {
    /// The venue's id of the row.
    pub id: String,
    /// What it moved.
    pub kind: WalletKind,
    /// The venue's name for its type (`cashflow`, `commission`, ...).
    pub venue_type: String,
    /// Signed amount in the settling asset (USD): positive credits the wallet.
    pub amount: Decimal,
    /// The contract it is for, when the row names one by symbol.
    pub symbol: Option<Symbol>,
    /// The contract's venue product id, when the row names one by id.
    pub product_id: Option<ProductId>,
    /// When it was booked.
    pub at: DateTime<Utc>,
}

/// The venue's own record of some products since a time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VenueActivity {
    /// Every fill on the products (settlement fills included), each with the client id of
    /// its order where the venue's order records give it.
    pub fills: Vec<Fill>,
    /// The wallet's rows in the window (every product; unattributed rows included), or
    /// `None` when the venue keeps no wallet ledger it can give.
    pub wallet: Option<Vec<WalletEntry>>,
}
