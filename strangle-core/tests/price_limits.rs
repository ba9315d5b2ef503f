//! No order without a price limit (issue 30 D). Delta ignores `limit_price` on a market order,
//! so a market fallback or a panic could fill at any price in a thin book. The fallback and
//! every panic exit are IOC limit orders `ioc_ticks` past the touch, capped by the price band;
//! a leg with no ask is priced at the band's upper limit, and with neither it waits.

mod common;

use common::*;
use rust_decimal_macros::dec;
use strangle_core::engine::EngineCommand;
use strangle_core::ledger::{OrderPurpose, SessionState};
use strangle_core::model::{ChainSnapshot, OrderType, PriceBand, TimeInForce};

/// The trailing day with a price band on every quote: `upper` for the legs.
fn banded(upper: rust_decimal::Decimal, no_ask_from: Option<usize>) -> Vec<ChainSnapshot> {
    let mut day = trailing_day();
    for (i, c) in day.iter_mut().enumerate() {
        for e in &mut c.entries {
            e.quote.price_band = Some(PriceBand {
                lower: dec!(0.1),
                upper,
            });
            if no_ask_from.is_some_and(|n| i >= n) {
                e.quote.ask = None;
            }
        }
    }
    day
}

#[tokio::test]
async fn a_panic_buys_back_with_an_ioc_limit_past_the_ask_within_the_band() {
    let mut p = profile();
    p.liquidity.max_quote_age_secs = 3600;
    p.execution.ioc_ticks = 10;
    let mut rig = rig(p, banded(dec!(2000), None), 60).await;
    rig.engine.run_until(Some(at(4, 30))).await.expect("entry");
    rig.handle.send(EngineCommand::Panic);
    rig.engine.run_until(Some(at(5, 30))).await.expect("panic");
    let l = rig.ledger.contents();
    assert_eq!(l.sessions[0].state, SessionState::Closed, "{:?}", l.events);
    let exits: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Exit)
        .collect();
    assert!(!exits.is_empty());
    for i in &exits {
        let r = &i.request;
        assert_eq!(r.order_type, OrderType::Limit, "{r:?}");
        assert_eq!(r.time_in_force, TimeInForce::Ioc, "{r:?}");
        // The 04:00 quotes: call ask 510, put ask 410; ten ticks of 0.1 past them.
        let want = if r.symbol.as_str() == CALL {
            dec!(511.0)
        } else {
            dec!(411.0)
        };
        assert_eq!(r.limit_price, Some(want), "{r:?}");
    }
    // Every order of the day had a limit.
    assert!(l
        .intents
        .iter()
        .all(|i| i.request.order_type == OrderType::Limit && i.request.limit_price.is_some()));
}

#[tokio::test]
async fn the_band_caps_the_price_and_prices_a_leg_without_an_ask() {
    let mut p = profile();
    p.liquidity.max_quote_age_secs = 3600;
    p.execution.ioc_ticks = 10;
    // The band's upper limit sits below the put's ask + 10 ticks (410 + 1), above the ask.
    let mut rig = rig(p.clone(), banded(dec!(410.55), None), 60).await;
    rig.engine.run_until(Some(at(4, 30))).await.expect("entry");
    rig.handle.send(EngineCommand::Panic);
    rig.engine.run_until(Some(at(5, 30))).await.expect("panic");
    let l = rig.ledger.contents();
    let put_exit = l
        .intents
        .iter()
        .find(|i| i.purpose == OrderPurpose::Exit && i.request.symbol.as_str() == PUT)
        .expect("a put exit");
    assert_eq!(put_exit.request.limit_price, Some(dec!(410.5)));

    // From 05:00 no contract has an ask: the panic prices at the band's upper limit.
    let mut rig = rig_with_no_ask(p).await;
    rig.engine.run_until(Some(at(4, 30))).await.expect("entry");
    rig.engine
        .run_until(Some(at(5, 1)))
        .await
        .expect("no ask yet");
    rig.handle.send(EngineCommand::Panic);
    rig.engine.run_until(Some(at(5, 30))).await.expect("panic");
    let l = rig.ledger.contents();
    let exits: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Exit)
        .collect();
    assert!(!exits.is_empty(), "{:?}", l.events);
    assert!(
        exits
            .iter()
            .all(|i| i.request.limit_price == Some(dec!(2000))),
        "{exits:?}"
    );
}

async fn rig_with_no_ask(p: strangle_core::profile::Profile) -> Rig {
    rig(p, banded(dec!(2000), Some(2)), 60).await
}
