//! Error replies shared by the routes: one JSON shape, `{"error": ..., "fields": [...]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
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
