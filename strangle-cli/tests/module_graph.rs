//! The binary's modules import each other one way: no two modules (neither inside the other)
//! reach each other through `crate::…` or `super::…` paths, directly or round a longer circle.
//! Two did (`run` ↔ `sim_server`, `check` ↔ `check_orders`); what they shared now lives in
//! modules of its own (`values`, `sim_keys`, `check_report`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of `src`, by path (`cmd::check`), with its source.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("inside src");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts
                .last()
                .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
            {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            out.insert(parts.join("::"), text);
        }
    }
    out
}

/// The module paths a source names after `prefix` (`crate::` or `super::`), braces opened:
/// `crate::cmd::{configs, sim_keys}` names `cmd::configs` and `cmd::sim_keys`.
fn named(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for (i, _) in text.match_indices(prefix) {
        let rest = &text[i + prefix.len()..];
        let head: String = rest.chars().take_while(|c| word(*c)).collect();
        let after = &rest[head.len()..];
        if head.ends_with("::") && after.starts_with('{') {
            let inner = &after[1..after.find('}').unwrap_or(after.len())];
            for item in inner.split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    out.push(format!("{head}{item}"));
                }
            }
        } else {
            out.push(head.trim_end_matches(':').to_string());
        }
    }
    out
}

/// The longest known module that `path` starts with.
fn owner<'a>(path: &str, known: &'a BTreeSet<String>) -> Option<&'a String> {
    known
        .iter()
        .filter(|m| !m.is_empty() && (path == m.as_str() || path.starts_with(&format!("{m}::"))))
        .max_by_key(|m| m.len())
}

fn related(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a.starts_with(&format!("{b}::"))
        || b.starts_with(&format!("{a}::"))
}

#[test]
fn no_two_modules_of_the_binary_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    assert!(
        known.contains("cmd::check") && known.contains("serve::trading"),
        "{known:?}"
    );
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, text) in &mods {
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets: Vec<String> = named(text, "crate::");
        targets.extend(named(text, "super::").into_iter().map(|p| {
            if parent.is_empty() {
                p
            } else {
                format!("{parent}::{p}")
            }
        }));
        for t in targets {
            if let Some(o) = owner(&t, &known) {
                if o != m && !related(m, o) {
                    edges.entry(m.as_str()).or_default().insert(o.as_str());
                }
            }
        }
    }
    assert!(
        edges
            .get("cmd::check")
            .is_some_and(|e| e.contains("cmd::check_orders")),
        "the walk sees check's call into check_orders: {edges:?}"
    );
    // A circle is a path from a module back to itself.
    for start in edges.keys() {
        let mut stack: Vec<Vec<&str>> = vec![vec![start]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = *path.last().expect("a path");
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    panic!("an import circle: {} -> {start}", path.join(" -> "));
                }
                if seen.insert(*next) {
                    let mut p = path.clone();
                    p.push(next);
                    stack.push(p);
                }
            }
        }
    }
}

/// A market is built by one rule (`strangle_delta_runtime::MarketRequest::build`, and a
/// simulated clock by `SimTime::from_parts`), not once per front: neither the binary nor the
/// Python module builds a `Market`, a `SimMarket` or a `SimTime` itself.
#[test]
fn the_fronts_leave_building_the_market_to_the_runtime() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cli = modules(&root.join("src"));
    let py = modules(&root.join("../strangle-py/src"));
    assert!(cli.len() > 20 && py.len() > 3, "both fronts read");
    for (m, text) in cli.iter().chain(py.iter()) {
        for built in [
            "SimTime::Scaled(ScaledClock",
            "SimTime::FastForward(FastForward",
            "Market::Sim(",
            "Market::Paper{",
            "Market::Live{",
            "SimMarket{",
        ] {
            assert!(
                !text.replace(char::is_whitespace, "").contains(built),
                "{m} builds a market itself ({built}…): use MarketRequest::build"
            );
        }
    }
}
