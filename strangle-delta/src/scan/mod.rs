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
mod number;
pub mod tickers;

pub use tickers::{quotes_from_envelope, quotes_from_payload};

/// The fast path met something it leaves to the typed decoder (which either decodes it or
/// names the problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback;

/// A fast-path result.
pub(crate) type Scan<T> = Result<T, Fallback>;

/// What a `/v2/tickers` text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A successful answer's envelope (`{"success": true, "result": [...]}`).
    Envelope,
    /// The envelope or its bare `result` list (chain files, payloads given by a user).
    Payload,
    /// Not a success, or not to be scanned: the typed decoder reads it (and names the error).
    TypedOnly,
}

/// Quotes from `/v2/tickers` bytes: the one seam between the fast path and the reference.
/// The scanner answers where it can; otherwise `typed` decodes the same bytes through the
/// [`crate::wire`] types (and names any problem), and [`crate::convert::quote_of`] makes the
/// quotes.
pub fn ticker_quotes<E>(
    bytes: &[u8],
    form: Form,
    typed: impl FnOnce() -> Result<Vec<crate::wire::Ticker>, E>,
) -> Result<Vec<strangle_core::model::Quote>, E> {
    let fast = match form {
        Form::Envelope => quotes_from_envelope(bytes),
        Form::Payload => quotes_from_payload(bytes),
        Form::TypedOnly => Err(Fallback),
    };
    match fast {
        Ok(quotes) => Ok(quotes),
        Err(Fallback) => Ok(typed()?
            .iter()
            .filter_map(crate::convert::quote_of)
            .collect()),
    }
}
