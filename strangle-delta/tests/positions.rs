//! Positions and settlement always identified (issue 15 B), against the local market in its
//! strict modes: position rows without symbols, the margined list lagging, expired products
//! gone from the live list and from `GET /v2/products/{symbol}`.

mod common;

use std::sync::Arc;

use chrono::{Duration as Span, TimeZone, Utc};
use common::*;
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, ManualClock};
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ledger::{Ledger, Mode, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{OrderState, ProductRef, Underlying};
use strangle_core::profile::Profile;
use strangle_core::risk::ExitReason;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::{Error as CoreError, Execution, MarketData};
use strangle_delta::exchange::DeltaExchange;
use strangle_delta_market::{LocalServer, MarketSource, PositionRows, ServerConfig};

/// A market whose clock the test moves, with chains every 10 minutes for an hour from 09:25
/// IST, and an engine profile that enters at 09:30 IST.
async fn market() -> (LocalServer, Arc<ManualClock>, Arc<DeltaExchange>) {
    let start = t0() - Span::minutes(5);
    let clock = Arc::new(ManualClock::new(start));
    let chains = SyntheticMarket::btc().path(
        start,
        start + Span::hours(1),
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
    let client = client_with(&server, Some(strangle_delta_market::demo_credentials()));
    (server, clock, Arc::new(DeltaExchange::new(client)))
}

fn profile() -> Profile {
    let mut p = Profile::named("held");
    p.contracts_per_leg = Decimal::from(3);
    p.liquidity.max_quote_age_secs = 900;
    p
}

type TestEngine = Engine<Arc<DeltaExchange>, Arc<MemoryLedger>, Arc<ManualClock>>;

/// Starts the "held" profile's engine (recovery included), adopting the exchange's state
/// when `adopt`.
async fn start(
    exchange: &Arc<DeltaExchange>,
    ledger: &Arc<MemoryLedger>,
    clock: &Arc<ManualClock>,
    adopt: bool,
) -> strangle_core::Result<TestEngine> {
    let config = EngineConfig {
        mode: Mode::Live,
        poll_interval: Span::minutes(1),
        adopt,
        ioc_entries: false,
    };
    Engine::start(
        profile(),
        config,
        exchange.clone(),
        ledger.clone(),
        clock.clone(),
    )
    .await
    .map(|(engine, _handle)| engine)
}

/// Runs an engine until its strangle is entered, then drops it (a crash while short).
async fn enter(
    exchange: &Arc<DeltaExchange>,
    ledger: &Arc<MemoryLedger>,
    clock: &Arc<ManualClock>,
) -> strangle_core::ledger::SessionRecord {
    let mut engine = start(exchange, ledger, clock, false).await.expect("engine");
    engine
        .run_until(Some(clock.now() + Span::minutes(30)))
        .await
        .expect("run");
    drop(engine);
    let s = ledger
        .active_sessions("held")
        .await
        .expect("sessions")
        .pop()
        .expect("an active session");
    assert!(
        s.legs.iter().all(|g| g.book.open() == Decimal::from(3)),
        "both legs short 3: {:?}",
        s.legs
    );
    s
}

#[tokio::test]
async fn position_rows_are_tied_to_products_whatever_they_carry() {
    let (server, clock, exchange) = market().await;
    let ledger = Arc::new(MemoryLedger::new());
    let session = enter(&exchange, &ledger, &clock).await;
    let full = exchange
        .positions(Underlying::Btc)
        .await
        .expect("full rows");
    assert_eq!(full.len(), 2);
    for g in &session.legs {
        assert!(full
            .iter()
            .any(|p| p.symbol == g.symbol && p.product_id == g.product_id));
    }

    // Rows with an id only: named through the catalogue.
    server.faults().set_position_rows(PositionRows::IdOnly);
    assert_eq!(
        exchange.positions(Underlying::Btc).await.expect("ids"),
        full
    );
    // Rows with size and entry price only: named through the margined positions.
    server.faults().set_position_rows(PositionRows::SizeOnly);
    assert_eq!(
        exchange.positions(Underlying::Btc).await.expect("bare"),
        full
    );

    // ... unless those lag behind: the rows cannot be named, and that is an error that says
    // what Delta sent, never an empty list.
    server.faults().set_margined_lagging(true);
    let e = exchange
        .positions(Underlying::Btc)
        .await
        .expect_err("unidentified");
    match &e {
        CoreError::UnidentifiedPosition { underlying, row } => {
            assert_eq!(underlying, "BTC");
            assert!(
                row.contains("\"size\":\"-3\"") || row.contains("\"size\":-3"),
                "{row}"
            );
        }
        other => panic!("expected UnidentifiedPosition, got {other:?}"),
    }
    assert!(e.is_refusal());

    // Recovery with --adopt refuses rather than booking the open legs as closed.
    let before = ledger.contents();
    let r =
        strangle_core::recovery::reconcile(&*exchange, &*ledger, "held", true, clock.now()).await;
    assert!(
        matches!(r, Err(CoreError::UnidentifiedPosition { .. })),
        "{r:?}"
    );
    let after = ledger.contents();
    assert_eq!(after.sessions, before.sessions, "the ledger is unchanged");
    assert!(after.sessions[0]
        .legs
        .iter()
        .all(|g| g.book.open() == Decimal::from(3)));

    // An engine started on it stops with the refusal too.
    let started = start(&exchange, &ledger, &clock, true).await;
    assert!(matches!(
        started.err(),
        Some(CoreError::UnidentifiedPosition { .. })
    ));
}

#[tokio::test]
async fn a_session_held_through_expiry_settles_after_a_restart_days_later() {
    let (server, clock, exchange) = market().await;
    let ledger = Arc::new(MemoryLedger::new());
    let session = enter(&exchange, &ledger, &clock).await;
    let expiry = session.expiry;

    // Three days after expiry (Saturday 10:00 UTC, outside any entry window), the market has
    // moved on: the held contracts are settled, gone from the live list and (strict mode)
    // from the by-symbol endpoint too.
    let later = expiry + Span::days(3) - Span::hours(2);
    assert_eq!(
        later,
        Utc.with_ymd_and_hms(2026, 3, 14, 10, 0, 0)
            .single()
            .expect("t")
    );
    clock.set(later);
    let index_at_expiry = server
        .venue()
        .chain(Underlying::Btc)
        .await
        .expect("last chain")
        .spot;
    server.push_chain(SyntheticMarket::btc().chain(later, Decimal::from(79_000), 0.45));
    server.faults().set_expired_by_symbol_hidden(true);
    let live = exchange.client().option_products().await.expect("live");
    assert!(session
        .legs
        .iter()
        .all(|g| !live.iter().any(|c| c.symbol == g.symbol)));
    assert!(exchange
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .is_empty());

    // The index the expiry settled at is found through the expired list.
    let leg = &session.legs[0];
    let product = ProductRef {
        product_id: leg.product_id,
        symbol: leg.symbol.clone(),
    };
    assert_eq!(
        exchange.settlement_index(&product).await.expect("index"),
        Some(index_at_expiry)
    );

    // A restart (a new process: nothing cached) finds the settlement fills by product id
    // and closes the session.
    let exchange = Arc::new(DeltaExchange::new(client_with(
        &server,
        Some(strangle_delta_market::demo_credentials()),
    )));
    let mut engine = start(&exchange, &ledger, &clock, false)
        .await
        .expect("the restart reconciles");
    engine
        .run_until(Some(later + Span::minutes(5)))
        .await
        .expect("run");
    let l = ledger.contents();
    assert_eq!(l.sessions.len(), 1);
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed, "{:?}", l.events);
    assert_eq!(s.exit_reason, Some(ExitReason::Settled));
    for g in &s.legs {
        assert_eq!(g.book.open(), Decimal::ZERO, "{} is closed", g.symbol);
        let settled: Vec<_> = l
            .fills
            .iter()
            .filter(|(_, f)| f.symbol == g.symbol && f.client_order_id.is_none())
            .collect();
        assert_eq!(settled.len(), 1, "{} settled once", g.symbol);
        let contract = server
            .venue()
            .contracts()
            .into_iter()
            .find(|c| c.symbol == g.symbol)
            .expect("contract");
        assert_eq!(settled[0].1.price, contract.intrinsic(index_at_expiry));
    }
    assert_eq!(
        server.venue().cash(),
        Decimal::from(10_000) + s.pnl.net,
        "venue cash = ledger PnL"
    );
    assert!(server
        .venue()
        .all_orders()
        .iter()
        .all(|o| o.state != OrderState::Open));
}
