//! The API's one error type, [`ApiError`]: every refusal a route, an extractor or a guard
//! makes, answered in one JSON shape, `{"error": ..., "fields": [...]}`.
//!
//! Handlers return `Result<_, ApiError>` and use `?`; the status code comes from the variant,
//! in [`ApiError::status`] only. A 500 never carries the internal error's text: the text goes
//! to the server's log and the reply says where to look.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use strangle_core::error::FieldError;
use utoipa::ToSchema;

use strangle_core::error::ErrorKind;

/// The body of every error reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The kind of failure when a library error caused it (`invalid`, `not_found`,
    /// `conflict`, `locked`, `refused`, `exchange`, `failed`): decide on this, not the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Every invalid field, for 422 replies about a request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No valid bearer token (401).
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// Not allowed here: a foreign host or origin, live trading not enabled (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such profile, session or endpoint (404).
    #[error("{0}")]
    NotFound(String),
    /// The state forbids it: a duplicate name, a running or active profile (409).
    #[error("{0}")]
    Conflict(String),
    /// Another runner holds the profile's lease (409).
    #[error("{0}")]
    Locked(String),
    /// Refused for safety: the ledger and the exchange disagree (409).
    #[error("{0}")]
    Refused(String),
    /// A body that does not say it is JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A request body with invalid fields, each listed (422).
    #[error("invalid {what}")]
    Invalid {
        /// What was invalid: `profile`, `request`.
        what: &'static str,
        /// Every invalid field.
        fields: Vec<FieldError>,
    },
    /// A malformed query or request that has no field list (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The exchange refused or failed a call the request needed (502); its answer is passed on.
    #[error("{0}")]
    Upstream(String),
    /// A reply made outside the routes (405, 413, …) with the framework's status and text.
    #[error("{message}")]
    Framework {
        /// The framework's status.
        status: StatusCode,
        /// What it said.
        message: String,
    },
    /// A fault of this server (500). The text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// An error of `kind` saying `message` (a `Failed` one is logged, never sent).
    pub fn of(kind: ErrorKind, message: String) -> Self {
        match kind {
            ErrorKind::Invalid => Self::Unprocessable(message),
            ErrorKind::NotFound => Self::NotFound(message),
            ErrorKind::Conflict => Self::Conflict(message),
            ErrorKind::Locked => Self::Locked(message),
            ErrorKind::Refused => Self::Refused(message),
            ErrorKind::Exchange => Self::Upstream(message),
            _ => Self::Internal(message),
        }
    }

    /// The kind of a library error this reply carries; `None` for the API's own refusals
    /// (a token, a host or origin, a media type, the framework's replies).
    pub fn kind(&self) -> Option<ErrorKind> {
        Some(match self {
            Self::Invalid { .. } | Self::Unprocessable(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Locked(_) => ErrorKind::Locked,
            Self::Refused(_) => ErrorKind::Refused,
            Self::Upstream(_) => ErrorKind::Exchange,
            Self::Internal(_) => ErrorKind::Failed,
            Self::Unauthorized
            | Self::Forbidden(_)
            | Self::UnsupportedMediaType(_)
            | Self::Framework { .. } => return None,
        })
    }

    /// The HTTP status of this error: a library error's from the one table
    /// ([`ErrorKind::front`]), the API's own refusals here.
    pub fn status(&self) -> StatusCode {
        if let Some(kind) = self.kind() {
            return StatusCode::from_u16(kind.front().http_status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        }
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Framework { status, .. } => *status,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 422 naming one invalid field.
    pub fn field(what: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            fields: vec![FieldError {
                field: field.into(),
                message: message.into(),
            }],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let kind = self.kind().map(|k| k.name().to_string());
        let body = match self {
            Self::Invalid { what, fields } => ErrorBody {
                error: format!("invalid {what}"),
                kind,
                fields,
            },
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "internal error answering a request");
                ErrorBody {
                    error: "internal error: see the server's log".into(),
                    kind,
                    fields: Vec::new(),
                }
            }
            other => ErrorBody {
                error: other.to_string(),
                kind,
                fields: Vec::new(),
            },
        };
        (status, Json(body)).into_response()
    }
}

/// Any crate's error, by the kind it says (core, store, adapter, runtime).
impl<E: strangle_core::error::Failure> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self::of(e.error_kind(), e.to_string())
    }
}

/// For routes that take no query parameters: any query string is a 422 naming its
/// parameters (a misspelt filter must not be silently ignored).
pub struct NoQuery;

impl<S: Send + Sync> FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let names: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split('=').next().unwrap_or(kv))
            .collect();
        if names.is_empty() {
            return Ok(Self);
        }
        Err(ApiError::Unprocessable(format!(
            "unknown query parameter{} {}: this endpoint takes none",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )))
    }
}

/// A query string parsed into `T` (whose fields are the only parameters accepted); a
/// malformed one, or an unknown parameter, is a 422 naming the problem.
pub struct QueryOr422<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for QueryOr422<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(Self(q)),
            Err(e) => {
                let hints = original_names(parts.uri.query().unwrap_or_default());
                let mut msg = e.body_text();
                if !hints.is_empty() {
                    msg.push_str(&format!(" ({})", hints.join("; ")));
                }
                Err(ApiError::Unprocessable(msg))
            }
        }
    }
}

/// Hints for the original platform's query parameters among `query` (its clients send
/// `page`/`page_size` to the sessions list and `start`/`end` to analytics): this API's names.
fn original_names(query: &str) -> Vec<&'static str> {
    let names: Vec<&str> = query
        .split('&')
        .map(|kv| kv.split('=').next().unwrap_or(kv))
        .collect();
    [
        (
            "page",
            "page is the original platform's: use offset = (page - 1) x limit",
        ),
        (
            "page_size",
            "page_size is the original platform's: use limit (1-1000)",
        ),
        (
            "start",
            "start is the original platform's: use from (RFC 3339)",
        ),
        ("end", "end is the original platform's: use to (RFC 3339)"),
        (
            "strategy_id",
            "strategy_id is the original platform's: use profile (its name)",
        ),
    ]
    .into_iter()
    .filter(|(name, _)| names.contains(name))
    .map(|(_, hint)| hint)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use strangle_core::error::ErrorKind;

    #[tokio::test]
    async fn an_internal_error_is_logged_not_sent() {
        let r = ApiError::Internal("disk I/O error at /secret/path".into()).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 4096)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("/secret/path"), "{text}");
        assert!(text.contains("server's log"), "{text}");
    }

    #[tokio::test]
    async fn invalid_lists_every_field() {
        let r = ApiError::Invalid {
            what: "profile",
            fields: vec![
                FieldError {
                    field: "name".into(),
                    message: "required".into(),
                },
                FieldError {
                    field: "delta_band".into(),
                    message: "low above high".into(),
                },
            ],
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = axum::body::to_bytes(r.into_body(), 4096)
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"], "invalid profile");
        assert_eq!(v["fields"].as_array().map(Vec::len), Some(2));
    }

    /// Every kind keeps its kind through the API's error, answers with the table's status and
    /// names its kind in the body (a `Failed` one without its text).
    #[tokio::test]
    async fn every_error_kind_answers_with_the_tables_status() {
        for kind in ErrorKind::ALL {
            let e = ApiError::of(kind, "the detail".into());
            assert_eq!(e.kind(), Some(kind));
            let reply = e.into_response();
            assert_eq!(reply.status().as_u16(), kind.front().http_status, "{kind}");
            let body = axum::body::to_bytes(reply.into_body(), 4096)
                .await
                .expect("body");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["kind"], kind.name(), "{kind}");
            assert_eq!(
                v["error"]
                    .as_str()
                    .is_some_and(|t| t.contains("the detail")),
                kind != ErrorKind::Failed,
                "{kind}: {v}"
            );
        }
    }
}
