//! The exact types the rest of the project speaks: contracts, quotes, orders, fees.
//!
//! Prices, sizes, fees and PnL are `Decimal`; greeks and implied volatility are `f64`.
//! Prices are per one unit of underlying (Delta's convention); multiply by
//! `contract_size` and the number of contracts for USD amounts.

mod contract;
mod fees;
mod order;
mod quote;
mod wallet;

pub use contract::{delta_settlement_time, OptionContract, OptionKind, OptionSymbol, Underlying};
pub use fees::FeeModel;
pub use order::{
    Balance, Fill, OrderRequest, OrderState, OrderStatus, OrderType, Position, ProductRef, Side,
    StopKind, StopOrder, StopTrigger, TimeInForce,
};
pub use quote::{ChainEntry, ChainSnapshot, Greeks, PriceBand, Quote};
pub use wallet::{VenueActivity, WalletEntry, WalletKind};
