//! Probes for the real market data, which the data tests need (see `build-support/probe.rs`).

// Only the data probe is used here.
#[allow(dead_code)]
#[path = "../build-support/probe.rs"]
mod probe;

fn main() {
    probe::real_data();
}
