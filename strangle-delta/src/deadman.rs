//! Delta's dead-man switch (the Heartbeat API), as narrow as the API allows and shared by
//! every engine of the process that trades the same scope.
//!
//! A heartbeat is created for one underlying's call and put options (`strangle-btc-options`):
//! if no heartbeat arrives within the TTL, Delta cancels the account's open orders in that
//! scope, and no others (not ETH's, not futures', not another scope's). Engines of one process
//! that trade the same scope share the heartbeat: it is kept alive while any of them runs and
//! disarmed (`ttl: 0`) when the last one stops with its legs flat. An engine that ends on an
//! error does not disarm it: the switch then fires and cancels whatever it left working.
//!
//! Creating an id that already exists (a restart after a crash, another process) has no
//! documented answer: an error other than an authentication failure is resolved by listing
//! the heartbeats (`GET /v2/heartbeat`); if the id is there it is reused, otherwise the start
//! fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex as StdMutex, Weak};
use std::time::{Duration, Instant};

use strangle_core::model::Underlying;
use tokio::sync::Mutex;

use crate::api::DeltaClient;
use crate::error::DeltaError;

/// The `impact` a heartbeat is created with unless [`IMPACT_VAR`] says otherwise.
///
/// Delta's two sources disagree: the docs' markdown lists `contracts` / `products` (what the
/// heartbeat's scope is given by: contract types and underlyings, or product symbols), the
/// swagger's enum `low` / `medium` / `high`. The swagger's values came with a change its
/// changelog calls documentation only (20.05.26), and its descriptions ("minimal / standard /
/// strongest protective action") do not say which lists scope the switch, while the
/// markdown's meaning is the one every published example sends. `contracts` until a testnet
/// run says otherwise: `strangle check --orders` prints what Delta echoes back.
pub const DEFAULT_IMPACT: &str = "contracts";

/// The environment variable that chooses another `impact`.
pub const IMPACT_VAR: &str = "STRANGLE_DEADMAN_IMPACT";

/// The environment variable that says whether Delta's dead-man switch also cancels untriggered
/// stop orders: `no` (the default) or `yes`.
///
/// Delta's docs say the switch's `cancel_orders` action "cancels all open orders", and call an
/// untriggered stop `pending`, not `open`; whether the switch spares them is not stated.
/// `strangle check --orders` measures it (a stop placed, the check's own heartbeat let lapse,
/// the stop read back). With `no`, live engines arm the switch and keep their legs' stops at
/// the venue. With `yes`, no switch is armed (it would take the stops with it) and entry orders
/// go out as IOC, so that nothing that opens a position ever rests while nobody watches.
pub const CANCELS_STOPS_VAR: &str = "STRANGLE_DEADMAN_CANCELS_STOPS";

/// What [`CANCELS_STOPS_VAR`] says: `Ok(false)` when unset or `no`, `Ok(true)` for `yes`,
/// an error naming the value otherwise.
pub fn cancels_stops_from_env() -> Result<bool, DeltaError> {
    match std::env::var(CANCELS_STOPS_VAR) {
        Err(_) => Ok(false),
        Ok(v) => match v.trim() {
            "" | "no" => Ok(false),
            "yes" => Ok(true),
            other => Err(DeltaError::Invalid(format!(
                "{CANCELS_STOPS_VAR}={other:?}: say yes or no"
            ))),
        },
    }
}

/// Dead-man switch settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadmanConfig {
    /// Heartbeat id registered with Delta.
    pub heartbeat_id: String,
    /// How long Delta waits for the next heartbeat before cancelling orders.
    pub ttl: Duration,
    /// Underlyings whose option orders it protects.
    pub underlyings: Vec<Underlying>,
    /// The `impact` it is created with (see [`DEFAULT_IMPACT`]).
    pub impact: String,
}

impl DeadmanConfig {
    /// The switch for one underlying's options: id `strangle-<underlying>-options`, a
    /// 30-second TTL, the impact from [`IMPACT_VAR`] or [`DEFAULT_IMPACT`].
    pub fn for_options(underlying: Underlying) -> Self {
        Self {
            heartbeat_id: format!(
                "strangle-{}-options",
                underlying.as_str().to_ascii_lowercase()
            ),
            ttl: Duration::from_secs(30),
            underlyings: vec![underlying],
            impact: impact_from_env(),
        }
    }
}

/// The impact [`IMPACT_VAR`] names, or [`DEFAULT_IMPACT`].
pub fn impact_from_env() -> String {
    std::env::var(IMPACT_VAR)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_IMPACT.to_string())
}

/// Whether an acknowledgement proves the switch armed: `process_enabled` true. Anything else
/// (false, absent) is an error naming what it said.
pub fn check_ack(id: &str, ack: &crate::wire::HeartbeatAck) -> Result<(), DeltaError> {
    match ack.process_enabled {
        Some(true) => Ok(()),
        other => Err(DeltaError::DeadmanNotArmed {
            heartbeat_id: id.to_string(),
            detail: match other {
                Some(_) => "Delta acknowledged it with process_enabled false".into(),
                None => "Delta's acknowledgement has no process_enabled".into(),
            },
        }),
    }
}

/// What the process knows of one heartbeat on one Delta environment.
#[derive(Debug, Default)]
struct Shared {
    /// Engines using it.
    users: AtomicUsize,
    /// Whether it exists at Delta, and when it was last refreshed.
    state: Mutex<BeatState>,
}

#[derive(Debug, Default)]
struct BeatState {
    created: bool,
    last: Option<Instant>,
}

/// The process's heartbeats, by (REST base URL, heartbeat id).
type Registry = HashMap<(String, String), Weak<Shared>>;

static REGISTRY: LazyLock<StdMutex<Registry>> = LazyLock::new(Default::default);

/// One engine's share of a heartbeat.
#[derive(Debug)]
pub struct Deadman {
    config: DeadmanConfig,
    shared: Arc<Shared>,
    released: std::sync::atomic::AtomicBool,
}

impl Deadman {
    /// Joins the process's heartbeat `config.heartbeat_id` on the environment at `rest_url`
    /// (created at the first [`Deadman::keepalive`]).
    pub fn join(rest_url: &str, config: DeadmanConfig) -> Self {
        let key = (rest_url.to_string(), config.heartbeat_id.clone());
        let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        let shared = match reg.get(&key).and_then(Weak::upgrade) {
            Some(s) => s,
            None => {
                let s = Arc::new(Shared::default());
                reg.insert(key, Arc::downgrade(&s));
                s
            }
        };
        shared.users.fetch_add(1, Ordering::SeqCst);
        Self {
            config,
            shared,
            released: Default::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &DeadmanConfig {
        &self.config
    }

    /// Creates the heartbeat if this process has not yet, then refreshes it (at most every
    /// third of the TTL, whichever engine asks).
    pub async fn keepalive(&self, client: &DeltaClient) -> Result<(), DeltaError> {
        let mut st = self.shared.state.lock().await;
        if st.last.is_some_and(|t| t.elapsed() < self.config.ttl / 3) {
            return Ok(());
        }
        if !st.created {
            self.create_or_reuse(client).await?;
            st.created = true;
        }
        let id = &self.config.heartbeat_id;
        let ack = match client.heartbeat(id, self.config.ttl).await {
            Ok(ack) => ack,
            // Delta no longer knows the id (deleted, lapsed): create it again, once.
            Err(e) if e.status() == Some(404) || e.code() == Some("not_found") => {
                tracing::warn!(heartbeat = %id, error = %e, "the heartbeat is gone; creating it again");
                st.created = false;
                self.create_or_reuse(client).await?;
                st.created = true;
                client.heartbeat(id, self.config.ttl).await?
            }
            Err(e) => return Err(e),
        };
        check_ack(id, &ack)?;
        st.last = Some(Instant::now());
        Ok(())
    }

    async fn create_or_reuse(&self, client: &DeltaClient) -> Result<(), DeltaError> {
        let id = &self.config.heartbeat_id;
        let underlyings: Vec<&str> = self.config.underlyings.iter().map(|u| u.as_str()).collect();
        let err = match client
            .create_heartbeat_with(id, &underlyings, &self.config.impact)
            .await
        {
            Ok(()) => return Ok(()),
            // Keys, permissions and limits are not about the id: fail the start.
            Err(e) if matches!(e.status(), Some(401 | 403 | 429)) || e.status().is_none() => {
                return Err(e)
            }
            Err(e) => e,
        };
        let beats = client.heartbeats().await?;
        match beats.iter().find(|b| b.heartbeat_id == *id) {
            Some(b) => {
                let wanted: Vec<String> = underlyings.iter().map(|u| u.to_string()).collect();
                if b.underlying_assets.as_deref().is_some_and(|u| u != wanted) {
                    tracing::warn!(
                        heartbeat = %id,
                        scope = ?b.underlying_assets,
                        "the heartbeat exists with another scope; reusing it as it is"
                    );
                } else {
                    tracing::info!(heartbeat = %id, "the heartbeat exists; reusing it");
                }
                Ok(())
            }
            None => Err(err),
        }
    }

    /// This engine stops using the heartbeat. The last user disarms it (`ttl: 0`) when
    /// `flat` (its engine stopped with no open leg); otherwise it is left to fire.
    pub async fn release(&self, client: &DeltaClient, flat: bool) -> Result<(), DeltaError> {
        if self.released.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let last = self.shared.users.fetch_sub(1, Ordering::SeqCst) == 1;
        if !(last && flat) {
            return Ok(());
        }
        let mut st = self.shared.state.lock().await;
        if !st.created {
            return Ok(());
        }
        client
            .heartbeat(&self.config.heartbeat_id, Duration::ZERO)
            .await?;
        // A later engine refreshes it at once.
        st.last = None;
        Ok(())
    }
}

impl Drop for Deadman {
    fn drop(&mut self) {
        if !self.released.swap(true, Ordering::SeqCst) {
            self.shared.users.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
