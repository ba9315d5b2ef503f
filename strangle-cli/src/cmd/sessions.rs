//! `strangle sessions`: the history in the ledger.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Kolkata;
use clap::Subcommand;
use strangle_core::ledger::{Mode, SessionState};
use strangle_store::{SessionFilter, Store};

use crate::error::CliError;

/// What to do with sessions.
#[derive(Debug, Subcommand)]
pub enum Sessions {
    /// List sessions, newest first.
    List {
        /// Only this profile.
        #[arg(long)]
        profile: Option<String>,
        /// Opened on or after this date (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Opened before this date (YYYY-MM-DD, UTC).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Only open or closed sessions.
        #[arg(long, value_parser = ["open", "closed"])]
        state: Option<String>,
        /// Only sessions in this mode (default: every mode; the table says which each is).
        #[arg(long, value_parser = ["live", "rehearsal", "paper", "sim", "backtest"])]
        mode: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// Sessions to skip.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one session with its legs, orders and fills.
    Show {
        /// Session id.
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also show the PnL marks over time (with --json: a `marks` list).
        #[arg(long)]
        marks: bool,
        /// With --marks: about this many (longer histories are thinned, keeping each
        /// stretch's low and high; 0 keeps every mark).
        #[arg(long, default_value_t = 40, requires = "marks")]
        points: usize,
    },
    /// Write one session's PnL marks as CSV (every mark: time, premium, gross, fees, net,
    /// close-now net, trailing level %, spot).
    Marks {
        /// Session id.
        id: String,
        /// Write here instead of standard output (`-` is standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Export sessions as CSV.
    Export {
        /// Only this profile.
        #[arg(long)]
        profile: Option<String>,
        /// Write here instead of standard output (`-` is standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn day(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

fn ist(t: DateTime<Utc>) -> String {
    t.with_timezone(&Kolkata)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Runs the subcommand.
pub async fn run(store: &Store, cmd: Sessions) -> Result<(), CliError> {
    match cmd {
        Sessions::List {
            profile,
            from,
            to,
            state,
            mode,
            limit,
            offset,
            json,
        } => {
            let mode = match mode.as_deref() {
                Some("live") => Some(Mode::Live),
                Some("paper") => Some(Mode::Paper),
                Some("rehearsal") => Some(Mode::Rehearsal),
                Some("sim") => Some(Mode::Sim),
                Some("backtest") => Some(Mode::Backtest),
                _ => None,
            };
            let state = match state.as_deref() {
                Some("open") => Some(SessionState::Open),
                Some("closed") => Some(SessionState::Closed),
                _ => None,
            };
            let f = SessionFilter {
                profile,
                from: from.map(day),
                to: to.map(day),
                state,
                mode,
                limit,
                offset,
            };
            let page = store.list_sessions(&f).await?;
            if json {
                crate::say!(
                    "{}",
                    serde_json::to_string_pretty(&page)
                        .map_err(|e| CliError::Failed(e.to_string()))?
                );
                return Ok(());
            }
            crate::say!(
                "{:<16} {:<16} {:<8} {:<8} {:<17} {:<14} {:>12}",
                "session",
                "profile",
                "mode",
                "state",
                "opened (IST)",
                "exit",
                "net USD"
            );
            for s in &page.items {
                crate::say!(
                    "{:<16} {:<16} {:<8} {:<8} {:<17} {:<14} {:>12}",
                    s.session_id,
                    s.profile,
                    s.mode.to_string(),
                    format!("{:?}", s.state).to_lowercase(),
                    ist(s.opened_at),
                    s.exit_reason.map(|r| r.to_string()).unwrap_or_default(),
                    s.pnl.net.round_dp(4)
                );
            }
            crate::say!(
                "{} of {} sessions (offset {})",
                page.items.len(),
                page.total,
                page.offset
            );
        }
        Sessions::Show {
            id,
            json,
            marks,
            points,
        } => {
            let d = store
                .session_detail(&id)
                .await?
                .ok_or_else(|| CliError::NotFound(format!("no session {id:?}")))?;
            let marks = if marks {
                let (m, total) = store
                    .marks(&id, if points == 0 { usize::MAX } else { points })
                    .await?;
                Some((m, total))
            } else {
                None
            };
            if json {
                let mut v =
                    serde_json::to_value(&d).map_err(|e| CliError::Failed(e.to_string()))?;
                if let (Some((m, total)), Some(obj)) = (&marks, v.as_object_mut()) {
                    obj.insert("marks".into(), serde_json::json!(m));
                    obj.insert("marks_total".into(), serde_json::json!(total));
                }
                crate::say!(
                    "{}",
                    serde_json::to_string_pretty(&v)
                        .map_err(|e| CliError::Failed(e.to_string()))?
                );
                return Ok(());
            }
            let s = &d.session;
            crate::say!(
                "session {} ({}, {}), {:?}",
                s.session_id,
                s.profile,
                s.mode,
                s.state
            );
            crate::say!(
                "  opened {} IST, expiry {}, planned exit {} IST",
                ist(s.opened_at),
                s.expiry,
                ist(s.planned_exit)
            );
            if let Some(r) = s.exit_reason {
                crate::say!(
                    "  exit: {r}{}",
                    s.closed_at
                        .map(|t| format!(" at {} IST", ist(t)))
                        .unwrap_or_default()
                );
            }
            for g in &s.legs {
                crate::say!(
                    "  {:<20} sold {} @ {}  bought {} @ {}  fees {}",
                    g.symbol,
                    g.book.sold,
                    g.book
                        .entry_price()
                        .map(|p| p.round_dp(4).to_string())
                        .unwrap_or("-".into()),
                    g.book.bought,
                    g.book
                        .exit_price()
                        .map(|p| p.round_dp(4).to_string())
                        .unwrap_or("-".into()),
                    g.book.fees.round_dp(6)
                );
            }
            crate::say!(
                "  premium {} USD, gross {}, fees {}, net {}",
                s.pnl.premium,
                s.pnl.gross,
                s.pnl.fees,
                s.pnl.net
            );
            crate::say!("orders:");
            for o in &d.orders {
                let r = &o.intent.request;
                crate::say!(
                    "  {:<26} {:?} {} {} @ {}  {}  filled {}",
                    r.client_order_id,
                    r.side,
                    r.size,
                    r.symbol,
                    r.limit_price
                        .map(|p| p.to_string())
                        .unwrap_or("market".into()),
                    o.state
                        .map(|s| format!("{s:?}").to_lowercase())
                        .unwrap_or("intent".into()),
                    o.filled_size
                );
            }
            crate::say!("fills:");
            for f in &d.fills {
                crate::say!(
                    "  {:<12} {:?} {} {} @ {} fee {}",
                    f.fill_id,
                    f.side,
                    f.size,
                    f.symbol,
                    f.price,
                    f.fee
                );
            }
            if let Some((m, total)) = marks {
                crate::say!("marks ({} of {total}):", m.len());
                crate::say!(
                    "  {:<17} {:>12} {:>12} {:>9} {:>12}",
                    "time (IST)",
                    "net USD",
                    "close now",
                    "trailing",
                    "spot"
                );
                let opt = |d: Option<rust_decimal::Decimal>, dp: u32| {
                    d.map(|v| v.round_dp(dp).to_string()).unwrap_or("-".into())
                };
                for k in &m {
                    crate::say!(
                        "  {:<17} {:>12} {:>12} {:>9} {:>12}",
                        ist(k.at),
                        k.pnl.net.round_dp(4),
                        opt(k.close_now_net, 4),
                        opt(k.trailing_level, 2),
                        opt(k.spot, 2)
                    );
                }
            }
        }
        Sessions::Marks { id, output } => {
            if store.session_detail(&id).await?.is_none() {
                return Err(CliError::NotFound(format!("no session {id:?}")));
            }
            let (m, _) = store.marks(&id, usize::MAX).await?;
            let opt =
                |d: Option<rust_decimal::Decimal>| d.map(|v| v.to_string()).unwrap_or_default();
            let mut csv =
                String::from("at,premium,gross,fees,net,close_now_net,trailing_level_pct,spot\n");
            for k in &m {
                csv.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\n",
                    k.at.to_rfc3339(),
                    k.pnl.premium,
                    k.pnl.gross,
                    k.pnl.fees,
                    k.pnl.net,
                    opt(k.close_now_net),
                    opt(k.trailing_level),
                    opt(k.spot)
                ));
            }
            match output.filter(|p| p.as_os_str() != "-") {
                Some(p) => std::fs::write(&p, csv)
                    .map_err(|e| CliError::Failed(format!("{}: {e}", p.display())))?,
                None => crate::put!("{csv}"),
            }
        }
        Sessions::Export { profile, output } => {
            let csv = store
                .sessions_csv(&SessionFilter {
                    profile,
                    ..SessionFilter::default()
                })
                .await?;
            match output.filter(|p| p.as_os_str() != "-") {
                Some(p) => std::fs::write(&p, csv)
                    .map_err(|e| CliError::Failed(format!("{}: {e}", p.display())))?,
                None => crate::put!("{csv}"),
            }
        }
    }
    Ok(())
}
