//! The signed REST transport: builds each request once, signs the exact bytes it sends, takes
//! rate-limit budget before signing, and retries what is safe to retry.
//!
//! Reads and cancels are retried with jittered exponential backoff on transport errors, 429
//! (after the reset Delta names) and 5xx, re-signing each attempt with a fresh timestamp. An
//! order placement is never retried here: [`crate::api::DeltaClient::place_order`] first asks
//! by `client_order_id` whether the order exists.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::credentials::Credentials;
use crate::env::Environment;
use crate::error::DeltaError;
use crate::ratelimit::{priority, weight, Priority, RateLimiter};
use crate::sign::{sign, QueryString};
use crate::wire::Envelope;

/// How a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Idempotent: retry on any retryable failure.
    Safe,
    /// Not idempotent (order placement): never retried by the transport.
    Never,
}

/// Retry and timeout settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry `n` (0-based): exponential, capped, with ±50 % jitter.
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << n.min(16));
        let capped = exp.min(self.max_delay);
        let jitter: f64 = rand::rng().random_range(0.5..1.5);
        capped.mul_f64(jitter).min(self.max_delay)
    }
}

/// The `User-Agent` sent on every request (Delta's CDN refuses requests without one).
pub const USER_AGENT: &str = concat!("strangle/", env!("CARGO_PKG_VERSION"));

/// The signed transport to one environment.
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    env: Environment,
    creds: Option<Credentials>,
    limiter: Arc<RateLimiter>,
    policy: RetryPolicy,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("env", &self.env)
            .field("creds", &self.creds)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for `env`, authenticated when `creds` is given, with Delta's rate limit.
    pub fn new(
        env: Environment,
        creds: Option<Credentials>,
        policy: RetryPolicy,
    ) -> Result<Self, DeltaError> {
        // Delta counts per user: every client of this key on this host shares one budget.
        let limiter =
            RateLimiter::shared(env.rest_url(), creds.as_ref().map(|c| c.api_key.as_str()));
        Self::with_shared_limiter(env, creds, policy, limiter)
    }

    /// A client with its own rate limiter (e.g. [`RateLimiter::unlimited`] for the local server).
    pub fn with_limiter(
        env: Environment,
        creds: Option<Credentials>,
        policy: RetryPolicy,
        limiter: RateLimiter,
    ) -> Result<Self, DeltaError> {
        Self::with_shared_limiter(env, creds, policy, Arc::new(limiter))
    }

    fn with_shared_limiter(
        env: Environment,
        creds: Option<Credentials>,
        policy: RetryPolicy,
        limiter: Arc<RateLimiter>,
    ) -> Result<Self, DeltaError> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| DeltaError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            env,
            creds,
            limiter,
            policy,
        })
    }

    /// The environment.
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// Whether credentials are configured.
    pub fn has_credentials(&self) -> bool {
        self.creds.is_some()
    }

    /// The shared rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Sends a request and decodes `{"success": true, "result": T}`; any other answer is an
    /// error carrying the status, Delta's code and context.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &QueryString,
        body: Option<&str>,
        auth: bool,
        retry: Retry,
    ) -> Result<Envelope<T>, DeltaError> {
        let prio = priority(method.as_str(), path);
        self.call_as(prio, method, path, query, body, auth, retry)
            .await
    }

    /// Sends a request and reads the answer with `read(status, rate-limit reset, bytes)`,
    /// retrying as [`RestClient::call`] does (a fast decoder for a hot payload uses this).
    #[allow(clippy::too_many_arguments)]
    pub async fn call_with<R>(
        &self,
        method: Method,
        path: &str,
        query: &QueryString,
        body: Option<&str>,
        auth: bool,
        retry: Retry,
        read: impl Fn(u16, Option<u64>, &[u8]) -> Result<R, DeltaError>,
    ) -> Result<R, DeltaError> {
        let prio = priority(method.as_str(), path);
        self.send(prio, method, path, query, body, auth, retry, read)
            .await
    }

    /// [`RestClient::call`] with the request's place in the rate budget given (an order is
    /// protective when it is reduce-only, which only its sender knows).
    #[allow(clippy::too_many_arguments)]
    pub async fn call_as<T: DeserializeOwned>(
        &self,
        prio: Priority,
        method: Method,
        path: &str,
        query: &QueryString,
        body: Option<&str>,
        auth: bool,
        retry: Retry,
    ) -> Result<Envelope<T>, DeltaError> {
        let m = method.as_str().to_string();
        self.send(
            prio,
            method,
            path,
            query,
            body,
            auth,
            retry,
            |status, reset, bytes| decode(&m, path, status, reset, bytes),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send<R>(
        &self,
        prio: Priority,
        method: Method,
        path: &str,
        query: &QueryString,
        body: Option<&str>,
        auth: bool,
        retry: Retry,
        read: impl Fn(u16, Option<u64>, &[u8]) -> Result<R, DeltaError>,
    ) -> Result<R, DeltaError> {
        let mut attempt = 0;
        loop {
            let res = self
                .once(prio, &method, path, query, body, auth)
                .await
                .and_then(|(status, reset, bytes)| read(status, reset, &bytes));
            match res {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if retry == Retry::Never
                        || !e.is_retryable()
                        || attempt >= self.policy.max_retries
                    {
                        return Err(e);
                    }
                    let delay = match &e {
                        DeltaError::Api {
                            retry_after_ms: Some(ms),
                            ..
                        } => Duration::from_millis(*ms),
                        _ => self.policy.backoff(attempt),
                    };
                    tracing::debug!(%method, path, attempt, ?delay, error = %e, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt: the answer's status, rate-limit reset (ms) and bytes.
    async fn once(
        &self,
        prio: Priority,
        method: &Method,
        path: &str,
        query: &QueryString,
        body: Option<&str>,
        auth: bool,
    ) -> Result<(u16, Option<u64>, bytes::Bytes), DeltaError> {
        let m = method.as_str();
        // Budget first, then the timestamp: waiting never ages a signature.
        self.limiter.acquire(weight(m, path), prio).await;
        let url = format!("{}{}{}", self.env.rest_url(), path, query.as_str());
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        let body_str = body.unwrap_or("");
        if auth {
            let creds = self
                .creds
                .as_ref()
                .ok_or_else(|| DeltaError::Invalid(format!("{m} {path} needs API credentials")))?;
            let ts = chrono::Utc::now().timestamp().to_string();
            let sig = sign(&creds.secret, m, &ts, path, query.as_str(), body_str);
            req = req
                .header("api-key", &creds.api_key)
                .header("timestamp", ts)
                .header("signature", sig);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let transport = |e: reqwest::Error| {
            let maybe_sent = !e.is_connect();
            DeltaError::Transport {
                method: m.to_string(),
                path: path.to_string(),
                message: e.without_url().to_string(),
                maybe_sent,
            }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let reset = resp
            .headers()
            .get("x-rate-limit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = resp.bytes().await.map_err(transport)?;
        if status == 429 {
            self.limiter.blocked_for(reset.unwrap_or(1000)).await;
        }
        Ok((status, reset, bytes))
    }
}

/// Turns a raw answer into a result or a typed error.
pub fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    status: u16,
    reset_ms: Option<u64>,
    bytes: &[u8],
) -> Result<Envelope<T>, DeltaError> {
    let api_err = |code: String, context: Option<String>| DeltaError::Api {
        method: method.to_string(),
        path: path.to_string(),
        status,
        code,
        context,
        retry_after_ms: reset_ms,
    };
    if (200..300).contains(&status) {
        match serde_json::from_slice::<Envelope<T>>(bytes) {
            Ok(env) if env.success => return Ok(env),
            Ok(env) => {
                let e = env.error.unwrap_or_default();
                return Err(api_err(e.code, e.context.map(|c| c.to_string())));
            }
            Err(e) => {
                return Err(DeltaError::Decode {
                    method: method.to_string(),
                    path: path.to_string(),
                    message: e.to_string(),
                })
            }
        }
    }
    // Errors: the envelope, a bare {"error": "...", "message": ...}, or not JSON at all.
    match serde_json::from_slice::<Envelope<serde_json::Value>>(bytes) {
        Ok(env) if env.error.is_some() => {
            let e = env.error.unwrap_or_default();
            let context = e.context.map(|c| c.to_string()).or(env.message);
            Err(api_err(e.code, context))
        }
        _ => {
            let text: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
            let code = match status {
                429 => "rate_limit_exceeded".to_string(),
                s if s >= 500 => "server_error".to_string(),
                _ => "http_error".to_string(),
            };
            Err(api_err(code, (!text.is_empty()).then_some(text)))
        }
    }
}
