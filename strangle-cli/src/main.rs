//! The `strangle` binary. Its commands arrive with issue 5; today it only says so.

fn main() {
    eprintln!(
        "strangle {}: the command-line front end is not built yet (issue 5).\n\
         Run a simulated day with: cargo run -p strangle-examples --example sim_day",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
