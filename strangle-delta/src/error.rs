//! The one error type of `strangle-delta`.

use std::fmt;

use strangle_core::error::{Error as CoreError, ErrorKind, ExchangeErrorKind};

/// A failed call to Delta (or to the local server), with everything needed to act on it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DeltaError {
    /// The request never got an answer: connect failure, reset, or timeout.
    #[error("{method} {path}: transport error: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// What the transport said.
        message: String,
        /// Whether the request may have reached the server (it was sent but not answered).
        maybe_sent: bool,
    },
    /// Delta answered with an error.
    #[error("{method} {path}: HTTP {status}: {code}{}", context_suffix(.context))]
    Api {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// HTTP status.
        status: u16,
        /// Delta's error code, e.g. `insufficient_margin`, `SignatureExpired`.
        code: String,
        /// Extra details Delta sent (never secrets: Delta does not echo them).
        context: Option<String>,
        /// Milliseconds until the rate-limit window resets (429 only).
        retry_after_ms: Option<u64>,
    },
    /// The answer could not be decoded.
    #[error("{method} {path}: cannot decode the answer: {message}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Why.
        message: String,
    },
    /// A request could not be built (bad argument, missing credentials).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    WebSocket(String),
    /// Credentials could not be loaded.
    #[error("credentials: {0}")]
    Credentials(String),
    /// An order placement whose outcome could not be established: its answer did not prove
    /// the order absent, and looking the order up by client id failed too. The order may
    /// exist; nothing may be sent for it until a lookup says.
    #[error("order {client_order_id}: outcome unknown ({cause}); looking it up failed: {lookup}")]
    Uncertain {
        /// The order's client id.
        client_order_id: strangle_core::ids::ClientOrderId,
        /// The placement's answer.
        cause: Box<DeltaError>,
        /// Why the lookup failed.
        lookup: Box<DeltaError>,
    },
    /// An order just placed (its answer lost) was not found by its client id in several
    /// lookups: a new order may not be found at once, so this proves nothing either way.
    #[error("not found by {lookups} lookups right after it was sent (a new order may not be found at once)")]
    NotVisibleYet {
        /// Lookups that did not find it.
        lookups: u32,
    },
    /// Delta acknowledged a dead-man heartbeat without proving the switch armed
    /// (`process_enabled` not `"true"`, or absent).
    #[error("dead-man switch {heartbeat_id} is not armed: {detail}")]
    DeadmanNotArmed {
        /// The heartbeat's id.
        heartbeat_id: String,
        /// What the acknowledgement said.
        detail: String,
    },
    /// The engine refused to start or stopped on an error (see [`strangle_core::Error`]).
    #[error("{0}")]
    Engine(#[from] strangle_core::Error),
}

fn context_suffix(c: &Option<String>) -> String {
    c.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
}

impl DeltaError {
    /// HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Delta's error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether trying the same request again later may succeed: transport failures, 429,
    /// 5xx and Delta's `unavailable`. Business rejections (4xx) are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Api { status, code, .. } => {
                *status == 429
                    || *status >= 500
                    || code == "unavailable"
                    || code == "SignatureExpired"
            }
            _ => false,
        }
    }

    /// Whether an order placement that failed this way may nevertheless exist at the venue:
    /// a request that may have been sent, a 5xx, an answer that could not be decoded (a 2xx
    /// whose body is not Delta's is no proof of anything), an unresolved lookup.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport { maybe_sent, .. } => *maybe_sent,
            Self::Api { status, .. } => *status >= 500,
            Self::Decode { .. } | Self::Uncertain { .. } => true,
            _ => false,
        }
    }

    /// The kind of failure, for the fronts' one table ([`ErrorKind::front`]): bad input is
    /// `Invalid`, credentials that cannot be loaded `Refused`, an engine error its own kind,
    /// every failed or unproven call to the venue `Exchange`.
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::Credentials(_) => ErrorKind::Refused,
            Self::Engine(inner) => inner.error_kind(),
            _ => ErrorKind::Exchange,
        }
    }

    /// The core's view of this failure.
    pub fn kind(&self) -> ExchangeErrorKind {
        match self {
            Self::Transport { .. } => ExchangeErrorKind::Uncertain,
            Self::Api { status, code, .. } => match (*status, code.as_str()) {
                (429, _) => ExchangeErrorKind::RateLimited,
                (s, _) if s >= 500 => ExchangeErrorKind::Uncertain,
                (_, "insufficient_margin") => ExchangeErrorKind::InsufficientMargin,
                (_, "open_order_not_found" | "invalid_contract" | "not_found") | (404, _) => {
                    ExchangeErrorKind::NotFound
                }
                (401 | 403, _)
                | (
                    _,
                    "invalid_api_key"
                    | "InvalidApiKey"
                    | "invalid_signature"
                    | "Signature Mismatch"
                    | "SignatureExpired"
                    | "UnauthorizedApiAccess"
                    | "ip_not_whitelisted_for_api_key",
                ) => ExchangeErrorKind::Auth,
                _ => ExchangeErrorKind::Rejected,
            },
            Self::Decode { .. } => ExchangeErrorKind::InvalidResponse,
            Self::Uncertain { .. } | Self::NotVisibleYet { .. } => ExchangeErrorKind::Uncertain,
            Self::Invalid(_) | Self::Credentials(_) | Self::DeadmanNotArmed { .. } => {
                ExchangeErrorKind::Rejected
            }
            Self::WebSocket(_) => ExchangeErrorKind::Uncertain,
            Self::Engine(CoreError::Exchange { kind, .. }) => *kind,
            Self::Engine(_) => ExchangeErrorKind::Rejected,
        }
    }
}

impl strangle_core::error::Failure for DeltaError {
    fn error_kind(&self) -> ErrorKind {
        DeltaError::error_kind(self)
    }
}

impl From<DeltaError> for CoreError {
    fn from(e: DeltaError) -> Self {
        if let DeltaError::Engine(inner) = e {
            return inner;
        }
        let kind = match &e {
            // An order that may have been sent is "uncertain"; other transport failures too.
            e if e.outcome_unknown() => ExchangeErrorKind::Uncertain,
            e => e.kind(),
        };
        match &e {
            // Delta's code travels as a field; the message keeps the rest.
            DeltaError::Api {
                method,
                path,
                status,
                code,
                context,
                ..
            } => CoreError::venue(
                kind,
                code.clone(),
                format!("{method} {path}: HTTP {status}{}", context_suffix(context)),
            ),
            _ => CoreError::exchange(kind, e.to_string()),
        }
    }
}

/// A secret that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// Whether `given` is this secret, compared in time independent of where they differ.
    pub fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        let mut diff = u8::from(a.len() != b.len());
        for (i, x) in a.iter().enumerate() {
            diff |= x ^ b.get(i).copied().unwrap_or(0);
        }
        diff == 0 && !a.is_empty()
    }

    /// The secret's text, for what must carry it: a request signature, a Telegram bot URL.
    /// Never log or return what this gives.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
