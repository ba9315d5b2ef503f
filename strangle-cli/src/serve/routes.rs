//! The router: every route, its OpenAPI description, and `/api/openapi.json` built from the
//! same annotations (so the document cannot drift from the code).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{configs, control, metrics, sessions, Api};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "strangle API",
        description = "Profiles, trading control, sessions and analytics of a strangle server. \
                       With a token set, every request needs `Authorization: Bearer <token>`."
    ),
    paths(openapi_json),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "configs", description = "Strategy profiles"),
        (name = "trading", description = "Engines: start, stop, heartbeat, runtime state"),
        (name = "sessions", description = "Recorded sessions"),
        (name = "analytics", description = "KPIs and chart series"),
        (name = "service", description = "Health, metrics and this document")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The server is up", body = Object, example = json!({"status": "ok"}))))]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// This OpenAPI document (served by [`router`], which owns the document).
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
#[allow(dead_code)]
fn openapi_json() {}

/// The routes and the OpenAPI document they describe.
fn parts(api: Arc<Api>) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(configs::list_configs, configs::create_config))
        .routes(routes!(configs::default_config))
        .routes(routes!(
            configs::get_config,
            configs::update_config,
            configs::delete_config
        ))
        .routes(routes!(configs::activate_config))
        .routes(routes!(control::control))
        .routes(routes!(control::heartbeat))
        .routes(routes!(control::runtime))
        .routes(routes!(sessions::sessions))
        .routes(routes!(sessions::export_sessions))
        .routes(routes!(sessions::session))
        .routes(routes!(sessions::analytics))
        .routes(routes!(sessions::dashboard))
        .with_state(api)
        .split_for_parts()
}

pub(super) fn router(api: Arc<Api>) -> Router {
    let (router, doc) = parts(api.clone());
    let doc = Arc::new(doc);
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(api, metrics::track))
        .merge(super::web::routes())
        .fallback(not_found)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such endpoint"})),
    )
        .into_response()
}
