//! Delivering operator notices ([`strangle_core::notice`]) to a webhook (a JSON POST) and to a
//! Telegram chat (the Bot API's `sendMessage`, or any server that speaks it).
//!
//! Delivery never blocks trading: [`watch_engine`] runs in its own task, each message is tried
//! a few times with backoff, and a failure is logged (without the URL, which for Telegram holds
//! the bot token) and dropped.
//!
//! Settings come from the environment ([`NotifyConfig::from_env`]):
//!
//! | variable | meaning |
//! |---|---|
//! | `STRANGLE_WEBHOOK_URL` | POST each notice as JSON here |
//! | `STRANGLE_TELEGRAM_BOT_TOKEN` | bot token (a secret: never printed) |
//! | `STRANGLE_TELEGRAM_CHAT_ID` | chat to post to |
//! | `STRANGLE_TELEGRAM_API` | Bot API base URL (default `https://api.telegram.org`) |

use std::time::Duration;

use serde_json::json;
use strangle_core::notice::{Notice, NoticeTracker};
use strangle_core::strategy::Status;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use strangle_delta::error::Secret;
use strangle_delta::rest::{RetryPolicy, USER_AGENT};

use crate::RunError;

/// Webhook URL variable.
pub const WEBHOOK_VAR: &str = "STRANGLE_WEBHOOK_URL";
/// Telegram bot token variable.
pub const TELEGRAM_TOKEN_VAR: &str = "STRANGLE_TELEGRAM_BOT_TOKEN";
/// Telegram chat id variable.
pub const TELEGRAM_CHAT_VAR: &str = "STRANGLE_TELEGRAM_CHAT_ID";
/// Telegram Bot API base URL variable.
pub const TELEGRAM_API_VAR: &str = "STRANGLE_TELEGRAM_API";

/// A Telegram destination.
#[derive(Debug, Clone)]
pub struct Telegram {
    /// Bot API base URL, e.g. `https://api.telegram.org`.
    pub api: url::Url,
    /// Bot token.
    pub token: Secret,
    /// Chat id (a number or `@channel`).
    pub chat_id: String,
}

/// Where notices go.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// JSON POST target.
    pub webhook: Option<url::Url>,
    /// Telegram chat.
    pub telegram: Option<Telegram>,
}

impl NotifyConfig {
    /// Reads the `STRANGLE_WEBHOOK_URL` and `STRANGLE_TELEGRAM_*` variables. A malformed URL,
    /// or a token without a chat id (or the reverse), is an error naming the variable.
    pub fn from_env() -> Result<Self, RunError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let parse = |k: &str, v: &str| {
            url::Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| RunError::Invalid(format!("{k}: not an http(s) URL")))
        };
        let webhook = var(WEBHOOK_VAR)
            .map(|v| parse(WEBHOOK_VAR, &v))
            .transpose()?;
        let telegram = match (var(TELEGRAM_TOKEN_VAR), var(TELEGRAM_CHAT_VAR)) {
            (Some(token), Some(chat_id)) => Some(Telegram {
                api: parse(
                    TELEGRAM_API_VAR,
                    &var(TELEGRAM_API_VAR).unwrap_or_else(|| "https://api.telegram.org".into()),
                )?,
                token: Secret::new(token),
                chat_id,
            }),
            (None, None) => None,
            _ => {
                return Err(RunError::Invalid(format!(
                    "set both {TELEGRAM_TOKEN_VAR} and {TELEGRAM_CHAT_VAR}, or neither"
                )))
            }
        };
        Ok(Self { webhook, telegram })
    }

    /// Whether any destination is set.
    pub fn is_enabled(&self) -> bool {
        self.webhook.is_some() || self.telegram.is_some()
    }
}

/// Sends notices to the configured destinations.
#[derive(Debug, Clone)]
pub struct Notifier {
    config: NotifyConfig,
    http: reqwest::Client,
    retry: RetryPolicy,
}

impl Notifier {
    /// A notifier with 5-second attempts and three retries.
    pub fn new(config: NotifyConfig) -> Result<Self, RunError> {
        let retry = RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
        };
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(retry.timeout)
            .build()
            .map_err(|e| RunError::Invalid(format!("notification HTTP client: {e}")))?;
        Ok(Self {
            config,
            http,
            retry,
        })
    }

    /// Sends one notice to every destination; returns the first failure after retries.
    pub async fn send(&self, notice: &Notice) -> Result<(), RunError> {
        let mut first_err = None;
        if let Some(url) = &self.config.webhook {
            let mut body = serde_json::to_value(notice)
                .map_err(|e| RunError::Invalid(format!("notice: {e}")))?;
            if let Some(obj) = body.as_object_mut() {
                obj.insert("text".into(), json!(notice.text()));
            }
            if let Err(e) = self.post(url.clone(), &body, "webhook").await {
                first_err.get_or_insert(e);
            }
        }
        if let Some(t) = &self.config.telegram {
            let body = json!({
                "chat_id": t.chat_id,
                "text": notice.text(),
                "disable_web_page_preview": true,
            });
            let mut url = t.api.clone();
            url.path_segments_mut()
                .map_err(|()| RunError::Invalid("telegram: bad API URL".into()))?
                .pop_if_empty()
                .push(&format!("bot{}", t.token.expose()))
                .push("sendMessage");
            if let Err(e) = self.post(url, &body, "telegram").await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// POSTs with retries on transport errors, 429 and 5xx. Errors name the destination
    /// kind only: the Telegram URL carries the bot token.
    async fn post(
        &self,
        url: url::Url,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<(), RunError> {
        let mut attempt = 0;
        loop {
            let res = self.http.post(url.clone()).json(body).send().await;
            let retry_reason = match res {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    format!("HTTP {}", r.status().as_u16())
                }
                Ok(r) => {
                    return Err(RunError::Notify(format!(
                        "{what} notification refused: HTTP {}",
                        r.status().as_u16()
                    )))
                }
                Err(e) => {
                    // reqwest's message includes the URL; keep only the kind of failure.
                    if e.is_timeout() {
                        "timed out".to_string()
                    } else if e.is_connect() {
                        "cannot connect".to_string()
                    } else {
                        "transport error".to_string()
                    }
                }
            };
            if attempt >= self.retry.max_retries {
                return Err(RunError::Notify(format!(
                    "{what} notification failed after {} attempts: {retry_reason}",
                    attempt + 1
                )));
            }
            tokio::time::sleep(self.retry.backoff(attempt)).await;
            attempt += 1;
        }
    }
}

/// Watches an engine's heartbeats and sends every notice they bring, until the engine ends.
/// The heartbeat current when this is called is taken as known (nothing in it is re-sent).
pub fn watch_engine(mut rx: watch::Receiver<Status>, notifier: Notifier) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tracker = NoticeTracker::starting_from(&rx.borrow_and_update());
        loop {
            let changed = rx.changed().await;
            let status = rx.borrow_and_update().clone();
            for n in tracker.observe(&status) {
                if let Err(e) = notifier.send(&n).await {
                    tracing::warn!(event = n.event(), error = %e, "notification not delivered");
                }
            }
            if changed.is_err() {
                return;
            }
        }
    })
}
