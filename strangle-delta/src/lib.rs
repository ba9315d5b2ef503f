//! `strangle-delta`: the Delta Exchange adapter for strangle, and a Delta-compatible local
//! server for tests and offline simulation.

pub mod credentials;
pub mod env;
pub mod error;
pub mod lenient;
pub mod sign;
pub mod wire;

pub use credentials::Credentials;
pub use env::Environment;
pub use error::DeltaError;
pub mod api;
pub mod exchange;
pub mod paper;
pub mod ratelimit;
pub mod rest;
pub mod server;
pub mod ws;
