//! `strangle sim-server`: the Delta-compatible local market, standalone.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Kolkata;
use clap::Args;
use strangle_core::clock::{Clock, ScaledClock, SystemClock};
use strangle_core::data::source::{DataFile, DataKind};
use strangle_core::model::ChainSnapshot;
use strangle_delta::error::Secret;
use strangle_delta_market::control::{FaultSpec, Knob, Rows, Scenario};
use strangle_delta_market::sim_market_source;
use strangle_delta_market::{LocalServer, MarketSource, ServerConfig};

use crate::cmd::sim_keys::{credentials, SECRET_VAR};
use crate::cmd::values::parse_speed;
use crate::error::CliError;

/// Environment variable with the token `/admin/faults` requires (unset: no admin endpoint;
/// never printed).
pub const ADMIN_TOKEN_VAR: &str = "STRANGLE_SIM_ADMIN_TOKEN";

/// Options of `sim-server`.
#[derive(Debug, Args)]
pub struct SimServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 8080, env = "STRANGLE_SIM_PORT")]
    pub port: u16,
    /// Seed of the simulated market: the same seed, start and speed give the same quotes.
    #[arg(long, default_value_t = 1, conflicts_with = "replay")]
    pub seed: u64,
    /// The market's clock starts at this instant (RFC 3339) instead of now (with --replay:
    /// instead of the file's first snapshot). Engines trading on this market (`strangle run
    /// --env URL`, `serve`, Python sessions) follow its clock.
    #[arg(long)]
    pub start: Option<DateTime<Utc>>,
    /// Serve recorded quotes instead of the synthetic market: a chain file (`#strangle-chain
    /// v1`, optionally `.gz`) or a Deribit snapshot CSV, as `strangle backtest` reads them.
    /// Each snapshot becomes the market when the clock reaches its time; after the last one
    /// the market stands still.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// With a Deribit --replay file: size given to each present bid and ask, in coins.
    #[arg(long, default_value = "1", requires = "replay")]
    pub quoted_size: rust_decimal::Decimal,
    /// Set a fault knob from the start (repeatable): `NAME[:key=value,...]` or a JSON object,
    /// e.g. `rate_limit:path=/v2/orders,reset_ms=2000,times=3`, `latency:ms=200`,
    /// `stale_quotes`. README ("Rehearse on the local market") lists every knob.
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault)]
    pub faults: Vec<FaultSpec>,
    /// Schedule fault knobs on the market clock: a TOML (or .json) file of `[[step]]` tables,
    /// each with `after_secs = N` or `at = RFC 3339` and a fault (`fault = "latency"`, `ms =
    /// 200`).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Market seconds per real second (e.g. 60 runs an hour of market in a minute).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Make the market misbehave on purpose (repeatable): to see `strangle check --orders`
    /// (or any client) fail clearly.
    #[arg(long, value_enum)]
    pub misbehave: Vec<Misbehaviour>,
}

/// Ways `sim-server --misbehave` can break the order path, each in a shape Delta uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Misbehaviour {
    /// Every order placement is refused (400 `insufficient_margin`).
    RejectOrders,
    /// Orders are taken but never found by client id (404 `not_found`).
    LoseOrders,
    /// Every cancel is refused (400 `open_order_not_found`), so orders stay open.
    RefuseCancels,
    /// The dead-man heartbeat endpoints answer 503.
    RefuseHeartbeats,
    /// Position rows carry only size and entry price, and the margined list lags.
    BarePositions,
    /// Every answer is held 300 ms (a slow link).
    Slow,
    /// The dead-man switch cancels untriggered stop orders too (the answer Delta's docs
    /// leave open; by default this market spares them).
    CancelStops,
    /// A new order is found by its client id only 7 market seconds after it is taken
    /// (longer than strangle's default visibility lag).
    LagLookups,
    /// A second order with a client id already used is accepted (by default it is
    /// refused).
    AcceptDuplicates,
    /// The tax on fees (India's GST) is booked as wallet rows of its own and left out of the
    /// fills' commissions (by default they include it): a closed session's check against
    /// the wallet then reports fees the ledger missed.
    TaxApart,
}

impl Misbehaviour {
    /// The fault knobs this misbehaviour sets.
    fn specs(self) -> Vec<FaultSpec> {
        let always = |method: &str, path: &str, knob: Knob| FaultSpec {
            method: Some(method.into()),
            path: Some(path.into()),
            ..FaultSpec::new(knob)
        };
        let answer = |status: u16, code: &str| Knob::Answer {
            status,
            body: format!(r#"{{"success":false,"error":{{"code":"{code}"}}}}"#),
        };
        match self {
            Self::RejectOrders => vec![FaultSpec::new(Knob::RejectOrder {
                code: "insufficient_margin".into(),
            })],
            Self::LoseOrders => vec![always(
                "GET",
                "/v2/orders/client_order_id/",
                answer(404, "not_found"),
            )],
            Self::RefuseCancels => vec![always(
                "DELETE",
                "/v2/orders",
                answer(400, "open_order_not_found"),
            )],
            Self::RefuseHeartbeats => vec![always(
                "POST",
                "/v2/heartbeat",
                Knob::ServerError { status: 503 },
            )],
            Self::BarePositions => vec![
                FaultSpec::new(Knob::PositionRows {
                    rows: Rows::SizeOnly,
                }),
                FaultSpec::new(Knob::MarginedLagging { on: true }),
            ],
            Self::Slow => vec![FaultSpec::new(Knob::Latency { ms: 300 })],
            Self::CancelStops => vec![FaultSpec::new(Knob::DeadmanCancelsStops { on: true })],
            Self::LagLookups => vec![FaultSpec::new(Knob::LookupLag { ms: 7000 })],
            Self::AcceptDuplicates => vec![FaultSpec::new(Knob::DuplicateIdsAccepted { on: true })],
            Self::TaxApart => vec![FaultSpec::new(Knob::TaxApart { on: true })],
        }
    }
}

fn parse_fault(s: &str) -> Result<FaultSpec, String> {
    FaultSpec::parse(s).map_err(|e| match e {
        strangle_delta_market::MarketError::Invalid(why) => why,
        e => e.to_string(),
    })
}

/// Reads a scenario file (TOML, or JSON when it ends in `.json`).
pub fn read_scenario(path: &Path) -> Result<Scenario, CliError> {
    let invalid = |e: String| CliError::Invalid(format!("{}: {e}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
    let value: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?
    } else {
        toml::from_str(&text).map_err(|e| invalid(e.to_string()))?
    };
    Scenario::from_value(value).map_err(|e| match e {
        strangle_delta_market::MarketError::Invalid(why) => invalid(why),
        e => invalid(e.to_string()),
    })
}

/// Reads a file to replay: every snapshot, in time order.
fn read_replay(
    path: &Path,
    quoted_size: rust_decimal::Decimal,
) -> Result<Vec<ChainSnapshot>, CliError> {
    let data = DataFile {
        quoted_size,
        ..DataFile::open(path)?
    };
    if data.kind == DataKind::Spot {
        return Err(CliError::Invalid(format!(
            "{}: a spot series has no quotes to replay (give a chain file or a Deribit \
             snapshot CSV; `strangle backtest --data` prices spot series instead)",
            path.display()
        )));
    }
    let snaps = data.load_all()?;
    if snaps.is_empty() {
        return Err(CliError::Invalid(format!(
            "{}: no snapshot to replay",
            path.display()
        )));
    }
    Ok(snaps)
}

/// The admin token, from [`ADMIN_TOKEN_VAR`].
fn admin_token() -> Result<Option<Secret>, CliError> {
    match std::env::var(ADMIN_TOKEN_VAR) {
        Err(_) => Ok(None),
        Ok(t) if t.trim().len() < 16 => Err(CliError::Invalid(format!(
            "{ADMIN_TOKEN_VAR} must hold at least 16 characters"
        ))),
        Ok(t) => Ok(Some(Secret::new(t.trim()))),
    }
}

/// Runs the server until Ctrl-C.
pub async fn run(args: SimServerArgs) -> Result<(), CliError> {
    let creds = credentials()?;
    let admin = admin_token()?;
    let scenario = match &args.scenario {
        Some(p) => Some(read_scenario(p)?),
        None => None,
    };
    let replay = match &args.replay {
        Some(p) => Some(read_replay(p, args.quoted_size)?),
        None => None,
    };
    let replay_span = replay
        .as_ref()
        .and_then(|s| Some((s.first()?.timestamp, s.last()?.timestamp, s.len())));
    let start = args.start.or(replay_span.map(|(first, _, _)| first));
    let config = ServerConfig {
        addr: SocketAddr::new(args.host, args.port),
        accounts: vec![creds.clone()],
        market: match replay {
            Some(snaps) => MarketSource::Replay(snaps),
            None => sim_market_source(args.seed, chrono::Duration::seconds(5)),
        },
        clock: match (start, args.speed) {
            (None, 1.0) => Arc::new(SystemClock),
            (start, speed) => Arc::new(ScaledClock::new(start.unwrap_or_else(Utc::now), speed)),
        },
        admin_token: admin.clone(),
        origin: start,
        ..ServerConfig::default()
    };
    let config_clock = config.clock.clone();
    let started = config_clock.now();
    let mut server = LocalServer::start(config).await?;
    for spec in args
        .misbehave
        .iter()
        .flat_map(|m| m.specs())
        .chain(args.faults.iter().cloned())
    {
        server.faults().apply(&spec);
    }
    if let Some(s) = &scenario {
        server.play(s, started);
    }
    // Printing never stops the server (say, when whoever reads its output goes away).
    crate::say!("Delta-compatible market listening on {}", server.base_url());
    crate::say!("  REST          {}/v2/...", server.base_url());
    crate::say!(
        "  WebSocket     ws://{}/ws (private), ws://{}/ws/public",
        server.addr(),
        server.addr()
    );
    crate::say!(
        "  market clock  {} ({}x)",
        config_clock
            .now()
            .with_timezone(&Kolkata)
            .format("%Y-%m-%d %H:%M:%S IST"),
        config_clock.rate().unwrap_or(1.0)
    );
    match replay_span {
        Some((first, last, n)) => crate::say!("  market        replay of {} ({n} snapshots, {} to {})",
            args.replay.as_deref().unwrap_or(Path::new("")).display(),
            first.format("%Y-%m-%d %H:%M UTC"),
            last.format("%Y-%m-%d %H:%M UTC")
        ),
        None => crate::say!("  market        synthetic BTC and ETH, seed {} (same seed, start and speed: same quotes)",
            args.seed
        ),
    }
    crate::say!("  API key       {}", creds.api_key);
    crate::say!("  API secret    from {SECRET_VAR} (unset: the demo secret given in README)");
    if !args.misbehave.is_empty() {
        let names: Vec<String> = args
            .misbehave
            .iter()
            .filter_map(|m| clap::ValueEnum::to_possible_value(m).map(|v| v.get_name().to_string()))
            .collect();
        crate::say!("  misbehaving   {}", names.join(", "));
    }
    if !args.faults.is_empty() {
        let names: Vec<String> = args.faults.iter().map(|f| f.knob.name()).collect();
        crate::say!("  faults        {}", names.join(", "));
    }
    if let Some(s) = &scenario {
        crate::say!(
            "  scenario      {} step(s) from {}",
            s.steps.len(),
            args.scenario.as_deref().unwrap_or(Path::new("")).display()
        );
    }
    match &admin {
        Some(_) => crate::say!("  admin         {}/admin/faults (Authorization: Bearer, the token from {ADMIN_TOKEN_VAR})",
            server.base_url()
        ),
        None => crate::say!("  admin         off (set {ADMIN_TOKEN_VAR} to turn /admin/faults on)"),
    }
    crate::say!("Ctrl-C stops it.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    server.shutdown();
    Ok(())
}
