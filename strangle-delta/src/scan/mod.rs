//! A fast path for the payloads on the hot path: `/v2/tickers` answers straight into the
//! core's quotes, without building a [`crate::wire::Ticker`] per contract.
//!
//! The scanner reads the JSON bytes in place: strings are borrowed from the input, decimals
//! are parsed from their digits without an intermediate `String`, and fields the strategy
//! does not need are skipped (but still checked, so a payload the typed decoder refuses is
//! never accepted here). Whatever it does not handle itself (an escaped key, a decimal with
//! an exponent, more than 19 digits, a type it does not expect) makes it give up with
//! [`Fallback`], and the caller decodes the same bytes with serde through the wire types:
//! that path is the reference, and the tests check that the two agree wherever the fast
//! one answers.

mod cursor;
mod frame;
mod number;
pub mod tickers;

pub(crate) use frame::frame_type;
pub use tickers::{quotes_from_envelope, quotes_from_payload};

/// The fast path met something it leaves to the typed decoder (which either decodes it or
/// names the problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback;

/// A fast-path result.
pub(crate) type Scan<T> = Result<T, Fallback>;
