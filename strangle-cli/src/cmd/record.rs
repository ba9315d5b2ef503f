//! `strangle record`: Delta's public option chains into a chain file, for backtests later
//! (Delta keeps no option history).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Duration as StdDuration;

use clap::Args;
use strangle_core::data::chain_file::VERSION_LINE;
use strangle_core::data::ChainWriter;
use strangle_core::model::Underlying;
use strangle_core::MarketData;
use strangle_delta::api::DeltaClient;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::Environment;

use crate::error::CliError;

/// Options of `record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Chain file to write; an existing one is appended to (it must be a chain file).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Underlyings to record.
    #[arg(long, value_delimiter = ',', default_value = "BTC,ETH")]
    pub underlying: Vec<Underlying>,
    /// Seconds between two snapshots.
    #[arg(long, default_value_t = 60)]
    pub every: u64,
    /// Stop after this many rounds (default: until Ctrl-C).
    #[arg(long)]
    pub count: Option<u64>,
    /// Delta environment: india, india-testnet, global, global-testnet, or a base URL
    /// (e.g. a `strangle sim-server`).
    #[arg(long, default_value = "india", env = "STRANGLE_ENV")]
    pub env: String,
}

/// Records until Ctrl-C or `--count` rounds.
pub async fn run(args: RecordArgs) -> Result<(), CliError> {
    if args.every == 0 {
        return Err(CliError::Invalid(
            "--every must be at least 1 second".into(),
        ));
    }
    let env: Environment = args.env.parse().map_err(CliError::Invalid)?;
    let ex = DeltaExchange::new(DeltaClient::new(env, None)?);
    let exists = args.out.exists();
    if exists {
        let mut first = String::new();
        let f = std::fs::File::open(&args.out)
            .map_err(|e| CliError::Invalid(format!("{}: {e}", args.out.display())))?;
        BufReader::new(f)
            .read_line(&mut first)
            .map_err(|e| CliError::Invalid(format!("{}: {e}", args.out.display())))?;
        if first.trim_end() != VERSION_LINE {
            return Err(CliError::Conflict(format!(
                "{} exists and is not a chain file: choose another --out",
                args.out.display()
            )));
        }
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", args.out.display())))?;
    let out = std::io::BufWriter::new(file);
    let mut w = if exists {
        ChainWriter::appending(out)
    } else {
        ChainWriter::new(out).map_err(|e| CliError::Failed(e.to_string()))?
    };
    let mut last = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(StdDuration::from_secs(args.every));
    let mut rounds = 0u64;
    let mut stored = 0u64;
    let mut last_error: Option<String> = None;
    eprintln!(
        "recording {:?} every {} s into {} (Ctrl-C stops)",
        args.underlying,
        args.every,
        args.out.display()
    );
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        for u in &args.underlying {
            match ex.chain(*u).await {
                // A chain with no newer quote than the last one adds nothing.
                Ok(c) if last.get(u).is_some_and(|t| c.timestamp <= *t) => {}
                Ok(c) => {
                    last.insert(*u, c.timestamp);
                    w.write(&c).map_err(|e| CliError::Failed(e.to_string()))?;
                    w.flush().map_err(|e| CliError::Failed(e.to_string()))?;
                    stored += 1;
                    crate::say!(
                        "{} {} {} contracts, spot {}",
                        c.timestamp.to_rfc3339(),
                        u,
                        c.entries.len(),
                        c.spot
                    );
                    let _ = std::io::stdout().flush();
                }
                Err(e) => {
                    tracing::warn!(underlying = %u, error = %e, "chain not recorded");
                    last_error = Some(format!("{u}: {e}"));
                }
            }
        }
        rounds += 1;
        if args.count.is_some_and(|n| rounds >= n) {
            break;
        }
    }
    let mut out = w.finish().map_err(|e| CliError::Failed(e.to_string()))?;
    out.flush()
        .map_err(|e| CliError::Failed(format!("{}: {e}", args.out.display())))?;
    eprintln!("{stored} snapshots recorded in {}", args.out.display());
    if stored == 0 {
        return Err(CliError::Failed(match last_error {
            Some(e) => format!("nothing was recorded: the last chain read failed ({e})"),
            None => "nothing was recorded: stopped before the first chain was read".into(),
        }));
    }
    Ok(())
}
