//! Build-time probes for what some tests need but the repository does not hold: the real
//! market data in `../shared/data` and a Chromium with its chromedriver.
//!
//! A build script calls these; each sets a `cfg` when its input is present, and the tests
//! that need it carry `#[cfg_attr(not(cfg_name), ignore = "why")]`. So a test that cannot run
//! here is reported by the test runner as ignored, with its reason, and the suite's closing
//! line counts it as skipped, never as passed. One policy for every such test.

use std::path::{Path, PathBuf};

/// The real Deribit snapshots the data tests read (relative to the data directory).
pub const DERIBIT_SNAPSHOTS: &str =
    "deribit_options/deribit_options_btc_eth_20260119_20260215_dte35.csv";

/// The data directory: `STRANGLE_DATA_DIR`, else `../shared/data` beside the repository.
pub fn data_dir(manifest_dir: &Path) -> PathBuf {
    std::env::var_os("STRANGLE_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.join("../../shared/data"))
}

/// Sets `cfg(strangle_real_data)` when the real Deribit snapshots are readable, and gives the
/// tests their path as `env!("STRANGLE_DERIBIT_SNAPSHOTS")`, found here once.
pub fn real_data() {
    println!("cargo::rustc-check-cfg=cfg(strangle_real_data)");
    println!("cargo::rerun-if-env-changed=STRANGLE_DATA_DIR");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dir = data_dir(&manifest);
    let file = dir.join(DERIBIT_SNAPSHOTS);
    // Watch what exists (a missing path would rerun the script, and rebuild, every time).
    match [file.as_path(), dir.as_path()]
        .into_iter()
        .find(|p| p.exists())
    {
        Some(p) => println!("cargo::rerun-if-changed={}", p.display()),
        None => println!(
            "cargo::warning=real-data tests are skipped: {} is absent (set STRANGLE_DATA_DIR)",
            file.display()
        ),
    }
    println!(
        "cargo::rustc-env=STRANGLE_DERIBIT_SNAPSHOTS={}",
        file.display()
    );
    if file.is_file() {
        println!("cargo::rustc-cfg=strangle_real_data");
    }
}

/// The first of `candidates` on `PATH`, or the file the variable `var` names.
pub fn which(var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        std::env::split_paths(&path)
            .map(|d| d.join(c))
            .find(|p| p.is_file())
    })
}

/// Sets `cfg(strangle_browser)` when Chromium and chromedriver are found.
pub fn browser() {
    println!("cargo::rustc-check-cfg=cfg(strangle_browser)");
    println!("cargo::rerun-if-env-changed=STRANGLE_CHROME");
    println!("cargo::rerun-if-env-changed=STRANGLE_CHROMEDRIVER");
    let chrome = which(
        "STRANGLE_CHROME",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = which("STRANGLE_CHROMEDRIVER", &["chromedriver"]);
    match (chrome, driver) {
        (Some(c), Some(d)) => {
            println!("cargo::rerun-if-changed={}", c.display());
            println!("cargo::rerun-if-changed={}", d.display());
            println!("cargo::rustc-cfg=strangle_browser");
        }
        _ => {
            // Probe again once something is installed into a directory on PATH.
            let path = std::env::var_os("PATH").unwrap_or_default();
            for d in std::env::split_paths(&path).filter(|d| d.is_dir()) {
                println!("cargo::rerun-if-changed={}", d.display());
            }
            println!(
                "cargo::warning=the browser test is skipped: Chromium and chromedriver are not on \
                 PATH (apt-get install chromium chromium-driver, or set STRANGLE_CHROME and \
                 STRANGLE_CHROMEDRIVER)"
            );
        }
    }
}
