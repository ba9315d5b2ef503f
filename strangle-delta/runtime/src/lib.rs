//! `strangle-delta-runtime`: runs one profile's engine on a Delta market, the one copy the
//! `strangle` binary (`run`, `serve`'s trading control) and the Python sessions call.
//!
//! | module | holds |
//! |---|---|
//! | [`market`] | [`Market`] (sim, paper, live) and [`MarketRequest`], the one rule that turns a front's inputs into it |
//! | [`engine`] | [`RunningEngine`]: lease, market building, quote stream, dead-man switch, venue fees, money check, final notice |
//! | [`notify`] | notices to a webhook and a Telegram chat |
//!
//! ```no_run
//! # async fn demo() -> Result<(), strangle_delta_runtime::RunError> {
//! use strangle_core::memory::MemoryLedger;
//! use strangle_core::profile::Profile;
//! use strangle_delta_runtime::{Market, RunSpec, RunningEngine};
//!
//! let spec = RunSpec::new(Profile::default(), Market::sim(1));
//! let running = RunningEngine::start(spec, MemoryLedger::default()).await?;
//! println!("{:?}", running.status().phase);
//! running.stop();
//! let last = running.wait().await?;
//! # let _ = last; Ok(()) }
//! ```

pub mod engine;
pub mod governor;
pub mod market;
pub mod notify;

pub use engine::{visibility_lag_from_env, RunSpec, RunningEngine, VISIBILITY_LAG_VAR};
pub use market::{
    live_credentials, market_clock, FastForward, LiveRequest, Market, MarketKind, MarketRequest,
    SimMarket, SimRequest, SimTime,
};
pub use notify::Notifier;

use strangle_core::error::ErrorKind;
use strangle_delta::DeltaError;

/// Why an engine could not be started, or how it ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A request that cannot be met as given (a simulated clock off the sim market, a speed
    /// that is not positive, paper cash that is not, a bad environment variable).
    #[error("{0}")]
    Invalid(String),
    /// Refused for safety: a live market without the operator's confirmation or credentials.
    #[error("{0}")]
    Refused(String),
    /// A notice that could not be delivered after its retries.
    #[error("{0}")]
    Notify(String),
    /// The engine refused to start or stopped on an error.
    #[error(transparent)]
    Engine(strangle_core::Error),
    /// The venue or its adapter failed (market data, keys).
    #[error(transparent)]
    Delta(DeltaError),
    /// The local market could not start.
    #[error(transparent)]
    Market(#[from] strangle_delta_market::MarketError),
}

impl RunError {
    /// The kind of failure, for the fronts' one table
    /// ([`strangle_core::error::ErrorKind::front`]).
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::Refused(_) => ErrorKind::Refused,
            Self::Engine(e) => e.error_kind(),
            Self::Delta(e) => e.error_kind(),
            Self::Market(e) => strangle_core::error::Failure::error_kind(e),
            Self::Notify(_) => ErrorKind::Failed,
        }
    }
}

impl strangle_core::error::Failure for RunError {
    fn error_kind(&self) -> ErrorKind {
        RunError::error_kind(self)
    }
}

impl From<strangle_core::Error> for RunError {
    fn from(e: strangle_core::Error) -> Self {
        Self::Engine(e)
    }
}

impl From<DeltaError> for RunError {
    /// An engine error the adapter carried is the engine's own.
    fn from(e: DeltaError) -> Self {
        match e {
            DeltaError::Engine(inner) => Self::Engine(inner),
            other => Self::Delta(other),
        }
    }
}
