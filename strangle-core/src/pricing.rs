//! Black-76 option pricing and greeks with zero rates, in Delta's conventions: prices per one
//! unit of underlying, time in years of 365 days, vega per vol point, theta per calendar day.
//!
//! ```
//! use strangle_core::pricing::{black76, OptionKind};
//! let g = black76(OptionKind::Call, 100_000.0, 100_000.0, 30.0 / 365.0, 0.5);
//! assert!((g.delta - 0.528).abs() < 0.001);
//! assert!((g.price - 5_714.0).abs() < 1.0);
//! ```

pub use crate::model::OptionKind;

/// Price and greeks of one option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priced {
    /// Price per one unit of underlying.
    pub price: f64,
    /// Delta per one unit of underlying.
    pub delta: f64,
    /// Gamma per unit of price.
    pub gamma: f64,
    /// Vega per vol point (σ + 0.01).
    pub vega: f64,
    /// Theta per calendar day.
    pub theta: f64,
}

/// The standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal distribution function, accurate to about 1e-7 everywhere.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function (Chebyshev fit, fractional error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Black-76 with zero rates: forward `f`, strike `k`, `t` years, volatility `sigma` (0.5 =
/// 50 %). At or after expiry (or with zero volatility) returns intrinsic value.
pub fn black76(kind: OptionKind, f: f64, k: f64, t: f64, sigma: f64) -> Priced {
    let sign = match kind {
        OptionKind::Call => 1.0,
        OptionKind::Put => -1.0,
    };
    if t <= 0.0 || sigma <= 0.0 || f <= 0.0 || k <= 0.0 {
        let itm = sign * (f - k) > 0.0;
        return Priced {
            price: (sign * (f - k)).max(0.0),
            delta: if itm { sign } else { 0.0 },
            gamma: 0.0,
            vega: 0.0,
            theta: 0.0,
        };
    }
    let st = sigma * t.sqrt();
    let d1 = ((f / k).ln() + 0.5 * sigma * sigma * t) / st;
    let d2 = d1 - st;
    let price = sign * (f * norm_cdf(sign * d1) - k * norm_cdf(sign * d2));
    let pdf = norm_pdf(d1);
    Priced {
        price: price.max(0.0),
        delta: match kind {
            OptionKind::Call => norm_cdf(d1),
            OptionKind::Put => norm_cdf(d1) - 1.0,
        },
        gamma: pdf / (f * st),
        vega: f * pdf * t.sqrt() / 100.0,
        theta: -f * pdf * sigma / (2.0 * t.sqrt()) / 365.0,
    }
}

/// The volatility at which [`black76`] gives `price` (per unit of underlying), by Newton steps
/// kept inside a shrinking bisection bracket of 0.0001–10 (0.01 %–1,000 %); `None` when the
/// price is outside the no-arbitrage bounds (below intrinsic, above the forward or strike) or
/// the option has expired.
///
/// ```
/// use strangle_core::pricing::{black76, implied_vol, OptionKind};
/// let p = black76(OptionKind::Put, 80_000.0, 76_000.0, 2.0 / 365.0, 0.55).price;
/// let iv = implied_vol(OptionKind::Put, p, 80_000.0, 76_000.0, 2.0 / 365.0).unwrap();
/// assert!((iv - 0.55).abs() < 1e-9);
/// ```
pub fn implied_vol(kind: OptionKind, price: f64, f: f64, k: f64, t: f64) -> Option<f64> {
    if !(price.is_finite() && f > 0.0 && k > 0.0 && t > 0.0) {
        return None;
    }
    let intrinsic = match kind {
        OptionKind::Call => (f - k).max(0.0),
        OptionKind::Put => (k - f).max(0.0),
    };
    let cap = match kind {
        OptionKind::Call => f,
        OptionKind::Put => k,
    };
    if price <= intrinsic || price >= cap {
        return None;
    }
    let (mut lo, mut hi) = (1e-4, 10.0);
    if black76(kind, f, k, t, hi).price < price || black76(kind, f, k, t, lo).price > price {
        return None;
    }
    let mut sigma = 0.5;
    for _ in 0..100 {
        let g = black76(kind, f, k, t, sigma);
        let diff = g.price - price;
        if diff.abs() < 1e-10 * price.max(1e-12) {
            return Some(sigma);
        }
        if diff > 0.0 {
            hi = sigma;
        } else {
            lo = sigma;
        }
        // vega is per vol point; per unit of sigma it is 100× that.
        let vega = g.vega * 100.0;
        let newton = sigma - diff / vega;
        sigma = if vega > 1e-12 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo < 1e-14 {
            return Some(sigma);
        }
    }
    Some(sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_vol_inverts_black76_and_refuses_impossible_prices() {
        for (kind, k) in [
            (OptionKind::Call, 90_000.0),
            (OptionKind::Put, 70_000.0),
            (OptionKind::Call, 80_000.0),
        ] {
            for sigma in [0.05, 0.3, 0.8, 2.5] {
                let p = black76(kind, 80_000.0, k, 10.0 / 365.0, sigma).price;
                if p < 1e-6 {
                    continue;
                }
                let iv = implied_vol(kind, p, 80_000.0, k, 10.0 / 365.0).expect("solvable");
                assert!((iv - sigma).abs() < 1e-6, "{kind:?} {k} {sigma}: {iv}");
            }
        }
        assert_eq!(
            implied_vol(OptionKind::Call, 5_000.0, 90_000.0, 85_000.0, 0.1),
            None
        );
        assert_eq!(
            implied_vol(OptionKind::Put, 100.0, 80_000.0, 76_000.0, 0.0),
            None
        );
        assert_eq!(
            implied_vol(OptionKind::Call, 90_000.0, 80_000.0, 76_000.0, 0.1),
            None
        );
    }

    #[test]
    fn cdf_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((norm_cdf(1.0) - 0.841_344_746).abs() < 1e-7);
        assert!((norm_cdf(-2.0) - 0.022_750_132).abs() < 1e-7);
    }

    #[test]
    fn put_call_parity_and_delta_signs() {
        let (f, k, t, s) = (82_457.3, 84_000.0, 3.0 / 365.0, 0.45);
        let c = black76(OptionKind::Call, f, k, t, s);
        let p = black76(OptionKind::Put, f, k, t, s);
        assert!((c.price - p.price - (f - k)).abs() < 1e-6);
        assert!(c.delta > 0.0 && p.delta < 0.0);
        assert!((c.delta - p.delta - 1.0).abs() < 1e-12);
    }

    #[test]
    fn matches_delta_fixture_ticker() {
        // C-BTC-84000-130326 in Delta's fixture: spot 82457.3, mark_iv 0.4446, settlement
        // 2026-03-13 12:00 UTC, observed 2026-03-10 06:30 UTC; mark 751.26, delta 0.3364.
        let t = (3.0 * 24.0 - 6.5 + 12.0) / 24.0 / 365.0;
        let g = black76(OptionKind::Call, 82_457.3, 84_000.0, t, 0.444_604_65);
        assert!((g.price - 751.26).abs() / 751.26 < 0.01, "{}", g.price);
        assert!((g.delta - 0.3364).abs() < 0.005, "{}", g.delta);
    }
}
