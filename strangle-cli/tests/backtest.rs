//! `strangle backtest` and `strangle import` driven as a process.

use std::path::PathBuf;

use assert_cmd::Command;
use chrono::{Duration, TimeZone, Utc};
use predicates::prelude::*;
use rust_decimal::Decimal;
use strangle_core::data::ChainWriter;
use strangle_core::sim::synthetic::SyntheticMarket;

mod common;
use common::Dir;

fn strangle(d: &Dir) -> Command {
    let mut c = Command::cargo_bin("strangle").expect("binary");
    c.args(["--ledger", &d.path("ledger.db").display().to_string()]);
    c
}

/// Two IST days of synthetic BTC chains every 10 minutes, written as a chain file.
fn chain_file(d: &Dir) -> PathBuf {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 9, 18, 30, 0)
        .single()
        .expect("time");
    let mut m = SyntheticMarket::btc();
    m.strikes_each_side = 24;
    m.strike_step = Decimal::from(500);
    let chains = m.path(
        start,
        start + Duration::days(2),
        Duration::minutes(10),
        0.45,
        |t| Decimal::from(82_000 - (t - start).num_minutes()),
    );
    let p = d.path("chains.csv");
    let f = std::fs::File::create(&p).expect("create");
    let mut w = ChainWriter::new(std::io::BufWriter::new(f)).expect("writer");
    for c in &chains {
        w.write(c).expect("write");
    }
    drop(w.finish().expect("finish"));
    p
}

const PROFILE: &str =
    "name = \"bt\"\ncontracts_per_leg = \"5\"\n[liquidity]\nmax_quote_age_secs = 900\n";

#[test]
fn a_backtest_prints_its_table_and_writes_every_report() {
    let d = Dir::new("bt_reports");
    let data = chain_file(&d);
    let cfg = d.write("p.toml", PROFILE);
    let out = strangle(&d)
        .args(["backtest", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .arg("--json")
        .arg(d.path("r.json"))
        .arg("--csv")
        .arg(d.path("r.csv"))
        .arg("--html")
        .arg(d.path("r.html"))
        .assert()
        .success()
        .stdout(predicate::str::contains("exit reasons").and(predicate::str::contains("Sharpe")))
        .stderr(predicate::str::contains("quotes/s"))
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path("r.json")).expect("json")).expect("parse");
    let sessions = json["kpis"]["sessions"].as_u64().expect("sessions");
    assert!(sessions >= 1, "{json}");
    assert_eq!(
        json["sessions"].as_array().map(Vec::len),
        Some(sessions as usize)
    );
    let csv = std::fs::read_to_string(d.path("r.csv")).expect("csv");
    assert_eq!(
        csv.lines().count() as u64,
        1 + 2 * sessions,
        "a header, a row per leg"
    );
    let html = std::fs::read_to_string(d.path("r.html")).expect("html");
    assert!(html.contains("<svg"));
    // The same command prints the same table (the timing line goes to stderr).
    let again = strangle(&d)
        .args(["backtest", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(out, again);
}

#[test]
fn a_sweep_prints_a_ranked_table() {
    let d = Dir::new("bt_sweep");
    let data = chain_file(&d);
    let cfg = d.write("p.toml", PROFILE);
    let grid = d.write(
        "grid.toml",
        "\"delta_band.low\" = [0.08, 0.1]\n\"max_profit_pct\" = [\"40\", \"80\"]\n",
    );
    strangle(&d)
        .args(["backtest", "--threads", "2", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .arg("--sweep")
        .arg(&grid)
        .arg("--json")
        .arg(d.path("sweep.json"))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("rank")
                .and(predicate::str::contains("bt#4"))
                .and(predicate::str::contains("max_profit_pct=40")),
        );
    let rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path("sweep.json")).expect("json")).expect("parse");
    assert_eq!(rows.as_array().map(Vec::len), Some(4));
    assert_eq!(rows[0]["rank"], 1);
    // A grid naming a field that does not exist is refused before anything runs.
    let bad = d.write("bad.toml", "\"delta_band.lo\" = [0.1]\n");
    strangle(&d)
        .args(["backtest", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .arg("--sweep")
        .arg(&bad)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "delta_band.lo: no such profile field",
        ));
}

#[test]
fn bad_data_is_named_with_its_line() {
    let d = Dir::new("bt_bad");
    let cfg = d.write("p.toml", PROFILE);
    let junk = d.write("junk.csv", "hello,world\n1,2\n");
    strangle(&d)
        .args(["backtest", "--data"])
        .arg(&junk)
        .arg("--config")
        .arg(&cfg)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("neither a strangle chain file"));
    let data = chain_file(&d);
    let mut text = std::fs::read_to_string(&data).expect("read");
    text.push_str("2026-03-12T00:00:00Z,BTC,oops,C-BTC-90000-130326,2026-03-13T12:00:00Z,0.001,0.1,,0,,0,1,,,,,,,,\n");
    let broken = d.write("broken.csv", &text);
    strangle(&d)
        .args(["backtest", "--data"])
        .arg(&broken)
        .arg("--config")
        .arg(&cfg)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("spot: \"oops\" is not a number"));
    strangle(&d)
        .args(["backtest", "--data"])
        .arg(d.path("missing.csv"))
        .arg("--config")
        .arg(&cfg)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("missing.csv"));
}

#[test]
#[cfg_attr(
    not(strangle_real_data),
    ignore = "needs the real Deribit data in ../shared/data (set STRANGLE_DATA_DIR)"
)]
fn deribit_snapshots_import_into_a_chain_file_that_backtests() {
    // Where the build script (`build-support/probe.rs`) found the data.
    let src = PathBuf::from(env!("STRANGLE_DERIBIT_SNAPSHOTS"));
    assert!(
        src.is_file(),
        "{} is absent (set STRANGLE_DATA_DIR)",
        src.display()
    );
    let d = Dir::new("bt_import");
    let out = d.path("deribit.chain.csv.gz");
    strangle(&d)
        .arg("import")
        .arg(&src)
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "wrote 222 snapshots (78818 quotes)",
        ));
    let cfg = d.write(
        "p.toml",
        "name = \"btc-deribit\"\ncontracts_per_leg = \"10\"\n[liquidity]\nmax_quote_age_secs = 21600\n",
    );
    // The compressed chain file and the raw CSV give the same backtest.
    let from_chain = strangle(&d)
        .args(["backtest", "--data"])
        .arg(&out)
        .arg("--config")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let from_csv = strangle(&d)
        .args(["backtest", "--data"])
        .arg(&src)
        .arg("--config")
        .arg(&cfg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(from_chain, from_csv);
    assert!(String::from_utf8_lossy(&from_chain).contains("18eb227c-260119"));
}

#[test]
fn record_writes_a_chain_file_from_a_delta_compatible_market_and_appends() {
    let d = Dir::new("bt_record");
    let (mut server, url, _) = common::sim_server();
    let out = d.path("rec.csv");
    let record = |count: &str| {
        strangle(&d)
            .args([
                "record", "--every", "5", "--count", count, "--env", &url, "--out",
            ])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("BTC").and(predicate::str::contains("ETH")))
    };
    record("2");
    let read = || {
        let f = std::fs::File::open(&out).expect("file");
        strangle_core::data::ChainReader::new(std::io::BufReader::new(f), "rec.csv")
            .expect("a chain file")
            .collect::<Result<Vec<_>, _>>()
            .expect("valid rows")
    };
    let snaps = read();
    assert!(snaps.len() >= 3, "{} snapshots", snaps.len());
    assert!(snaps.iter().all(|s| !s.entries.is_empty()));
    // Appending keeps one valid file with more snapshots, in time order.
    record("1");
    let more = read();
    assert!(more.len() > snaps.len());
    assert!(more.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    // A file that is not a chain file is never appended to.
    let other = d.write("notes.txt", "my notes\n");
    strangle(&d)
        .args(["record", "--count", "1", "--env", &url, "--out"])
        .arg(&other)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("not a chain file"));
    assert_eq!(std::fs::read_to_string(&other).expect("read"), "my notes\n");
    server.kill();
}
