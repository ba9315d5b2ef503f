//! Every fixture in Delta's exact schema parses; the signing vectors pass.

use rust_decimal_macros::dec;
use serde_json::Value;
use strangle_delta::error::Secret;
use strangle_delta::sign::sign;
use strangle_delta::wire::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Envelope<T> {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn signing_vectors() {
    let v: Value = serde_json::from_str(&fixture("auth_test_vectors.json")).expect("json");
    let secret = Secret::new(v["api_secret"].as_str().expect("secret"));
    let ts = v["timestamp"].as_str().expect("ts");
    for case in v["rest"].as_array().expect("cases") {
        let s = |k: &str| case[k].as_str().expect(k).to_string();
        assert_eq!(
            sign(
                &secret,
                &s("method"),
                ts,
                &s("path"),
                &s("query"),
                &s("body")
            ),
            s("signature"),
            "{}",
            s("prehash")
        );
    }
    assert_eq!(
        sign(&secret, "GET", ts, "/live", "", ""),
        v["websocket"]["signature"].as_str().expect("ws")
    );
    // The negative vectors differ from the correct ones.
    for case in v["negative"].as_array().expect("negative") {
        let pre = case["prehash"].as_str().expect("prehash");
        let got = sign(&secret, "", "", pre, "", "");
        assert_eq!(got, case["signature"].as_str().expect("sig"));
    }
    let doc = &v["official_doc_example"];
    let got = sign(
        &Secret::new(doc["secret"].as_str().expect("s")),
        "",
        "",
        doc["prehash"].as_str().expect("p"),
        "",
        "",
    );
    assert_eq!(got, doc["recomputed_signature"].as_str().expect("r"));
}

#[test]
fn products_and_tickers() {
    let p: Envelope<Vec<Product>> = parse("products_options.json");
    let products = p.result.expect("result");
    assert_eq!(products.len(), 32);
    assert!(p.meta.expect("meta").after.is_some());
    let first = &products[0];
    assert_eq!(first.symbol, "C-BTC-80800-110326");
    assert_eq!(first.contract_value, Some(dec!(0.001)));
    assert_eq!(
        first
            .product_specs
            .as_ref()
            .and_then(|s| s.premium_commission_rate),
        Some(dec!(0.1))
    );

    for name in [
        "tickers_btc_options.json",
        "tickers_btc_chain_full.json",
        "tickers_eth_chain_full.json",
    ] {
        let t: Envelope<Vec<Ticker>> = parse(name);
        let tickers = t.result.expect("result");
        assert!(!tickers.is_empty(), "{name}");
        for x in &tickers {
            assert!(x.mark_price.is_some(), "{name}: {} has no mark", x.symbol);
            assert!(
                x.greeks.as_ref().and_then(|g| g.delta).is_some(),
                "{name}: {} has no delta",
                x.symbol
            );
        }
    }
    let t: Envelope<Vec<Ticker>> = parse("tickers_btc_options.json");
    let no_bid = t
        .result
        .expect("r")
        .into_iter()
        .find(|x| x.symbol == "P-BTC-78000-130326")
        .expect("present");
    assert_eq!(no_bid.quotes.expect("quotes").best_bid, None);
    let single: Envelope<Ticker> = parse("ticker_single_option.json");
    let s = single.result.expect("ticker");
    assert_eq!(s.quotes.as_ref().and_then(|q| q.best_bid), Some(dec!(740)));
    assert_eq!(s.timestamp, Some(1_773_124_199_703_012));
    let book: Envelope<L2Orderbook> = parse("l2orderbook_option.json");
    assert!(!book.result.expect("book").buy.is_empty());
}

#[test]
fn orders_fills_positions_wallet() {
    for name in [
        "order_created.json",
        "order_filled.json",
        "order_cancelled.json",
    ] {
        let o: Envelope<Order> = parse(name);
        let o = o.result.expect(name);
        assert!(o.id > 0 && o.client_order_id.is_some(), "{name}");
    }
    let open: Envelope<Vec<Order>> = parse("orders_open.json");
    assert!(!open.result.expect("orders").is_empty());
    let batch: Envelope<Vec<Order>> = parse("orders_batch_created.json");
    assert!(!batch.result.expect("orders").is_empty());
    let fills: Envelope<Vec<Fill>> = parse("fills.json");
    let fills = fills.result.expect("fills");
    assert!(fills.iter().all(|f| f.id.is_some() && f.price.is_some()));
    let positions: Envelope<Vec<MarginedPosition>> = parse("positions.json");
    assert!(!positions.result.expect("positions").is_empty());
    let single: Envelope<Position> = parse("position_single.json");
    assert!(single
        .result
        .expect("position")
        .size
        .is_some_and(|s| s < dec!(0)));
    let flat: Envelope<Position> = parse("position_flat.json");
    let flat = flat.result.expect("flat");
    assert_eq!((flat.size, flat.entry_price), (Some(dec!(0)), None));
    let wallet: Envelope<Vec<WalletBalance>> = parse("wallet_balances.json");
    assert_eq!(wallet.result.expect("wallet")[0].asset_symbol, "USD");
    let ok: Envelope<Value> = parse("cancel_all_ok.json");
    assert!(ok.success);
}

#[test]
fn error_bodies() {
    for (name, code) in [
        (
            "order_error_insufficient_margin.json",
            "insufficient_margin",
        ),
        ("error_bad_schema.json", "bad_schema"),
        ("error_invalid_api_key.json", ""),
        ("error_signature_expired.json", "SignatureExpired"),
        ("error_signature_mismatch.json", ""),
        (
            "error_ip_not_whitelisted.json",
            "ip_not_whitelisted_for_api_key",
        ),
        ("error_open_order_not_found.json", "open_order_not_found"),
        (
            "error_immediate_execution_post_only.json",
            "immediate_execution_post_only",
        ),
    ] {
        let e: Envelope<Value> = parse(name);
        assert!(!e.success, "{name}");
        let err = e.error.expect(name);
        if !code.is_empty() {
            assert_eq!(err.code, code, "{name}");
        } else {
            assert!(!err.code.is_empty(), "{name}: no code");
        }
    }
}

#[test]
fn websocket_frames() {
    use strangle_delta::wire::ws::Frame;
    let frame = |name: &str| -> Frame {
        serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    match frame("ws_ticker.json") {
        Frame::Ticker(t) => {
            let d = &t.d[0];
            assert_eq!(d.s, "C-BTC-84000-130326");
            assert_eq!(
                (d.best_ask(), d.ask_size(), d.best_bid(), d.bid_size()),
                (
                    Some(dec!(763)),
                    Some(dec!(3162)),
                    Some(dec!(740)),
                    Some(dec!(5026))
                )
            );
            assert_eq!(d.delta(), Some(dec!(0.33638829)));
            assert_eq!(d.vega(), Some(dec!(28.30119622)));
            assert_eq!(d.mark_iv(), Some(dec!(0.44460465)));
            assert_eq!(t.sp, Some(dec!(82457.3)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(frame("ws_ticker_untraded.json"), Frame::Ticker(_)));
    match frame("ws_ob_l1.json") {
        Frame::ObL1(l) => assert_eq!((l.bp, l.ask_size), (Some(dec!(740)), Some(dec!(3162)))),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(frame("ws_mark_price.json"), Frame::MarkPrice(p) if p.p == Some(dec!(751.25752947)))
    );
    assert!(matches!(frame("ws_spot_price.json"), Frame::SpotPrice(p) if p.sy == ".DEXBTUSD"));
    match frame("ws_orders_snapshot.json") {
        Frame::Orders(o) => assert_eq!(o.result.expect("snapshot").len(), 1),
        other => panic!("{other:?}"),
    }
    match frame("ws_orders_update.json") {
        Frame::Orders(o) => assert_eq!(
            (o.unfilled_size, o.order_id),
            (Some(dec!(4)), Some(5_471_203_388))
        ),
        other => panic!("{other:?}"),
    }
    match frame("ws_positions_snapshot.json") {
        Frame::Positions(p) => assert_eq!(p.result.expect("snapshot")[0].size, Some(dec!(-10))),
        other => panic!("{other:?}"),
    }
    match frame("ws_positions_update.json") {
        Frame::Positions(p) => assert_eq!(p.position.symbol(), Some("C-BTC-84000-130326")),
        other => panic!("{other:?}"),
    }
    match frame("ws_v2_user_trades.json") {
        Frame::UserTrade(t) => assert_eq!(
            (t.s, t.po, t.c.as_deref()),
            (Some(dec!(6)), Some(dec!(-6)), Some("ss-260313-C84000-a1"))
        ),
        other => panic!("{other:?}"),
    }
    match frame("ws_subscriptions_error.json") {
        Frame::Subscriptions(s) => assert!(s.channels[1].error.is_some()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        frame("ws_subscriptions_ack.json"),
        Frame::Subscriptions(_)
    ));
    assert!(matches!(frame("ws_key_auth_success.json"), Frame::KeyAuth(a) if a.success));
    assert!(
        matches!(frame("ws_key_auth_error_expired.json"), Frame::KeyAuth(a) if a.status_code == Some(408))
    );
    assert!(matches!(frame("ws_key_auth_error_signature.json"), Frame::KeyAuth(a) if !a.success));
    assert!(matches!(frame("ws_heartbeat.json"), Frame::Heartbeat));
    assert!(matches!(frame("ws_margins.json"), Frame::Other));
    assert!(
        matches!(frame("ws_v2_ticker_legacy.json"), Frame::Other),
        "the legacy v2/ticker is not used"
    );
}
