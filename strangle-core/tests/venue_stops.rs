//! Stop orders at the simulated venue (the local market's too): they rest untriggered, fire on
//! the price they watch, trail, stay reduce-only, and an engine that places them books what
//! they do — while it runs, and after it was killed and started again.

mod common;

use std::sync::Arc;
use strangle_core::audit::EventKind;

use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ids::{ClientOrderId, ProductId, Symbol};
use strangle_core::ledger::{Mode, OrderPurpose, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{
    OrderRequest, OrderState, OrderType, Side, StopKind, StopOrder, StopTrigger, TimeInForce,
    Underlying,
};
use strangle_core::profile::Profile;
use strangle_core::risk::ExitReason;
use strangle_core::sim::{BracketLeg, OrderEdit, SimExchange};
use strangle_core::strategy::Phase;
use strangle_core::Execution;

fn coid(id: &str) -> ClientOrderId {
    ClientOrderId::new(id).expect("a valid id")
}

fn stop(id: &str, side: Side, size: i64, level: Decimal, trigger: StopTrigger) -> OrderRequest {
    OrderRequest {
        client_order_id: coid(id),
        product_id: ProductId(1),
        symbol: Symbol::new(CALL).expect("symbol"),
        side,
        size: size.into(),
        order_type: OrderType::Limit,
        limit_price: Some(level * dec!(1.5)),
        time_in_force: TimeInForce::Gtc,
        reduce_only: true,
        stop: Some(StopOrder {
            stop_price: level,
            trigger,
            trail_amount: None,
            kind: strangle_core::model::StopKind::StopLoss,
        }),
    }
}

fn sell(id: &str, size: i64) -> OrderRequest {
    OrderRequest {
        client_order_id: coid(id),
        product_id: ProductId(1),
        symbol: Symbol::new(CALL).expect("symbol"),
        side: Side::Sell,
        size: size.into(),
        order_type: OrderType::Limit,
        limit_price: Some(dec!(500)),
        time_in_force: TimeInForce::Gtc,
        reduce_only: false,
        stop: None,
    }
}

/// The venue's view of order `id`.
async fn read(v: &SimExchange, id: &str) -> strangle_core::model::OrderStatus {
    v.order(&coid(id)).await.expect("read").expect("known")
}

/// Whether the venue holds no BTC option.
async fn flat(v: &SimExchange) -> bool {
    v.positions(Underlying::Btc)
        .await
        .expect("positions")
        .is_empty()
}

/// A venue at 04:00 with the call quoted 500/510 (mark 505) and 10 contracts sold.
async fn short_call() -> (Arc<ManualClock>, SimExchange) {
    let clock = Arc::new(ManualClock::new(at(4, 0)));
    let v = SimExchange::new(clock.clone(), fees(), dec!(1000));
    v.push_chain(market(
        at(4, 0),
        dec!(82000),
        px(dec!(500), dec!(510), dec!(505)),
        px(dec!(400), dec!(410), dec!(405)),
    ));
    let st = v.place_order(&sell("open", 10)).await.expect("sold");
    assert_eq!(st.state, OrderState::Filled);
    (clock, v)
}

/// The call quoted around `mark` (spread 10) at `t`, spot `spot`.
fn call_at(v: &SimExchange, t: chrono::DateTime<chrono::Utc>, mark: Decimal, spot: Decimal) {
    v.push_chain(market(
        t,
        spot,
        px(mark - dec!(5), mark + dec!(5), mark),
        px(dec!(400), dec!(410), dec!(405)),
    ));
}

#[tokio::test]
async fn a_stop_rests_until_the_mark_reaches_it_then_buys_back() {
    let (_c, v) = short_call().await;
    let st = v
        .place_order(&stop("s", Side::Buy, 10, dec!(700), StopTrigger::MarkPrice))
        .await
        .expect("placed");
    assert_eq!(st.state, OrderState::Pending);
    assert!(st.fills.is_empty());
    // Below the level: nothing.
    call_at(&v, at(4, 1), dec!(699), dec!(82000));
    let st = read(&v, "s").await;
    assert_eq!(st.state, OrderState::Pending);
    // At the level: it works as its limit order, taking the ask.
    call_at(&v, at(4, 2), dec!(700), dec!(82000));
    let st = read(&v, "s").await;
    assert_eq!(st.state, OrderState::Filled);
    assert_eq!(st.filled_size(), dec!(10));
    assert_eq!(st.fills[0].price, dec!(705), "the ask when it fired");
    assert!(flat(&v).await);
}

#[tokio::test]
async fn a_stop_can_watch_the_spot_or_the_last_trade_and_can_trail() {
    let (_c, v) = short_call().await;
    v.place_order(&stop(
        "spot",
        Side::Buy,
        10,
        dec!(83000),
        StopTrigger::SpotPrice,
    ))
    .await
    .expect("placed");
    // The mark runs far past 83,000-worth of nothing: the spot has not moved.
    call_at(&v, at(4, 1), dec!(900), dec!(82500));
    let st = read(&v, "spot").await;
    assert_eq!(st.state, OrderState::Pending);
    call_at(&v, at(4, 2), dec!(950), dec!(83000));
    let st = read(&v, "spot").await;
    assert_eq!((st.state, st.filled_size()), (OrderState::Filled, dec!(10)));

    // Last traded price: the venue's own last fill in the contract (the buy-back at 955).
    v.place_order(&sell("again", 5)).await.expect("sold");
    v.place_order(&stop(
        "last",
        Side::Buy,
        5,
        dec!(960),
        StopTrigger::LastTradedPrice,
    ))
    .await
    .expect("placed");
    call_at(&v, at(4, 3), dec!(2000), dec!(83000));
    let st = read(&v, "last").await;
    assert_eq!(
        st.state,
        OrderState::Pending,
        "the mark moved, but nothing traded since the 945 sale"
    );

    // A trailing stop follows the mark down at its distance and never back up.
    let mut trail = stop("trail", Side::Buy, 5, dec!(3000), StopTrigger::MarkPrice);
    if let Some(s) = trail.stop.as_mut() {
        s.trail_amount = Some(dec!(100));
    }
    v.place_order(&trail).await.expect("placed");
    call_at(&v, at(4, 4), dec!(1500), dec!(83000)); // level 1,600
    call_at(&v, at(4, 5), dec!(1550), dec!(83000)); // still 1,600
    let st = read(&v, "trail").await;
    assert_eq!(st.state, OrderState::Pending);
    call_at(&v, at(4, 6), dec!(1600), dec!(83000));
    let st = read(&v, "trail").await;
    assert_eq!((st.state, st.filled_size()), (OrderState::Filled, dec!(5)));
}

#[tokio::test]
async fn a_reduce_only_stop_never_opens_a_position() {
    let (_c, v) = short_call().await;
    v.place_order(&stop("a", Side::Buy, 10, dec!(700), StopTrigger::MarkPrice))
        .await
        .expect("placed");
    v.place_order(&stop("b", Side::Buy, 10, dec!(700), StopTrigger::MarkPrice))
        .await
        .expect("placed");
    call_at(&v, at(4, 1), dec!(800), dec!(82000));
    let a = read(&v, "a").await;
    let b = read(&v, "b").await;
    assert_eq!((a.state, a.filled_size()), (OrderState::Filled, dec!(10)));
    assert_eq!(
        (b.state, b.filled_size()),
        (OrderState::Cancelled, dec!(0)),
        "nothing left to reduce: {:?}",
        b.reason
    );
    assert!(flat(&v).await);
}

#[tokio::test]
async fn a_stop_without_a_price_is_refused_and_a_pending_one_cancels() {
    let (_c, v) = short_call().await;
    let mut zero = stop("z", Side::Buy, 10, dec!(700), StopTrigger::MarkPrice);
    if let Some(s) = zero.stop.as_mut() {
        s.stop_price = dec!(0);
    }
    let e = v.place_order(&zero).await.expect_err("no stop price");
    assert!(e.to_string().contains("stop_price"), "{e}");
    v.place_order(&stop("p", Side::Buy, 10, dec!(700), StopTrigger::MarkPrice))
        .await
        .expect("placed");
    let st = v
        .cancel_order(&coid("p"), ProductId(1))
        .await
        .expect("cancelled");
    assert_eq!(st.state, OrderState::Cancelled);
    call_at(&v, at(4, 1), dec!(800), dec!(82000));
    assert_eq!(v.positions(Underlying::Btc).await.expect("pos").len(), 1);
}

/// A day on which the call runs through its venue stop at 06:00 (the put stays put).
fn runaway_day() -> Vec<strangle_core::model::ChainSnapshot> {
    let calm = |t| {
        market(
            t,
            dec!(82000),
            px(dec!(500), dec!(510), dec!(505)),
            px(dec!(400), dec!(410), dec!(405)),
        )
    };
    vec![
        calm(at(3, 55)),
        calm(at(4, 0)),
        calm(at(5, 0)),
        // 900 received per unit, a 100 % loss limit: the stops sit at 1,800. The call jumps
        // from 505 to 1,900 in one snapshot: past the strategy's own max loss and the stop.
        market(
            at(6, 0),
            dec!(90000),
            px(dec!(1895), dec!(1905), dec!(1900)),
            px(dec!(60), dec!(70), dec!(65)),
        ),
        market(
            at(6, 5),
            dec!(90000),
            px(dec!(1895), dec!(1905), dec!(1900)),
            px(dec!(60), dec!(70), dec!(65)),
        ),
        market(
            at(9, 0),
            dec!(90000),
            px(dec!(1895), dec!(1905), dec!(1900)),
            px(dec!(60), dec!(70), dec!(65)),
        ),
    ]
}

fn rig_venue(clock: &Arc<ManualClock>) -> Arc<SimExchange> {
    let feed = strangle_core::sim::VecFeed::new(runaway_day());
    Arc::new(SimExchange::new(clock.clone(), fees(), dec!(100000)).with_feed(Box::new(feed)))
}

fn config() -> EngineConfig {
    EngineConfig {
        mode: Mode::Sim,
        poll_interval: chrono::Duration::seconds(60),
        adopt: false,
        ioc_entries: false,
    }
}

/// A clock at 03:55, the runaway day's venue on it, an empty ledger.
struct Rig {
    clock: Arc<ManualClock>,
    venue: Arc<SimExchange>,
    ledger: Arc<MemoryLedger>,
}

type RigEngine = Engine<Arc<SimExchange>, Arc<MemoryLedger>, Arc<ManualClock>>;

impl Rig {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(at(3, 55)));
        let venue = rig_venue(&clock);
        Self {
            clock,
            venue,
            ledger: Arc::new(MemoryLedger::new()),
        }
    }

    /// An engine of `p` on this venue and ledger (a new process's, after a crash).
    async fn start(&self, p: Profile) -> RigEngine {
        let (engine, _h) = Engine::start(
            p,
            config(),
            self.venue.clone(),
            self.ledger.clone(),
            self.clock.clone(),
        )
        .await
        .expect("start");
        engine
    }

    async fn flat(&self) -> bool {
        flat(&self.venue).await
    }
}

#[tokio::test]
async fn a_stop_that_fires_while_the_engine_is_down_is_booked_when_it_restarts() {
    let r = Rig::new();
    let (clock, venue, ledger) = (&r.clock, &r.venue, &r.ledger);
    let mut engine = r.start(profile()).await;
    engine.run_until(Some(at(5, 30))).await.expect("run");
    assert_eq!(engine.strategy().phase(), Phase::Open);
    let resting: Vec<_> = venue
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
        "each short leg has its stop resting at the venue"
    );
    // The heartbeat shows them: 500 + 400 received, a 100 % loss limit.
    let legs = engine.strategy().status(at(5, 30)).legs;
    let stops: Vec<_> = legs.iter().map(|g| g.venue_stop).collect();
    assert_eq!(stops, vec![Some(dec!(1800)), Some(dec!(1800))]);
    // The engine dies (nothing of it runs again); the market runs through the call's stop.
    drop(engine);
    clock.set(at(6, 5));
    venue.catch_up();
    let pos = venue.positions(Underlying::Btc).await.expect("positions");
    assert_eq!(pos.len(), 1, "the venue bought the call back: {pos:?}");
    assert_eq!(pos[0].symbol.as_str(), PUT);

    // A new engine on the same ledger and venue: the stop's fill is booked, the put closed.
    let mut engine = r.start(profile()).await;
    engine.run_until(Some(at(6, 30))).await.expect("run");
    let l = ledger.contents();
    let s = l.sessions.last().expect("session");
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::VenueStop));
    assert!(l.events.iter().any(|e| e.kind == EventKind::VenueStop));
    // Ledger = venue: the call bought back once, by the stop, at the ask when it fired.
    let call_buys: Vec<_> = l
        .fills
        .iter()
        .filter(|(_, f)| f.symbol.as_str() == CALL && f.side == Side::Buy)
        .map(|(_, f)| (f.size, f.price, f.client_order_id.clone()))
        .collect();
    assert_eq!(call_buys.len(), 1, "{call_buys:?}");
    assert_eq!(call_buys[0].0, dec!(10));
    assert_eq!(call_buys[0].1, dec!(1905));
    assert!(call_buys[0]
        .2
        .as_ref()
        .is_some_and(|c| c.as_str().contains("-CS")));
    assert!(r.flat().await);
    assert!(venue.open_orders().is_empty(), "no stop left behind");
    let cash_pnl = venue.cash() - dec!(100000);
    assert_eq!(
        s.pnl.net, cash_pnl,
        "the session's net is the venue's cash change"
    );
}

#[tokio::test]
async fn a_stop_that_fires_while_the_engine_runs_ends_the_session_as_venue_stop() {
    let r = Rig::new();
    let mut p = profile();
    // No loss limit: nothing to size a venue stop on.
    p.max_loss_pct = None;
    p.venue_stop.enabled = true;
    let mut engine = r.start(p).await;
    engine.run_until(Some(at(6, 30))).await.expect("run");
    let l = r.ledger.contents();
    assert!(
        l.intents.iter().all(|i| i.purpose != OrderPurpose::Stop),
        "no loss limit, no venue stop"
    );

    // With a loss limit, the stop at the venue fires in the same snapshot as the strategy's
    // own max loss: the venue fills first, the strategy books it and closes the put.
    let r = Rig::new();
    let (venue, ledger) = (&r.venue, &r.ledger);
    let mut engine = r.start(profile()).await;
    engine.run_until(Some(at(6, 30))).await.expect("run");
    let l = ledger.contents();
    let s = l.sessions.last().expect("session");
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::VenueStop));
    assert!(venue.open_orders().is_empty());
    assert!(r.flat().await);
    assert_eq!(s.pnl.net, venue.cash() - dec!(100000));
}

fn leg(kind: StopKind, level: Decimal, limit: Option<Decimal>) -> BracketLeg {
    BracketLeg {
        stop: StopOrder {
            stop_price: level,
            trigger: StopTrigger::MarkPrice,
            trail_amount: None,
            kind,
        },
        limit_price: limit,
    }
}

fn call() -> Symbol {
    Symbol::new(CALL).expect("symbol")
}

#[tokio::test]
async fn a_take_profit_buy_triggers_when_the_price_falls_to_it() {
    let (_c, v) = short_call().await;
    // A take profit never trails.
    let mut trailing = stop("tp2", Side::Buy, 1, dec!(300), StopTrigger::MarkPrice);
    trailing.stop = trailing.stop.map(|s| StopOrder {
        kind: StopKind::TakeProfit,
        trail_amount: Some(dec!(20)),
        ..s
    });
    let err = v.place_order(&trailing).await.expect_err("refused");
    assert_eq!(err.venue_code(), Some("bad_schema"), "{err}");
    let mut tp = stop("tp", Side::Buy, 10, dec!(300), StopTrigger::MarkPrice);
    tp.stop = tp.stop.map(|s| StopOrder {
        kind: StopKind::TakeProfit,
        ..s
    });
    assert_eq!(
        v.place_order(&tp).await.expect("placed").state,
        OrderState::Pending
    );
    call_at(&v, at(4, 1), dec!(900), dec!(82000));
    assert_eq!(
        read(&v, "tp").await.state,
        OrderState::Pending,
        "a rise is not its way"
    );
    call_at(&v, at(4, 2), dec!(300), dec!(82000));
    let st = read(&v, "tp").await;
    assert_eq!(st.state, OrderState::Filled);
    assert_eq!(st.fills[0].price, dec!(305));
    assert!(flat(&v).await);
}

#[tokio::test]
async fn a_bracket_closes_the_whole_position_and_one_leg_cancels_the_other() {
    let (_c, v) = short_call().await;
    // All or nothing: a take profit that trails is refused, and the stop loss placed before
    // it does not stay behind.
    let mut trailing = leg(StopKind::TakeProfit, dec!(200), None);
    trailing.stop.trail_amount = Some(dec!(10));
    let refused = v
        .place_bracket(
            &call(),
            Some((coid("x-sl"), leg(StopKind::StopLoss, dec!(700), None))),
            Some((coid("x-tp"), trailing)),
        )
        .expect_err("a trailing take profit");
    assert_eq!(refused.venue_code(), Some("bad_schema"));
    assert_eq!(read(&v, "x-sl").await.state, OrderState::Cancelled);
    assert!(v.open_orders().is_empty());
    let placed = v
        .place_bracket(
            &call(),
            Some((
                coid("b-sl"),
                leg(StopKind::StopLoss, dec!(700), Some(dec!(800))),
            )),
            Some((coid("b-tp"), leg(StopKind::TakeProfit, dec!(200), None))),
        )
        .expect("a bracket on the open short");
    assert_eq!(placed.len(), 2);
    for st in &placed {
        assert_eq!(st.state, OrderState::Pending);
        assert_eq!((st.side, st.size), (Side::Buy, dec!(10)), "the whole short");
    }
    // One bracket per open position.
    let again = v
        .place_bracket(
            &call(),
            Some((coid("b2-sl"), leg(StopKind::StopLoss, dec!(900), None))),
            None,
        )
        .expect_err("a second bracket");
    assert_eq!(again.venue_code(), Some("bracket_order_position_exists"));
    // The stop loss fires: the position closes and the take profit is cancelled.
    call_at(&v, at(4, 1), dec!(720), dec!(82000));
    let sl = read(&v, "b-sl").await;
    assert_eq!((sl.state, sl.filled_size()), (OrderState::Filled, dec!(10)));
    let tp = read(&v, "b-tp").await;
    assert_eq!(tp.state, OrderState::Cancelled);
    assert!(
        tp.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("one-cancels-other")),
        "{tp:?}"
    );
    assert!(flat(&v).await);
    // No position, no bracket.
    let none = v
        .place_bracket(
            &call(),
            Some((coid("b3-sl"), leg(StopKind::StopLoss, dec!(900), None))),
            None,
        )
        .expect_err("nothing to protect");
    assert_eq!(none.venue_code(), Some("no_position_for_bracket_order"));
}

#[tokio::test]
async fn a_bracket_ends_when_its_position_is_closed_by_another_order() {
    let (_c, v) = short_call().await;
    v.place_bracket(
        &call(),
        Some((coid("b-sl"), leg(StopKind::StopLoss, dec!(700), None))),
        None,
    )
    .expect("placed");
    let mut buy = sell("close", 10);
    buy.side = Side::Buy;
    buy.limit_price = Some(dec!(520));
    assert_eq!(
        v.place_order(&buy).await.expect("bought").state,
        OrderState::Filled
    );
    let sl = read(&v, "b-sl").await;
    assert_eq!(sl.state, OrderState::Cancelled);
    assert_eq!(
        sl.reason.as_deref(),
        Some("bracket: the position is closed")
    );
}

#[tokio::test]
async fn an_order_is_edited_in_place_and_a_stop_moved_without_a_gap() {
    let (_c, v) = short_call().await;
    v.place_order(&stop("s", Side::Buy, 10, dec!(900), StopTrigger::MarkPrice))
        .await
        .expect("placed");
    // Lowered below the mark: it triggers at once, as the same order.
    let edited = v
        .edit_order(
            "s",
            &OrderEdit {
                stop_price: Some(dec!(600)),
                ..OrderEdit::default()
            },
        )
        .expect("edited");
    assert_eq!(
        edited.state,
        OrderState::Pending,
        "600 is not reached at 505"
    );
    call_at(&v, at(4, 1), dec!(610), dec!(82000));
    assert_eq!(read(&v, "s").await.state, OrderState::Filled);
    // A resting limit order: new price crosses, new size not below what filled.
    let mut bid = sell("bid", 5);
    bid.side = Side::Sell;
    bid.limit_price = Some(dec!(900));
    v.place_order(&bid).await.expect("rests");
    let refused = v
        .edit_order(
            "bid",
            &OrderEdit {
                stop_price: Some(dec!(1)),
                ..OrderEdit::default()
            },
        )
        .expect_err("no stop to move");
    assert_eq!(refused.venue_code(), Some("bad_schema"));
    let st = v
        .edit_order(
            "bid",
            &OrderEdit {
                limit_price: Some(dec!(600)),
                ..OrderEdit::default()
            },
        )
        .expect("edited");
    assert_eq!(
        (st.state, st.filled_size()),
        (OrderState::Filled, dec!(5)),
        "{st:?}"
    );
    let gone = v
        .edit_order("bid", &OrderEdit::default())
        .expect_err("a filled order is not working");
    assert_eq!(gone.venue_code(), Some("open_order_not_found"));
}
