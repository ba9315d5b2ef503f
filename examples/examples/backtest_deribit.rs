//! A backtest on four weeks of real Deribit BTC option chains (2026-01-19 → 2026-02-15, a
//! crash from 93k to 64k), when `../shared/data` holds them: the snapshots are imported
//! (coin prices × forward → USD, Delta's contract sizes) and replayed through the live
//! engine on the simulated venue.
//!
//! ```sh
//! cargo run --release -p strangle-examples --example backtest_deribit
//! ```

use strangle_core::backtest::Backtest;
use strangle_core::data::deribit::{self, DeribitImport};
use strangle_core::sim::VecFeed;
use strangle_examples::deribit_weeks;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(rows) = deribit_weeks()? else {
        return Ok(());
    };
    let check = deribit::pricing_check(&rows, rust_decimal::Decimal::new(5, 4));
    eprintln!(
        "Black-76 vs Deribit mark over {} rows: median error {:.4} %, p95 {:.3} %",
        check.rows,
        check.median_rel_error * 100.0,
        check.p95_rel_error * 100.0
    );
    let snaps = deribit::to_snapshots(&rows, &DeribitImport::default());
    let mut profile = strangle_core::profile::Profile::named("btc-deribit");
    profile.contracts_per_leg = 10.into();
    // About four snapshots a day: accept quotes up to six hours old.
    profile.liquidity.max_quote_age_secs = 6 * 3600;
    let result = Backtest::new(profile).run(VecFeed::new(snaps)).await?;
    print!("{}", result.report().to_table(&result));
    Ok(())
}
