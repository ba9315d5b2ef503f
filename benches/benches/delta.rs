//! Criterion benches of the Delta adapter: request signing, decoding a full tickers payload
//! (the fixture `tickers_btc_chain_full.json`, 404 option tickers, 384 KB) the typed way and
//! by the fast path, and one WebSocket `ticker` frame into a quote.
//!
//! Before criterion's runs, the bench times the fast path against Python's own `json.loads`
//! of the same bytes (when a Python is found: `STRANGLE_PYTHON` or `python3`) and prints the
//! ratio, so the comparison is made on one machine in one run.

#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strangle_delta::convert::{quote_of, quote_of_ws};
use strangle_delta::error::Secret;
use strangle_delta::scan::quotes_from_envelope;
use strangle_delta::sign::sign;
use strangle_delta::wire::ws::Frame;
use strangle_delta::wire::{Envelope, Ticker};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../strangle-delta/tests/fixtures"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture present")
}

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

fn typed_quotes(bytes: &[u8]) -> usize {
    let env: Envelope<Vec<Ticker>> = serde_json::from_slice(bytes).expect("parses");
    env.result
        .unwrap_or_default()
        .iter()
        .filter_map(quote_of)
        .count()
}

fn fast_quotes(bytes: &[u8]) -> usize {
    quotes_from_envelope(bytes).expect("fast path").len()
}

/// Rounds timed on each side of the Python comparison; the best is kept on both sides, so a
/// moment when the machine's other tenants take the core counts against neither.
const ROUNDS: u32 = 21;

/// The best per-call time of `f` over [`ROUNDS`] rounds of `n` calls.
fn best_of(n: u32, mut f: impl FnMut()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed() / n
        })
        .min()
        .unwrap_or_default()
}

/// Python's `json.loads` of the same file, per call, when a Python is found.
fn python_json_loads(path: &str) -> Option<Duration> {
    let python = std::env::var("STRANGLE_PYTHON").unwrap_or_else(|_| "python3".into());
    let code = "import json,sys,timeit\nb=open(sys.argv[1],'rb').read()\n\
                n,r=int(sys.argv[2]),int(sys.argv[3])\n\
                print(min(timeit.repeat(lambda: json.loads(b), number=n, repeat=r))/n)";
    let out = std::process::Command::new(python)
        .args(["-c", code, path, "100", &ROUNDS.to_string()])
        .output()
        .ok()?;
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some(Duration::from_secs_f64(secs))
}

/// Prints the fast path, the typed path and Python's `json.loads` side by side.
fn against_python() {
    let name = "tickers_btc_chain_full.json";
    let bytes = fixture(name);
    let mb = bytes.len() as f64 / 1e6;
    let typed = best_of(100, || {
        black_box(typed_quotes(black_box(&bytes)));
    });
    let fast = best_of(100, || {
        black_box(fast_quotes(black_box(&bytes)));
    });
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!(
        "\n{name}: {} bytes, {} quotes",
        bytes.len(),
        fast_quotes(&bytes)
    );
    println!(
        "  strangle fast path (scan)   {:>8.1} µs  {:>6.0} MB/s",
        us(fast),
        rate(fast)
    );
    println!(
        "  strangle typed (serde)      {:>8.1} µs  {:>6.0} MB/s",
        us(typed),
        rate(typed)
    );
    match python_json_loads(&format!("{FIXTURES}/{name}")) {
        Some(py) => {
            println!(
                "  Python json.loads           {:>8.1} µs  {:>6.0} MB/s",
                us(py),
                rate(py)
            );
            println!(
                "  fast path = 1/{:.1} of json.loads (target: 1/5 or less); typed = 1/{:.1}\n",
                py.as_secs_f64() / fast.as_secs_f64(),
                py.as_secs_f64() / typed.as_secs_f64()
            );
        }
        None => println!("  Python not found (STRANGLE_PYTHON or python3): no ratio measured\n"),
    }
}

fn decoding(c: &mut Criterion) {
    against_python();
    let bytes = fixture("tickers_btc_chain_full.json");
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
        b.iter(|| typed_quotes(black_box(&bytes)))
    });
    g.bench_function("tickers_btc_chain_full_to_quotes_fast", |b| {
        b.iter(|| fast_quotes(black_box(&bytes)))
    });
    g.finish();

    let frame = String::from_utf8(fixture("ws_ticker.json")).expect("utf-8");
    let mut g = c.benchmark_group("ws");
    g.bench_function("ticker_frame_to_quote", |b| {
        b.iter(|| match Frame::parse(black_box(&frame)) {
            Some(Frame::Ticker(t)) => quote_of_ws(&t),
            _ => None,
        })
    });
    g.finish();
}

criterion_group!(benches, signing, decoding);
criterion_main!(benches);
