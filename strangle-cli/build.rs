//! Records the git commit for `strangle version`, and probes for the real market data and a
//! browser, which some tests need (see `build-support/probe.rs`).

#[path = "../build-support/probe.rs"]
mod probe;

fn main() {
    probe::real_data();
    probe::browser();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=STRANGLE_GIT_COMMIT={commit}");
    println!(
        "cargo:rustc-env=STRANGLE_BUILD_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_default()
    );
    println!("cargo:rerun-if-changed=../.git/HEAD");
}
