//! Error replies shared by the routes: one JSON shape, `{"error": ..., "fields": [...]}`.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use strangle_core::error::FieldError;
use strangle_store::StoreError;
use utoipa::ToSchema;

use super::trading::ControlError;

/// The body of every error reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// Every invalid field, for 422 replies about a request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// An error reply.
pub fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: msg.into(),
            fields: Vec::new(),
        }),
    )
        .into_response()
}

/// A 422 listing every invalid field.
pub fn invalid(what: &str, fields: Vec<FieldError>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(ErrorBody {
            error: format!("invalid {what}"),
            fields,
        }),
    )
        .into_response()
}

/// Maps a ledger error to its status code.
pub fn store_error(e: StoreError) -> Response {
    let status = match e {
        StoreError::NoProfile(_) => StatusCode::NOT_FOUND,
        StoreError::DuplicateProfile(_)
        | StoreError::ActiveProfile(_)
        | StoreError::Locked { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

/// Maps a trading-control error to its status code.
pub fn control_error(e: ControlError) -> Response {
    match e {
        ControlError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        ControlError::Conflict(m) => error(StatusCode::CONFLICT, m),
        ControlError::Forbidden(m) => error(StatusCode::FORBIDDEN, m),
        ControlError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        ControlError::Failed(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
    }
}

/// A query string parsed into `T`; a malformed one is answered with 422 naming the problem.
pub struct QueryOr422<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for QueryOr422<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(Self(q)),
            Err(e) => Err(error(StatusCode::UNPROCESSABLE_ENTITY, e.body_text())),
        }
    }
}
