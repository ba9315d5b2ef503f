//! Regression (found by the fault scenarios with a WebSocket quote stream, seeds 437, 709,
//! 731, 784): an exit order refused by the venue left its leg waiting for a *newer* quote
//! before the next attempt. When none came (the venue stopped quoting the leg, or quotes
//! arrived stamped older), the leg was never bought back and the session stayed `exiting`
//! past its deadline. The next exit order now goes out after `fill_wait_secs` at the latest.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use common::*;
use rust_decimal::Decimal;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineCommand, EngineConfig};
use strangle_core::error::{ExchangeErrorKind, Result};
use strangle_core::exchange::Split;
use strangle_core::ledger::{Mode, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{ChainSnapshot, Quote, Underlying};
use strangle_core::sim::{OrderFault, SimExchange, VecFeed};
use strangle_core::{Execution, MarketData};

/// The simulated venue, except that the put's quotes stop once `mute` is set.
struct Muted {
    venue: Arc<SimExchange>,
    mute: AtomicBool,
}

#[async_trait]
impl MarketData for Muted {
    async fn chain(&self, u: Underlying) -> Result<ChainSnapshot> {
        self.venue.chain(u).await
    }
    async fn quotes(&self, symbols: &[strangle_core::ids::Symbol]) -> Result<Vec<Quote>> {
        let mut q = self.venue.quotes(symbols).await?;
        if self.mute.load(Ordering::Relaxed) {
            q.retain(|q| q.symbol != PUT);
        }
        Ok(q)
    }
    async fn spot(&self, u: Underlying) -> Result<Decimal> {
        self.venue.spot(u).await
    }
}

#[tokio::test]
async fn a_refused_exit_is_retried_even_when_no_new_quote_comes() {
    let mut profile = profile();
    profile.liquidity.max_quote_age_secs = 3600;
    let snapshots = trailing_day();
    let clock = Arc::new(ManualClock::new(snapshots[0].timestamp));
    let venue = Arc::new(
        SimExchange::new(clock.clone(), profile.fees.clone(), Decimal::from(10_000))
            .with_feed(Box::new(VecFeed::new(snapshots))),
    );
    let ex = Arc::new(Muted {
        venue: venue.clone(),
        mute: AtomicBool::new(false),
    });
    let ledger = Arc::new(MemoryLedger::new());
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::seconds(5),
        adopt: false,
        ioc_entries: false,
    };
    let venue_with_muted_quotes = Split {
        data: ex.clone(),
        exec: venue.clone(),
    };
    let (mut engine, handle) = Engine::start(
        profile,
        config,
        venue_with_muted_quotes,
        ledger.clone(),
        clock,
    )
    .await
    .expect("engine");
    engine.run_until(Some(at(4, 5))).await.expect("entry");
    assert_eq!(ledger.contents().sessions[0].state, SessionState::Open);

    // The put's exit is refused once, and its quotes stop from then on.
    venue.inject(OrderFault::RejectSymbol(
        PUT.into(),
        ExchangeErrorKind::Rejected,
    ));
    ex.mute.store(true, Ordering::Relaxed);
    handle.send(EngineCommand::Stop);
    engine.run_until(Some(at(4, 6))).await.expect("exit starts");
    venue.clear_faults();
    engine
        .run_until(Some(at(4, 30)))
        .await
        .expect("exit goes on");

    let l = ledger.contents();
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed, "{:?}", l.events);
    assert!(s.legs.iter().all(|g| g.book.open().is_zero()));
    assert!(venue
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .is_empty());
    let put_exits = l
        .intents
        .iter()
        .filter(|i| i.request.symbol == PUT && i.request.reduce_only)
        .count();
    assert!(put_exits >= 2, "the refused exit was followed by another");
}
