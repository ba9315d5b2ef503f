//! Trading sessions started from Python (simulated, paper or live, through
//! `strangle_delta_runtime`, the same wiring as `strangle run`) and the Delta-compatible
//! local market, all on the package's tokio runtime.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use strangle_core::clock::{Clock, ScaledClock, SystemClock};
use strangle_core::engine::{EngineCommand, EngineHandle};
use strangle_core::memory::MemoryLedger;
use strangle_delta::{Credentials, Environment};
use strangle_delta_market::{demo_credentials, sim_market_source, LocalServer, ServerConfig};
use strangle_delta_runtime::{
    LiveRequest, Market, MarketKind, MarketRequest, RunSpec, RunningEngine, SimRequest,
};
use strangle_store::{PgStore, Store};

use crate::errors::{error, kind_error};
use crate::interrupt::runtime;
use crate::profiles;
use crate::topy::to_py;
use strangle_core::error::ErrorKind;

/// The market the Python package asks for.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum MarketSpec {
    Sim {
        seed: u64,
        speed: Option<f64>,
        start: Option<DateTime<Utc>>,
        fast_forward_hours: Option<f64>,
    },
    Paper {
        env: String,
        cash: Decimal,
    },
    Live {
        env: String,
        confirm: bool,
    },
}

fn env(name: &str) -> PyResult<Environment> {
    name.parse().map_err(PyValueError::new_err)
}

fn market(
    spec: MarketSpec,
    api_key: Option<String>,
    api_secret: Option<String>,
) -> PyResult<Market> {
    let request = match spec {
        MarketSpec::Sim {
            seed,
            speed,
            start,
            fast_forward_hours,
        } => {
            if let Some(h) = fast_forward_hours.filter(|h| !(*h > 0.0 && *h <= 24.0 * 3660.0)) {
                return Err(PyValueError::new_err(format!(
                    "fast_forward_hours must be in (0, 87840], not {h}"
                )));
            }
            let mut request = MarketRequest::new(MarketKind::Sim, Environment::IndiaProduction);
            request.sim = SimRequest {
                seed,
                start,
                speed,
                fast_forward: fast_forward_hours.map(|h| Duration::seconds((h * 3600.0) as i64)),
                ..SimRequest::default()
            };
            request
        }
        MarketSpec::Paper { env: e, cash } => MarketRequest {
            cash: Some(cash),
            ..MarketRequest::new(MarketKind::Paper, env(&e)?)
        },
        MarketSpec::Live { env: e, confirm } => {
            let credentials = match (api_key, api_secret) {
                (Some(k), Some(s)) => Some(Credentials::new(k, s).map_err(error)?),
                (None, None) => None,
                _ => {
                    return Err(kind_error(
                        ErrorKind::Invalid,
                        "pass both api_key and api_secret, or neither",
                    ))
                }
            };
            MarketRequest {
                live: LiveRequest {
                    confirmed: confirm,
                    how_to_confirm: "pass confirm_live=True to confirm",
                    credentials,
                },
                ..MarketRequest::new(MarketKind::Live, env(&e)?)
            }
        }
    };
    request.build(Utc::now()).map_err(error)
}

/// Opens (creating and migrating) the ledger a session writes to.
async fn open_ledger(
    location: &str,
    schema: Option<&str>,
) -> Result<Store, strangle_store::StoreError> {
    let pg = location.starts_with("postgres://") || location.starts_with("postgresql://");
    match schema {
        Some(s) if pg => Ok(Store::Postgres(
            PgStore::open_in_schema(location, Some(s)).await?,
        )),
        Some(_) => Err(strangle_store::StoreError::Location {
            location: location.into(),
            reason: "a schema applies to PostgreSQL ledgers only".into(),
        }),
        None => Store::open(location).await,
    }
}

fn next_session_number() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// How a session ended: its last heartbeat, or the error that ended it.
/// How a session ended: its last heartbeat, or the kind and text of the error that ended it.
type Ending = Result<strangle_core::strategy::Status, (ErrorKind, String)>;

/// A running (or ended) trading session.
#[pyclass(module = "strangle._strangle", frozen)]
pub struct NativeSession {
    handle: EngineHandle,
    mode: String,
    engine: Mutex<Option<RunningEngine>>,
    ended: Mutex<Option<Ending>>,
    /// The session's ledger, open for the session's life: the engine closes its handle when
    /// it ends, and SQLite would then rewrite the file (its WAL checkpoint) while a reader
    /// that opened it after the session may be looking.
    _store: Option<Arc<Store>>,
}

/// How often `wait` looks at the engine and for Ctrl-C.
const TICK: StdDuration = StdDuration::from_millis(50);

impl NativeSession {
    /// Collects the ended engine's result (once; the engine has flushed the ledger and given
    /// its lease up by then).
    fn finish(&self, py: Python<'_>) -> PyResult<Ending> {
        if let Some(e) = self.ended.lock().map_err(poisoned)?.clone() {
            return Ok(e);
        }
        let engine = self.engine.lock().map_err(poisoned)?.take();
        let rt = runtime()?;
        let ending = py.allow_threads(|| {
            rt.block_on(async move {
                let res = match engine {
                    Some(e) => e.wait().await.map_err(|e| (e.error_kind(), e.to_string())),
                    None => Err((
                        ErrorKind::Failed,
                        "the session's engine was lost".to_string(),
                    )),
                };
                res
            })
        });
        *self.ended.lock().map_err(poisoned)? = Some(ending.clone());
        Ok(ending)
    }

    fn finished(&self) -> PyResult<bool> {
        Ok(self
            .engine
            .lock()
            .map_err(poisoned)?
            .as_ref()
            .is_none_or(|e| e.is_finished()))
    }
}

fn poisoned<T>(_: T) -> PyErr {
    kind_error(
        ErrorKind::Failed,
        "the session's state lock was poisoned by an earlier panic",
    )
}

#[pymethods]
impl NativeSession {
    /// Starts a session: validates the profile, builds the market, opens the ledger (when a
    /// location is given) and takes its lease on the profile, then starts the engine.
    #[staticmethod]
    #[pyo3(signature = (profile_json, market_json, ledger=None, schema=None, poll_seconds=None, adopt=false, api_key=None, api_secret=None))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        py: Python<'_>,
        profile_json: &str,
        market_json: &str,
        ledger: Option<String>,
        schema: Option<String>,
        poll_seconds: Option<i64>,
        adopt: bool,
        api_key: Option<String>,
        api_secret: Option<String>,
    ) -> PyResult<Self> {
        let profile = profiles::parse(profile_json)?;
        let spec: MarketSpec = serde_json::from_str(market_json)
            .map_err(|e| PyValueError::new_err(format!("market: {e}")))?;
        let market = market(spec, api_key, api_secret)?;
        let mut spec = RunSpec::new(profile, market);
        if let Some(p) = poll_seconds {
            if !(1..=3600).contains(&p) {
                return Err(PyValueError::new_err(format!(
                    "poll_seconds must be 1 to 3600, not {p}"
                )));
            }
            spec.poll = Duration::seconds(p);
        }
        spec.adopt = adopt;
        let mode = spec.market.mode().to_string();
        let rt = runtime()?;
        // A holder per session, so that a second session on the same profile in this process
        // is refused like one in another process.
        spec.holder = Some(
            strangle_core::ledger::LeaseHolder::this_process()
                .tagged(format!("py-{}", next_session_number()))
                .to_string(),
        );
        let (engine, store) = py.allow_threads(|| {
            rt.block_on(async move {
                let Some(location) = ledger else {
                    let e = RunningEngine::start(spec, MemoryLedger::default())
                        .await
                        .map_err(error)?;
                    return Ok((e, None));
                };
                let store = Arc::new(
                    open_ledger(&location, schema.as_deref())
                        .await
                        .map_err(error)?,
                );
                // The engine takes the profile's lease and gives it up when it ends.
                let e = RunningEngine::start(spec, store.clone())
                    .await
                    .map_err(error)?;
                Ok::<_, PyErr>((e, Some(store)))
            })
        })?;
        Ok(Self {
            handle: engine.handle().clone(),
            mode,
            engine: Mutex::new(Some(engine)),
            ended: Mutex::new(None),
            _store: store,
        })
    }

    /// `sim`, `paper` or `live`.
    #[getter]
    fn mode(&self) -> &str {
        &self.mode
    }

    /// The latest heartbeat.
    fn status(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_py(py, &self.handle.status())
    }

    /// Whether the engine is still running.
    fn running(&self) -> PyResult<bool> {
        Ok(!self.finished()?)
    }

    /// Flattens open legs, then stops. `False` if the engine had already ended.
    fn stop(&self) -> bool {
        self.handle.send(EngineCommand::Stop)
    }

    /// Cancels working orders and buys every leg back at once (IOC orders priced past the
    /// ask), then stops.
    fn panic(&self) -> bool {
        self.handle.send(EngineCommand::Panic)
    }

    /// Reloads the strategy from the ledger without flattening.
    fn restart(&self) -> bool {
        self.handle.send(EngineCommand::Restart)
    }

    /// Waits for the engine to end (at most `timeout` seconds; Ctrl-C interrupts the wait,
    /// not the session). Returns the last heartbeat, or `None` on timeout; raises
    /// The exception of the error's kind (a `StrangleError`) when the engine ended with one.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyObject>> {
        if let Some(t) = timeout.filter(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(PyValueError::new_err(format!(
                "timeout must be a non-negative number of seconds, not {t}"
            )));
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + StdDuration::from_secs_f64(t));
        while !self.finished()? {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Ok(None);
            }
            py.allow_threads(|| std::thread::sleep(TICK));
            py.check_signals()?;
        }
        match self.finish(py)? {
            Ok(status) => Ok(Some(to_py(py, &status)?)),
            Err((kind, message)) => Err(kind_error(kind, message)),
        }
    }
}

impl Drop for NativeSession {
    /// A session nobody can reach any more is stopped (its open legs flattened) rather than
    /// left trading unwatched.
    fn drop(&mut self) {
        if self.engine.get_mut().ok().is_some_and(|e| e.is_some()) {
            self.handle.send(EngineCommand::Stop);
        }
    }
}

/// The Delta-compatible market, served on loopback from this process.
#[pyclass(module = "strangle._strangle", frozen)]
pub struct NativeLocalServer {
    server: Mutex<Option<LocalServer>>,
    url: String,
    api_key: String,
}

#[pymethods]
impl NativeLocalServer {
    /// Starts the market on `127.0.0.1:port` (0 picks a free port) with the demo account.
    #[new]
    #[pyo3(signature = (seed=1, port=0, speed=None, start=None))]
    fn new(
        py: Python<'_>,
        seed: u64,
        port: u16,
        speed: Option<f64>,
        start: Option<&str>,
    ) -> PyResult<Self> {
        if let Some(s) = speed.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(PyValueError::new_err(format!(
                "speed must be positive, not {s}"
            )));
        }
        let start = start
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| PyValueError::new_err(format!("start: {s:?} is not RFC 3339")))
            })
            .transpose()?;
        let clock: Arc<dyn Clock> = match (speed, start) {
            (None, None) => Arc::new(SystemClock),
            (speed, start) => Arc::new(ScaledClock::new(
                start.unwrap_or_else(Utc::now),
                speed.unwrap_or(1.0),
            )),
        };
        let creds = demo_credentials();
        let api_key = creds.api_key.clone();
        let config = ServerConfig {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            accounts: vec![creds],
            market: sim_market_source(seed, Duration::seconds(5)),
            clock,
            ..ServerConfig::default()
        };
        let rt = runtime()?;
        let server = py
            .allow_threads(|| rt.block_on(LocalServer::start(config)))
            .map_err(error)?;
        Ok(Self {
            url: server.base_url(),
            server: Mutex::new(Some(server)),
            api_key,
        })
    }

    /// The REST base URL (also the environment to pass to a session).
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The API key the market accepts.
    #[getter]
    fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The demo secret the market accepts (public, and never valid on Delta itself).
    #[getter]
    fn api_secret(&self) -> String {
        strangle_delta_market::DEMO_API_SECRET.to_string()
    }

    /// Whether a dead-man switch is armed on the market.
    fn deadman_armed(&self) -> PyResult<bool> {
        Ok(self
            .server
            .lock()
            .map_err(poisoned)?
            .as_ref()
            .is_some_and(|s| s.deadman_armed()))
    }

    /// Stops serving (idempotent).
    fn shutdown(&self) -> PyResult<()> {
        if let Some(s) = self.server.lock().map_err(poisoned)?.take() {
            s.shutdown();
        }
        Ok(())
    }
}
