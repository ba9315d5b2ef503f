//! The API's routes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use strangle_core::error::FieldError;
use strangle_core::ledger::SessionState;
use strangle_core::profile::Profile;
use strangle_store::{SessionFilter, StoreError};

use super::Api;

type St = State<Arc<Api>>;

pub(super) fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/configs", get(list_configs).post(create_config))
        .route(
            "/api/configs/{id}",
            get(get_config).put(update_config).delete(delete_config),
        )
        .route("/api/configs/{id}/activate", post(activate_config))
        .route("/api/trading/sessions", get(sessions))
        .route("/api/trading/sessions/export", get(export_sessions))
        .route("/api/trading/sessions/{id}", get(session))
        .route("/api/analytics/history", get(analytics))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "no such endpoint"})),
            )
        })
        .with_state(api)
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

fn store_error(e: StoreError) -> Response {
    let status = match e {
        StoreError::NoProfile(_) => StatusCode::NOT_FOUND,
        StoreError::DuplicateProfile(_)
        | StoreError::ActiveProfile(_)
        | StoreError::Locked { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

fn invalid(errors: Vec<FieldError>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"error": "invalid profile", "fields": errors})),
    )
        .into_response()
}

/// Parses and validates a profile body; every problem is reported, nothing is changed.
fn profile_from(body: &Bytes) -> Result<Profile, Box<Response>> {
    let p: Profile = serde_json::from_slice(body).map_err(|e| {
        Box::new(invalid(vec![FieldError {
            field: "body".into(),
            message: e.to_string(),
        }]))
    })?;
    match p.validate() {
        Ok(()) => Ok(p),
        Err(strangle_core::Error::InvalidProfile(v)) => Err(Box::new(invalid(v.0))),
        Err(e) => Err(Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
        ))),
    }
}

async fn list_configs(State(api): St) -> Response {
    match api.store.profiles().await {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_error(e),
    }
}

async fn create_config(State(api): St, body: Bytes) -> Response {
    let p = match profile_from(&body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match api.store.create_profile(&p).await {
        Ok(s) => (StatusCode::CREATED, Json(s)).into_response(),
        Err(e) => store_error(e),
    }
}

async fn get_config(State(api): St, Path(id): Path<i64>) -> Response {
    match api.store.profile_by_id(id).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => store_error(e),
    }
}

async fn update_config(State(api): St, Path(id): Path<i64>, body: Bytes) -> Response {
    let p = match profile_from(&body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match api.store.update_profile(id, &p).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => store_error(e),
    }
}

async fn delete_config(State(api): St, Path(id): Path<i64>) -> Response {
    match api.store.delete_profile(id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

async fn activate_config(State(api): St, Path(id): Path<i64>) -> Response {
    match api.store.activate_profile(id).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Debug, Deserialize)]
struct SessionQuery {
    profile: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    state: Option<SessionState>,
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
    format: Option<String>,
}

fn default_limit() -> i64 {
    50
}

impl SessionQuery {
    fn filter(&self) -> SessionFilter {
        SessionFilter {
            profile: self.profile.clone(),
            from: self.from,
            to: self.to,
            state: self.state,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// The query string of the session routes; a malformed one is answered with 422.
struct Filter(SessionQuery);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Filter {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match Query::<SessionQuery>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(Filter(q)),
            Err(e) => Err(error(StatusCode::UNPROCESSABLE_ENTITY, e.body_text())),
        }
    }
}

async fn sessions(State(api): St, Filter(q): Filter) -> Response {
    if !(1..=1000).contains(&q.limit) || q.offset < 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit must be 1 to 1000 and offset not negative",
        );
    }
    match api.store.list_sessions(&q.filter()).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => store_error(e),
    }
}

async fn export_sessions(State(api): St, Filter(q): Filter) -> Response {
    if q.format.as_deref().is_some_and(|f| f != "csv") {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "format must be csv");
    }
    match api.store.sessions_csv(&q.filter()).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"sessions.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => store_error(e),
    }
}

async fn session(State(api): St, Path(id): Path<String>) -> Response {
    match api.store.session_detail(&id).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no session {id:?}")),
        Err(e) => store_error(e),
    }
}

async fn analytics(State(api): St, Filter(q): Filter) -> Response {
    match api.store.analytics(&q.filter()).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => store_error(e),
    }
}
