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
