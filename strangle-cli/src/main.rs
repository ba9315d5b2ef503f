//! The `strangle` binary: a thin front over the core, the Delta adapter and the ledger.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use strangle_store::Store;

use strangle_cli::error::CliError;
use strangle_cli::{cmd, serve};

/// mimalloc in place of the system allocator: the API server allocates per request from
/// several threads, and glibc's malloc and free (with their lock waits and
/// `malloc_consolidate`) were about a tenth of its time under load (benches/BENCHMARKS.md,
/// 2026-12-03).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Delta-targeted short strangles on BTC/ETH options on Delta Exchange.
///
/// Exit codes: 0 success, 1 failure while running, 2 bad command line, 3 invalid input
/// (profile file, argument value), 4 not found, 5 conflict (duplicate name, profile already
/// running, active profile), 6 refused for safety (live without --live or credentials, ledger
/// and exchange disagree), 130 a second Ctrl-C exited at once.
#[derive(Debug, Parser)]
#[command(name = "strangle", version, about, long_about)]
struct Cli {
    /// The ledger: a SQLite file (default) or a postgres:// URL.
    #[arg(
        long,
        global = true,
        default_value = "strangle.db",
        env = "STRANGLE_LEDGER"
    )]
    ledger: String,
    /// More log output (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors in the log.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "STRANGLE_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a profile until stopped (sim by default: no network, no keys).
    Run(cmd::run::RunArgs),
    /// Backtest a profile (or a sweep of profiles) on recorded or imported chains.
    Backtest(cmd::backtest::BacktestArgs),
    /// Record Delta's public option chains into a chain file (for backtests).
    Record(cmd::record::RecordArgs),
    /// Convert Deribit option-chain snapshots (CSV) into a chain file.
    Import(cmd::backtest::ImportArgs),
    /// Check a profile and the environment: config, API, auth, WebSocket, clock, wallet.
    Check(cmd::check::CheckArgs),
    /// Manage profiles in the ledger.
    #[command(subcommand)]
    Configs(cmd::configs::Configs),
    /// Browse and export sessions.
    #[command(subcommand)]
    Sessions(cmd::sessions::Sessions),
    /// The account risk governor: status, limits, the operator's reset.
    #[command(subcommand)]
    Risk(cmd::risk::Risk),
    /// Serve the REST API over the ledger (profiles, sessions, analytics).
    Serve(serve::ServeArgs),
    /// Start the Delta-compatible local market standalone.
    SimServer(cmd::sim_server::SimServerArgs),
    /// Print version, git commit, build profile and features.
    Version,
}

fn init_logs(cli: &Cli) {
    let level = if cli.quiet {
        "error"
    } else {
        match cli.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRANGLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Version => {
            strangle_cli::say!("strangle {}", env!("CARGO_PKG_VERSION"));
            strangle_cli::say!("commit   {}", env!("STRANGLE_GIT_COMMIT"));
            strangle_cli::say!("profile  {}", env!("STRANGLE_BUILD_PROFILE"));
            strangle_cli::say!("ledgers  sqlite, postgres");
            strangle_cli::say!("markets  sim, paper, live (Delta Exchange India and Global)");
            Ok(())
        }
        Command::SimServer(args) => cmd::sim_server::run(args).await,
        Command::Import(args) => cmd::backtest::import(args),
        Command::Record(args) => cmd::record::run(args).await,
        Command::Backtest(args) => {
            // The ledger is read (never created) only to find a stored profile.
            let store = match args.config {
                Some(_) => None,
                None => Some(Arc::new(Store::open_read_only(&cli.ledger, None).await?)),
            };
            cmd::backtest::run(store, args).await
        }
        Command::Check(args) => cmd::check::run(&cli.ledger, args).await,
        Command::Serve(args) => {
            let store = Arc::new(Store::open(&cli.ledger).await?);
            closed(&store, serve::run(store.clone(), args).await).await
        }
        Command::Configs(c) => {
            let store = Store::open(&cli.ledger).await?;
            closed(&store, cmd::configs::run(&store, c).await).await
        }
        Command::Sessions(c) => {
            let store = Store::open(&cli.ledger).await?;
            closed(&store, cmd::sessions::run(&store, c).await).await
        }
        Command::Risk(c) => {
            let store = Store::open(&cli.ledger).await?;
            closed(&store, cmd::risk::run(&store, c).await).await
        }
        Command::Run(args) => {
            let store = Arc::new(Store::open(&cli.ledger).await?);
            closed(&store, cmd::run::run(store.clone(), args).await).await
        }
    }
}

/// Closes the ledger after a command (a SQLite ledger is checkpointed into its one file) and
/// gives the command's result; a failure to close is the result when the command succeeded.
async fn closed(store: &Store, result: Result<(), CliError>) -> Result<(), CliError> {
    let close = store.close().await;
    result?;
    Ok(close?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.code()
        }
    }
}
