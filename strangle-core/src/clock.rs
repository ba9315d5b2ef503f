//! Where the engine's time comes from: the real clock or a simulated one.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A source of time. The strategy never reads the wall clock; the engine asks this.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Returns once `now() >= t` (at once if it already is).
    async fn sleep_until(&self, t: DateTime<Utc>);
    /// Clock seconds per real second, when the clock runs at a steady rate (the wall clock:
    /// 1); `None` for a clock that jumps. The local market publishes it, so that a process
    /// trading on that market can follow the market's clock.
    fn rate(&self) -> Option<f64> {
        None
    }
}

/// The system clock, sleeping with tokio timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        if let Ok(d) = (t - Utc::now()).to_std() {
            tokio::time::sleep(d).await;
        }
    }

    fn rate(&self) -> Option<f64> {
        Some(1.0)
    }
}

/// A wall clock shifted to a chosen start and running `speed` times faster: for simulated
/// markets watched live (a demo at "09:29 IST" whatever the hour, an hour of trading in a
/// minute). Not deterministic — use [`ManualClock`] for backtests.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use strangle_core::clock::{Clock, ScaledClock};
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 10, 3, 59, 0).unwrap();
/// let clock = ScaledClock::new(t0, 60.0);
/// assert!(clock.now() >= t0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    start: DateTime<Utc>,
    origin: std::time::Instant,
    speed: f64,
}

impl ScaledClock {
    /// A clock that reads `start` now and advances `speed` seconds per real second
    /// (`speed` is clamped to at least 0.001; use 1.0 for real time).
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        Self {
            start,
            origin: std::time::Instant::now(),
            speed: if speed.is_finite() {
                speed.max(0.001)
            } else {
                1.0
            },
        }
    }

    /// Simulated seconds per real second.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

#[async_trait]
impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let real = self.origin.elapsed().as_secs_f64() * self.speed;
        // Microsecond resolution; saturates after ~290,000 simulated years.
        self.start + chrono::Duration::microseconds((real * 1e6) as i64)
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        if let Ok(d) = (t - self.now()).to_std() {
            tokio::time::sleep(d.div_f64(self.speed)).await;
        }
    }

    fn rate(&self) -> Option<f64> {
        Some(self.speed)
    }
}

/// A simulated clock: time moves only when someone sleeps or calls [`ManualClock::set`].
/// Sleeping jumps straight to the wake-up time, so a backtest runs as fast as the CPU allows
/// and gives the same result every run.
///
/// ```
/// # tokio_test_block_on(async {
/// use chrono::{Duration, TimeZone, Utc};
/// use strangle_core::clock::{Clock, ManualClock};
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap();
/// let clock = ManualClock::new(t0);
/// clock.sleep_until(t0 + Duration::minutes(5)).await;
/// assert_eq!(clock.now(), t0 + Duration::minutes(5));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(t) }
    }

    /// Moves the clock to `t` (forwards or backwards).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if t > *now {
            *now = t;
        }
    }
}

#[async_trait]
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        (**self).sleep_until(t).await
    }

    fn rate(&self) -> Option<f64> {
        (**self).rate()
    }
}
