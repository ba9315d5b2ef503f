//! Leg-wise exits on the simulated venue: a leg's stop and target, what a leg's stop does to
//! the other leg (`exit_all`, `exit_leg`, `exit_leg_and_move_other_to_cost`), the venue stops
//! that follow, and a leg stopped at the venue while the engine was down.
//!
//! Every day sells 10 calls at 500 and 10 puts at 400 (contract size 0.001, so 5 and 4 USD of
//! premium), with a 0.246 USD fee a side (0.03 % of 82,000 × 0.01).

mod common;

use std::sync::Arc;

use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::audit::EventKind;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ledger::{Mode, OrderPurpose, SessionRecord, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{ChainSnapshot, Side, Underlying};
use strangle_core::profile::{LegExit, Profile, Survivor};
use strangle_core::risk::ExitReason;
use strangle_core::sim::{SimExchange, VecFeed};
use strangle_core::strategy::Phase;
use strangle_core::Execution;

/// The chain at `t` with the call's and the put's marks (spread 10 around each).
fn quotes(t: chrono::DateTime<chrono::Utc>, call: Decimal, put: Decimal) -> ChainSnapshot {
    let around = |m: Decimal| px(m - dec!(5), m + dec!(5), m);
    market(t, dec!(82000), around(call), around(put))
}

/// A day: the entry at 09:30 IST (04:00 UTC) at 505/405, then `moves` (UTC hour, call mark,
/// put mark), then quiet quotes every hour until after the 15:20 IST exit (09:50 UTC).
fn day(moves: &[(u32, Decimal, Decimal)]) -> Vec<ChainSnapshot> {
    let mut v = vec![
        quotes(at(3, 55), dec!(505), dec!(405)),
        quotes(at(4, 0), dec!(505), dec!(405)),
    ];
    let mut last = (dec!(505), dec!(405));
    for &(h, c, p) in moves {
        v.push(quotes(at(h, 0), c, p));
        last = (c, p);
    }
    let after = moves.last().map_or(4, |m| m.0);
    for h in after + 1..=10 {
        v.push(quotes(at(h, 0), last.0, last.1));
    }
    v
}

/// The shared test profile with leg rules, and no venue stops (the strategy's own rules are
/// what these tests watch; the venue's are tested below).
fn with_legs(stop: Option<Decimal>, target: Option<Decimal>, on_stop: Survivor) -> Profile {
    let mut p = profile();
    p.venue_stop.enabled = false;
    p.leg_exit = LegExit::default();
    p.leg_exit.stop_pct = stop;
    p.leg_exit.target_pct = target;
    p.leg_exit.on_stop = on_stop;
    p
}

async fn run_day(p: Profile, moves: &[(u32, Decimal, Decimal)]) -> (Rig, SessionRecord) {
    let mut r = rig(p, day(moves), 60).await;
    r.engine.run_until(Some(at(10, 30))).await.expect("run");
    let s = r
        .ledger
        .contents()
        .sessions
        .last()
        .cloned()
        .expect("a session");
    (r, s)
}

fn kinds(r: &Rig) -> Vec<EventKind> {
    r.ledger
        .contents()
        .events
        .iter()
        .map(|e| e.kind.clone())
        .collect()
}

/// The buy-backs of `symbol`: (size, price).
fn buys(r: &Rig, symbol: &str) -> Vec<(Decimal, Decimal)> {
    r.ledger
        .contents()
        .fills
        .iter()
        .filter(|(_, f)| f.symbol.as_str() == symbol && f.side == Side::Buy)
        .map(|(_, f)| (f.size, f.price))
        .collect()
}

/// The call runs to 740 at 05:00: that leg has lost 2.4 + 0.246 USD of its 5 (52.9 %), the
/// strangle as a whole only 22 % of 9 USD, far from its 100 % loss limit.
const CALL_RUNS: (u32, Decimal, Decimal) = (5, dec!(740), dec!(300));

#[tokio::test]
async fn exit_leg_buys_back_the_stopped_leg_and_the_other_runs_to_the_exit_time() {
    let (r, s) = run_day(
        with_legs(Some(dec!(50)), None, Survivor::ExitLeg),
        &[CALL_RUNS],
    )
    .await;
    assert_eq!(buys(&r, CALL), vec![(dec!(10), dec!(745))], "at the ask");
    assert_eq!(s.legs[0].exit_reason, Some(ExitReason::LegStop));
    assert!(!s.legs[1].stop_at_cost, "exit_leg leaves the put's rules");
    assert_eq!(buys(&r, PUT), vec![(dec!(10), dec!(305))]);
    assert_eq!(s.exit_reason, Some(ExitReason::ExitTime));
    assert_eq!(s.legs[1].exit_reason, None, "closed with its session");
    let k = kinds(&r);
    for want in [EventKind::LegExit, EventKind::LegClosed] {
        assert_eq!(k.iter().filter(|e| **e == want).count(), 1, "{want:?}");
    }
    assert!(!k.contains(&EventKind::LegAtCost));
    // The money adds up: the venue's cash change is the session's net.
    assert_eq!(s.pnl.net, r.venue.cash() - dec!(10000));
}

#[tokio::test]
async fn exit_all_closes_the_strangle_when_one_leg_stops() {
    let (r, s) = run_day(
        with_legs(Some(dec!(50)), None, Survivor::ExitAll),
        &[CALL_RUNS],
    )
    .await;
    assert_eq!(s.exit_reason, Some(ExitReason::LegStop));
    assert_eq!(buys(&r, CALL), vec![(dec!(10), dec!(745))]);
    assert_eq!(buys(&r, PUT), vec![(dec!(10), dec!(305))], "at 05:00 too");
    assert!(s.closed_at.is_some_and(|t| t < at(6, 0)));
    assert!(!kinds(&r).contains(&EventKind::LegExit));
}

#[tokio::test]
async fn a_leg_stop_below_its_threshold_does_nothing() {
    // At 730 the call has lost 2.3 + 0.246 of 5 USD: 50.9 %, under a 55 % stop.
    let (r, s) = run_day(
        with_legs(Some(dec!(55)), None, Survivor::ExitLeg),
        &[(5, dec!(730), dec!(300))],
    )
    .await;
    assert_eq!(s.exit_reason, Some(ExitReason::ExitTime));
    assert!(s.legs.iter().all(|g| g.exit_reason.is_none()));
    assert!(!kinds(&r).contains(&EventKind::LegExit));
}

#[tokio::test]
async fn move_to_cost_buys_the_survivor_back_once_it_would_lose_its_fees() {
    // After the call's stop, the put's stop is at its cost. At 396 the put is still 4 below
    // its sale price, but buying it back would leave 0.04 − 0.246 − 0.246 USD: a loss.
    let (r, s) = run_day(
        with_legs(Some(dec!(50)), None, Survivor::ExitLegAndMoveOtherToCost),
        &[CALL_RUNS, (6, dec!(740), dec!(396))],
    )
    .await;
    assert_eq!(s.legs[0].exit_reason, Some(ExitReason::LegStop));
    assert!(s.legs[1].stop_at_cost);
    assert_eq!(s.legs[1].exit_reason, Some(ExitReason::LegCostStop));
    assert_eq!(s.exit_reason, Some(ExitReason::LegCostStop));
    assert_eq!(buys(&r, PUT), vec![(dec!(10), dec!(401))]);
    assert!(s.closed_at.is_some_and(|t| t < at(7, 0)));
    let k = kinds(&r);
    assert_eq!(k.iter().filter(|e| **e == EventKind::LegAtCost).count(), 1);
    assert_eq!(k.iter().filter(|e| **e == EventKind::LegClosed).count(), 2);
    assert_eq!(s.pnl.net, r.venue.cash() - dec!(10000));
}

#[tokio::test]
async fn move_to_cost_keeps_a_survivor_that_stays_in_profit() {
    // At 390, buying the put back leaves 0.10 − 0.492: still a loss after fees; at 340 it
    // leaves 0.6 − 0.492 > 0, so the put runs on to the exit time.
    let (_, s) = run_day(
        with_legs(Some(dec!(50)), None, Survivor::ExitLegAndMoveOtherToCost),
        &[CALL_RUNS, (6, dec!(740), dec!(340))],
    )
    .await;
    assert!(s.legs[1].stop_at_cost);
    assert_eq!(s.legs[1].exit_reason, None);
    assert_eq!(s.exit_reason, Some(ExitReason::ExitTime));
}

#[tokio::test]
async fn a_leg_target_closes_that_leg_and_the_other_runs_on() {
    // The put decays to 25 at the ask: closing it would keep 3.75 − 0.246 − 0.025 USD of its
    // 4, 86.97 % ≥ 80 %. The call stays where it was sold.
    let (r, s) = run_day(
        with_legs(None, Some(dec!(80)), Survivor::ExitAll),
        &[(5, dec!(505), dec!(20))],
    )
    .await;
    assert_eq!(s.legs[1].exit_reason, Some(ExitReason::LegTarget));
    assert_eq!(buys(&r, PUT), vec![(dec!(10), dec!(25))]);
    assert_eq!(s.legs[0].exit_reason, None);
    assert_eq!(s.exit_reason, Some(ExitReason::ExitTime));
    let e = r.ledger.contents().events;
    let exit = e
        .iter()
        .find(|e| e.kind == EventKind::LegExit)
        .expect("a leg exit");
    assert!(exit.detail.contains("86.97"), "{}", exit.detail);
}

#[tokio::test]
async fn the_session_rules_still_close_everything_first() {
    // The call runs to 1,500: the strangle has lost more than its 100 % limit, so max loss
    // closes both legs; no leg rule speaks.
    let (r, s) = run_day(
        with_legs(Some(dec!(50)), None, Survivor::ExitLeg),
        &[(5, dec!(1500), dec!(300))],
    )
    .await;
    assert_eq!(s.exit_reason, Some(ExitReason::MaxLoss));
    assert!(s.legs.iter().all(|g| g.exit_reason.is_none()));
    assert!(!kinds(&r).contains(&EventKind::LegExit));
}

// ---- venue stops that follow the leg rules ---------------------------------------------

fn config() -> EngineConfig {
    EngineConfig {
        mode: Mode::Sim,
        poll_interval: chrono::Duration::seconds(60),
        adopt: false,
        ioc_entries: false,
    }
}

type SimEngine = Engine<Arc<SimExchange>, Arc<MemoryLedger>, Arc<ManualClock>>;

/// One venue and one ledger that engines come and go on (a crash and a restart).
struct Desk {
    clock: Arc<ManualClock>,
    venue: Arc<SimExchange>,
    ledger: Arc<MemoryLedger>,
}

impl Desk {
    fn new(moves: &[(u32, Decimal, Decimal)]) -> Self {
        let clock = Arc::new(ManualClock::new(at(3, 55)));
        let feed = VecFeed::new(day(moves));
        let venue = Arc::new(
            SimExchange::new(clock.clone(), fees(), dec!(10000)).with_feed(Box::new(feed)),
        );
        Self {
            clock,
            venue,
            ledger: Arc::new(MemoryLedger::new()),
        }
    }

    async fn start(&self, p: Profile) -> SimEngine {
        Engine::start(
            p,
            config(),
            self.venue.clone(),
            self.ledger.clone(),
            self.clock.clone(),
        )
        .await
        .expect("start")
        .0
    }

    /// The orders resting at the venue, each with the trigger its ledger intent gave it:
    /// (symbol, stop price).
    fn stops(&self) -> Vec<(String, Option<Decimal>)> {
        let intents = self.ledger.contents().intents;
        self.venue
            .open_orders()
            .into_iter()
            .map(|o| {
                let trigger = intents
                    .iter()
                    .find(|i| i.request.client_order_id == o.client_order_id)
                    .and_then(|i| i.request.stop.as_ref())
                    .map(|s| s.stop_price);
                (o.symbol.to_string(), trigger)
            })
            .collect()
    }
}

fn venue_profile(on_stop: Survivor) -> Profile {
    let mut p = with_legs(Some(dec!(50)), None, on_stop);
    p.venue_stop.enabled = true;
    p
}

#[tokio::test]
async fn the_venue_stops_sit_at_the_leg_stop_and_the_survivors_move_to_cost() {
    let d = Desk::new(&[CALL_RUNS, (6, dec!(740), dec!(350))]);
    let mut e = d
        .start(venue_profile(Survivor::ExitLegAndMoveOtherToCost))
        .await;
    e.run_until(Some(at(4, 30))).await.expect("run");
    // The leg stops are below the strangle's (1,800): the call's loss reaches 50 % of its
    // 5 USD at 750, the put's of its 4 USD at 600.
    assert_eq!(
        d.stops(),
        vec![
            (CALL.into(), Some(dec!(750))),
            (PUT.into(), Some(dec!(600)))
        ]
    );
    e.run_until(Some(at(5, 30))).await.expect("run");
    // The call was stopped by the strategy at 740 (before its venue stop at 750); the put's
    // venue stop now rests at its sale price.
    assert_eq!(d.stops(), vec![(PUT.into(), Some(dec!(400)))]);
    let st = e.strategy().status(at(5, 30));
    assert!(st.legs[1].stop_at_cost);
    assert_eq!(st.legs[1].venue_stop, Some(dec!(400)));
    assert_eq!(st.legs[0].exit_reason, Some(ExitReason::LegStop));
    assert_eq!(e.strategy().phase(), Phase::Open);
}

#[tokio::test]
async fn a_leg_stopped_at_the_venue_while_the_engine_was_down_closes_that_leg_only() {
    // The call runs to 800 at 06:00 while no engine runs: its venue stop (750) buys it back.
    let d = Desk::new(&[(5, dec!(505), dec!(300)), (6, dec!(800), dec!(300))]);
    let p = venue_profile(Survivor::ExitLegAndMoveOtherToCost);
    let mut e = d.start(p.clone()).await;
    e.run_until(Some(at(5, 30))).await.expect("run");
    assert_eq!(e.strategy().phase(), Phase::Open);
    drop(e);
    d.clock.set(at(6, 5));
    d.venue.catch_up();
    let pos = d.venue.positions(Underlying::Btc).await.expect("positions");
    assert_eq!(pos.len(), 1, "the venue bought the call back: {pos:?}");

    // A new engine: the stop's fill is booked, the call is closed alone, the put keeps
    // running with its stop at its cost.
    let mut e = d.start(p).await;
    e.run_until(Some(at(6, 30))).await.expect("run");
    assert_eq!(e.strategy().phase(), Phase::Open);
    let s = e
        .strategy()
        .session()
        .cloned()
        .expect("the session runs on");
    assert_eq!(s.state, SessionState::Open);
    assert_eq!(s.exit_reason, None);
    assert_eq!(s.legs[0].exit_reason, Some(ExitReason::VenueStop));
    assert_eq!(s.legs[0].book.open(), dec!(0));
    assert!(s.legs[1].stop_at_cost);
    assert_eq!(d.stops(), vec![(PUT.into(), Some(dec!(400)))]);
    // The put stays in profit: it runs on to the exit time, and the session closes then.
    e.run_until(Some(at(10, 30))).await.expect("run");
    let l = d.ledger.contents();
    let s = l.sessions.last().expect("session");
    assert_eq!(s.exit_reason, Some(ExitReason::ExitTime));
    assert!(d.venue.open_orders().is_empty(), "no stop left behind");
    assert_eq!(s.pnl.net, d.venue.cash() - dec!(10000));
    let stop_intents = l
        .intents
        .iter()
        .filter(|i| i.purpose == OrderPurpose::Stop)
        .count();
    assert_eq!(stop_intents, 3, "call, put, the put at cost");
}

#[tokio::test]
async fn under_exit_all_a_leg_stopped_at_the_venue_closes_the_strangle() {
    let d = Desk::new(&[(5, dec!(505), dec!(300)), (6, dec!(800), dec!(300))]);
    let p = venue_profile(Survivor::ExitAll);
    let mut e = d.start(p.clone()).await;
    e.run_until(Some(at(5, 30))).await.expect("run");
    drop(e);
    d.clock.set(at(6, 5));
    d.venue.catch_up();
    let mut e = d.start(p).await;
    // The put is bought back on the next fresh quote (07:00: the 06:00 one is too old).
    e.run_until(Some(at(7, 30))).await.expect("run");
    let l = d.ledger.contents();
    let s = l.sessions.last().expect("session");
    assert_eq!(s.state, SessionState::Closed);
    assert_eq!(s.exit_reason, Some(ExitReason::VenueStop));
    assert!(d
        .venue
        .positions(Underlying::Btc)
        .await
        .expect("pos")
        .is_empty());
}
