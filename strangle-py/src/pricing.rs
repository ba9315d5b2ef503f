//! Black-76 prices, greeks and implied volatilities over many options at once.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use strangle_core::model::OptionKind;
use strangle_core::pricing;

fn kind(s: &str) -> PyResult<OptionKind> {
    match s {
        "call" | "c" | "C" => Ok(OptionKind::Call),
        "put" | "p" | "P" => Ok(OptionKind::Put),
        other => Err(PyValueError::new_err(format!(
            "option kind {other:?}: expected \"call\" or \"put\""
        ))),
    }
}

fn same_len(n: usize, lens: &[(&str, usize)]) -> PyResult<()> {
    for (name, len) in lens {
        if *len != n {
            return Err(PyValueError::new_err(format!(
                "{name} has {len} values, expected {n} (one per option)"
            )));
        }
    }
    Ok(())
}

/// Black-76 price and greeks (zero rates, 365-day years, vega per vol point, theta per day)
/// for many options: returns (price, delta, gamma, vega, theta) lists.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn black76_many(
    kinds: Vec<String>,
    forward: Vec<f64>,
    strike: Vec<f64>,
    years: Vec<f64>,
    sigma: Vec<f64>,
) -> PyResult<(Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    let n = kinds.len();
    same_len(
        n,
        &[
            ("forward", forward.len()),
            ("strike", strike.len()),
            ("years", years.len()),
            ("sigma", sigma.len()),
        ],
    )?;
    let mut out = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        let g = pricing::black76(kind(&kinds[i])?, forward[i], strike[i], years[i], sigma[i]);
        out.0.push(g.price);
        out.1.push(g.delta);
        out.2.push(g.gamma);
        out.3.push(g.vega);
        out.4.push(g.theta);
    }
    Ok(out)
}

/// Implied volatilities for many prices; `None` where no volatility gives the price.
#[pyfunction]
pub fn implied_vol_many(
    kinds: Vec<String>,
    price: Vec<f64>,
    forward: Vec<f64>,
    strike: Vec<f64>,
    years: Vec<f64>,
) -> PyResult<Vec<Option<f64>>> {
    let n = kinds.len();
    same_len(
        n,
        &[
            ("price", price.len()),
            ("forward", forward.len()),
            ("strike", strike.len()),
            ("years", years.len()),
        ],
    )?;
    (0..n)
        .map(|i| {
            Ok(pricing::implied_vol(
                kind(&kinds[i])?,
                price[i],
                forward[i],
                strike[i],
                years[i],
            ))
        })
        .collect()
}
