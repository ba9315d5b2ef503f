//! The REST routes of the local server.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rust_decimal::Decimal;
use strangle_core::error::ExchangeErrorKind;
use strangle_core::ids::{ClientOrderId, ProductId, Symbol};
use strangle_core::model::{
    Fill as CoreFill, OptionContract, OrderRequest, OrderStatus, OrderType as CoreType,
    Side as CoreSide, TimeInForce, Underlying,
};
use strangle_core::{Execution, MarketData};

use super::faults::{ExistingHeartbeat, HeartbeatAck, PositionRows};
use super::full;
use super::OrderMeta;
use super::{api_error, auth, Beat, ServerState};
use serde_json::Value;
use strangle_delta::wire::{CancelOrder, CreateOrder, Envelope, Meta, OrderType, Side};

pub(super) type St = State<Arc<ServerState>>;
type Q = Query<HashMap<String, String>>;

pub(crate) fn router(state: Arc<ServerState>) -> Router {
    let private = Router::new()
        .route(
            "/v2/orders",
            post(place)
                .delete(cancel)
                .get(open_orders)
                .put(super::edit::edit_order),
        )
        .route(
            "/v2/orders/bracket",
            post(super::edit::place_bracket).put(super::edit::edit_bracket),
        )
        .route("/v2/orders/all", delete(cancel_all_route))
        .route("/v2/orders/history", get(order_history))
        .route("/v2/orders/{id}", get(order_by_id))
        .route("/v2/orders/client_order_id/{coid}", get(order_by_coid))
        .route("/v2/orders/cancel_after", post(cancel_after))
        .route("/v2/fills", get(fills))
        .route("/v2/positions", get(positions))
        .route("/v2/positions/margined", get(margined))
        .route("/v2/wallet/balances", get(balances))
        .route("/v2/wallet/transactions", get(wallet_transactions))
        .route("/v2/heartbeat/create", post(heartbeat_create))
        .route("/v2/heartbeat", post(heartbeat).get(heartbeat_list))
        .route("/v2/profile", get(profile))
        .layer(from_fn_with_state(state.clone(), auth::require_signature));
    Router::new()
        .route("/v2/products", get(products))
        .route("/v2/products/{symbol}", get(product))
        .route("/v2/tickers", get(tickers))
        .route("/v2/tickers/{symbol}", get(ticker))
        .route("/v2/l2orderbook/{symbol}", get(orderbook))
        .route("/v2/settings", get(settings))
        .route("/v2/assets", get(assets))
        .route("/v2/indices", get(indices))
        .route("/ws", get(super::ws::private))
        .route("/ws/public", get(super::ws::public))
        .merge(private)
        .fallback(|| async {
            api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                Some("no such endpoint".into()),
            )
        })
        .layer(from_fn_with_state(state.clone(), auth::edge))
        .with_state(state)
}

pub(super) fn ok<T: serde::Serialize>(v: T) -> Response {
    Json(Envelope::ok(v)).into_response()
}

pub(super) fn bad(code: &str, msg: impl Into<String>) -> Response {
    api_error(StatusCode::BAD_REQUEST, code, Some(msg.into()))
}

fn contract_types(q: &HashMap<String, String>) -> Option<Vec<String>> {
    q.get("contract_types")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
}

fn kind_ok(types: &Option<Vec<String>>, c: &OptionContract) -> bool {
    let t = match c.kind {
        strangle_core::model::OptionKind::Call => "call_options",
        strangle_core::model::OptionKind::Put => "put_options",
    };
    types.as_ref().is_none_or(|v| v.iter().any(|x| x == t))
}

async fn products(State(st): St, Query(q): Q) -> Response {
    let types = contract_types(&q);
    let states = q.get("states").cloned().unwrap_or_else(|| "live".into());
    let wanted = |s: &str| states.split(',').any(|x| x.trim() == s);
    let now = st.clock.now();
    let mut listed: Vec<_> = st
        .venue
        .contracts()
        .into_iter()
        .filter(|c| kind_ok(&types, c))
        .filter(|c| wanted(if c.expiry > now { "live" } else { "expired" }))
        .collect();
    listed.sort_by_key(|c| c.product_id);
    let (page, meta) = page_of(listed, &q, 100, 500);
    let items: Vec<Arc<str>> = page.iter().map(|c| st.product_json(c)).collect();
    raw_ok(&raw_list(&items), Some(&meta))
}

async fn product(State(st): St, Path(symbol): Path<String>) -> Response {
    match st
        .venue
        .contracts()
        .into_iter()
        .find(|c| c.symbol == symbol)
    {
        Some(c) if c.expiry > st.clock.now() || !st.faults.expired_by_symbol_hidden() => {
            raw_ok(&st.product_json(&c), None)
        }
        _ => api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            Some(format!("no product {symbol}")),
        ),
    }
}

async fn tickers(State(st): St, Query(q): Q) -> Response {
    let types = contract_types(&q);
    let underlyings: Option<Vec<String>> = q
        .get("underlying_asset_symbols")
        .map(|s| s.split(',').map(|x| x.trim().to_uppercase()).collect());
    let expiry = match q.get("expiry_date") {
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%d-%m-%Y") {
            Ok(d) => Some(d),
            Err(_) => {
                return bad(
                    "bad_schema",
                    format!("expiry_date {d:?} must be DD-MM-YYYY"),
                )
            }
        },
        None => None,
    };
    let now = st.clock.now();
    let mut out = Vec::new();
    for u in [Underlying::Btc, Underlying::Eth] {
        if underlyings
            .as_ref()
            .is_some_and(|v| !v.iter().any(|x| x == u.as_str()))
        {
            continue;
        }
        let Ok(chain) = st.venue.chain(u).await else {
            continue;
        };
        for e in chain.entries.iter().filter(|e| e.contract.expiry > now) {
            if kind_ok(&types, &e.contract)
                && expiry.is_none_or(|d| e.contract.expiry.date_naive() == d)
            {
                out.push(st.ticker_json(&e.contract, &e.quote));
            }
        }
    }
    raw_ok(&raw_list(&out), None)
}

async fn ticker(State(st): St, Path(symbol): Path<String>) -> Response {
    let Some(c) = st
        .venue
        .contracts()
        .into_iter()
        .find(|c| c.symbol == symbol)
    else {
        return api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            Some(format!("no ticker {symbol}")),
        );
    };
    match st
        .venue
        .quotes(std::slice::from_ref(&c.symbol))
        .await
        .ok()
        .and_then(|mut v| v.pop())
    {
        Some(q) => raw_ok(&st.ticker_json(&c, &q), None),
        None => api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            Some(format!("no ticker {symbol}")),
        ),
    }
}

async fn orderbook(State(st): St, Path(symbol): Path<String>) -> Response {
    let quote = match Symbol::new(symbol.as_str()) {
        Ok(s) => st.venue.quotes(std::slice::from_ref(&s)).await.ok(),
        Err(_) => None,
    };
    let Some(q) = quote.and_then(|mut v| v.pop()) else {
        return api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            Some(format!("no book for {symbol}")),
        );
    };
    // One level a side: the quoted price and size (`depth` is the cumulative size).
    let level = |p: Option<Decimal>, size: Decimal| {
        p.map(|p| {
            serde_json::json!({
                "depth": size.normalize().to_string(),
                "price": p.normalize().to_string(),
                "size": rust_decimal::prelude::ToPrimitive::to_i64(&size.trunc()).unwrap_or(0),
            })
        })
    };
    ok(serde_json::json!({
        "buy": level(q.bid, q.bid_size).into_iter().collect::<Vec<_>>(),
        "sell": level(q.ask, q.ask_size).into_iter().collect::<Vec<_>>(),
        "last_updated_at": q.timestamp.timestamp_micros(),
        "symbol": symbol,
    }))
}

/// `GET /v2/assets`: the assets this market knows.
async fn assets() -> Response {
    ok(["BTC", "USD", "ETH"].map(full::asset))
}

/// `GET /v2/indices`: the spot indices of the underlyings.
async fn indices() -> Response {
    ok([Underlying::Btc, Underlying::Eth].map(full::spot_index))
}

async fn settings(State(st): St) -> Response {
    let now = chrono::Utc::now().timestamp_micros() + st.faults.clock_skew() * 1_000_000;
    // `market_time` and `market_speed` are this server's own: a process trading here follows
    // the market's clock with them (Delta publishes neither).
    ok(serde_json::json!({
        "server_time": now,
        "market_time": st.clock.now().timestamp_micros(),
        "market_speed": st.clock.rate(),
    }))
}

pub(super) fn meta_of(st: &ServerState, coid: &str) -> Option<OrderMeta> {
    st.orders().by_coid.get(coid).cloned()
}

fn render_order(st: &ServerState, s: &OrderStatus) -> Option<Value> {
    meta_of(st, &s.client_order_id).map(|m| full::order(s, &m))
}

/// Maps a venue refusal to Delta's answer: the venue's code when it gave one, else one
/// derived from the kind.
pub(super) fn refusal(e: &strangle_core::Error) -> Response {
    let (kind, code, detail) = match e {
        strangle_core::Error::Exchange {
            kind,
            code,
            message,
        } => (Some(*kind), code.clone(), message.clone()),
        other => (None, None, other.to_string()),
    };
    let code = code.unwrap_or_else(|| {
        match kind {
            Some(ExchangeErrorKind::InsufficientMargin) => "insufficient_margin",
            Some(ExchangeErrorKind::NotFound) => "invalid_contract",
            _ => "rejected",
        }
        .to_string()
    });
    bad(&code, detail)
}

async fn place(State(st): St, body: Bytes) -> Response {
    let req: CreateOrder = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let raw: HashMap<String, Value> = serde_json::from_slice(&body).unwrap_or_default();
    if let Some(k) = raw
        .iter()
        .find(|(k, v)| k.starts_with("bracket_") && !v.is_null())
        .map(|(k, _)| k)
    {
        return bad(
            "bad_schema",
            format!(
                "{k}: this market does not attach brackets to orders; place one on the \
                 position with POST /v2/orders/bracket once it is open"
            ),
        );
    }
    let contracts = st.venue.contracts();
    let contract = contracts.iter().find(|c| {
        req.product_id.is_some_and(|id| id == c.product_id.get())
            || req.product_symbol.as_deref() == Some(c.symbol.as_str())
    });
    let Some(c) = contract else {
        return bad("invalid_contract", "unknown product_id / product_symbol");
    };
    // Delta documents 1 to 32 characters; this market also keeps to letters, digits, - and _
    // (strangle's own rule, `ClientOrderId`), and says so when an id breaks it.
    let given = match req.client_order_id.as_deref().map(ClientOrderId::new) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => return bad("bad_schema", format!("client_order_id: {e}")),
    };
    if req.size <= 0 {
        return bad("bad_schema", "size must be a positive integer");
    }
    let tif = match req.time_in_force.as_deref() {
        None | Some("gtc") => TimeInForce::Gtc,
        Some("ioc") => TimeInForce::Ioc,
        Some(other) => {
            return bad(
                "bad_schema",
                format!("time_in_force {other:?} is not gtc or ioc"),
            )
        }
    };
    let order_type = match req.order_type {
        OrderType::LimitOrder => CoreType::Limit,
        OrderType::MarketOrder => CoreType::Market,
    };
    if order_type == CoreType::Limit && req.limit_price.is_none_or(|p| p <= Decimal::ZERO) {
        return bad("bad_schema", "limit_price must be above 0 for limit orders");
    }
    let stop = match stop_of(&req) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Some(status) = st.faults.trading_halt(c.symbol.as_str()) {
        return bad(
            "market_disrupted",
            format!("{} takes no new order: {status}", c.symbol),
        );
    }
    // A stop's limit is for later prices: the band it will meet is not today's.
    if let (true, CoreType::Limit, Some(p), None) =
        (st.faults.band_enforced(), order_type, req.limit_price, stop)
    {
        let q = st
            .venue
            .quotes(std::slice::from_ref(&c.symbol))
            .await
            .unwrap_or_default();
        if let Some(q) = q.first() {
            let (lower, upper) = full::price_band(c, q.mark);
            if p < lower || p > upper {
                return bad(
                    "out_of_price_band",
                    format!("limit_price {p} outside the price band [{lower}, {upper}]"),
                );
            }
        }
    }
    // Post-only: refused when it would take liquidity now (Delta's
    // `immediate_execution_post_only`).
    if req.post_only == Some(true) {
        let q = st
            .venue
            .quotes(std::slice::from_ref(&c.symbol))
            .await
            .unwrap_or_default();
        let crosses = match (order_type, req.side, req.limit_price, q.first()) {
            (CoreType::Market, ..) => true,
            (_, Side::Buy, Some(p), Some(q)) => q.ask.is_some_and(|a| p >= a),
            (_, Side::Sell, Some(p), Some(q)) => q.bid.is_some_and(|b| p <= b),
            _ => false,
        };
        if crosses {
            return bad(
                "immediate_execution_post_only",
                "post-only order would execute immediately",
            );
        }
    }
    // A client id used before: refused (`duplicate_client_order_id`, from the venue) unless
    // the knob says this venue accepts it; then the order is kept under an id of the
    // market's own and answers with the client's.
    let reused = given
        .as_ref()
        .is_some_and(|g| st.faults.duplicate_ids_accepted() && st.orders().by_coid.contains_key(g));
    let coid = match given {
        Some(id) if !reused => id,
        _ => st.orders().own_id(if reused { "_dup" } else { "_srv" }),
    };
    let core = OrderRequest {
        client_order_id: coid.clone(),
        product_id: c.product_id,
        symbol: c.symbol.clone(),
        side: match req.side {
            Side::Buy => CoreSide::Buy,
            Side::Sell => CoreSide::Sell,
        },
        size: Decimal::from(req.size),
        order_type,
        limit_price: if order_type == CoreType::Limit {
            req.limit_price
        } else {
            None
        },
        time_in_force: tif,
        reduce_only: req.reduce_only.unwrap_or(false),
        stop,
    };
    let entry = st.order_entry.lock().await;
    match st.venue.place_order(&core).await {
        Ok(status) => {
            let id: u64 = status.exchange_order_id.parse().unwrap_or_default();
            let meta = OrderMeta {
                id,
                product_id: c.product_id.get(),
                order_type: req.order_type,
                time_in_force: if tif == TimeInForce::Ioc || order_type == CoreType::Market {
                    "ioc"
                } else {
                    "gtc"
                }
                .into(),
                reduce_only: core.reduce_only,
                client_order_id: req.client_order_id.clone(),
                // The instant the venue took the order (its fills are never earlier): the
                // clock read after the answer can be far later on a fast simulated clock.
                created_at: status.updated_at,
                stop,
                bracket: false,
            };
            {
                let mut o = st.orders();
                o.by_id.insert(id, coid.clone());
                o.by_coid.insert(coid, meta.clone());
            }
            drop(entry);
            ok(full::order(&status, &meta))
        }
        Err(e) => refusal(&e),
    }
}

/// The stop fields of an order, checked as Delta documents them: `stop_order_type`
/// `stop_loss_order` or `take_profit_order` with a positive `stop_price`, an optional positive
/// `trail_amount`, and `stop_trigger_method` `mark_price` (the default), `last_traded_price` or
/// `spot_price` (the venue refuses a take profit that trails).
fn stop_of(req: &CreateOrder) -> Result<Option<strangle_core::model::StopOrder>, Box<Response>> {
    let refuse = |m: String| Err(Box::new(bad("bad_schema", m)));
    let kind = match req.stop_order_type.as_deref() {
        None if req.stop_price.is_none()
            && req.trail_amount.is_none()
            && req.stop_trigger_method.is_none() =>
        {
            return Ok(None)
        }
        None => return refuse("stop fields need stop_order_type".into()),
        Some(name) => match strangle_core::model::StopKind::from_name(name) {
            Some(k) => k,
            None => {
                return refuse(format!(
                    "stop_order_type {name:?} is not stop_loss_order or take_profit_order"
                ))
            }
        },
    };
    let Some(stop_price) = req.stop_price.filter(|p| *p > Decimal::ZERO) else {
        return refuse("stop_price must be above 0".into());
    };
    let trigger = match req.stop_trigger_method.as_deref() {
        None => strangle_core::model::StopTrigger::MarkPrice,
        Some(name) => match strangle_core::model::StopTrigger::from_name(name) {
            Some(t) => t,
            None => {
                return refuse(format!(
                    "stop_trigger_method {name:?} is not mark_price, last_traded_price or \
                     spot_price"
                ))
            }
        },
    };
    if req.trail_amount.is_some_and(|t| t <= Decimal::ZERO) {
        return refuse("trail_amount must be above 0".into());
    }
    Ok(Some(strangle_core::model::StopOrder {
        stop_price,
        trigger,
        trail_amount: req.trail_amount,
        kind,
    }))
}

async fn cancel(State(st): St, body: Bytes) -> Response {
    let req: CancelOrder = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    st.orders().cancelled_by.push(if req.id.is_some() {
        "id"
    } else {
        "client_order_id"
    });
    let coid = match (&req.id, &req.client_order_id) {
        (Some(id), _) => u64::try_from(*id)
            .ok()
            .and_then(|id| st.orders().by_id.get(&id).cloned()),
        (None, Some(c)) => ClientOrderId::new(c.as_str()).ok(),
        (None, None) => return bad("bad_schema", "id or client_order_id is required"),
    };
    let Some(coid) = coid.filter(|c| meta_of(&st, c).is_some()) else {
        return bad("open_order_not_found", "no such open order");
    };
    match st
        .venue
        .cancel_order(&coid, ProductId(req.product_id.unwrap_or_default()))
        .await
    {
        Ok(s) => {
            render_order(&st, &s).map_or_else(|| bad("open_order_not_found", "no such order"), ok)
        }
        Err(e) => refusal(&e),
    }
}

/// Cancels every open order, untriggered stops with them when `stops` is true (cancel-all
/// and the dead-man switch).
pub(crate) async fn cancel_all(st: &ServerState, stops: bool) -> usize {
    cancel_where(st, stops, |_| true).await
}

/// Cancels the open orders whose symbol `pick` accepts, and the untriggered stops among them
/// when `stops` is true; returns how many.
pub(crate) async fn cancel_where(
    st: &ServerState,
    stops: bool,
    pick: impl Fn(&str) -> bool,
) -> usize {
    let open = st.venue.open_orders();
    let mut n = 0;
    let wanted = |o: &&OrderStatus| stops || o.state != strangle_core::model::OrderState::Pending;
    for o in open.iter().filter(wanted).filter(|o| pick(&o.symbol)) {
        if st
            .venue
            .cancel_order(&o.client_order_id, ProductId(0))
            .await
            .is_ok()
        {
            n += 1;
        }
    }
    n
}

async fn cancel_all_route(State(st): St) -> Response {
    cancel_all(&st, true).await;
    ok(serde_json::json!({}))
}

fn product_filter(q: &HashMap<String, String>) -> Result<Option<Vec<u64>>, Box<Response>> {
    match q.get("product_ids") {
        None => Ok(None),
        Some(s) => {
            let ids: Result<Vec<u64>, _> = s.split(',').map(|x| x.trim().parse::<u64>()).collect();
            match ids {
                Ok(v) if v.len() <= 10 => Ok(Some(v)),
                Ok(_) => Err(Box::new(bad("bad_schema", "product_ids: at most 10"))),
                Err(_) => Err(Box::new(bad(
                    "bad_schema",
                    format!("product_ids {s:?} must be integers"),
                ))),
            }
        }
    }
}

async fn open_orders(State(st): St, Query(q): Q) -> Response {
    orders_page(&st, &q, false)
}

async fn order_history(State(st): St, Query(q): Q) -> Response {
    orders_page(&st, &q, true)
}

/// A comma list of a query parameter.
fn list(q: &HashMap<String, String>, key: &str) -> Option<Vec<String>> {
    q.get(key)
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
}

/// A µs time filter.
fn micros(q: &HashMap<String, String>, key: &str) -> Result<Option<i64>, Box<Response>> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            Box::new(bad(
                "bad_schema",
                format!("{key} {v:?} must be an integer (microseconds)"),
            ))
        }),
    }
}

/// One page of a list, Delta's way: `page_size` (up to `max`), an opaque `after` cursor, and
/// `meta.after` until the last page.
fn paged(all: Vec<Value>, q: &HashMap<String, String>, default: usize, max: usize) -> Response {
    let (page, meta) = page_of(all, q, default, max);
    let mut env = Envelope::ok(page);
    env.meta = Some(meta);
    Json(env).into_response()
}

/// The page of `all` that `page_size` and `after` ask for (`page_size` up to `max`), and
/// its cursors.
fn page_of<T>(
    all: Vec<T>,
    q: &HashMap<String, String>,
    default: usize,
    max: usize,
) -> (Vec<T>, Meta) {
    let size = q
        .get("page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max);
    let start = q
        .get("after")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let before = (start > 0).then(|| start.saturating_sub(size).to_string());
    let after = (start + size < all.len()).then(|| (start + size).to_string());
    let page = all.into_iter().skip(start).take(size).collect();
    (page, Meta { after, before })
}

/// A JSON array of rendered items.
fn raw_list(items: &[Arc<str>]) -> String {
    let mut out = String::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// `{"success": true, "result": <result>, "meta": ...}` around JSON already rendered.
fn raw_ok(result: &str, meta: Option<&Meta>) -> Response {
    let meta = meta.and_then(|m| serde_json::to_string(m).ok());
    let mut body = String::with_capacity(result.len() + 96);
    body.push_str(r#"{"success":true,"result":"#);
    body.push_str(result);
    if let Some(m) = meta {
        body.push_str(r#","meta":"#);
        body.push_str(&m);
    }
    body.push('}');
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Open orders (`history` false: `GET /v2/orders`) or closed and cancelled ones (`GET
/// /v2/orders/history`, newest first), with Delta's filters: `product_ids`, `contract_types`,
/// `states`, `start_time`/`end_time` (µs, on creation), paged.
fn orders_page(st: &ServerState, q: &HashMap<String, String>, history: bool) -> Response {
    let ids = match product_filter(q) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (from, to) = match (micros(q, "start_time"), micros(q, "end_time")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let types = contract_types(q);
    let states = list(q, "states");
    let contracts = st.contracts_by_symbol();
    let mut rows: Vec<(u64, Value)> = st
        .venue
        .all_orders()
        .iter()
        .filter(|o| o.state.is_terminal() == history)
        .filter_map(|o| {
            let m = meta_of(st, &o.client_order_id)?;
            let c = contracts.get(&o.symbol)?;
            let created = m.created_at.timestamp_micros();
            let keep = ids.as_ref().is_none_or(|v| v.contains(&m.product_id))
                && kind_ok(&types, c)
                && from.is_none_or(|t| created >= t)
                && to.is_none_or(|t| created <= t);
            let row = full::order(o, &m);
            let state_ok = states.as_ref().is_none_or(|v| {
                let st = row.get("state").and_then(Value::as_str).unwrap_or_default();
                v.iter().any(|x| x == st)
            });
            (keep && state_ok).then_some((m.id, row))
        })
        .collect();
    rows.sort_by_key(|(id, _)| *id);
    if history {
        rows.reverse();
    }
    let all = rows.into_iter().map(|(_, v)| v).collect();
    if history {
        paged(all, q, 50, 50)
    } else {
        paged(all, q, 100, 500)
    }
}

async fn order_by_id(State(st): St, Path(id): Path<String>) -> Response {
    let coid = id
        .parse::<u64>()
        .ok()
        .and_then(|id| st.orders().by_id.get(&id).cloned());
    let found = match coid {
        Some(c) => st
            .venue
            .order(&c)
            .await
            .ok()
            .flatten()
            .and_then(|s| render_order(&st, &s)),
        None => None,
    };
    found.map_or_else(
        || {
            api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                Some(format!("no order {id}")),
            )
        },
        ok,
    )
}

async fn order_by_coid(State(st): St, Path(coid): Path<String>) -> Response {
    let lag = chrono::Duration::from_std(st.faults.lookup_lag()).unwrap_or_default();
    let visible = |m: &OrderMeta| st.clock.now() - m.created_at >= lag;
    let user_given =
        meta_of(&st, &coid).is_some_and(|m| m.client_order_id.is_some() && visible(&m));
    let found = match ClientOrderId::new(coid.as_str()) {
        Ok(coid) if user_given => st
            .venue
            .order(&coid)
            .await
            .ok()
            .flatten()
            .and_then(|s| render_order(&st, &s)),
        _ => None,
    };
    found.map_or_else(
        || {
            api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                Some(format!("no order {coid}")),
            )
        },
        ok,
    )
}

async fn fills(State(st): St, Query(q): Q) -> Response {
    let ids = match product_filter(&q) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (from, to) = match (micros(&q, "start_time"), micros(&q, "end_time")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let types = contract_types(&q);
    let contracts = st.contracts_by_symbol();
    let tax_apart = st.faults.tax_apart();
    let all: Vec<Value> = st
        .venue
        .fills()
        .iter()
        .filter(|f| {
            let t = f.timestamp.timestamp_micros();
            from.is_none_or(|s| t >= s)
                && to.is_none_or(|e| t <= e)
                && !st.faults.fill_hidden(f.symbol.as_str())
        })
        .filter_map(|f| {
            let c = contracts.get(&f.symbol)?;
            if ids
                .as_ref()
                .is_some_and(|v| !v.contains(&c.product_id.get()))
                || !kind_ok(&types, c)
            {
                return None;
            }
            let meta = f.client_order_id.as_deref().and_then(|id| meta_of(&st, id));
            if tax_apart {
                let f = CoreFill {
                    fee: full::fee_before_tax(f.fee, st.fees.tax_pct),
                    ..f.clone()
                };
                return Some(full::fill(&f, c.product_id.get(), meta.as_ref(), &st.fees));
            }
            Some(full::fill(f, c.product_id.get(), meta.as_ref(), &st.fees))
        })
        .collect();
    paged(all, &q, 50, 50)
}

/// The wallet's rows made by the venue's fills (see [`full::wallet_rows`]), filtered by
/// `start_time`/`end_time` (µs) and paged; `transaction_types` filters by type.
async fn wallet_transactions(State(st): St, Query(q): Q) -> Response {
    let (from, to) = match (micros(&q, "start_time"), micros(&q, "end_time")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let types: Option<Vec<String>> = q
        .get("transaction_types")
        .map(|v| v.split(',').map(str::to_string).collect());
    let contracts = st.contracts_by_symbol();
    let fills: Vec<_> = st
        .venue
        .fills()
        .into_iter()
        .filter_map(|f| {
            let c = contracts.get(&f.symbol)?;
            let (id, size) = (c.product_id.get(), c.contract_size);
            Some((f, id, size))
        })
        .collect();
    let tax = st.faults.tax_apart().then_some(st.fees.tax_pct);
    let rows: Vec<Value> = full::wallet_rows(&fills, st.venue.cash(), tax)
        .into_iter()
        .filter(|r| {
            let t = r
                .get("created_at")
                .and_then(Value::as_str)
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map_or(0, |d| d.timestamp_micros());
            let kind = r.get("transaction_type").and_then(Value::as_str);
            from.is_none_or(|s| t >= s)
                && to.is_none_or(|e| t <= e)
                && types
                    .as_ref()
                    .is_none_or(|v| kind.is_some_and(|k| v.iter().any(|x| x == k)))
        })
        .collect();
    paged(rows, &q, 50, 50)
}

async fn all_positions(st: &ServerState) -> Vec<strangle_core::model::Position> {
    let mut v = st
        .venue
        .positions(Underlying::Btc)
        .await
        .unwrap_or_default();
    v.extend(
        st.venue
            .positions(Underlying::Eth)
            .await
            .unwrap_or_default(),
    );
    v
}

async fn positions(State(st): St, Query(q): Q) -> Response {
    let ts = st.clock.now().timestamp_micros();
    match (q.get("product_id"), q.get("underlying_asset_symbol")) {
        (Some(pid), None) => {
            let Ok(pid) = pid.parse::<u64>() else {
                return bad("bad_schema", "product_id must be an integer");
            };
            let p = all_positions(&st)
                .await
                .into_iter()
                .find(|p| p.product_id.get() == pid);
            ok(full::position(
                p.as_ref().map_or(Decimal::ZERO, |p| p.size),
                p.and_then(|p| p.entry_price),
                ts,
            ))
        }
        (None, Some(u)) => {
            let Ok(u) = u.parse::<Underlying>() else {
                return bad(
                    "bad_schema",
                    format!("underlying_asset_symbol {u:?} is unknown"),
                );
            };
            let shape = st.faults.position_rows();
            let v: Vec<_> = st
                .venue
                .positions(u)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    let mut row = full::position(p.size, p.entry_price, ts);
                    if let Some(m) = row.as_object_mut() {
                        // Rows name their product unless a fault says otherwise.
                        if shape != PositionRows::SizeOnly {
                            m.insert("product_id".into(), p.product_id.get().into());
                        }
                        if shape == PositionRows::Full {
                            m.insert("product_symbol".into(), p.symbol.as_str().into());
                        }
                    }
                    row
                })
                .collect();
            ok(v)
        }
        _ => bad(
            "bad_schema",
            "product_id or underlying_asset_symbol: send exactly one",
        ),
    }
}

async fn margined(State(st): St, Query(q): Q) -> Response {
    let ids = match product_filter(&q) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let quotes: HashMap<Symbol, Decimal> = {
        let syms: Vec<Symbol> = all_positions(&st)
            .await
            .into_iter()
            .map(|p| p.symbol)
            .collect();
        st.venue
            .quotes(&syms)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|q| (q.symbol, q.mark))
            .collect()
    };
    let contracts = st.contracts_by_symbol();
    let types = contract_types(&q);
    let lagging = st.faults.margined_lagging();
    let now = st.clock.now();
    let spots = st.spots().await;
    let v: Vec<Value> = all_positions(&st)
        .await
        .into_iter()
        .filter(|_| !lagging)
        .filter(|p| ids.as_ref().is_none_or(|v| v.contains(&p.product_id.get())))
        .filter_map(|p| {
            let c = contracts.get(&p.symbol)?;
            kind_ok(&types, c).then(|| {
                let spot = spots.get(&c.underlying).copied().unwrap_or_default();
                let mark = quotes.get(&p.symbol).copied();
                full::margined_position(&p, c, &st.fees, mark, spot, now)
            })
        })
        .collect();
    ok(v)
}

async fn balances(State(st): St) -> Response {
    let cash = st.venue.cash();
    let contracts = st.contracts_by_symbol();
    let spots = st.spots().await;
    let spot_of = |c: &OptionContract| spots.get(&c.underlying).copied().unwrap_or_default();
    let position_margin: Decimal = all_positions(&st)
        .await
        .iter()
        .filter_map(|p| {
            let c = contracts.get(&p.symbol)?;
            Some(full::position_margin(p, c, spot_of(c)))
        })
        .sum();
    let open = st.venue.open_orders();
    let reduce_only =
        |id: &ClientOrderId| st.orders().by_coid.get(id).is_some_and(|m| m.reduce_only);
    let order_margin: Decimal = open
        .iter()
        .filter(|o| o.side == CoreSide::Sell && !reduce_only(&o.client_order_id))
        .filter_map(|o| {
            let c = contracts.get(&o.symbol)?;
            Some(full::short_margin(o.size - o.filled_size(), c, spot_of(c)))
        })
        .sum();
    let equity = cash.normalize().to_string();
    Json(serde_json::json!({
        "success": true,
        "meta": {"net_equity": equity, "robo_trading_equity": equity},
        "result": [full::wallet_row(cash, position_margin, order_margin)],
    }))
    .into_response()
}

async fn heartbeat_create(State(st): St, body: Bytes) -> Response {
    let v: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let Some(id) = v.get("heartbeat_id").and_then(|x| x.as_str()) else {
        return bad("bad_schema", "heartbeat_id is required");
    };
    let list = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (underlyings, contract_types) = (list("underlying_assets"), list("contract_types"));
    let impact = v
        .get("impact")
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string();
    let mut d = st.deadman();
    if let Some(existing) = d.beats.get_mut(id) {
        // Delta does not document this answer: the market gives the one it is set to.
        match st.faults.existing_heartbeat() {
            ExistingHeartbeat::Replace => {
                existing.underlyings = underlyings;
                existing.contract_types = contract_types;
                existing.impact = impact;
            }
            ExistingHeartbeat::Refuse => {
                return bad(
                    "heartbeat_already_exists",
                    format!("heartbeat {id} already exists"),
                )
            }
        }
    } else {
        d.beats.insert(
            id.to_string(),
            Beat {
                underlyings,
                contract_types,
                impact,
                ..Beat::default()
            },
        );
    }
    ok(serde_json::json!({ "heartbeat_id": id }))
}

async fn heartbeat(State(st): St, body: Bytes) -> Response {
    let v: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let (Some(id), Some(ttl)) = (
        v.get("heartbeat_id").and_then(|x| x.as_str()),
        v.get("ttl").and_then(|x| x.as_u64()),
    ) else {
        return bad("bad_schema", "heartbeat_id and ttl (ms) are required");
    };
    let ack = st.faults.heartbeat_ack();
    let mut d = st.deadman();
    if ack == HeartbeatAck::Lapsed {
        // Forgotten once: the next refresh finds no such heartbeat.
        d.beats.remove(id);
        st.faults.set_heartbeat_ack(HeartbeatAck::Armed);
    }
    let Some(beat) = d.beats.get_mut(id) else {
        return bad("not_found", format!("heartbeat {id} was not created"));
    };
    let armed = ttl > 0 && ack == HeartbeatAck::Armed;
    beat.ttl_ms = ttl;
    beat.deadline =
        armed.then(|| tokio::time::Instant::now() + std::time::Duration::from_millis(ttl));
    // The next expiry, on the wall clock like the switch itself.
    let expiry = chrono::Utc::now() + chrono::Duration::milliseconds(ttl as i64);
    ok(serde_json::json!({
        "heartbeat_timestamp": expiry.timestamp_micros().to_string(),
        "process_enabled": armed.to_string(),
    }))
}

/// `GET /v2/profile`: the account's user (the id is what `GET /v2/heartbeat` is asked with).
async fn profile() -> Response {
    ok(serde_json::json!({
        "id": LOCAL_USER_ID,
        "account_name": "Main",
        "margin_mode": "isolated",
    }))
}

/// The user id of this market's account.
const LOCAL_USER_ID: &str = "98765432";

async fn heartbeat_list(State(st): St, Query(q): Q) -> Response {
    match q.get("user_id") {
        Some(u) if u != LOCAL_USER_ID => {
            return bad("bad_schema", format!("user_id {u} is not this account's"))
        }
        None if st.faults.heartbeat_list_needs_user() => {
            return bad("bad_schema", "user_id is required")
        }
        _ => {}
    }
    let beats: Vec<serde_json::Value> = st
        .deadman()
        .beats
        .iter()
        .map(|(id, b)| {
            serde_json::json!({
                "heartbeat_id": id,
                "impact": b.impact,
                "underlying_assets": b.underlyings,
                "contract_types": b.contract_types,
                "ttl": b.ttl_ms,
                "process_enabled": b.deadline.is_some().to_string(),
            })
        })
        .collect();
    ok(beats)
}

async fn cancel_after(State(st): St, body: Bytes) -> Response {
    let v: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let ms = v.get("cancel_after").and_then(|x| {
        x.as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .or_else(|| x.as_u64())
    });
    let Some(ms) = ms else {
        return bad("bad_schema", "cancel_after (ms) is required");
    };
    st.deadman().cancel_after =
        (ms > 0).then(|| tokio::time::Instant::now() + std::time::Duration::from_millis(ms));
    let at = chrono::Utc::now().timestamp_millis() + ms as i64;
    ok(
        serde_json::json!({ "cancel_after_enabled": (ms > 0).to_string(), "cancel_after_timestamp": at.to_string() }),
    )
}
