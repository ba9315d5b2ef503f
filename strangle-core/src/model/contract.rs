//! Underlyings and option contracts, with Delta's symbol format.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{ProductId, Symbol};

/// The assets whose options strangle trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Underlying {
    /// Bitcoin.
    Btc,
    /// Ether.
    Eth,
}

impl Underlying {
    /// The ticker as Delta writes it (`BTC`, `ETH`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Btc => "BTC",
            Self::Eth => "ETH",
        }
    }
}

impl fmt::Display for Underlying {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Underlying {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_uppercase().as_str() {
            "BTC" => Ok(Self::Btc),
            "ETH" => Ok(Self::Eth),
            _ => Err(Error::InvalidSymbol {
                symbol: s.to_string(),
                reason: "underlying must be BTC or ETH".into(),
            }),
        }
    }
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// A call option (`C-` symbols).
    Call,
    /// A put option (`P-` symbols).
    Put,
}

impl OptionKind {
    /// `C` or `P`.
    pub fn letter(self) -> char {
        match self {
            Self::Call => 'C',
            Self::Put => 'P',
        }
    }
}

impl fmt::Display for OptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Call => "call",
            Self::Put => "put",
        })
    }
}

/// The parts of a Delta option symbol such as `C-BTC-90000-310125`.
///
/// ```
/// use strangle_core::model::{OptionSymbol, OptionKind, Underlying};
/// let s: OptionSymbol = "P-BTC-80000-130326".parse().unwrap();
/// assert_eq!(s.kind, OptionKind::Put);
/// assert_eq!(s.underlying, Underlying::Btc);
/// assert_eq!(s.strike.to_string(), "80000");
/// assert_eq!(s.to_string(), "P-BTC-80000-130326");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSymbol {
    /// Call or put.
    pub kind: OptionKind,
    /// BTC or ETH.
    pub underlying: Underlying,
    /// Strike in USD.
    pub strike: Decimal,
    /// Expiry date (settlement is at 12:00 UTC that day on Delta).
    pub expiry_date: NaiveDate,
}

impl FromStr for OptionSymbol {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::InvalidSymbol {
            symbol: s.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = s.split('-');
        let (Some(k), Some(u), Some(strike), Some(date), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad("expected four parts: TYPE-ASSET-STRIKE-DDMMYY"));
        };
        let kind = match k {
            "C" => OptionKind::Call,
            "P" => OptionKind::Put,
            _ => return Err(bad("type must be C or P")),
        };
        let underlying = u.parse().map_err(|_| bad("asset must be BTC or ETH"))?;
        let strike = Decimal::from_str(strike).map_err(|_| bad("strike is not a number"))?;
        if strike <= Decimal::ZERO {
            return Err(bad("strike must be positive"));
        }
        if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expiry must be DDMMYY"));
        }
        let expiry_date =
            NaiveDate::parse_from_str(date, "%d%m%y").map_err(|_| bad("expiry is not a date"))?;
        Ok(Self {
            kind,
            underlying,
            strike: strike.normalize(),
            expiry_date,
        })
    }
}

impl OptionSymbol {
    /// The symbol as the venue writes it.
    pub fn symbol(&self) -> Symbol {
        Symbol::from_formatted(self.to_string())
    }
}

impl fmt::Display for OptionSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}",
            self.kind.letter(),
            self.underlying,
            self.strike.normalize(),
            self.expiry_date.format("%d%m%y")
        )
    }
}

/// Delta settles options at 12:00 UTC on the expiry date.
pub fn delta_settlement_time(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap_or_default())
}

/// A listed option contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionContract {
    /// The venue's product id (used by orders and positions).
    pub product_id: ProductId,
    /// Delta symbol, e.g. `C-BTC-90000-310125`.
    pub symbol: Symbol,
    /// BTC or ETH.
    pub underlying: Underlying,
    /// Call or put.
    pub kind: OptionKind,
    /// Strike in USD.
    pub strike: Decimal,
    /// Settlement instant (UTC).
    pub expiry: DateTime<Utc>,
    /// Underlying per contract (0.001 BTC on Delta).
    pub contract_size: Decimal,
    /// Minimum price increment.
    pub tick_size: Decimal,
}

impl OptionContract {
    /// Builds a contract from a Delta symbol, settling at 12:00 UTC on its date.
    pub fn from_symbol(
        product_id: ProductId,
        symbol: &str,
        contract_size: Decimal,
        tick_size: Decimal,
    ) -> Result<Self, Error> {
        let s: OptionSymbol = symbol.parse()?;
        Ok(Self {
            product_id,
            symbol: s.symbol(),
            underlying: s.underlying,
            kind: s.kind,
            strike: s.strike,
            expiry: delta_settlement_time(s.expiry_date),
            contract_size,
            tick_size,
        })
    }

    /// Intrinsic value per one unit of underlying at `index` (cash settlement).
    pub fn intrinsic(&self, index: Decimal) -> Decimal {
        let v = match self.kind {
            OptionKind::Call => index - self.strike,
            OptionKind::Put => self.strike - index,
        };
        v.max(Decimal::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_round_trips_and_rejects_garbage() {
        let s: OptionSymbol = "C-BTC-90000-310125".parse().expect("valid");
        assert_eq!(s.to_string(), "C-BTC-90000-310125");
        assert_eq!(
            s.expiry_date,
            NaiveDate::from_ymd_opt(2025, 1, 31).expect("date")
        );
        for bad in [
            "",
            "C-BTC-90000",
            "X-BTC-90000-310125",
            "C-DOGE-1-310125",
            "C-BTC-abc-310125",
            "C-BTC-0-310125",
            "C-BTC-90000-320125",
            "C-BTC-90000-3101255",
            "C-BTC-90000-310125-x",
        ] {
            assert!(bad.parse::<OptionSymbol>().is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn intrinsic_value() {
        let c = OptionContract::from_symbol(
            ProductId(1),
            "C-BTC-100-010126",
            Decimal::ONE,
            Decimal::ONE,
        )
        .expect("valid");
        assert_eq!(c.intrinsic(Decimal::from(130)), Decimal::from(30));
        assert_eq!(c.intrinsic(Decimal::from(90)), Decimal::ZERO);
        assert_eq!(c.expiry.to_rfc3339(), "2026-01-01T12:00:00+00:00");
    }
}
