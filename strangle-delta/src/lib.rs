//! `strangle-delta`: the Delta Exchange adapter for strangle. Its two neighbours in this
//! folder are `strangle-delta-runtime` (runs a profile's engine on a Delta market) and
//! `strangle-delta-market` (the Delta-compatible local market for tests and `sim` mode).
//!
//! | module | holds |
//! |---|---|
//! | [`env`](mod@env) | the four Delta environments and custom base URLs |
//! | [`credentials`] | API key and secret from the environment or an owner-only file |
//! | [`sign`] | HMAC-SHA256 request signing and the query string built once |
//! | [`wire`] | Delta's JSON payloads (REST and WebSocket) with lenient number parsing ([`lenient`]) |
//! | [`scan`] | the fast path from `/v2/tickers` bytes to quotes, checked against [`wire`] |
//! | [`ratelimit`] | the weighted 10,000-units-per-5-minutes budget, one per API key and host, with a reserve for heartbeats, cancels and reduce-only orders |
//! | [`rest`] | the signed transport: budget, signing, retries with backoff |
//! | [`api`] | typed endpoints ([`api::DeltaClient`]), order placement that never duplicates |
//! | [`ws`] | the WebSocket client: channels, heartbeat, reconnect, resync |
//! | [`exchange`] | [`exchange::DeltaExchange`], the core's `Exchange` for live trading |
//! | [`fees`] | the option fee rates Delta's products carry, as the core's fee model takes them |
//! | `identify` | position rows tied to products (symbol, id in the live or expired catalogue, margined rows) |
//! | [`paper`] | [`paper::PaperExchange`]: Delta's market data, simulated fills |
//! | [`error`] | [`DeltaError`], the crate's one error type, and [`error::Secret`] |

// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod api;
pub mod chain;
pub mod convert;
pub mod credentials;
pub mod deadman;
pub mod env;
pub mod error;
pub mod exchange;
pub mod fees;
mod identify;
pub mod lenient;
pub mod paper;
pub mod ratelimit;
pub mod rest;
pub mod scan;
pub mod sign;
pub mod wire;
pub mod ws;

pub use credentials::Credentials;
pub use env::Environment;
pub use error::DeltaError;
