//! The local market's admin endpoint: `GET/POST/DELETE /admin/faults` reads, sets and clears
//! the fault knobs of a running server. Off unless the server was given a token; every
//! request must carry it (`Authorization: Bearer TOKEN`) and must not come from a browser
//! page (any `Origin` header is refused), so a web page the operator opens cannot reach it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::control::{FaultSpec, Knob};
use super::{api_error, ServerState};
use crate::MarketError;
use strangle_delta::wire::Envelope;

type St = State<Arc<ServerState>>;

/// The admin routes (outside the fault layer: a fault never blocks the way to clear it).
pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/admin/faults", get(view).post(set).delete(clear))
        .layer(from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

async fn guard(State(st): St, req: Request, next: Next) -> Response {
    let Some(token) = &st.admin_token else {
        return api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            Some("the admin endpoint is off: start the server with an admin token".into()),
        );
    };
    if req.headers().contains_key("origin") {
        return api_error(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            Some("the admin endpoint does not answer browser pages".into()),
        );
    }
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !token.matches(given) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "invalid_admin_token",
            Some("send Authorization: Bearer TOKEN with the server's admin token".into()),
        );
    }
    next.run(req).await
}

fn answer(st: &ServerState) -> Response {
    use axum::response::IntoResponse;
    axum::Json(Envelope::ok(st.faults.view())).into_response()
}

async fn view(State(st): St) -> Response {
    answer(&st)
}

async fn clear(State(st): St) -> Response {
    st.faults.apply(&FaultSpec::new(Knob::Clear));
    tracing::info!("admin: every fault cleared");
    answer(&st)
}

/// Applies one spec (a JSON object) or several (an array), all or none.
async fn set(State(st): St, body: Bytes) -> Response {
    let bad = |m: String| api_error(StatusCode::BAD_REQUEST, "bad_schema", Some(m));
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("body is not JSON: {e}")),
    };
    let items = match value {
        Value::Array(a) => a,
        v @ Value::Object(_) => vec![v],
        _ => return bad("body must be a fault object or a list of them".into()),
    };
    let mut specs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(map) = item else {
            return bad(format!("body item {}: not an object", i + 1));
        };
        match FaultSpec::from_map(map) {
            Ok(s) => specs.push(s),
            Err(MarketError::Invalid(why)) => return bad(format!("body item {}: {why}", i + 1)),
            Err(e) => return bad(format!("body item {}: {e}", i + 1)),
        }
    }
    for s in &specs {
        st.faults.apply(s);
        tracing::info!(fault = %s.knob.name(), "admin: fault set");
    }
    answer(&st)
}
