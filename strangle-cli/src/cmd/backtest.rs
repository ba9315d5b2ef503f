//! `strangle backtest` (one profile or a sweep over a grid) and `strangle import` (Deribit
//! snapshots to a chain file).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use strangle_core::backtest::sweep::{self, Grid};
use strangle_core::backtest::{Backtest, BacktestResult, Report};
use strangle_core::data::source::{take_error, DataFile, DataKind};
use strangle_core::data::ChainWriter;
use strangle_core::model::ChainSnapshot;
use strangle_core::profile::Profile;
use strangle_core::sim::{MarketFeed, StaleQuotes};
use strangle_store::Store;

use crate::cmd::configs;
use crate::error::CliError;
use crate::profile_file;

/// Options of `backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Market data: a chain file (`#strangle-chain v1`, optionally `.gz`), a Deribit
    /// snapshot CSV, or a BTC spot series (a CSV with a time column and `close`), priced into
    /// synthetic chains with the IV of --iv; detected from the first line.
    #[arg(long, short)]
    pub data: PathBuf,
    /// Profile file (TOML or JSON).
    #[arg(long, short, conflicts_with = "profile")]
    pub config: Option<PathBuf>,
    /// Profile name or id in the ledger (default: the active profile).
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Starting cash on the simulated venue, USD.
    #[arg(long, default_value = "10000")]
    pub cash: Decimal,
    /// Simulated seconds between engine steps.
    #[arg(long, default_value_t = 60)]
    pub poll: u32,
    /// Stop at this time (RFC 3339) even if the data goes on.
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
    /// Deribit data: size given to each present bid and ask, in coins.
    #[arg(long, default_value = "1")]
    pub quoted_size: Decimal,
    /// An exit whose quote is older than the profile's `max_quote_age_secs`: `wait` for a
    /// fresh quote, or `model` (fill at a Black-76 price on the quote's IV and the current
    /// index; the report counts these fills).
    #[arg(long, default_value = "wait", value_parser = ["wait", "model"])]
    pub stale_quotes: String,
    /// Spot series only: Deribit DVOL CSV for the implied volatility (default: 30-day
    /// realised volatility of the series).
    #[arg(long)]
    pub iv: Option<PathBuf>,
    /// First and last time to replay (RFC 3339): snapshots before `--from` are skipped in
    /// every kind of file, and the backtest stops at `--until`.
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write one CSV row per leg here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write a standalone HTML report (equity and drawdown curves) here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Sweep: a TOML grid of `"dotted.field" = [values]`, run over the profile in parallel;
    /// prints a ranked table (and writes it as JSON with --json).
    #[arg(long)]
    pub sweep: Option<PathBuf>,
    /// Sweep: worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Options of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Deribit snapshot CSV (see `../shared/data/README.md` for the columns).
    pub input: PathBuf,
    /// Chain file to write (`.gz` compresses).
    pub output: PathBuf,
    /// Size given to each present bid and ask, in coins.
    #[arg(long, default_value = "1")]
    pub quoted_size: Decimal,
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Invalid(format!("{}: {e}", path.display()))
}

/// The data file with the command's reading options.
fn data_file(args: &BacktestArgs) -> Result<DataFile, CliError> {
    Ok(DataFile {
        quoted_size: args.quoted_size,
        iv: args.iv.clone(),
        from: args.from,
        until: args.until,
        ..DataFile::open(&args.data)?
    })
}

/// The time of the last row of an uncompressed chain file, read from its end (for the ETA).
fn last_time(path: &Path) -> Option<DateTime<Utc>> {
    if path.extension().is_some_and(|e| e == "gz") {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))
        .ok()?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).ok()?;
    let line = tail.lines().rev().find(|l| !l.trim().is_empty())?;
    DateTime::parse_from_rfc3339(line.split(',').next()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The profile to backtest, its warnings said on stderr as every command that loads one does.
async fn profile(store: Option<&Store>, args: &BacktestArgs) -> Result<Profile, CliError> {
    let p = match (store, &args.config) {
        (_, Some(p)) => profile_file::read(p),
        (Some(store), None) => configs::resolve(store, None, args.profile.as_deref()).await,
        (None, None) => Err(CliError::Invalid("pass --config or --profile".into())),
    }?;
    configs::warn(&p);
    Ok(p)
}

fn progress_bar(first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> ProgressBar {
    match (first, last) {
        (Some(a), Some(b)) if b > a => {
            let bar = ProgressBar::new(u64::try_from((b - a).num_minutes()).unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {percent:>3}% simulated · {msg} · ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        }
        _ => {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        }
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
}

/// Runs `backtest`.
pub async fn run(store: Option<Arc<Store>>, args: BacktestArgs) -> Result<(), CliError> {
    let base = profile(store.as_deref(), &args).await?;
    let bt = Backtest {
        cash: args.cash,
        poll: Duration::seconds(i64::from(args.poll.max(1))),
        until: args.until,
        stale_quotes: StaleQuotes::from_name(&args.stale_quotes).ok_or_else(|| {
            CliError::Invalid(format!(
                "--stale-quotes {}: wait or model",
                args.stale_quotes
            ))
        })?,
        ..Backtest::new(base.clone())
    };
    if let Some(grid) = &args.sweep {
        return run_sweep(&args, bt, grid).await;
    }
    let started = std::time::Instant::now();
    let data = data_file(&args)?;
    let mut feed = data.feed()?;
    let last = match data.kind {
        DataKind::Chain => last_time(&data.path),
        _ => feed.last_time(),
    };
    let bar = progress_bar(feed.peek_time(), last);
    let errors = feed.error_slot();
    let result = run_one(&bt, feed, &bar).await;
    take_error(errors.as_ref())?;
    let result = result?;
    let secs = started.elapsed().as_secs_f64();
    let report = result.report();
    crate::put!("{}", report.to_table(&result));
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "replayed {} quotes in {:.2} s ({:.0} quotes/s)",
        result.data.quotes,
        secs,
        result.data.quotes as f64 / secs.max(1e-9)
    );
    if let Some(p) = &args.json {
        write_file(p, &report.to_json(&result))?;
    }
    if let Some(p) = &args.csv {
        write_file(p, &Report::legs_csv(&result))?;
    }
    if let Some(p) = &args.html {
        write_file(p, &report.to_html(&result))?;
    }
    Ok(())
}

async fn run_one(
    bt: &Backtest,
    feed: impl strangle_core::sim::MarketFeed + 'static,
    bar: &ProgressBar,
) -> Result<BacktestResult, CliError> {
    let mut origin = None;
    let res = bt
        .run_with_progress(feed, |p| {
            let first = *origin.get_or_insert(p.data.first.unwrap_or(p.now));
            bar.set_position(u64::try_from((p.now - first).num_minutes()).unwrap_or(0));
            bar.set_message(format!(
                "{} · {} snapshots · {} sessions",
                p.now.format("%Y-%m-%d"),
                p.data.snapshots,
                p.sessions
            ));
        })
        .await;
    bar.finish_and_clear();
    res.map_err(CliError::from)
}

async fn run_sweep(args: &BacktestArgs, bt: Backtest, grid_path: &Path) -> Result<(), CliError> {
    let text = std::fs::read_to_string(grid_path).map_err(|e| invalid(grid_path, e))?;
    let table: toml::Value = toml::from_str(&text).map_err(|e| invalid(grid_path, e))?;
    let json = serde_json::to_value(table).map_err(|e| invalid(grid_path, e))?;
    let grid = Grid::from_json(&json).map_err(|e| invalid(grid_path, e))?;
    let variants = grid
        .profiles(&bt.profile)
        .map_err(|e| invalid(grid_path, e))?;
    let runs: Vec<Backtest> = variants
        .iter()
        .map(|v| Backtest {
            profile: v.profile.clone(),
            ..bt.clone()
        })
        .collect();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = ProgressBar::new(runs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} profiles · ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = {
        let bar = bar.clone();
        move |n: usize| bar.set_position(n as u64)
    };
    let data = data_file(args)?;
    let results = if data.kind == DataKind::Spot {
        let feed = data.series_feed()?;
        tokio::task::spawn_blocking(move || {
            sweep::sweep_with(&runs, threads, || feed.clone(), progress)
        })
        .await
    } else {
        let snaps = Arc::new(data.load_all()?);
        tokio::task::spawn_blocking(move || sweep::sweep(snaps, &runs, threads, progress)).await
    }
    .map_err(|e| CliError::Failed(e.to_string()))?;
    bar.finish_and_clear();
    let rows = sweep::rank(&variants, &results);
    crate::put!("{}", sweep::table(&rows));
    if let Some(p) = &args.json {
        let text =
            serde_json::to_string_pretty(&rows).map_err(|e| CliError::Failed(e.to_string()))?;
        write_file(p, &text)?;
    }
    Ok(())
}

fn write_chain<W: Write>(out: W, snaps: &[ChainSnapshot]) -> Result<W, CliError> {
    let mut w = ChainWriter::new(out).map_err(|e| CliError::Failed(e.to_string()))?;
    for s in snaps {
        w.write(s).map_err(|e| CliError::Failed(e.to_string()))?;
    }
    w.finish().map_err(|e| CliError::Failed(e.to_string()))
}

/// Runs `import`.
pub fn import(args: ImportArgs) -> Result<(), CliError> {
    let data = DataFile {
        quoted_size: args.quoted_size,
        ..DataFile::open(&args.input)?
    };
    if data.kind != DataKind::Deribit {
        return Err(invalid(&args.input, "not a Deribit snapshot CSV"));
    }
    let snaps = data.load_all()?;
    let file = std::fs::File::create(&args.output)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", args.output.display())))?;
    let failed = |e: std::io::Error| CliError::Failed(format!("{}: {e}", args.output.display()));
    if args.output.extension().is_some_and(|e| e == "gz") {
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        write_chain(gz, &snaps)?.finish().map_err(failed)?;
    } else {
        write_chain(std::io::BufWriter::new(file), &snaps)?
            .flush()
            .map_err(failed)?;
    }
    let quotes: usize = snaps.iter().map(|s| s.entries.len()).sum();
    crate::say!(
        "wrote {} snapshots ({} quotes) to {}",
        snaps.len(),
        quotes,
        args.output.display()
    );
    Ok(())
}
