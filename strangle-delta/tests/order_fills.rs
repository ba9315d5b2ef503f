//! An order's fills, read back through the adapter (issue 30 F). Six sim engines at 600×
//! left one engine holding a sold put with its call order shown working for ever: the local
//! market stamped an order's `created_at` with a clock read after the venue had taken (and
//! filled) it, so on a fast clock the fill looked more than 5 s older than its order, the
//! adapter's fills window left it out, and an order the venue had closed was reported open
//! with nothing filled. Now the market stamps the order with the venue's own time, and the
//! adapter reads the product's whole fill history when the window finds less than the order
//! says filled. A venue whose fills lag its orders (`set_hidden_fills`) still shows the order
//! working until they are listed: the adapter never reports an order ended without its fills.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::clock::Clock;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::model::{FeeModel, OrderState};
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::{Execution, MarketData};
use strangle_delta::exchange::DeltaExchange;
use strangle_delta_market::{demo_credentials, LocalServer, MarketSource, ServerConfig};

/// A market clock that moves 10 s every time it is read: what a 600× clock does to a busy
/// venue, made exact.
struct Ticking(AtomicI64);

#[async_trait]
impl Clock for Ticking {
    fn now(&self) -> DateTime<Utc> {
        common::t0() + Duration::seconds(self.0.fetch_add(10, Ordering::SeqCst))
    }
    async fn sleep_until(&self, _: DateTime<Utc>) {}
}

async fn market(clock: Arc<dyn Clock>) -> (LocalServer, DeltaExchange) {
    let chain = SyntheticMarket::btc().chain(common::t0(), Decimal::from(82_000), 0.45);
    let server = LocalServer::start(ServerConfig {
        market: MarketSource::Replay(vec![chain]),
        clock,
        fees: FeeModel::default(),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    let client = common::client_with(&server, Some(demo_credentials()));
    (server, DeltaExchange::new(client))
}

/// A put with a bid, sold at a price that crosses it.
async fn marketable(server: &LocalServer, coid: &str) -> strangle_core::model::OrderRequest {
    let entry = server
        .venue()
        .chain(strangle_core::model::Underlying::Btc)
        .await
        .expect("chain")
        .entries
        .into_iter()
        .find(|e| {
            e.contract.kind == strangle_core::model::OptionKind::Put
                && e.quote.bid.is_some_and(|b| b > dec!(50))
        })
        .expect("a put with a bid");
    common::core_sell(coid, &entry, entry.contract.tick_size)
}

#[tokio::test]
async fn a_filled_order_is_read_back_filled_on_a_clock_that_runs_fast() {
    let (server, ex) = market(Arc::new(Ticking(AtomicI64::new(0)))).await;
    let req = marketable(&server, "fills-fast").await;
    let placed = ex.place_order(&req).await.expect("placed");
    assert_eq!(placed.state, OrderState::Filled, "{placed:?}");
    let read = ex.order(&req.client_order_id).await.expect("read");
    let read = read.expect("known");
    assert_eq!(read.state, OrderState::Filled, "{read:?}");
    let filled: Decimal = read.fills.iter().map(|f| f.size).sum();
    assert_eq!(filled, req.size);
}

#[tokio::test]
async fn fills_the_venue_does_not_list_yet_keep_the_order_working() {
    let (server, ex) = market(common::clock_from_t0()).await;
    server.faults().set_hidden_fills(Some("P-"));
    let req = marketable(&server, "fills-hidden").await;
    let placed = ex.place_order(&req).await.expect("placed");
    assert_eq!(
        placed.state,
        OrderState::Open,
        "no fills listed: {placed:?}"
    );
    assert!(placed.fills.is_empty());
    // The venue has closed it: a cancel is refused as "not open" …
    let cancel = ex
        .cancel_order(&req.client_order_id, req.product_id)
        .await
        .expect_err("not open");
    assert_eq!(cancel.exchange_kind(), Some(ExchangeErrorKind::NotFound));
    // … and the lookup still shows it working, until the fills are listed.
    let read = ex.order(&req.client_order_id).await.expect("read");
    assert_eq!(read.expect("known").state, OrderState::Open);
    server.faults().set_hidden_fills(None);
    let read = ex.order(&req.client_order_id).await.expect("read");
    let read = read.expect("known");
    assert_eq!(read.state, OrderState::Filled);
    assert_eq!(read.fills.iter().map(|f| f.size).sum::<Decimal>(), req.size);
}
