//! Request checks of the local server, as Delta does them: a `User-Agent` (else the CDN's
//! 403), a known `api-key`, a `timestamp` no more than 5 seconds old, and the HMAC signature
//! of `METHOD + timestamp + path + query + body` over the exact bytes received.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::{api_error, ServerState};
use strangle_delta::sign::verify;

/// Largest request body accepted (Delta's batch orders are far below this).
const MAX_BODY: usize = 1 << 20;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Checks signed requests; on success passes the request on with its body intact.
pub(crate) async fn require_signature(
    State(st): State<Arc<ServerState>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "bad_schema",
            Some("request body too large".into()),
        );
    };
    let h = &parts.headers;
    let Some(key) = header(h, "api-key") else {
        return api_error(StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    };
    let Some(secret) = st.accounts.get(key) else {
        return api_error(StatusCode::UNAUTHORIZED, "invalid_api_key", None);
    };
    let (Some(ts), Some(sig)) = (header(h, "timestamp"), header(h, "signature")) else {
        return api_error(StatusCode::UNAUTHORIZED, "Signature Mismatch", None);
    };
    let now = chrono::Utc::now().timestamp() + st.faults.clock_skew();
    let Ok(t) = ts.parse::<i64>() else {
        return api_error(StatusCode::UNAUTHORIZED, "Signature Mismatch", None);
    };
    if now - t > 5 || t - now > 5 {
        let body = serde_json::json!({
            "error": "SignatureExpired",
            "message": "your signature has expired",
            "context": {"request_time": t, "server_time": now},
        });
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let body_text = String::from_utf8_lossy(&bytes);
    if !verify(
        secret,
        sig,
        parts.method.as_str(),
        ts,
        parts.uri.path(),
        &query,
        &body_text,
    ) {
        return api_error(StatusCode::UNAUTHORIZED, "Signature Mismatch", None);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Applies the CDN's User-Agent rule and the injected faults to every request.
pub(crate) async fn edge(State(st): State<Arc<ServerState>>, req: Request, next: Next) -> Response {
    let websocket = req.uri().path().starts_with("/ws");
    if !websocket && header(req.headers(), "user-agent").is_none_or(str::is_empty) {
        let body = serde_json::json!({"error": "Forbidden", "message": "Request blocked by CDN"});
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    let latency = st.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    use super::faults::FaultKind;
    match st.faults.take(&method, &path) {
        Some(FaultKind::RateLimit { reset_ms }) => {
            let mut r = api_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", None);
            if let Ok(v) = reset_ms.to_string().parse() {
                r.headers_mut().insert("x-rate-limit-reset", v);
            }
            r
        }
        Some(FaultKind::ServerError(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            api_error(status, "internal_server_error", None)
        }
        Some(FaultKind::DropRequest(d)) => {
            tokio::time::sleep(d).await;
            api_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", None)
        }
        Some(FaultKind::SlowAnswer(d)) => {
            let r = next.run(req).await;
            tokio::time::sleep(d).await;
            r
        }
        Some(FaultKind::RejectOrder(code)) if method == "POST" && path == "/v2/orders" => {
            api_error(StatusCode::BAD_REQUEST, &code, None)
        }
        Some(FaultKind::GarbledAnswer) => {
            let _ = next.run(req).await;
            (StatusCode::OK, "<html><body>502 Bad Gateway</body></html>").into_response()
        }
        Some(FaultKind::Answer { status, body }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND),
            body,
        )
            .into_response(),
        Some(FaultKind::RejectOrder(_)) | None => next.run(req).await,
    }
}
