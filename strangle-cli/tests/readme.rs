//! README's shell blocks, run in order as a new user would from a clean checkout (issue 31):
//! a README change that breaks a block fails the suite. Every block is either run or skipped
//! with its reason (keys, Delta's network, other hosts, the suite itself); a new block must be
//! given one or the other here.
//!
//! What the user types is run as written, with three substitutions: `cargo run [--release] -p
//! strangle-cli --` and a leading `strangle` become the binary under test (no second build),
//! `target/` becomes a fresh folder, and a command that runs until stopped (a server in the
//! foreground, a live run) is stopped after a few seconds, as the user would with Ctrl-C.
//! The servers listen where README says (8000, 8080). A server started with `&` is given a moment to
//! listen before the next line, and is stopped when its block ends.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// What to do with a block.
enum How {
    /// Run it.
    Run,
    /// Not here, and why.
    Skip(&'static str),
}

fn how(block: &str) -> How {
    if block.contains("scripts/test") {
        How::Skip("the whole suite: it is what runs this test")
    } else if block.contains("pip install") {
        How::Skip("builds the wheel: the Python tests install it into a fresh virtual environment")
    } else if block.contains("db.internal") {
        How::Skip("a deployment across hosts with a shared PostgreSQL")
    } else if block.contains("india-testnet") {
        How::Skip("Delta's testnet, with the user's keys")
    } else {
        How::Run
    }
}

/// The ```sh blocks of README, in order.
fn blocks(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in readme.lines() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("```sh") => cur = Some(String::new()),
            (Some(b), l) if l.starts_with("```") => {
                out.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// One command of a block: its continuation lines joined.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in block.lines() {
        if line.trim_start().starts_with('#') && cur.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(line);
                if !cur.trim().is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    out
}

/// The block as the script runs it (see the module's docs), or `None` for a command that
/// needs what this machine does not have (Delta's network, the uncommitted data when absent).
fn script(block: &str, bin: &Path, tmp: &Path, data: bool) -> (String, Vec<String>) {
    let mut lines = vec![
        "set -e".to_string(),
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT".to_string(),
    ];
    let mut skipped = Vec::new();
    let bin = bin.display().to_string();
    for cmd in commands(block) {
        if cmd.contains(" record ") {
            skipped.push(format!("{cmd}: records Delta's live chains (network)"));
            continue;
        }
        if cmd.contains("../shared/data") && !data {
            skipped.push(format!("{cmd}: the uncommitted data is not here"));
            continue;
        }
        // `target/` first: the binary's own path has one.
        let mut c = cmd
            .replace("target/", &format!("{}/", tmp.display()))
            .replace("cargo run --release -p strangle-cli --", &bin)
            .replace("cargo run -p strangle-cli --", &bin);
        if let Some(rest) = c.trim_start().strip_prefix("strangle ") {
            c = format!("{bin} {rest}");
        }
        let background = c.trim_end().ends_with('&');
        let forever = !background
            && (c.contains(" sim-server")
                || (c.contains(" run --market live") && !c.contains("--fast-forward")));
        if forever {
            // Until stopped: stopped after a few seconds, as the user would with Ctrl-C.
            lines.push(format!("timeout -s INT 6 env {c} || [ $? -eq 124 ]"));
        } else {
            lines.push(c);
        }
        if background {
            lines.push("sleep 3".into());
        }
    }
    (lines.join("\n"), skipped)
}

#[test]
fn readme_blocks_run_in_order_offline() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_strangle"));
    let dir = common::Dir::new("readme");
    let tmp = dir.path("target");
    std::fs::create_dir_all(&tmp).expect("target dir");
    let data = root.join("../shared/data").is_dir();
    let all = blocks(&readme);
    assert!(all.len() >= 10, "README's shell blocks: {}", all.len());
    let mut ran = 0;
    for (i, block) in all.iter().enumerate() {
        let n = i + 1;
        if let How::Skip(why) = how(block) {
            eprintln!("README block {n}: not run here: {why}");
            continue;
        }
        let (text, skipped) = script(block, &bin, &tmp, data);
        for s in &skipped {
            eprintln!("README block {n}: line not run here: {s}");
        }
        let out = Command::new("bash")
            .arg("-c")
            .arg(&text)
            .current_dir(&root)
            .env_remove("STRANGLE_LEDGER")
            .env_remove("STRANGLE_DELTA_API_KEY")
            .env_remove("STRANGLE_DELTA_API_SECRET")
            .env_remove("STRANGLE_DELTA_CREDENTIALS_FILE")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "README block {n} failed ({}):\n{block}\nas run:\n{text}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 7, "{ran} blocks ran");
}
