//! Shared helpers of the criterion benches (see `benches/`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use strangle_core::model::{ChainSnapshot, Fill, OrderState, OrderStatus};
use strangle_core::strategy::{Action, Event, Strategy};

/// Feeds `chain` to `s` at `t` and fills every entry order it places at its limit price, so
/// that `s` holds an open strangle.
pub fn open_strangle(s: &mut Strategy, chain: &ChainSnapshot, t: DateTime<Utc>) {
    for a in s.handle(t, Event::Chain(chain.clone())) {
        if let Action::Place(i) = a {
            let r = &i.request;
            let st = OrderStatus {
                client_order_id: r.client_order_id.clone(),
                exchange_order_id: "1".into(),
                symbol: r.symbol.clone(),
                side: r.side,
                size: r.size,
                limit_price: r.limit_price,
                state: OrderState::Filled,
                fills: vec![Fill {
                    fill_id: r.client_order_id.to_string(),
                    client_order_id: Some(r.client_order_id.clone()),
                    symbol: r.symbol.clone(),
                    side: r.side,
                    size: r.size,
                    price: r.limit_price.unwrap_or_default(),
                    fee: Decimal::ZERO,
                    timestamp: t,
                }],
                reason: None,
                updated_at: t,
            };
            s.handle(t, Event::Order(st));
        }
    }
}
