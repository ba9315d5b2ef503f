//! Errors are types: code decides by an error's variant or its fields, never by reading its
//! message. This reads the non-test code of every crate (`*/src/**/*.rs`, up to a file's
//! `#[cfg(test)]` module) and fails on a decision taken on error text: an error's rendered
//! text searched or split (`.to_string().contains(`, `.starts_with(`, `.ends_with(`,
//! `.split(`), or a `message`/`detail` field searched or split.
//!
//! The patterns are spelt in pieces (`concat!`) so that this file, which names them, never
//! contains them itself.

mod sources;

/// Reading an error's text to decide.
const TEXT_DECISIONS: &[&str] = &[
    concat!(".to_string()", ".contains("),
    concat!(".to_string()", ".starts_with("),
    concat!(".to_string()", ".ends_with("),
    concat!(".to_string()", ".split("),
    concat!("message", ".contains("),
    concat!("message", ".starts_with("),
    concat!("message", ".split("),
    concat!("detail", ".contains("),
    concat!("detail", ".starts_with("),
    concat!("detail", ".split("),
];

/// The `file:line` of every decision on error text in `text` (non-test part only).
fn check(file: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        for p in TEXT_DECISIONS {
            if line.contains(p) {
                out.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    out
}

#[test]
fn no_code_decides_by_reading_an_error_message() {
    let root = sources::root();
    let files = sources::files(&root, "src", &["rs"]);
    assert!(files.len() > 50, "found only {} sources", files.len());
    let mut findings = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("a readable source");
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        findings.extend(check(&name, &text));
    }
    assert!(
        findings.is_empty(),
        "decisions taken on error text (decide on the variant or a field instead):\n{}",
        findings.join("\n")
    );
}

/// The check finds each kind of text decision, and skips comments and test modules.
#[test]
fn the_check_finds_each_kind() {
    for p in TEXT_DECISIONS {
        let sample = format!("if e{p}\"refusing\") {{ return 6; }}\n");
        assert_eq!(check("s.rs", &sample).len(), 1, "{p}");
    }
    let commented = format!("// e{}\"x\")\n", TEXT_DECISIONS[0]);
    assert!(check("s.rs", &commented).is_empty());
    let in_tests = format!(
        "fn f() {{}}\n#[cfg(test)]\nmod tests {{ e{}\"x\") }}\n",
        TEXT_DECISIONS[0]
    );
    assert!(check("s.rs", &in_tests).is_empty());
}
