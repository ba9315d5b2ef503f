//! `strangle check --orders` against `strangle sim-server`: every step passes on a market
//! that behaves, and on one set to misbehave the step that meets it fails with a line saying
//! what the market answered, and nothing is left open that could be cancelled.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::Dir;
use rust_decimal::Decimal;
use strangle_delta::api::DeltaClient;
use strangle_delta::wire::{CreateOrder, OrderType, Side};
use strangle_delta::Environment;
use strangle_delta_market::demo_credentials;

/// One line of the report: outcome and detail, by step name.
type Lines = HashMap<String, (String, String)>;

/// Runs `check --orders` against `url`; returns its exit code and its lines.
fn check(d: &Dir, url: &str) -> (Option<i32>, Lines, String) {
    check_with(d, url, &[])
}

/// [`check`] with more environment variables.
fn check_with(d: &Dir, url: &str, env: &[(&str, &str)]) -> (Option<i32>, Lines, String) {
    let profile = d.write("p.toml", "name = \"preflight\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_strangle"))
        .envs(env.iter().copied())
        .arg("--ledger")
        .arg(d.ledger())
        .args(["check", "--orders", "--env", url, "--config"])
        .arg(&profile)
        // The local market's public demo credentials (see README), not a real secret.
        .env("STRANGLE_DELTA_API_KEY", "sim-key")
        .env("STRANGLE_DELTA_API_SECRET", "sim-secret-not-for-real-money")
        .output()
        .expect("check runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines = text
        .lines()
        .filter_map(|l| {
            let (tag, rest) = l.split_once("  ")?;
            let rest = rest.trim_start();
            let name_end = [
                "dead-man arm",
                "dead-man disarm",
                "order place",
                "order lookup",
                "unknown lookup",
                "duplicate id",
                "order cancel",
                "order confirm",
                "clean-up order",
                "clean-up probes",
                "stop order",
                "dead-man stop",
                "positions",
                "fills",
                "fee rates",
                "profile",
                "public API",
                "option chain",
                "auth",
                "wallet",
                "websocket",
                "clock skew",
            ]
            .into_iter()
            .find(|n| rest.starts_with(n))?;
            Some((
                name_end.to_string(),
                (tag.to_string(), rest[name_end.len()..].trim().to_string()),
            ))
        })
        .collect();
    (out.status.code(), lines, text)
}

fn client(url: &str) -> DeltaClient {
    DeltaClient::new(Environment::local(url), Some(demo_credentials())).expect("client")
}

fn tag<'a>(lines: &'a Lines, step: &str, text: &str) -> &'a str {
    lines
        .get(step)
        .map(|(t, _)| t.as_str())
        .unwrap_or_else(|| panic!("no line for {step}:\n{text}"))
}

fn detail<'a>(lines: &'a Lines, step: &str) -> &'a str {
    lines.get(step).map_or("", |(_, d)| d.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn check_orders_passes_against_a_market_that_behaves_and_leaves_nothing_open() {
    let d = Dir::new("check_orders_ok");
    let (_server, url, _) = common::sim_server();
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(0), "{text}");
    for step in [
        "fee rates",
        "dead-man arm",
        "unknown lookup",
        "order place",
        "order lookup",
        "duplicate id",
        "order cancel",
        "order confirm",
        "stop order",
        "dead-man stop",
        "clean-up probes",
        "positions",
        "fills",
        "dead-man disarm",
    ] {
        assert_eq!(tag(&lines, step, &text), "PASS", "{step}:\n{text}");
    }
    assert!(
        detail(&lines, "stop order").contains("state pending"),
        "{text}"
    );
    assert!(
        detail(&lines, "dead-man stop").contains("spared the untriggered stop"),
        "{text}"
    );
    assert!(detail(&lines, "order place").contains("post-only buy 1"));
    assert!(
        detail(&lines, "unknown lookup").contains(r#"HTTP 404 {"success":false"#),
        "the answer is printed as it came: {text}"
    );
    assert!(
        detail(&lines, "order lookup").contains("found by client id after"),
        "{text}"
    );
    assert!(
        detail(&lines, "duplicate id").contains("duplicate_client_order_id"),
        "{text}"
    );
    let c = client(&url);
    assert!(c.open_orders(&[]).await.expect("open orders").is_empty());
    // The test order exists, cancelled, unfilled.
    let coid = detail(&lines, "order place")
        .split(" as ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .expect("client id")
        .to_string();
    let o = c
        .order_by_client_id(&coid)
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(o.state, "cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_orders_fails_step_by_step_against_a_misbehaving_market() {
    // Refused placements: the placement fails with Delta's code, the rest of the order
    // path is skipped, nothing is left open.
    let d = Dir::new("check_orders_bad");
    let (server, url, banner) = common::sim_server_with(&["--misbehave", "reject-orders"]);
    assert!(banner
        .iter()
        .any(|l| l.contains("misbehaving   reject-orders")));
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(tag(&lines, "order place", &text), "FAIL");
    assert!(detail(&lines, "order place").contains("insufficient_margin"));
    assert_eq!(tag(&lines, "order lookup", &text), "SKIP");
    assert_eq!(tag(&lines, "dead-man disarm", &text), "PASS");
    assert!(!lines.contains_key("clean-up order"), "{text}");
    drop(server);

    // Orders never found by client id: lookup and confirmation fail; the cancel by Delta's
    // id still works, and the clean-up proves nothing is open.
    let (server, url, _) = common::sim_server_with(&["--misbehave", "lose-orders"]);
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(tag(&lines, "order lookup", &text), "FAIL");
    assert!(detail(&lines, "order lookup").contains("has no order"));
    assert_eq!(tag(&lines, "order cancel", &text), "PASS");
    assert_eq!(tag(&lines, "order confirm", &text), "FAIL");
    assert_eq!(tag(&lines, "clean-up order", &text), "PASS");
    assert!(client(&url)
        .open_orders(&[])
        .await
        .expect("open")
        .is_empty());
    drop(server);

    // Cancels refused: the order stays open, the clean-up says so and names it, and the
    // heartbeat is left armed so that the market cancels it.
    let (server, url, _) = common::sim_server_with(&["--misbehave", "refuse-cancels"]);
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(tag(&lines, "order cancel", &text), "FAIL");
    assert!(detail(&lines, "order cancel").contains("open_order_not_found"));
    assert_eq!(tag(&lines, "clean-up order", &text), "FAIL");
    assert!(detail(&lines, "clean-up order").contains("still open"));
    assert_eq!(tag(&lines, "dead-man disarm", &text), "FAIL");
    assert!(detail(&lines, "dead-man disarm").contains("left armed"));
    assert_eq!(
        client(&url).open_orders(&[]).await.expect("open").len(),
        1,
        "the line is true: the order is open"
    );
    drop(server);

    // Heartbeats refused: arming fails, and nothing is placed without the switch that backs
    // the test order (it used to place the order all the same).
    let (server, url, _) = common::sim_server_with(&["--misbehave", "refuse-heartbeats"]);
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(tag(&lines, "dead-man arm", &text), "FAIL");
    assert!(detail(&lines, "dead-man arm").contains("503"));
    for step in [
        "order place",
        "order lookup",
        "order cancel",
        "order confirm",
    ] {
        assert_eq!(tag(&lines, step, &text), "SKIP", "{step}: {text}");
        assert!(detail(&lines, step).contains("not armed"), "{text}");
    }
    assert!(
        client(&url)
            .open_orders(&[])
            .await
            .expect("open")
            .is_empty(),
        "no order at the venue"
    );
    drop(server);

    // Position rows without product: with a short open, the positions step fails naming the
    // row as the market sent it.
    let (server, url, _) = common::sim_server_with(&["--misbehave", "bare-positions"]);
    let c = client(&url);
    let t = c.tickers("BTC", None).await.expect("tickers");
    let bid = t
        .iter()
        .find_map(|t| {
            let q = t.quotes.as_ref()?;
            Some((t.product_id?, q.best_bid.filter(|b| *b > Decimal::ZERO)?))
        })
        .expect("a contract with a bid");
    let sold = c
        .place_order(&CreateOrder {
            product_id: Some(bid.0),
            product_symbol: None,
            size: 1,
            side: Side::Sell,
            order_type: OrderType::LimitOrder,
            limit_price: Some(bid.1),
            time_in_force: Some("gtc".into()),
            post_only: Some(false),
            reduce_only: Some(false),
            client_order_id: Some("opened-by-hand".into()),
            ..Default::default()
        })
        .await
        .expect("sold");
    assert_eq!(sold.state, "closed", "filled at the bid");
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(tag(&lines, "positions", &text), "FAIL");
    assert!(
        detail(&lines, "positions").contains("names no known product"),
        "{text}"
    );
    drop(server);
}

/// Ctrl-C while the test order is open: the clean-up still cancels it and disarms the
/// heartbeat, and the report says it was interrupted.
#[tokio::test(flavor = "multi_thread")]
async fn check_orders_interrupted_leaves_nothing_open() {
    let d = Dir::new("check_orders_interrupt");
    let (_server, url, _) = common::sim_server_with(&["--misbehave", "slow"]);
    let profile = d.write("p.toml", "name = \"preflight\"\n");
    let mut run = common::Proc(
        Command::new(env!("CARGO_BIN_EXE_strangle"))
            .arg("--ledger")
            .arg(d.ledger())
            .args(["check", "--orders", "--env", &url, "--config"])
            .arg(&profile)
            .env("STRANGLE_DELTA_API_KEY", "sim-key")
            .env("STRANGLE_DELTA_API_SECRET", "sim-secret-not-for-real-money")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("check starts"),
    );
    // Wait until the test order rests at the market (each answer takes 300 ms, so the
    // lookup and the cancel are still to come), then interrupt.
    let c = client(&url);
    let mut seen = false;
    for _ in 0..400 {
        if !c.open_orders(&[]).await.expect("open").is_empty() {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(seen, "the test order was placed");
    run.interrupt();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut run.stdout.take().expect("stdout"), &mut text)
        .expect("output");
    let status = run.wait().expect("exits");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  interrupted"), "{text}");
    assert!(text.contains("PASS  clean-up order"), "{text}");
    assert!(text.contains("PASS  dead-man disarm"), "{text}");
    assert!(c.open_orders(&[]).await.expect("open").is_empty());
}

#[test]
fn check_orders_on_production_needs_live() {
    let d = Dir::new("check_orders_live");
    let profile = d.write("p.toml", "name = \"preflight\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_strangle"))
        .arg("--ledger")
        .arg(d.ledger())
        .args(["check", "--orders", "--env", "india", "--config"])
        .arg(&profile)
        .env_remove("STRANGLE_DELTA_API_KEY")
        .output()
        .expect("check runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("--live") && err.contains("india-testnet"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing was checked or sent");
}

/// A market whose dead-man switch cancels untriggered stops too: the probe says so, and fails
/// until the operator says so as well (`STRANGLE_DEADMAN_CANCELS_STOPS=yes`).
#[tokio::test(flavor = "multi_thread")]
async fn check_orders_measures_what_the_dead_man_switch_does_to_a_stop() {
    let d = Dir::new("check_orders_stops");
    let (_server, url, _) = common::sim_server_with(&["--misbehave", "cancel-stops"]);
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(tag(&lines, "stop order", &text), "PASS");
    assert_eq!(tag(&lines, "dead-man stop", &text), "FAIL");
    assert!(
        detail(&lines, "dead-man stop").contains("set STRANGLE_DEADMAN_CANCELS_STOPS=yes"),
        "{text}"
    );
    let (code, lines, text) = check_with(&d, &url, &[("STRANGLE_DEADMAN_CANCELS_STOPS", "yes")]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(tag(&lines, "dead-man stop", &text), "PASS");
    assert!(
        detail(&lines, "dead-man stop").contains("arm no switch"),
        "{text}"
    );
    assert!(client(&url)
        .open_orders(&[])
        .await
        .expect("open")
        .is_empty());
}

/// A venue whose lookup finds a new order only after 7 s: the check waits for it, says how
/// long it took, and names the setting that covers it (a warning: the check still passes).
#[tokio::test(flavor = "multi_thread")]
async fn check_orders_measures_how_soon_a_new_order_is_found() {
    let d = Dir::new("check_orders_lag");
    let (_server, url, _) = common::sim_server_with(&["--misbehave", "lag-lookups"]);
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(tag(&lines, "order lookup", &text), "WARN", "{text}");
    let said = detail(&lines, "order lookup");
    assert!(said.contains("found by client id after"), "{text}");
    assert!(
        said.contains("set STRANGLE_VISIBILITY_LAG_SECS to"),
        "the setting is named: {text}"
    );
    assert!(client(&url)
        .open_orders(&[])
        .await
        .expect("open")
        .is_empty());
}

/// `check` shows the fee rates Delta's products carry beside the profile's, and warns when
/// they differ (live and paper engines use Delta's; backtests and sims the profile's).
#[test]
fn check_warns_when_the_profile_s_fees_differ_from_the_products() {
    let d = Dir::new("check_fees");
    let (_server, url, _) = common::sim_server();
    let profile = d.write(
        "p.toml",
        "name = \"fees\"\n[fees]\ntaker_rate_pct = 0.05\nmaker_rate_pct = 0.03\npremium_cap_pct = 10\ntax_pct = 18\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_strangle"))
        .arg("--ledger")
        .arg(d.ledger())
        .args(["check", "--env", &url, "--config"])
        .arg(&profile)
        .env_remove("STRANGLE_DELTA_API_KEY")
        .env_remove("STRANGLE_DELTA_API_SECRET")
        .output()
        .expect("check runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text
        .lines()
        .find(|l| l.contains("fee rates"))
        .unwrap_or_else(|| panic!("no fee rates line:\n{text}"));
    assert!(line.starts_with("WARN"), "{line}");
    assert!(
        line.contains("taker 0.03 %")
            && line.contains("taker_rate_pct 0.05 in the profile, 0.03 at Delta"),
        "{line}"
    );
}

/// A venue that accepts a second order with a client id in use: the check says so (a
/// warning: strangle never reuses one), cancels the duplicate, and leaves nothing open.
#[tokio::test(flavor = "multi_thread")]
async fn check_orders_says_when_the_venue_accepts_a_reused_client_id() {
    let d = Dir::new("check_orders_dup");
    let (_server, url, _) = common::sim_server_with(&["--misbehave", "accept-duplicates"]);
    let (code, lines, text) = check(&d, &url);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(tag(&lines, "duplicate id", &text), "WARN", "{text}");
    assert!(
        detail(&lines, "duplicate id").contains("was accepted"),
        "{text}"
    );
    assert_eq!(tag(&lines, "order confirm", &text), "PASS", "{text}");
    assert!(client(&url)
        .open_orders(&[])
        .await
        .expect("open")
        .is_empty());
}
