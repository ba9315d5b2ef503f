//! Quotes, greeks and chain snapshots.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::contract::{OptionContract, Underlying};
use crate::ids::Symbol;

/// Option greeks per one unit of underlying (Delta's convention).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Greeks {
    /// Delta: calls in (0, 1), puts in (−1, 0).
    pub delta: f64,
    /// Gamma per USD.
    pub gamma: f64,
    /// Theta in USD per calendar day.
    pub theta: f64,
    /// Vega in USD per vol point.
    pub vega: f64,
}

/// The prices the venue accepts for an order on a contract now (Delta's `price_band`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBand {
    /// Lowest accepted price.
    pub lower: Decimal,
    /// Highest accepted price.
    pub upper: Decimal,
}

/// The market for one contract at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The contract's symbol.
    pub symbol: Symbol,
    /// When the venue produced this quote.
    pub timestamp: DateTime<Utc>,
    /// Fair (mark) price per one unit of underlying.
    pub mark: Decimal,
    /// Best bid, if any.
    pub bid: Option<Decimal>,
    /// Contracts at the best bid.
    pub bid_size: Decimal,
    /// Best ask, if any.
    pub ask: Option<Decimal>,
    /// Contracts at the best ask.
    pub ask_size: Decimal,
    /// Greeks, when the venue publishes them.
    pub greeks: Option<Greeks>,
    /// Mark implied volatility (0.45 = 45 %).
    pub mark_iv: Option<f64>,
    /// Bid implied volatility.
    pub bid_iv: Option<f64>,
    /// Ask implied volatility.
    pub ask_iv: Option<f64>,
    /// Underlying index price at the quote.
    pub spot: Option<Decimal>,
    /// Open interest in contracts.
    pub open_interest: Option<Decimal>,
    /// The prices the venue accepts now, when it publishes them: an aggressive exit is
    /// priced within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_band: Option<PriceBand>,
    /// Why the venue takes no new order on the contract now (Delta's `trading_status` when it
    /// is not `operational`: `disrupted_cancel_only`, `disrupted_post_only`); `None` when it
    /// trades or does not say. No order is sent while it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trading_halt: Option<String>,
}

impl Quote {
    /// Midpoint of bid and ask when both exist.
    pub fn mid(&self) -> Option<Decimal> {
        match (self.bid, self.ask) {
            (Some(b), Some(a)) => Some((b + a) / Decimal::TWO),
            _ => None,
        }
    }

    /// Bid/ask spread as a percentage of the mid (`5` = 5 %).
    pub fn spread_pct(&self) -> Option<Decimal> {
        let mid = self.mid()?;
        if mid <= Decimal::ZERO {
            return None;
        }
        Some((self.ask? - self.bid?) / mid * Decimal::ONE_HUNDRED)
    }

    /// Seconds between the quote and `now` (negative if the quote is from the future).
    pub fn age_secs(&self, now: DateTime<Utc>) -> i64 {
        (now - self.timestamp).num_seconds()
    }
}

/// A contract with its latest quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// The listed contract.
    pub contract: OptionContract,
    /// Its market.
    pub quote: Quote,
}

/// Every listed option of one underlying at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainSnapshot {
    /// BTC or ETH.
    pub underlying: Underlying,
    /// When the snapshot was taken.
    pub timestamp: DateTime<Utc>,
    /// Underlying index price.
    pub spot: Decimal,
    /// The contracts with their quotes.
    pub entries: Vec<ChainEntry>,
}

impl ChainSnapshot {
    /// The entry for `symbol`, if listed.
    pub fn get(&self, symbol: &str) -> Option<&ChainEntry> {
        self.entries.iter().find(|e| e.contract.symbol == symbol)
    }

    /// Distinct expiries, ascending.
    pub fn expiries(&self) -> Vec<DateTime<Utc>> {
        let mut v: Vec<_> = self.entries.iter().map(|e| e.contract.expiry).collect();
        v.sort();
        v.dedup();
        v
    }
}
