//! Issue 30 B: an order's existence is decided, never guessed. When the venue's client-id
//! lookup does not find an order whose placement answer was lost, the engine sends nothing
//! in its place until every read agrees it is absent: the lookup for the confirmation time,
//! the product's other order reads (`Execution::find_order`) and the venue's position on the
//! contract. An order that filled unseen moved the position, so no second order goes out.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strangle_core::audit::EventKind;

use async_trait::async_trait;
use common::*;
use strangle_core::error::{Error, ExchangeErrorKind, Result};
use strangle_core::ids::{ClientOrderId, ProductId};
use strangle_core::ledger::SessionState;
use strangle_core::model::{Fill, OrderRequest, OrderStatus, Position, ProductRef, Underlying};
use strangle_core::sim::SimExchange;
use strangle_core::Execution;

/// What becomes of the call's first entry order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// It reaches the venue, but its answer is lost and no read shows it while `hidden`.
    Unseen,
    /// It never reaches the venue, and its answer is lost.
    Dropped,
}

/// The simulated venue, except for the call's first entry order (see [`Fate`]).
struct LostCall {
    venue: Arc<SimExchange>,
    fate: Fate,
    hidden: AtomicBool,
}

impl LostCall {
    fn is_lost(&self, id: &ClientOrderId) -> bool {
        id.as_str().ends_with("-CE1")
    }
    fn hides(&self, id: &ClientOrderId) -> bool {
        self.is_lost(id) && (self.fate == Fate::Dropped || self.hidden.load(Ordering::Relaxed))
    }
}

#[async_trait]
impl Execution for LostCall {
    async fn place_order(&self, request: &OrderRequest) -> Result<OrderStatus> {
        if !self.is_lost(&request.client_order_id) {
            return self.venue.place_order(request).await;
        }
        if self.fate == Fate::Unseen {
            self.venue.place_order(request).await?;
        }
        Err(Error::exchange(
            ExchangeErrorKind::Uncertain,
            "the answer to the order was lost",
        ))
    }
    async fn cancel_order(&self, id: &ClientOrderId, product_id: ProductId) -> Result<OrderStatus> {
        self.venue.cancel_order(id, product_id).await
    }
    async fn order(&self, id: &ClientOrderId) -> Result<Option<OrderStatus>> {
        if self.hides(id) {
            return Ok(None);
        }
        self.venue.order(id).await
    }
    async fn find_order(
        &self,
        id: &ClientOrderId,
        product_id: ProductId,
    ) -> Result<Option<OrderStatus>> {
        if self.hides(id) {
            return Ok(None);
        }
        self.venue.find_order(id, product_id).await
    }
    async fn positions(&self, u: Underlying) -> Result<Vec<Position>> {
        self.venue.positions(u).await
    }
    async fn settlement_fills(&self, products: &[ProductRef]) -> Result<Vec<Fill>> {
        self.venue.settlement_fills(products).await
    }
}

type Rig = SplitRig<LostCall>;

async fn rig(fate: Fate) -> Rig {
    split_rig(profile(), |venue| LostCall {
        venue,
        fate,
        hidden: AtomicBool::new(true),
    })
    .await
}

/// Client ids of the call's entry orders that reached the venue.
fn call_entries(venue: &SimExchange) -> Vec<String> {
    venue
        .requests()
        .iter()
        .filter(|r| r.symbol.as_str() == CALL && !r.reduce_only)
        .map(|r| r.client_order_id.to_string())
        .collect()
}

#[tokio::test]
async fn an_unseen_order_that_filled_is_never_sent_again() {
    let mut r = rig(Fate::Unseen).await;
    // For two minutes no read finds the call's order, which filled at once: the position says
    // the leg is short, so its absence is never proven and nothing is sent in its place.
    r.engine.run_until(Some(at(4, 2))).await.expect("entry");
    assert_eq!(
        call_entries(&r.venue),
        vec![format!("{}-CE1", session_id(&r))]
    );
    let l = r.ledger.contents();
    assert!(
        l.events
            .iter()
            .any(|e| e.kind == EventKind::OrderUnresolved && e.detail.contains("holds 10 short")),
        "the position was read and disagreed: {:?}",
        l.events
    );
    // Once the venue shows it, its fills are booked: one call short, as the venue holds.
    r.exec.hidden.store(false, Ordering::Relaxed);
    r.engine.run_until(Some(at(4, 5))).await.expect("found");
    let l = r.ledger.contents();
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Open, "{:?}", l.events);
    assert_eq!(call_entries(&r.venue).len(), 1, "one call order, ever");
    let held: Vec<_> = r
        .venue
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .into_iter()
        .map(|p| (p.symbol.to_string(), -p.size))
        .collect();
    for g in &s.legs {
        assert!(
            held.contains(&(g.symbol.to_string(), g.book.open())),
            "ledger = venue: {held:?} vs {} {}",
            g.symbol,
            g.book.open()
        );
    }
}

#[tokio::test]
async fn an_order_no_read_shows_and_that_moved_nothing_is_sent_again() {
    let mut r = rig(Fate::Dropped).await;
    r.engine.run_until(Some(at(4, 10))).await.expect("entry");
    let sid = session_id(&r);
    assert_eq!(
        call_entries(&r.venue),
        vec![format!("{sid}-CE2")],
        "the lost order never reached the venue; its absence was proven and the leg sold anew"
    );
    let l = r.ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Open, "{:?}", l.events);
    assert!(l
        .events
        .iter()
        .all(|e| e.kind != EventKind::OrderUnresolved));
}

#[tokio::test]
async fn an_order_whose_absence_is_never_proven_is_never_replaced() {
    // No read ever shows the call's order: it is read all day and never replaced; its
    // cancels run out, it is held as stuck (named, entries held), the sold put is bought back.
    let mut r = rig(Fate::Unseen).await;
    r.engine.run_until(Some(at(8, 0))).await.expect("the day");
    let sid = session_id(&r);
    assert_eq!(call_entries(&r.venue).len(), 1, "nothing sent in its place");
    let l = r.ledger.contents();
    assert!(
        l.events
            .iter()
            .any(|e| e.kind == EventKind::OrderStuck && e.detail.contains(&format!("{sid}-CE1"))),
        "{:?}",
        l.events
    );
    let unresolved = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::OrderUnresolved)
        .count();
    assert_eq!(unresolved, 1, "written once, then counted");
    assert!(l.events.iter().any(|e| e.kind == EventKind::Repeated
        && e.detail.starts_with("order_unresolved")
        && e.detail.contains("in all")));
    assert_ne!(
        l.sessions[0].state,
        SessionState::Closed,
        "the order is still followed"
    );
    let put_held = r
        .venue
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .iter()
        .any(|p| p.symbol.as_str() == PUT);
    assert!(!put_held, "the put was bought back");
}

fn session_id(r: &Rig) -> String {
    r.ledger.contents().sessions[0].session_id.to_string()
}
