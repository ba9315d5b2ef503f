//! `/metrics`: Prometheus (OpenMetrics text) figures of the API and the engines.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use strangle_core::strategy::Status;

use super::error::ApiError;
use super::Api;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    profile: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    profile: String,
    mode: String,
    phase: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The registry and its metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    engines_running: Gauge,
    phase: Family<PhaseLabels, Gauge>,
    net: Family<EngineLabels, FloatGauge>,
    premium: Family<EngineLabels, FloatGauge>,
    open_contracts: Family<EngineLabels, FloatGauge>,
    trailing: Family<EngineLabels, FloatGauge>,
    rate_budget: Family<EngineLabels, Gauge>,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("strangle");
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "API requests by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "API request latency by route",
            latency.clone(),
        );
        let engines_running = Gauge::default();
        registry.register(
            "engines_running",
            "Engines running in this server",
            engines_running.clone(),
        );
        let phase = Family::<PhaseLabels, Gauge>::default();
        registry.register(
            "engine_phase",
            "1 for each running engine's current phase",
            phase.clone(),
        );
        let net = Family::<EngineLabels, FloatGauge>::default();
        registry.register(
            "session_net_pnl_usd",
            "Net PnL of the open session at the marks, USD",
            net.clone(),
        );
        let premium = Family::<EngineLabels, FloatGauge>::default();
        registry.register(
            "session_premium_usd",
            "Premium received by the open session, USD",
            premium.clone(),
        );
        let open_contracts = Family::<EngineLabels, FloatGauge>::default();
        registry.register(
            "open_contracts",
            "Contracts short across the open session's legs",
            open_contracts.clone(),
        );
        let trailing = Family::<EngineLabels, FloatGauge>::default();
        registry.register(
            "trailing_level_pct",
            "Locked trailing-stop level, % of premium",
            trailing.clone(),
        );
        let rate_budget = Family::<EngineLabels, Gauge>::default();
        registry.register(
            "rate_budget_left",
            "Delta request units left in the rate-limit window for the engine's API key",
            rate_budget.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            engines_running,
            phase,
            net,
            premium,
            open_contracts,
            trailing,
            rate_budget,
        }
    }

    fn observe_engines(&self, states: &[(String, Status)]) {
        let f = |d: Decimal| d.to_f64().unwrap_or(f64::NAN);
        self.phase.clear();
        self.net.clear();
        self.premium.clear();
        self.open_contracts.clear();
        self.trailing.clear();
        self.rate_budget.clear();
        self.engines_running
            .set(i64::try_from(states.len()).unwrap_or(i64::MAX));
        for (name, s) in states {
            let l = EngineLabels {
                profile: name.clone(),
            };
            self.phase
                .get_or_create(&PhaseLabels {
                    profile: name.clone(),
                    mode: s.mode.to_string(),
                    phase: format!("{:?}", s.phase).to_lowercase(),
                })
                .set(1);
            if let Some(p) = s.pnl {
                self.net.get_or_create(&l).set(f(p.net));
                self.premium.get_or_create(&l).set(f(p.premium));
            }
            let open: Decimal = s.legs.iter().map(|g| g.open).sum();
            self.open_contracts.get_or_create(&l).set(f(open));
            if let Some(t) = s.trailing_level {
                self.trailing.get_or_create(&l).set(f(t));
            }
            if let Some(u) = s.rate_budget_left {
                self.rate_budget.get_or_create(&l).set(i64::from(u));
            }
        }
    }
}

/// Counts every routed request and its latency (by route pattern, not by raw path, so
/// ids do not blow up the label set).
pub async fn track(State(api): State<Arc<Api>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let m = &api.metrics;
    m.requests
        .get_or_create(&HttpLabels {
            method,
            route: route.clone(),
            status: res.status().as_u16(),
        })
        .inc();
    m.latency
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    res
}

/// The metrics in OpenMetrics text (Prometheus reads it).
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(api): State<Arc<Api>>) -> Result<Response, ApiError> {
    let states = api.trading.states().await;
    api.metrics.observe_engines(&states);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &api.metrics.registry)
        .map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
