//! Backtests and sweeps on recorded data (chain files, Deribit CSVs, spot series) or on a
//! seeded synthetic market, run on a worker thread without the GIL and interruptible.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strangle_core::backtest::sweep::{self as core_sweep, Grid, SharedFeed};
use strangle_core::backtest::{Backtest, BacktestResult, Report};
use strangle_core::data::source::{take_error, DataFile, DataKind};
use strangle_core::model::Underlying;
use strangle_core::sim::synthetic::{SyntheticMarket, WalkFeed};
use strangle_core::sim::{MarketFeed, MergedFeed, StaleQuotes};

use crate::errors::{data_error, error, kind_error};
use crate::interrupt::{self, Cancel, Cancellable};
use crate::profiles;
use crate::topy::to_py;
use strangle_core::error::ErrorKind;

/// Where a backtest's market comes from (the JSON the Python package sends).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DataSpec {
    /// A data file, recognised by its first line.
    File {
        path: String,
        #[serde(default)]
        quoted_size: Option<Decimal>,
        #[serde(default)]
        iv: Option<String>,
        #[serde(default)]
        from: Option<DateTime<Utc>>,
        #[serde(default)]
        until: Option<DateTime<Utc>>,
    },
    /// A seeded random walk priced into chains.
    Synthetic(Synthetic),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Synthetic {
    seed: u64,
    start: DateTime<Utc>,
    days: f64,
    underlying: Underlying,
    spot: Option<f64>,
    iv: f64,
    step_minutes: i64,
    max_move: f64,
}

impl Synthetic {
    fn check(&self) -> PyResult<()> {
        let bad = |m: String| PyValueError::new_err(format!("synthetic market: {m}"));
        if !(self.days > 0.0 && self.days <= 3660.0) {
            return Err(bad(format!("days must be in (0, 3660], not {}", self.days)));
        }
        if !(self.iv > 0.0 && self.iv <= 5.0) {
            return Err(bad(format!("iv must be in (0, 5], not {}", self.iv)));
        }
        if !(1..=1440).contains(&self.step_minutes) {
            return Err(bad(format!(
                "step_minutes must be 1 to 1440, not {}",
                self.step_minutes
            )));
        }
        if !(self.max_move > 0.0 && self.max_move < 0.5) {
            return Err(bad(format!(
                "max_move must be in (0, 0.5), not {}",
                self.max_move
            )));
        }
        if let Some(s) = self.spot.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(bad(format!("spot must be positive, not {s}")));
        }
        Ok(())
    }

    fn end(&self) -> DateTime<Utc> {
        self.start + Duration::seconds((self.days * 86_400.0) as i64)
    }

    fn feed(&self) -> WalkFeed {
        let (market, spot) = match self.underlying {
            Underlying::Btc => (SyntheticMarket::btc(), strangle_delta_market::DEMO_BTC.0),
            Underlying::Eth => (SyntheticMarket::eth(), strangle_delta_market::DEMO_ETH.0),
        };
        WalkFeed::new(
            vec![(market, self.spot.unwrap_or(spot), self.iv)],
            self.seed,
            self.max_move,
            self.start,
            Duration::minutes(self.step_minutes),
        )
    }
}

/// A prepared market: how to make a feed (once for a backtest, once per run for a sweep).
enum Market {
    File(DataFile),
    Synthetic(Synthetic),
}

fn market(spec_json: &str) -> PyResult<Market> {
    let spec: DataSpec =
        serde_json::from_str(spec_json).map_err(|e| PyValueError::new_err(format!("data: {e}")))?;
    Ok(match spec {
        DataSpec::File {
            path,
            quoted_size,
            iv,
            from,
            until,
        } => {
            let file = DataFile::open(&path).map_err(data_error)?;
            if file.kind != DataKind::Spot && (iv.is_some() || from.is_some()) {
                return Err(PyValueError::new_err(format!(
                    "{path}: iv and start apply to spot series only"
                )));
            }
            Market::File(DataFile {
                quoted_size: quoted_size.unwrap_or(Decimal::ONE),
                iv: iv.map(Into::into),
                from,
                until,
                ..file
            })
        }
        DataSpec::Synthetic(s) => {
            s.check()?;
            Market::Synthetic(s)
        }
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    cash: Decimal,
    poll_seconds: i64,
    until: Option<DateTime<Utc>>,
    #[serde(default)]
    stale_quotes: StaleQuotes,
}

fn settings(profile_json: &str, options_json: &str) -> PyResult<Backtest> {
    let profile = profiles::parse(profile_json)?;
    let o: Options = serde_json::from_str(options_json)
        .map_err(|e| PyValueError::new_err(format!("backtest options: {e}")))?;
    if o.cash <= Decimal::ZERO {
        return Err(PyValueError::new_err(format!(
            "cash must be positive, not {}",
            o.cash
        )));
    }
    if !(1..=86_400).contains(&o.poll_seconds) {
        return Err(PyValueError::new_err(format!(
            "poll_seconds must be 1 to 86400, not {}",
            o.poll_seconds
        )));
    }
    Ok(Backtest {
        cash: o.cash,
        poll: Duration::seconds(o.poll_seconds),
        until: o.until,
        stale_quotes: o.stale_quotes,
        ..Backtest::new(profile)
    })
}

fn run_one(bt: &Backtest, market: &Market, cancel: Cancel) -> Result<BacktestResult, PyErr> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| kind_error(ErrorKind::Failed, format!("cannot start a runtime: {e}")))?;
    let fail = |e: strangle_core::Error| error(e);
    match market {
        Market::File(file) => {
            let feed = file.feed().map_err(data_error)?;
            let errors = feed.error_slot();
            let res = rt.block_on(bt.run(Cancellable::new(Box::new(feed), cancel)));
            take_error(errors.as_ref()).map_err(data_error)?;
            res.map_err(fail)
        }
        Market::Synthetic(s) => {
            let bt = Backtest {
                until: Some(bt.until.map_or(s.end(), |u| u.min(s.end()))),
                ..bt.clone()
            };
            rt.block_on(bt.run(Cancellable::new(Box::new(s.feed()), cancel)))
                .map_err(fail)
        }
    }
}

/// Runs a backtest of a profile on a data source, on a worker thread without the GIL
/// (Ctrl-C interrupts it). Returns `{"result", "report", "html", "legs_csv"}`.
#[pyfunction]
pub fn backtest(
    py: Python<'_>,
    profile_json: &str,
    data_json: &str,
    options_json: &str,
) -> PyResult<PyObject> {
    let bt = settings(profile_json, options_json)?;
    let market = market(data_json)?;
    let result = interrupt::run(py, move |cancel| run_one(&bt, &market, cancel))??;
    let report = Report::new(&result);
    let html = report.to_html(&result);
    let csv = Report::legs_csv(&result);
    #[derive(Serialize)]
    struct Outcome<'a> {
        result: &'a BacktestResult,
        report: &'a Report,
        html: String,
        legs_csv: String,
    }
    to_py(
        py,
        &Outcome {
            result: &result,
            report: &report,
            html,
            legs_csv: csv,
        },
    )
}

/// Runs several profiles on the same data (the sources of `data_json`, merged in time order:
/// BTC and ETH, say) under one account risk governor (`risk_json`, the limits), with a
/// simulated operator who resets a halt the next trading day (`reset = "next_day"`) or never.
/// On a worker thread without the GIL; Ctrl-C interrupts it. Returns `{"runs": [{"result",
/// "report", "html", "legs_csv"} per profile], "transitions", "account" (the account's
/// analytics), "risk"}`.
#[pyfunction]
pub fn backtest_portfolio(
    py: Python<'_>,
    profiles_json: Vec<String>,
    data_json: Vec<String>,
    options_json: &str,
    risk_json: &str,
    reset: &str,
) -> PyResult<PyObject> {
    use strangle_core::backtest::portfolio::{OperatorReset, Portfolio, PortfolioResult};
    let mut runs = Vec::with_capacity(profiles_json.len());
    for p in &profiles_json {
        runs.push(settings(p, options_json)?);
    }
    let markets = data_json
        .iter()
        .map(|d| market(d))
        .collect::<PyResult<Vec<_>>>()?;
    if markets.is_empty() {
        return Err(PyValueError::new_err("data: at least one source"));
    }
    for m in &markets {
        runs = within_synthetic(runs, m);
    }
    let risk =
        serde_json::from_str(risk_json).map_err(|e| PyValueError::new_err(format!("risk: {e}")))?;
    let reset = match reset {
        "next_day" => OperatorReset::NextDay,
        "never" => OperatorReset::Never,
        other => {
            return Err(PyValueError::new_err(format!(
                "reset must be 'next_day' or 'never', not {other:?}"
            )))
        }
    };
    let portfolio = Portfolio { runs, risk, reset };
    let result = interrupt::run(py, move |cancel| -> PyResult<PortfolioResult> {
        let makers = markets
            .iter()
            .map(feed_factory)
            .collect::<PyResult<Vec<_>>>()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| kind_error(ErrorKind::Failed, format!("cannot start a runtime: {e}")))?;
        rt.block_on(portfolio.run_with(|| {
            let feeds = makers.iter().map(|make| make()).collect();
            Cancellable::new(Box::new(MergedFeed::new(feeds)), cancel.clone())
        }))
        .map_err(crate::errors::profile_error)
    })??;
    #[derive(Serialize)]
    struct Run<'a> {
        result: &'a BacktestResult,
        report: Report,
        html: String,
        legs_csv: String,
    }
    #[derive(Serialize)]
    struct Outcome<'a> {
        runs: Vec<Run<'a>>,
        transitions: &'a [strangle_core::governor::Transition],
        account: &'a strangle_core::analytics::Analytics,
        risk: &'a strangle_core::governor::AccountRisk,
    }
    let runs = result
        .runs
        .iter()
        .map(|r| {
            let report = Report::new(r);
            Run {
                html: report.to_html(r),
                legs_csv: Report::legs_csv(r),
                report,
                result: r,
            }
        })
        .collect();
    to_py(
        py,
        &Outcome {
            runs,
            transitions: &result.transitions,
            account: &result.account,
            risk: &result.risk,
        },
    )
}

/// Runs one backtest per profile of `grid` (`{"dotted.field": [values]}` over the base
/// profile) on `threads` worker threads, without the GIL and interruptible. Returns
/// `{"rows": [ranked rows], "profiles": {name: profile}}`.
#[pyfunction]
#[pyo3(signature = (profile_json, grid_json, data_json, options_json, threads=None))]
pub fn sweep(
    py: Python<'_>,
    profile_json: &str,
    grid_json: &str,
    data_json: &str,
    options_json: &str,
    threads: Option<usize>,
) -> PyResult<PyObject> {
    let bt = settings(profile_json, options_json)?;
    let grid_value: serde_json::Value =
        serde_json::from_str(grid_json).map_err(|e| PyValueError::new_err(format!("grid: {e}")))?;
    let grid =
        Grid::from_json(&grid_value).map_err(|e| PyValueError::new_err(format!("grid: {e}")))?;
    let variants = grid
        .profiles(&bt.profile)
        .map_err(crate::errors::profile_error)?;
    let market = market(data_json)?;
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let runs: Vec<Backtest> = variants
        .iter()
        .map(|v| Backtest {
            profile: v.profile.clone(),
            ..bt.clone()
        })
        .collect();
    let results = interrupt::run(py, move |cancel| -> PyResult<_> {
        let make = feed_factory(&market)?;
        let runs = within_synthetic(runs, &market);
        Ok(core_sweep::sweep_with(
            &runs,
            threads,
            || Cancellable::new(make(), cancel.clone()),
            |_| {},
        ))
    })??;
    let rows = core_sweep::rank(&variants, &results);
    ranked(py, &variants, rows)
}

/// `{"rows": [ranked rows], "profiles": {name: profile}}`, as `sweep` returns it.
fn ranked(
    py: Python<'_>,
    variants: &[core_sweep::Variant],
    rows: Vec<core_sweep::SweepRow>,
) -> PyResult<PyObject> {
    #[derive(Serialize)]
    struct Ranked<'a> {
        rows: Vec<core_sweep::SweepRow>,
        profiles: std::collections::BTreeMap<&'a str, &'a strangle_core::profile::Profile>,
    }
    let profiles = variants
        .iter()
        .map(|v| (v.profile.name.as_str(), &v.profile))
        .collect();
    to_py(py, &Ranked { rows, profiles })
}

/// A fresh feed of the market for each run: one shared copy of a chain file, a series or a
/// synthetic walk.
type FeedFactory = Box<dyn Fn() -> Box<dyn MarketFeed> + Sync>;

fn feed_factory(market: &Market) -> PyResult<FeedFactory> {
    Ok(match market {
        Market::File(file) if file.kind == DataKind::Spot => {
            let feed = file.series_feed().map_err(data_error)?;
            Box::new(move || Box::new(feed.clone()))
        }
        Market::File(file) => {
            let data = Arc::new(file.load_all().map_err(data_error)?);
            Box::new(move || Box::new(SharedFeed::new(data.clone())))
        }
        Market::Synthetic(s) => {
            let feed = s.feed();
            Box::new(move || Box::new(feed.clone()))
        }
    })
}

/// Runs on a synthetic market end where the market does.
fn within_synthetic(runs: Vec<Backtest>, market: &Market) -> Vec<Backtest> {
    match market {
        Market::Synthetic(s) => runs
            .into_iter()
            .map(|r| Backtest {
                until: Some(r.until.map_or(s.end(), |u| u.min(s.end()))),
                ..r
            })
            .collect(),
        Market::File(_) => runs,
    }
}

/// The profiles of a sweep, in grid order, each as the JSON a task takes
/// ([`sweep_task`]): what `strangle.sweep` hands an executor, one task per profile.
#[pyfunction]
pub fn sweep_plan(profile_json: &str, grid_json: &str) -> PyResult<Vec<String>> {
    let variants = plan(profile_json, grid_json)?;
    variants
        .iter()
        .map(|v| {
            serde_json::to_string(&v.profile)
                .map_err(|e| PyValueError::new_err(format!("profile to JSON: {e}")))
        })
        .collect()
}

fn plan(profile_json: &str, grid_json: &str) -> PyResult<Vec<core_sweep::Variant>> {
    let base = profiles::parse(profile_json)?;
    let grid_value: serde_json::Value =
        serde_json::from_str(grid_json).map_err(|e| PyValueError::new_err(format!("grid: {e}")))?;
    let grid =
        Grid::from_json(&grid_value).map_err(|e| PyValueError::new_err(format!("grid: {e}")))?;
    grid.profiles(&base).map_err(crate::errors::profile_error)
}

/// One task of a sweep on an executor: the backtest of one profile, without the GIL.
/// Returns `{"kpis": …}` or `{"error": "…"}` as JSON text (a failed run is a row of the
/// sweep, as in the in-process sweep, not an exception).
#[pyfunction]
pub fn sweep_task(
    py: Python<'_>,
    profile_json: &str,
    data_json: &str,
    options_json: &str,
) -> PyResult<String> {
    let bt = settings(profile_json, options_json)?;
    let market = market(data_json)?;
    let outcome = interrupt::run(py, move |cancel| -> PyResult<_> {
        let make = feed_factory(&market)?;
        let bt = within_synthetic(vec![bt], &market).remove(0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| kind_error(ErrorKind::Failed, format!("cannot start a runtime: {e}")))?;
        Ok(rt.block_on(bt.run(Cancellable::new(make(), cancel))))
    })??;
    serde_json::to_string(&core_sweep::Outcome::of(&outcome))
        .map_err(|e| PyValueError::new_err(format!("outcome: {e}")))
}

/// Ranks the outcomes of [`sweep_task`]s, given in [`sweep_plan`]'s order, exactly as the
/// in-process sweep ranks its runs. Returns what `sweep` returns.
#[pyfunction]
pub fn sweep_rank(
    py: Python<'_>,
    profile_json: &str,
    grid_json: &str,
    outcomes: Vec<String>,
) -> PyResult<PyObject> {
    let variants = plan(profile_json, grid_json)?;
    if outcomes.len() != variants.len() {
        return Err(PyValueError::new_err(format!(
            "{} outcomes for {} profiles",
            outcomes.len(),
            variants.len()
        )));
    }
    let outcomes = outcomes
        .iter()
        .map(|o| {
            serde_json::from_str::<core_sweep::Outcome>(o)
                .map_err(|e| PyValueError::new_err(format!("outcome: {e}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let rows = core_sweep::rank_outcomes(&variants, &outcomes);
    ranked(py, &variants, rows)
}
