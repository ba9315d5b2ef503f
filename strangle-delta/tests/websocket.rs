//! The WebSocket client against the local server over real WebSocket frames.

mod common;

use std::time::Duration;

use rust_decimal::Decimal;
use strangle_delta::wire::ws::{Channel, Frame};
use strangle_delta::wire::{CreateOrder, OrderType, Side};
use strangle_delta::ws::{Endpoint, WsClient, WsConfig, WsEvent};
use strangle_delta::Credentials;
use strangle_delta_market::{demo_credentials, LocalServer, ServerConfig};
use tokio::sync::mpsc::UnboundedReceiver;

fn ch(name: &str, symbols: &[&str]) -> Channel {
    Channel {
        name: name.into(),
        symbols: Some(symbols.iter().map(|s| s.to_string()).collect()),
        error: None,
    }
}

fn frame(e: &WsEvent) -> Option<&Frame> {
    match e {
        WsEvent::Frame { frame, .. } => Some(frame),
        _ => None,
    }
}

async fn until(
    rx: &mut UnboundedReceiver<WsEvent>,
    secs: u64,
    mut f: impl FnMut(&WsEvent) -> bool,
) -> WsEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) if f(&ev) => return ev,
            Ok(Some(_)) => {}
            Ok(None) => panic!("event stream ended"),
            Err(_) => panic!("no matching event within {secs} s"),
        }
    }
}

async fn server(heartbeat_ms: u64) -> LocalServer {
    let mut cfg = ServerConfig {
        clock: common::clock_from_t0(),
        ws_heartbeat: Duration::from_millis(heartbeat_ms),
        ..ServerConfig::default()
    };
    if let strangle_delta_market::MarketSource::Synthetic { step, .. } = &mut cfg.market {
        *step = Duration::from_millis(200);
    }
    LocalServer::start(cfg).await.expect("server")
}

fn config(s: &LocalServer, creds: Option<Credentials>) -> WsConfig {
    let mut c = WsConfig::new(s.environment(), creds);
    c.reconnect_base = Duration::from_millis(50);
    c.reconnect_max = Duration::from_millis(200);
    c.silence_timeout = Duration::from_secs(2);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_channels_by_chain_id() {
    let s = server(30_000).await;
    let client = common::client_with(&s, None);
    let products = client.option_products().await.expect("products");
    let p = products
        .iter()
        .find(|p| p.symbol.starts_with("C-BTC"))
        .expect("a BTC call");
    let chain_id = format!(
        "BTC-{}",
        p.settlement_time.expect("settles").format("%d%m%y")
    );
    let mut c = config(&s, None);
    c.public = vec![
        ch("ticker", &[&chain_id]),
        ch("ob_l1", &[&p.symbol]),
        ch("mark_price", &[&format!("MARK:{}", p.symbol)]),
        ch("spot_price", &[".DEXBTUSD"]),
    ];
    let (mut rx, _ws) = WsClient::spawn(c, None);
    until(
        &mut rx,
        5,
        |e| matches!(frame(e), Some(Frame::Subscriptions(a)) if a.channels.len() == 4),
    )
    .await;
    let ev = until(&mut rx, 5, |e| matches!(frame(e), Some(Frame::Ticker(_)))).await;
    let Some(Frame::Ticker(t)) = frame(&ev) else {
        unreachable!()
    };
    assert!(t.sy.ends_with(&chain_id[4..]), "{} is on {chain_id}", t.sy);
    let q = strangle_delta::convert::quote_of_ws(t).expect("a quote");
    assert!(q.greeks.is_some() && q.mark > Decimal::ZERO);
    until(
        &mut rx,
        5,
        |e| matches!(frame(e), Some(Frame::ObL1(l)) if l.sy == p.symbol),
    )
    .await;
    until(
        &mut rx,
        5,
        |e| matches!(frame(e), Some(Frame::MarkPrice(m)) if m.sy == format!("MARK:{}", p.symbol)),
    )
    .await;
    until(
        &mut rx,
        5,
        |e| matches!(frame(e), Some(Frame::SpotPrice(m)) if m.sy == ".DEXBTUSD"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_channels_after_key_auth_and_resync_after_a_drop() {
    let s = server(200).await;
    let rest = common::client_with(&s, Some(demo_credentials()));
    let mut c = config(&s, Some(demo_credentials()));
    c.private = vec![
        ch("orders", &["all"]),
        ch("positions", &["all"]),
        ch("v2/user_trades", &["all"]),
    ];
    c.silence_timeout = Duration::from_millis(800); // heartbeats every 200 ms keep it alive
    let (mut rx, _ws) = WsClient::spawn(c, Some(rest.clone()));
    until(&mut rx, 5, |e| {
        matches!(
            e,
            WsEvent::Connected {
                endpoint: Endpoint::Private,
                reconnects: 0
            }
        )
    })
    .await;
    until(&mut rx, 5, |e| matches!(frame(e), Some(Frame::Subscriptions(a)) if a.channels.iter().all(|c| c.error.is_none()))).await;

    let t = rest.tickers("BTC", None).await.expect("tickers");
    let x = t
        .iter()
        .find(|x| x.quotes.as_ref().and_then(|q| q.best_bid).is_some())
        .expect("bid");
    let bid = x.quotes.as_ref().and_then(|q| q.best_bid).expect("bid");
    let order = |id: &str, price: Decimal| CreateOrder {
        product_id: x.product_id,
        product_symbol: None,
        size: 2,
        side: Side::Sell,
        order_type: OrderType::LimitOrder,
        limit_price: Some(price),
        time_in_force: Some("gtc".into()),
        post_only: Some(false),
        reduce_only: Some(false),
        client_order_id: Some(id.into()),
        ..Default::default()
    };
    rest.place_order(&order("ws-fill-1", bid))
        .await
        .expect("placed");
    until(&mut rx, 5, |e| matches!(frame(e), Some(Frame::Orders(o)) if o.client_order_id.as_deref() == Some("ws-fill-1"))).await;
    until(
        &mut rx,
        5,
        |e| matches!(frame(e), Some(Frame::UserTrade(f)) if f.c.as_deref() == Some("ws-fill-1")),
    )
    .await;
    until(&mut rx, 5, |e| matches!(frame(e), Some(Frame::Positions(p)) if p.position.size == Some(Decimal::from(-2)))).await;
    until(&mut rx, 5, |e| matches!(frame(e), Some(Frame::Heartbeat))).await;

    // A resting order, then the server drops every socket: the client reconnects,
    // re-authenticates, re-subscribes, and resyncs orders and positions over REST.
    rest.place_order(&order("ws-rest-1", bid * Decimal::from(5)))
        .await
        .expect("placed");
    s.faults().drop_websockets();
    until(&mut rx, 5, |e| {
        matches!(
            e,
            WsEvent::Disconnected {
                endpoint: Endpoint::Private,
                ..
            }
        )
    })
    .await;
    until(&mut rx, 5, |e| {
        matches!(
            e,
            WsEvent::Connected {
                endpoint: Endpoint::Private,
                reconnects: 1
            }
        )
    })
    .await;
    let ev = until(&mut rx, 5, |e| matches!(e, WsEvent::Resync { .. })).await;
    let WsEvent::Resync { orders, positions } = ev else {
        unreachable!()
    };
    assert!(orders
        .iter()
        .any(|o| o.client_order_id.as_deref() == Some("ws-rest-1")));
    assert!(positions.iter().any(|p| p.size == Some(Decimal::from(-2))));
    until(
        &mut rx,
        5,
        |e| matches!(frame(e), Some(Frame::Orders(o)) if o.action == "snapshot"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_secret_is_refused_and_not_retried() {
    let s = server(30_000).await;
    let mut c = config(
        &s,
        Some(Credentials::new("sim-key", "wrong").expect("creds")),
    );
    c.private = vec![ch("orders", &["all"])];
    let (mut rx, _ws) = WsClient::spawn(c, None);
    let ev = until(&mut rx, 5, |e| matches!(e, WsEvent::AuthFailed { .. })).await;
    assert_eq!(
        ev,
        WsEvent::AuthFailed {
            status: "invalid_signature".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_is_replaced() {
    let s = server(30_000).await;
    s.faults().set_stale_quotes(true);
    let mut c = config(&s, None);
    c.public = vec![ch("ticker", &["C-BTC-1-010101"])]; // nothing will ever be sent
    c.silence_timeout = Duration::from_millis(400);
    c.ping_every = Duration::from_secs(60);
    let (mut rx, _ws) = WsClient::spawn(c, None);
    until(
        &mut rx,
        5,
        |e| matches!(e, WsEvent::Disconnected { reason, .. } if reason.contains("silent")),
    )
    .await;
    until(&mut rx, 5, |e| {
        matches!(e, WsEvent::Connected { reconnects: 1, .. })
    })
    .await;
}
