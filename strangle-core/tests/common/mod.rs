//! A scripted market for the engine tests: hand-set quotes on a small BTC chain.
#![allow(dead_code, missing_docs)]

use std::sync::Arc;
use strangle_core::ids::ProductId;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineConfig, EngineHandle};
use strangle_core::ledger::Mode;
use strangle_core::memory::MemoryLedger;
use strangle_core::model::{
    ChainEntry, ChainSnapshot, FeeModel, Greeks, OptionContract, Quote, Underlying,
};
use strangle_core::profile::Profile;
use strangle_core::sim::{SimExchange, VecFeed};

/// 2026-03-10 at `h:m` UTC (09:30 IST is 04:00 UTC).
pub fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0)
        .single()
        .expect("valid time")
}

pub const CALL: &str = "C-BTC-90000-110326";
pub const PUT: &str = "P-BTC-76000-110326";

/// Bid, ask, mark and size of one contract.
#[derive(Clone, Copy)]
pub struct Px {
    pub bid: Decimal,
    pub ask: Decimal,
    pub mark: Decimal,
    pub bid_size: Decimal,
}

pub fn px(bid: Decimal, ask: Decimal, mark: Decimal) -> Px {
    Px {
        bid,
        ask,
        mark,
        bid_size: dec!(100),
    }
}

fn entry(sym: &str, delta: f64, p: Px, t: DateTime<Utc>, spot: Decimal) -> ChainEntry {
    let id = strangle_core::ids::profile_tag(sym);
    let contract = OptionContract::from_symbol(
        ProductId(u64::from_str_radix(&id, 16).expect("hex")),
        sym,
        dec!(0.001),
        dec!(0.1),
    )
    .expect("valid symbol");
    let symbol = contract.symbol.clone();
    ChainEntry {
        contract,
        quote: Quote {
            symbol,
            timestamp: t,
            mark: p.mark,
            bid: Some(p.bid),
            bid_size: p.bid_size,
            ask: Some(p.ask),
            ask_size: dec!(100),
            greeks: Some(Greeks {
                delta,
                gamma: 0.0,
                theta: 0.0,
                vega: 0.0,
            }),
            mark_iv: Some(0.45),
            bid_iv: None,
            ask_iv: None,
            spot: Some(spot),
            open_interest: Some(dec!(1000)),
            price_band: None,
            trading_halt: None,
        },
    }
}

/// The chain at `t`: today's expiry (inside the band but too close), and tomorrow's with
/// four calls and four puts; `call` and `put` price the contracts the strategy should pick.
pub fn market(t: DateTime<Utc>, spot: Decimal, call: Px, put: Px) -> ChainSnapshot {
    let other = px(dec!(100), dec!(110), dec!(105));
    let entries = vec![
        entry("C-BTC-86000-100326", 0.125, other, t, spot),
        entry("P-BTC-78000-100326", -0.125, other, t, spot),
        entry("C-BTC-86000-110326", 0.20, other, t, spot),
        entry("C-BTC-88000-110326", 0.14, other, t, spot),
        entry(CALL, 0.12, call, t, spot),
        entry("C-BTC-92000-110326", 0.08, other, t, spot),
        entry("P-BTC-78000-110326", -0.22, other, t, spot),
        entry(PUT, -0.13, put, t, spot),
        entry("P-BTC-74000-110326", -0.11, other, t, spot),
        entry("P-BTC-72000-110326", -0.07, other, t, spot),
    ];
    ChainSnapshot {
        underlying: Underlying::Btc,
        timestamp: t,
        spot,
        entries,
    }
}

/// Flat fees without tax: 0.03 % of notional capped at 10 % of premium.
pub fn fees() -> FeeModel {
    FeeModel {
        taker_rate_pct: dec!(0.03),
        maker_rate_pct: dec!(0.03),
        premium_cap_pct: dec!(10),
        tax_pct: dec!(0),
        settlement_rate_pct: dec!(0),
    }
}

pub fn profile() -> Profile {
    let mut p = Profile::named("e2e");
    p.contracts_per_leg = dec!(10);
    p.contract_size = Some(dec!(0.001));
    p.fees = fees();
    p.liquidity.max_quote_age_secs = 120;
    p
}

/// The trailing-stop day: enter at 09:30 IST, decay to +55 %, rally back to +11 %.
pub fn trailing_day() -> Vec<ChainSnapshot> {
    vec![
        market(
            at(3, 55),
            dec!(82000),
            px(dec!(500), dec!(510), dec!(505)),
            px(dec!(400), dec!(410), dec!(405)),
        ),
        market(
            at(4, 0),
            dec!(82000),
            px(dec!(500), dec!(510), dec!(505)),
            px(dec!(400), dec!(410), dec!(405)),
        ),
        market(
            at(5, 0),
            dec!(82500),
            px(dec!(295), dec!(305), dec!(300)),
            px(dec!(245), dec!(255), dec!(250)),
        ),
        market(
            at(6, 0),
            dec!(82500),
            px(dec!(195), dec!(205), dec!(200)),
            px(dec!(145), dec!(155), dec!(150)),
        ),
        market(
            at(7, 0),
            dec!(83000),
            px(dec!(415), dec!(425), dec!(420)),
            px(dec!(325), dec!(335), dec!(330)),
        ),
        market(
            at(8, 0),
            dec!(83000),
            px(dec!(415), dec!(425), dec!(420)),
            px(dec!(325), dec!(335), dec!(330)),
        ),
    ]
}

pub type TestEngine = Engine<Arc<SimExchange>, Arc<MemoryLedger>, Arc<ManualClock>>;

pub struct Rig {
    pub engine: TestEngine,
    pub handle: EngineHandle,
    pub venue: Arc<SimExchange>,
    pub ledger: Arc<MemoryLedger>,
    pub clock: Arc<ManualClock>,
}

pub async fn rig(profile: Profile, snapshots: Vec<ChainSnapshot>, poll_secs: i64) -> Rig {
    rig_on(profile, snapshots, poll_secs, Arc::new(MemoryLedger::new())).await
}

/// A rig on an existing ledger (a restart).
pub async fn rig_on(
    profile: Profile,
    snapshots: Vec<ChainSnapshot>,
    poll_secs: i64,
    ledger: Arc<MemoryLedger>,
) -> Rig {
    let start = snapshots
        .first()
        .map(|c| c.timestamp)
        .expect("at least one snapshot");
    let clock = Arc::new(ManualClock::new(start));
    let venue = Arc::new(
        SimExchange::new(clock.clone(), profile.fees.clone(), dec!(10000))
            .with_feed(Box::new(VecFeed::new(snapshots))),
    );
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::seconds(poll_secs),
        adopt: false,
        ioc_entries: false,
    };
    let (engine, handle) = Engine::start(
        profile,
        config,
        venue.clone(),
        ledger.clone(),
        clock.clone(),
    )
    .await
    .expect("engine starts");
    Rig {
        engine,
        handle,
        venue,
        ledger,
        clock,
    }
}

/// An engine whose orders go through a test double `X` over the simulated venue.
pub type SplitEngine<X> = Engine<
    strangle_core::exchange::Split<Arc<SimExchange>, Arc<X>>,
    Arc<MemoryLedger>,
    Arc<ManualClock>,
>;

/// An engine on the trailing day whose orders go through `exec` (a test double over the
/// simulated venue) and whose quotes come from the venue itself.
pub struct SplitRig<X> {
    pub engine: SplitEngine<X>,
    pub handle: EngineHandle,
    pub venue: Arc<SimExchange>,
    pub exec: Arc<X>,
    pub ledger: Arc<MemoryLedger>,
}

/// [`SplitRig`] for `profile` (quotes may be an hour old), with `exec` made from the venue.
pub async fn split_rig<X: strangle_core::Execution + 'static>(
    mut profile: Profile,
    exec: impl FnOnce(Arc<SimExchange>) -> X,
) -> SplitRig<X> {
    profile.liquidity.max_quote_age_secs = 3600;
    let snapshots = trailing_day();
    let clock = Arc::new(ManualClock::new(snapshots[0].timestamp));
    let venue = Arc::new(
        SimExchange::new(clock.clone(), profile.fees.clone(), dec!(10000))
            .with_feed(Box::new(VecFeed::new(snapshots))),
    );
    let exec = Arc::new(exec(venue.clone()));
    let ledger = Arc::new(MemoryLedger::new());
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::seconds(5),
        adopt: false,
        ioc_entries: false,
    };
    let ex = strangle_core::exchange::Split {
        data: venue.clone(),
        exec: exec.clone(),
    };
    let (engine, handle) = Engine::start(profile, config, ex, ledger.clone(), clock)
        .await
        .expect("engine");
    SplitRig {
        engine,
        handle,
        venue,
        exec,
        ledger,
    }
}
