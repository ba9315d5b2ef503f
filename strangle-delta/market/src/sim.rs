//! The synthetic market `sim` mode trades on: BTC and ETH random walks priced into chains.

use chrono::Duration;

use crate::{demo_markets, MarketSource, DEMO_BTC};

/// Largest move of the simulated mode's index per snapshot `grid` apart: each snapshot moves
/// it by a uniform draw within ±`a`, whose standard deviation is `a/√3`, so
/// `a = σ·√(grid / year)·√3` gives the index a realised volatility of σ — the demo BTC
/// market's ATM IV (45 %), the volatility its chains are priced at — whatever the grid
/// (0.108 % a minute, 0.031 % every 5 s).
pub fn sim_max_move(grid: Duration) -> f64 {
    let secs = grid.num_milliseconds().max(1) as f64 / 1000.0;
    DEMO_BTC.1 * (secs / (365.0 * 86_400.0)).sqrt() * 3f64.sqrt()
}

/// The synthetic BTC and ETH market the simulated mode trades on: a seeded random walk priced
/// into chains every `grid` of market time, moving with the volatility its options are priced
/// at ([`sim_max_move`]).
pub fn sim_market_source(seed: u64, grid: Duration) -> MarketSource {
    MarketSource::Walk {
        markets: demo_markets(),
        seed,
        grid,
        max_move: sim_max_move(grid),
    }
}

#[cfg(test)]
mod tests {
    use super::sim_max_move;
    use chrono::Duration;
    use strangle_core::sim::synthetic::RandomWalk;

    /// The simulated index's realised volatility is the chains' ATM IV, on any grid.
    #[test]
    fn the_simulated_index_moves_with_the_volatility_its_options_are_priced_at() {
        for grid in [
            Duration::seconds(5),
            Duration::minutes(1),
            Duration::minutes(5),
        ] {
            let mut walk = RandomWalk::new(7, 82_000.0, sim_max_move(grid));
            let mut last = walk.spot();
            let n = 200_000;
            let mut sum_sq = 0.0;
            for _ in 0..n {
                let next = walk.step();
                sum_sq += (next / last).ln().powi(2);
                last = next;
            }
            let per_year = 365.0 * 86_400.0 / (grid.num_seconds() as f64);
            let vol = (sum_sq / n as f64 * per_year).sqrt();
            assert!((vol - 0.45).abs() < 0.01, "{grid}: realised {vol:.4}");
        }
    }
}
