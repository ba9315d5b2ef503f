//! Issue 31: what a new user trips over in the first hour, each fixed at its cause. The binary
//! is driven as a process, as the user runs it.

use std::io::Read;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

mod common;
use common::Dir;

fn strangle_bare() -> Command {
    let mut c = Command::cargo_bin("strangle").expect("binary");
    c.env_remove("STRANGLE_DELTA_API_KEY")
        .env_remove("STRANGLE_DELTA_API_SECRET")
        .env_remove("STRANGLE_DELTA_CREDENTIALS_FILE")
        .env_remove("STRANGLE_LEDGER");
    c
}

fn strangle(dir: &Dir) -> Command {
    let mut c = strangle_bare();
    c.args(["--ledger", &dir.ledger()]);
    c
}

/// `run` of the profile file `p` over one simulated day from `start` on `dir`'s ledger.
fn run_day(dir: &Dir, p: &std::path::Path, start: &str) -> assert_cmd::assert::Assert {
    strangle(dir)
        .args(["run", "--fast-forward", "1d", "--start", start, "--config"])
        .arg(p)
        .assert()
}

/// A fast-forwarded sim day on `dir`'s ledger.
fn one_day(dir: &Dir) {
    let p = dir.write("p.toml", "name = \"day\"\n");
    run_day(dir, &p, "2026-03-09T18:30:00Z").success();
}

#[test]
fn a_span_without_a_unit_is_refused_naming_the_units() {
    let d = Dir::new("fh_span");
    strangle(&d)
        .args(["run", "--fast-forward", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("give a unit: 5d (days)"));
    assert!(!d.path("ledger.db").exists(), "nothing ran");
}

#[test]
fn after_a_clean_exit_the_ledger_file_alone_holds_everything() {
    let d = Dir::new("fh_wal");
    one_day(&d);
    let wal = d.path("ledger.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
        "the -wal file was checkpointed into the ledger"
    );
    // The file copied alone, as a user would, opens with every session in it.
    let copy = Dir::new("fh_wal_copy");
    std::fs::copy(d.path("ledger.db"), copy.path("ledger.db")).expect("copy");
    let out = strangle(&copy)
        .args(["sessions", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["total"], 1, "{v}");
}

#[test]
fn check_with_a_profile_file_creates_no_ledger() {
    let d = Dir::new("fh_check");
    let p = d.write("p.toml", "name = \"c\"\n");
    // No --ledger: the default `strangle.db` in the current folder is never created.
    strangle_bare()
        .current_dir(d.path(""))
        .args(["check", "--env", "http://127.0.0.1:9", "--config"])
        .arg(&p)
        .assert()
        .code(1);
    assert!(!d.path("strangle.db").exists(), "check created a ledger");
    // Without --config the ledger is read for the active profile, never created.
    strangle_bare()
        .current_dir(d.path(""))
        .args(["check", "--env", "http://127.0.0.1:9"])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("strangle.db").and(predicate::str::contains("no ledger file")),
        );
    assert!(!d.path("strangle.db").exists());
}

#[test]
fn a_folder_or_a_damaged_file_as_ledger_is_named_with_the_reason() {
    let d = Dir::new("fh_ledger");
    let folder = d.path("");
    strangle_bare()
        .args(["--ledger"])
        .arg(&folder)
        .args(["sessions", "list"])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains(folder.display().to_string())
                .and(predicate::str::contains("it is a folder")),
        );
    let bad = d.write("bad.db", &"not a ledger ".repeat(500));
    strangle_bare()
        .args(["--ledger"])
        .arg(&bad)
        .args(["sessions", "list"])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("cannot open the ledger")
                .and(predicate::str::contains(bad.display().to_string())),
        );
}

#[test]
fn a_listing_whose_reader_has_gone_ends_quietly() {
    let d = Dir::new("fh_pipe");
    one_day(&d);
    // The reader closes the pipe before anything is written: every write fails with EPIPE.
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_strangle"))
        .args(["--ledger", &d.ledger(), "sessions", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).expect("stderr");
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_recording_that_records_nothing_fails_with_the_reason() {
    let d = Dir::new("fh_record");
    strangle(&d)
        .args([
            "record",
            "--env",
            "http://127.0.0.1:9",
            "--underlying",
            "BTC",
            "--count",
            "1",
            "--out",
        ])
        .arg(d.path("chains.jsonl"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nothing was recorded"));
}

#[test]
fn a_second_fast_forward_over_the_same_days_is_refused_saying_what_to_do() {
    let d = Dir::new("fh_again");
    one_day(&d);
    let p = d.path("p.toml");
    run_day(&d, &p, "2026-03-09T18:30:00Z").code(5).stderr(
        predicate::str::contains("already holds 1 sessions of profile \"day\"")
            .and(predicate::str::contains("--ledger new.db"))
            .and(predicate::str::contains("--start after 2026-03-10")),
    );
    // The next day runs, and prints its own session only.
    run_day(&d, &p, "2026-03-10T18:30:00Z")
        .success()
        .stdout(predicate::str::contains("1 sessions,"));
}

#[test]
fn a_profile_file_that_changed_is_saved_saying_what_changed() {
    let d = Dir::new("fh_changed");
    one_day(&d);
    let p = d.write("p.toml", "name = \"day\"\ncontracts_per_leg = \"3\"\n");
    run_day(&d, &p, "2026-03-10T18:30:00Z")
        .success()
        .stderr(predicate::str::contains(
            "profile \"day\" in the ledger differs from the file; saving the file's settings: \
             contracts_per_leg: \"1\" → \"3\"",
        ));
}

#[test]
fn run_and_backtest_show_the_profile_s_warnings_as_check_does() {
    let d = Dir::new("fh_warn");
    let p = d.write("p.toml", "name = \"w\"\nmax_loss_pct = 0.4\n");
    run_day(&d, &p, "2026-03-09T18:30:00Z")
        .success()
        .stderr(predicate::str::contains("warning: max_loss_pct"));
}

#[test]
fn an_interrupted_fast_forward_says_how_far_it_got_and_fails() {
    use std::io::{BufRead, BufReader};
    let d = Dir::new("fh_sigint");
    let p = d.write("p.toml", "name = \"long\"\n");
    let mut child = common::Proc(
        StdCommand::new(env!("CARGO_BIN_EXE_strangle"))
            .args(["--ledger", &d.ledger(), "run", "--fast-forward", "400d"])
            .args(["--start", "2026-03-09T18:30:00Z", "--config"])
            .arg(&p)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut text = String::new();
    // Once it runs, Ctrl-C.
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).expect("read") == 0 {
            break;
        }
        text.push_str(&line);
        if line.contains("running profile") {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            child.interrupt();
            break;
        }
    }
    err.read_to_string(&mut text).expect("rest of stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        text.contains("SIGINT: stopped after") && text.contains("of 400.0 simulated days"),
        "{text}"
    );
}

#[test]
fn the_sweep_grid_readme_names_is_in_the_repository_and_runs() {
    let d = Dir::new("fh_sweep");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    strangle(&d)
        .current_dir(&root)
        .args([
            "backtest",
            "--data",
            "examples/data/btcusd_1h_20210324_20220301.csv",
            "--config",
            "examples/profiles/btc-hourly.toml",
            "--from",
            "2021-10-01T00:00:00Z",
            "--until",
            "2021-10-08T00:00:00Z",
            "--sweep",
            "examples/sweeps/btc-hourly-grid.toml",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("btc-hourly#12"));
}

#[test]
fn configs_update_from_a_partial_file_changes_only_what_it_gives() {
    let d = Dir::new("fh_update");
    let full = d.write(
        "full.toml",
        "name = \"u\"\ncontracts_per_leg = \"10\"\nmax_loss_pct = \"60\"\n",
    );
    strangle(&d)
        .args(["configs", "create"])
        .arg(&full)
        .assert()
        .success();
    let partial = d.write("partial.toml", "max_profit_pct = \"70\"\n");
    strangle(&d)
        .args(["configs", "update", "u"])
        .arg(&partial)
        .assert()
        .success()
        .stdout(predicate::str::contains("max_profit_pct: \"80\" → \"70\""));
    let out = strangle(&d)
        .args(["configs", "show", "u", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(
        v["contracts_per_leg"], "10",
        "kept, not reset to the default"
    );
    assert_eq!(v["max_loss_pct"], "60");
    assert_eq!(v["max_profit_pct"], "70");
    // A value the profile refuses changes nothing and names the field.
    let bad = d.write("bad.toml", "contracts_per_leg = \"-1\"\n");
    strangle(&d)
        .args(["configs", "update", "u"])
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("contracts_per_leg"));
}

#[test]
fn serve_with_a_chosen_token_prints_the_dashboard_link_without_it() {
    use std::io::{BufRead, BufReader};
    let d = Dir::new("fh_serve");
    let token = "chosen-token-0123456789abcdef";
    let mut child = common::Proc(
        StdCommand::new(env!("CARGO_BIN_EXE_strangle"))
            .args(["--ledger", &d.ledger(), "serve", "--listen", "127.0.0.1:0"])
            .env("STRANGLE_API_TOKEN", token)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    let second = lines.next().expect("a second line").expect("text");
    child.kill();
    assert!(first.contains("listening on http://127.0.0.1:"), "{first}");
    assert!(
        second.contains("dashboard     http://127.0.0.1:") && second.contains("STRANGLE_API_TOKEN"),
        "{second}"
    );
    assert!(!second.contains(token), "the chosen token is never printed");
}
