//! Runs the strategy for five simulated days on the in-process simulated venue, with a
//! synthetic BTC chain (Black-76 on a seeded random walk), the SQLite ledger (the embedded
//! default) and a simulated clock — no keys, no network — then reads the ledger back and
//! prints the audit trail, every session and the KPIs.
//!
//! ```sh
//! cargo run -p strangle-examples --example sim_day [LEDGER.db]   # default target/sim_day.db
//! ```

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Asia::Kolkata;
use rust_decimal::Decimal;
use strangle_core::clock::ManualClock;
use strangle_core::engine::{Engine, EngineConfig};
use strangle_core::ledger::Mode;
use strangle_core::profile::Profile;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_core::sim::{SimExchange, VecFeed};
use strangle_examples::random_walk;
use strangle_store::{SessionFilter, SqliteStore, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .ok_or("bad start")?; // 00:00 IST
    let days = 5;
    let step = Duration::minutes(5);
    let n = (days * 24 * 60 / 5) as usize;
    let market = SyntheticMarket::btc();
    let feed: Vec<_> = random_walk(7, start, step, n, 82_000.0, 0.0025)
        .into_iter()
        .map(|(t, spot)| market.chain(t, spot, 0.45))
        .collect();

    let mut profile = Profile::named("btc-demo");
    profile.contracts_per_leg = Decimal::from(10);

    let clock = Arc::new(ManualClock::new(start));
    let venue = Arc::new(
        SimExchange::new(clock.clone(), profile.fees.clone(), Decimal::from(10_000))
            .with_feed(Box::new(VecFeed::new(feed))),
    );
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/sim_day.db".into());
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{ext}"));
    }
    let ledger = Arc::new(Store::Sqlite(
        SqliteStore::open(std::path::Path::new(&path)).await?,
    ));
    let config = EngineConfig {
        mode: Mode::Sim,
        poll_interval: Duration::seconds(30),
        adopt: false,
        ioc_entries: false,
    };
    let (mut engine, _handle) = Engine::start(
        profile,
        config,
        venue.clone(),
        ledger.clone(),
        clock.clone(),
    )
    .await?;
    engine.run_until(Some(start + Duration::days(days))).await?;

    ledger.flush().await?;

    // Everything below is read back from the ledger file.
    let all = ledger.all_sessions(&SessionFilter::default()).await?;
    println!("ledger: {path} ({} sessions)\n", all.len());
    println!("audit trail (IST):");
    for s in &all {
        let Some(d) = ledger.session_detail(&s.session_id).await? else {
            continue;
        };
        for e in &d.events {
            println!(
                "  {}  {:<12} {}",
                e.at.with_timezone(&Kolkata).format("%a %d %b %H:%M:%S"),
                e.kind,
                e.detail
            );
        }
    }
    println!("\nsessions:");
    println!(
        "  {:<16} {:<20} {:<20} {:<14} {:>10} {:>8} {:>10}",
        "session", "call", "put", "exit", "premium", "fees", "net USD"
    );
    for s in &all {
        println!(
            "  {:<16} {:<20} {:<20} {:<14} {:>10} {:>8} {:>10}",
            s.session_id,
            s.legs.first().map_or("", |g| g.symbol.as_str()),
            s.legs.get(1).map_or("", |g| g.symbol.as_str()),
            s.exit_reason
                .map(|r| r.to_string())
                .unwrap_or_else(|| format!("{:?}", s.state)),
            s.pnl.premium.round_dp(4),
            s.pnl.fees.round_dp(4),
            s.pnl.net.round_dp(4),
        );
    }
    let a = ledger.analytics(&SessionFilter::default()).await?;
    println!(
        "\nnet {} USD (gross {}, fees {}), win rate {} %, max drawdown {} USD; venue cash {} USD",
        a.totals.net.round_dp(4),
        a.totals.gross.round_dp(4),
        a.totals.fees.round_dp(4),
        a.outcomes.win_rate_pct.unwrap_or_default().round_dp(1),
        a.max_drawdown.round_dp(4),
        venue.cash().round_dp(4)
    );
    Ok(())
}
