//! Regression (issue 30 F, found by six sim engines at 600×): the call's entry order filled at
//! the venue, but its fills were not yet visible, so the venue showed it working while every
//! cancel was answered "not open". The engine asked again every few seconds for ever (3,970
//! cancels and as many audit rows in 75 s), and a stop or panic changed nothing: the sold put
//! waited for the call's order to end before it was bought back.
//!
//! Now cancels back off and stop after [`MAX_CANCELS`]; the order is then held as stuck (read
//! every step), new entries are held, the entry is abandoned and the leg known to be short is
//! bought back at once. When the venue finally shows the order's fills, they are booked and
//! bought back too.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strangle_core::audit::EventKind;

use async_trait::async_trait;
use chrono::Duration;
use common::*;
use rust_decimal::Decimal;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineCommand, EngineConfig};
use strangle_core::error::Result;
use strangle_core::exchange::Split;
use strangle_core::ids::{ClientOrderId, ProductId};
use strangle_core::ledger::{Mode, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{
    Fill, OrderRequest, OrderState, OrderStatus, Position, ProductRef, Underlying,
};
use strangle_core::sim::{SimExchange, VecFeed};
use strangle_core::strategy::{Phase, MAX_CANCELS};
use strangle_core::Execution;

/// The simulated venue, except that while `hide` is set the call's orders are shown as
/// working with no fills (an order whose fills the venue does not list yet).
struct HiddenCallFills {
    venue: Arc<SimExchange>,
    hide: AtomicBool,
}

impl HiddenCallFills {
    fn shown(&self, mut st: OrderStatus) -> OrderStatus {
        if self.hide.load(Ordering::Relaxed) && st.symbol.as_str() == CALL {
            st.state = OrderState::Open;
            st.fills.clear();
        }
        st
    }
}

#[async_trait]
impl Execution for HiddenCallFills {
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
        Ok(self.shown(self.venue.place_order(request).await?))
    }
    async fn cancel_order(&self, id: &ClientOrderId, product_id: ProductId) -> Result<OrderStatus> {
        Ok(self.shown(self.venue.cancel_order(id, product_id).await?))
    }
    async fn order(&self, id: &ClientOrderId) -> Result<Option<OrderStatus>> {
        Ok(self.venue.order(id).await?.map(|s| self.shown(s)))
    }
    async fn positions(&self, u: Underlying) -> Result<Vec<Position>> {
        self.venue.positions(u).await
    }
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
        self.venue.settlement_fills(products).await
    }
}

/// An engine of `profile` on the trailing day, whose venue hides the call's fills while
/// `hide` is set.
async fn rig(profile: strangle_core::profile::Profile, hide: bool) -> SplitRig<HiddenCallFills> {
    split_rig(profile, |venue| HiddenCallFills {
        venue,
        hide: AtomicBool::new(hide),
    })
    .await
}

#[tokio::test]
async fn a_stop_buys_back_the_sold_leg_while_the_other_order_is_never_confirmed() {
    let SplitRig {
        mut engine,
        handle,
        venue,
        exec,
        ledger,
    } = rig(profile(), true).await;

    // Both legs fill at once; the call's fills stay hidden for 20 minutes.
    engine.run_until(Some(at(4, 20))).await.expect("entry");
    let l = ledger.contents();
    let cancels = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::CancelUnconfirmed)
        .count();
    assert!(
        cancels < MAX_CANCELS as usize,
        "{cancels} cancels asked again, at most {} expected",
        MAX_CANCELS - 1
    );
    let stuck = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::OrderStuck)
        .count();
    assert_eq!(stuck, 1, "{:?}", l.events);
    let status = handle.status();
    assert!(
        status
            .entry_hold
            .as_deref()
            .is_some_and(|h| h.contains("-CE1")),
        "entries are held naming the call's order: {:?}",
        status.entry_hold
    );
    // The put, known to be sold, was bought back without waiting for the call's order.
    let put = venue
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .into_iter()
        .find(|p| p.symbol.as_str() == PUT);
    assert!(put.is_none(), "the put is flat at the venue: {put:?}");
    assert_eq!(
        status.phase,
        Phase::Exiting,
        "the call's order is still read"
    );

    // A stop still takes effect (nothing more to flatten that the engine can see), and the
    // venue's fills, once shown, are booked and bought back.
    handle.send(EngineCommand::Stop);
    exec.hide.store(false, Ordering::Relaxed);
    engine.run_until(Some(at(4, 40))).await.expect("exit");
    let l = ledger.contents();
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed, "{:?}", l.events);
    assert!(s.legs.iter().all(|g| g.book.open().is_zero()));
    assert!(s.legs.iter().all(|g| g.book.sold > Decimal::ZERO));
    assert!(venue
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .is_empty());
    assert!(l.events.iter().any(|e| e.kind == EventKind::OrderResolved));
    assert_eq!(
        handle.status().entry_hold,
        None,
        "the hold ends with the order"
    );
}

#[tokio::test]
async fn a_repeated_audit_line_is_written_once_with_its_count() {
    // A placement that times out, and an order whose state then cannot be read: the same
    // error every poll.
    struct Unreadable(Arc<SimExchange>);
    #[async_trait]
    impl Execution for Unreadable {
        async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
            self.0.place_order(request).await?;
            Err(strangle_core::Error::exchange(
                strangle_core::error::ExchangeErrorKind::Uncertain,
                "timed out",
            ))
        }
        async fn cancel_order(
            &self,
            id: &ClientOrderId,
            product_id: ProductId,
        ) -> Result<OrderStatus> {
            self.0.cancel_order(id, product_id).await
        }
        async fn order(&self, _: &ClientOrderId) -> Result<Option<OrderStatus>> {
            Err(strangle_core::Error::exchange(
                strangle_core::error::ExchangeErrorKind::Uncertain,
                "503 from the venue",
            ))
        }
        async fn positions(&self, u: Underlying) -> Result<Vec<Position>> {
            self.0.positions(u).await
        }
        async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
            self.0.settlement_fills(products).await
        }
    }
    let mut profile = profile();
    profile.liquidity.max_quote_age_secs = 3600;
    let snapshots = trailing_day();
    let clock = Arc::new(ManualClock::new(snapshots[0].timestamp));
    let venue = Arc::new(
        SimExchange::new(clock.clone(), profile.fees.clone(), Decimal::from(10_000))
            .with_feed(Box::new(VecFeed::new(snapshots))),
    );
    let ledger = Arc::new(MemoryLedger::new());
    let ex = Split {
        data: venue.clone(),
        exec: Unreadable(venue.clone()),
    };
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::seconds(5),
        adopt: false,
        ioc_entries: false,
    };
    let (mut engine, _handle) = Engine::start(profile, config, ex, ledger.clone(), clock)
        .await
        .expect("engine");
    // 30 unreadable polls in a row end the engine with an error naming the order.
    let err = engine.run_until(Some(at(5, 0))).await;
    assert!(err.is_err(), "the engine stops on an order it cannot read");
    let l = ledger.contents();
    let poll_errors: Vec<_> = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::ExchangeError && e.detail.starts_with("order_poll"))
        .collect();
    assert_eq!(poll_errors.len(), 2, "one line per order: {poll_errors:?}");
    let counts: Vec<_> = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Repeated)
        .map(|e| e.detail.clone())
        .collect();
    for want in ["10 times so far", "30 times in all"] {
        assert!(
            counts
                .iter()
                .any(|d| d.starts_with(&format!("exchange_error {want}: order_poll"))),
            "{want}: {counts:?}"
        );
    }
}

/// Fault seed 13570: an exit whose fills the venue shows only after the planned exit closes
/// the session late; the close says so and why, even though the exit began on time.
#[tokio::test]
async fn a_session_closed_past_its_planned_exit_says_so_and_why() {
    let mut profile = profile();
    profile.exit_time = strangle_core::profile::TimeOfDay::hm(9, 40).expect("time"); // 04:10 UTC
    profile.entry_window_minutes = 5;
    let SplitRig {
        mut engine,
        exec,
        ledger,
        ..
    } = rig(profile, false).await;
    engine.run_until(Some(at(4, 5))).await.expect("entry");
    assert_eq!(ledger.contents().sessions[0].state, SessionState::Open);
    // The exit at 04:10 is on time; the call's exit fills stay hidden until 04:30.
    exec.hide.store(true, Ordering::Relaxed);
    engine.run_until(Some(at(4, 30))).await.expect("exit");
    exec.hide.store(false, Ordering::Relaxed);
    engine.run_until(Some(at(4, 40))).await.expect("close");
    let l = ledger.contents();
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed, "{:?}", l.events);
    assert!(
        s.closed_at.is_some_and(|c| c > at(4, 12)),
        "closed late: {:?}",
        s.closed_at
    );
    let late: Vec<_> = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::LateClose)
        .collect();
    assert_eq!(late.len(), 1, "{:?}", l.events);
    assert_eq!(late[0].session_id.as_ref(), Some(&s.session_id));
    assert!(
        late[0].detail.contains("after its planned exit")
            && late[0].detail.contains("exit orders took until now"),
        "{}",
        late[0].detail
    );
    assert!(
        l.events.iter().all(|e| e.kind != EventKind::LateExit),
        "the exit began on time"
    );
}
