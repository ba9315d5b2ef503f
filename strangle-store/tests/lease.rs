//! The single-runner lock, tested with two processes: this test binary re-runs itself as the
//! holder, and the parent must be refused with the holder's name, then get the lock once the
//! holder is killed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use strangle_store::{Store, StoreError};

const CHILD_ENV: &str = "STRANGLE_LEASE_CHILD";

fn pg_url() -> String {
    std::env::var("STRANGLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Run only as the child: takes the lease and holds it until killed.
#[tokio::test]
#[ignore = "run by the two-process lease tests as their child process"]
async fn lease_holder_child() {
    let Ok(location) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(&location)
        .await
        .expect("child opens the ledger");
    // As a real run does (host:pid, a 30-s lease) or with a fixed name and a short lease.
    let real = std::env::var("STRANGLE_LEASE_CHILD_REAL").is_ok();
    let (holder, ttl) = if real {
        (strangle_store::default_holder(), Duration::from_secs(60))
    } else {
        ("child-process".to_string(), Duration::from_millis(600))
    };
    let _lease = store
        .acquire_lease("profile:btc@acct", &holder, ttl)
        .await
        .expect("child takes the lease");
    println!("ACQUIRED");
    tokio::time::sleep(Duration::from_secs(60)).await;
}

async fn two_processes(location: String) {
    let store = Store::open(&location)
        .await
        .expect("parent opens the ledger");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "lease_holder_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &location)
        .stdout(Stdio::piped())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("ACQUIRED") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the child took the lease");

    match store
        .acquire_lease("profile:btc@acct", "parent", Duration::from_millis(600))
        .await
    {
        Err(StoreError::Locked { holder, .. }) => assert_eq!(holder, "child-process"),
        other => panic!("a second instance must be refused, got {other:?}"),
    }
    // A different profile is not blocked.
    let other = store
        .acquire_lease("profile:eth@acct", "parent", Duration::from_millis(600))
        .await
        .expect("other lease");

    child.kill().expect("kill -9 the holder");
    let _ = child.wait();
    // PostgreSQL frees the lock when the connection dies; SQLite when the lease lapses.
    let mut got = None;
    for _ in 0..50 {
        match store
            .acquire_lease("profile:btc@acct", "parent", Duration::from_millis(600))
            .await
        {
            Ok(l) => {
                got = Some(l);
                break;
            }
            Err(StoreError::Locked { .. }) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
    let lease = got.expect("the lock is free once its holder died");
    assert_eq!(lease.holder(), "parent");
    lease.release().await.expect("release");
    other.release().await.expect("release");
    store
        .acquire_lease("profile:btc@acct", "third", Duration::from_millis(600))
        .await
        .expect("free after release");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lease_refuses_a_second_process() {
    let path = std::env::temp_dir().join(format!("strangle_lease_{}.db", std::process::id()));
    two_processes(path.display().to_string()).await;
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lease_refuses_a_second_process() {
    let url = pg_url();
    if let Err(e) = sqlx::PgPool::connect(&url).await {
        panic!("PostgreSQL tests need a server at {url} (set STRANGLE_TEST_PG_URL): {e}");
    }
    // Both processes work in a schema of their own, named in the URL.
    let schema = format!("lease_{}", std::process::id());
    strangle_store::PgStore::open_in_schema(&url, Some(&schema))
        .await
        .expect("schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    two_processes(format!("{url}{sep}options=-c%20search_path%3D{schema}")).await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .expect("drop");
}

/// A holder on this machine that was killed (SIGKILL: no release) holds nothing: a restart
/// takes its SQLite lease over at once instead of waiting out the 60-s TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holders_sqlite_lease_is_taken_over_at_once() {
    let path = std::env::temp_dir().join(format!("strangle_lease_dead_{}.db", std::process::id()));
    let location = path.display().to_string();
    let store = Store::open(&location).await.expect("ledger");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "lease_holder_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &location)
        .env("STRANGLE_LEASE_CHILD_REAL", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("ACQUIRED") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the child took the lease");
    let holder = format!("{}/restart", strangle_store::default_holder());
    match store
        .acquire_lease("profile:btc@acct", &holder, Duration::from_secs(60))
        .await
    {
        Err(StoreError::Locked { holder, .. }) => {
            assert!(holder.ends_with(&format!(":{}", child.id())), "{holder}")
        }
        other => panic!("a live holder keeps its lease, got {other:?}"),
    }
    child.kill().expect("kill -9 the holder");
    let _ = child.wait();
    let lease = store
        .acquire_lease("profile:btc@acct", &holder, Duration::from_secs(60))
        .await
        .expect("taken over without waiting for the TTL");
    assert_eq!(lease.holder(), holder);
    lease.release().await.expect("release");
    assert!(!strangle_store::lease::holder_is_dead("another-host:1"));
    assert!(!strangle_store::lease::holder_is_dead(
        &strangle_store::default_holder()
    ));
    drop(store);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
}
