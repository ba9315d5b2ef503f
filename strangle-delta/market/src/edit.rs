//! Orders changed after they are placed: `PUT /v2/orders` (a working order edited in place),
//! and brackets (`POST /v2/orders/bracket`: a stop loss and take profit for a whole open
//! position, one per position; `PUT /v2/orders/bracket`: their prices changed).
//!
//! Delta also lets an entry order carry a bracket (`bracket_*` fields on `POST /v2/orders`);
//! this market refuses those fields, naming the position bracket to use instead.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use rust_decimal::Decimal;
use strangle_core::ids::ClientOrderId;
use strangle_core::model::{OptionContract, StopKind, StopOrder, StopTrigger};
use strangle_core::sim::{BracketLeg, OrderEdit};

use super::routes::{bad, meta_of, ok, refusal, St};
use super::{OrderMeta, ServerState};
use strangle_delta::wire::{BracketSide, CreateBracket, EditBracket, EditOrder, OrderType};

/// The listed contract named by id or symbol.
fn contract(
    st: &ServerState,
    id: Option<u64>,
    symbol: Option<&str>,
) -> Result<OptionContract, Box<Response>> {
    st.venue
        .contracts()
        .into_iter()
        .find(|c| id == Some(c.product_id.get()) || symbol == Some(c.symbol.as_str()))
        .ok_or_else(|| {
            Box::new(bad(
                "invalid_contract",
                "unknown product_id / product_symbol",
            ))
        })
}

fn trigger_of(name: Option<&str>) -> Result<StopTrigger, Box<Response>> {
    match name {
        None => Ok(StopTrigger::MarkPrice),
        Some(n) => StopTrigger::from_name(n).ok_or_else(|| {
            Box::new(bad(
                "bad_schema",
                format!("{n:?} is not mark_price, last_traded_price or spot_price"),
            ))
        }),
    }
}

/// One side of a bracket, checked: a positive `stop_price`, a positive `limit_price` for a
/// limit order, a positive trail (the venue refuses a take profit that trails).
fn leg_of(
    side: &BracketSide,
    kind: StopKind,
    trigger: StopTrigger,
) -> Result<BracketLeg, Box<Response>> {
    let refuse = |m: String| Err(Box::new(bad("bad_schema", m)));
    let name = kind.name();
    let Some(stop_price) = side.stop_price.filter(|p| *p > Decimal::ZERO) else {
        return refuse(format!("{name}: stop_price must be above 0"));
    };
    let limit_price = match (side.order_type, side.limit_price) {
        (Some(OrderType::MarketOrder), _) => None,
        (_, Some(p)) if p > Decimal::ZERO => Some(p),
        (Some(OrderType::LimitOrder), _) | (None, Some(_)) => {
            return refuse(format!(
                "{name}: limit_price must be above 0 for a limit order"
            ))
        }
        (None, None) => None,
    };
    if side.trail_amount.is_some_and(|t| t <= Decimal::ZERO) {
        return refuse(format!("{name}: trail_amount must be above 0"));
    }
    Ok(BracketLeg {
        stop: StopOrder {
            stop_price,
            trigger,
            trail_amount: side.trail_amount,
            kind,
        },
        limit_price,
    })
}

/// `POST /v2/orders/bracket`: answers `{"success": true}` as Delta documents; the orders
/// are then listed among the open orders (state `pending`, `bracket_order: true`).
pub(super) async fn place_bracket(State(st): St, body: Bytes) -> Response {
    let req: CreateBracket = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let c = match contract(&st, req.product_id, req.product_symbol.as_deref()) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let trigger = match trigger_of(req.bracket_stop_trigger_method.as_deref()) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    // Each leg given, checked, under an id of the market's own (bracket orders carry none).
    let leg_for = |side: &Option<BracketSide>, kind| -> Result<_, Box<Response>> {
        side.as_ref()
            .map(|s| Ok((st.orders().own_id("_srv"), leg_of(s, kind, trigger)?)))
            .transpose()
    };
    let (stop_loss, take_profit) = match (
        leg_for(&req.stop_loss_order, StopKind::StopLoss),
        leg_for(&req.take_profit_order, StopKind::TakeProfit),
    ) {
        (Ok(sl), Ok(tp)) => (sl, tp),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let entry = st.order_entry.lock().await;
    let placed = match st
        .venue
        .place_bracket(&c.symbol, stop_loss.clone(), take_profit.clone())
    {
        Ok(p) => p,
        Err(e) => return refusal(&e),
    };
    {
        let mut o = st.orders();
        for status in &placed {
            let stop = [&stop_loss, &take_profit]
                .into_iter()
                .flatten()
                .find(|(id, _)| *id == status.client_order_id)
                .map(|(_, l)| *l);
            let Some(leg) = stop else { continue };
            let id: u64 = status.exchange_order_id.parse().unwrap_or_default();
            let meta = OrderMeta {
                id,
                product_id: c.product_id.get(),
                order_type: if leg.limit_price.is_some() {
                    OrderType::LimitOrder
                } else {
                    OrderType::MarketOrder
                },
                time_in_force: "gtc".into(),
                reduce_only: true,
                client_order_id: None,
                created_at: status.updated_at,
                stop: Some(leg.stop),
                bracket: true,
            };
            o.by_id.insert(id, status.client_order_id.clone());
            o.by_coid.insert(status.client_order_id.clone(), meta);
        }
    }
    drop(entry);
    ok(serde_json::json!({}))
}

/// The client id this market keeps order `id` under, when it is still working.
fn working(st: &ServerState, id: Option<i64>) -> Result<(ClientOrderId, OrderMeta), Box<Response>> {
    let Some(id) = id else {
        return Err(Box::new(bad("bad_schema", "id is required")));
    };
    let coid = u64::try_from(id)
        .ok()
        .and_then(|id| st.orders().by_id.get(&id).cloned());
    coid.and_then(|c| meta_of(st, &c).map(|m| (c, m)))
        .ok_or_else(|| Box::new(bad("open_order_not_found", "no such open order")))
}

/// `PUT /v2/orders`: edits a working order's limit price, size, stop level or trail in
/// place, and answers the order.
pub(super) async fn edit_order(State(st): St, body: Bytes) -> Response {
    let req: EditOrder = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let (coid, meta) = match working(&st, req.id) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    let edit = OrderEdit {
        limit_price: req.limit_price,
        size: req.size.map(Decimal::from),
        stop_price: req.stop_price,
        trail_amount: req.trail_amount,
    };
    let entry = st.order_entry.lock().await;
    let res = st.venue.edit_order(coid.as_str(), &edit);
    drop(entry);
    match res {
        Ok(status) => {
            let mut meta = meta;
            if let Some(s) = meta.stop.as_mut() {
                s.stop_price = req.stop_price.unwrap_or(s.stop_price);
                s.trail_amount = req.trail_amount.or(s.trail_amount);
            }
            st.orders().by_coid.insert(coid, meta.clone());
            ok(super::full::order(&status, &meta))
        }
        Err(e) => refusal(&e),
    }
}

/// `PUT /v2/orders/bracket`: new prices for the bracket that order `id` belongs to (this
/// market's brackets are on positions: `id` names one of the bracket's orders). The stop
/// loss's fields apply to its stop-loss order, the take profit's to its take-profit order.
pub(super) async fn edit_bracket(State(st): St, body: Bytes) -> Response {
    let req: EditBracket = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad("bad_schema", e.to_string()),
    };
    let (coid, meta) = match working(&st, req.id) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    if !meta.bracket {
        return bad(
            "bad_schema",
            "this market's brackets are on positions: id must name one of a bracket's orders",
        );
    }
    if req.bracket_stop_trigger_method.is_some() {
        return bad(
            "bad_schema",
            "a bracket's trigger method is set when it is placed",
        );
    }
    // The bracket's orders: this one and any other still working on the product.
    let siblings: Vec<(ClientOrderId, OrderMeta)> = {
        let o = st.orders();
        o.by_coid
            .iter()
            .filter(|(c, m)| m.bracket && m.product_id == meta.product_id && **c != coid)
            .map(|(c, m)| (c.clone(), m.clone()))
            .collect()
    };
    let open = st.venue.open_orders();
    let waiting = |c: &ClientOrderId| open.iter().any(|o| o.client_order_id == *c);
    let mut edits = Vec::new();
    for (c, m) in std::iter::once((coid.clone(), meta)).chain(siblings) {
        if !waiting(&c) {
            continue;
        }
        let edit = match m.stop.map(|s| s.kind) {
            Some(StopKind::StopLoss) => OrderEdit {
                stop_price: req.bracket_stop_loss_price,
                limit_price: req.bracket_stop_loss_limit_price,
                trail_amount: req.bracket_trail_amount,
                size: None,
            },
            Some(StopKind::TakeProfit) => OrderEdit {
                stop_price: req.bracket_take_profit_price,
                limit_price: req.bracket_take_profit_limit_price,
                trail_amount: None,
                size: None,
            },
            None => continue,
        };
        if edit != OrderEdit::default() {
            edits.push((c, m, edit));
        }
    }
    if edits.is_empty() {
        return bad("bad_schema", "nothing to change in this bracket");
    }
    let entry = st.order_entry.lock().await;
    for (c, mut m, edit) in edits {
        if let Err(e) = st.venue.edit_order(c.as_str(), &edit) {
            return refusal(&e);
        }
        if let Some(s) = m.stop.as_mut() {
            s.stop_price = edit.stop_price.unwrap_or(s.stop_price);
            s.trail_amount = edit.trail_amount.or(s.trail_amount);
        }
        st.orders().by_coid.insert(c, m);
    }
    drop(entry);
    ok(serde_json::json!({}))
}
