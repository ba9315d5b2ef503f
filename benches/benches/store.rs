//! Criterion benches of ledger appends: PnL marks group-committed on SQLite (WAL,
//! `synchronous = FULL`) and batched on PostgreSQL, and single durable audit events on SQLite.
//! PostgreSQL is read from `STRANGLE_TEST_PG_URL` (default the local `test` database); its
//! bench is skipped with a message when the server is not reachable.

#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;
use strangle_core::ledger::{AuditEvent, Ledger, PnlMark};
use strangle_core::pnl::SessionPnl;
use strangle_store::{PgStore, SqliteStore, Store};
use tokio::runtime::Runtime;

fn mark(i: u64) -> PnlMark {
    PnlMark {
        session_id: strangle_core::ids::SessionId::new("bench-session").expect("a valid id"),
        at: Utc::now(),
        pnl: SessionPnl {
            premium: Decimal::new(9_000, 3),
            gross: Decimal::from(i),
            fees: Decimal::new(99, 2),
            net: Decimal::from(i),
        },
        close_now_net: Some(Decimal::from(i) - Decimal::ONE),
        trailing_level: Some(Decimal::from(25)),
        spot: Some(Decimal::new(820_005, 1)),
    }
}

fn appends(c: &mut Criterion, name: &str, rt: &Runtime, store: Arc<Store>) {
    let mut g = c.benchmark_group(format!("ledger/{name}"));
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    let s = store.clone();
    g.bench_function("mark_group_commit", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for i in 0..iters {
                    s.record_mark(&mark(i)).await.expect("mark");
                }
                s.flush().await.expect("flush");
                t.elapsed()
            })
        })
    });
    if name == "sqlite" {
        let s = store.clone();
        g.bench_function("durable_event", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let t = Instant::now();
                    for i in 0..iters {
                        let e = AuditEvent {
                            at: Utc::now(),
                            profile: "bench".into(),
                            session_id: None,
                            kind: strangle_core::audit::EventKind::Unknown("bench".into()),
                            detail: i.to_string(),
                        };
                        s.record_event(&e).await.expect("event");
                    }
                    t.elapsed()
                })
            })
        });
    }
    g.finish();
}

fn ledgers(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let path = std::env::temp_dir().join(format!("strangle_bench_{}.db", std::process::id()));
    let sqlite = Arc::new(Store::Sqlite(
        rt.block_on(SqliteStore::open(&path)).expect("sqlite"),
    ));
    appends(c, "sqlite", &rt, sqlite);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }

    let url = std::env::var("STRANGLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", std::process::id());
    match rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(5),
            PgStore::open_in_schema(&url, Some(&schema)),
        )
        .await
    }) {
        Ok(Ok(pg)) => {
            appends(c, "postgres", &rt, Arc::new(Store::Postgres(pg)));
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                        .execute(&pool)
                        .await;
                }
            });
        }
        _ => eprintln!(
            "skipping the PostgreSQL bench: no server at {url} (set STRANGLE_TEST_PG_URL)"
        ),
    }
}

criterion_group!(benches, ledgers);
criterion_main!(benches);
