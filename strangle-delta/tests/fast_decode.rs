//! The fast path from `/v2/tickers` bytes to quotes (`strangle_delta::scan`) against the
//! reference: serde through the wire types, then `convert::quote_of`. Wherever the fast path
//! answers, its quotes are the reference's, field for field and bit for bit; on Delta's own
//! payloads it always answers (so the comparison is not vacuous); on mutated payloads it
//! either agrees or leaves the bytes to the reference.
//!
//! `PROPTEST_CASES` sets the executions per property (default 2,000 here).

mod mutate;

use mutate::mutate;
use proptest::prelude::*;
use strangle_core::model::Quote;
use strangle_delta::convert::quote_of;
use strangle_delta::rest::decode;
use strangle_delta::scan::{quotes_from_envelope, quotes_from_payload, ticker_quotes, Form};
use strangle_delta::wire::Ticker;

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// The reference: the REST decoder's envelope, then one quote per ticker that makes one.
fn reference(bytes: &[u8]) -> Option<Vec<Quote>> {
    let env = decode::<Vec<Ticker>>("GET", "/v2/tickers", 200, None, bytes).ok()?;
    Some(
        env.result
            .unwrap_or_default()
            .iter()
            .filter_map(quote_of)
            .collect(),
    )
}

/// Quotes compared through their JSON, so a float's bits and a decimal's scale count.
fn same(a: &[Quote], b: &[Quote]) -> bool {
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
        && a.iter().zip(b).all(|(x, y)| {
            let bits = |q: &Quote| {
                (
                    q.mark_iv.map(f64::to_bits),
                    q.bid_iv.map(f64::to_bits),
                    q.ask_iv.map(f64::to_bits),
                    q.greeks
                        .as_ref()
                        .map(|g| [g.delta, g.gamma, g.theta, g.vega].map(f64::to_bits)),
                )
            };
            bits(x) == bits(y)
        })
}

const CHAINS: &[&str] = &[
    "tickers_btc_chain_full.json",
    "tickers_eth_chain_full.json",
    "tickers_btc_options.json",
];

/// The one seam (`scan::ticker_quotes`): the scanner answers Delta's payloads without the
/// typed decoder; a payload it leaves, or an answer that is not a success, goes to the
/// typed decoder, whose tickers become the quotes.
#[test]
fn the_seam_answers_by_the_fast_path_and_leaves_the_rest_to_the_reference() {
    let bytes = fixture(CHAINS[0]);
    let want = reference(&bytes).expect("reference");
    let typed = || {
        decode::<Vec<Ticker>>("GET", "/v2/tickers", 200, None, &bytes)
            .map(|e| e.result.unwrap_or_default())
    };
    let mut called = false;
    let fast = ticker_quotes(&bytes, Form::Envelope, || {
        called = true;
        typed()
    })
    .expect("quotes");
    assert!(!called && same(&fast, &want), "the fast path answered");
    let typed_only = ticker_quotes(&bytes, Form::TypedOnly, typed).expect("quotes");
    assert!(same(&typed_only, &want), "the reference answered the same");
    // An exponent is left to the reference, which reads it.
    let odd = br#"{"success": true, "result": [{"symbol": "s", "mark_price": "1e3"}]}"#;
    let mut called = false;
    let _ = ticker_quotes(odd, Form::Envelope, || {
        called = true;
        decode::<Vec<Ticker>>("GET", "/v2/tickers", 200, None, odd)
            .map(|e| e.result.unwrap_or_default())
    });
    assert!(called, "the scanner gave the payload to the reference");
}

#[test]
fn delta_payloads_take_the_fast_path_and_agree_with_the_reference() {
    for name in CHAINS {
        let bytes = fixture(name);
        let fast = quotes_from_envelope(&bytes).unwrap_or_else(|_| panic!("{name}: fell back"));
        let want = reference(&bytes).expect(name);
        assert!(!want.is_empty(), "{name}");
        assert_eq!(fast.len(), want.len(), "{name}");
        assert!(same(&fast, &want), "{name}");
        // The recorded-file reader takes the envelope, and the bare list inside it.
        let payload = quotes_from_payload(&bytes).expect(name);
        assert!(same(&payload, &want), "{name}");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect(name);
        let list = serde_json::to_vec(&value["result"]).expect(name);
        assert!(
            same(&quotes_from_payload(&list).expect(name), &want),
            "{name}"
        );
    }
}

/// An object's members as key and JSON text, in the order they are written.
type Members = Vec<(String, String)>;

/// `value` as JSON text, each object's keys in the order `order` leaves them (serde_json
/// keeps them sorted), nested objects reversed when `reverse_nested`.
fn write_ordered(
    value: &serde_json::Value,
    reverse_nested: bool,
    order: &dyn Fn(&mut Members),
) -> String {
    let Some(map) = value.as_object() else {
        return value.to_string();
    };
    let mut members: Members = map
        .iter()
        .map(|(k, v)| {
            let text = match v.as_object() {
                Some(_) => write_ordered(v, false, &|m| {
                    if reverse_nested {
                        m.reverse();
                    }
                }),
                None => v.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    order(&mut members);
    let members: Vec<String> = members
        .into_iter()
        .map(|(k, v)| format!("{k:?}: {v}"))
        .collect();
    format!("{{{}}}", members.join(", "))
}

/// The fast path reads a key first as the one at its place in the previous ticker. Tickers
/// whose keys come in other orders (in runs of three, so some follow their predecessor's
/// order and some do not), with keys missing and keys added: the reference's quotes, still
/// on the fast path.
#[test]
fn tickers_with_keys_in_other_orders_agree_with_the_reference() {
    let bytes = fixture("tickers_btc_chain_full.json");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("parses");
    let tickers = value["result"].as_array().expect("a list");
    let texts: Vec<String> = tickers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let turn = i / 3;
            write_ordered(t, turn % 2 == 1, &|m| {
                let n = m.len();
                m.rotate_left(turn % n);
                if turn % 5 == 1 {
                    m.retain(|(k, _)| k != "close" && k != "volume");
                }
                if turn % 7 == 2 {
                    m.insert(turn % m.len(), ("not_read_here".into(), "[1, {}]".into()));
                }
            })
        })
        .collect();
    let payload = format!("{{\"success\": true, \"result\": [{}]}}", texts.join(", "));
    let fast = quotes_from_envelope(payload.as_bytes()).expect("the fast path answers");
    let want = reference(payload.as_bytes()).expect("the reference answers");
    assert_eq!(fast.len(), tickers.len());
    assert!(same(&fast, &want));
}

/// A key where the previous ticker had a longer one that begins the same (`oi` for
/// `oi_contracts`), a longer one for a shorter one, and keys of more than 14 bytes that
/// differ only at their end: each is read as itself.
#[test]
fn keys_that_begin_like_the_expected_one_are_read_as_themselves() {
    let t = |keys: &str| {
        format!(
            r#"{{"symbol": "C-BTC-90000-110326", "timestamp": 1773115200000000, {keys}, "mark_price": "5"}}"#
        )
    };
    let payload = format!(
        r#"{{"success": true, "result": [{}, {}, {}, {}]}}"#,
        t(r#""oi_contracts": "7", "underlying_asset_symbol": "BTC""#),
        t(r#""oi": "0.5", "underlying_asset_symbolx": "BTC""#),
        t(r#""oi_contracts2": "1", "underlying_asset_symbo": "BTC""#),
        t(r#""oi_contracts": "9", "underlying_asset_symbol": "BTC""#),
    );
    let fast = quotes_from_envelope(payload.as_bytes()).expect("the fast path answers");
    let want = reference(payload.as_bytes()).expect("the reference answers");
    assert!(same(&fast, &want));
    let oi: Vec<_> = fast.iter().map(|q| q.open_interest).collect();
    assert_eq!(
        oi,
        [Some(7.into()), None, None, Some(9.into())],
        "only oi_contracts is the open interest"
    );
}

#[test]
fn answers_that_are_not_a_success_are_left_to_the_reference() {
    for text in [
        r#"{"success": false, "error": {"code": "bad"}}"#,
        r#"{"result": []}"#,
        r#"{"success": true}"#,
        r#"{"success": true, "result": null}"#,
        r#"{"success": true, "result": [], "error": "x"}"#,
        r#"{"success": true, "result": [], "result": []}"#,
        r#"{"success": true, "result": [{"symbol": "C-BTC-1-010126", "symbol": "x"}]}"#,
        r#"{"success": true, "result": [{"mark_price": "1"}]}"#,
        r#"{"success": true, "result": [{"symbol": "s", "contract_type": null}]}"#,
        r#"{"success": true, "result": [{"symbol": "s", "mark_price": "1e3"}]}"#,
        r#"{"success": true, "result": [{"symbol": "s", "mark_price": "abc"}]}"#,
        r#"{"success": true, "result": [{"symbol": "s", "product_id": "1"}]}"#,
        r#"{"success": true, "result": [{"symbol": "s\u0041"}]}"#,
        r#"{"success": true, "result": []} x"#,
    ] {
        assert!(quotes_from_envelope(text.as_bytes()).is_err(), "{text}");
    }
    // A success with an empty list, unknown fields and a null meta: the fast path answers.
    let ok = r#"{"success": true, "result": [], "meta": {"after": null}, "x": [1, {"y": "\n"}]}"#;
    assert_eq!(quotes_from_envelope(ok.as_bytes()), Ok(vec![]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Wherever the fast path answers a mutated payload, the reference answers the same.
    #[test]
    fn mutated_payloads_agree_or_fall_back(
        n in 0..CHAINS.len(), kind in any::<u8>(), a in any::<usize>(), b in any::<usize>(), byte in any::<u8>()
    ) {
        let bytes = mutate(&fixture(CHAINS[n]), kind, a, b, byte);
        if let Ok(fast) = quotes_from_envelope(&bytes) {
            let want = reference(&bytes);
            prop_assert!(want.is_some(), "the fast path accepted what the reference refuses");
            prop_assert!(same(&fast, &want.unwrap_or_default()));
        }
    }

    /// Random decimal texts in every field the quote reads: fast and reference agree.
    #[test]
    fn decimal_forms_agree(
        digits in "-?[0-9]{1,20}(\\.[0-9]{1,20})?", field in 0usize..6, number in any::<bool>()
    ) {
        let fields = ["mark_price", "spot_price", "oi_contracts", "mark_vol", "strike_price", "size"];
        let value = if number && !digits.contains('.') { digits.clone() } else { format!("\"{digits}\"") };
        let text = format!(
            r#"{{"success":true,"result":[{{"symbol":"C-BTC-1-010126","timestamp":1773115200000000,"mark_price":"1","quotes":{{"best_bid":{value},"bid_iv":{value}}},"greeks":{{"delta":{value}}},"{}":{value}}}]}}"#,
            fields[field]
        );
        let want = reference(text.as_bytes());
        if let Ok(fast) = quotes_from_envelope(text.as_bytes()) {
            prop_assert!(want.is_some());
            prop_assert!(same(&fast, &want.unwrap_or_default()), "{}", text);
        }
    }
}
