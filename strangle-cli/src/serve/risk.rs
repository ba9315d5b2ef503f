//! The account risk governor's routes: its state and figures, its limits, the operator's
//! reset. The governor itself runs in [`super::trading::Trading::govern`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use strangle_core::governor::{self, AccountRisk, GovernorState, RiskState, Transition};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, NoQuery};
use super::Api;

type St = State<Arc<Api>>;

/// The governor as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskView {
    /// The account's limits (`null` until set: nothing is governed).
    pub limits: Option<AccountRisk>,
    /// `active`, `reducing` or `halted`.
    pub state: RiskState,
    /// What put it there, in words (`null` while active from the start).
    pub why: Option<String>,
    /// What the governor keeps: the trigger of the state and since when, the day, the lock.
    pub governor: GovernorState,
    /// The day's PnL counted from the last reset, USD, on the limits' basis.
    #[schema(value_type = String)]
    pub day_pnl: Decimal,
    /// The open sessions' PnL, USD.
    #[schema(value_type = String)]
    pub open_pnl: Decimal,
    /// The record's version (every write increments it).
    pub version: i64,
    /// When the record was last written.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The reply to a reset: the change and the governor after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetReply {
    /// The change made.
    pub transition: Transition,
    /// The governor now.
    pub risk: RiskView,
}

/// The governor now: the ledger's record, with the figures of every session the ledger holds
/// and this server's engines (nothing is written).
async fn view(api: &Api) -> Result<RiskView, ApiError> {
    let local = api.trading.statuses().await;
    let Some(st) = governor::status(&**api.trading.store(), api.trading.now(), &local).await?
    else {
        return Ok(RiskView {
            limits: None,
            state: RiskState::Active,
            why: None,
            governor: GovernorState::default(),
            day_pnl: Decimal::ZERO,
            open_pnl: Decimal::ZERO,
            version: 0,
            updated_at: None,
        });
    };
    let rec = st.record;
    Ok(RiskView {
        state: rec.state.state,
        why: rec.state.trigger.as_ref().map(ToString::to_string),
        limits: Some(rec.limits),
        governor: rec.state,
        day_pnl: st.day_pnl,
        open_pnl: st.open_pnl,
        version: rec.version,
        updated_at: Some(rec.updated_at),
    })
}

/// The account risk governor: its limits, state and the day's figures.
///
/// The governor watches every profile trading on this ledger together: a daily loss cap, a
/// combined stop and target, a lock that trails the day's PnL. `reducing` holds new entries;
/// `halted` flattens every profile and holds entries until an operator resets it.
#[utoipa::path(get, path = "/api/risk", tag = "trading",
    responses((status = 200, description = "The governor", body = RiskView)))]
pub async fn risk(State(api): St, _: NoQuery) -> Result<Json<RiskView>, ApiError> {
    Ok(Json(view(&api).await?))
}

/// Sets the account's limits (the governor's state is kept).
#[utoipa::path(put, path = "/api/risk/limits", tag = "trading", request_body = AccountRisk,
    responses(
        (status = 200, description = "The governor with its new limits", body = RiskView),
        (status = 409, description = "Another writer changed the limits meanwhile", body = ErrorBody),
        (status = 422, description = "Invalid limits; every bad field is listed", body = ErrorBody)))]
pub async fn set_limits(
    State(api): St,
    _: NoQuery,
    body: Bytes,
) -> Result<Json<RiskView>, ApiError> {
    let limits: AccountRisk = serde_json::from_slice(&body)
        .map_err(|e| ApiError::field("risk", "body", e.to_string()))?;
    if let Err(strangle_core::Error::InvalidProfile(v)) = governor::validate(&limits) {
        return Err(ApiError::Invalid {
            what: "risk",
            fields: v.0,
        });
    }
    governor::set_limits(&**api.trading.store(), api.trading.now(), limits).await?;
    Ok(Json(view(&api).await?))
}

/// The operator's reset: the governor goes back to `active` (entries allowed again) and
/// counts the day again from where it stands.
#[utoipa::path(post, path = "/api/risk/reset", tag = "trading",
    responses(
        (status = 200, description = "Reset", body = ResetReply),
        (status = 404, description = "No limits are set", body = ErrorBody),
        (status = 409, description = "The governor changed during the reset; try again", body = ErrorBody)))]
pub async fn reset(State(api): St, _: NoQuery) -> Result<Json<ResetReply>, ApiError> {
    let local = api.trading.statuses().await;
    let t = governor::reset(&**api.trading.store(), api.trading.now(), &local, "the API").await?;
    api.trading.announce(&t);
    // The engines hear it at once, not at the next round.
    api.trading.govern(api.trading.now()).await?;
    Ok(Json(ResetReply {
        transition: t,
        risk: view(&api).await?,
    }))
}
