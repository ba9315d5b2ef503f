//! Criterion benches of the Delta adapter: request signing and decoding a full tickers
//! payload (the fixture `tickers_btc_chain_full.json`, 404 option tickers, 384 KB).

#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strangle_delta::convert::quote_of;
use strangle_delta::error::Secret;
use strangle_delta::sign::sign;
use strangle_delta::wire::{Envelope, Ticker};

fn signing(c: &mut Criterion) {
    let secret = Secret::new("dEmOsEcReT9876543210zyxwvutsrqponmlkjihgfedcbaZYXWVU");
    let body = r#"{"product_id":176543,"size":10,"side":"sell","order_type":"limit_order","limit_price":"1250.5","time_in_force":"gtc","post_only":"false","reduce_only":"false","client_order_id":"ss-20250131-C100000"}"#;
    c.bench_function("sign/place_order", |b| {
        b.iter(|| {
            sign(
                black_box(&secret),
                "POST",
                "1735689600",
                "/v2/orders",
                "",
                black_box(body),
            )
        })
    });
}

fn decoding(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../strangle-delta/tests/fixtures/tickers_btc_chain_full.json"
    );
    let bytes = std::fs::read(path).expect("fixture present");
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("tickers_btc_chain_full", |b| {
        b.iter(|| {
            let env: Envelope<Vec<Ticker>> =
                serde_json::from_slice(black_box(&bytes)).expect("parses");
            env.result.map(|v| v.len())
        })
    });
    g.bench_function("tickers_btc_chain_full_to_quotes", |b| {
        b.iter(|| {
            let env: Envelope<Vec<Ticker>> =
                serde_json::from_slice(black_box(&bytes)).expect("parses");
            env.result
                .unwrap_or_default()
                .iter()
                .filter_map(quote_of)
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, signing, decoding);
criterion_main!(benches);
