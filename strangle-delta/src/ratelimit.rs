//! Delta's weighted rate limit: 10,000 units per fixed 5-minute window, each endpoint costing
//! a weight. The budget is taken before a request is signed (so waiting never expires a
//! signature), and a 429 blocks every caller until the reset time Delta gives in
//! `X-RATE-LIMIT-RESET`.

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

    /// Waits until `weight` units are available, then takes them.
    pub async fn acquire(&self, weight: u32) {
        let weight = weight.min(self.budget);
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
                    None if s.used.saturating_add(weight) <= self.budget => {
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

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_next_window_when_spent() {
        let l = RateLimiter::new(10, Duration::from_secs(300));
        let t0 = Instant::now();
        l.acquire(5).await;
        l.acquire(5).await;
        assert_eq!(Instant::now(), t0, "within budget: no wait");
        l.acquire(3).await;
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
        l.acquire(1).await;
        assert!(Instant::now() >= t0 + Duration::from_millis(1500));
    }
}
