//! The `strangle` binary driven as a process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

mod common;
use common::{entry_0930_ist, Dir, Proc};

fn strangle(dir: &Dir) -> Command {
    let mut c = Command::cargo_bin("strangle").expect("binary");
    c.env_remove("STRANGLE_DELTA_API_KEY")
        .env_remove("STRANGLE_DELTA_API_SECRET")
        .env_remove("STRANGLE_DELTA_CREDENTIALS_FILE");
    c.args(["--ledger", &dir.ledger()]);
    c
}

#[test]
fn version_and_help() {
    let d = Dir::new("version");
    strangle(&d)
        .arg("version")
        .assert()
        .success()
        .stdout(predicate::str::contains("commit").and(predicate::str::contains("strangle 0.")));
    strangle(&d)
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes"));
    for sub in ["run", "configs", "sessions", "sim-server", "version"] {
        strangle(&d).args([sub, "--help"]).assert().success();
    }
    strangle(&d).arg("frobnicate").assert().code(2);
    strangle(&d)
        .args(["run", "--market", "moon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("moon"));
}

#[test]
fn configs_lifecycle_with_clear_errors() {
    let d = Dir::new("configs");
    let a = d.write("a.toml", "name = \"alpha\"\ncontracts_per_leg = \"2\"\n");
    let b = d.write("b.json", r#"{"name": "beta", "underlying": "ETH"}"#);
    strangle(&d)
        .args(["configs", "create"])
        .arg(&a)
        .assert()
        .success()
        .stdout(predicate::str::contains("created profile alpha"));
    strangle(&d)
        .args(["configs", "create"])
        .arg(&b)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
    // A fraction where a percent is meant is accepted, with a warning naming the field.
    let frac = d.write("frac.toml", "name = \"gamma\"\nmax_profit_pct = \"0.8\"\n");
    strangle(&d)
        .args(["configs", "create"])
        .arg(&frac)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: max_profit_pct: 0.8 means 0.8 % of premium; for 80 % write 80",
        ));
    strangle(&d)
        .args(["configs", "create"])
        .arg(&a)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("already exists"));
    strangle(&d)
        .args(["configs", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("alpha").and(predicate::str::contains("beta")));
    strangle(&d)
        .args(["configs", "activate", "alpha"])
        .assert()
        .success();
    strangle(&d)
        .args(["configs", "delete", "alpha"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("active"));
    strangle(&d)
        .args(["configs", "delete", "beta"])
        .assert()
        .success();
    strangle(&d)
        .args(["configs", "show", "beta"])
        .assert()
        .code(4);
    let v = exported(&d, "alpha");
    assert_eq!(v["contracts_per_leg"], "2");
    let bad = d.write(
        "bad.toml",
        "name = \"x\"\n[delta_band]\nlow = 0.3\nhigh = 0.2\n",
    );
    strangle(&d)
        .args(["configs", "create"])
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("delta_band"));
    let typo = d.write("typo.toml", "name = \"x\"\ndelta_bnad = 1\n");
    strangle(&d)
        .args(["configs", "import"])
        .arg(&typo)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("delta_bnad"));
    let a2 = d.write("a2.toml", "name = \"alpha\"\ncontracts_per_leg = \"7\"\n");
    strangle(&d)
        .args(["configs", "import"])
        .arg(&a2)
        .assert()
        .success();
    strangle(&d)
        .args(["configs", "show", "alpha"])
        .assert()
        .success()
        .stdout(predicate::str::contains("contracts_per_leg = \"7\""));
}

#[test]
fn a_fast_forwarded_sim_run_then_its_sessions() {
    let d = Dir::new("run");
    let p = d.write("p.toml", "name = \"ff\"\ncontracts_per_leg = \"3\"\n");
    strangle(&d)
        .args([
            "run",
            "--fast-forward",
            "2d",
            "--start",
            "2026-03-09T18:30:00Z",
            "--config",
        ])
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 sessions"));
    let out = strangle(&d)
        .args(["sessions", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["total"], 2);
    let id = v["items"][0]["session_id"]
        .as_str()
        .expect("id")
        .to_string();
    strangle(&d)
        .args(["sessions", "show", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("orders:").and(predicate::str::contains("fills:")));
    // The PnL over time: a thinned table, every mark as CSV, the marks in JSON.
    let out = strangle(&d)
        .args(["sessions", "show", &id, "--marks", "--points", "12"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("marks ("))
        .expect("a marks heading");
    let (shown, total): (usize, usize) = {
        let inner = line.trim_start_matches("marks (").trim_end_matches("):");
        let (a, b) = inner.split_once(" of ").expect("n of m");
        (a.parse().expect("n"), b.parse().expect("m"))
    };
    assert!(shown <= 12 && total > shown, "{line}");
    let marks_csv = d.path("m.csv");
    strangle(&d)
        .args(["sessions", "marks", &id, "-o"])
        .arg(&marks_csv)
        .assert()
        .success();
    let rows = std::fs::read_to_string(&marks_csv).expect("csv");
    assert!(rows.starts_with("at,premium,gross,fees,net,close_now_net,trailing_level_pct,spot\n"));
    assert_eq!(rows.lines().count(), total + 1, "every mark");
    let out = strangle(&d)
        .args([
            "sessions", "show", &id, "--json", "--marks", "--points", "0",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["marks"].as_array().map(Vec::len), Some(total));
    assert_eq!(v["marks_total"], total);
    strangle(&d)
        .args(["sessions", "show", "nope"])
        .assert()
        .code(4);
    strangle(&d)
        .args(["sessions", "marks", "nope"])
        .assert()
        .code(4);
    let csv = d.path("s.csv");
    strangle(&d)
        .args(["sessions", "export", "-o"])
        .arg(&csv)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv").lines().count(),
        3
    );
    strangle(&d)
        .args(["sessions", "list", "--state", "weird"])
        .assert()
        .code(2);
}

#[test]
fn live_is_refused_without_confirmation_or_credentials_and_never_prints_the_secret() {
    let d = Dir::new("live");
    let p = d.write("p.toml", "name = \"live\"\n");
    strangle(&d)
        .args(["run", "--market", "live", "--config"])
        .arg(&p)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("--live"));
    strangle(&d)
        .args(["run", "--market", "live", "--live", "--config"])
        .arg(&p)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("STRANGLE_DELTA_API_KEY"));
    let secret = "s3cr3t-value-that-must-not-show";
    let a = strangle(&d)
        .env("STRANGLE_DELTA_API_SECRET", secret)
        .args(["run", "--market", "live", "--live", "--config"])
        .arg(&p)
        .assert()
        .code(6);
    let o = a.get_output();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!all.contains(secret), "{all}");
    assert!(all.contains("set both"), "{all}");
    strangle(&d)
        .args([
            "run",
            "--market",
            "paper",
            "--fast-forward",
            "1d",
            "--config",
        ])
        .arg(&p)
        .assert()
        .code(3);
    strangle(&d)
        .args(["run", "--market", "paper", "--speed", "60", "--config"])
        .arg(&p)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("on the sim market only"));
    for bad in ["0", "-1", "fast", "1e9"] {
        strangle(&d)
            .args(["run", &format!("--speed={bad}"), "--config"])
            .arg(&p)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--speed"));
    }
    // Notification settings are checked before anything runs.
    strangle(&d)
        .env("STRANGLE_WEBHOOK_URL", "not a url")
        .args(["run", "--fast-forward", "1h", "--config"])
        .arg(&p)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("STRANGLE_WEBHOOK_URL"));
}

fn spawn(dir: &Dir, args: &[&str], extra: &Path) -> Proc {
    Proc(
        StdCommand::new(assert_cmd::cargo::cargo_bin("strangle"))
            .args(["--ledger", &dir.ledger()])
            .args(args)
            .arg(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    )
}

#[test]
fn one_profile_never_runs_twice() {
    let d = Dir::new("lease");
    let p = d.write("p.toml", "name = \"solo\"\n");
    let start = entry_0930_ist().to_rfc3339();
    let mut first = spawn(
        &d,
        &["run", "--status-every", "0", "--start", &start, "--config"],
        &p,
    );
    let stderr = first.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("running profile") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the first run started");
    strangle(&d)
        .args(["run", "--config"])
        .arg(&p)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("already being traded by"));
    first.kill();
}

#[test]
fn sim_server_serves_the_delta_api() {
    let d = Dir::new("server");
    let (mut child, url, _) = common::sim_server();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let n = rt.block_on(async {
        let env = strangle_delta::Environment::local(&url);
        let c = strangle_delta::api::DeltaClient::new(
            env,
            Some(strangle_delta_market::demo_credentials()),
        )
        .expect("client");
        assert!(!c.wallet_balances().await.expect("signed call").is_empty());
        c.option_products().await.expect("products").len()
    });
    assert!(n > 0);
    child.kill();
    drop(d);
}

#[test]
fn check_reports_a_table_and_fails_on_any_failure() {
    let d = Dir::new("check");
    let good = d.write("good.toml", "name = \"ok\"\n");
    strangle(&d)
        .args(["check", "--env", "sim", "--config"])
        .arg(&good)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("PASS  websocket").and(predicate::str::contains("PASS  auth")),
        );
    // A stop within the round trip's cost is named (priced on the strangle the profile would
    // sell now, or against the capped fees when nothing is selectable).
    let tight = d.write("tight.toml", "name = \"tight\"\nmax_loss_pct = \"5\"\n");
    strangle(&d)
        .args(["check", "--env", "sim", "--config"])
        .arg(&tight)
        .assert()
        .success()
        .stdout(predicate::str::is_match("WARN  exit costs +max_loss_pct: 5 %").expect("regex"));
    // Entry gates: which close now, and why (a gate that closes is a choice, not a failure).
    let gated = d.write(
        "gated.toml",
        "name = \"gated\"\n[gates]\nweekdays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\nmin_atm_iv_pct = 500\n",
    );
    strangle(&d)
        .args(["check", "--env", "sim", "--config"])
        .arg(&gated)
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"WARN  entry gates +closed now: ATM IV is [0-9.]+ %; gates want at least 500 %",
            )
            .expect("regex"),
        );
    strangle(&d)
        .args(["check", "--env", "sim", "--config"])
        .arg(&good)
        .assert()
        .success()
        .stdout(predicate::str::is_match("SKIP  entry gates +none set").expect("regex"));
    let bad = d.write("bad.toml", "name = \"\"\n");
    strangle(&d)
        .args(["check", "--env", "sim", "--config"])
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  profile"));
    // Nothing listens there: the API checks fail, quickly and clearly.
    strangle(&d)
        .args(["check", "--env", "http://127.0.0.1:9", "--config"])
        .arg(&good)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  public API"));
}

#[test]
fn the_official_python_client_works_against_strangle_sim_server() {
    let py = std::env::var("STRANGLE_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = StdCommand::new(&py)
        .args(["-c", "import delta_rest_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs Python 3 with Delta's official client: `{py} -m pip install delta-rest-client requests` \
         (scripts/test installs it into target/pyenv), or point STRANGLE_PYTHON at a Python that has it"
    );
    let (mut child, url, _) = common::sim_server();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../strangle-delta/tests/python/official_client.py"
    );
    // The local market's public demo credentials (see README), not a real secret.
    let out = StdCommand::new(&py)
        .arg(script)
        .args([&url, "sim-key", "sim-secret-not-for-real-money"])
        .output()
        .expect("python runs");
    child.kill();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("all checks passed"),
        "{text}"
    );
}

/// `sim-server --start` sets the market's clock for every process trading on it: a paper run
/// against it lives on 10 March 2026 at 09:30 IST whatever the hour, and while its entry
/// window is open with nothing in the band, the status line says why and names the nearest
/// contracts.
#[test]
fn a_run_on_sim_server_follows_the_market_clock_and_says_why_it_waits() {
    let d = Dir::new("market_clock");
    let (_server, url, said) = common::sim_server();
    assert!(
        said.iter()
            .any(|l| l.contains("market clock  2026-03-10 09:30:0")),
        "{said:?}"
    );
    // No contract has |delta| in 0.01–0.011 on the synthetic grid.
    let p = d.write(
        "p.toml",
        "name = \"narrow\"\ndelta_band = { low = 0.01, high = 0.011 }\n",
    );
    let mut run = spawn(
        &d,
        &[
            "run",
            "--market",
            "paper",
            "--env",
            &url,
            "--poll",
            "1",
            "--status-every",
            "1",
            "--config",
        ],
        &p,
    );
    let stderr = run.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let found = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) if line.contains("not entering:") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    run.interrupt();
    let line = found.unwrap_or_else(|| panic!("no status line said why: {seen:?}"));
    assert!(line.contains("[10 Mar 09:3"), "the market's clock: {line}");
    assert!(
        line.contains("no |delta| in 0.01–0.011 (nearest: "),
        "the band and the nearest contracts: {line}"
    );
}

#[test]
fn configurations_of_the_original_platform_are_imported_with_their_mapping() {
    let d = Dir::new("seed");
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/seed/original-configs.json"
    );
    // A dry run prints the mapping and stores nothing.
    strangle(&d)
        .args(["configs", "import", "--dry-run", "--from-seed", seed])
        .assert()
        .success()
        .stdout(predicate::str::contains("dry run: not stored"));
    strangle(&d)
        .args(["configs", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no profiles"));
    let out = strangle(&d)
        .args(["configs", "import", "--from-seed", seed])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    for line in [
        "imported as profile btc-daily (id 1), active",
        "imported as profile eth-premium (id 2)",
        "0.4 read as a fraction: 40 % of premium",
        "26-12-2025: a fixed date is not carried",
        "price → premium",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    // A file with a bad configuration imports nothing and names the problem.
    let bad = d.write(
        "bad.json",
        r#"[{"name": "fine"}, {"name": "broken", "trade_time_ist": "noon"}]"#,
    );
    strangle(&d)
        .args(["configs", "import", "--from-seed"])
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("broken: trade_time_ist"));
    strangle(&d)
        .args(["configs", "show", "fine"])
        .assert()
        .failure();
}

/// Issue 33 D: a profile file takes its skip dates from a calendar file beside it; a
/// calendar that is missing or malformed is refused naming the field and the file.
#[test]
fn a_profile_file_reads_its_skip_dates_from_a_calendar_file() {
    let d = Dir::new("calendar");
    d.write(
        "events-2026.toml",
        "skip_dates = [\n  { date = \"2026-12-16\", reason = \"FOMC\" },\n  { date = \"2026-12-10\", reason = \"CPI\" },\n]\n",
    );
    let p = d.write(
        "gated.toml",
        "name = \"gated\"\n[gates]\nweekdays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nskip_dates_file = \"events-2026.toml\"\n",
    );
    strangle(&d)
        .args(["configs", "create"])
        .arg(&p)
        .assert()
        .success();
    let v = exported(&d, "gated");
    assert_eq!(
        v["gates"]["skip_dates"],
        serde_json::json!([
            {"date": "2026-12-16", "reason": "FOMC"},
            {"date": "2026-12-10", "reason": "CPI"}
        ])
    );
    assert_eq!(v["gates"]["weekdays"][4], "fri");
    let missing = d.write(
        "missing.toml",
        "name = \"m\"\n[gates]\nskip_dates_file = \"nope.toml\"\n",
    );
    strangle(&d)
        .args(["configs", "create"])
        .arg(&missing)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("gates.skip_dates_file: nope.toml"));
    d.write("bad-cal.toml", "skip_dates = [{ date = \"2026-02-30\" }]\n");
    let bad = d.write(
        "bad.toml",
        "name = \"b\"\n[gates]\nskip_dates_file = \"bad-cal.toml\"\n",
    );
    strangle(&d)
        .args(["configs", "create"])
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "gates.skip_dates_file: bad-cal.toml",
        ));
}

/// A stored profile as `configs export --format json` prints it.
fn exported(d: &Dir, name: &str) -> serde_json::Value {
    let out = strangle(d)
        .args(["configs", "export", name, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("json")
}

/// `strangle risk`: limits from a file (every bad field named, nothing stored), the status as
/// text and JSON, and the operator's reset, all in the ledger every runner reads.
#[test]
fn the_account_risk_governor_is_set_shown_and_reset_from_the_command_line() {
    let d = Dir::new("risk");
    strangle(&d)
        .args(["risk", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no limits set"));
    // Resetting a governor with no limits: nothing to reset (not found).
    strangle(&d).args(["risk", "reset"]).assert().code(4);
    let bad = d.write("bad.toml", "daily_loss_usd = \"-5\"\nmtm_stop = \"10\"\n");
    strangle(&d)
        .args(["risk", "limits", &bad.display().to_string()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("mtm_stop"));
    let bad = d.write(
        "bad2.toml",
        "daily_loss_usd = \"-5\"\nreduce_below_available_usd = \"100\"\nhalt_below_available_usd = \"200\"\n",
    );
    strangle(&d)
        .args(["risk", "limits", &bad.display().to_string()])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("risk.daily_loss_usd")
                .and(predicate::str::contains("risk.halt_below_available_usd")),
        );
    strangle(&d)
        .args(["risk", "status", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("null"));
    let good = d.write(
        "risk.toml",
        "daily_loss_usd = \"150\"\nmtm_target_usd = \"400\"\n\n[lock]\ntrigger_usd = \"100\"\nlock_usd = \"40\"\n",
    );
    strangle(&d)
        .args(["risk", "limits", &good.display().to_string()])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("account risk: active")
                .and(predicate::str::contains("daily loss 150 USD"))
                .and(predicate::str::contains("lock 40 USD at 100 USD")),
        );
    let out = strangle(&d)
        .args(["risk", "status", "--json"])
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["state"], "active");
    assert_eq!(v["limits"]["daily_loss_usd"], "150");
    assert_eq!(v["limits"]["basis"], "close_now");
    assert_eq!(v["day_pnl"], "0");
    strangle(&d)
        .args(["risk", "reset"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "active → active: reset by the CLI",
        ));
    let out = strangle(&d)
        .args(["risk", "status", "--json"])
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["governor"]["trigger"]["trigger"], "reset", "{v}");
}
