//! A backtest on real data committed to the repository: the BTC hourly series of
//! 2021-03-24 → 2022-03-01 (MIT, see `examples/data/README.md`), priced into synthetic
//! Black-76 chains with a smile at Deribit's DVOL when `../shared/data` has it (else at the
//! series' 30-day realised volatility). Prints the report and writes an HTML page.
//!
//! ```sh
//! cargo run --release -p strangle-examples --example backtest_btc_hourly [REPORT.html]
//! ```

use std::io::BufReader;

use strangle_core::backtest::Backtest;
use strangle_core::data::series::{self, SeriesFeed};
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_examples::{committed, profile, shared};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spot_path = committed("data/btcusd_1h_20210324_20220301.csv");
    let spot = series::read_spot(
        BufReader::new(std::fs::File::open(&spot_path)?),
        &spot_path.display().to_string(),
    )?;
    let iv = match shared("deribit_dvol/btc_dvol_hourly_20210324_20251015.csv") {
        Some(p) => {
            eprintln!("implied volatility: Deribit DVOL ({})", p.display());
            series::read_dvol(
                BufReader::new(std::fs::File::open(&p)?),
                &p.display().to_string(),
            )?
        }
        None => {
            eprintln!("implied volatility: 30-day realised volatility of the series");
            series::realized_vol(&spot, 720)
        }
    };
    let feed = SeriesFeed::new(SyntheticMarket::btc(), spot, iv);
    let result = Backtest::new(profile(&committed("profiles/btc-hourly.toml"))?)
        .run(feed)
        .await?;
    let report = result.report();
    print!("{}", report.to_table(&result));
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/backtest_btc_hourly.html".into());
    std::fs::write(&out, report.to_html(&result))?;
    eprintln!("HTML report: {out}");
    Ok(())
}
