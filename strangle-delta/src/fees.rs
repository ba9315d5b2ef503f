//! The option fee rates Delta's products carry (`taker_commission_rate`,
//! `maker_commission_rate`: fractions of notional; `product_specs.premium_commission_rate`:
//! the cap, a fraction of premium), as the core's [`FeeModel`] takes them (in %).
//!
//! Delta's published rates have changed by date and site (see `delta-exchange-api.md`), so
//! live and paper engines take the rates from the products and keep the profile's only where
//! the products say nothing; `strangle check` shows both.
//!
//! ```
//! use rust_decimal_macros::dec;
//! use strangle_core::model::{FeeModel, Underlying};
//! use strangle_delta::fees::FeeRates;
//! use strangle_delta::wire::{Asset, Product, ProductSpecs};
//!
//! let product = Product {
//!     contract_type: "call_options".into(),
//!     taker_commission_rate: Some(dec!(0.0001)),
//!     maker_commission_rate: Some(dec!(0.0001)),
//!     product_specs: Some(ProductSpecs {
//!         premium_commission_rate: Some(dec!(0.035)),
//!         ..Default::default()
//!     }),
//!     underlying_asset: Some(Asset { symbol: "BTC".into(), ..Default::default() }),
//!     ..Default::default()
//! };
//! let rates = FeeRates::of(&[product], Underlying::Btc).expect("rates");
//! let fees = rates.applied_to(&FeeModel::default());
//! assert_eq!((fees.taker_rate_pct, fees.premium_cap_pct), (dec!(0.01), dec!(3.5)));
//! assert_eq!(fees.tax_pct, FeeModel::default().tax_pct, "the tax stays the profile's");
//! ```

use rust_decimal::Decimal;
use strangle_core::model::{FeeModel, Underlying};

use crate::wire::Product;

/// Option fee rates of one underlying's products, in %.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRates {
    /// Taker fee, % of notional.
    pub taker_pct: Option<Decimal>,
    /// Maker fee, % of notional.
    pub maker_pct: Option<Decimal>,
    /// Fee cap, % of premium.
    pub premium_cap_pct: Option<Decimal>,
    /// Whether the products disagree (each rate is then the highest any of them carries,
    /// so that cost estimates err on the expensive side).
    pub disagree: bool,
}

impl FeeRates {
    /// The rates the call and put options of `underlying` among `products` carry; `None`
    /// when none of them carries any.
    pub fn of(products: &[Product], underlying: Underlying) -> Option<Self> {
        let mut out = Self {
            taker_pct: None,
            maker_pct: None,
            premium_cap_pct: None,
            disagree: false,
        };
        let options = products.iter().filter(|p| {
            matches!(p.contract_type.as_str(), "call_options" | "put_options")
                && p.underlying_asset
                    .as_ref()
                    .is_some_and(|a| a.symbol.eq_ignore_ascii_case(underlying.as_str()))
        });
        let hundred = Decimal::ONE_HUNDRED;
        for p in options {
            let cap = p
                .product_specs
                .as_ref()
                .and_then(|s| s.premium_commission_rate);
            for (slot, rate) in [
                (&mut out.taker_pct, p.taker_commission_rate),
                (&mut out.maker_pct, p.maker_commission_rate),
                (&mut out.premium_cap_pct, cap),
            ] {
                let Some(r) = rate.map(|r| (r * hundred).normalize()) else {
                    continue;
                };
                match slot {
                    None => *slot = Some(r),
                    Some(seen) if *seen != r => {
                        out.disagree = true;
                        *seen = (*seen).max(r);
                    }
                    Some(_) => {}
                }
            }
        }
        (out.taker_pct.is_some() || out.maker_pct.is_some() || out.premium_cap_pct.is_some())
            .then_some(out)
    }

    /// `model` with these rates where the products give them (tax and settlement fee stay
    /// as `model` has them: the products do not carry them).
    pub fn applied_to(&self, model: &FeeModel) -> FeeModel {
        FeeModel {
            taker_rate_pct: self.taker_pct.unwrap_or(model.taker_rate_pct),
            maker_rate_pct: self.maker_pct.unwrap_or(model.maker_rate_pct),
            premium_cap_pct: self.premium_cap_pct.unwrap_or(model.premium_cap_pct),
            ..model.clone()
        }
    }

    /// What differs between `model` and these rates, in words (`None`: they agree).
    pub fn differences(&self, model: &FeeModel) -> Option<String> {
        let mut d = Vec::new();
        for (name, ours, theirs) in [
            ("taker_rate_pct", model.taker_rate_pct, self.taker_pct),
            ("maker_rate_pct", model.maker_rate_pct, self.maker_pct),
            (
                "premium_cap_pct",
                model.premium_cap_pct,
                self.premium_cap_pct,
            ),
        ] {
            if let Some(t) = theirs.filter(|t| *t != ours.normalize()) {
                d.push(format!(
                    "{name} {} in the profile, {t} at Delta",
                    ours.normalize()
                ));
            }
        }
        (!d.is_empty()).then(|| d.join(", "))
    }
}

impl std::fmt::Display for FeeRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show =
            |r: Option<Decimal>| r.map_or_else(|| "not given".to_string(), |r| format!("{r} %"));
        write!(
            f,
            "taker {}, maker {}, cap {} of premium{}",
            show(self.taker_pct),
            show(self.maker_pct),
            show(self.premium_cap_pct),
            if self.disagree {
                " (products differ: the highest of each)"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Asset, ProductSpecs};
    use rust_decimal_macros::dec;

    fn option(u: &str, kind: &str, taker: Decimal, cap: Option<Decimal>) -> Product {
        Product {
            contract_type: kind.into(),
            taker_commission_rate: Some(taker),
            maker_commission_rate: Some(taker),
            product_specs: Some(ProductSpecs {
                premium_commission_rate: cap,
                ..Default::default()
            }),
            underlying_asset: Some(Asset {
                symbol: u.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn rates_come_from_the_underlying_s_options_only() {
        let products = [
            option("BTC", "call_options", dec!(0.0003), Some(dec!(0.1))),
            option("BTC", "put_options", dec!(0.0003), Some(dec!(0.1))),
            option("ETH", "call_options", dec!(0.0009), Some(dec!(0.5))),
            option("BTC", "perpetual_futures", dec!(0.0005), None),
        ];
        let r = FeeRates::of(&products, Underlying::Btc).expect("rates");
        assert_eq!(r.taker_pct, Some(dec!(0.03)));
        assert_eq!(r.premium_cap_pct, Some(dec!(10)));
        assert!(!r.disagree);
        assert_eq!(r.differences(&FeeModel::default()), None);
        assert!(FeeRates::of(&products[3..], Underlying::Btc).is_none());
    }

    #[test]
    fn disagreeing_products_give_the_highest_rate_and_say_so() {
        let products = [
            option("BTC", "call_options", dec!(0.0003), Some(dec!(0.1))),
            option("BTC", "put_options", dec!(0.0005), Some(dec!(0.125))),
        ];
        let r = FeeRates::of(&products, Underlying::Btc).expect("rates");
        assert_eq!(r.taker_pct, Some(dec!(0.05)));
        assert_eq!(r.premium_cap_pct, Some(dec!(12.5)));
        assert!(r.disagree);
        assert!(r.to_string().contains("products differ"));
        let d = r.differences(&FeeModel::default()).expect("differs");
        assert!(
            d.contains("taker_rate_pct 0.03 in the profile, 0.05 at Delta"),
            "{d}"
        );
    }

    #[test]
    fn a_rate_the_products_do_not_give_stays_the_profile_s() {
        let products = [option("BTC", "call_options", dec!(0.0001), None)];
        let r = FeeRates::of(&products, Underlying::Btc).expect("rates");
        let m = r.applied_to(&FeeModel::default());
        assert_eq!(m.taker_rate_pct, dec!(0.01));
        assert_eq!(m.premium_cap_pct, FeeModel::default().premium_cap_pct);
    }
}
