//! The option fee model.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Delta's option fee: a rate on notional (spot × contract size × contracts), capped at a
/// share of the premium, plus an optional tax on the fee (India charges 18 % GST).
///
/// Rates are percentages: `0.03` means 0.03 % of notional; `10` means a cap of 10 % of
/// premium.
///
/// ```
/// use rust_decimal_macros::dec;
/// use strangle_core::model::FeeModel;
/// // Delta's help-centre example: 300 contracts, spot 26,200, premium 15.
/// let m = FeeModel { taker_rate_pct: dec!(0.03), maker_rate_pct: dec!(0.03),
///                    premium_cap_pct: dec!(10), tax_pct: dec!(0) };
/// assert_eq!(m.fee(dec!(26200), dec!(15), dec!(0.001), dec!(300), true), dec!(0.45));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeeModel {
    /// Taker fee as % of notional.
    pub taker_rate_pct: Decimal,
    /// Maker fee as % of notional.
    pub maker_rate_pct: Decimal,
    /// Cap as % of the premium of the fill.
    pub premium_cap_pct: Decimal,
    /// Tax on the fee, in % (18 for India's GST; 0 for none).
    pub tax_pct: Decimal,
}

impl Default for FeeModel {
    /// Delta India's published option fees: 0.03 % of notional capped at 10 % of premium,
    /// plus 18 % GST.
    fn default() -> Self {
        Self {
            taker_rate_pct: Decimal::new(3, 2),
            maker_rate_pct: Decimal::new(3, 2),
            premium_cap_pct: Decimal::TEN,
            tax_pct: Decimal::new(18, 0),
        }
    }
}

impl FeeModel {
    /// A model that charges nothing.
    pub fn zero() -> Self {
        Self {
            taker_rate_pct: Decimal::ZERO,
            maker_rate_pct: Decimal::ZERO,
            premium_cap_pct: Decimal::ZERO,
            tax_pct: Decimal::ZERO,
        }
    }

    /// Fee in USD for `size` contracts traded at `price` with the underlying at `spot`.
    pub fn fee(
        &self,
        spot: Decimal,
        price: Decimal,
        contract_size: Decimal,
        size: Decimal,
        taker: bool,
    ) -> Decimal {
        let rate = if taker {
            self.taker_rate_pct
        } else {
            self.maker_rate_pct
        };
        let qty = size.abs() * contract_size;
        let on_notional = spot * qty * rate / Decimal::ONE_HUNDRED;
        let cap = price.abs() * qty * self.premium_cap_pct / Decimal::ONE_HUNDRED;
        let base = on_notional.min(cap);
        let with_tax = base + base * self.tax_pct / Decimal::ONE_HUNDRED;
        with_tax.round_dp(8)
    }
}
