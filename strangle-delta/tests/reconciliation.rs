//! Issue 30 E: after a session ends, the ledger's money is checked against Delta's own
//! records (the fills' commissions and the wallet's rows), over real HTTP to the local market.
//! Delta does not document whether its commissions include India's 18 % GST: the local
//! market can book the tax apart, and the check must then say the ledger missed it.

mod common;

use std::sync::Arc;
use strangle_core::audit::EventKind;

use chrono::Duration as Span;
use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::clock::{Clock, ManualClock};
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ledger::{Mode, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::FeeModel;
use strangle_core::profile::Profile;
use strangle_core::reconciliation::{Difference, DEFAULT_TOLERANCE_USD};
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::strategy::Status;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta_market::{demo_credentials, LocalServer, MarketSource, ServerConfig};

/// One day on the local market (fees with 18 % tax, booked apart with `tax_apart`), the
/// engine checking its session's money: the ledger's audit lines and the last heartbeat.
async fn day(tax_apart: bool) -> (Arc<MemoryLedger>, Status) {
    let start = t0() - Span::minutes(5);
    let clock = Arc::new(ManualClock::new(start));
    let market = SyntheticMarket::btc();
    let chains = market.path(
        start,
        start + Span::hours(7),
        Span::minutes(10),
        0.45,
        |t| Decimal::from(82_000) - Decimal::from(41 * ((t - start).num_minutes() / 10)),
    );
    let fees = FeeModel {
        tax_pct: dec!(18),
        ..FeeModel::default()
    };
    let server = LocalServer::start(ServerConfig {
        market: MarketSource::Replay(chains),
        clock: clock.clone(),
        fees: fees.clone(),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    server.faults().set_tax_apart(tax_apart);
    let exchange = Arc::new(DeltaExchange::new(client_with(
        &server,
        Some(demo_credentials()),
    )));
    let ledger = Arc::new(MemoryLedger::new());
    let mut profile = Profile::named("books");
    profile.contracts_per_leg = Decimal::from(5);
    profile.liquidity.max_quote_age_secs = 900;
    profile.fees = fees;
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Span::minutes(1),
        adopt: false,
        ioc_entries: false,
    };
    let (mut engine, _h) = Engine::start(profile, config, exchange, ledger.clone(), clock)
        .await
        .expect("engine");
    engine.check_money_with_venue(DEFAULT_TOLERANCE_USD);
    let status = engine
        .run_until(Some(start + Span::hours(7)))
        .await
        .expect("run");
    let l = ledger.contents();
    assert_eq!(l.sessions.len(), 1, "{:?}", l.events);
    assert_eq!(l.sessions[0].state, SessionState::Closed, "{:?}", l.events);
    assert!(
        l.sessions[0].pnl.fees > Decimal::ZERO,
        "the session paid fees"
    );
    (ledger, status)
}

/// The money check's audit lines (`books_*`), in order.
fn books_lines(
    events: &[strangle_core::ledger::AuditEvent],
) -> Vec<&strangle_core::ledger::AuditEvent> {
    events
        .iter()
        .filter(|e| e.kind.as_str().starts_with("books_"))
        .collect()
}

#[tokio::test]
async fn a_closed_session_is_checked_against_the_venues_fills_and_wallet() {
    let (ledger, status) = day(false).await;
    let l = ledger.contents();
    let checks = books_lines(&l.events);
    assert_eq!(checks.len(), 1, "one check per session: {checks:?}");
    assert_eq!(
        checks[0].kind,
        EventKind::BooksAgree,
        "{}",
        checks[0].detail
    );
    let closed = l.sessions[0].closed_at.expect("closed");
    assert_eq!(
        checks[0].at - closed,
        Span::minutes(1),
        "checked a minute after the close, when the wallet has booked"
    );
    let r = status
        .reconciliation
        .expect("the heartbeat carries the check");
    assert!(r.agrees());
    let s = &l.sessions[0];
    assert_eq!(
        r.ledger_cash - r.ledger_fees,
        s.pnl.net,
        "the ledger's own sums"
    );
    assert_eq!(
        r.wallet_cash,
        Some(r.ledger_cash),
        "the wallet's trade rows"
    );
    assert_eq!(r.wallet_fees, Some(s.pnl.fees), "the wallet's fee rows");
    assert!(status.last_error.is_none(), "{:?}", status.last_error);
}

#[tokio::test]
async fn a_tax_the_fills_leave_out_is_reported_as_fees_the_ledger_missed() {
    let (ledger, status) = day(true).await;
    let l = ledger.contents();
    let checks = books_lines(&l.events);
    assert_eq!(
        checks.len(),
        2,
        "a second look, then the report: {checks:?}"
    );
    let closed = l.sessions[0].closed_at.expect("closed");
    assert_eq!(checks[0].kind, EventKind::BooksRecheck);
    assert_eq!(checks[0].at - closed, Span::minutes(1));
    assert_eq!(checks[1].kind, EventKind::BooksDiffer);
    assert_eq!(
        checks[1].at - closed,
        Span::minutes(5),
        "a difference is looked at again 4 minutes later before it is reported"
    );
    let r = status
        .reconciliation
        .expect("the heartbeat carries the check");
    let [Difference::WalletFees {
        ledger: booked,
        venue,
    }] = r.differences[..]
    else {
        panic!("one difference, the fees: {}", r.summary());
    };
    assert_eq!(
        booked, l.sessions[0].pnl.fees,
        "the ledger booked the commissions"
    );
    assert_eq!(
        (venue - booked) / booked * Decimal::ONE_HUNDRED,
        dec!(18),
        "the wallet charged 18 % more"
    );
    assert!(
        checks[1].detail.contains("as a tax charged apart would be"),
        "{}",
        checks[1].detail
    );
    let err = status.last_error.expect("the operator is told");
    assert!(err.starts_with("books_differ: session "), "{err}");
}

/// A session that ended while no engine ran (settled at expiry) is closed by the next start's
/// recovery, and its money is checked then too: after an expiry as after an exit.
#[tokio::test]
async fn a_session_settled_while_no_engine_ran_is_checked_when_the_next_one_starts() {
    let start = t0() - Span::minutes(5);
    let clock = Arc::new(ManualClock::new(start));
    let chains = SyntheticMarket::btc().path(
        start,
        start + Span::days(2),
        Span::minutes(10),
        0.45,
        |_| Decimal::from(82_000),
    );
    let server = LocalServer::start(ServerConfig {
        market: MarketSource::Replay(chains),
        clock: clock.clone(),
        ..ServerConfig::default()
    })
    .await
    .expect("server");
    let ledger = Arc::new(MemoryLedger::new());
    let mut profile = Profile::named("settles");
    profile.contracts_per_leg = Decimal::from(5);
    profile.liquidity.max_quote_age_secs = 900;
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Span::minutes(1),
        adopt: false,
        ioc_entries: false,
    };
    let exchange = || {
        Arc::new(DeltaExchange::new(client_with(
            &server,
            Some(demo_credentials()),
        )))
    };
    {
        let (mut engine, _h) = Engine::start(
            profile.clone(),
            config,
            exchange(),
            ledger.clone(),
            clock.clone(),
        )
        .await
        .expect("engine");
        engine.check_money_with_venue(DEFAULT_TOLERANCE_USD);
        engine
            .run_until(Some(t0() + Span::hours(1)))
            .await
            .expect("run");
        // Dropped with the strangle open, as a crash would leave it.
    }
    let open = ledger.contents().sessions[0].clone();
    assert_eq!(open.state, SessionState::Open);
    clock.set(open.expiry + Span::hours(2));
    let (mut engine, _h) =
        Engine::start(profile, config, exchange(), ledger.clone(), clock.clone())
            .await
            .expect("the restart settles the session");
    engine.check_money_with_venue(DEFAULT_TOLERANCE_USD);
    let status = engine
        .run_until(Some(clock.now() + Span::minutes(5)))
        .await
        .expect("run");
    let l = ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Closed, "{:?}", l.events);
    let checks = books_lines(&l.events);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(
        checks[0].kind,
        EventKind::BooksAgree,
        "{}",
        checks[0].detail
    );
    assert_eq!(checks[0].session_id.as_ref(), Some(&open.session_id));
    let r = status.reconciliation.expect("the heartbeat carries it");
    assert!(
        r.ledger_cash != Decimal::ZERO && r.wallet_cash == Some(r.ledger_cash),
        "the settlement's cash is in both: {}",
        r.summary()
    );
}
