//! README promises the dashboard "a form for every field" of a profile: every setting of a
//! profile (each leaf of its JSON, optional groups filled in) has a field in the page's form
//! list (`FIELDS` in `app.js`), or is edited by the trailing tiers' own editor.

use serde_json::Value;
use strangle_core::profile::Profile;

/// Every leaf of `v` as a dotted path.
fn leaves(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&p, x, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[test]
fn the_dashboard_form_has_a_field_for_every_setting() {
    let app = include_str!("../src/serve/web/app.js");
    // Optional groups filled in, so that their fields are listed too.
    let p: Profile = serde_json::from_value(serde_json::json!({
        "name": "all",
        "contract_size": "0.001",
        "premium_windows": {"call": {"min": "1", "max": "2"}, "put": {"min": "1", "max": "2"}},
        "liquidity": {"min_open_interest": "10"},
        "trailing": {"step": {"every_pct": "10", "lock_pct": "5"}},
        "gates": {"weekdays": ["mon"], "max_pair_spread_pct": "8"},
        "leg_exit": {"stop_pct": "60"},
        "reentry": {"max_per_day": 1},
    }))
    .expect("profile");
    let mut paths = Vec::new();
    leaves("", &serde_json::to_value(&p).expect("json"), &mut paths);
    let missing: Vec<&String> = paths
        .iter()
        // The tiers are a list with an editor of their own (data-tier-key).
        .filter(|p| p.as_str() != "trailing.tiers")
        .filter(|p| !app.contains(&format!("[\"{p}\"")))
        .collect();
    assert!(missing.is_empty(), "no form field for {missing:?}");
    assert!(app.contains("data-tier-key"), "the tiers' editor");
}
