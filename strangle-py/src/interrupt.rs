//! Long calls that Ctrl-C can interrupt: the work runs on its own thread while the calling
//! thread, without the GIL, waits for it and checks for signals every 50 ms. On Ctrl-C the
//! call raises `KeyboardInterrupt` at once and raises the work's cancel flag, which the work
//! polls (a cancelled backtest's feed runs dry, so its engine ends at the next step).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use strangle_core::model::ChainSnapshot;
use strangle_core::sim::MarketFeed;

/// Set when the caller gave up (Ctrl-C); the work should stop soon.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Whether the caller gave up.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// How often the waiting thread checks for signals.
const TICK: Duration = Duration::from_millis(50);

/// Runs `work` on a thread of its own and waits for it, interruptible by Ctrl-C.
pub fn run<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(Cancel) -> T + Send + 'static,
{
    let cancel = Cancel::default();
    // The result slot: the worker fills it and signals; the caller waits in short ticks.
    let slot: Arc<(Mutex<Option<std::thread::Result<T>>>, Condvar)> = Arc::default();
    let flag = cancel.clone();
    let out = slot.clone();
    std::thread::Builder::new()
        .name("strangle-work".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(flag)));
            let (lock, ready) = &*out;
            if let Ok(mut g) = lock.lock() {
                *g = Some(r);
            }
            ready.notify_all();
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    loop {
        let done = py.allow_threads(|| {
            let (lock, ready) = &*slot;
            let g = lock.lock().ok()?;
            let mut g = ready.wait_timeout_while(g, TICK, |v| v.is_none()).ok()?.0;
            g.take()
        });
        match done {
            Some(Ok(v)) => return Ok(v),
            Some(Err(_)) => {
                return Err(PyRuntimeError::new_err(
                    "the worker thread panicked (a bug in strangle; please report it)",
                ))
            }
            None => {
                if let Err(e) = py.check_signals() {
                    cancel.set();
                    return Err(e);
                }
            }
        }
    }
}

/// A feed that runs dry once its [`Cancel`] is set.
pub struct Cancellable {
    inner: Box<dyn MarketFeed>,
    cancel: Cancel,
}

impl Cancellable {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn MarketFeed>, cancel: Cancel) -> Self {
        Self { inner, cancel }
    }
}

impl MarketFeed for Cancellable {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        if self.cancel.is_set() {
            return None;
        }
        self.inner.peek_time()
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        if self.cancel.is_set() {
            return None;
        }
        self.inner.next_snapshot()
    }

    fn advance_to(&mut self, now: DateTime<Utc>) {
        self.inner.advance_to(now);
    }
}

/// The process-wide tokio runtime that trading sessions, local servers and ledgers run on
/// (two worker threads; started on first use).
pub fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RT: std::sync::OnceLock<Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("strangle-rt")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| PyRuntimeError::new_err(format!("cannot start the tokio runtime: {e}")))
}
