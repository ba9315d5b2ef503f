//! What a request must be before any route sees it. A server on loopback is still reachable
//! from every web page the operator opens, so browser requests are treated as hostile:
//!
//! - the `Host` header must name this server (a loopback name, the address it listens on, or
//!   an `--allow-host`): a DNS-rebinding page, whose requests carry its own host name, is
//!   refused before it can read anything;
//! - a request that changes state (POST, PUT, PATCH, DELETE) carrying an `Origin` must come
//!   from this server's own origin or a `--cors-origin`;
//! - such a request with a body must say `Content-Type: application/json`: an HTML form or a
//!   `text/plain` fetch (the requests a page can send without a CORS preflight) is refused;
//! - and the token is always required ([`super::require_token`]).
//!
//! Every refusal, and every error reply that did not come from a route (405, 413, …), has the
//! API's JSON error shape.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The hosts and origins a request may name.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// Host names (without port) besides the loopback names: the listen address when it is
    /// not a wildcard, and each `--allow-host`.
    hosts: Vec<String>,
    /// Cross-origin callers allowed to change state (`--cors-origin`).
    origins: Vec<String>,
}

impl Allowed {
    /// The hosts a server listening on `listen` answers to, plus `extra` names; `origins` are
    /// the `--cors-origin` values.
    pub fn new(listen: SocketAddr, extra: &[String], origins: &[String]) -> Self {
        let mut hosts: Vec<String> = extra
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if !listen.ip().is_unspecified() {
            hosts.push(host_of_ip(listen.ip()));
        }
        Self {
            hosts,
            origins: origins.iter().map(|o| o.trim().to_string()).collect(),
        }
    }

    /// Whether a `Host` header value (`name[:port]`) names this server.
    pub fn host_ok(&self, host: &str) -> bool {
        let name = strip_port(host).to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.hosts.contains(&name)
    }

    /// Whether `origin` may change state on a server reached as `host`.
    fn origin_ok(&self, origin: &str, host: &str) -> bool {
        let own = [format!("http://{host}"), format!("https://{host}")];
        own.iter().any(|o| o.eq_ignore_ascii_case(origin))
            || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// `127.0.0.1` or `[::1]`, as a Host header writes an address.
fn host_of_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `name` of `name:port`, `[v6]` of `[v6]:port`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn changes_state(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Whether the request carries a body: a length above zero or a chunked one in the headers,
/// or a body that is not known to be empty (an HTTP/2 body needs no length header).
fn has_body(h: &HeaderMap, body: &axum::body::Body) -> bool {
    use axum::body::HttpBody;
    let length = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0)
        || h.contains_key(header::TRANSFER_ENCODING)
        || (!body.is_end_stream() && body.size_hint().upper() != Some(0))
}

/// Whether a Content-Type value is JSON (`application/json`, parameters allowed).
fn is_json(v: &str) -> bool {
    v.split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The checks above, in order; a refused request never reaches a route.
pub async fn check(
    State(allowed): State<Arc<Allowed>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let h = req.headers();
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_string();
    if !allowed.host_ok(&host) {
        return Err(ApiError::Forbidden(format!(
            "host {host:?} is not this server's (a DNS-rebinding page?): call it by \
             127.0.0.1 or localhost, or start serve with --allow-host NAME"
        )));
    }
    if changes_state(req.method()) {
        if let Some(origin) = h.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !allowed.origin_ok(origin, &host) {
                return Err(ApiError::Forbidden(format!(
                    "a request from the web origin {origin:?} may not change anything here \
                     (allow it with --cors-origin)"
                )));
            }
        }
        let content_type = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let json = content_type.is_some_and(is_json);
        if (content_type.is_some() || has_body(h, req.body())) && !json {
            return Err(ApiError::UnsupportedMediaType(format!(
                "a request that changes state must send Content-Type: application/json, not {:?}",
                content_type.unwrap_or("none")
            )));
        }
    }
    Ok(next.run(req).await)
}

/// Gives error replies made outside the routes (405, 413, a path that does not parse, …) the
/// API's JSON error shape, keeping their status and, below 500, their text.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let text = match axum::body::to_bytes(res.into_body(), 16 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let what = status.canonical_reason().unwrap_or("error").to_lowercase();
    let mut out = if status.is_server_error() {
        ApiError::Internal(format!("{what}: {text}")).into_response()
    } else {
        ApiError::Framework {
            status,
            message: if text.is_empty() {
                what
            } else {
                format!("{what}: {text}")
            },
        }
        .into_response()
    };
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Allowed {
        Allowed::new(
            "127.0.0.1:8000".parse().expect("addr"),
            &["ops.lan".into()],
            &["https://ops.example".into()],
        )
    }

    #[test]
    fn hosts_are_loopback_names_the_listen_address_or_allowed_ones() {
        let a = allowed();
        for ok in [
            "127.0.0.1:8000",
            "localhost:8000",
            "LOCALHOST",
            "[::1]:8000",
            "127.0.0.2",
            "ops.lan:8000",
            "app.localhost:1",
        ] {
            assert!(a.host_ok(ok), "{ok}");
        }
        for bad in [
            "evil.example:8000",
            "127.0.0.1.evil.example",
            "",
            "10.0.0.1:8000",
            "localhost.evil.example",
        ] {
            assert!(!a.host_ok(bad), "{bad}");
        }
        let wide = Allowed::new("0.0.0.0:8000".parse().expect("addr"), &[], &[]);
        assert!(!wide.host_ok("0.0.0.0:8000"));
    }

    #[test]
    fn origins_are_this_server_or_named_ones() {
        let a = allowed();
        assert!(a.origin_ok("http://127.0.0.1:8000", "127.0.0.1:8000"));
        assert!(a.origin_ok("https://ops.example", "127.0.0.1:8000"));
        assert!(!a.origin_ok("http://evil.example", "127.0.0.1:8000"));
        assert!(!a.origin_ok("null", "127.0.0.1:8000"));
        assert!(!a.origin_ok("http://127.0.0.1:9999", "127.0.0.1:8000"));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("application/jsonp"));
    }
}
