//! The router: every route, its OpenAPI description, and `/api/openapi.json` built from the
//! same annotations (so the document cannot drift from the code).

use std::sync::Arc;

use axum::{Json, Router};
use serde_json::json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::{configs, control, metrics, risk, sessions, Api};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "strangle API",
        description = "Profiles, trading control, sessions and analytics of a strangle server. \
                       Every request needs `Authorization: Bearer <token>` (the token is set \
                       with STRANGLE_API_TOKEN, or generated at start and printed in the \
                       dashboard link); changes need `Content-Type: application/json`."
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
            configs::patch_config,
            configs::delete_config
        ))
        .routes(routes!(configs::activate_config))
        .routes(routes!(configs::import_configs))
        .routes(routes!(control::control))
        .routes(routes!(control::heartbeat))
        .routes(routes!(control::runtime))
        .routes(routes!(risk::risk))
        .routes(routes!(risk::set_limits))
        .routes(routes!(risk::reset))
        .routes(routes!(sessions::sessions))
        .routes(routes!(sessions::export_sessions))
        .routes(routes!(sessions::session))
        .routes(routes!(sessions::session_marks))
        .routes(routes!(sessions::analytics))
        .routes(routes!(sessions::dashboard))
        .with_state(api)
        .split_for_parts()
}

/// What every operation may also answer, from the request guard and the token check, and
/// the fields a profile must name: added to the generated document, so clients see the real
/// contract.
fn document_guard(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::HttpMethod;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
    let reply = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = path == "/healthz";
        for (method, op) in [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ] {
            let Some(op) = op else { continue };
            let r = &mut op.responses.responses;
            if !public {
                r.entry("401".into())
                    .or_insert_with(|| reply("No valid bearer token"));
            }
            r.entry("403".into()).or_insert_with(|| {
                reply("The Host is not this server's, or a foreign web origin tried a change")
            });
            if method != HttpMethod::Get {
                r.entry("415".into())
                    .or_insert_with(|| reply("A body that is not Content-Type: application/json"));
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        if let Some(RefOr::T(Schema::Object(profile))) = components.schemas.get_mut("Profile") {
            if !profile.required.iter().any(|f| f == "name") {
                profile.required.push("name".into());
            }
        }
    }
}

pub(super) fn router(api: Arc<Api>) -> Router {
    let (router, mut doc) = parts(api.clone());
    document_guard(&mut doc);
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

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}
