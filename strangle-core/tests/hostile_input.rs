//! Hostile input, bounded fuzzing driven by proptest: profiles (TOML and JSON) and chain
//! files, as mutations of valid ones. Nothing may panic; an input is accepted (and then
//! valid) or refused with an error naming the problem.
//!
//! `PROPTEST_CASES` sets the executions per property (default 2,000 here; the full
//! reliability run uses 100,000).

use proptest::prelude::*;
use strangle_core::data::ChainReader;
use strangle_core::profile::Profile;

const PROFILE: &str = r#"name = "btc-daily"
underlying = "BTC"
strike_mode = "delta"
delta_band = { low = 0.10, high = 0.15 }
entry_time = "09:30"
entry_window_minutes = 30
exit_time = "15:20"
expiry_buffer_hours = 24
contracts_per_leg = "10"
max_loss_pct = "100"
max_profit_pct = "80"

[liquidity]
require_bid = true
max_spread_pct = "50"
max_quote_age_secs = 30

[trailing]
tiers = [
    { trigger_pct = "30", lock_pct = "0" },
    { trigger_pct = "50", lock_pct = "25" },
]
step = { every_pct = "10", lock_pct = "5" }
"#;

const CHAIN: &str = "#strangle-chain v1
time,underlying,spot,symbol,expiry,contract_size,tick_size,bid,bid_size,ask,ask_size,mark,mark_iv,bid_iv,ask_iv,delta,gamma,theta,vega,open_interest
2026-03-10T04:00:00Z,BTC,82000,C-BTC-86000-110326,2026-03-11T12:00:00Z,0.001,0.1,101.5,500,104.1,500,102.8,0.45,,,0.12,0.00002,-80.1,20.3,1000
2026-03-10T04:00:00Z,BTC,82000,P-BTC-78000-110326,2026-03-11T12:00:00Z,0.001,0.1,99.5,500,102.1,500,100.8,0.45,,,-0.11,0.00002,-79.1,19.3,1000
2026-03-10T04:01:00Z,BTC,82010,C-BTC-86000-110326,2026-03-11T12:00:00Z,0.001,0.1,,0,104.1,500,102.9,0.45,,,0.12,0.00002,-80.1,20.3,1000
";

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn mutate(text: &str, kind: u8, a: usize, b: usize, byte: u8) -> String {
    let mut v = text.as_bytes().to_vec();
    let (i, j) = (a % v.len(), b % v.len());
    let (lo, hi) = (i.min(j), i.max(j));
    match kind % 4 {
        0 => v[i] = byte,
        1 => {
            v.drain(lo..hi);
        }
        2 => {
            let piece = v[lo..hi].to_vec();
            v.splice(lo..lo, piece);
        }
        _ => v.truncate(i),
    }
    String::from_utf8_lossy(&v).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_profiles_are_valid_or_refused_by_name(
        kind in any::<u8>(), a in any::<usize>(), b in any::<usize>(), byte in any::<u8>()
    ) {
        let text = mutate(PROFILE, kind, a, b, byte);
        match toml::from_str::<Profile>(&text) {
            Ok(p) => match p.validate() {
                // Accepted: it survives a round trip unchanged.
                Ok(()) => {
                    let again: Profile = serde_json::from_str(&serde_json::to_string(&p).expect("json"))
                        .expect("round trip");
                    prop_assert_eq!(again, p);
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            },
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn profiles_with_any_numbers_are_valid_or_refused(
        low in any::<f64>(), high in any::<f64>(), contracts in any::<i64>(), window in any::<i64>(),
        loss in ".{0,12}", hours in any::<i64>()
    ) {
        let v = serde_json::json!({
            "name": "x", "delta_band": {"low": low, "high": high}, "contracts_per_leg": contracts.to_string(),
            "entry_window_minutes": window, "max_loss_pct": loss, "expiry_buffer_hours": hours,
        });
        if let Ok(p) = serde_json::from_value::<Profile>(v) {
            if p.validate().is_ok() {
                prop_assert!(p.delta_band.low > 0.0 && p.delta_band.low < p.delta_band.high && p.delta_band.high < 1.0);
                prop_assert!(p.contracts_per_leg > rust_decimal::Decimal::ZERO);
            }
        }
    }

    #[test]
    fn mutated_chain_files_are_read_or_refused_with_a_line(
        kind in any::<u8>(), a in any::<usize>(), b in any::<usize>(), byte in any::<u8>()
    ) {
        let text = mutate(CHAIN, kind, a, b, byte);
        match ChainReader::new(text.as_bytes(), "fuzz.csv") {
            Ok(r) => {
                for s in r {
                    match s {
                        Ok(s) => prop_assert!(s.entries.iter().all(|e| e.contract.strike > rust_decimal::Decimal::ZERO)),
                        Err(e) => {
                            prop_assert!(e.to_string().contains("fuzz.csv"), "{}", e);
                            break;
                        }
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.csv"), "{}", e),
        }
    }
}
