//! Parameter sweeps: a grid of profiles run in parallel over the same data, ranked.
//!
//! A [`Grid`] maps dotted profile fields (`delta_band.low`, `entry_time`,
//! `trailing.tiers`, …) to the values to try; [`Grid::profiles`] builds every combination
//! from a base profile (each validated, each named `<base>#<n>`), and [`sweep`] runs them on
//! worker threads over one shared copy of the data. Results come back in grid order and
//! [`rank`] orders them by net PnL (then drawdown, then name), so the table is the same
//! whatever the thread count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Backtest, BacktestResult, Kpis};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::model::ChainSnapshot;
use crate::profile::Profile;
use crate::sim::MarketFeed;

/// The values to try, per dotted field path, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    axes: Vec<(String, Vec<Value>)>,
}

/// One profile of a sweep and what it tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The profile (named `<base>#<n>`).
    pub profile: Profile,
    /// `field=value` for each axis.
    pub params: String,
}

/// One ranked line of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// 1 = best.
    pub rank: usize,
    /// Profile name.
    pub name: String,
    /// `field=value` for each axis.
    pub params: String,
    /// The KPIs, or `None` when the run failed.
    pub kpis: Option<Kpis>,
    /// Why the run failed.
    pub error: Option<String>,
}

impl Grid {
    /// A grid from a JSON object of `"dotted.path": [values…]` (a TOML table converts to
    /// one). Every key must hold a non-empty array.
    pub fn from_json(v: &Value) -> Result<Self> {
        let obj = v
            .as_object()
            .ok_or_else(|| invalid("the grid must be a table of field = [values]"))?;
        let mut axes = Vec::new();
        for (k, vals) in obj {
            let arr = vals
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| invalid(&format!("{k}: expected a non-empty list of values")))?;
            axes.push((k.clone(), arr.clone()));
        }
        if axes.is_empty() {
            return Err(invalid("the grid has no field"));
        }
        Ok(Self { axes })
    }

    /// How many profiles the grid makes.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every combination applied to `base`, validated; the first bad one is reported with
    /// its parameters and every field error.
    pub fn profiles(&self, base: &Profile) -> Result<Vec<Variant>> {
        let mut base_json = serde_json::to_value(base).map_err(|e| invalid(&e.to_string()))?;
        // A profile leaves out its gates while all are off: put them back, so a grid can
        // set one.
        if let Some(obj) = base_json.as_object_mut() {
            if !obj.contains_key("gates") {
                let gates =
                    serde_json::to_value(&base.gates).map_err(|e| invalid(&e.to_string()))?;
                obj.insert("gates".into(), gates);
            }
        }
        let mut out = Vec::with_capacity(self.len());
        for n in 0..self.len() {
            let mut v = base_json.clone();
            let mut rest = n;
            let mut params = Vec::new();
            // The last axis varies fastest.
            let mut picks = vec![0; self.axes.len()];
            for (i, (_, vals)) in self.axes.iter().enumerate().rev() {
                picks[i] = rest % vals.len();
                rest /= vals.len();
            }
            for ((path, vals), pick) in self.axes.iter().zip(picks) {
                let val = &vals[pick];
                set_path(&mut v, path)
                    .map(|slot| *slot = val.clone())
                    .ok_or_else(|| invalid(&format!("{path}: no such profile field")))?;
                params.push(format!("{path}={}", compact(val)));
            }
            let params = params.join(", ");
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "name".into(),
                    Value::String(format!("{}#{}", base.name, n + 1)),
                );
            }
            let profile: Profile =
                serde_json::from_value(v).map_err(|e| invalid(&format!("{params}: {e}")))?;
            profile
                .validate()
                .map_err(|e| invalid(&format!("{params}: {e}")))?;
            out.push(Variant { profile, params });
        }
        Ok(out)
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A grid that cannot make profiles: bad input, reported on the field `grid`.
fn invalid(m: &str) -> Error {
    Error::InvalidProfile(ValidationErrors(vec![FieldError {
        field: "grid".into(),
        message: m.to_string(),
    }]))
}

/// The slot at a dotted path, if every parent is an object and the field exists.
fn set_path<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.as_object_mut()?.get_mut(part)?;
    }
    Some(cur)
}

/// A feed over snapshots shared between runs (each run clones what it consumes).
#[derive(Debug, Clone)]
pub struct SharedFeed {
    data: Arc<Vec<ChainSnapshot>>,
    next: usize,
}

impl SharedFeed {
    /// A feed from the start of `data` (which must be in time order).
    pub fn new(data: Arc<Vec<ChainSnapshot>>) -> Self {
        Self { data, next: 0 }
    }
}

impl MarketFeed for SharedFeed {
    fn peek_time(&mut self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.data.get(self.next).map(|s| s.timestamp)
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        let s = self.data.get(self.next)?.clone();
        self.next += 1;
        Some(s)
    }
}

/// Runs every backtest over `data` on `threads` worker threads (at least one); results in
/// the order of `runs`. `done` is called after each run with the number finished.
pub fn sweep(
    data: Arc<Vec<ChainSnapshot>>,
    runs: &[Backtest],
    threads: usize,
    done: impl Fn(usize) + Sync,
) -> Vec<Result<BacktestResult>> {
    sweep_with(runs, threads, || SharedFeed::new(data.clone()), done)
}

/// Like [`sweep`], with each run reading its own feed from `feed` (e.g. a lazily priced
/// [`crate::data::series::SeriesFeed`], so no run holds every chain in memory).
pub fn sweep_with<F: MarketFeed + 'static>(
    runs: &[Backtest],
    threads: usize,
    feed: impl Fn() -> F + Sync,
    done: impl Fn(usize) + Sync,
) -> Vec<Result<BacktestResult>> {
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<BacktestResult>>>> =
        Mutex::new((0..runs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(runs.len().max(1)) {
            scope.spawn(|| {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let msg = format!("cannot start a worker runtime: {e}");
                        if let Ok(mut r) = results.lock() {
                            for slot in r.iter_mut().filter(|s| s.is_none()) {
                                *slot = Some(Err(Error::Engine(msg.clone())));
                            }
                        }
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = runs.get(i) else { break };
                    let res = rt.block_on(run.run(feed()));
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(res);
                    }
                    done(finished.fetch_add(1, Ordering::Relaxed) + 1);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::Engine("the run did not finish".into()))))
        .collect()
}

/// What one run of a sweep came to: its KPIs, or why it failed. What a run on another
/// process or machine sends back ([`rank_outcomes`] ranks them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The run's KPIs.
    Kpis(Box<Kpis>),
    /// The run's error, as text.
    Error(String),
}

impl Outcome {
    /// The outcome of a run.
    pub fn of(r: &Result<BacktestResult>) -> Self {
        match r {
            Ok(r) => Outcome::Kpis(Box::new(r.report().kpis)),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }
}

/// Ranks results: highest net first, then smallest drawdown, then name; failed runs last.
pub fn rank(variants: &[Variant], results: &[Result<BacktestResult>]) -> Vec<SweepRow> {
    let outcomes: Vec<Outcome> = results.iter().map(Outcome::of).collect();
    rank_outcomes(variants, &outcomes)
}

/// [`rank`] of outcomes, one per variant in grid order (runs made elsewhere).
pub fn rank_outcomes(variants: &[Variant], outcomes: &[Outcome]) -> Vec<SweepRow> {
    let mut rows: Vec<SweepRow> = variants
        .iter()
        .zip(outcomes)
        .map(|(v, o)| SweepRow {
            rank: 0,
            name: v.profile.name.clone(),
            params: v.params.clone(),
            kpis: match o {
                Outcome::Kpis(k) => Some((**k).clone()),
                Outcome::Error(_) => None,
            },
            error: match o {
                Outcome::Kpis(_) => None,
                Outcome::Error(e) => Some(e.clone()),
            },
        })
        .collect();
    rows.sort_by(|a, b| match (&a.kpis, &b.kpis) {
        (Some(x), Some(y)) => y
            .totals
            .net
            .cmp(&x.totals.net)
            .then(x.max_drawdown.cmp(&y.max_drawdown))
            .then(a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    rows
}

/// The ranked rows as a terminal table.
pub fn table(rows: &[SweepRow]) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:>4} {:<18} {:>8} {:>12} {:>10} {:>8} {:>12} {:>8}  params",
        "rank", "profile", "sessions", "net USD", "fees", "win %", "max DD", "Sharpe"
    );
    for r in rows {
        match &r.kpis {
            Some(k) => {
                let _ = writeln!(
                    o,
                    "{:>4} {:<18} {:>8} {:>12} {:>10} {:>8} {:>12} {:>8}  {}",
                    r.rank,
                    r.name,
                    k.sessions,
                    k.totals.net.round_dp(4),
                    k.totals.fees.round_dp(4),
                    k.outcomes
                        .win_rate_pct
                        .map_or("-".into(), |v| v.round_dp(1).to_string()),
                    k.max_drawdown.round_dp(4),
                    k.sharpe.map_or("-".into(), |v| format!("{v:.2}")),
                    r.params
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "{:>4} {:<18} failed: {}  {}",
                    r.rank,
                    r.name,
                    r.error.as_deref().unwrap_or("unknown"),
                    r.params
                );
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn a_grid_makes_every_combination_and_names_bad_fields() {
        let g = Grid::from_json(&serde_json::json!({
            "delta_band.low": [0.08, 0.1],
            "entry_time": ["09:30", "10:00", "10:30"]
        }))
        .expect("grid");
        assert_eq!(g.len(), 6);
        let v = g.profiles(&Profile::named("base")).expect("profiles");
        assert_eq!(v.len(), 6);
        assert_eq!(v[0].profile.name, "base#1");
        assert_eq!(v[5].params, "delta_band.low=0.1, entry_time=10:30");
        assert_eq!(v[5].profile.entry_time.to_string(), "10:30");
        let bad = Grid::from_json(&serde_json::json!({"delta_band.lo": [0.1]})).expect("grid");
        let e = bad
            .profiles(&Profile::named("b"))
            .expect_err("no such field");
        assert!(
            e.to_string()
                .contains("delta_band.lo: no such profile field"),
            "{e}"
        );
        let bad = Grid::from_json(&serde_json::json!({"delta_band.low": [0.5]})).expect("grid");
        let e = bad
            .profiles(&Profile::named("b"))
            .expect_err("invalid band");
        assert!(e.to_string().contains("delta_band"), "{e}");
        assert!(Grid::from_json(&serde_json::json!({"x": []})).is_err());
    }

    #[test]
    fn every_entry_gate_can_be_gridded_on_a_profile_without_gates() {
        let g = Grid::from_json(&serde_json::json!({
            "gates.weekdays": [["mon", "tue"]],
            "gates.skip_dates": [[{"date": "2026-12-16", "reason": "FOMC"}]],
            "gates.min_hours_to_expiry": [null, 6],
            "gates.max_hours_to_expiry": [30],
            "gates.min_atm_iv_pct": [35],
            "gates.max_atm_iv_pct": [90],
            "gates.max_pair_spread_pct": [5, 10]
        }))
        .expect("grid");
        let v = g.profiles(&Profile::named("base")).expect("profiles");
        assert_eq!(v.len(), 4);
        let last = &v[3].profile.gates;
        assert_eq!(last.min_hours_to_expiry, Some(6));
        assert_eq!(last.max_pair_spread_pct, Some(Decimal::TEN));
        assert_eq!(last.skip_dates[0].reason, "FOMC");
        assert_eq!(v[0].profile.gates.min_hours_to_expiry, None);
    }
}
