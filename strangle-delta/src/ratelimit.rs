//! Delta's weighted rate limit: 10,000 units per fixed 5-minute window, each endpoint costing
//! a weight. The budget is taken before a request is signed (so waiting never expires a
//! signature), and a 429 blocks every caller until the reset time Delta gives in
//! `X-RATE-LIMIT-RESET`.
//!
//! Delta counts per user, so every client of a process that uses one API key on one host
//! shares one budget ([`RateLimiter::shared`]). The requests that protect a position (the
//! dead-man heartbeat, cancels, reduce-only orders) go first: routine requests (quotes,
//! products, order reads, entries) stop at [`PROTECTIVE_RESERVE_PCT`] % short of the
//! budget, and that last part is left to the protective ones.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Weight of one request, from Delta's published table.
pub fn weight(method: &str, path: &str) -> u32 {
    let p = path.trim_end_matches('/');
    if p.contains("/batch") {
        return 25;
    }
    if p.starts_with("/v2/orders/history")
        || p.starts_with("/v2/fills")
        || p.starts_with("/v2/wallet/transactions")
    {
        return 10;
    }
    if p == "/v2/orders" && method != "GET" || p == "/v2/positions/change_margin" {
        return 5;
    }
    if p.starts_with("/v2/products")
        || p.starts_with("/v2/l2orderbook")
        || p.starts_with("/v2/tickers")
        || (p == "/v2/orders" && method == "GET")
        || p.starts_with("/v2/positions")
        || p.starts_with("/v2/wallet/balances")
        || p.starts_with("/v2/history/candles")
    {
        return 3;
    }
    1
}

/// The process's budgets by (host, API key).
type Budgets = HashMap<(String, Option<String>), Arc<RateLimiter>>;

/// Which requests go first when the budget runs low.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Keeps a position protected: the dead-man heartbeat, cancels, reduce-only orders.
    Protective,
    /// Everything else.
    Routine,
}

/// Share of each window that only [`Priority::Protective`] requests may use.
pub const PROTECTIVE_RESERVE_PCT: u32 = 20;

/// The priority of a request by its method and path: the dead-man heartbeat and cancels are
/// protective. An order's depends on what it is (a reduce-only one is protective, an entry
/// is not), which its sender says ([`crate::rest::RestClient::call_as`]).
pub fn priority(method: &str, path: &str) -> Priority {
    let p = path.trim_end_matches('/');
    let protective = p.starts_with("/v2/heartbeat")
        || p == "/v2/orders/cancel_after"
        || (method == "DELETE" && p.starts_with("/v2/orders"));
    if protective {
        Priority::Protective
    } else {
        Priority::Routine
    }
}

#[derive(Debug)]
struct State {
    window_start: Instant,
    used: u32,
    blocked_until: Option<Instant>,
}

/// A shared weighted budget.
#[derive(Debug)]
pub struct RateLimiter {
    budget: u32,
    window: Duration,
    state: Mutex<State>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(10_000, Duration::from_secs(300))
    }
}

impl RateLimiter {
    /// A limiter of `budget` units per `window`.
    pub fn new(budget: u32, window: Duration) -> Self {
        Self {
            budget,
            window,
            state: Mutex::new(State {
                window_start: Instant::now(),
                used: 0,
                blocked_until: None,
            }),
        }
    }

    /// No limit: for the local server, which enforces none.
    pub fn unlimited() -> Self {
        Self::new(u32::MAX, Duration::from_secs(300))
    }

    /// The process's one budget for `user` (an API key, or `None` for unsigned requests) on
    /// the host at `base`: Delta's default, created on first use and shared by every client
    /// that asks for the same pair.
    pub fn shared(base: &str, user: Option<&str>) -> Arc<Self> {
        static BUDGETS: OnceLock<std::sync::Mutex<Budgets>> = OnceLock::new();
        let mut all = BUDGETS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.entry((base.to_string(), user.map(str::to_string)))
            .or_insert_with(|| Arc::new(Self::default()))
            .clone()
    }

    /// The units a request of `priority` may use in a window.
    fn limit(&self, priority: Priority) -> u32 {
        match priority {
            Priority::Protective => self.budget,
            Priority::Routine => {
                let reserve = u64::from(self.budget) * u64::from(PROTECTIVE_RESERVE_PCT) / 100;
                self.budget - u32::try_from(reserve).unwrap_or(0)
            }
        }
    }

    /// Waits until `weight` units are available to a request of `priority`, then takes them.
    pub async fn acquire(&self, weight: u32, priority: Priority) {
        let limit = self.limit(priority);
        let weight = weight.min(limit);
        loop {
            let wait_until = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                if s.blocked_until.is_some_and(|b| b <= now) {
                    s.blocked_until = None;
                }
                if now.duration_since(s.window_start) >= self.window {
                    s.window_start = now;
                    s.used = 0;
                }
                match s.blocked_until {
                    Some(b) => b,
                    None if s.used.saturating_add(weight) <= limit => {
                        s.used = s.used.saturating_add(weight);
                        return;
                    }
                    None => s.window_start + self.window,
                }
            };
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Delta answered 429: nobody sends until `reset_ms` from now; the window restarts then.
    pub async fn blocked_for(&self, reset_ms: u64) {
        let mut s = self.state.lock().await;
        let until = Instant::now() + Duration::from_millis(reset_ms);
        s.blocked_until = Some(s.blocked_until.map_or(until, |b| b.max(until)));
        s.window_start = until;
        s.used = 0;
    }

    /// Units used in the current window.
    pub async fn used(&self) -> u32 {
        self.state.lock().await.used
    }

    /// Units left in the current window (all of the budget once the window has passed),
    /// `None` while another caller holds the count or for an unlimited budget.
    pub fn left(&self) -> Option<u32> {
        if self.budget == u32::MAX {
            return None;
        }
        let s = self.state.try_lock().ok()?;
        if Instant::now().duration_since(s.window_start) >= self.window {
            return Some(self.budget);
        }
        Some(self.budget.saturating_sub(s.used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_delta() {
        assert_eq!(weight("GET", "/v2/tickers"), 3);
        assert_eq!(weight("GET", "/v2/orders"), 3);
        assert_eq!(weight("POST", "/v2/orders"), 5);
        assert_eq!(weight("DELETE", "/v2/orders"), 5);
        assert_eq!(weight("GET", "/v2/fills"), 10);
        assert_eq!(weight("POST", "/v2/orders/batch"), 25);
        assert_eq!(weight("GET", "/v2/orders/client_order_id/x"), 1);
        assert_eq!(weight("POST", "/v2/heartbeat"), 1);
    }

    #[test]
    fn what_protects_a_position_goes_first() {
        for (m, p) in [
            ("POST", "/v2/heartbeat"),
            ("POST", "/v2/heartbeat/create"),
            ("POST", "/v2/orders/cancel_after"),
            ("DELETE", "/v2/orders"),
            ("DELETE", "/v2/orders/all"),
        ] {
            assert_eq!(priority(m, p), Priority::Protective, "{m} {p}");
        }
        // An order's priority is its sender's to give (see `api::order_priority`).
        for (m, p) in [
            ("POST", "/v2/orders"),
            ("GET", "/v2/orders"),
            ("GET", "/v2/tickers"),
            ("GET", "/v2/fills"),
        ] {
            assert_eq!(priority(m, p), Priority::Routine, "{m} {p}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn routine_requests_leave_the_reserve_to_protective_ones() {
        let l = RateLimiter::new(100, Duration::from_secs(300));
        let t0 = Instant::now();
        l.acquire(80, Priority::Routine).await;
        assert_eq!(l.left(), Some(20));
        // The reserve is there for a cancel at once, though routine requests have spent theirs.
        l.acquire(20, Priority::Protective).await;
        assert_eq!(Instant::now(), t0, "protective: no wait");
        assert_eq!(l.left(), Some(0));
        l.acquire(1, Priority::Routine).await;
        assert!(
            Instant::now() >= t0 + Duration::from_secs(300),
            "routine waits"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_routine_request_waits_while_only_the_reserve_is_left() {
        let l = RateLimiter::new(100, Duration::from_secs(300));
        let t0 = Instant::now();
        l.acquire(79, Priority::Routine).await;
        l.acquire(2, Priority::Routine).await;
        assert!(Instant::now() >= t0 + Duration::from_secs(300));
    }

    #[test]
    fn one_budget_per_key_and_host() {
        let a = RateLimiter::shared("https://api.example", Some("key-a"));
        let a2 = RateLimiter::shared("https://api.example", Some("key-a"));
        let b = RateLimiter::shared("https://api.example", Some("key-b"));
        let other_host = RateLimiter::shared("https://testnet.example", Some("key-a"));
        assert!(Arc::ptr_eq(&a, &a2));
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &other_host));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_next_window_when_spent() {
        let l = RateLimiter::new(10, Duration::from_secs(300));
        let t0 = Instant::now();
        l.acquire(5, Priority::Protective).await;
        l.acquire(5, Priority::Protective).await;
        assert_eq!(Instant::now(), t0, "within budget: no wait");
        l.acquire(3, Priority::Protective).await;
        assert!(
            Instant::now() >= t0 + Duration::from_secs(300),
            "waited for the window"
        );
        assert_eq!(l.used().await, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_until_reset() {
        let l = RateLimiter::default();
        let t0 = Instant::now();
        l.blocked_for(1500).await;
        l.acquire(1, Priority::Protective).await;
        assert!(Instant::now() >= t0 + Duration::from_millis(1500));
    }
}
