//! Tick → order decision → request sent, over real HTTP and WebSocket frames to the local
//! market: what one engine step costs once the market has moved, with the legs' quotes polled
//! over REST and with them taken from the public WebSocket.
//!
//! - `tick/quotes_rest_2_legs`: the two legs' quotes asked over REST (two `GET /v2/tickers/…`).
//! - `tick/quotes_stream_2_legs`: the same quotes from the WebSocket cache (kept fresh by the
//!   market's `ticker` frames).
//! - `tick/decision`: the strategy's reaction to the new quotes (marks, PnL, exit rules),
//!   ending in the exit orders it decides to send.
//! - `tick/place_order`: one signed order placement round trip (a limit buy that rests).
//! - `tick/to_order_rest` and `tick/to_order_stream`: the three in sequence, as an engine
//!   step does after a tick (quotes, decision, first exit order sent).

#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, ScaledClock};
use strangle_core::ledger::Mode;
use strangle_core::model::{
    ChainSnapshot, OrderRequest, OrderType, Quote, Side, TimeInForce, Underlying,
};
use strangle_core::profile::Profile;
use strangle_core::strategy::{Action, Event, Strategy};
use strangle_core::{Execution, MarketData};
use strangle_delta::api::DeltaClient;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta_market::{demo_credentials, LocalServer, MarketSource, ServerConfig};

struct Rig {
    _server: LocalServer,
    rest: DeltaExchange,
    stream: DeltaExchange,
    legs: Vec<strangle_core::ids::Symbol>,
    product_id: strangle_core::ids::ProductId,
    chain: ChainSnapshot,
    clock: Arc<ScaledClock>,
}

async fn rig() -> Rig {
    // 10 March 2026, 09:30 IST, at real speed: the market moves every 200 ms.
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("time");
    let clock = Arc::new(ScaledClock::new(t0, 1.0));
    let mut cfg = ServerConfig {
        clock: clock.clone(),
        ..ServerConfig::default()
    };
    if let MarketSource::Synthetic { step, .. } = &mut cfg.market {
        *step = Duration::from_millis(200);
    }
    let server = LocalServer::start(cfg).await.expect("server");
    let client = || DeltaClient::local(server.environment(), Some(demo_credentials())).expect("c");
    let rest = DeltaExchange::new(client());
    let stream = DeltaExchange::new(client())
        .with_stream(Duration::from_secs(5))
        .with_market_clock(clock.clone());
    let chain = rest.chain(Underlying::Btc).await.expect("chain");
    // The legs the strategy picks on this chain.
    let opened = open_strategy(&chain, clock.now());
    let session = opened.session().expect("open");
    let legs: Vec<strangle_core::ids::Symbol> =
        session.legs.iter().map(|g| g.symbol.clone()).collect();
    let product_id = session.legs[0].product_id;
    // Subscribe, then let the stream deliver.
    let _ = stream.quotes(&legs).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Rig {
        _server: server,
        rest,
        stream,
        legs,
        product_id,
        chain,
        clock,
    }
}

/// A strategy holding an open strangle entered on `chain` at `now`, with a 50 % stop loss.
fn open_strategy(chain: &ChainSnapshot, now: chrono::DateTime<Utc>) -> Strategy {
    let mut p = Profile::named("bench");
    p.max_loss_pct = Some(Decimal::from(50));
    p.liquidity.max_quote_age_secs = 3600;
    let mut s = Strategy::new(p, Mode::Sim);
    strangle_benches::open_strangle(&mut s, chain, now);
    assert!(s.session().is_some(), "a strangle is open");
    s
}

/// The legs' quotes after a move against the strangle: marks and book five times higher.
fn shocked(quotes: &[Quote]) -> Vec<Quote> {
    quotes
        .iter()
        .map(|q| {
            let mut q = q.clone();
            let five = Decimal::from(5);
            q.mark *= five;
            q.bid = q.bid.map(|b| b * five);
            q.ask = q.ask.map(|a| a * five);
            q
        })
        .collect()
}

/// Times `f` on the runtime, iteration by iteration (async round trips).
fn timed<F, Fut>(rt: &tokio::runtime::Runtime, b: &mut criterion::Bencher, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    b.iter_custom(|iters| {
        rt.block_on(async {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                f().await;
                total += t.elapsed();
            }
            total
        })
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let r = rt.block_on(rig());
    let seq = AtomicU64::new(0);
    let order = |seq: &AtomicU64| OrderRequest {
        client_order_id: strangle_core::ids::ClientOrderId::new(format!(
            "bench-{}",
            seq.fetch_add(1, Ordering::Relaxed)
        ))
        .expect("a valid id"),
        product_id: r.product_id,
        symbol: r.legs[0].clone(),
        side: Side::Buy,
        size: Decimal::ONE,
        order_type: OrderType::Limit,
        limit_price: Some(Decimal::new(1, 1)),
        time_in_force: TimeInForce::Gtc,
        reduce_only: false,
        stop: None,
    };
    let now = r.clock.now();
    let base = open_strategy(&r.chain, now);
    let fresh = rt.block_on(r.rest.quotes(&r.legs)).expect("quotes");
    assert_eq!(fresh.len(), 2, "both legs quoted");
    let hit = shocked(&fresh);

    let mut g = c.benchmark_group("tick");
    g.sample_size(50);
    g.bench_function("quotes_rest_2_legs", |b| {
        timed(&rt, b, || async {
            black_box(r.rest.quotes(&r.legs).await.expect("q"));
        })
    });
    g.bench_function("quotes_stream_2_legs", |b| {
        timed(&rt, b, || async {
            black_box(r.stream.quotes(&r.legs).await.expect("q"));
        })
    });
    {
        let mut s = base.clone();
        let out = s.handle(
            now,
            Event::Quotes {
                spot: None,
                quotes: hit.clone(),
            },
        );
        assert!(
            out.iter().any(|a| matches!(a, Action::Place(_))),
            "the stop loss decides an exit"
        );
    }
    g.bench_function("decision", |b| {
        b.iter_batched(
            || base.clone(),
            |mut s| {
                s.handle(
                    now,
                    Event::Quotes {
                        spot: None,
                        quotes: hit.clone(),
                    },
                )
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("place_order", |b| {
        timed(&rt, b, || async {
            black_box(r.rest.place_order(&order(&seq)).await.expect("placed"));
        })
    });
    for (name, ex) in [("to_order_rest", &r.rest), ("to_order_stream", &r.stream)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut s = base.clone();
                        let t = Instant::now();
                        let q = ex.quotes(&r.legs).await.expect("quotes");
                        // The market moved against the strangle: the same quotes, shocked.
                        let out = s.handle(
                            now,
                            Event::Quotes {
                                spot: None,
                                quotes: shocked(&q),
                            },
                        );
                        let exit = out.iter().find_map(|a| match a {
                            Action::Place(i) => Some(i.request.clone()),
                            _ => None,
                        });
                        let mut req = exit.expect("the stop loss decides an exit");
                        // Sent as a resting order with a fresh client id (the bench repeats).
                        req.client_order_id = order(&seq).client_order_id;
                        req.limit_price = Some(Decimal::new(1, 1));
                        req.side = Side::Buy;
                        req.reduce_only = false;
                        black_box(ex.place_order(&req).await.expect("sent"));
                        total += t.elapsed();
                    }
                    total
                })
            })
        });
    }
    g.finish();
    // Open orders pile up at the local market while benching; it is dropped with the rig.
}

criterion_group!(benches, bench);
criterion_main!(benches);
