//! Helpers shared by the examples in `examples/`.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use strangle_core::sim::synthetic::RandomWalk;

/// `n` prices, `step` apart from `start`, of a seeded random walk from `spot` moving at most
/// `max_move` per step (see [`RandomWalk`]), rounded to whole dollars.
pub fn random_walk(
    seed: u64,
    start: DateTime<Utc>,
    step: Duration,
    n: usize,
    spot: f64,
    max_move: f64,
) -> Vec<(DateTime<Utc>, Decimal)> {
    let mut w = RandomWalk::new(seed, spot, max_move);
    (0..n)
        .map(|i| {
            let s = if i == 0 { w.spot() } else { w.step() };
            let t = start + step * i32::try_from(i).unwrap_or(i32::MAX);
            (t, Decimal::from_f64(s.round()).unwrap_or_default())
        })
        .collect()
}

/// A file committed under `examples/` (e.g. `data/btcusd_1h_20210324_20220301.csv`).
pub fn committed(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A file of the shared, uncommitted data set (`$STRANGLE_DATA_DIR`, default
/// `../shared/data` beside the repository), or `None` with a note on stderr when absent.
pub fn shared(rel: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("STRANGLE_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| committed("../../shared/data"));
    let p = dir.join(rel);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!(
            "note: {} is absent (uncommitted data; set STRANGLE_DATA_DIR)",
            p.display()
        );
        None
    }
}

/// The four weeks of Deribit BTC and ETH option snapshots in the shared data set.
pub const DERIBIT_WEEKS: &str =
    "deribit_options/deribit_options_btc_eth_20260119_20260215_dte35.csv";

/// The rows of [`DERIBIT_WEEKS`], or `None` (said on stderr) when the shared data is absent.
pub fn deribit_weeks(
) -> Result<Option<Vec<strangle_core::data::deribit::DeribitRow>>, Box<dyn std::error::Error>> {
    let Some(path) = shared(DERIBIT_WEEKS) else {
        eprintln!("nothing to do without the Deribit snapshots");
        return Ok(None);
    };
    let file = std::io::BufReader::new(std::fs::File::open(&path)?);
    Ok(Some(strangle_core::data::deribit::read_rows(
        file,
        &path.display().to_string(),
    )?))
}

/// Reads a profile from a TOML file.
pub fn profile(
    path: &std::path::Path,
) -> Result<strangle_core::profile::Profile, Box<dyn std::error::Error>> {
    let p: strangle_core::profile::Profile = toml::from_str(&std::fs::read_to_string(path)?)?;
    p.validate()?;
    Ok(p)
}
