//! `/api/trading/sessions` and `/api/analytics/*`: what the ledger holds.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strangle_core::analytics::Analytics;
use strangle_core::ledger::{Mode, SessionRecord, SessionState};
use strangle_store::{Page, SessionDetail, SessionFilter};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody, NoQuery, QueryOr422};
use super::trading::Heartbeat;
use super::Api;

type St = State<Arc<Api>>;

/// Filters of the session and analytics routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionQuery {
    /// Only this profile's sessions (by name).
    profile: Option<String>,
    /// Sessions opened at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Sessions opened before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Only sessions in this state.
    state: Option<SessionState>,
    /// Only sessions in this mode, or `all`. Default: one mode, never a mix — live when the
    /// ledger has live sessions, else paper, else sim, else backtest.
    #[param(inline)]
    mode: Option<ModeChoice>,
    /// Page size, 1 to 1000 (default 50).
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 1000)]
    limit: i64,
    /// Sessions to skip (default 0).
    #[serde(default)]
    #[param(minimum = 0)]
    offset: i64,
    /// Export format (only `csv`).
    #[param(inline)]
    format: Option<ExportFormat>,
}

/// Formats of `/api/trading/sessions/export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Comma-separated values, one row per session.
    Csv,
}

fn default_limit() -> i64 {
    50
}

/// The `mode` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModeChoice {
    /// Real orders.
    Live,
    /// Delta's market data, simulated fills.
    Paper,
    /// The local simulated market.
    Sim,
    /// Backtests recorded in the ledger.
    Backtest,
    /// Live runs against a market on this machine (`strangle sim-server`).
    Rehearsal,
    /// Every mode together (asked for, never the default).
    All,
}

/// Which mode a request without `mode` reads: the first the ledger has in this order.
const DEFAULT_MODES: [Mode; 5] = [
    Mode::Live,
    Mode::Paper,
    Mode::Rehearsal,
    Mode::Sim,
    Mode::Backtest,
];

impl SessionQuery {
    /// The store's filter, with the mode resolved (`None`: every mode).
    async fn filter(&self, api: &Api) -> Result<SessionFilter, ApiError> {
        let mode = match self.mode {
            Some(ModeChoice::Live) => Some(Mode::Live),
            Some(ModeChoice::Paper) => Some(Mode::Paper),
            Some(ModeChoice::Sim) => Some(Mode::Sim),
            Some(ModeChoice::Backtest) => Some(Mode::Backtest),
            Some(ModeChoice::Rehearsal) => Some(Mode::Rehearsal),
            Some(ModeChoice::All) => None,
            None => {
                let present = api.store.modes().await?;
                DEFAULT_MODES.into_iter().find(|m| present.contains(m))
            }
        };
        Ok(SessionFilter {
            profile: self.profile.clone(),
            from: self.from,
            to: self.to,
            state: self.state,
            mode,
            limit: self.limit,
            offset: self.offset,
        })
    }
}

/// The header naming the mode a session or analytics answer covers (`all` for every mode).
pub const MODE_HEADER: &str = "x-strangle-mode";

fn mode_name(m: Option<Mode>) -> String {
    m.map_or_else(|| "all".into(), |m| m.to_string())
}

/// The query string of the session routes; a malformed one is answered with 422.
pub struct Filter(SessionQuery);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Filter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let QueryOr422(q) = QueryOr422::<SessionQuery>::from_request_parts(parts, state).await?;
        if !(1..=1000).contains(&q.limit) || q.offset < 0 {
            return Err(ApiError::Unprocessable(
                "limit must be 1 to 1000 and offset not negative".into(),
            ));
        }
        if let (Some(f), Some(t)) = (q.from, q.to) {
            if f > t {
                return Err(ApiError::Unprocessable("from must not be after to".into()));
            }
        }
        Ok(Filter(q))
    }
}

/// A page of sessions, newest first.
#[utoipa::path(get, path = "/api/trading/sessions", tag = "sessions", params(SessionQuery),
    responses(
        (status = 200, description = "A page of sessions", body = Page<SessionRecord>),
        (status = 422, description = "Malformed filter", body = ErrorBody)))]
pub async fn sessions(State(api): St, Filter(q): Filter) -> Result<Response, ApiError> {
    let f = q.filter(&api).await?;
    let page: Page<SessionRecord> = api.store.list_sessions(&f).await?;
    Ok(([(MODE_HEADER, mode_name(f.mode))], Json(page)).into_response())
}

/// Every matching session as CSV (one row per session, both legs).
#[utoipa::path(get, path = "/api/trading/sessions/export", tag = "sessions", params(SessionQuery),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 422, description = "Malformed filter or format", body = ErrorBody)))]
pub async fn export_sessions(State(api): St, Filter(q): Filter) -> Result<Response, ApiError> {
    // Any other format is a 422 from the query parser.
    let ExportFormat::Csv = q.format.unwrap_or(ExportFormat::Csv);
    let f = q.filter(&api).await?;
    let csv = api.store.sessions_csv(&f).await?;
    Ok((
        [
            (
                header::HeaderName::from_static(MODE_HEADER),
                mode_name(f.mode),
            ),
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sessions.csv\"".to_string(),
            ),
        ],
        csv,
    )
        .into_response())
}

/// One session with its legs, orders, fills and audit trail.
#[utoipa::path(get, path = "/api/trading/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = SessionDetail),
        (status = 404, description = "No such session", body = ErrorBody)))]
pub async fn session(
    State(api): St,
    _: NoQuery,
    Path(id): Path<String>,
) -> Result<Json<SessionDetail>, ApiError> {
    match api.store.session_detail(&id).await? {
        Some(d) => Ok(Json(d)),
        None => Err(ApiError::NotFound(format!("no session {id:?}"))),
    }
}

/// How many marks to send.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MarksQuery {
    /// About how many points (2 to 5000, default 500): longer histories are thinned, each
    /// stretch keeping its lowest and highest net PnL.
    #[serde(default = "default_points")]
    #[param(minimum = 2, maximum = 5000)]
    points: usize,
}

fn default_points() -> usize {
    500
}

/// A session's exit levels in USD of net PnL, from its profile's settings and its premium.
#[derive(Debug, Serialize, ToSchema)]
pub struct Levels {
    /// Where the max-loss exit fires (negative), if the profile has one.
    #[schema(value_type = Option<String>)]
    pub max_loss_usd: Option<Decimal>,
    /// Where the max-profit exit fires, if the profile has one.
    #[schema(value_type = Option<String>)]
    pub max_profit_usd: Option<Decimal>,
}

/// A session's PnL over time.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionMarks {
    /// The session.
    pub session_id: String,
    /// Its mode.
    pub mode: Mode,
    /// Premium received, USD (the base of the % levels).
    #[schema(value_type = String)]
    pub premium: Decimal,
    /// Exit levels (none when the profile is gone or has the limit off).
    pub levels: Levels,
    /// Marks in the ledger for this session.
    pub total: usize,
    /// The marks sent, oldest first: time, PnL at the marks, close-now net PnL, locked
    /// trailing level (% of premium), spot.
    pub marks: Vec<strangle_core::ledger::PnlMark>,
}

/// A session's PnL marks over time (thinned to about `points`) with its exit levels.
#[utoipa::path(get, path = "/api/trading/sessions/{id}/marks", tag = "sessions",
    params(("id" = String, Path, description = "Session id"), MarksQuery),
    responses(
        (status = 200, description = "The marks", body = SessionMarks),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 422, description = "Malformed query", body = ErrorBody)))]
pub async fn session_marks(
    State(api): St,
    Path(id): Path<String>,
    QueryOr422(q): QueryOr422<MarksQuery>,
) -> Result<Json<SessionMarks>, ApiError> {
    if !(2..=5000).contains(&q.points) {
        return Err(ApiError::Unprocessable(format!(
            "points must be 2 to 5000, not {}",
            q.points
        )));
    }
    let Some(s) = api.store.session(&id).await? else {
        return Err(ApiError::NotFound(format!("no session {id:?}")));
    };
    let (marks, total) = api.store.marks(&id, q.points).await?;
    let premium = s.pnl.premium;
    // A deleted profile leaves the levels out; any other failure is an error.
    let profile = match api.store.profile(&s.profile).await {
        Ok(p) => Some(p.profile),
        Err(strangle_store::StoreError::NoProfile(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let level =
        |pct: Option<Decimal>| pct.map(|p| (premium * p / Decimal::ONE_HUNDRED).round_dp(8));
    Ok(Json(SessionMarks {
        session_id: s.session_id.to_string(),
        mode: s.mode,
        premium,
        levels: Levels {
            max_loss_usd: level(profile.as_ref().and_then(|p| p.max_loss_pct)).map(|v| -v),
            max_profit_usd: level(profile.as_ref().and_then(|p| p.max_profit_pct)),
        },
        total,
        marks,
    }))
}

/// KPIs and chart series of the closed sessions matching the filter.
#[utoipa::path(get, path = "/api/analytics/history", tag = "analytics", params(SessionQuery),
    responses(
        (status = 200, description = "KPIs and series", body = History),
        (status = 422, description = "Malformed filter", body = ErrorBody)))]
pub async fn analytics(State(api): St, Filter(q): Filter) -> Result<Json<History>, ApiError> {
    let f = q.filter(&api).await?;
    Ok(Json(History {
        mode: f.mode,
        analytics: api.store.analytics(&f).await?,
    }))
}

/// KPIs and chart series, with the mode they cover.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The mode counted (`null`: every mode, asked for with `mode=all`).
    pub mode: Option<Mode>,
    /// The figures.
    #[serde(flatten)]
    pub analytics: Analytics,
}

/// The dashboard's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// The server's clock.
    pub server_time: DateTime<Utc>,
    /// The server's simulated market time (none: the wall clock). "Today" is the market's
    /// day when the figures are of sim sessions and this is set.
    pub market_time: Option<DateTime<Utc>>,
    /// Market seconds per real second of that clock.
    pub market_speed: Option<f64>,
    /// The mode the history, today's figures and the recent sessions cover (`null`: every
    /// mode).
    pub mode: Option<Mode>,
    /// Engines this server runs or ran.
    pub engines: Vec<Heartbeat>,
    /// Net PnL of the running engines' open sessions at the marks, USD.
    #[schema(value_type = String)]
    pub open_pnl: Decimal,
    /// Net PnL of sessions opened today (IST), USD.
    #[schema(value_type = String)]
    pub today_net: Decimal,
    /// Sessions opened today (IST).
    pub today_sessions: usize,
    /// KPIs and chart series over the filter (all time by default).
    pub history: Analytics,
    /// The latest sessions, newest first (up to 10).
    pub recent: Vec<SessionRecord>,
}

/// KPIs, PnL series, live engines and the latest sessions in one call.
#[utoipa::path(get, path = "/api/analytics/dashboard", tag = "analytics", params(SessionQuery),
    responses(
        (status = 200, description = "Dashboard figures", body = Dashboard),
        (status = 422, description = "Malformed filter", body = ErrorBody)))]
pub async fn dashboard(State(api): St, Filter(q): Filter) -> Result<Json<Dashboard>, ApiError> {
    let f = q.filter(&api).await?;
    let clock = api.trading.sim_clock();
    let market_time = clock.as_ref().map(strangle_core::clock::Clock::now);
    // "Today" is the simulated market's day when the figures are of sim sessions.
    let now = match (f.mode, market_time) {
        (Some(Mode::Sim), Some(t)) => t,
        _ => Utc::now(),
    };
    let today_start = strangle_core::schedule::ist_instant(
        strangle_core::schedule::ist_date(now),
        strangle_core::profile::TimeOfDay(chrono::NaiveTime::MIN),
    );
    let today = SessionFilter {
        from: Some(f.from.map_or(today_start, |t| t.max(today_start))),
        ..f.clone()
    };
    let recent = SessionFilter {
        limit: 10,
        offset: 0,
        ..f.clone()
    };
    let (history, today, recent) = tokio::try_join!(
        api.store.analytics(&f),
        api.store.all_sessions(&today),
        api.store.list_sessions(&recent)
    )?;
    let open_pnl = api
        .trading
        .states()
        .await
        .iter()
        .filter(|(name, _)| f.profile.as_ref().is_none_or(|p| p == name))
        .filter_map(|(_, s)| s.pnl.map(|p| p.net))
        .sum();
    let engines = api
        .trading
        .heartbeats()
        .await
        .into_iter()
        .filter(|h| f.profile.as_ref().is_none_or(|p| *p == h.profile))
        .collect();
    Ok(Json(Dashboard {
        server_time: Utc::now(),
        market_time,
        market_speed: clock.as_ref().map(|c| c.speed()),
        mode: f.mode,
        engines,
        open_pnl,
        today_net: today.iter().map(|s| s.pnl.net).sum(),
        today_sessions: today.len(),
        history,
        recent: recent.items,
    }))
}
