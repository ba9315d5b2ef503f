//! A local Delta-compatible server with a fixed synthetic market, and clients for it.
#![allow(dead_code, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use strangle_core::clock::{ManualClock, ScaledClock};
use strangle_core::model::FeeModel;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_delta::api::DeltaClient;
use strangle_delta::rest::RetryPolicy;
use strangle_delta::Credentials;
use strangle_delta_market::{demo_credentials, LocalServer, MarketSource, ServerConfig};

/// 2026-03-10 04:00 UTC (09:30 IST).
/// A client order id for a test, checked.
pub fn coid(id: &str) -> strangle_core::ids::ClientOrderId {
    strangle_core::ids::ClientOrderId::new(id).expect("a valid client order id")
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("time")
}

/// A market clock running at real speed from t0: a moving market that decides the same way
/// whatever the hour the test runs at.
pub fn clock_from_t0() -> Arc<ScaledClock> {
    Arc::new(ScaledClock::new(t0(), 1.0))
}

pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        timeout: Duration::from_millis(800),
    }
}

pub struct Setup {
    pub server: LocalServer,
    pub clock: Arc<ManualClock>,
    pub client: DeltaClient,
}

/// A server whose market is one BTC chain at t0 (spot 82,000).
pub async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new(t0()));
    let chain = SyntheticMarket::btc().chain(t0(), Decimal::from(82_000), 0.45);
    let config = ServerConfig {
        market: MarketSource::Replay(vec![chain]),
        clock: clock.clone(),
        fees: FeeModel::default(),
        ..ServerConfig::default()
    };
    let server = LocalServer::start(config).await.expect("server starts");
    let client = DeltaClient::with_policy(
        server.environment(),
        Some(demo_credentials()),
        fast_policy(),
    )
    .expect("client");
    Setup {
        server,
        clock,
        client,
    }
}

pub fn client_with(server: &LocalServer, creds: Option<Credentials>) -> DeltaClient {
    DeltaClient::with_policy(server.environment(), creds, fast_policy()).expect("client")
}

/// A Delta limit order: sell `size` contracts of `product_id` at `price`, GTC.
pub fn sell(
    client_order_id: &str,
    product_id: u64,
    size: i64,
    price: Decimal,
) -> strangle_delta::wire::CreateOrder {
    use strangle_delta::wire::{CreateOrder, OrderType, Side};
    CreateOrder {
        product_id: Some(product_id),
        product_symbol: None,
        size,
        side: Side::Sell,
        order_type: OrderType::LimitOrder,
        limit_price: Some(price),
        time_in_force: Some("gtc".into()),
        post_only: Some(false),
        reduce_only: Some(false),
        client_order_id: Some(client_order_id.into()),
        ..Default::default()
    }
}

/// The core's request to sell one contract of `entry` at `price`, GTC.
pub fn core_sell(
    client_order_id: &str,
    entry: &strangle_core::model::ChainEntry,
    price: Decimal,
) -> strangle_core::model::OrderRequest {
    use strangle_core::model::{OrderRequest, OrderType, Side, TimeInForce};
    OrderRequest {
        client_order_id: coid(client_order_id),
        product_id: entry.contract.product_id,
        symbol: entry.contract.symbol.clone(),
        side: Side::Sell,
        size: Decimal::ONE,
        order_type: OrderType::Limit,
        limit_price: Some(price),
        time_in_force: TimeInForce::Gtc,
        reduce_only: false,
        stop: None,
    }
}

/// A market for an engine to trade on: a flat synthetic BTC path (spot 82,000, a chain every
/// 5 minutes) from 09:25 IST for two hours, replayed on a manual clock that starts there.
pub async fn flat_market() -> (LocalServer, Arc<ManualClock>) {
    let start = t0() - chrono::Duration::minutes(5);
    let clock = Arc::new(ManualClock::new(start));
    let chains = SyntheticMarket::btc().path(
        start,
        start + chrono::Duration::hours(2),
        chrono::Duration::minutes(5),
        0.45,
        |_| Decimal::from(82_000),
    );
    let server = LocalServer::start(ServerConfig {
        market: MarketSource::Replay(chains),
        clock: clock.clone(),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    (server, clock)
}
