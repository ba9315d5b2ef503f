//! The portfolio backtest: BTC and ETH profiles on the same synthetic days under one account
//! risk governor. Without limits every profile's result is its own backtest's; a daily loss
//! cap halts and flattens every profile, and the simulated operator's reset lets the next day
//! trade again.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::audit::EventKind;
use strangle_core::backtest::portfolio::{OperatorReset, Portfolio};
use strangle_core::backtest::Backtest;
use strangle_core::governor::{AccountRisk, RiskState, Trigger};
use strangle_core::model::{ChainSnapshot, Underlying};
use strangle_core::profile::Profile;
use strangle_core::risk::ExitReason;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::sim::VecFeed;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .expect("time")
}

/// Four days of BTC and ETH chains every 15 minutes; both rally through the day, so short
/// calls lose (BTC +60 USD, ETH +4 USD a quarter hour), and fall back overnight.
fn days() -> Vec<ChainSnapshot> {
    let end = start() + Duration::days(4);
    let step = Duration::minutes(15);
    let rally = |base: i64, per: i64| {
        move |t: DateTime<Utc>| {
            let q = (t - start()).num_minutes() / 15 % 96;
            Decimal::from(base + per * q.min(60) - per * (q - 60).max(0) * 2)
        }
    };
    let mut v = SyntheticMarket::btc().path(start(), end, step, 0.45, rally(82_000, 60));
    v.extend(SyntheticMarket::eth().path(start(), end, step, 0.55, rally(3_000, 4)));
    v
}

fn profile(name: &str, u: Underlying, contracts: i64) -> Profile {
    let mut p = Profile::named(name);
    p.underlying = u;
    p.contracts_per_leg = Decimal::from(contracts);
    p.liquidity.max_quote_age_secs = 1200;
    p
}

fn runs() -> Vec<Backtest> {
    vec![
        Backtest::new(profile("btc", Underlying::Btc, 20)),
        Backtest::new(profile("eth", Underlying::Eth, 20)),
    ]
}

fn portfolio(risk: AccountRisk, reset: OperatorReset) -> Portfolio {
    Portfolio {
        runs: runs(),
        risk,
        reset,
    }
}

#[tokio::test]
async fn without_limits_each_profile_gets_its_own_backtest_to_the_digit() {
    let r = portfolio(AccountRisk::default(), OperatorReset::NextDay)
        .run(days())
        .await
        .expect("portfolio");
    assert!(r.transitions.is_empty());
    for (b, got) in runs().iter().zip(&r.runs) {
        let alone = b.run(VecFeed::new(days())).await.expect("alone");
        assert!(alone.sessions.len() >= 3, "{}", b.profile.name);
        assert_eq!(got.sessions, alone.sessions, "{}", b.profile.name);
        assert_eq!(got.fills, alone.fills);
        assert_eq!(got.final_cash, alone.final_cash);
    }
    let net: Decimal = r
        .runs
        .iter()
        .flat_map(|x| &x.sessions)
        .map(|s| s.pnl.net)
        .sum();
    assert_eq!(r.account.totals.net, net);
    assert_eq!(r.account.daily.iter().map(|d| d.1).sum::<Decimal>(), net);
}

/// A cap a little inside the first day's combined loss.
async fn capped(
    reset: OperatorReset,
) -> (strangle_core::backtest::portfolio::PortfolioResult, Decimal) {
    let free = portfolio(AccountRisk::default(), reset)
        .run(days())
        .await
        .expect("free");
    let first_day = free.account.daily.first().expect("a day").1;
    assert!(
        first_day < dec!(-1),
        "the rally costs the strangles: {first_day}"
    );
    let mut risk = AccountRisk::default();
    risk.daily_loss_usd = Some((-first_day / dec!(2)).round_dp(2));
    let r = portfolio(risk, reset).run(days()).await.expect("capped");
    (r, first_day)
}

#[tokio::test]
async fn a_daily_loss_cap_flattens_every_profile_and_the_next_day_trades_again() {
    let (r, first_day) = capped(OperatorReset::NextDay).await;
    let halt = &r.transitions[0];
    assert_eq!((halt.from, halt.to), (RiskState::Active, RiskState::Halted));
    let Trigger::DailyLoss { day_pnl, limit } = &halt.trigger else {
        panic!("{halt}");
    };
    assert!(*day_pnl <= -*limit);
    // Both profiles were flattened by the governor on the first day.
    for run in &r.runs {
        let s = &run.sessions[0];
        assert_eq!(
            s.exit_reason,
            Some(ExitReason::AccountRisk),
            "{}",
            run.profile.name
        );
        assert!(run.events.iter().any(|e| e.kind == EventKind::AccountRisk));
    }
    let capped_day = r.account.daily.first().expect("a day").1;
    assert!(capped_day > first_day, "{capped_day} vs {first_day}");
    // The operator reset the next morning and trading went on.
    let reset = &r.transitions[1];
    assert_eq!(reset.to, RiskState::Active);
    assert!(matches!(reset.trigger, Trigger::Reset { .. }));
    assert!(r.runs.iter().all(|run| run.sessions.len() >= 3));
}

#[tokio::test]
async fn without_an_operator_a_halt_ends_the_trading() {
    let (r, _) = capped(OperatorReset::Never).await;
    assert_eq!(r.transitions.len(), 1);
    for run in &r.runs {
        assert_eq!(
            run.sessions.len(),
            1,
            "{}: nothing after the halt",
            run.profile.name
        );
    }
}

#[tokio::test]
async fn bad_limits_and_twin_names_are_refused() {
    let mut risk = AccountRisk::default();
    risk.mtm_stop_usd = Some(dec!(0));
    let err = portfolio(risk, OperatorReset::NextDay)
        .run(days())
        .await
        .expect_err("refused");
    let strangle_core::Error::InvalidProfile(v) = err else {
        panic!("{err}");
    };
    assert_eq!(v.0[0].field, "risk.mtm_stop_usd");
    let twins = Portfolio {
        runs: vec![runs().remove(0), runs().remove(0)],
        risk: AccountRisk::default(),
        reset: OperatorReset::NextDay,
    };
    assert!(twins.run(days()).await.is_err());
}
