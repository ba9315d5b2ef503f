//! `/api/trading/control`, `/heartbeat` and `/runtime`: the engines of this server.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strangle_core::error::FieldError;
use utoipa::{IntoParams, ToSchema};

use strangle_core::clock::Clock;

use super::error::{ApiError, ErrorBody, NoQuery, QueryOr422};
use super::trading::{Action, Heartbeat, MarketKind, Runtime};
use super::Api;

type St = State<Arc<Api>>;

/// A control request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlRequest {
    /// What to do.
    pub action: Action,
    /// The profile's id.
    pub configuration_id: i64,
    /// Start only: the market (default: the server's `--market`).
    pub market: Option<MarketKind>,
    /// Start on the sim market only: the simulated market's time at the start (RFC 3339),
    /// e.g. a minute before the entry window (default: the server's `--sim-start`, or now).
    pub sim_start: Option<DateTime<Utc>>,
    /// Start on the sim market only: market seconds per real second, above 0 and at most
    /// 10000 (default: the server's `--sim-speed`, or 1).
    pub sim_speed: Option<f64>,
}

/// The answer to a control request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlReply {
    /// The action carried out.
    pub action: Action,
    /// The engine's heartbeat after it (stop and panic finish in the background: watch
    /// the heartbeat until `status` is `stopped`).
    pub heartbeat: Heartbeat,
}

/// Parses a control request, listing every problem.
fn request_from(body: &Bytes) -> Result<ControlRequest, ApiError> {
    let field = |field: &str, message: String| FieldError {
        field: field.into(),
        message,
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::field("request", "body", e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(ApiError::field("request", "body", "expected a JSON object"));
    };
    let mut fields = Vec::new();
    let known = [
        "action",
        "configuration_id",
        "market",
        "sim_start",
        "sim_speed",
    ];
    for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        fields.push(field(k, "unknown field".into()));
    }
    match obj.get("action") {
        None => fields.push(field("action", "required".into())),
        Some(a) if serde_json::from_value::<Action>(a.clone()).is_err() => fields.push(field(
            "action",
            format!("{a} is not one of start, stop, restart, panic"),
        )),
        _ => {}
    }
    match obj.get("configuration_id") {
        None => fields.push(field("configuration_id", "required".into())),
        Some(v) if v.as_i64().is_none() => {
            fields.push(field("configuration_id", "must be an integer".into()));
        }
        _ => {}
    }
    if let Some(m) = obj.get("market").filter(|m| !m.is_null()) {
        if serde_json::from_value::<MarketKind>(m.clone()).is_err() {
            fields.push(field(
                "market",
                format!("{m} is not one of sim, paper, live"),
            ));
        }
    }
    if let Some(t) = obj.get("sim_start").filter(|t| !t.is_null()) {
        if serde_json::from_value::<DateTime<Utc>>(t.clone()).is_err() {
            fields.push(field("sim_start", format!("{t} is not an RFC 3339 time")));
        }
    }
    if let Some(v) = obj.get("sim_speed").filter(|v| !v.is_null()) {
        match v.as_f64() {
            Some(x) if x > 0.0 && x <= 10_000.0 => {}
            _ => fields.push(field(
                "sim_speed",
                format!("{v}: expected a number above 0 and at most 10000"),
            )),
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Invalid {
            what: "request",
            fields,
        });
    }
    serde_json::from_value(value).map_err(|e| ApiError::field("request", "body", e.to_string()))
}

/// Starts, stops, restarts or panics a profile's engine.
///
/// Several profiles may run at once; one profile never runs twice (409). `stop` flattens
/// open legs then stops; `panic` cancels working orders and market-closes everything;
/// `restart` reloads the strategy from the ledger without flattening.
#[utoipa::path(post, path = "/api/trading/control", tag = "trading", request_body = ControlRequest,
    responses(
        (status = 200, description = "Done (stop and panic finish in the background)", body = ControlReply),
        (status = 403, description = "Live trading is not enabled on this server", body = ErrorBody),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 409, description = "Already running, not running, or running in another process", body = ErrorBody),
        (status = 422, description = "Invalid request; every bad field is listed", body = ErrorBody)))]
pub async fn control(
    State(api): St,
    _: NoQuery,
    body: Bytes,
) -> Result<Json<ControlReply>, ApiError> {
    let req = request_from(&body)?;
    if req.market.is_some() && req.action != Action::Start {
        return Err(ApiError::field(
            "request",
            "market",
            "only start takes a market",
        ));
    }
    let sim = (req.sim_start.is_some() || req.sim_speed.is_some()).then(|| {
        let server = api.trading.sim_clock();
        crate::serve::trading::SimStart {
            start: req
                .sim_start
                .or_else(|| server.as_ref().map(|c| c.now()))
                .unwrap_or_else(Utc::now),
            speed: req
                .sim_speed
                .or_else(|| server.as_ref().map(|c| c.speed()))
                .unwrap_or(1.0),
        }
    });
    if sim.is_some() && req.action != Action::Start {
        return Err(ApiError::field(
            "request",
            "sim_start",
            "only start takes sim_start and sim_speed",
        ));
    }
    let heartbeat = match req.action {
        Action::Start => {
            api.trading
                .start(req.configuration_id, req.market, sim)
                .await?
        }
        a => api.trading.command(req.configuration_id, a).await?,
    };
    Ok(Json(ControlReply {
        action: req.action,
        heartbeat,
    }))
}

/// Which engine to report on.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EngineQuery {
    /// One profile's id (reported even when idle); default: every engine this server runs
    /// or ran.
    configuration_id: Option<i64>,
}

/// Heartbeats.
#[derive(Debug, Serialize, ToSchema)]
pub struct Heartbeats {
    /// The server's clock.
    pub server_time: DateTime<Utc>,
    /// The server's simulated market time (`--sim-start`/`--sim-speed`; none: the wall
    /// clock). An engine started with its own sim clock reports its time in its heartbeat.
    pub market_time: Option<DateTime<Utc>>,
    /// Market seconds per real second of that clock.
    pub market_speed: Option<f64>,
    /// One per engine.
    pub engines: Vec<Heartbeat>,
}

/// Runtime states.
#[derive(Debug, Serialize, ToSchema)]
pub struct Runtimes {
    /// The server's clock.
    pub server_time: DateTime<Utc>,
    /// The server's simulated market time (none: the wall clock).
    pub market_time: Option<DateTime<Utc>>,
    /// Market seconds per real second of that clock.
    pub market_speed: Option<f64>,
    /// One per engine.
    pub engines: Vec<Runtime>,
}

/// Status, session and timestamps of each engine.
#[utoipa::path(get, path = "/api/trading/heartbeat", tag = "trading", params(EngineQuery),
    responses(
        (status = 200, description = "Heartbeats", body = Heartbeats),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 422, description = "Malformed query", body = ErrorBody)))]
pub async fn heartbeat(
    State(api): St,
    QueryOr422(EngineQuery {
        configuration_id: id,
    }): QueryOr422<EngineQuery>,
) -> Result<Response, ApiError> {
    let engines = match id {
        Some(id) => vec![api.trading.heartbeat(id).await?],
        None => api.trading.heartbeats().await,
    };
    let clock = api.trading.sim_clock();
    let size = 200 + 700 * engines.len();
    json_reply(
        &Heartbeats {
            server_time: Utc::now(),
            market_time: clock.as_ref().map(|c| c.now()),
            market_speed: clock.as_ref().map(|c| c.speed()),
            engines,
        },
        size,
    )
}

/// `value` as a JSON answer, written into a buffer of `size` bytes to start with (axum's
/// `Json` starts at 128 and grows by copying).
fn json_reply(value: &impl Serialize, size: usize) -> Result<Response, ApiError> {
    let mut body = Vec::with_capacity(size);
    serde_json::to_writer(&mut body, value)
        .map_err(|e| ApiError::Internal(format!("answer to JSON: {e}")))?;
    Ok(super::json_body(body.into()))
}

/// Full live state of each engine: schedule with countdowns, legs, totals, limits,
/// trailing level, max profit and drawdown seen, spot, exit reason.
#[utoipa::path(get, path = "/api/trading/runtime", tag = "trading", params(EngineQuery),
    responses(
        (status = 200, description = "Runtime states", body = Runtimes),
        (status = 404, description = "No such profile", body = ErrorBody),
        (status = 422, description = "Malformed query", body = ErrorBody)))]
pub async fn runtime(
    State(api): St,
    QueryOr422(EngineQuery {
        configuration_id: id,
    }): QueryOr422<EngineQuery>,
) -> Result<Response, ApiError> {
    let explicit = id.is_some();
    let ids = match id {
        Some(id) => vec![id],
        None => api.trading.engine_ids().await,
    };
    let mut engines = Vec::with_capacity(ids.len());
    for id in ids {
        match api.trading.runtime(id).await {
            Ok(r) => engines.push(r),
            // A profile deleted after its engine ended is left out of the full list.
            Err(ApiError::NotFound(_)) if !explicit => {}
            Err(e) => return Err(e),
        }
    }
    let clock = api.trading.sim_clock();
    let size = 200 + 3000 * engines.len();
    json_reply(
        &Runtimes {
            server_time: Utc::now(),
            market_time: clock.as_ref().map(|c| c.now()),
            market_speed: clock.as_ref().map(|c| c.speed()),
            engines,
        },
        size,
    )
}
