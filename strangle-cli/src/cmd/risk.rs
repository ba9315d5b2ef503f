//! `strangle risk`: the account risk governor in the ledger. Every runner on the ledger (the
//! engines of `strangle serve`, `strangle run`) reads the limits and the state from there, so
//! a limit set or a reset made here reaches them at their next step.

use std::path::PathBuf;

use chrono::Utc;
use clap::Subcommand;
use strangle_core::governor::{self, AccountRisk, RiskStatus};
use strangle_store::Store;

use crate::error::CliError;

/// What to do with the account risk governor.
#[derive(Debug, Subcommand)]
pub enum Risk {
    /// The governor's state, the day's figures and the limits.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Back to active (entries allowed again); the day is counted again from where it stands.
    Reset,
    /// Set the account's limits from a TOML or JSON file (the governor's state is kept).
    Limits {
        /// The file: `daily_loss_usd`, `mtm_stop_usd`, `mtm_target_usd`, `[lock]`,
        /// `reduce_below_available_usd`, `halt_below_available_usd`, `basis`.
        file: PathBuf,
    },
}

/// Runs one `strangle risk` command.
pub async fn run(store: &Store, cmd: Risk) -> Result<(), CliError> {
    let now = Utc::now();
    match cmd {
        Risk::Status { json } => {
            let st = governor::status(store, now, &[]).await?;
            if json {
                let v = st.map(|s| {
                    serde_json::json!({
                        "limits": s.record.limits,
                        "state": s.record.state.state,
                        "governor": s.record.state,
                        "day_pnl": s.day_pnl,
                        "open_pnl": s.open_pnl,
                        "version": s.record.version,
                        "updated_at": s.record.updated_at,
                    })
                });
                crate::say!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print_status(st.as_ref());
            }
            Ok(())
        }
        Risk::Reset => {
            let t = governor::reset(store, now, &[], "the CLI").await?;
            crate::say!("{t}");
            Ok(())
        }
        Risk::Limits { file } => {
            let limits = read_limits(&file)?;
            governor::set_limits(store, now, limits).await?;
            print_status(governor::status(store, now, &[]).await?.as_ref());
            Ok(())
        }
    }
}

/// The limits in `file` (JSON by extension, TOML otherwise); an unknown or bad field is named.
fn read_limits(file: &std::path::Path) -> Result<AccountRisk, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Invalid(format!("{}: {e}", file.display())))?;
    let json = file.extension().is_some_and(|e| e == "json");
    let parsed = if json {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| CliError::Invalid(format!("{}: {e}", file.display())))
}

fn opt(v: Option<rust_decimal::Decimal>) -> String {
    v.map_or("off".into(), |v| format!("{v} USD"))
}

fn print_status(st: Option<&RiskStatus>) {
    let Some(st) = st else {
        crate::say!("account risk: no limits set (set them with `strangle risk limits FILE`)");
        return;
    };
    let g = &st.record.state;
    let l = &st.record.limits;
    let since = g.since.map_or(String::new(), |t| {
        format!(" since {}", t.format("%Y-%m-%d %H:%M UTC"))
    });
    crate::say!("account risk: {}{since}", g.state);
    if let Some(t) = &g.trigger {
        crate::say!("  why         {t}");
    }
    crate::say!(
        "  day PnL     {} USD (from the last reset, on the {} basis)",
        st.day_pnl.round_dp(4),
        match l.basis {
            strangle_core::profile::PnlBasis::Mark => "mark",
            strangle_core::profile::PnlBasis::CloseNow => "close_now",
        }
    );
    crate::say!("  open PnL    {} USD", st.open_pnl.round_dp(4));
    if let Some(lock) = g.lock {
        crate::say!("  lock        {lock} USD (peak {})", opt(g.peak));
    }
    crate::say!(
        "  limits      daily loss {} · combined stop {} · target {} · lock {} · reduce below {} · halt below {}",
        opt(l.daily_loss_usd),
        opt(l.mtm_stop_usd),
        opt(l.mtm_target_usd),
        l.lock.as_ref().map_or("off".into(), |k| format!(
            "{} USD at {} USD",
            k.lock_usd, k.trigger_usd
        )),
        opt(l.reduce_below_available_usd),
        opt(l.halt_below_available_usd)
    );
}
