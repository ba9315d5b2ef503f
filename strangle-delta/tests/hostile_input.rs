//! Hostile input, bounded fuzzing driven by proptest: Delta's REST payloads (tickers,
//! products), WebSocket frames and the chain built from them, as random bytes and as
//! mutations of Delta's real payloads (`tests/fixtures`). Nothing may panic; a payload is
//! either parsed or refused with an error naming the problem.
//!
//! `PROPTEST_CASES` sets the executions per property (default 2,000 here; the full
//! reliability run uses 100,000).

mod mutate;

use proptest::prelude::*;
use strangle_core::model::Underlying;
use strangle_delta::chain::{chain_from, parse_products, parse_quotes, parse_tickers};
use strangle_delta::convert::{contract_of, quote_of_ws};
use strangle_delta::wire::ws::Frame;

fn fixture(name: &str) -> String {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// A mutation of `text` (see `mutate::mutate`), read back as text.
fn mutate(text: &str, kind: u8, a: usize, b: usize, byte: u8) -> String {
    String::from_utf8_lossy(&mutate::mutate(text.as_bytes(), kind, a, b, byte)).into_owned()
}

const WS_FIXTURES: &[&str] = &[
    "ws_ticker.json",
    "ws_ticker_untraded.json",
    "ws_ob_l1.json",
    "ws_ob_l2.json",
    "ws_orders_update.json",
    "ws_orders_snapshot.json",
    "ws_positions_update.json",
    "ws_mark_price.json",
    "ws_spot_price.json",
    "ws_v2_user_trades.json",
    "ws_subscriptions_error.json",
    "ws_key_auth_error_expired.json",
];

fn frame(text: &str) {
    if let Ok(Frame::Ticker(t)) = serde_json::from_str::<Frame>(text) {
        let _ = quote_of_ws(&t);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_tickers(&text);
        let _ = parse_quotes(&text);
        let _ = parse_products(&text);
        frame(&text);
    }

    #[test]
    fn mutated_tickers_and_products_parse_or_are_refused(
        kind in any::<u8>(), a in any::<usize>(), b in any::<usize>(), byte in any::<u8>(), which in any::<bool>()
    ) {
        let tickers = fixture("tickers_btc_options.json");
        let products = fixture("products_options.json");
        let (t, p) = if which {
            (mutate(&tickers, kind, a, b, byte), products)
        } else {
            (tickers, mutate(&products, kind, a, b, byte))
        };
        match (parse_quotes(&t), parse_products(&p)) {
            (Ok(t), Ok(p)) => {
                if let Ok(c) = chain_from(Underlying::Btc, t, &p) {
                    // Whatever survived is a well-formed chain.
                    prop_assert!(c.entries.iter().all(|e| e.contract.underlying == Underlying::Btc));
                    prop_assert!(c.entries.windows(2).all(|w| w[0].contract.symbol <= w[1].contract.symbol));
                }
            }
            (Err(e), _) | (_, Err(e)) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn mutated_websocket_frames_never_panic(
        n in 0..WS_FIXTURES.len(), kind in any::<u8>(), a in any::<usize>(), b in any::<usize>(), byte in any::<u8>()
    ) {
        frame(&mutate(&fixture(WS_FIXTURES[n]), kind, a, b, byte));
    }

    #[test]
    fn products_with_any_field_values_never_panic(
        strike in proptest::option::of(any::<i64>()), kind in "[a-z_]{0,16}", symbol in ".{0,24}"
    ) {
        let text = format!(
            r#"[{{"id": 1, "symbol": {symbol:?}, "contract_type": {kind:?}, "strike_price": {},
                 "settlement_time": "2026-03-11T12:00:00Z", "contract_value": "0.001", "tick_size": "0.1",
                 "underlying_asset": {{"symbol": "BTC"}}}}]"#,
            strike.map_or("null".into(), |s| format!("\"{s}\""))
        );
        if let Ok(p) = serde_json::from_str::<Vec<strangle_delta::wire::Product>>(&text) {
            let _ = contract_of(&p[0]);
        }
        let _ = parse_products(&text);
    }
}
