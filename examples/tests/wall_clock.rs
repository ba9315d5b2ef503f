//! No test decides market times by the wall clock: a suite that passes or fails by the hour
//! blocks every submission made at the wrong hour. This reads every test source of the
//! workspace (Rust and Python) and fails on:
//!
//! - a read of the wall clock (chrono's and std's `now`, the system `Clock`, Python's
//!   `datetime` and `time` readings; the list is [`WALL_CLOCK`]), unless the line says why it
//!   may (`wall-clock-ok:` and a reason, for a timeout or a unique name — never a market time);
//! - a local market whose clock is left at the wall clock: `ServerConfig::default()` that is
//!   not the base of a literal setting `clock:`, a `sim-server` started without `--start`, a
//!   Python `LocalServer(` or `Session.sim(` without `start=`.
//!
//! Monotonic clocks (`Instant`, Python's `time.monotonic`) are for timeouts and always allowed.
//!
//! The patterns are spelt in pieces (`concat!`) so that this file, which names them, never
//! contains them itself; the samples of its self-test put them together at run time.

mod sources;

use std::path::Path;

/// The marker that allows a wall-clock read on its line.
const ALLOW: &str = "wall-clock-ok:";

/// Reads of the wall clock.
const WALL_CLOCK: &[&str] = &[
    concat!("Utc", "::now()"),
    concat!("Local", "::now()"),
    concat!("SystemTime", "::now()"),
    concat!("System", "Clock"),
    concat!("datetime", ".now("),
    concat!("datetime", ".utcnow("),
    concat!("date", ".today("),
    concat!("time", ".time()"),
];

/// One finding: file, line (1-based) and what is wrong.
#[derive(Debug, PartialEq)]
struct Finding {
    file: String,
    line: usize,
    what: String,
}

/// Checks one source text; `python` selects the Python rules.
fn check(file: &str, text: &str, python: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut add = |i: usize, what: String| {
        out.push(Finding {
            file: file.to_string(),
            line: i + 1,
            what,
        })
    };
    for (i, line) in lines.iter().enumerate() {
        if line.contains(ALLOW) {
            continue;
        }
        for p in WALL_CLOCK {
            if line.contains(p) {
                add(i, format!("reads the wall clock ({p})"));
            }
        }
    }
    if python {
        for call in ["LocalServer(", "Session.sim(", "Session.sim_async("] {
            for (at, args) in calls(text, call) {
                // `class LocalServer(` and `def …` are not calls.
                let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                let head = text[line_start..at].trim_start();
                if head.starts_with("class ") || head.starts_with("def ") {
                    continue;
                }
                if !args.contains("start=") {
                    add(
                        line_of(text, at),
                        format!("{call}…) without start= runs on the wall clock"),
                    );
                }
            }
        }
    } else {
        for (at, _) in text.match_indices("ServerConfig::default()") {
            let base = text[..at].ends_with("..");
            let literal = text[..at].rfind("ServerConfig {").map(|s| &text[s..at]);
            // `clock: expr` or the shorthand `clock,`.
            let sets_clock =
                |l: &str| l.contains("clock:") || l.lines().any(|line| line.trim() == "clock,");
            if !base || !literal.is_some_and(sets_clock) {
                add(
                    line_of(text, at),
                    "a local market on the wall clock: set `clock:` in the ServerConfig literal"
                        .into(),
                );
            }
        }
        // `sim-server` as the subcommand of an argument list.
        for (at, _) in text.match_indices("[\"sim-server\"") {
            // The statement that starts the server, up to its end.
            let end = text[at..].find(';').map_or(text.len(), |e| at + e);
            if !text[at..end].contains("--start") {
                add(
                    line_of(text, at),
                    "`sim-server` without --start runs on the wall clock".into(),
                );
            }
        }
    }
    out.sort_by_key(|f| f.line);
    out
}

/// The 0-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count()
}

/// Each call of `name` in `text`: its offset and its argument text (balanced parentheses).
fn calls<'a>(text: &'a str, name: &str) -> Vec<(usize, &'a str)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(name) {
        // A longer name ending in `name` (`NativeLocalServer(`) is another function.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let open = at + name.len();
        let mut depth = 1usize;
        let mut end = text.len();
        for (k, c) in text[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((at, &text[open..end]));
    }
    out
}

#[test]
fn no_test_takes_market_times_from_the_wall_clock() {
    // Every test source: `*/tests/**/*.rs` and `strangle-py/tests/**/*.py`.
    let root = sources::root();
    let files = sources::files(&root, "tests", &["rs", "py"]);
    assert!(
        files.len() > 30,
        "found only {} test sources under {}",
        files.len(),
        root.display()
    );
    let this = Path::new(file!())
        .file_name()
        .map(|n| n.to_string_lossy().to_string());
    let mut findings = Vec::new();
    for f in &files {
        // This file names the patterns it looks for.
        if f.file_name().map(|n| n.to_string_lossy().to_string()) == this {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("a readable test source");
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let python = f.extension().is_some_and(|x| x == "py");
        findings.extend(check(&name, &text, python));
    }
    let report: Vec<String> = findings
        .iter()
        .map(|f| format!("{}:{}: {}", f.file, f.line, f.what))
        .collect();
    assert!(
        report.is_empty(),
        "tests that depend on the hour they run at (fix the market's clock; a timeout may \
         say `{ALLOW} why`):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_check_finds_each_kind_of_wall_clock_dependence() {
    let rust = r#"
let now = UTC_NOW.with_timezone(&Kolkata);
let t = UTC_NOW; // wall-clock-ok: a unique file name
let a = ServerConfig::default();
let b = ServerConfig { seed: 1, ..ServerConfig::default() };
let c = ServerConfig { clock: clock.clone(), ..ServerConfig::default() };
let e = ServerConfig {
    clock,
    ..ServerConfig::default()
};
Command::new(bin).args(["sim-server", "--port", "0"]).spawn();
Command::new(bin).args(["sim-server", "--start", "2026-03-10T04:00:00Z"]).spawn();
let d = Engine::start(p, c, ex, l, Arc::new(SYSTEM_CLOCK));
"#
    .replace("UTC_NOW", WALL_CLOCK[0])
    .replace("SYSTEM_CLOCK", WALL_CLOCK[3]);
    let rust = rust.as_str();
    let lines: Vec<usize> = check("x.rs", rust, false).iter().map(|f| f.line).collect();
    assert_eq!(
        lines,
        vec![2, 4, 5, 11, 13],
        "{:?}",
        check("x.rs", rust, false)
    );

    let py = r#"
class LocalServer(Base):
    pass
s = strangle.Session.sim(profile(), speed=60)
t = strangle.Session.sim(profile(), speed=60, start=BEFORE)
with strangle.LocalServer(seed=5) as m:
    pass
with strangle.LocalServer(seed=5, start=BEFORE) as m:
    x = PY_NOW(timezone.utc)
n = _strangle.NativeLocalServer(1, 0, None, None)
"#
    .replace("PY_NOW(", WALL_CLOCK[4]);
    let py = py.as_str();
    let lines: Vec<usize> = check("x.py", py, true).iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![4, 6, 9], "{:?}", check("x.py", py, true));
}
