//! The workspace's source files, for the checks that read them.

use std::path::{Path, PathBuf};

/// The workspace root (this crate's parent directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file under `<crate>/<dir>/` of every crate in `root` whose extension is one of `exts`
/// (`dir` is `tests` or `src`), sorted.
pub fn files(root: &Path, dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, exts, out);
            } else if p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    let Ok(crates) = std::fs::read_dir(root) else {
        return out;
    };
    for c in crates.flatten() {
        let d = c.path().join(dir);
        if d.is_dir() {
            walk(&d, exts, &mut out);
        }
    }
    out.sort();
    out
}
