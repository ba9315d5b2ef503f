//! Helpers shared by the examples in `examples/`.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

/// A reproducible spot path: a geometric random walk with `n` steps of `step`, each move
/// drawn uniformly within ±`max_move` (0.004 = 0.4 %), from a seeded xorshift generator.
pub fn random_walk(
    seed: u64,
    start: DateTime<Utc>,
    step: Duration,
    n: usize,
    spot: f64,
    max_move: f64,
) -> Vec<(DateTime<Utc>, Decimal)> {
    let mut state = seed.max(1);
    let mut s = spot;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            if i > 0 {
                s *= 1.0 + (2.0 * u - 1.0) * max_move;
            }
            let t = start + step * i32::try_from(i).unwrap_or(i32::MAX);
            (t, Decimal::from_f64(s.round()).unwrap_or_default())
        })
        .collect()
}
