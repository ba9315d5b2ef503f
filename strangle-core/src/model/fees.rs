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
///                    premium_cap_pct: dec!(10), tax_pct: dec!(0),
///                    settlement_rate_pct: dec!(0) };
/// assert_eq!(m.fee(dec!(26200), dec!(15), dec!(0.001), dec!(300), true), dec!(0.45));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct FeeModel {
    /// Taker fee as % of notional.
    pub taker_rate_pct: Decimal,
    /// Maker fee as % of notional.
    pub maker_rate_pct: Decimal,
    /// Cap as % of the premium of the fill.
    pub premium_cap_pct: Decimal,
    /// Tax on the fee, in % (18 for India's GST; 0 for none).
    pub tax_pct: Decimal,
    /// Fee on contracts still open at expiry, as % of notional at the settlement index,
    /// capped at `premium_cap_pct` of the cash settled (so an option expiring worthless pays
    /// nothing), plus `tax_pct`. Delta's fees page says a settlement fee "may apply" without
    /// an amount in the API documentation (`delta-exchange-api.md`, fees: unverified), so the
    /// default is 0: set your account's rate when you know it.
    #[serde(default)]
    pub settlement_rate_pct: Decimal,
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
            settlement_rate_pct: Decimal::ZERO,
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
            settlement_rate_pct: Decimal::ZERO,
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

    /// Settlement fee in USD for `size` contracts cash-settled at `index` for `value` each
    /// (the intrinsic value per unit of underlying).
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use strangle_core::model::FeeModel;
    /// let m = FeeModel { settlement_rate_pct: dec!(0.015), tax_pct: dec!(0), ..FeeModel::zero() };
    /// // 10 contracts of 0.001 BTC at index 87,000: notional 870; 0.015 % of it = 0.1305 ...
    /// let capped = FeeModel { premium_cap_pct: dec!(10), ..m.clone() };
    /// assert_eq!(capped.settlement_fee(dec!(87000), dec!(1000), dec!(0.001), dec!(10)), dec!(0.1305));
    /// // ... and nothing for an option that expires worthless.
    /// assert_eq!(capped.settlement_fee(dec!(87000), dec!(0), dec!(0.001), dec!(10)), dec!(0));
    /// ```
    pub fn settlement_fee(
        &self,
        index: Decimal,
        value: Decimal,
        contract_size: Decimal,
        size: Decimal,
    ) -> Decimal {
        let qty = size.abs() * contract_size;
        let on_notional = index * qty * self.settlement_rate_pct / Decimal::ONE_HUNDRED;
        let cap = value.abs() * qty * self.premium_cap_pct / Decimal::ONE_HUNDRED;
        let base = on_notional.min(cap);
        let with_tax = base + base * self.tax_pct / Decimal::ONE_HUNDRED;
        with_tax.round_dp(8)
    }
}
