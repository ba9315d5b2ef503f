//! `strangle serve`: the REST API over the ledger and the engines (profiles, trading
//! control, sessions, analytics, metrics, OpenAPI document).
//!
//! Binds to 127.0.0.1 by default. Every request must carry `Authorization: Bearer <token>`:
//! the token comes from `STRANGLE_API_TOKEN`, or is generated at start and printed once in
//! the dashboard link (`http://127.0.0.1:8000/#token=…`, a fragment, which the browser never
//! sends); any address but loopback needs a token set by the operator. The request guard
//! (`guard`) refuses other hosts (DNS rebinding), cross-origin changes and non-JSON bodies.
//! Invalid input gets 422 with every field error and changes nothing; unknown ids 404;
//! conflicts 409. No CORS header is sent unless origins are named with `--cors-origin` (never
//! a wildcard). The web dashboard is served at `/`.

mod configs;
mod control;
mod error;
mod guard;
mod metrics;
mod profile_cache;
mod risk;
mod routes;
mod sessions;
mod snapshot;
pub mod trading;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::Args;
use strangle_delta::Environment;
use strangle_delta_runtime::SimTime;
use strangle_store::Store;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::cmd::run::{notifier, Market};
use crate::cmd::sim_keys;
use crate::error::CliError;

/// Environment variable holding the API token.
pub const TOKEN_VAR: &str = "STRANGLE_API_TOKEN";

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs a token.
    #[arg(long, default_value = "127.0.0.1:8000", env = "STRANGLE_LISTEN")]
    pub listen: SocketAddr,
    /// Market a started profile trades on unless the request names one.
    #[arg(long, value_enum, default_value = "sim", env = "STRANGLE_MARKET")]
    pub market: Market,
    /// Delta environment for paper and live: india, india-testnet, global, global-testnet,
    /// or a base URL.
    #[arg(long, default_value = "india", env = "STRANGLE_ENV")]
    pub env: String,
    /// Allow starting profiles on the live market (needs credentials in the environment).
    #[arg(long)]
    pub live: bool,
    /// Seed of the simulated market.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds between engine steps (simulated seconds with --sim-speed).
    #[arg(long, default_value_t = 5)]
    pub poll: u32,
    /// Simulated market only: the simulated time when the server starts (RFC 3339), e.g.
    /// a minute before the entry window; default now.
    #[arg(long)]
    pub sim_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Simulated market only: simulated seconds per real second.
    #[arg(long, default_value_t = 1.0, value_parser = crate::cmd::values::parse_speed)]
    pub sim_speed: f64,
    /// A browser origin allowed to call the API (repeatable), e.g. `https://ops.example.com`.
    /// Without it no cross-origin request is allowed; `*` is refused.
    #[arg(
        long = "cors-origin",
        env = "STRANGLE_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Another host name the server answers to (repeatable), e.g. `ops.lan` when reached by
    /// name over a network. Loopback names and the listen address are always allowed; any
    /// other `Host` is refused, which defeats DNS rebinding.
    #[arg(
        long = "allow-host",
        env = "STRANGLE_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,
    /// Seconds the engines may take to stop after SIGINT/SIGTERM (flattening open legs)
    /// before the process exits anyway, naming every open leg.
    #[arg(long, default_value_t = crate::signals::STOP_DEADLINE_SECS, env = "STRANGLE_STOP_DEADLINE")]
    pub stop_deadline: u64,
}

/// Shared state of the API.
pub struct Api {
    store: Arc<Store>,
    token: String,
    trading: Arc<trading::Trading>,
    metrics: metrics::Metrics,
    /// `GET /api/configs`'s body for the profile list it was made from.
    configs_json: configs::ListJson,
    /// The profiles, as the read routes see them.
    profiles: Arc<profile_cache::ProfileCache>,
}

/// The API token from the environment (never from the command line, never printed).
pub fn token() -> Option<String> {
    std::env::var(TOKEN_VAR)
        .ok()
        .filter(|t| !t.trim().is_empty())
}

/// A fresh token for this run: 32 random bytes, hex.
fn generated_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A body of JSON text already written, as an answer.
fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn require_token(
    State(api): State<Arc<Api>>,
    req: Request,
    next: Next,
) -> Result<Response, error::ApiError> {
    let page = req.method() == Method::GET && web::PUBLIC.contains(&req.uri().path());
    if !page {
        let t = &api.token;
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compare without an early exit on the first differing byte.
        let ok = given.is_some_and(|g| {
            g.len() == t.len()
                && g.bytes()
                    .zip(t.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if !ok {
            return Err(error::ApiError::Unauthorized);
        }
    }
    Ok(next.run(req).await)
}

fn cors(origins: &[String]) -> Result<Option<CorsLayer>, CliError> {
    if origins.is_empty() {
        return Ok(None);
    }
    let mut list = Vec::with_capacity(origins.len());
    for o in origins {
        let o = o.trim();
        let ok = (o.starts_with("http://") || o.starts_with("https://"))
            && !o.contains('*')
            && !o
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .contains('/');
        if !ok {
            return Err(CliError::Invalid(format!(
                "--cors-origin {o:?}: expected an origin such as https://ops.example.com (no wildcard, no path)"
            )));
        }
        list.push(HeaderValue::from_str(o).map_err(|_| {
            CliError::Invalid(format!("--cors-origin {o:?}: not a valid header value"))
        })?);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
    ))
}

fn markets(args: &ServeArgs) -> Result<trading::MarketSettings, CliError> {
    let env: Environment = args.env.parse().map_err(CliError::Invalid)?;
    let live = if args.live {
        Some(strangle_delta_runtime::live_credentials(None)?)
    } else if matches!(args.market, Market::Live) {
        return Err(CliError::Refused(
            "--market live sends real orders: add --live to confirm".into(),
        ));
    } else {
        None
    };
    Ok(trading::MarketSettings {
        default: match args.market {
            Market::Sim => trading::MarketKind::Sim,
            Market::Paper => trading::MarketKind::Paper,
            Market::Live => trading::MarketKind::Live,
        },
        env,
        seed: args.seed,
        sim_time: SimTime::from_parts(
            args.sim_start,
            (args.sim_speed != 1.0).then_some(args.sim_speed),
            None,
            chrono::Utc::now(),
        )?,
        sim_credentials: sim_keys::credentials()?,
        live,
        poll: chrono::Duration::seconds(i64::from(args.poll.max(1))),
    })
}

/// Everything the API needs besides the ledger.
pub struct ApiSettings {
    /// The bearer token every request but the page's files must carry.
    pub token: String,
    /// The address the server listens on (its own `Host`, always allowed).
    pub listen: SocketAddr,
    /// Other host names the server answers to.
    pub allow_hosts: Vec<String>,
    /// Browser origins allowed to call the API (checked: no wildcard, no path).
    pub cors_origins: Vec<String>,
    /// What engines may be started on.
    pub markets: trading::MarketSettings,
    /// Where engine failures are announced, if anywhere.
    pub notifier: Option<strangle_delta_runtime::notify::Notifier>,
}

/// The API as a service: the router with every guard, and the engines it controls.
pub struct App {
    /// Every route behind the host, origin, content-type and token checks.
    pub router: axum::Router,
    /// The engines started through the API (stop them before dropping the app).
    pub trading: Arc<trading::Trading>,
}

/// Builds the API over `store`: the same router `serve` listens with, so tests can drive it
/// in process (`tower::ServiceExt::oneshot`).
pub fn app(store: Arc<Store>, settings: ApiSettings) -> Result<App, CliError> {
    let cors = cors(&settings.cors_origins)?;
    let allowed = Arc::new(guard::Allowed::new(
        settings.listen,
        &settings.allow_hosts,
        &settings.cors_origins,
    ));
    let profiles = Arc::new(profile_cache::ProfileCache::default());
    // The account risk governor looks as often as the engines step.
    let govern_every = settings
        .markets
        .poll
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(5))
        .max(std::time::Duration::from_millis(100));
    let trading = Arc::new(trading::Trading::new(
        store.clone(),
        profiles.clone(),
        settings.markets,
        settings.notifier,
    ));
    trading.spawn_governor(govern_every);
    let api = Arc::new(Api {
        store,
        token: settings.token,
        trading: trading.clone(),
        metrics: metrics::Metrics::new(),
        configs_json: configs::ListJson::default(),
        profiles,
    });
    let mut router =
        routes::router(api.clone()).layer(axum::middleware::from_fn_with_state(api, require_token));
    // Outside the token check, so a browser's preflight is answered before it.
    if let Some(c) = cors {
        router = router.layer(c);
    }
    // Outermost: the host, origin and content-type checks, then one JSON shape for errors.
    let router = router
        .layer(axum::middleware::from_fn_with_state(allowed, guard::check))
        .layer(axum::middleware::from_fn(guard::json_errors));
    Ok(App { router, trading })
}

/// Serves until Ctrl-C, then stops every engine (flattening open legs).
pub async fn run(store: Arc<Store>, args: ServeArgs) -> Result<(), CliError> {
    let set_token = token();
    if !args.listen.ip().is_loopback() && set_token.is_none() {
        return Err(CliError::Refused(format!(
            "refusing to listen on {} without an API token: set {TOKEN_VAR}, or listen on 127.0.0.1",
            args.listen
        )));
    }
    let generated = set_token.is_none();
    let token = set_token.unwrap_or_else(generated_token);
    let App { router, trading } = app(
        store,
        ApiSettings {
            token: token.clone(),
            listen: args.listen,
            allow_hosts: args.allow_hosts.clone(),
            cors_origins: args.cors_origins.clone(),
            markets: markets(&args)?,
            notifier: notifier()?,
        },
    )?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Failed(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    crate::say!("strangle API listening on http://{addr}");
    if generated {
        // The one place this token is shown: a fragment, which browsers never send.
        crate::say!("  dashboard     http://{addr}/#token={token}");
        crate::say!("  (a token for this run only; set {TOKEN_VAR} to choose one)");
    } else {
        // A token the operator chose is never printed: the page asks for it.
        crate::say!("  dashboard     http://{addr}/  (it asks for the token in {TOKEN_VAR})");
    }
    // The first SIGINT/SIGTERM closes the listener and stops every engine (flattening open
    // legs); a second one, or the stop deadline, ends the process at once naming open legs.
    let mut signals = crate::signals::Signals::listen()?;
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let name = signals.next().await;
            let _ = first_tx.send((name, signals));
        })
        .await
        .map_err(|e| CliError::Failed(e.to_string()));
    let Ok((name, mut signals)) = first_rx.await else {
        return served;
    };
    if !trading.running_ids().await.is_empty() {
        let deadline = std::time::Duration::from_secs(args.stop_deadline);
        eprintln!(
            "{}: stopping the running engines, flattening open legs (a second signal, or {} s, \
             exits at once)",
            name.unwrap_or("shutdown"),
            deadline.as_secs()
        );
        tokio::select! {
            () = trading.stop_all() => {}
            why = signals.second_or(deadline) => {
                let states: Vec<_> = trading.states().await.into_iter().map(|(_, s)| s).collect();
                return Err(CliError::Failed(crate::signals::abandoned(&why, &states)));
            }
        }
    }
    served
}
