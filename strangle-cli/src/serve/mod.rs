//! `strangle serve`: the REST API over the ledger (profiles, sessions, analytics).
//!
//! Binds to 127.0.0.1 by default; any other address needs an API token, and with a token set
//! every request must carry `Authorization: Bearer <token>`. Invalid input gets 422 with every
//! field error and changes nothing; unknown ids 404; conflicts 409.

mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::Args;
use strangle_store::Store;

use crate::error::CliError;

/// Environment variable holding the API token.
pub const TOKEN_VAR: &str = "STRANGLE_API_TOKEN";

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs a token.
    #[arg(long, default_value = "127.0.0.1:8000", env = "STRANGLE_LISTEN")]
    pub listen: SocketAddr,
}

/// Shared state of the API.
pub struct Api {
    store: Arc<Store>,
    token: Option<String>,
}

/// The API token from the environment (never from the command line, never printed).
pub fn token() -> Option<String> {
    std::env::var(TOKEN_VAR)
        .ok()
        .filter(|t| !t.trim().is_empty())
}

async fn require_token(State(api): State<Arc<Api>>, req: Request, next: Next) -> Response {
    if let Some(t) = &api.token {
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compare without an early exit on the first differing byte.
        let ok = given.is_some_and(|g| {
            g.len() == t.len()
                && g.bytes()
                    .zip(t.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"error": "a valid bearer token is required"})),
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Serves until Ctrl-C.
pub async fn run(store: Arc<Store>, args: ServeArgs) -> Result<(), CliError> {
    let token = token();
    if !args.listen.ip().is_loopback() && token.is_none() {
        return Err(CliError::Refused(format!(
            "refusing to listen on {} without an API token: set {TOKEN_VAR}, or listen on 127.0.0.1",
            args.listen
        )));
    }
    let api = Arc::new(Api { store, token });
    let app =
        routes::router(api.clone()).layer(axum::middleware::from_fn_with_state(api, require_token));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Failed(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    println!("strangle API listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| CliError::Failed(e.to_string()))
}
