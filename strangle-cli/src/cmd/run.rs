//! `strangle run`: one profile's engine, until stopped (or for a simulated span).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Asia::Kolkata;
use clap::{Args, ValueEnum};
use strangle_core::engine::{EngineCommand, EngineHandle};
use strangle_core::governor;
use strangle_core::strategy::{Phase, Status};
use strangle_delta::Environment;
use strangle_delta_runtime::notify::{Notifier, NotifyConfig};
use strangle_delta_runtime::{
    LiveRequest, MarketKind, MarketRequest, RunSpec, RunningEngine, SimRequest,
};
use strangle_store::{SessionFilter, Store};

use crate::cmd::values::{parse_span, parse_speed};
use crate::cmd::{configs, sim_keys};
use crate::error::CliError;
use crate::signals::{abandoned, Signals};

/// Which market the engine trades on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Market {
    /// The Delta-compatible market in this process: no network, no keys.
    Sim,
    /// Delta's public market data with simulated fills.
    Paper,
    /// Real orders on Delta Exchange (needs credentials and --live).
    Live,
}

impl Market {
    /// The runtime's market kind.
    pub fn kind(self) -> MarketKind {
        match self {
            Self::Sim => MarketKind::Sim,
            Self::Paper => MarketKind::Paper,
            Self::Live => MarketKind::Live,
        }
    }
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Profile name or id in the ledger (default: the active profile).
    #[arg(long, short, conflicts_with = "config")]
    pub profile: Option<String>,
    /// Profile file (TOML or JSON) instead of the ledger.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Market to trade on.
    #[arg(long, value_enum, default_value = "sim", env = "STRANGLE_MARKET")]
    pub market: Market,
    /// Delta environment for paper and live: india, india-testnet, global, global-testnet,
    /// or a base URL.
    #[arg(long, default_value = "india", env = "STRANGLE_ENV")]
    pub env: String,
    /// Confirms that real orders may be sent (required with --market live).
    #[arg(long)]
    pub live: bool,
    /// Sim only: run this much simulated time as fast as possible (e.g. 5d, 12h, 90m), then
    /// stop and print the sessions.
    #[arg(long, value_parser = parse_span)]
    pub fast_forward: Option<Duration>,
    /// Sim only: simulated start time (RFC 3339); default now.
    #[arg(long)]
    pub start: Option<DateTime<Utc>>,
    /// Sim only, without --fast-forward: simulated seconds per real second (e.g. 60 runs an
    /// hour of market in a minute).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Sim only: seed of the simulated market.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds between engine steps (with --fast-forward: simulated seconds, at least 60).
    #[arg(long, default_value_t = 5)]
    pub poll: u32,
    /// Accept the exchange's positions when they differ from the ledger.
    #[arg(long)]
    pub adopt: bool,
    /// Seconds between status lines (0 turns them off).
    #[arg(long, default_value_t = 10)]
    pub status_every: u64,
    /// Seconds a stop may take after SIGINT/SIGTERM (flattening open legs) before the
    /// process exits anyway, naming every open leg.
    #[arg(long, default_value_t = crate::signals::STOP_DEADLINE_SECS)]
    pub stop_deadline: u64,
}

fn status_line(s: &Status) -> String {
    let mut line = format!(
        "[{}] {:?}",
        s.at.with_timezone(&Kolkata).format("%d %b %H:%M:%S IST"),
        s.phase
    );
    for g in &s.legs {
        line.push_str(&format!(
            " | {} {} @ {} mark {}",
            g.symbol,
            g.open,
            g.entry_price
                .map(|p| p.round_dp(2).to_string())
                .unwrap_or("-".into()),
            g.mark
                .map(|p| p.round_dp(2).to_string())
                .unwrap_or("-".into())
        ));
    }
    if let Some(p) = s.pnl {
        line.push_str(&format!(" | PnL {} USD", p.net.round_dp(4)));
    }
    if let Some(pct) = s.pnl_pct {
        line.push_str(&format!(" ({}%)", pct.round_dp(2)));
    }
    if let Some(t) = s.trailing_level {
        line.push_str(&format!(" | trail {t}%"));
    }
    match (s.phase, s.next_entry, s.planned_exit) {
        // Inside the entry window with nothing qualifying: say why, with the nearest contracts.
        (Phase::Waiting, _, _) if s.no_entry_reason.is_some() => {
            if let Some(why) = &s.no_entry_reason {
                line.push_str(&format!(" | not entering: {why}"));
            }
        }
        (Phase::Waiting, Some(t), _) => line.push_str(&format!(
            " | next entry {}",
            t.with_timezone(&Kolkata).format("%d %b %H:%M IST")
        )),
        (_, _, Some(t)) => line.push_str(&format!(
            " | exit at {}",
            t.with_timezone(&Kolkata).format("%d %b %H:%M IST")
        )),
        _ => {}
    }
    if let Some(why) = &s.stale_quotes {
        line.push_str(&format!(" | {why}"));
    }
    if let Some(src) = &s.quote_source {
        line.push_str(&format!(" | quotes: {src}"));
    }
    line
}

/// Runs the engine.
pub async fn run(store: Arc<Store>, args: RunArgs) -> Result<(), CliError> {
    let profile = configs::resolve(&store, args.config.as_deref(), args.profile.as_deref()).await?;
    configs::warn(&profile);
    if args.config.is_some() {
        configs::say_changes(&store, &profile).await?;
    }
    let env: Environment = args.env.parse().map_err(CliError::Invalid)?;
    // Every safety check comes before the lease, so a refused run leaves nothing behind.
    let mut request = MarketRequest::new(args.market.kind(), env);
    request.sim = SimRequest {
        seed: args.seed,
        credentials: Some(sim_keys::credentials()?),
        start: args.start,
        speed: (args.speed != 1.0).then_some(args.speed),
        fast_forward: args.fast_forward,
        shared: None,
    };
    request.live = LiveRequest {
        confirmed: args.live,
        how_to_confirm: "add --live to confirm",
        credentials: None,
    };
    let market = request.build(Utc::now())?;
    if let Some(ff) = market.fast_forward() {
        refuse_replay(&store, &profile.name, ff.start, ff.span).await?;
    }
    let fast = args.fast_forward.is_some();
    // A reducing or halted account (the ledger's governor) holds entries from the first step.
    let account_risk = if fast {
        None
    } else {
        governor::starting_state(&*store).await?
    };
    let spec = RunSpec {
        poll: Duration::seconds(i64::from(args.poll.max(if fast { 60 } else { 1 }))),
        adopt: args.adopt,
        account_risk,
        ..RunSpec::new(profile, market)
    };
    // The engine takes the profile's lease on the ledger, and gives it up when it ends.
    let deadline = StdDuration::from_secs(args.stop_deadline);
    drive(store.clone(), spec, args.status_every, deadline).await
}

async fn drive(
    store: Arc<Store>,
    spec: RunSpec,
    status_every: u64,
    deadline: StdDuration,
) -> Result<(), CliError> {
    let name = spec.profile.name.clone();
    let spec_risk = spec.account_risk.as_ref().map(|r| r.0);
    let poll = spec.poll.to_std().unwrap_or(StdDuration::from_secs(5));
    let notifier = notifier()?;
    // Listen for signals before the engine starts: from its first order on, a signal
    // flattens (one with no listener yet would end the process with legs open).
    let signals = Signals::listen()?;
    let running = RunningEngine::start(spec, store.clone())
        .await?
        .with_notifier(notifier.clone());
    let fast = running.until().is_some();
    let running_until = running.until();
    let started_at = running.started_at();
    eprintln!(
        "running profile {name:?} on the {} market; Ctrl-C stops (flattening open legs)",
        running.mode()
    );
    let handle = running.handle().clone();
    let status_task = (status_every > 0 && !fast).then(|| {
        let h = handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(StdDuration::from_secs(status_every));
            loop {
                every.tick().await;
                eprintln!("{}", status_line(&h.status()));
            }
        })
    });
    // The account risk governor on the ledger, as `serve` runs it (not for a fast-forward,
    // whose days pass faster than the wall clock the governor counts them by).
    let governing = (!fast).then(|| {
        let told = governor::Told::started_with(spec_risk);
        tokio::spawn(govern(
            store.clone(),
            handle.clone(),
            poll,
            told,
            notifier.clone(),
        ))
    });
    let stopped_by = Arc::new(std::sync::Mutex::new(None));
    let signals = tokio::spawn(on_signals(handle, signals, deadline, stopped_by.clone()));
    let res = running.wait().await;
    signals.abort();
    if let Some(g) = governing {
        g.abort();
    }
    if let Some(t) = status_task {
        t.abort();
    }
    store.flush().await?;
    let status = res?;
    eprintln!("{}", status_line(&status));
    if let Some(until) = running_until {
        print_sessions(&store, &name, started_at, until).await?;
        // A fast-forward stopped by a signal did not run its span: said, and not a success.
        let signal = stopped_by.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(signal) = signal {
            let days = |d: Duration| d.num_minutes() as f64 / 1440.0;
            return Err(CliError::Failed(format!(
                "{signal}: stopped after {:.1} of {:.1} simulated days (at {})",
                days(status.at - started_at),
                days(until - started_at),
                status.at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
    }
    Ok(())
}

/// Runs the account risk governor over the ledger every `every`, telling the engine each
/// change of state and notifying each transition (see [`governor::tick`]).
async fn govern(
    store: Arc<Store>,
    handle: EngineHandle,
    every: StdDuration,
    mut told: governor::Told,
    notifier: Option<Notifier>,
) {
    loop {
        tokio::time::sleep(every).await;
        let mut engines = [(&handle, &mut told)];
        match strangle_delta_runtime::governor::round(
            &*store,
            Utc::now(),
            &mut engines,
            notifier.as_ref(),
        )
        .await
        {
            Ok(t) => {
                if let Some(tr) = &t.transition {
                    eprintln!("{tr}");
                }
            }
            Err(e) => tracing::warn!(error = %e, "account risk check failed"),
        }
    }
}

/// A fast-forward over days the ledger already holds sessions of this profile for would find
/// them done and print them again: refused, saying what to do instead.
async fn refuse_replay(
    store: &Store,
    profile: &str,
    start: DateTime<Utc>,
    span: Duration,
) -> Result<(), CliError> {
    let f = SessionFilter {
        profile: Some(profile.to_string()),
        from: Some(start),
        to: Some(start + span),
        ..SessionFilter::default()
    };
    let held = store.all_sessions(&f).await?;
    let (Some(first), Some(last)) = (
        held.iter().map(|s| s.opened_at).min(),
        held.iter().map(|s| s.opened_at).max(),
    ) else {
        return Ok(());
    };
    Err(CliError::Conflict(format!(
        "the ledger already holds {} sessions of profile {profile:?} opened from {} to {} \
         (the days this fast-forward would run): give a fresh ledger (--ledger new.db), or \
         --start after {}",
        held.len(),
        first.format("%Y-%m-%d %H:%M UTC"),
        last.format("%Y-%m-%d %H:%M UTC"),
        last.date_naive()
    )))
}

/// The notifier configured by `STRANGLE_WEBHOOK_URL` / `STRANGLE_TELEGRAM_*`, if any.
pub fn notifier() -> Result<Option<Notifier>, CliError> {
    let config = NotifyConfig::from_env().map_err(|e| CliError::Invalid(e.to_string()))?;
    Ok(if config.is_enabled() {
        Some(Notifier::new(config)?)
    } else {
        None
    })
}

/// First SIGINT/SIGTERM: stop (flatten, then stop). A second one, or the stop deadline
/// passing first: exit at once, saying what is open.
async fn on_signals(
    handle: EngineHandle,
    mut signals: Signals,
    deadline: StdDuration,
    stopped_by: Arc<std::sync::Mutex<Option<String>>>,
) {
    let Some(name) = signals.next().await else {
        return;
    };
    *stopped_by.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_string());
    eprintln!(
        "{name}: stopping, flattening open legs (a second signal, or {} s, exits at once)",
        deadline.as_secs()
    );
    handle.send(EngineCommand::Stop);
    let why = signals.second_or(deadline).await;
    eprintln!("{}", abandoned(&why, &[handle.status()]));
    std::process::exit(130);
}

/// The sessions of `profile` this run opened (from `from` to `until`) and their totals.
async fn print_sessions(
    store: &Store,
    profile: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(), CliError> {
    let f = SessionFilter {
        profile: Some(profile.to_string()),
        from: Some(from),
        to: Some(until),
        ..SessionFilter::default()
    };
    let all = store.all_sessions(&f).await?;
    crate::say!(
        "{:<16} {:<20} {:<20} {:<14} {:>10} {:>12}",
        "session",
        "call",
        "put",
        "exit",
        "premium",
        "net USD"
    );
    for s in &all {
        crate::say!(
            "{:<16} {:<20} {:<20} {:<14} {:>10} {:>12}",
            s.session_id,
            s.legs.first().map_or("", |g| g.symbol.as_str()),
            s.legs.get(1).map_or("", |g| g.symbol.as_str()),
            s.exit_reason
                .map(|r| r.to_string())
                .unwrap_or_else(|| format!("{:?}", s.state).to_lowercase()),
            s.pnl.premium.round_dp(4),
            s.pnl.net.round_dp(4)
        );
    }
    let a = store.analytics(&f).await?;
    crate::say!(
        "{} sessions, net {} USD, fees {} USD, win rate {}%",
        a.sessions,
        a.totals.net.round_dp(4),
        a.totals.fees.round_dp(4),
        a.outcomes.win_rate_pct.unwrap_or_default().round_dp(1)
    );
    Ok(())
}
