//! Crash and restart: the `strangle run` process, trading live on the Delta-compatible local
//! market (real HTTP, the market in this test process so it outlives the child), is killed
//! with SIGKILL at many points of a session — before and during the entry, while the strangle
//! is open, during the exit, and while an order's answer is held in flight — then started
//! again on the same SQLite ledger. After the restarted process has finished the session
//! (flattening on Ctrl-C where the kill left the strangle open), the invariants must hold:
//! no client order id sent twice, every venue order in the ledger, the ledger's fills are the
//! venue's, one strangle for the day, flat at the venue, PnL equal to the fills and to the
//! venue's cash.
//!
//! `STRANGLE_CRASH_POINTS=all` (the default) runs every point; a number runs the first n.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use strangle_core::audit::EventKind;

use common::{entry_0930_ist, Dir, Proc};
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, ScaledClock};
use strangle_core::ledger::{Ledger, OrderPurpose, SessionState};
use strangle_core::model::{OrderState, Quote, Side, TimeInForce, Underlying};
use strangle_core::risk::ExitReason;
use strangle_core::{Execution, MarketData};
use strangle_delta_market::{
    FaultKind, FaultRule, LocalServer, MarketSource, ServerConfig, DEMO_API_KEY, DEMO_API_SECRET,
};
use strangle_store::Store;

/// Where in the session the first process dies.
#[derive(Debug, Clone, Copy)]
enum Point {
    /// `ms` after the process printed that it runs, before any order.
    Start { ms: u64 },
    /// `ms` after the venue received its `n`-th order (1–2 entry, 3–4 exit).
    AfterOrder { n: usize, ms: u64 },
    /// While the venue holds the answer to the `n`-th order (placed, not yet answered).
    InFlight { n: usize },
    /// `ms` after the strangle was recorded open.
    Open { ms: u64 },
    /// `ms` after Ctrl-C asked for the exit.
    Exiting { ms: u64 },
}

fn points() -> Vec<Point> {
    let mut v = Vec::new();
    for ms in [0, 150, 400] {
        v.push(Point::Start { ms });
    }
    for n in 1..=2 {
        for ms in [0, 30, 120, 400] {
            v.push(Point::AfterOrder { n, ms });
        }
        v.push(Point::InFlight { n });
    }
    for ms in [0, 300, 900, 1_800] {
        v.push(Point::Open { ms });
    }
    for ms in [0, 40, 120, 300, 700] {
        v.push(Point::Exiting { ms });
    }
    for n in 3..=4 {
        for ms in [0, 60, 250] {
            v.push(Point::AfterOrder { n, ms });
        }
        v.push(Point::InFlight { n });
    }
    v
}

/// The market's clock starts at 09:30 IST, the profile's entry; the exit comes from Ctrl-C.
/// The default 24 h expiry buffer picks the next day's 12:00 UTC expiry (32 h out), whose
/// 500-wide strike grid has contracts in the delta band.
fn profile_toml() -> String {
    "name = \"crash\"\nentry_time = \"09:30\"\nentry_window_minutes = 40\n\
     exit_time = \"10:20\"\ncontracts_per_leg = \"3\"\n\
     [liquidity]\nmax_quote_age_secs = 60\n"
        .to_string()
}

struct Run {
    child: Proc,
    started: std::sync::mpsc::Receiver<()>,
}

fn spawn(dir: &Dir, url: &str) -> Run {
    spawn_with(dir, url, &[])
}

fn spawn_with(dir: &Dir, url: &str, env: &[(&str, &str)]) -> Run {
    let mut child = Proc(
        Command::new(env!("CARGO_BIN_EXE_strangle"))
            .envs(env.iter().copied())
            .arg("--ledger")
            .arg(dir.ledger())
            .args([
                "run", "--market", "live", "--live", "--poll", "1", "--env", url,
            ])
            .arg("--config")
            .arg(dir.path("p.toml"))
            .env("STRANGLE_DELTA_API_KEY", DEMO_API_KEY)
            .env("STRANGLE_DELTA_API_SECRET", DEMO_API_SECRET)
            .env_remove("STRANGLE_DELTA_CREDENTIALS_FILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strangle starts"),
    );
    let (tx, started) = std::sync::mpsc::channel();
    // Drain both pipes (a full pipe would stall the child); say when it runs.
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            let verbose = std::env::var("STRANGLE_CRASH_VERBOSE").is_ok();
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if verbose {
                    eprintln!("child: {line}");
                }
                if line.contains("running profile") {
                    let _ = tx.send(());
                }
            }
        });
    }
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
    }
    Run { child, started }
}

/// Waits (without blocking the runtime that serves the market) until the process runs.
async fn started(run: &mut Run) {
    for _ in 0..1200 {
        if run.started.try_recv().is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the next `pass` order placements through, then holds the answer to the one after for
/// 20 s (the venue has placed it; the client is still waiting when the process dies).
fn hold_order(server: &LocalServer, pass: usize) {
    let rule = |kind, n| FaultRule::new(Some("POST"), Some("/v2/orders"), kind, n);
    if pass > 0 {
        let n = u32::try_from(pass).unwrap_or(u32::MAX);
        server
            .faults()
            .add(rule(FaultKind::SlowAnswer(Duration::ZERO), n));
    }
    server
        .faults()
        .add(rule(FaultKind::SlowAnswer(Duration::from_secs(20)), 1));
}

/// Gives the process 10 s to end after an interrupt, then kills it.
async fn wait_exit(run: &mut Run) {
    for _ in 0..200 {
        if run.child.try_wait().ok().flatten().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    run.child.kill();
}

/// Polls `f` every 50 ms, at most `n` times.
async fn until<F: FnMut() -> bool>(what: &str, n: u32, mut f: F) -> Result<(), String> {
    for _ in 0..n {
        if f() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("never saw {what}"))
}

/// Waits until `f` has held on every check for `steady` checks in a row (50 ms apart): a
/// state the engine has settled in, not one it passes through (a venue stop being replaced
/// rests beside its successor for a step).
async fn until_steady<F: FnMut() -> bool>(
    what: &str,
    n: u32,
    steady: u32,
    mut f: F,
) -> Result<(), String> {
    let mut run = 0;
    for _ in 0..n {
        run = if f() { run + 1 } else { 0 };
        if run >= steady {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("never saw {what} hold for {steady} checks"))
}

async fn latest(db: &str) -> Option<strangle_core::ledger::SessionRecord> {
    let store = Store::open_read_only(db, None).await.ok()?;
    store.latest_session("crash").await.ok().flatten()
}

async fn state(db: &str) -> Option<SessionState> {
    latest(db).await.map(|s| s.state)
}

async fn wait_state(db: &str, want: &[SessionState], n: u32) -> Result<(), String> {
    for _ in 0..n {
        if state(db).await.is_some_and(|s| want.contains(&s)) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "the session never reached {want:?} (now {:?})",
        state(db).await
    ))
}

/// A BTC market (a chain every 200 ms) on a real-time clock from 09:30 IST.
async fn local_market(clock: Arc<ScaledClock>) -> Result<LocalServer, String> {
    let mut cfg = ServerConfig {
        clock,
        ..ServerConfig::default()
    };
    if let MarketSource::Synthetic { step, markets, .. } = &mut cfg.market {
        *step = Duration::from_millis(200);
        markets.truncate(1); // BTC
    }
    LocalServer::start(cfg).await.map_err(|e| e.to_string())
}

async fn one_point(i: usize, p: Point) -> Result<String, String> {
    let dir = Dir::new(&format!("crash{i}"));
    dir.write("p.toml", &profile_toml());
    let server = local_market(Arc::new(ScaledClock::new(entry_0930_ist(), 1.0))).await?;
    let url = server.base_url();
    let db = dir.ledger();
    // Entry and exit orders (the legs' venue stops are not counted).
    let orders = || {
        server
            .venue()
            .requests()
            .iter()
            .filter(|r| r.stop.is_none())
            .count()
    };
    if let Point::InFlight { n } = p {
        if n <= 2 {
            hold_order(&server, n - 1);
        }
    }
    let mut first = spawn(&dir, &url);
    started(&mut first).await;
    let phase_at_kill;
    match p {
        Point::Start { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            phase_at_kill = "entry";
        }
        Point::AfterOrder { n, ms } => {
            if n > 2 {
                wait_state(&db, &[SessionState::Open], 600).await?;
                first.child.interrupt();
            }
            until(&format!("order {n}"), 600, || orders() >= n).await?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            phase_at_kill = if n > 2 { "exit" } else { "entry" };
        }
        Point::InFlight { n } => {
            if n > 2 {
                wait_state(&db, &[SessionState::Open], 600).await?;
                hold_order(&server, n - 3);
                first.child.interrupt();
            }
            until(&format!("order {n}"), 600, || orders() >= n).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            phase_at_kill = if n > 2 { "exit" } else { "entry" };
        }
        Point::Open { ms } => {
            wait_state(&db, &[SessionState::Open], 600).await?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            phase_at_kill = "open";
        }
        Point::Exiting { ms } => {
            wait_state(&db, &[SessionState::Open], 600).await?;
            first.child.interrupt();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            phase_at_kill = "exit";
        }
    }
    first.child.kill();
    server.faults().clear();

    // The restart: resume, finish the session (Ctrl-C flattens an open strangle), stop.
    let mut second = spawn(&dir, &url);
    started(&mut second).await;
    let mut closed = false;
    let mut asked = false;
    for _ in 0..900 {
        match state(&db).await {
            Some(SessionState::Closed) => {
                closed = true;
                break;
            }
            // One Ctrl-C: flatten and stop (a second one would exit at once, legs open).
            Some(SessionState::Open) if !asked => {
                second.child.interrupt();
                asked = true;
            }
            _ => {}
        }
        if second.child.try_wait().ok().flatten().is_some() {
            closed = state(&db).await == Some(SessionState::Closed);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !asked {
        second.child.interrupt();
    }
    wait_exit(&mut second).await;
    if !closed {
        return Err(format!(
            "the session was not closed after the restart ({:?})",
            state(&db).await
        ));
    }
    check(&server, &db).await?;
    server.shutdown();
    Ok(phase_at_kill.to_string())
}

async fn check(server: &LocalServer, db: &str) -> Result<(), String> {
    let venue = server.venue();
    let store = Arc::new(
        Store::open_read_only(db, None)
            .await
            .map_err(|e| format!("ledger: {e}"))?,
    );
    let sessions = store
        .all_sessions(&strangle_store::SessionFilter::default())
        .await
        .map_err(|e| e.to_string())?;
    if sessions.len() != 1 {
        return Err(format!("{} sessions for one day", sessions.len()));
    }
    let s = &sessions[0];
    let detail = store
        .session_detail(&s.session_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no detail")?;
    let mut seen = HashSet::new();
    for r in venue.requests() {
        if !seen.insert(r.client_order_id.clone()) {
            return Err(format!("{} was sent twice", r.client_order_id));
        }
        if !detail
            .orders
            .iter()
            .any(|o| o.intent.request.client_order_id == r.client_order_id)
        {
            return Err(format!(
                "venue order {} is not in the ledger",
                r.client_order_id
            ));
        }
    }
    let venue_fills = venue.fills();
    if venue_fills.len() != detail.fills.len() {
        return Err(format!(
            "the venue has {} fills, the ledger {}",
            venue_fills.len(),
            detail.fills.len()
        ));
    }
    for f in &detail.fills {
        if !venue_fills.iter().any(|v| {
            v.fill_id == f.fill_id && v.price == f.price && v.size == f.size && v.fee == f.fee
        }) {
            return Err(format!("ledger fill {} is not the venue's", f.fill_id));
        }
    }
    let positions = venue
        .positions(Underlying::Btc)
        .await
        .map_err(|e| e.to_string())?;
    if !positions.is_empty() || s.legs.iter().any(|g| !g.book.open().is_zero()) {
        return Err(format!(
            "not flat: venue {positions:?}, ledger {:?}",
            s.legs
        ));
    }
    let size = |sym: &str| {
        s.legs
            .iter()
            .find(|g| g.symbol == sym)
            .map(|g| g.contract_size)
            .unwrap_or_default()
    };
    let from_fills: Decimal = detail
        .fills
        .iter()
        .map(|f| {
            let sign = if f.side == Side::Sell {
                Decimal::ONE
            } else {
                -Decimal::ONE
            };
            sign * f.price * f.size * size(&f.symbol) - f.fee
        })
        .sum();
    if from_fills != s.pnl.net {
        return Err(format!(
            "net {} but the fills add up to {from_fills}",
            s.pnl.net
        ));
    }
    if venue.cash() != Decimal::from(10_000) + s.pnl.net {
        return Err(format!(
            "venue cash {} but the ledger's net {}",
            venue.cash(),
            s.pnl.net
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_every_point_of_a_session_and_restarted_on_the_same_ledger() {
    let all = points();
    let n = match std::env::var("STRANGLE_CRASH_POINTS").ok().as_deref() {
        None | Some("all") => all.len(),
        Some(v) => v.parse().unwrap_or(all.len()).min(all.len()),
    };
    let only: Option<usize> = std::env::var("STRANGLE_CRASH_POINT")
        .ok()
        .and_then(|v| v.parse().ok());
    assert!(all.len() >= 30, "at least 30 distinct kill points");
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut by_phase = std::collections::BTreeMap::<String, usize>::new();
    // Two points at a time, each with its own market, ledger and processes.
    for chunk in all[..n].chunks(2).enumerate().map(|(c, ps)| {
        ps.iter()
            .enumerate()
            .map(|(k, p)| (c * 2 + k, *p))
            .collect::<Vec<_>>()
    }) {
        let handles: Vec<_> = chunk
            .into_iter()
            .filter(|(i, _)| only.is_none_or(|o| o == *i))
            .map(|(i, p)| tokio::spawn(async move { (i, p, one_point(i, p).await) }))
            .collect();
        for h in handles {
            let (i, p, r) = h.await.expect("point task");
            match r {
                Ok(phase) => *by_phase.entry(phase).or_default() += 1,
                Err(e) => failures.push(format!("point {i} {p:?}: {e}")),
            }
        }
    }
    let survived: usize = by_phase.values().sum();
    println!(
        "crash points: {} run, {survived} survived (killed during {by_phase:?}), {} failed; {:.1} s",
        survived + failures.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The process is killed (SIGKILL) with the strangle open and both legs' stops resting at the
/// venue; its dead-man heartbeat lapses; the market runs through the call's stop. The venue
/// buys the call back while nothing of strangle runs; the restarted process books that fill,
/// closes the put and ends the session as `venue_stop`, with the ledger equal to the venue.
///
/// `strict`: the local market's switch also cancels untriggered stops, and strangle is told
/// so (`STRANGLE_DEADMAN_CANCELS_STOPS=yes`): it arms no switch and its entries never rest,
/// so the stops survive the death all the same.
/// The session's audit trail, one line per event.
async fn trail(db: &str) -> String {
    let Some(s) = latest(db).await else {
        return "no session".into();
    };
    let Ok(store) = Store::open_read_only(db, None).await else {
        return "no ledger".into();
    };
    match store.session_detail(&s.session_id).await {
        Ok(Some(d)) => d
            .events
            .iter()
            .map(|e| format!("{}: {}", e.kind, e.detail))
            .chain(d.orders.iter().map(|o| {
                let r = &o.intent.request;
                format!(
                    "order {} {:?} {:?} @ {:?}: {:?} {} {:?}",
                    r.client_order_id,
                    r.side,
                    r.time_in_force,
                    r.limit_price,
                    o.state,
                    o.filled_size,
                    o.reason
                )
            }))
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "no detail".into(),
    }
}

async fn venue_stop_while_dead(strict: bool) -> Result<(), String> {
    let dir = Dir::new(if strict { "vstop-strict" } else { "vstop" });
    // IOC entries on this fast-moving market: the fallback reaches 20 USD under the bid, so
    // the entry does not fail for want of a resting order.
    let ioc = if strict {
        "[execution]\nioc_ticks = 200\n"
    } else {
        ""
    };
    dir.write("p.toml", &format!("{}{ioc}", profile_toml()));
    let clock = Arc::new(ScaledClock::new(entry_0930_ist(), 1.0));
    let server = local_market(clock.clone()).await?;
    server.faults().set_deadman_cancels_stops(strict);
    let env: &[(&str, &str)] = if strict {
        &[("STRANGLE_DEADMAN_CANCELS_STOPS", "yes")]
    } else {
        &[]
    };
    let url = server.base_url();
    let db = dir.ledger();
    let stops = || {
        server
            .venue()
            .open_orders()
            .iter()
            .filter(|o| o.state == OrderState::Pending)
            .count()
    };
    let mut first = spawn_with(&dir, &url, env);
    started(&mut first).await;
    if let Err(e) = wait_state(&db, &[SessionState::Open], 600).await {
        return Err(format!("{e}; audit trail: {}", trail(&db).await));
    }
    // Three engine steps (1 s each) with exactly the two legs' stops resting: a provisional
    // stop replaced once the entry is complete has been replaced by then.
    until_steady("both legs' venue stops", 1200, 60, || stops() == 2).await?;
    first.child.kill();

    // The switch fires as if its 30 s had passed (in strict mode none was armed).
    if strict {
        if server.deadman_armed() {
            return Err("a dead-man switch was armed that would take the stops".into());
        }
    } else {
        let fired = server.deadman_fired();
        server.lapse_heartbeats();
        until("the dead-man switch to fire", 200, || {
            server.deadman_fired() > fired
        })
        .await?;
    }
    if stops() != 2 {
        return Err(format!(
            "{} venue stops left after the process died",
            stops()
        ));
    }
    let working: Vec<_> = server
        .venue()
        .open_orders()
        .into_iter()
        .filter(|o| o.state == OrderState::Open)
        .map(|o| o.client_order_id.to_string())
        .collect();
    if !working.is_empty() {
        return Err(format!("orders left working: {working:?}"));
    }

    // The call runs through its stop.
    let s = latest(&db).await.ok_or("no session")?;
    let call = &s.legs[0];
    let level = call
        .stop_price
        .ok_or("the call's stop level is not recorded")?;
    let quote = server
        .venue()
        .quotes(std::slice::from_ref(&call.symbol))
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("no quote for the call")?;
    let mark = level + call.tick_size * Decimal::from(10);
    server.venue().push_quotes(vec![Quote {
        timestamp: clock.now(),
        mark,
        bid: Some(mark - call.tick_size),
        ask: Some(mark + call.tick_size),
        ..quote.clone()
    }]);
    let stop_fills = || {
        server.venue().catch_up();
        server
            .venue()
            .fills()
            .iter()
            .filter(|f| {
                f.client_order_id
                    .as_ref()
                    .is_some_and(|c| c.contains("-CS"))
            })
            .map(|f| f.size)
            .sum::<Decimal>()
    };
    if let Err(e) = until("the venue stop to buy the call back", 200, || {
        stop_fills() == call.book.open()
    })
    .await
    {
        let orders: Vec<_> = server
            .venue()
            .all_orders()
            .into_iter()
            .map(|o| format!("{} {:?} {}", o.client_order_id, o.state, o.filled_size()))
            .collect();
        return Err(format!(
            "{e}: level {level}, stop fills {} of {}, orders {orders:?}, fills {:?}",
            stop_fills(),
            call.book.open(),
            server.venue().fills()
        ));
    }

    // The restart books it and closes the put.
    let mut second = spawn_with(&dir, &url, env);
    started(&mut second).await;
    wait_state(&db, &[SessionState::Closed], 900).await?;
    second.child.interrupt();
    wait_exit(&mut second).await;
    check(&server, &db).await?;
    let s = latest(&db).await.ok_or("no session")?;
    if s.exit_reason != Some(ExitReason::VenueStop) {
        return Err(format!("closed as {:?}, not venue_stop", s.exit_reason));
    }
    let store = Store::open_read_only(&db, None)
        .await
        .map_err(|e| e.to_string())?;
    let detail = store
        .session_detail(&s.session_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no detail")?;
    if !detail.events.iter().any(|e| e.kind == EventKind::VenueStop) {
        return Err("no venue_stop event in the audit trail".into());
    }
    if strict
        && detail.orders.iter().any(|o| {
            o.intent.purpose == OrderPurpose::Entry
                && o.intent.request.time_in_force != TimeInForce::Ioc
        })
    {
        return Err("an entry order could rest with no dead-man switch".into());
    }
    server.shutdown();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_stop_closes_a_leg_while_the_process_is_dead() {
    venue_stop_while_dead(false)
        .await
        .expect("switch spares stops");
    venue_stop_while_dead(true)
        .await
        .expect("switch cancels stops");
}
