//! A ledger opened read-only from Python: sessions, legs, orders, fills, audit events,
//! analytics and profiles, from a SQLite file or a PostgreSQL URL.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Deserialize;
use strangle_core::ledger::{Mode, SessionState};
use strangle_store::{SessionFilter, Store};

use crate::errors::error;
use crate::interrupt::runtime;
use crate::topy::to_py;

/// The filter the Python package sends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    profile: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    state: Option<SessionState>,
    mode: Option<Mode>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn filter(json: &str) -> PyResult<SessionFilter> {
    let f: Filter =
        serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("filter: {e}")))?;
    let limit = f.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(PyValueError::new_err(format!(
            "limit must be 1 to 1000, not {limit}"
        )));
    }
    let offset = f.offset.unwrap_or(0);
    if offset < 0 {
        return Err(PyValueError::new_err(format!(
            "offset must not be negative, not {offset}"
        )));
    }
    Ok(SessionFilter {
        profile: f.profile,
        from: f.from,
        to: f.to,
        state: f.state,
        mode: f.mode,
        limit,
        offset,
    })
}

/// A ledger opened for reading only (the database refuses writes on its connections).
#[pyclass(module = "strangle._strangle", frozen)]
pub struct NativeLedger {
    store: Arc<Store>,
}

impl NativeLedger {
    fn block<T: Send>(
        &self,
        py: Python<'_>,
        f: impl std::future::Future<Output = Result<T, strangle_store::StoreError>> + Send,
    ) -> PyResult<T> {
        let rt = runtime()?;
        py.allow_threads(|| rt.block_on(f)).map_err(error)
    }
}

#[pymethods]
impl NativeLedger {
    /// Opens the ledger at `location` (a SQLite path or a `postgres://` URL) read-only.
    #[new]
    #[pyo3(signature = (location, schema=None))]
    fn new(py: Python<'_>, location: &str, schema: Option<&str>) -> PyResult<Self> {
        let rt = runtime()?;
        let store = py
            .allow_threads(|| rt.block_on(Store::open_read_only(location, schema)))
            .map_err(error)?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// One page of sessions (newest first): `{"items", "total", "limit", "offset"}`.
    fn sessions(&self, py: Python<'_>, filter_json: &str) -> PyResult<PyObject> {
        let f = filter(filter_json)?;
        to_py(py, &self.block(py, self.store.list_sessions(&f))?)
    }

    /// Every matching session (oldest first).
    fn all_sessions(&self, py: Python<'_>, filter_json: &str) -> PyResult<PyObject> {
        let f = filter(filter_json)?;
        to_py(py, &self.block(py, self.store.all_sessions(&f))?)
    }

    /// One session with its legs, orders, fills and audit events, or `None`.
    fn session(&self, py: Python<'_>, session_id: &str) -> PyResult<PyObject> {
        to_py(py, &self.block(py, self.store.session_detail(session_id))?)
    }

    /// KPIs and series over the matching closed sessions.
    fn analytics(&self, py: Python<'_>, filter_json: &str) -> PyResult<PyObject> {
        let f = filter(filter_json)?;
        to_py(py, &self.block(py, self.store.analytics(&f))?)
    }

    /// The matching sessions as CSV.
    fn sessions_csv(&self, py: Python<'_>, filter_json: &str) -> PyResult<String> {
        let f = filter(filter_json)?;
        self.block(py, self.store.sessions_csv(&f))
    }

    /// A session's PnL marks, oldest first, thinned to about `points` (0: every mark):
    /// `{"marks": [...], "total": n}`.
    fn marks(&self, py: Python<'_>, session_id: &str, points: usize) -> PyResult<PyObject> {
        let points = if points == 0 { usize::MAX } else { points };
        #[derive(serde::Serialize)]
        struct Marks {
            marks: Vec<strangle_core::ledger::PnlMark>,
            total: usize,
        }
        let (marks, total) = self.block(py, self.store.marks(session_id, points))?;
        // Typed (not through a JSON value), so decimals and times arrive as Python's own.
        to_py(py, &Marks { marks, total })
    }

    /// The modes the ledger has sessions in (`live`, `paper`, `sim`, `backtest`).
    fn modes(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &self.block(py, self.store.modes())?)
    }

    /// The account risk governor as the ledger holds it, with the day's figures at
    /// `now_rfc3339` (default: now): `{"limits", "state", "why", "governor", "day_pnl",
    /// "open_pnl", "version", "updated_at"}`, or `None` when no limits are set.
    #[pyo3(signature = (now_rfc3339=None))]
    fn risk(&self, py: Python<'_>, now_rfc3339: Option<&str>) -> PyResult<PyObject> {
        let now = match now_rfc3339 {
            Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("now: {e}")))?
                .with_timezone(&chrono::Utc),
            None => chrono::Utc::now(),
        };
        let rt = runtime()?;
        let store = self.store.clone();
        let st = py
            .allow_threads(|| rt.block_on(strangle_core::governor::status(&*store, now, &[])))
            .map_err(error)?;
        #[derive(serde::Serialize)]
        struct Risk {
            limits: strangle_core::governor::AccountRisk,
            state: strangle_core::governor::RiskState,
            why: Option<String>,
            governor: strangle_core::governor::GovernorState,
            day_pnl: rust_decimal::Decimal,
            open_pnl: rust_decimal::Decimal,
            version: i64,
            updated_at: chrono::DateTime<chrono::Utc>,
        }
        let out = st.map(|s| Risk {
            state: s.record.state.state,
            why: s.record.state.trigger.as_ref().map(ToString::to_string),
            limits: s.record.limits,
            governor: s.record.state,
            day_pnl: s.day_pnl,
            open_pnl: s.open_pnl,
            version: s.record.version,
            updated_at: s.record.updated_at,
        });
        to_py(py, &out)
    }

    /// Every stored profile (`id`, `active`, `created_at`, `updated_at`, `profile`).
    fn profiles(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &self.block(py, self.store.profiles())?)
    }
}
