//! A parameter sweep on the committed BTC hourly data (Q4 2021): delta bands × max loss ×
//! entry times, run in parallel over the same data and ranked by net PnL.
//!
//! ```sh
//! cargo run --release -p strangle-examples --example sweep
//! ```

use std::io::BufReader;

use chrono::{TimeZone, Utc};
use strangle_core::backtest::sweep::{rank, sweep_with, table, Grid};
use strangle_core::backtest::Backtest;
use strangle_core::data::series::{self, SeriesFeed};
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_examples::{committed, profile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spot_path = committed("data/btcusd_1h_20210324_20220301.csv");
    let spot = series::read_spot(
        BufReader::new(std::fs::File::open(&spot_path)?),
        &spot_path.display().to_string(),
    )?;
    let iv = series::realized_vol(&spot, 720);
    let from = Utc.with_ymd_and_hms(2021, 10, 1, 0, 0, 0).single();
    let to = Utc.with_ymd_and_hms(2021, 12, 31, 0, 0, 0).single();
    let feed = SeriesFeed::new(SyntheticMarket::btc(), spot, iv).window(from, to);
    let grid = Grid::from_json(&serde_json::json!({
        "delta_band.low": [0.05, 0.10],
        "delta_band.high": [0.15, 0.20],
        "max_loss_pct": ["50", "100"],
        "entry_time": ["09:30", "13:30"],
    }))?;
    let variants = grid.profiles(&profile(&committed("profiles/btc-hourly.toml"))?)?;
    let runs: Vec<Backtest> = variants
        .iter()
        .map(|v| Backtest::new(v.profile.clone()))
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!("{} profiles on {threads} threads", runs.len());
    let results = sweep_with(&runs, threads, || feed.clone(), |n| eprint!("\r{n} done"));
    eprintln!();
    print!("{}", table(&rank(&variants, &results)));
    Ok(())
}
