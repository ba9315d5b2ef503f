//! The trader's risk rules side by side on four weeks of real Deribit BTC chains
//! (2026-01-19 → 2026-02-15), when `../shared/data` holds them: the plain strangle and the
//! same profile under leg-wise stops and targets, re-entries and each entry gate, one
//! backtest each on the same replay, as one table of nets, drawdowns, sessions, how sessions
//! ended and the days each gate closed; then (e) two profiles as one account, free and under
//! the account risk governor's daily loss cap, as a portfolio backtest.
//!
//! ```sh
//! cargo run --release -p strangle-examples --example risk_rules_deribit
//! ```

use rust_decimal::Decimal;
use strangle_core::backtest::portfolio::{OperatorReset, Portfolio};
use strangle_core::backtest::Backtest;
use strangle_core::data::deribit::{self, DeribitImport};
use strangle_core::governor::AccountRisk;
use strangle_core::profile::{Profile, ReentryMode, Survivor, Weekday};
use strangle_core::sim::VecFeed;
use strangle_examples::deribit_weeks;

/// The plain profile every row starts from.
fn plain() -> Profile {
    let mut p = Profile::named("btc-deribit");
    p.contracts_per_leg = 10.into();
    // About four snapshots a day: accept quotes up to six hours old.
    p.liquidity.max_quote_age_secs = 6 * 3600;
    p
}

/// The rows: a name and how the plain profile is changed.
fn rows() -> Vec<(&'static str, Profile)> {
    let mut weekdays = plain();
    weekdays.gates.weekdays = vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let mut iv = plain();
    iv.gates.min_atm_iv_pct = Some(Decimal::from(45));
    let mut spread = plain();
    spread.gates.max_pair_spread_pct = Some(Decimal::from(15));
    let mut near = plain();
    near.gates.max_hours_to_expiry = Some(36);
    let legs = |stop: i64, on_stop| {
        let mut p = plain();
        p.leg_exit.stop_pct = Some(Decimal::from(stop));
        p.leg_exit.on_stop = on_stop;
        p
    };
    let mut target = plain();
    target.leg_exit.target_pct = Some(Decimal::from(85));
    let again = |max: u32, cooldown: u32, mode| {
        let mut p = plain();
        p.max_loss_pct = Some(Decimal::from(50));
        p.reentry.max_per_day = max;
        p.reentry.cooldown_minutes = cooldown;
        p.reentry.mode = mode;
        p
    };
    let mut tight = plain();
    tight.max_loss_pct = Some(Decimal::from(50));
    vec![
        ("(a) plain strangle", plain()),
        ("(b) leg stop 60 %, exit all", legs(60, Survivor::ExitAll)),
        ("(b) leg stop 60 %, exit leg", legs(60, Survivor::ExitLeg)),
        (
            "(b) leg stop 60 %, other to cost",
            legs(60, Survivor::ExitLegAndMoveOtherToCost),
        ),
        ("(b) leg target 85 %", target),
        ("(c) max loss 50 %, no re-entry", tight),
        (
            "(c) max loss 50 %, 1 re-entry, fresh",
            again(1, 30, ReentryMode::Fresh),
        ),
        (
            "(c) max loss 50 %, 2 re-entries, same strikes",
            again(2, 60, ReentryMode::SameStrikes),
        ),
        ("(d) weekdays Mon-Fri", weekdays),
        ("(d) ATM IV >= 45 %", iv),
        ("(d) pair spread <= 15 %", spread),
        ("(d) expiry <= 36 h", near),
    ]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(rows_read) = deribit_weeks()? else {
        return Ok(());
    };
    let snaps = deribit::to_snapshots(&rows_read, &DeribitImport::default());
    println!(
        "| rules | sessions | net USD | max drawdown USD | win rate % | exits | days without an entry |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, profile) in rows() {
        profile.validate()?;
        let r = Backtest::new(profile)
            .run(VecFeed::new(snaps.clone()))
            .await?;
        let k = r.report().kpis;
        let missed: Vec<String> = r
            .entry_days
            .missed
            .iter()
            .map(|(cause, n)| format!("{n} {cause}"))
            .collect();
        let exits: Vec<String> = r
            .report()
            .exit_reasons
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            k.sessions,
            k.totals.net.round_dp(2),
            k.max_drawdown.round_dp(2),
            k.outcomes
                .win_rate_pct
                .map_or("–".to_string(), |w| w.round_dp(1).to_string()),
            exits.join(", "),
            if missed.is_empty() {
                "none".to_string()
            } else {
                missed.join(", ")
            }
        );
    }
    portfolio(snaps).await
}

/// (e): the plain profile and a wider-delta one on the same account, free and under daily
/// loss caps; the operator resets a halt the next morning.
async fn portfolio(
    snaps: Vec<strangle_core::model::ChainSnapshot>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut wide = plain();
    wide.name = "btc-deribit-wide".into();
    wide.delta_band.low = 0.15;
    wide.delta_band.high = 0.25;
    println!();
    println!("| (e) account: plain + wide delta | sessions | net USD | max drawdown USD | governor changes |");
    println!("|---|---|---|---|---|");
    for cap in [None, Some(2), Some(1)] {
        let mut risk = AccountRisk::default();
        risk.daily_loss_usd = cap.map(Decimal::from);
        let p = Portfolio {
            runs: vec![Backtest::new(plain()), Backtest::new(wide.clone())],
            risk,
            reset: OperatorReset::NextDay,
        };
        let r = p.run(snaps.clone()).await?;
        let sessions: usize = r.runs.iter().map(|x| x.sessions.len()).sum();
        let halts = r
            .transitions
            .iter()
            .filter(|t| t.to == strangle_core::governor::RiskState::Halted)
            .count();
        println!(
            "| {} | {sessions} | {} | {} | {halts} halts |",
            cap.map_or("no limit".to_string(), |c| format!(
                "daily loss cap {c} USD"
            )),
            r.account.totals.net.round_dp(2),
            r.account.max_drawdown.round_dp(2),
        );
    }
    Ok(())
}
