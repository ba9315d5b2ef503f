//! Crash and restart: an engine is stopped dead at a chosen point (its future dropped while
//! an order is in flight, as a kill would leave it), then a new engine starts on the same
//! SQLite file and the same venue. Reconciliation must leave no duplicate order, no
//! untracked leg, and a ledger that matches the exchange.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::clock::{Clock, ManualClock};
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::exchange::Split;
use strangle_core::ledger::{Ledger, Mode, SessionState};
use strangle_core::model::*;
use strangle_core::profile::Profile;
use strangle_core::recovery::reconcile;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::sim::{SimExchange, VecFeed};
use strangle_core::{Execution, MarketData, Result};
use strangle_store::{PgStore, SqliteStore, Store};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Crash {
    /// The n-th order (1-based) never leaves: the process dies after writing the intent.
    BeforeSend(usize),
    /// The n-th order reaches the venue, and the process dies before hearing back.
    AfterSend(usize),
}

struct Crashy {
    venue: Arc<SimExchange>,
    crash: Option<Crash>,
    sent: AtomicUsize,
}

#[async_trait]
impl Execution for Crashy {
    async fn place_order(&self, r: &OrderRequest) -> Result<OrderStatus> {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        match self.crash {
            Some(Crash::BeforeSend(k)) if k == n => std::future::pending().await,
            Some(Crash::AfterSend(k)) if k == n => {
                let _ = self.venue.place_order(r).await;
                std::future::pending().await
            }
            _ => self.venue.place_order(r).await,
        }
    }
    async fn cancel_order(
        &self,
        id: &strangle_core::ids::ClientOrderId,
        pid: strangle_core::ids::ProductId,
    ) -> Result<OrderStatus> {
        self.venue.cancel_order(id, pid).await
    }
    async fn order(&self, id: &strangle_core::ids::ClientOrderId) -> Result<Option<OrderStatus>> {
        self.venue.order(id).await
    }
    async fn positions(&self, u: Underlying) -> Result<Vec<Position>> {
        self.venue.positions(u).await
    }
    async fn settlement_fills(&self, s: &[strangle_core::model::ProductRef]) -> Result<Vec<Fill>> {
        self.venue.settlement_fills(s).await
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 3, 50, 0)
        .single()
        .expect("time")
}

fn profile() -> Profile {
    let mut p = Profile::named("crash");
    p.contracts_per_leg = dec!(4);
    p.liquidity.max_quote_age_secs = 1200;
    p
}

fn venue(clock: Arc<ManualClock>) -> Arc<SimExchange> {
    let m = SyntheticMarket::btc();
    let chains = m.path(
        start(),
        start() + Duration::hours(8),
        Duration::minutes(10),
        0.45,
        |t| Decimal::from(82_000 + (t - start()).num_minutes() * 3),
    );
    Arc::new(
        SimExchange::new(clock, profile().fees, dec!(10000))
            .with_feed(Box::new(VecFeed::new(chains))),
    )
}

fn cfg(adopt: bool) -> EngineConfig {
    EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::minutes(1),
        adopt,
        ioc_entries: false,
    }
}

/// Runs an engine until the crash point hangs it, then drops it (the "kill").
async fn run_and_crash(
    store: Arc<Store>,
    venue: Arc<SimExchange>,
    clock: Arc<ManualClock>,
    crash: Crash,
) {
    // Market data from the venue itself; orders through the crashing wrapper.
    let ex = Split {
        data: venue.clone(),
        exec: Crashy {
            venue,
            crash: Some(crash),
            sent: AtomicUsize::new(0),
        },
    };
    let (mut e, _h) = Engine::start(profile(), cfg(false), ex, store, clock.clone())
        .await
        .expect("start");
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        e.run_until(Some(start() + Duration::hours(8))),
    )
    .await;
    assert!(r.is_err(), "the engine hung at the crash point");
}

async fn check_invariants(store: &Store, venue: &SimExchange) {
    store.flush().await.expect("flush");
    let s = store
        .latest_session("crash")
        .await
        .expect("read")
        .expect("a session");
    assert_eq!(s.state, SessionState::Closed, "{s:?}");
    assert!(
        s.legs.iter().all(|g| g.book.sold == dec!(4)),
        "both legs were entered in full: {:?}",
        s.legs
    );
    assert!(
        s.exit_reason
            .is_some_and(|r| r != strangle_core::risk::ExitReason::FailedEntry),
        "{:?}",
        s.exit_reason
    );
    // No duplicate orders: every client id reached the venue at most once.
    let reqs = venue.requests();
    let mut ids: Vec<_> = reqs.iter().map(|r| r.client_order_id.clone()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a client order id was sent twice: {reqs:?}");
    // No untracked leg, and the ledger's legs equal the venue's fills.
    assert!(
        venue
            .positions(Underlying::Btc)
            .await
            .expect("positions")
            .is_empty(),
        "flat at the venue"
    );
    for g in &s.legs {
        let sold: Decimal = venue
            .fills()
            .iter()
            .filter(|f| f.symbol == g.symbol && f.side == Side::Sell)
            .map(|f| f.size)
            .sum();
        assert_eq!(g.book.sold, sold, "{}", g.symbol);
        assert_eq!(g.book.open(), Decimal::ZERO);
    }
    // PnL is consistent with the fills: the venue's cash moved by exactly the session's net.
    assert_eq!(venue.cash(), dec!(10000) + s.pnl.net);
}

/// Where the ledger lives; `open` is called again after the "kill", like a new process.
#[derive(Clone, Debug)]
enum Backend {
    Sqlite(std::path::PathBuf),
    Postgres(String, String),
}

impl Backend {
    fn new(postgres: bool, tag: &str) -> Self {
        let name = format!("crash_{}_{tag}", std::process::id())
            .replace(['(', ')'], "_")
            .to_lowercase();
        if postgres {
            let url = std::env::var("STRANGLE_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            Backend::Postgres(url, name)
        } else {
            Backend::Sqlite(std::env::temp_dir().join(format!("{name}.db")))
        }
    }

    async fn open(&self) -> Arc<Store> {
        Arc::new(match self {
            Backend::Sqlite(p) => Store::Sqlite(SqliteStore::open(p).await.expect("sqlite opens")),
            Backend::Postgres(url, schema) => Store::Postgres(
                PgStore::open_in_schema(url, Some(schema)).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL tests need a server at {url} (set STRANGLE_TEST_PG_URL): {e}")
                }),
            ),
        })
    }

    async fn remove(&self) {
        match self {
            Backend::Sqlite(p) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
                }
            }
            Backend::Postgres(url, schema) => {
                if let Ok(pool) = sqlx::PgPool::connect(url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                        .execute(&pool)
                        .await;
                }
            }
        }
    }
}

async fn crash_and_recover(crash: Crash, postgres: bool) {
    let backend = Backend::new(postgres, &format!("{crash:?}"));
    backend.remove().await;
    let clock = Arc::new(ManualClock::new(start()));
    let venue = venue(clock.clone());
    {
        let store = backend.open().await;
        run_and_crash(store, venue.clone(), clock.clone(), crash).await;
    }
    // A new process: the ledger is opened afresh.
    let store = backend.open().await;
    let ex = venue.clone();
    let (mut e, _h) = Engine::start(
        profile(),
        cfg(false),
        ex.clone(),
        store.clone(),
        clock.clone(),
    )
    .await
    .expect("restart");
    e.run_until(Some(start() + Duration::hours(8)))
        .await
        .expect("run");
    check_invariants(&store, &venue).await;
    // A second reconciliation finds nothing to do.
    let again = reconcile(&*ex, &*store, "crash", false, clock.now())
        .await
        .expect("reconcile");
    assert_eq!(
        (
            again.fills_added,
            again.orders_cancelled,
            again.adopted.len()
        ),
        (0, 0, 0)
    );
    drop(e);
    drop(store);
    backend.remove().await;
}

#[tokio::test]
async fn killed_between_intent_and_send_of_the_first_entry_order() {
    crash_and_recover(Crash::BeforeSend(1), false).await;
    crash_and_recover(Crash::BeforeSend(1), true).await;
}

#[tokio::test]
async fn killed_between_send_and_fill_of_the_second_entry_order() {
    crash_and_recover(Crash::AfterSend(2), false).await;
    crash_and_recover(Crash::AfterSend(2), true).await;
}

#[tokio::test]
async fn killed_in_the_middle_of_the_exit() {
    // Orders 1-2 enter; order 3 is the first exit order.
    crash_and_recover(Crash::AfterSend(3), false).await;
    crash_and_recover(Crash::AfterSend(3), true).await;
}

#[tokio::test]
async fn killed_before_the_second_exit_order_leaves() {
    crash_and_recover(Crash::BeforeSend(4), false).await;
    crash_and_recover(Crash::BeforeSend(4), true).await;
}

/// Runs an engine on `venue` for the first 30 minutes (the strangle opens), then drops it;
/// the session as the ledger holds it.
async fn open_strangle(
    store: &Arc<Store>,
    venue: &Arc<SimExchange>,
    clock: &Arc<ManualClock>,
) -> strangle_core::ledger::SessionRecord {
    {
        let (mut e, _h) = Engine::start(
            profile(),
            cfg(false),
            venue.clone(),
            store.clone(),
            clock.clone(),
        )
        .await
        .expect("start");
        e.run_until(Some(start() + Duration::minutes(30)))
            .await
            .expect("run");
    }
    let s = store
        .latest_session("crash")
        .await
        .expect("read")
        .expect("open session");
    assert_eq!(s.state, SessionState::Open);
    s
}

#[tokio::test]
async fn a_mismatch_is_refused_with_details_unless_adopted() {
    let path = std::env::temp_dir().join(format!("strangle_mismatch_{}.db", std::process::id()));
    let clock = Arc::new(ManualClock::new(start()));
    let venue = venue(clock.clone());
    let store = Arc::new(Store::Sqlite(SqliteStore::open(&path).await.expect("open")));
    let s = open_strangle(&store, &venue, &clock).await;
    // Someone sells 2 more of the call by hand.
    let g = &s.legs[0];
    let q = venue
        .quotes(std::slice::from_ref(&g.symbol))
        .await
        .expect("quote")
        .pop()
        .expect("quote");
    let manual = OrderRequest {
        client_order_id: strangle_core::ids::ClientOrderId::new("manual-1").expect("a valid id"),
        product_id: g.product_id,
        symbol: g.symbol.clone(),
        side: Side::Sell,
        size: dec!(2),
        order_type: OrderType::Limit,
        limit_price: q.bid,
        time_in_force: TimeInForce::Ioc,
        reduce_only: false,
        stop: None,
    };
    venue.place_order(&manual).await.expect("manual trade");
    let err = Engine::start(
        profile(),
        cfg(false),
        venue.clone(),
        store.clone(),
        clock.clone(),
    )
    .await
    .err()
    .expect("refused");
    assert!(err.is_refusal(), "{err}");
    match &err {
        strangle_core::Error::Mismatch { differences, .. } => assert!(
            differences
                .iter()
                .any(|d| d.contains(g.symbol.as_str()) && d.contains("holds 6 short")),
            "{differences:?}"
        ),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    // The operator adopts the exchange's state: the engine starts and manages 6 contracts.
    let (mut e, _h) = Engine::start(
        profile(),
        cfg(true),
        venue.clone(),
        store.clone(),
        clock.clone(),
    )
    .await
    .expect("adopted");
    assert_eq!(
        e.strategy().session().expect("session").legs[0].book.open(),
        dec!(6)
    );
    e.run_until(Some(start() + Duration::hours(8)))
        .await
        .expect("run");
    assert!(
        venue
            .positions(Underlying::Btc)
            .await
            .expect("positions")
            .is_empty(),
        "all 6 bought back"
    );
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

/// Regression (issue 30 F, found trying README): a fast-forward run killed with its strangle
/// exiting, then run again. Its simulated market had ended with the process, so the new
/// market knew none of the orders; recovery rebuilt the legs from the exchange's fills alone
/// and closed the session with premium 0, net 0 and legs "sold 0", its four fills still in
/// the ledger. Now the recorded fills are the legs' base: the new market's empty book is a
/// difference, refused with details; adopting it books the legs as bought back at their last
/// marks, and the premium received stays in the session.
#[tokio::test]
async fn a_venue_that_forgot_the_session_never_erases_its_recorded_fills() {
    for postgres in [false, true] {
        let backend = Backend::new(postgres, "forgot");
        backend.remove().await;
        let clock = Arc::new(ManualClock::new(start()));
        let store = backend.open().await;
        let before = open_strangle(&store, &venue(clock.clone()), &clock).await;
        assert!(before.pnl.premium > Decimal::ZERO);
        // A new market that has never seen the session's orders.
        let fresh = venue(clock.clone());
        let err = Engine::start(
            profile(),
            cfg(false),
            fresh.clone(),
            store.clone(),
            clock.clone(),
        )
        .await
        .err()
        .expect("refused");
        match &err {
            strangle_core::Error::Mismatch {
                differences,
                unseen_orders,
                ..
            } => {
                // One line per leg, and the orders no read of the venue finds, named apart.
                assert_eq!(differences.len(), 2, "{differences:?}");
                assert!(
                    differences
                        .iter()
                        .all(|d| d.contains("the fills say 4 contracts short")),
                    "{differences:?}"
                );
                assert!(
                    unseen_orders.iter().any(|id| id.as_str().ends_with("-CE1")),
                    "{unseen_orders:?}"
                );
                assert!(
                    err.to_string().contains("the venue finds no order"),
                    "{err}"
                );
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
        let after = store
            .latest_session("crash")
            .await
            .expect("read")
            .expect("a session");
        assert_eq!(after.legs, before.legs, "a refusal changes nothing");
        assert_eq!(after.pnl, before.pnl);
        // Adopted: flat at the exchange, so the legs are booked bought back at their marks.
        let (mut e, _h) = Engine::start(
            profile(),
            cfg(true),
            fresh.clone(),
            store.clone(),
            clock.clone(),
        )
        .await
        .expect("adopted");
        e.run_until(Some(start() + Duration::minutes(40)))
            .await
            .expect("run");
        let s = store
            .latest_session("crash")
            .await
            .expect("read")
            .expect("a session");
        assert_eq!(s.state, SessionState::Closed, "{s:?}");
        assert_eq!(s.pnl.premium, before.pnl.premium, "the premium is kept");
        assert!(s.legs.iter().all(|g| g.book.sold == dec!(4)));
        assert!(s.closed_at.is_some_and(|c| c >= s.opened_at));
        drop(e);
        drop(store);
        backend.remove().await;
    }
}
