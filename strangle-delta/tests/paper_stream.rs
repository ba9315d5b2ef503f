//! Paper trading on the local server's market data, and the WebSocket quote cache.

mod common;

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use strangle_core::clock::ScaledClock;
use strangle_core::model::{
    FeeModel, OrderRequest, OrderState, OrderType, Side, TimeInForce, Underlying,
};
use strangle_core::{Execution, MarketData};
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::paper::PaperExchange;
use strangle_delta_market::{FaultKind, FaultRule, LocalServer, MarketSource, ServerConfig};

async fn moving_server() -> LocalServer {
    moving_server_on(common::clock_from_t0()).await
}

/// A market moving every 200 ms on `clock`.
async fn moving_server_on(clock: Arc<ScaledClock>) -> LocalServer {
    let mut cfg = ServerConfig {
        clock,
        ..ServerConfig::default()
    };
    if let MarketSource::Synthetic { step, .. } = &mut cfg.market {
        *step = Duration::from_millis(200);
    }
    LocalServer::start(cfg).await.expect("server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_come_from_the_websocket_once_it_streams() {
    let s = moving_server().await;
    let ex = DeltaExchange::new(common::client_with(&s, None)).with_stream(Duration::from_secs(5));
    let chain = ex.chain(Underlying::Btc).await.expect("chain");
    let sym = chain.entries[0].contract.symbol.clone();
    let first = ex
        .quotes(std::slice::from_ref(&sym))
        .await
        .expect("from REST");
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // REST is now failing; the quote still comes, from the stream, and is newer.
    s.faults().add(FaultRule::new(
        Some("GET"),
        Some("/v2/tickers"),
        FaultKind::ServerError(500),
        50,
    ));
    let q = ex
        .quotes(std::slice::from_ref(&sym))
        .await
        .expect("from the stream");
    assert_eq!(s.faults().hits(), 0, "no REST call was made");
    assert!(q[0].timestamp > first[0].timestamp);
}

/// The heartbeat says where the legs' quotes come from, and when the stream falls silent
/// the quotes come from REST again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quote_source_switches_to_rest_when_the_stream_is_silent() {
    let s = moving_server().await;
    let ex =
        DeltaExchange::new(common::client_with(&s, None)).with_stream(Duration::from_millis(400));
    assert_eq!(ex.quote_source(), None, "nothing asked yet");
    let chain = ex.chain(Underlying::Btc).await.expect("chain");
    let sym = vec![chain.entries[0].contract.symbol.clone()];
    ex.quotes(&sym).await.expect("from REST");
    assert_eq!(
        ex.quote_source().map(|q| q.as_str()),
        Some("rest (websocket stale or down)"),
        "the first quote cannot have streamed yet"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    ex.quotes(&sym).await.expect("from the stream");
    assert_eq!(ex.quote_source().map(|q| q.as_str()), Some("websocket"));
    // The market stands still: no frame arrives, the cached quote ages past 400 ms.
    s.faults().set_stale_quotes(true);
    tokio::time::sleep(Duration::from_millis(800)).await;
    ex.quotes(&sym).await.expect("from REST again");
    assert_eq!(
        ex.quote_source().map(|q| q.as_str()),
        Some("rest (websocket stale or down)")
    );
    // Without a stream there is one source.
    let plain = DeltaExchange::new(common::client_with(&s, None));
    plain.quotes(&sym).await.expect("REST");
    assert_eq!(plain.quote_source().map(|q| q.as_str()), Some("rest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_orders_fill_against_real_quotes_and_never_reach_the_venue() {
    let clock = common::clock_from_t0();
    let s = moving_server_on(clock.clone()).await;
    let data = DeltaExchange::new(common::client_with(&s, None));
    // The paper venue judges expiries by the market's clock, as sessions on it do.
    let paper = PaperExchange::with_clock(data, FeeModel::default(), Decimal::from(5_000), clock);
    let chain = paper.chain(Underlying::Btc).await.expect("chain");
    let e = chain
        .entries
        .iter()
        .find(|e| e.quote.bid.is_some())
        .expect("a bid");
    let req = OrderRequest {
        client_order_id: strangle_core::ids::ClientOrderId::new("paper-1").expect("a valid id"),
        product_id: e.contract.product_id,
        symbol: e.contract.symbol.clone(),
        side: Side::Sell,
        size: Decimal::from(2),
        order_type: OrderType::Limit,
        limit_price: e.quote.bid,
        time_in_force: TimeInForce::Gtc,
        reduce_only: false,
        stop: None,
    };
    let st = paper.place_order(&req).await.expect("paper fill");
    assert_eq!(st.state, OrderState::Filled);
    assert_eq!(st.fills[0].price, e.quote.bid.expect("bid"));
    assert_eq!(
        paper.positions(Underlying::Btc).await.expect("positions")[0].size,
        Decimal::from(-2)
    );
    assert!(
        s.venue().requests().is_empty(),
        "nothing was sent to the exchange"
    );
    // Quotes polled later move the paper venue's market too.
    let q = paper
        .quotes(std::slice::from_ref(&e.contract.symbol))
        .await
        .expect("quotes");
    assert_eq!(q.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_quotes_keep_their_old_timestamps() {
    let s = moving_server().await;
    let ex = DeltaExchange::new(common::client_with(&s, None));
    s.faults().set_stale_quotes(true);
    let a = ex.chain(Underlying::Btc).await.expect("chain");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let b = ex.chain(Underlying::Btc).await.expect("chain");
    assert_eq!(a.timestamp, b.timestamp, "the market stood still");
    s.faults().set_stale_quotes(false);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let c = ex.chain(Underlying::Btc).await.expect("chain");
    assert!(c.timestamp > b.timestamp);
}
