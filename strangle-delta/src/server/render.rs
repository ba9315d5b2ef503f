//! Orders in the adapter's own shape, for the WebSocket `orders` channel (REST answers use
//! Delta's whole payloads: [`super::full`]), and what the server remembers of each order.

use rust_decimal::Decimal;
use strangle_core::model::{OrderState, OrderStatus, Side as CoreSide};

use crate::wire::{Order, OrderType, Side};

fn side(s: CoreSide) -> Side {
    match s {
        CoreSide::Buy => Side::Buy,
        CoreSide::Sell => Side::Sell,
    }
}

/// What the server remembers of an order beyond the venue's status.
#[derive(Debug, Clone)]
pub struct OrderMeta {
    /// Exchange id.
    pub id: u64,
    /// Product id.
    pub product_id: u64,
    /// Market or limit.
    pub order_type: OrderType,
    /// `gtc` / `ioc`.
    pub time_in_force: String,
    /// Reduce-only.
    pub reduce_only: bool,
    /// The client's id, if the client gave one.
    pub client_order_id: Option<String>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A venue order as a Delta order.
pub fn order(st: &OrderStatus, meta: &OrderMeta) -> Order {
    let filled = st.filled_size();
    let avg = (!filled.is_zero())
        .then(|| st.fills.iter().map(|f| f.price * f.size).sum::<Decimal>() / filled);
    Order {
        id: meta.id,
        user_id: Some(1),
        product_id: Some(meta.product_id),
        product_symbol: Some(st.symbol.to_string()),
        size: Some(st.size),
        unfilled_size: Some(st.size - filled),
        side: side(st.side),
        order_type: meta.order_type,
        limit_price: st.limit_price,
        time_in_force: Some(meta.time_in_force.clone()),
        reduce_only: Some(meta.reduce_only),
        client_order_id: meta.client_order_id.clone(),
        state: match st.state {
            OrderState::Open => "open",
            OrderState::Filled => "closed",
            OrderState::Cancelled | OrderState::Rejected => "cancelled",
        }
        .into(),
        average_fill_price: avg,
        paid_commission: Some(st.fees()),
        commission: Some(Decimal::ZERO),
        cancellation_reason: match st.state {
            OrderState::Cancelled | OrderState::Rejected => Some(
                st.reason
                    .clone()
                    .unwrap_or_else(|| "cancelled_by_user".into()),
            ),
            _ => None,
        },
        created_at: Some(meta.created_at),
    }
}
