//! `strangle check`: is this profile ready to run here? Config, API reachability, auth,
//! WebSocket, clock skew, wallet; with `--orders`, a round trip through the order path
//! ([`crate::cmd::check_orders`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use rust_decimal::Decimal;
use strangle_core::model::{ChainSnapshot, Underlying};
use strangle_core::profile::Profile;
use strangle_core::MarketData;
use strangle_delta::api::DeltaClient;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::wire::ws::{Channel, Frame};
use strangle_delta::ws::{WsClient, WsConfig, WsEvent};
use strangle_delta::{Credentials, Environment};
use strangle_delta_market::{LocalServer, ServerConfig};
use strangle_store::Store;

use crate::cmd::check_report::{Outcome, Report};
use crate::cmd::{configs, sim_keys};
use crate::error::CliError;
use crate::profile_file;

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Profile name or id in the ledger (default: the active profile).
    #[arg(long, short, conflicts_with = "config")]
    pub profile: Option<String>,
    /// Profile file instead of the ledger.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Delta environment (india, india-testnet, global, global-testnet, or a base URL);
    /// `sim` checks against a local market started for the check.
    #[arg(long, default_value = "india", env = "STRANGLE_ENV")]
    pub env: String,
    /// Also place one post-only order that cannot fill, find it, cancel it and confirm;
    /// arm and disarm a dead-man heartbeat; read positions and fills back. Testnet, `sim` or
    /// a local market; production needs `--live` as well.
    #[arg(long)]
    pub orders: bool,
    /// Allow `--orders` on a production environment (real account, real order).
    #[arg(long, requires = "orders")]
    pub live: bool,
}

/// Runs the checks and prints a table; fails if any check failed. The ledger at `ledger` is
/// read (never created or written) only for a stored profile: with `--config` it is not
/// opened at all.
pub async fn run(ledger: &str, args: CheckArgs) -> Result<(), CliError> {
    let mut r = Report::default();
    // 1. The profile.
    let profile = if let Some(p) = &args.config {
        profile_file::read(p)
    } else if let Some(key) = &args.profile {
        let store = Store::open_read_only(ledger, None).await?;
        configs::find(&store, key).await.and_then(|p| {
            p.profile.validate()?;
            Ok(p.profile)
        })
    } else {
        let store = Store::open_read_only(ledger, None).await?;
        match store.active_profile().await? {
            Some(p) => p
                .profile
                .validate()
                .map(|_| p.profile)
                .map_err(CliError::from),
            None => Err(CliError::NotFound("no active profile".into())),
        }
    };
    let underlying = match &profile {
        Ok(p) => {
            r.add("profile", Outcome::Pass, format!("{} is valid", p.name));
            for w in p.warnings() {
                r.add(
                    "profile",
                    Outcome::Warn,
                    format!("{}: {}", w.field, w.message),
                );
            }
            p.underlying
        }
        Err(e) => {
            r.add("profile", Outcome::Fail, e.to_string());
            Underlying::Btc
        }
    };
    // 2. Where to connect, and with which credentials.
    let _server;
    let (env, creds) = if args.env == "sim" {
        let server = LocalServer::start(ServerConfig {
            market: strangle_delta_market::sim_market_source(1, chrono::Duration::minutes(1)),
            ..ServerConfig::default()
        })
        .await?;
        let env = server.environment();
        _server = server;
        (env, Some(sim_keys::credentials()?))
    } else {
        let env: Environment = args.env.parse().map_err(CliError::Invalid)?;
        if args.orders && env.is_production() && !args.live {
            return Err(CliError::Invalid(format!(
                "--orders on {env} places a real order on the real account: try it on testnet \
                 first (--env {}-testnet), then add --live",
                if env.name().starts_with("global") {
                    "global"
                } else {
                    "india"
                }
            )));
        }
        (env, Credentials::from_env()?)
    };
    let client = DeltaClient::new(env.clone(), creds.clone())?;
    // Options settle in one asset per exchange (USD on India); the wallet is read in it.
    let mut settling = "USD".to_string();
    match client.option_products().await {
        Ok(p) => {
            if let Some(a) = p
                .iter()
                .find(|p| {
                    p.underlying_asset
                        .as_ref()
                        .is_some_and(|a| a.symbol == underlying.as_str())
                })
                .and_then(|p| p.settling_asset.as_ref())
            {
                settling = a.symbol.clone();
            }
            r.add(
                "public API",
                Outcome::Pass,
                format!(
                    "{} option products at {} ({underlying} options settle in {settling})",
                    p.len(),
                    env.rest_url()
                ),
            );
            fee_rates(&p, underlying, profile.as_ref().ok(), &mut r);
        }
        Err(e) => r.add("public API", Outcome::Fail, e.to_string()),
    }
    let ex = DeltaExchange::new(client.clone());
    let spot = match ex.chain(underlying).await {
        Ok(c) => {
            r.add(
                "option chain",
                Outcome::Pass,
                format!(
                    "{} {underlying} contracts, spot {}",
                    c.entries.len(),
                    c.spot
                ),
            );
            if let Ok(p) = &profile {
                round_trip(p, &c, &mut r);
                gates(p, &c, &mut r);
            }
            c.entries
                .first()
                .map(|e| (c.spot, e.contract.contract_size))
        }
        Err(e) => {
            r.add("option chain", Outcome::Fail, e.to_string());
            None
        }
    };
    // 3. Auth and wallet.
    if creds.is_some() {
        match client.wallet_balances().await {
            Ok(w) => {
                let usd = w.iter().find(|b| b.asset_symbol == settling);
                let avail = usd
                    .and_then(|b| b.available_balance.max(b.available_balance_for_robo))
                    .unwrap_or_default();
                r.add("auth", Outcome::Pass, "signature accepted; wallet readable");
                let need = match (&profile, spot) {
                    (Ok(p), Some((s, size))) => {
                        Some(p.contracts_per_leg * size * s * Decimal::new(2, 1))
                    }
                    _ => None,
                };
                let detail = match need {
                    Some(n) => format!("{} {settling} available; rough need for two short legs (20 % of notional): {} {settling}", avail.round_dp(2), n.round_dp(2)),
                    None => format!("{} {settling} available", avail.round_dp(2)),
                };
                let ok = need.is_none_or(|n| avail >= n);
                r.add(
                    "wallet",
                    if ok { Outcome::Pass } else { Outcome::Fail },
                    detail,
                );
            }
            Err(e) => {
                r.add("auth", Outcome::Fail, e.to_string());
                r.add("wallet", Outcome::Skip, "needs working credentials");
            }
        }
    } else {
        r.add(
            "auth",
            Outcome::Skip,
            format!(
                "no credentials ({} / {})",
                strangle_delta::credentials::KEY_VAR,
                strangle_delta::credentials::SECRET_VAR
            ),
        );
        r.add("wallet", Outcome::Skip, "needs credentials");
    }
    // 4. WebSocket.
    match env.ws_public_url() {
        Some(url) => websocket(&env, url, &mut r).await,
        None => r.add(
            "websocket",
            Outcome::Skip,
            format!("{env} documents no public market-data host: quotes come from REST"),
        ),
    }
    // 5. Clock skew (Delta signs with a 5-second window).
    let t0 = chrono::Utc::now();
    match client.server_time().await {
        Ok(Some(server)) => {
            let skew = (server - t0).num_milliseconds() as f64 / 1000.0;
            let ok = skew.abs() < 2.0;
            r.add(
                "clock skew",
                if ok { Outcome::Pass } else { Outcome::Fail },
                format!("{skew:+.3} s against the server (signatures allow 5 s)"),
            );
        }
        Ok(None) => r.add(
            "clock skew",
            Outcome::Skip,
            "the server does not publish its time",
        ),
        Err(e) => r.add("clock skew", Outcome::Skip, e.to_string()),
    }
    // 6. The order path.
    if args.orders {
        if creds.is_some() {
            crate::cmd::check_orders::run(&client, underlying, &mut r).await;
        } else {
            r.add(
                "orders",
                Outcome::Fail,
                "--orders needs credentials: nothing was sent",
            );
        }
    }
    let failed = r.print();
    if failed > 0 {
        return Err(CliError::Failed(format!("{failed} check(s) failed")));
    }
    Ok(())
}

/// The option fee rates Delta's products carry, beside the profile's: live and paper
/// engines use Delta's, so a profile that differs is warned about (its backtests and sims
/// price fees otherwise).
fn fee_rates(
    products: &[strangle_delta::wire::Product],
    underlying: strangle_core::model::Underlying,
    profile: Option<&Profile>,
    r: &mut Report,
) {
    let Some(rates) = strangle_delta::fees::FeeRates::of(products, underlying) else {
        r.add(
            "fee rates",
            Outcome::Warn,
            format!(
                "Delta's {underlying} options carry no fee rates: engines use the profile's \
                 (fees.taker_rate_pct, fees.premium_cap_pct)"
            ),
        );
        return;
    };
    match profile.and_then(|p| rates.differences(&p.fees)) {
        Some(d) => r.add(
            "fee rates",
            Outcome::Warn,
            format!(
                "Delta's {underlying} options: {rates}; live and paper engines use these, but \
                 backtests and sims use the profile's: {d}"
            ),
        ),
        None => r.add(
            "fee rates",
            Outcome::Pass,
            format!("Delta's {underlying} options: {rates}"),
        ),
    }
}

/// The profile's entry gates today (the chain's IST trading day) and on the strangle it would
/// sell now: `PASS` when they let it enter, `WARN` naming the gate that closes (a gate is a
/// choice, not a fault), `SKIP` without gates.
fn gates(p: &Profile, chain: &ChainSnapshot, r: &mut Report) {
    let g = &p.gates;
    if !g.is_set() {
        return r.add("entry gates", Outcome::Skip, "none set");
    }
    let today = strangle_core::schedule::ist_date(chain.timestamp);
    if let Err(miss) = g.check_day(today) {
        return r.add(
            "entry gates",
            Outcome::Warn,
            format!("closed today: {miss}"),
        );
    }
    let sel = match strangle_core::select::select(chain, p, chain.timestamp) {
        Ok(s) => s,
        Err(why) => {
            return r.add(
                "entry gates",
                Outcome::Skip,
                format!("{today} is open; no strangle to test the market gates on ({why})"),
            )
        }
    };
    match g.check_market(chain, sel.expiry, &sel.call, &sel.put, chain.timestamp) {
        Ok(()) => {
            r.add(
                "entry gates",
                Outcome::Pass,
                format!(
                "{today} is open, and so is the market: ATM IV {} %, pair spread {} %, {} h to \
                 expiry",
                opt(strangle_core::profile::gates::atm_iv_pct(chain, sel.expiry)),
                opt(strangle_core::profile::gates::pair_spread_pct(&sel.call, &sel.put)),
                (sel.expiry - chain.timestamp).num_hours()
            ),
            )
        }
        Err(miss) => r.add("entry gates", Outcome::Warn, format!("closed now: {miss}")),
    }
}

fn opt(v: Option<Decimal>) -> String {
    v.map_or("n/a".into(), |v| v.to_string())
}

/// The round trip of the strangle the profile would sell now, and the exit thresholds within
/// its cost (without a selection: the thresholds within the capped fees).
fn round_trip(p: &Profile, chain: &ChainSnapshot, r: &mut Report) {
    let warn = |r: &mut Report, w: Vec<strangle_core::profile::Warning>| {
        for w in w {
            r.add(
                "exit costs",
                Outcome::Warn,
                format!("{}: {}", w.field, w.message),
            );
        }
    };
    let sel = match strangle_core::select::select(chain, p, chain.timestamp) {
        Ok(s) => s,
        Err(why) => {
            r.add(
                "exit costs",
                Outcome::Skip,
                format!("no strangle to price now ({why}); thresholds checked against the fee cap"),
            );
            return warn(r, p.fee_warnings());
        }
    };
    match p.round_trip(&sel.call, &sel.put, chain.spot) {
        Some(rt) => {
            r.add(
                "exit costs",
                Outcome::Pass,
                format!(
                    "{} / {}: a round trip costs {} % of premium ({} USD fees, {} USD spread on \
                     {} USD premium); right after entry the mark PnL is −{} %",
                    sel.call.contract.symbol,
                    sel.put.contract.symbol,
                    rt.pct,
                    rt.fees.round_dp(4),
                    rt.spread.round_dp(4),
                    rt.premium.round_dp(4),
                    rt.mark_pct
                ),
            );
            warn(r, p.cost_warnings(&rt));
        }
        None => {
            r.add(
                "exit costs",
                Outcome::Skip,
                format!(
                    "{} / {} lack a bid or an ask; thresholds checked against the fee cap",
                    sel.call.contract.symbol, sel.put.contract.symbol
                ),
            );
            warn(r, p.fee_warnings());
        }
    }
}

/// Subscribes to the index price on the public WebSocket and waits for the acknowledgement.
async fn websocket(env: &Environment, url: &str, r: &mut Report) {
    let mut cfg = WsConfig::new(env.clone(), None);
    cfg.public = vec![Channel {
        name: "spot_price".into(),
        symbols: Some(vec![".DEXBTUSD".into()]),
        error: None,
    }];
    let (mut rx, ws) = WsClient::spawn(cfg, None);
    let ack = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = rx.recv().await {
            match ev {
                WsEvent::Frame { frame, .. } if matches!(*frame, Frame::Subscriptions(_)) => {
                    return Ok(())
                }
                WsEvent::Disconnected { reason, .. } => return Err(reason),
                _ => {}
            }
        }
        Err("closed".to_string())
    })
    .await;
    ws.stop();
    match ack {
        Ok(Ok(())) => r.add("websocket", Outcome::Pass, format!("subscribed at {url}")),
        Ok(Err(e)) => r.add("websocket", Outcome::Fail, e),
        Err(_) => r.add("websocket", Outcome::Fail, "no answer within 10 s"),
    }
}
