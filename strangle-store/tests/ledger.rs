//! One test suite, run against both backends: SQLite on temporary files and PostgreSQL on the
//! server at `STRANGLE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), each
//! test in its own schema.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ledger::{AuditEvent, Ledger, Mode, PnlMark, SessionState};
use strangle_core::memory::MemoryLedger;
use strangle_core::pnl::SessionPnl;
use strangle_core::profile::Profile;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::sim::{SimExchange, VecFeed};
use strangle_store::{PgStore, SqliteStore, Store, StoreError};

struct Db {
    store: Arc<Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema(String, String),
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    // A random part per process: schemas and files of earlier runs never collide.
    static SALT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let salt = *SALT.get_or_init(|| {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(std::process::id()) % 1_000_000_007
    });
    format!(
        "{prefix}_{}_{}_{salt}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn pg_url() -> String {
    std::env::var("STRANGLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn sqlite() -> Db {
    let path = std::env::temp_dir().join(format!("{}.db", unique("strangle_test")));
    let store = Store::Sqlite(SqliteStore::open(&path).await.expect("sqlite opens"));
    Db {
        store: Arc::new(store),
        cleanup: Cleanup::File(path),
    }
}

async fn postgres() -> Db {
    let url = pg_url();
    let schema = unique("t");
    let store = match PgStore::open_in_schema(&url, Some(&schema)).await {
        Ok(s) => Store::Postgres(s),
        Err(e) => panic!(
            "PostgreSQL tests need a server at {url} (set STRANGLE_TEST_PG_URL to another one; .ci/run starts it): {e}"
        ),
    };
    Db {
        store: Arc::new(store),
        cleanup: Cleanup::Schema(url, schema),
    }
}

impl Db {
    async fn done(self) {
        let Db { store, cleanup } = self;
        drop(store);
        match cleanup {
            Cleanup::File(p) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
                }
            }
            Cleanup::Schema(url, schema) => {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                        .execute(&pool)
                        .await;
                }
            }
        }
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $( #[tokio::test] async fn $name() { let db = super::sqlite().await; super::$name(db.store.clone()).await; db.done().await; } )*
        }
        mod postgres_backend {
            $( #[tokio::test] async fn $name() { let db = super::postgres().await; super::$name(db.store.clone()).await; db.done().await; } )*
        }
    };
}

on_both!(
    engine_records_match_the_memory_ledger,
    profiles_single_active_and_conflicts,
    saving_a_known_profile_does_not_spend_ids,
    writes_are_idempotent_and_events_append_only,
    a_leg_closed_alone_reads_back,
    the_account_risk_record_and_the_sessions_it_reads,
    marks_are_group_committed,
    queries_pages_detail_csv_and_analytics,
);

/// Runs a two-day sim with `ledger`; returns nothing, the ledger holds the records.
async fn run_days<L: Ledger + 'static>(ledger: Arc<L>) {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .expect("time");
    let market = SyntheticMarket::btc();
    let mut spot = 82_000i64;
    let chains = market.path(
        start,
        start + Duration::days(2),
        Duration::minutes(15),
        0.45,
        |_| {
            spot += 37;
            Decimal::from(spot)
        },
    );
    let clock = Arc::new(ManualClock::new(start));
    let mut p = Profile::named("store-test");
    p.contracts_per_leg = dec!(3);
    p.liquidity.max_quote_age_secs = 1200;
    let venue = Arc::new(
        SimExchange::new(clock.clone(), p.fees.clone(), dec!(10000))
            .with_feed(Box::new(VecFeed::new(chains))),
    );
    let cfg = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::minutes(1),
        adopt: false,
        ioc_entries: false,
    };
    let (mut e, _h) = Engine::start(p, cfg, venue, ledger, clock)
        .await
        .expect("engine");
    e.run_until(Some(start + Duration::days(2)))
        .await
        .expect("run");
}

async fn engine_records_match_the_memory_ledger(store: Arc<Store>) {
    let mem = Arc::new(MemoryLedger::new());
    run_days(mem.clone()).await;
    let want = mem.contents();
    assert_eq!(want.sessions.len(), 2, "one session a day");

    // The same run on the store.
    run_days(store.clone()).await;
    store.flush().await.expect("flush");

    let latest = store
        .latest_session("store-test")
        .await
        .expect("read")
        .expect("a session");
    assert_eq!(
        &latest,
        want.sessions.last().expect("memory session"),
        "the session reads back exactly"
    );
    for s in &want.sessions {
        let got = store
            .session(&s.session_id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(&got, s);
    }
    assert!(store
        .active_sessions("store-test")
        .await
        .expect("read")
        .is_empty());
    let p = store
        .profile("store-test")
        .await
        .expect("profile saved by the engine");
    assert_eq!(p.profile.contracts_per_leg, dec!(3));
}

/// An engine saves its profile at every start: that must neither change the profile's id nor
/// spend ids (PostgreSQL spends a sequence value on every `INSERT … ON CONFLICT`), so the next
/// profile created gets the next id.
async fn saving_a_known_profile_does_not_spend_ids(store: Arc<Store>) {
    use strangle_core::Ledger;
    let a = store
        .create_profile(&Profile::named("first"))
        .await
        .expect("create");
    for _ in 0..5 {
        store.save_profile(&a.profile).await.expect("save");
    }
    assert_eq!(store.profile("first").await.expect("read").id, a.id);
    let b = store
        .create_profile(&Profile::named("second"))
        .await
        .expect("create");
    assert_eq!(b.id, a.id + 1, "no id spent by the five saves");
    // A profile the ledger does not know is created by saving it.
    store
        .save_profile(&Profile::named("third"))
        .await
        .expect("save");
    assert_eq!(store.profile("third").await.expect("read").id, b.id + 1);
}

async fn profiles_single_active_and_conflicts(store: Arc<Store>) {
    let a = store
        .create_profile(&Profile::named("alpha"))
        .await
        .expect("create");
    let b = store
        .create_profile(&Profile::named("beta"))
        .await
        .expect("create");
    assert!(
        matches!(store.create_profile(&Profile::named("alpha")).await, Err(StoreError::DuplicateProfile(n)) if n == "alpha")
    );
    assert!(store.active_profile().await.expect("read").is_none());
    store.activate_profile(a.id).await.expect("activate");
    store.activate_profile(b.id).await.expect("activate");
    let active: Vec<_> = store
        .profiles()
        .await
        .expect("list")
        .into_iter()
        .filter(|p| p.active)
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].profile.name, "beta");
    assert!(matches!(
        store.delete_profile(b.id).await,
        Err(StoreError::ActiveProfile(_))
    ));
    store.delete_profile(a.id).await.expect("inactive can go");
    assert!(matches!(
        store.profile("alpha").await,
        Err(StoreError::NoProfile(_))
    ));
    let mut renamed = b.profile.clone();
    renamed.delta_band.high = 0.2;
    let up = store.update_profile(b.id, &renamed).await.expect("update");
    assert_eq!(up.profile.delta_band.high, 0.2);
    assert!(up.active, "updating keeps the active flag");
    let g = store
        .create_profile(&Profile::named("gamma"))
        .await
        .expect("create");
    let mut clash = g.profile.clone();
    clash.name = "beta".into();
    assert!(matches!(
        store.update_profile(g.id, &clash).await,
        Err(StoreError::DuplicateProfile(_))
    ));
    assert!(matches!(
        store.activate_profile(9999).await,
        Err(StoreError::NoProfile(_))
    ));
}

async fn writes_are_idempotent_and_events_append_only(store: Arc<Store>) {
    let mem = Arc::new(MemoryLedger::new());
    run_days(mem.clone()).await;
    let c = mem.contents();
    for s in &c.sessions {
        store.upsert_session(s).await.expect("session");
    }
    for i in c.intents.iter().chain(c.intents.iter()) {
        store
            .record_order_intent(i)
            .await
            .expect("intent twice is fine");
    }
    for (sid, f) in c.fills.iter().chain(c.fills.iter()) {
        store.record_fill(sid, f).await.expect("fill twice is fine");
    }
    for (sid, st) in &c.order_updates {
        store.record_order_update(sid, st).await.expect("update");
    }
    let e = AuditEvent {
        at: Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("an instant"),
        profile: "p".into(),
        session_id: None,
        kind: strangle_core::audit::EventKind::Unknown("k".into()),
        detail: "d".into(),
    };
    store.record_event(&e).await.expect("event");
    let (fills, intents, updates, changed) = match &*store {
        Store::Sqlite(s) => (
            count(s.pool(), "fills").await,
            count(s.pool(), "orders").await,
            count(s.pool(), "order_updates").await,
            sqlx::query("UPDATE events SET detail = 'x'")
                .execute(s.pool())
                .await
                .is_ok(),
        ),
        Store::Postgres(s) => (
            pg_count(s.pool(), "fills").await,
            pg_count(s.pool(), "orders").await,
            pg_count(s.pool(), "order_updates").await,
            sqlx::query("UPDATE events SET detail = 'x'")
                .execute(s.pool())
                .await
                .is_ok(),
        ),
    };
    assert_eq!(fills as usize, c.fills.len());
    assert_eq!(intents as usize, c.intents.len());
    assert_eq!(updates as usize, c.order_updates.len());
    assert!(!changed, "the audit trail refuses updates");
}

/// A leg closed alone (its reason), a leg whose stop moved to its cost and a re-entry's link
/// read back as written, and a later write replaces them.
async fn a_leg_closed_alone_reads_back(store: Arc<Store>) {
    use strangle_core::risk::ExitReason;
    let mem = Arc::new(MemoryLedger::new());
    run_days(mem.clone()).await;
    let mut s = mem.contents().sessions.remove(0);
    s.legs[0].exit_reason = Some(ExitReason::LegCostStop);
    s.legs[1].stop_at_cost = true;
    // A re-entry's link to the day's first session reads back too.
    s.reentry_of = Some(strangle_core::ids::SessionId::new("first-1").expect("id"));
    s.reentry = 2;
    for again in [false, true] {
        if again {
            s.legs[0].exit_reason = None;
            s.legs[1].stop_at_cost = false;
        }
        store.upsert_session(&s).await.expect("write");
        let got = store.session(&s.session_id).await.expect("read");
        assert_eq!(got.as_ref(), Some(&s), "written again: {again}");
    }
}

/// The governor's record: written once, then only by a writer that read the latest version;
/// and the sessions it reads: today's closed ones at their net, open ones at their latest mark.
async fn the_account_risk_record_and_the_sessions_it_reads(store: Arc<Store>) {
    use strangle_core::governor::{self, AccountRisk, RiskLedger, RiskState};
    use strangle_core::profile::PnlBasis;
    assert_eq!(store.account_risk().await.expect("read"), None);
    let now = Utc
        .with_ymd_and_hms(2026, 3, 10, 6, 0, 0)
        .single()
        .expect("time");
    let mut limits = AccountRisk::default();
    limits.daily_loss_usd = Some(dec!(50));
    let rec = governor::set_limits(&*store, now, limits)
        .await
        .expect("limits");
    assert_eq!(store.account_risk().await.expect("read"), Some(rec.clone()));
    assert!(store.save_account_risk(&rec).await.expect("save"));
    assert!(!store.save_account_risk(&rec).await.expect("save"), "stale");

    let mem = Arc::new(MemoryLedger::new());
    run_days(mem.clone()).await;
    let c = mem.contents();
    let mut open = c.sessions[1].clone();
    open.state = strangle_core::ledger::SessionState::Open;
    store.upsert_session(&c.sessions[0]).await.expect("closed");
    store.upsert_session(&open).await.expect("open");
    let mark = strangle_core::ledger::PnlMark {
        session_id: open.session_id.clone(),
        at: now,
        pnl: strangle_core::pnl::SessionPnl {
            net: dec!(-7),
            ..open.pnl
        },
        close_now_net: Some(dec!(-9)),
        trailing_level: None,
        spot: None,
    };
    store.record_mark(&mark).await.expect("mark");
    let day = c.sessions[0].trading_day;
    let got = store
        .risk_sessions(day, PnlBasis::CloseNow)
        .await
        .expect("sessions");
    let nets: Vec<_> = got.iter().map(|v| (v.open, v.net)).collect();
    assert_eq!(nets, vec![(false, c.sessions[0].pnl.net), (true, dec!(-9))]);
    let got = store
        .risk_sessions(day, PnlBasis::Mark)
        .await
        .expect("sessions");
    assert_eq!(got[1].net, dec!(-7));
    // The governor on this ledger: the day's loss from both sessions.
    let t = governor::tick(&*store, now, &[], None).await.expect("tick");
    let want = c.sessions[0].pnl.net - dec!(9);
    assert_eq!(t.figures, (want, dec!(-9)));
    assert_eq!(
        t.state,
        if want <= dec!(-50) {
            RiskState::Halted
        } else {
            RiskState::Active
        }
    );
}

async fn count(pool: &sqlx::SqlitePool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .expect("count")
}

async fn pg_count(pool: &sqlx::PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .expect("count")
}

async fn marks_are_group_committed(store: Arc<Store>) {
    let t = Utc
        .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("an instant");
    let mem = Arc::new(MemoryLedger::new());
    run_days(mem.clone()).await;
    let s = &mem.contents().sessions[0];
    store.upsert_session(s).await.expect("session");
    let n = strangle_store::MARK_BATCH * 2 + 22;
    for i in 0..n as i64 {
        let m = PnlMark {
            session_id: s.session_id.clone(),
            at: t + Duration::seconds(i),
            pnl: SessionPnl {
                premium: dec!(9),
                gross: Decimal::from(i),
                fees: dec!(0.5),
                net: Decimal::from(i) - dec!(0.5),
            },
            // Every other mark had a leg without an ask.
            close_now_net: (i % 2 == 0).then(|| Decimal::from(i) - dec!(1.25)),
            trailing_level: None,
            spot: Some(dec!(82000.5)),
        };
        store.record_mark(&m).await.expect("mark");
    }
    let before = match &*store {
        Store::Sqlite(s) => count(s.pool(), "marks").await,
        Store::Postgres(s) => pg_count(s.pool(), "marks").await,
    };
    assert_eq!(
        before as usize,
        strangle_store::MARK_BATCH * 2,
        "two full batches written, 22 still buffered"
    );
    store.flush().await.expect("flush");
    let after = match &*store {
        Store::Sqlite(s) => count(s.pool(), "marks").await,
        Store::Postgres(s) => pg_count(s.pool(), "marks").await,
    };
    assert_eq!(after as usize, n);
    // What closing would have realised is kept beside the mark, NULL where it was unknown.
    let q = "SELECT COUNT(close_now_net) FROM marks";
    let with_close: i64 = match &*store {
        Store::Sqlite(s) => sqlx::query_scalar(q).fetch_one(s.pool()).await,
        Store::Postgres(s) => sqlx::query_scalar(q).fetch_one(s.pool()).await,
    }
    .expect("count");
    assert_eq!(with_close as usize, n.div_ceil(2));
    // Read back in full, in order, every field as written; or thinned to about 40 points.
    let (all, total) = store
        .marks(s.session_id.as_str(), n + 1)
        .await
        .expect("marks");
    assert_eq!((all.len(), total), (n, n));
    assert_eq!(all[3].pnl.net, dec!(2.5));
    assert_eq!(all[4].close_now_net, Some(dec!(2.75)));
    assert_eq!(all[3].close_now_net, None);
    assert_eq!(all[5].spot, Some(dec!(82000.5)));
    assert!(all.windows(2).all(|w| w[0].at < w[1].at));
    let (thin, total) = store.marks(s.session_id.as_str(), 40).await.expect("marks");
    assert_eq!(total, n);
    assert!(thin.len() <= 40, "{}", thin.len());
    assert_eq!((thin.first(), thin.last()), (all.first(), all.last()));
    let (none, total) = store.marks("no-such-session", 40).await.expect("marks");
    assert!(none.is_empty() && total == 0);
    let _ = SessionState::Closed;
}

#[tokio::test]
async fn sqlite_reopens_with_everything_and_refuses_a_newer_schema() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("strangle_reopen")));
    {
        let store = Arc::new(Store::Sqlite(SqliteStore::open(&path).await.expect("open")));
        run_days(store.clone()).await;
        store.flush().await.expect("flush");
    }
    let again = Store::Sqlite(SqliteStore::open(&path).await.expect("reopen"));
    let s = again
        .latest_session("store-test")
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(s.state, SessionState::Closed);
    // A database that a newer strangle migrated is refused with a clear message.
    if let Store::Sqlite(s) = &again {
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, X'00', 0)")
            .execute(s.pool())
            .await
            .expect("fake a future migration");
    }
    drop(again);
    let err = SqliteStore::open(&path).await.expect_err("too new");
    assert!(
        matches!(err, StoreError::TooNew { found: 9999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade strangle"));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

/// A leg's symbol edited by hand into something no venue sends is reported as corruption of
/// that table and column, not passed on to the engine.
#[tokio::test]
async fn a_bad_symbol_in_the_file_is_corruption() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("strangle_badsym")));
    let store = Store::Sqlite(SqliteStore::open(&path).await.expect("open"));
    let store = Arc::new(store);
    run_days(store.clone()).await;
    store.flush().await.expect("flush");
    let sid = store
        .latest_session("store-test")
        .await
        .expect("read")
        .expect("a session")
        .session_id;
    assert!(store.session_detail(&sid).await.expect("detail").is_some());
    if let Store::Sqlite(s) = &*store {
        sqlx::query("UPDATE legs SET symbol = 'C-BTC-1 OR 1=1'")
            .execute(s.pool())
            .await
            .expect("edit");
    }
    let err = store.session_detail(&sid).await.expect_err("a bad symbol");
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                table: "legs",
                column: "symbol",
                ..
            }
        ),
        "{err}"
    );
    drop(store);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

#[tokio::test]
async fn postgres_refuses_a_newer_schema_and_enforces_one_active_profile() {
    let db = postgres().await;
    let Cleanup::Schema(url, schema) = &db.cleanup else {
        unreachable!()
    };
    let Store::Postgres(pg) = &*db.store else {
        unreachable!()
    };
    let a = db
        .store
        .create_profile(&Profile::named("a"))
        .await
        .expect("a");
    let b = db
        .store
        .create_profile(&Profile::named("b"))
        .await
        .expect("b");
    db.store.activate_profile(a.id).await.expect("activate");
    // The database itself refuses a second active profile, whatever the code does.
    let r = sqlx::query("UPDATE profiles SET active = TRUE WHERE id = $1")
        .bind(b.id)
        .execute(pg.pool())
        .await;
    assert!(r.is_err(), "unique partial index holds");
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, '\\x00', 0)")
        .execute(pg.pool())
        .await
        .expect("fake a future migration");
    let err = PgStore::open_in_schema(url, Some(schema))
        .await
        .expect_err("too new");
    assert!(
        matches!(err, StoreError::TooNew { found: 9999, .. }),
        "{err}"
    );
    db.done().await;
}

async fn queries_pages_detail_csv_and_analytics(store: Arc<Store>) {
    use strangle_store::SessionFilter;
    run_days(store.clone()).await;
    let all = store
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    assert_eq!((all.total, all.items.len()), (2, 2));
    assert!(
        all.items[0].opened_at > all.items[1].opened_at,
        "newest first"
    );
    let page = store
        .list_sessions(&SessionFilter {
            limit: 1,
            offset: 1,
            ..SessionFilter::default()
        })
        .await
        .expect("page");
    assert_eq!((page.total, page.items.len()), (2, 1));
    assert_eq!(page.items[0].session_id, all.items[1].session_id);
    let none = store
        .list_sessions(&SessionFilter {
            profile: Some("nope".into()),
            ..SessionFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(none.total, 0);
    let recent = SessionFilter {
        from: Some(all.items[0].opened_at),
        ..SessionFilter::default()
    };
    assert_eq!(store.list_sessions(&recent).await.expect("list").total, 1);
    let closed = SessionFilter {
        state: Some(SessionState::Closed),
        ..SessionFilter::default()
    };
    assert_eq!(store.list_sessions(&closed).await.expect("list").total, 2);

    let d = store
        .session_detail(&all.items[0].session_id)
        .await
        .expect("detail")
        .expect("exists");
    use strangle_core::ledger::OrderPurpose;
    use strangle_core::model::{OrderState, StopTrigger};
    let (stops, trades): (Vec<_>, Vec<_>) = d
        .orders
        .iter()
        .partition(|o| o.intent.purpose == OrderPurpose::Stop);
    assert_eq!(trades.len(), 4, "two entries and two exits: {:?}", d.orders);
    assert!(trades.iter().all(|o| o.state == Some(OrderState::Filled)));
    assert!(trades.iter().all(|o| o.filled_size == dec!(3)));
    // The venue stops come back with their trigger, and all ended cancelled.
    assert!(!stops.is_empty());
    for o in &stops {
        let stop = o
            .intent
            .request
            .stop
            .expect("a stop order keeps its trigger");
        assert_eq!(stop.trigger, StopTrigger::MarkPrice);
        assert!(stop.stop_price > Decimal::ZERO);
        assert!(o.intent.request.reduce_only);
        assert_eq!(o.state, Some(OrderState::Cancelled), "{o:?}");
    }
    assert_eq!(d.fills.len(), 4);
    let kinds: Vec<_> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"entry") && kinds.contains(&"closed"),
        "{kinds:?}"
    );
    assert!(store
        .session_detail("no-such")
        .await
        .expect("detail")
        .is_none());

    let csv = store
        .sessions_csv(&SessionFilter::default())
        .await
        .expect("csv");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    let headers = r.headers().expect("headers").clone();
    let net_col = headers.iter().position(|h| h == "net").expect("net column");
    assert_eq!(
        rows[1][net_col].parse::<Decimal>().expect("decimal"),
        all.items[0].pnl.net
    );
    // Text that a spreadsheet would run as a formula is neutralised; numbers stay numbers.
    let mut evil = all.items[0].clone();
    evil.profile = "=HYPERLINK(\"http://x\")".into();
    // A symbol cannot hold `@`, `=` or `+`, but it can start with `-`.
    evil.legs[0].symbol = "-2-3".parse().expect("a symbol");
    let csv = strangle_store::queries::sessions_csv(&[evil.clone()]).expect("csv");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let row = r.records().next().expect("a row").expect("row");
    assert_eq!(&row[1], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&row[9], "'-2-3");
    assert_eq!(
        row[net_col].parse::<Decimal>().expect("decimal"),
        evil.pnl.net
    );

    let a = store
        .analytics(&SessionFilter::default())
        .await
        .expect("analytics");
    assert_eq!(a.sessions, 2);
    assert_eq!(
        a.totals.net,
        all.items.iter().map(|s| s.pnl.net).sum::<Decimal>()
    );
    let mut fill_fees = Decimal::ZERO;
    for s in &all.items {
        let d = store
            .session_detail(&s.session_id)
            .await
            .expect("detail")
            .expect("exists");
        fill_fees += d.fills.iter().map(|f| f.fee).sum::<Decimal>();
    }
    assert_eq!(a.totals.fees, fill_fees, "fees are counted once");
    assert_eq!(a.cumulative.len(), 2);
}

/// Opens `db`'s ledger again for reading only: it reads what the writer wrote, and every
/// write is refused by the database itself.
async fn read_only_sees_everything_and_writes_nothing(db: Db) {
    run_days(db.store.clone()).await;
    db.store.flush().await.expect("flush");
    let (location, schema) = match &db.cleanup {
        Cleanup::File(p) => (p.display().to_string(), None),
        Cleanup::Schema(url, schema) => (url.clone(), Some(schema.clone())),
    };
    let filter = strangle_store::SessionFilter::default();
    let written = db.store.all_sessions(&filter).await.expect("written");
    assert!(!written.is_empty());
    let reader = Store::open_read_only(&location, schema.as_deref())
        .await
        .expect("opens read-only");
    assert_eq!(reader.all_sessions(&filter).await.expect("read"), written);
    let detail = reader
        .session_detail(&written[0].session_id)
        .await
        .expect("detail")
        .expect("found");
    assert!(!detail.orders.is_empty() && !detail.fills.is_empty());
    assert_eq!(
        reader.analytics(&filter).await.expect("analytics").sessions,
        db.store
            .analytics(&filter)
            .await
            .expect("analytics")
            .sessions
    );
    let refused = reader.create_profile(&Profile::named("never")).await;
    assert!(refused.is_err(), "a read-only ledger accepted a write");
    assert!(db
        .store
        .profiles()
        .await
        .expect("profiles")
        .iter()
        .all(|p| p.profile.name != "never"));
    drop(reader);
    db.done().await;
}

#[tokio::test]
async fn sqlite_read_only() {
    read_only_sees_everything_and_writes_nothing(sqlite().await).await;
}

#[tokio::test]
async fn postgres_read_only() {
    read_only_sees_everything_and_writes_nothing(postgres().await).await;
}

#[tokio::test]
async fn read_only_never_creates_and_names_what_is_wrong() {
    let missing = std::env::temp_dir().join(format!("{}.db", unique("strangle_missing")));
    let err = Store::open_read_only(&missing.display().to_string(), None)
        .await
        .expect_err("missing");
    assert!(err.to_string().contains("no ledger file"), "{err}");
    assert!(!missing.exists(), "reading created a file");
    let empty = std::env::temp_dir().join(format!("{}.db", unique("strangle_empty")));
    std::fs::write(&empty, b"").expect("empty file");
    let err = Store::open_read_only(&empty.display().to_string(), None)
        .await
        .expect_err("not a ledger");
    // The file is named, and the cause keeps its variant underneath.
    assert!(
        matches!(&err, StoreError::Open { source, .. } if matches!(**source, StoreError::NotALedger)),
        "{err}"
    );
    assert!(
        err.to_string().contains(&empty.display().to_string()),
        "{err}"
    );
    let err = Store::open_read_only(&empty.display().to_string(), Some("s"))
        .await
        .expect_err("schema on sqlite");
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
    let _ = std::fs::remove_file(&empty);
}
