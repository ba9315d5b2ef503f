//! `strangle-core`: the pure short-strangle strategy and the engine that drives it.
//!
//! The crate is sans-I/O at its centre: [`strategy::Strategy`] turns events (a chain
//! snapshot, quotes, order updates, timers, operator commands) into actions (place, cancel,
//! record) and never touches the network, a file or the clock. [`engine::Engine`] drives it
//! through three traits — [`Exchange`], [`Ledger`] and [`Clock`] — so the same code runs live,
//! on paper, against the simulated venue and in backtests.
//!
//! | module | holds |
//! |---|---|
//! | [`data`] | the chain file format (streamed) and the Deribit importer |
//! | [`model`] | contracts, quotes, orders, fills, positions, the fee model |
//! | [`profile`] | the strategy settings and their validation |
//! | [`schedule`] | IST entry windows, the planned exit, expiry choice |
//! | [`select`] | delta- or premium-band strike selection |
//! | [`risk`] | the trailing stop and the exit rules |
//! | [`pnl`] | exact leg and session PnL |
//! | [`backtest`] | the backtest runner and its report (table, JSON, CSV, HTML) |
//! | [`analytics`] | KPIs and chart series of closed sessions |
//! | [`audit`] | the kinds of line in the audit trail |
//! | [`pricing`] | Black-76 prices and greeks |
//! | [`strategy`] | the state machine |
//! | [`engine`] | the async driver, its handle and heartbeat |
//! | [`exchange`], [`ledger`], [`clock`] | the traits the engine runs on |
//! | [`sim`] | the simulated venue (fills against fed quotes, fees, settlement) and synthetic chains |
//! | [`memory`] | an in-memory ledger |
//! | [`notice`] | operator notices (entry, exit, error, daily summary) worked out from heartbeats |
//! | [`ids`] | deterministic session and client order ids |
//! | [`recovery`] | reconciling the ledger with the exchange before trading |
//! | [`reconciliation`] | a closed session's money checked against the venue's fills and wallet |

// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod analytics;
pub mod audit;
pub mod backtest;
pub mod cells;
pub mod clock;
pub mod data;
pub mod engine;
pub mod error;
pub mod exchange;
pub mod governor;
pub mod ids;
pub mod ledger;
pub mod memory;
pub mod model;
pub mod notice;
pub mod pnl;
pub mod pricing;
pub mod profile;
pub mod reconciliation;
pub mod recovery;
pub mod risk;
pub mod schedule;
pub mod select;
pub mod sim;
pub mod strategy;

pub use clock::Clock;
pub use error::{Error, Result};
pub use exchange::{Exchange, Execution, MarketData};
pub use ledger::Ledger;
