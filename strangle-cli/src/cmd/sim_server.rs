//! `strangle sim-server`: the Delta-compatible local market, standalone.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Kolkata;
use clap::Args;
use strangle_core::clock::{Clock, ScaledClock, SystemClock};
use strangle_delta::runner::sim_market_source;
use strangle_delta::server::{demo_credentials, LocalServer, ServerConfig};
use strangle_delta::Credentials;

use crate::error::CliError;

/// Environment variable with the API key the server accepts (default `sim-key`).
pub const KEY_VAR: &str = "STRANGLE_SIM_API_KEY";
/// Environment variable with the API secret the server accepts (default: the public demo
/// secret documented in README; never printed).
pub const SECRET_VAR: &str = "STRANGLE_SIM_API_SECRET";

/// Writes a line, ignoring a closed stdout.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($out, $($arg)*);
        let _ = $out.flush();
    }};
}

/// Options of `sim-server`.
#[derive(Debug, Args)]
pub struct SimServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 8080, env = "STRANGLE_SIM_PORT")]
    pub port: u16,
    /// Seed of the simulated market.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The market's clock starts at this instant (RFC 3339) instead of now. Engines trading
    /// on this market (`strangle run --env URL`, `serve`, Python sessions) follow its clock.
    #[arg(long)]
    pub start: Option<DateTime<Utc>>,
    /// Market seconds per real second (e.g. 60 runs an hour of market in a minute).
    #[arg(long, default_value_t = 1.0, value_parser = crate::cmd::run::parse_speed)]
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
}

impl Misbehaviour {
    /// Sets the local market's fault knobs for this misbehaviour.
    fn apply(self, f: &strangle_delta::server::Faults) {
        use strangle_delta::server::{FaultKind, FaultRule, PositionRows};
        let always = |method: &str, path: &str, kind: FaultKind| {
            FaultRule::new(Some(method), Some(path), kind, u32::MAX)
        };
        let answer = |status: u16, code: &str| FaultKind::Answer {
            status,
            body: format!(r#"{{"success":false,"error":{{"code":"{code}"}}}}"#),
        };
        match self {
            Self::RejectOrders => f.add(always(
                "POST",
                "/v2/orders",
                FaultKind::RejectOrder("insufficient_margin".into()),
            )),
            Self::LoseOrders => f.add(always(
                "GET",
                "/v2/orders/client_order_id/",
                answer(404, "not_found"),
            )),
            Self::RefuseCancels => f.add(always(
                "DELETE",
                "/v2/orders",
                answer(400, "open_order_not_found"),
            )),
            Self::RefuseHeartbeats => {
                f.add(always("POST", "/v2/heartbeat", FaultKind::ServerError(503)))
            }
            Self::BarePositions => {
                f.set_position_rows(PositionRows::SizeOnly);
                f.set_margined_lagging(true);
            }
            Self::Slow => f.set_latency(std::time::Duration::from_millis(300)),
        }
    }
}

/// The credentials the local market accepts.
pub fn credentials() -> Result<Credentials, CliError> {
    match (std::env::var(KEY_VAR), std::env::var(SECRET_VAR)) {
        (Err(_), Err(_)) => Ok(demo_credentials()),
        (k, s) => Credentials::new(
            k.unwrap_or_else(|_| "sim-key".into()),
            s.unwrap_or_default(),
        )
        .map_err(|e| CliError::Invalid(format!("{KEY_VAR}/{SECRET_VAR}: {e}"))),
    }
}

/// Runs the server until Ctrl-C.
pub async fn run(args: SimServerArgs) -> Result<(), CliError> {
    let creds = credentials()?;
    let config = ServerConfig {
        addr: SocketAddr::new(args.host, args.port),
        accounts: vec![creds.clone()],
        market: sim_market_source(args.seed, chrono::Duration::seconds(5)),
        clock: match (args.start, args.speed) {
            (None, 1.0) => Arc::new(SystemClock),
            (start, speed) => Arc::new(ScaledClock::new(start.unwrap_or_else(Utc::now), speed)),
        },
        ..ServerConfig::default()
    };
    let config_clock = config.clock.clone();
    let server = LocalServer::start(config).await?;
    for m in &args.misbehave {
        m.apply(server.faults());
    }
    // Printing must never stop the server (say, when whoever reads its output goes away).
    let mut out = std::io::stdout();
    say!(
        out,
        "Delta-compatible market listening on {}",
        server.base_url()
    );
    say!(out, "  REST          {}/v2/...", server.base_url());
    say!(
        out,
        "  WebSocket     ws://{}/ws (private), ws://{}/ws/public",
        server.addr(),
        server.addr()
    );
    say!(
        out,
        "  market clock  {} ({}x)",
        config_clock
            .now()
            .with_timezone(&Kolkata)
            .format("%Y-%m-%d %H:%M:%S IST"),
        config_clock.rate().unwrap_or(1.0)
    );
    say!(out, "  API key       {}", creds.api_key);
    say!(
        out,
        "  API secret    from {SECRET_VAR} (unset: the demo secret given in README)"
    );
    if !args.misbehave.is_empty() {
        let names: Vec<String> = args
            .misbehave
            .iter()
            .filter_map(|m| clap::ValueEnum::to_possible_value(m).map(|v| v.get_name().to_string()))
            .collect();
        say!(out, "  misbehaving   {}", names.join(", "));
    }
    say!(out, "Ctrl-C stops it.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    server.shutdown();
    Ok(())
}
