//! End-to-end days on the simulated venue with a scripted market.

mod common;

use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::audit::EventKind;
use strangle_core::engine::EngineCommand;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::ledger::{OrderPurpose, SessionState};
use strangle_core::memory::LedgerContents;
use strangle_core::model::{OrderState, OrderType, Side, TimeInForce};
use strangle_core::risk::ExitReason;
use strangle_core::sim::OrderFault;
use strangle_core::strategy::Phase;
use strangle_core::Execution;

async fn trailing_run() -> (LedgerContents, Decimal) {
    let mut r = rig(profile(), trailing_day(), 60).await;
    r.engine.run_until(Some(at(8, 0))).await.expect("run");
    (r.ledger.contents(), r.venue.cash())
}

#[tokio::test]
async fn trailing_stop_day_gives_exact_orders_fills_and_pnl() {
    let (l, cash) = trailing_run().await;
    let sid = strangle_core::ids::session_id("e2e", at(4, 0).date_naive());

    // Orders: sell both legs at the bid at 09:30 IST, buy both back at the ask.
    let orders: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.purpose != OrderPurpose::Stop)
        .map(|i| {
            (
                i.request.client_order_id.as_str(),
                i.request.side,
                i.request.limit_price,
                i.request.size,
                i.request.reduce_only,
                i.purpose,
                i.created_at,
            )
        })
        .collect();
    let cid = |s: &str| format!("{sid}-{s}");
    let (ce, pe, cx, px_) = (cid("CE1"), cid("PE1"), cid("CX1"), cid("PX1"));
    assert_eq!(
        orders,
        vec![
            (
                ce.as_str(),
                Side::Sell,
                Some(dec!(500)),
                dec!(10),
                false,
                OrderPurpose::Entry,
                at(4, 0)
            ),
            (
                pe.as_str(),
                Side::Sell,
                Some(dec!(400)),
                dec!(10),
                false,
                OrderPurpose::Entry,
                at(4, 0)
            ),
            (
                cx.as_str(),
                Side::Buy,
                Some(dec!(425)),
                dec!(10),
                true,
                OrderPurpose::Exit,
                at(7, 0)
            ),
            (
                px_.as_str(),
                Side::Buy,
                Some(dec!(335)),
                dec!(10),
                true,
                OrderPurpose::Exit,
                at(7, 0)
            ),
        ]
    );
    assert!(l
        .intents
        .iter()
        .all(|i| i.request.symbol == CALL || i.request.symbol == PUT));

    // Fills: at the quoted prices, fees = min(0.03 % of notional, 10 % of premium).
    let fills: Vec<_> = l
        .fills
        .iter()
        .map(|(_, f)| (f.symbol.as_str(), f.side, f.size, f.price, f.fee))
        .collect();
    assert_eq!(
        fills,
        vec![
            (CALL, Side::Sell, dec!(10), dec!(500), dec!(0.246)),
            (PUT, Side::Sell, dec!(10), dec!(400), dec!(0.246)),
            (CALL, Side::Buy, dec!(10), dec!(425), dec!(0.249)),
            (PUT, Side::Buy, dec!(10), dec!(335), dec!(0.249)),
        ]
    );

    // The session: trailing stop after the lock rose to 25 % at a 55.6 % peak.
    assert_eq!(l.sessions.len(), 1);
    let s = &l.sessions[0];
    assert_eq!(s.session_id, sid);
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::TrailingStop));
    assert_eq!(
        s.expiry,
        at(12, 0) + chrono::Duration::days(1),
        "tomorrow's expiry, not today's"
    );
    assert_eq!(s.planned_exit, at(9, 50), "15:20 IST");
    assert_eq!(s.trailing_level, Some(dec!(25)));
    assert_eq!(s.peak_pnl_pct, Some(dec!(55.644444)));
    assert_eq!(s.pnl.premium, dec!(9.000));
    assert_eq!(s.pnl.gross, dec!(1.40));
    assert_eq!(s.pnl.fees, dec!(0.990));
    assert_eq!(s.pnl.net, dec!(0.41));
    assert_eq!(s.closed_at, Some(at(7, 0)));
    assert_eq!(
        cash,
        dec!(10000.41),
        "the venue's cash agrees with the ledger's PnL"
    );

    // The trailing stop works on what closing would realise (the default basis): at 06:00
    // the marks say +55.6 % but buying back at the asks with the exit fee would realise less,
    // and that first close-now peak already passes both tiers, so the lock rises once, to 25 %.
    let kinds: Vec<_> = l.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["entry", "open", "trailing", "exit", "closed"]);
    let locks: Vec<_> = l
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Trailing)
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(locks, vec!["trailing stop locks 25 % of premium"]);
}

#[tokio::test]
async fn the_same_day_twice_gives_identical_records() {
    let a = trailing_run().await;
    let b = trailing_run().await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn partial_fill_rests_and_completes_as_maker() {
    let mut day = trailing_day();
    // At 09:30 IST only 4 contracts are bid; five seconds later the bid is deep again.
    let thin = px(dec!(500), dec!(510), dec!(505));
    let thin = Px {
        bid_size: dec!(4),
        ..thin
    };
    let put = px(dec!(400), dec!(410), dec!(405));
    day[1] = market(at(4, 0), dec!(82000), thin, put);
    day.insert(
        2,
        market(
            at(4, 0) + chrono::Duration::seconds(5),
            dec!(82000),
            px(dec!(500), dec!(510), dec!(505)),
            put,
        ),
    );
    let mut r = rig(profile(), day, 5).await;
    r.engine.run_until(Some(at(4, 1))).await.expect("run");
    let l = r.ledger.contents();
    let call_fills: Vec<_> = l
        .fills
        .iter()
        .filter(|(_, f)| f.symbol == CALL)
        .map(|(_, f)| {
            (
                f.size,
                f.price,
                f.client_order_id.as_deref().map(str::to_string),
            )
        })
        .collect();
    let sid = strangle_core::ids::session_id("e2e", at(4, 0).date_naive());
    let ce1 = format!("{sid}-CE1");
    assert_eq!(
        call_fills,
        vec![
            (dec!(4), dec!(500), Some(ce1.clone())),
            (dec!(6), dec!(500), Some(ce1))
        ]
    );
    assert_eq!(
        l.intents
            .iter()
            .filter(|i| i.purpose == OrderPurpose::Entry)
            .count(),
        2,
        "one order per leg: the rest filled while resting"
    );
    let s = r.engine.strategy().session().expect("open session");
    assert_eq!(s.state, SessionState::Open);
    assert_eq!(s.legs[0].book.sold, dec!(10));
    assert_eq!(r.engine.strategy().phase(), Phase::Open);
}

#[tokio::test]
async fn partial_fill_above_threshold_is_kept_when_attempts_run_out() {
    let mut p = profile();
    p.execution.partial_fill_threshold_pct = dec!(50);
    p.execution.market_fallback = false;
    let mut day = trailing_day();
    let thin = Px {
        bid_size: dec!(6),
        ..px(dec!(500), dec!(510), dec!(505))
    };
    day[1] = market(
        at(4, 0),
        dec!(82000),
        thin,
        px(dec!(400), dec!(410), dec!(405)),
    );
    let mut r = rig(p, day, 5).await;
    r.engine.run_until(Some(at(4, 5))).await.expect("run");
    let l = r.ledger.contents();
    let call_orders: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.request.symbol == CALL && i.purpose == OrderPurpose::Entry)
        .map(|i| (i.attempt, i.request.limit_price, i.request.size))
        .collect();
    // Attempt 1 at the bid fills 6; attempts 2 and 3 rest 5 ticks lower each and are cancelled.
    assert_eq!(
        call_orders,
        vec![
            (1, Some(dec!(500)), dec!(10)),
            (2, Some(dec!(499.5)), dec!(4)),
            (3, Some(dec!(499.0)), dec!(4))
        ]
    );
    let s = r.engine.strategy().session().expect("session");
    assert_eq!(s.state, SessionState::Open);
    assert_eq!(s.legs[0].book.sold, dec!(6));
    assert_eq!(s.legs[1].book.sold, dec!(10));
    assert!(l.events.iter().any(|e| e.kind == EventKind::PartialEntry));
    // Only the legs' venue stops rest.
    let resting: Vec<_> = r
        .venue
        .open_orders()
        .into_iter()
        .map(|o| (o.symbol.to_string(), o.state))
        .collect();
    assert_eq!(
        resting,
        vec![
            (CALL.to_string(), OrderState::Pending),
            (PUT.to_string(), OrderState::Pending)
        ],
        "every cancelled attempt was confirmed"
    );
}

#[tokio::test]
async fn one_leg_fails_and_the_filled_leg_is_bought_back() {
    let mut r = rig(profile(), trailing_day(), 5).await;
    r.venue.inject(OrderFault::RejectSymbol(
        PUT.into(),
        ExchangeErrorKind::InsufficientMargin,
    ));
    r.engine.run_until(Some(at(4, 5))).await.expect("run");
    let l = r.ledger.contents();
    let put_attempts = l
        .intents
        .iter()
        .filter(|i| i.request.symbol == PUT && i.purpose == OrderPurpose::Entry)
        .count();
    assert_eq!(
        put_attempts, 4,
        "three limit attempts and one market fallback"
    );
    let buyback: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Exit)
        .map(|i| {
            (
                i.request.symbol.as_str(),
                i.request.side,
                i.request.size,
                i.request.reduce_only,
            )
        })
        .collect();
    assert_eq!(buyback, vec![(CALL, Side::Buy, dec!(10), true)]);
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::FailedEntry));
    assert!(
        r.venue
            .positions(strangle_core::model::Underlying::Btc)
            .await
            .expect("positions")
            .is_empty(),
        "no untracked leg"
    );
    assert!(l.events.iter().any(|e| e.kind == EventKind::FailedEntry));
    // The day is used: no second entry later in the window.
    r.engine.run_until(Some(at(4, 30))).await.expect("run");
    assert_eq!(r.ledger.contents().sessions.len(), 1);
    assert_eq!(r.engine.strategy().phase(), Phase::Waiting);
}

#[tokio::test]
async fn panic_closes_with_priced_iocs_and_stops() {
    let mut r = rig(profile(), trailing_day(), 60).await;
    r.engine.run_until(Some(at(5, 30))).await.expect("run");
    assert!(r.handle.send(EngineCommand::Panic));
    let st = r.engine.run_until(Some(at(8, 0))).await.expect("run");
    assert_eq!(st.phase, Phase::Stopped);
    let l = r.ledger.contents();
    let exits: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Exit)
        .map(|i| {
            let r = &i.request;
            (r.order_type, r.time_in_force, r.limit_price, i.created_at)
        })
        .collect();
    // Never a market order: an IOC ten ticks (0.1) past the 05:00 asks, 305 and 255.
    assert_eq!(
        exits,
        vec![
            (
                OrderType::Limit,
                TimeInForce::Ioc,
                Some(dec!(306.0)),
                at(5, 30)
            ),
            (
                OrderType::Limit,
                TimeInForce::Ioc,
                Some(dec!(256.0)),
                at(5, 30)
            )
        ]
    );
    assert_eq!(l.sessions[0].exit_reason, Some(ExitReason::Panic));
    assert_eq!(l.sessions[0].state, SessionState::Closed);
}

#[tokio::test]
async fn stop_while_waiting_stops_without_orders() {
    let mut r = rig(profile(), trailing_day(), 60).await;
    r.engine.run_until(Some(at(3, 57))).await.expect("run");
    assert!(r.handle.send(EngineCommand::Stop));
    let st = r.engine.run_until(Some(at(8, 0))).await.expect("run");
    assert_eq!(st.phase, Phase::Stopped);
    assert!(r.ledger.contents().intents.is_empty());
}

#[tokio::test]
async fn restart_adopts_the_open_strangle_and_ends_the_same() {
    let (plain, _) = trailing_run().await;
    let mut r = rig(profile(), trailing_day(), 60).await;
    r.engine.run_until(Some(at(5, 30))).await.expect("run");
    assert!(r.handle.send(EngineCommand::Restart));
    r.engine.run_until(Some(at(8, 0))).await.expect("run");
    let l = r.ledger.contents();
    assert!(l.events.iter().any(|e| e.kind == EventKind::Restart));
    assert_eq!(
        l.intents, plain.intents,
        "no order is sent twice after a restart"
    );
    assert_eq!(l.sessions.len(), 1);
    assert_eq!(l.sessions[0].pnl, plain.sessions[0].pnl);
    assert_eq!(l.sessions[0].exit_reason, Some(ExitReason::TrailingStop));
}

#[tokio::test]
async fn a_restarted_engine_on_the_same_ledger_adopts_and_does_not_reenter() {
    let mut r = rig(profile(), trailing_day(), 60).await;
    r.engine.run_until(Some(at(5, 30))).await.expect("run");
    // A new engine on the same ledger and venue (as after a process restart).
    let (mut e2, _h) = strangle_core::engine::Engine::start(
        profile(),
        strangle_core::engine::EngineConfig {
            mode: strangle_core::ledger::Mode::Sim,
            poll_interval: chrono::Duration::seconds(60),
            adopt: false,
            ioc_entries: false,
        },
        r.venue.clone(),
        r.ledger.clone(),
        r.clock.clone(),
    )
    .await
    .expect("start");
    assert_eq!(e2.strategy().phase(), Phase::Open);
    e2.run_until(Some(at(8, 0))).await.expect("run");
    let l = r.ledger.contents();
    let sent = |l: &strangle_core::memory::LedgerContents, p| {
        l.intents.iter().filter(|i| i.purpose == p).count()
    };
    assert_eq!(sent(&l, OrderPurpose::Entry), 2);
    assert_eq!(sent(&l, OrderPurpose::Exit), 2);
    assert_eq!(l.sessions[0].pnl.net, dec!(0.41));
}

#[tokio::test]
async fn legs_held_to_expiry_are_cash_settled_and_the_session_closes() {
    let mut p = profile();
    p.entry_time = strangle_core::profile::TimeOfDay::hm(17, 0).expect("time"); // 11:30 UTC
    p.exit_time = strangle_core::profile::TimeOfDay::hm(16, 0).expect("time"); // next day
    p.expiry_buffer_hours = 0; // today's 12:00 UTC expiry
    p.exit_before_expiry_minutes = 0;
    let flat = px(dec!(500), dec!(510), dec!(505));
    let day = vec![
        market(at(11, 30), dec!(82000), flat, flat),
        market(at(11, 55), dec!(87000), flat, flat),
        market(at(12, 1), dec!(50000), flat, flat), // after settlement: must not be used
    ];
    let mut r = rig(p, day, 60).await;
    r.engine.run_until(Some(at(12, 5))).await.expect("run");
    let l = r.ledger.contents();
    let s = &l.sessions[0];
    assert_eq!(s.legs[0].symbol, "C-BTC-86000-100326");
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::Settled));
    // Call: 1,000 in the money at index 87,000; put: worthless.
    assert_eq!(s.legs[0].book.exit_price(), Some(dec!(1000)));
    assert_eq!(s.legs[1].book.exit_price(), Some(dec!(0)));
    // Premium 2 USD, settlement 10 USD, entry fees 2 x 0.1.
    assert_eq!(s.pnl.gross, dec!(-8));
    assert_eq!(s.pnl.net, dec!(-8.2));
    assert_eq!(r.venue.cash(), dec!(10000) + s.pnl.net);
    assert!(l.events.iter().any(|e| e.kind == EventKind::Settled));
}

/// Settlement goes by the clock: with no snapshot after the expiry, the legs still settle at
/// 12:00 on the last index before it (11:55), and the venue says how old that index was.
#[tokio::test]
async fn legs_settle_at_expiry_by_the_clock_without_a_later_snapshot() {
    let mut p = profile();
    p.entry_time = strangle_core::profile::TimeOfDay::hm(17, 0).expect("time");
    p.exit_time = strangle_core::profile::TimeOfDay::hm(16, 0).expect("time");
    p.expiry_buffer_hours = 0;
    p.exit_before_expiry_minutes = 0;
    let flat = px(dec!(500), dec!(510), dec!(505));
    let day = vec![
        market(at(11, 30), dec!(82000), flat, flat),
        market(at(11, 55), dec!(87000), flat, flat), // the last snapshot there is
    ];
    let mut r = rig(p, day, 60).await;
    r.engine.run_until(Some(at(12, 5))).await.expect("run");
    let l = r.ledger.contents();
    let s = &l.sessions[0];
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::Settled));
    assert_eq!(s.legs[0].book.exit_price(), Some(dec!(1000)));
    assert_eq!(s.pnl.net, dec!(-8.2));
    let settled = r.venue.settlements();
    assert_eq!(settled.len(), 2);
    for st in &settled {
        assert_eq!(st.at, at(12, 0));
        assert_eq!(st.index, dec!(87000));
        assert_eq!(st.index_at, at(11, 55), "five minutes old");
    }

    // With a settlement fee (0.015 % of notional, capped at 10 % of the cash settled): the
    // call in the money pays 87,000 × 0.01 × 0.015 % = 0.1305; the worthless put pays nothing.
    let mut p = profile();
    p.entry_time = strangle_core::profile::TimeOfDay::hm(17, 0).expect("time");
    p.exit_time = strangle_core::profile::TimeOfDay::hm(16, 0).expect("time");
    p.expiry_buffer_hours = 0;
    p.exit_before_expiry_minutes = 0;
    p.fees.settlement_rate_pct = dec!(0.015);
    let day = vec![
        market(at(11, 30), dec!(82000), flat, flat),
        market(at(11, 55), dec!(87000), flat, flat),
    ];
    let mut r = rig(p, day, 60).await;
    r.engine.run_until(Some(at(12, 5))).await.expect("run");
    let s = &r.ledger.contents().sessions[0];
    assert_eq!(s.pnl.net, dec!(-8.3305));
    assert_eq!(r.venue.cash(), dec!(10000) + s.pnl.net);
}

/// A stop sent right after a restart (before the restart has happened) still stops the
/// engine: the restarted strategy gets the stop again instead of forgetting it.
#[tokio::test]
async fn a_stop_right_after_a_restart_is_not_lost() {
    for cmd in [EngineCommand::Stop, EngineCommand::Panic] {
        let mut r = rig(profile(), trailing_day(), 60).await;
        r.engine.run_until(Some(at(5, 30))).await.expect("run");
        assert!(r.handle.send(EngineCommand::Restart));
        assert!(r.handle.send(cmd.clone()));
        let st = r.engine.run_until(Some(at(8, 0))).await.expect("run");
        assert_eq!(st.phase, Phase::Stopped, "{cmd:?}");
        let l = r.ledger.contents();
        let want = if cmd == EngineCommand::Stop {
            ExitReason::OperatorStop
        } else {
            ExitReason::Panic
        };
        assert_eq!(l.sessions[0].exit_reason, Some(want), "{cmd:?}");
        assert_eq!(l.sessions[0].state, SessionState::Closed);
    }
}

#[tokio::test]
async fn venue_stops_follow_the_legs_and_the_trailing_lock() {
    let (l, _) = trailing_run().await;
    let stops: Vec<_> = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Stop)
        .map(|i| {
            let r = &i.request;
            let stop = r.stop.expect("a stop order");
            (
                r.client_order_id
                    .as_str()
                    .rsplit('-')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                stop.stop_price,
                r.limit_price,
                r.size,
                r.reduce_only,
                i.created_at,
            )
        })
        .collect();
    let at4 = at(4, 0);
    let at6 = at(6, 0);
    let stop =
        |id: &str, level, limit, at| (id.to_string(), level, Some(limit), dec!(10), true, at);
    assert_eq!(
        stops,
        vec![
            // The call filled first: its stop is sized on its own premium (500 → 1,000)...
            stop("CS1", dec!(1000), dec!(1500), at4),
            // ...the put's on both (900 per unit, a 100 % loss limit: 1,800)...
            stop("PS1", dec!(1800), dec!(2700), at4),
            // ...and the call's is replaced by the final level once the entry is done.
            stop("CS2", dec!(1800), dec!(2700), at4),
            // The trailing stop locks 25 % (225 of 900): both stops move down to 675.
            stop("CS3", dec!(675), dec!(1012.5), at6),
            stop("PS2", dec!(675), dec!(1012.5), at6),
        ]
    );
    // A stop is cancelled only after its replacement rests, and the last ones once the legs
    // are flat: every stop ends cancelled, and each leg had one from its fill to its exit.
    let last_state = |id: &str| {
        l.order_updates
            .iter()
            .rev()
            .find(|(_, u)| u.client_order_id.as_str().ends_with(id))
            .map(|(_, u)| u.state)
    };
    for id in ["CS1", "CS2", "CS3", "PS1", "PS2"] {
        assert_eq!(last_state(id), Some(OrderState::Cancelled), "{id}");
    }
    let position = |id: &str| {
        l.order_updates.iter().position(|(_, u)| {
            u.client_order_id.as_str().ends_with(id) && u.state == OrderState::Cancelled
        })
    };
    let first_seen = |id: &str| {
        l.order_updates
            .iter()
            .position(|(_, u)| u.client_order_id.as_str().ends_with(id))
    };
    assert!(position("CS1") > first_seen("CS2"));
    assert!(position("CS2") > first_seen("CS3"));
    assert!(position("PS1") > first_seen("PS2"));
    assert!(position("CS3") > first_seen("CX1"));
    // A resting stop read every step is written once, not once per read.
    let pending_rows = l
        .order_updates
        .iter()
        .filter(|(_, u)| u.state == OrderState::Pending)
        .count();
    assert_eq!(pending_rows, 5);
}
