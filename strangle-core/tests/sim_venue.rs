//! The simulated venue's fill model, fees and settlement.

mod common;

use std::sync::Arc;

use common::*;
use rust_decimal_macros::dec;
use strangle_core::clock::ManualClock;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::ids::{ProductId, Symbol};
use strangle_core::model::{OrderRequest, OrderState, OrderType, Side, TimeInForce, Underlying};
use strangle_core::sim::{QuoteRule, SimExchange, StaleQuotes};
use strangle_core::Execution;

fn coid(id: &str) -> strangle_core::ids::ClientOrderId {
    strangle_core::ids::ClientOrderId::new(id).expect("a valid id")
}

fn order(
    id: &str,
    symbol: &str,
    side: Side,
    size: i64,
    price: Option<rust_decimal::Decimal>,
    reduce_only: bool,
) -> OrderRequest {
    OrderRequest {
        client_order_id: coid(id),
        product_id: ProductId(1),
        symbol: Symbol::new(symbol).expect("symbol"),
        side,
        size: size.into(),
        order_type: if price.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        limit_price: price,
        time_in_force: TimeInForce::Gtc,
        reduce_only,
        stop: None,
    }
}

fn venue() -> (Arc<ManualClock>, SimExchange) {
    let clock = Arc::new(ManualClock::new(at(4, 0)));
    let v = SimExchange::new(clock.clone(), fees(), dec!(1000));
    v.push_chain(market(
        at(4, 0),
        dec!(82000),
        Px {
            bid_size: dec!(5),
            ..px(dec!(500), dec!(510), dec!(505))
        },
        px(dec!(400), dec!(410), dec!(405)),
    ));
    (clock, v)
}

#[tokio::test]
async fn limit_crossing_fills_at_the_quote_up_to_its_size_and_rests() {
    let (_c, v) = venue();
    let st = v
        .place_order(&order("a", CALL, Side::Sell, 8, Some(dec!(480)), false))
        .await
        .expect("placed");
    assert_eq!(st.state, OrderState::Open);
    assert_eq!(st.filled_size(), dec!(5));
    assert_eq!(
        st.fills[0].price,
        dec!(500),
        "a taker gets the bid, not its limit"
    );
    // The same snapshot's liquidity is not available twice.
    let st2 = v
        .place_order(&order("b", CALL, Side::Sell, 1, None, false))
        .await
        .expect("placed");
    assert_eq!(
        (st2.state, st2.filled_size()),
        (OrderState::Cancelled, dec!(0))
    );
    // A new snapshot fills the resting rest at its limit (maker).
    v.push_chain(market(
        at(4, 1),
        dec!(82000),
        px(dec!(490), dec!(500), dec!(495)),
        px(dec!(400), dec!(410), dec!(405)),
    ));
    let st = v.order(&coid("a")).await.expect("query").expect("known");
    assert_eq!(st.state, OrderState::Filled);
    assert_eq!(st.fills[1].price, dec!(480));
    let pos = v.positions(Underlying::Btc).await.expect("positions");
    assert_eq!(pos[0].size, dec!(-8));
}

#[tokio::test]
async fn rejections_name_the_problem() {
    let (_c, v) = venue();
    let e = v
        .place_order(&order("r", CALL, Side::Buy, 1, Some(dec!(600)), true))
        .await
        .expect_err("no position");
    assert_eq!(e.exchange_kind(), Some(ExchangeErrorKind::Rejected));
    assert!(e.to_string().contains("reduce_only"), "{e}");
    let e = v
        .place_order(&order(
            "x",
            "C-BTC-1-110326",
            Side::Sell,
            1,
            Some(dec!(1)),
            false,
        ))
        .await
        .expect_err("unknown");
    assert_eq!(e.exchange_kind(), Some(ExchangeErrorKind::NotFound));
    v.place_order(&order("d", PUT, Side::Sell, 1, Some(dec!(400)), false))
        .await
        .expect("placed");
    let e = v
        .place_order(&order("d", PUT, Side::Sell, 1, Some(dec!(400)), false))
        .await
        .expect_err("duplicate");
    assert!(e.to_string().contains("duplicate_client_order_id"), "{e}");
    let e = v
        .place_order(&order("h", PUT, Side::Sell, 0, Some(dec!(400)), false))
        .await
        .expect_err("size");
    assert!(e.to_string().contains("size"), "{e}");
    let e = v
        .cancel_order(&coid("d"), ProductId(1))
        .await
        .expect_err("filled order is not open");
    assert_eq!(e.exchange_kind(), Some(ExchangeErrorKind::NotFound));
}

#[tokio::test]
async fn fees_and_cash_follow_the_model() {
    let (_c, v) = venue();
    v.place_order(&order("p", PUT, Side::Sell, 10, Some(dec!(400)), false))
        .await
        .expect("placed");
    // 10 x 0.001 x 400 = 4 USD premium; fee min(82000 x 0.01 x 0.03 %, 10 % x 4) = 0.246.
    assert_eq!(v.cash(), dec!(1000) + dec!(4) - dec!(0.246));
    v.place_order(&order("q", PUT, Side::Buy, 10, None, true))
        .await
        .expect("placed");
    assert_eq!(v.cash(), dec!(1000) + dec!(4) - dec!(4.10) - dec!(0.492));
    assert!(v
        .positions(Underlying::Btc)
        .await
        .expect("positions")
        .is_empty());
}

#[tokio::test]
async fn settlement_applies_a_same_timestamp_price_first_and_never_a_later_one() {
    // (contract expiring at 12:00 UTC on 11 March, snapshots, expected settlement index)
    let later = at(12, 5) + chrono::Duration::days(1);
    let exact = at(12, 0) + chrono::Duration::days(1);
    for (last, expected) in [
        // A snapshot at the settlement instant is applied first: its index settles.
        (exact, dec!(92000)),
        // A snapshot after it must not be used: the index in force at 12:00 (91,000) settles.
        (later, dec!(91000)),
    ] {
        let (clock, v) = venue();
        v.place_order(&order("c", CALL, Side::Sell, 5, Some(dec!(500)), false))
            .await
            .expect("call");
        v.place_order(&order("p", PUT, Side::Sell, 10, Some(dec!(400)), false))
            .await
            .expect("put");
        let cash = v.cash();
        v.push_chain(market(
            at(11, 0) + chrono::Duration::days(1),
            dec!(91000),
            px(dec!(900), dec!(1100), dec!(1000)),
            px(dec!(1), dec!(2), dec!(1)),
        ));
        assert!(v.settlements().is_empty(), "nothing is due before 12:00");
        clock.set(last);
        let spot = if last == exact {
            dec!(92000)
        } else {
            dec!(60000)
        };
        v.push_chain(market(
            last,
            spot,
            px(dec!(1), dec!(2), dec!(1)),
            px(dec!(1), dec!(2), dec!(1)),
        ));
        let s = v.settlements();
        assert_eq!(s.len(), 2);
        // The 90,000 call is (index − 90,000) in the money; 5 contracts of 0.001 BTC.
        let owed = (expected - dec!(90000)) * dec!(5) * dec!(0.001);
        let call = s.iter().find(|x| x.symbol == CALL).expect("call settled");
        assert_eq!((call.index, call.cash), (expected, -owed));
        assert_eq!(call.at, exact);
        // The 76,000 put expires worthless.
        let put = s.iter().find(|x| x.symbol == PUT).expect("put settled");
        assert_eq!(put.cash, dec!(0));
        assert_eq!(v.cash(), cash - owed);
        assert!(v
            .positions(Underlying::Btc)
            .await
            .expect("positions")
            .is_empty());
    }
}

fn ruled(stale: StaleQuotes) -> (Arc<ManualClock>, SimExchange) {
    let (clock, v) = venue();
    let v = v.with_quote_rule(QuoteRule {
        max_age: chrono::Duration::seconds(60),
        stale,
    });
    (clock, v)
}

/// An order meeting only a quote older than the limit does not fill: a limit rests until a
/// fresh quote comes, a market (IOC) order is cancelled unfilled, and both are counted.
#[tokio::test]
async fn nothing_fills_on_a_quote_older_than_the_limit() {
    let (clock, v) = ruled(StaleQuotes::Wait);
    clock.set(at(4, 5));
    let st = v
        .place_order(&order("g", CALL, Side::Sell, 2, Some(dec!(480)), false))
        .await
        .expect("placed");
    assert_eq!((st.state, st.filled_size()), (OrderState::Open, dec!(0)));
    let st = v
        .place_order(&order("m", PUT, Side::Sell, 1, None, false))
        .await
        .expect("placed");
    assert_eq!(
        (st.state, st.filled_size()),
        (OrderState::Cancelled, dec!(0))
    );
    assert!(
        st.reason
            .as_deref()
            .is_some_and(|r| r.contains("age limit")),
        "{st:?}"
    );
    assert_eq!(v.quote_stats().orders_waited, 2);
    // A fresh snapshot fills the resting limit (as maker, at its limit).
    clock.set(at(4, 6));
    v.push_chain(market(
        at(4, 6),
        dec!(82000),
        px(dec!(490), dec!(500), dec!(495)),
        px(dec!(400), dec!(410), dec!(405)),
    ));
    let st = v.order(&coid("g")).await.expect("query").expect("known");
    assert_eq!(st.state, OrderState::Filled);
    assert_eq!(st.fills[0].price, dec!(480));
    assert_eq!(st.fills[0].timestamp, at(4, 6));
    assert!(v.quote_stats().model_fills.is_empty());
}

/// With model pricing, an exit on a stale quote fills at the Black-76 price of the quote's IV
/// at the current index and time left, keeping the quote's spread over its mark; an entry on
/// the same stale market still waits, and quotes of contracts not held stay as they were.
#[tokio::test]
async fn the_model_prices_exits_only() {
    use rust_decimal::prelude::ToPrimitive;
    use strangle_core::MarketData;
    let (clock, v) = ruled(StaleQuotes::Model);
    let sold = v
        .place_order(&order("s", CALL, Side::Sell, 2, Some(dec!(500)), false))
        .await
        .expect("placed");
    assert_eq!(sold.filled_size(), dec!(2));
    clock.set(at(6, 0));
    let q = v
        .quotes(&[
            Symbol::new(CALL).expect("symbol"),
            Symbol::new(PUT).expect("symbol"),
        ])
        .await
        .expect("quotes");
    let (call, put) = (&q[0], &q[1]);
    assert_eq!(put.timestamp, at(4, 0), "not held: the stored quote");
    assert_eq!(call.timestamp, at(6, 0), "held and stale: a model quote");
    let expiry = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 11, 12, 0, 0)
        .single()
        .expect("time");
    let years = (expiry - at(6, 0)).num_seconds() as f64 / (365.0 * 86_400.0);
    let want = strangle_core::pricing::black76(
        strangle_core::model::OptionKind::Call,
        82_000.0,
        90_000.0,
        years,
        0.45,
    )
    .price;
    let mark = call.mark.to_f64().expect("f64");
    assert!((mark - want).abs() < 1e-6, "{mark} vs {want}");
    // The quote's ask was 5 over its mark: the model ask is too, rounded up to the tick.
    let ask = call.ask.expect("an ask");
    assert!(
        ask >= call.mark + dec!(5) && ask < call.mark + dec!(5.1),
        "{ask}"
    );

    let exit = v
        .place_order(&order("x", CALL, Side::Buy, 2, None, true))
        .await
        .expect("placed");
    assert_eq!(exit.state, OrderState::Filled);
    assert_eq!(exit.fills[0].price, ask);
    assert_eq!(
        v.quote_stats().model_fills,
        vec![exit.fills[0].fill_id.clone()]
    );
    let entry = v
        .place_order(&order("e", PUT, Side::Sell, 1, Some(dec!(400)), false))
        .await
        .expect("placed");
    assert_eq!(
        (entry.state, entry.filled_size()),
        (OrderState::Open, dec!(0))
    );
    assert_eq!(v.quote_stats().orders_waited, 1);
}
