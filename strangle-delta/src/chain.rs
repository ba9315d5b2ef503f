//! Option chains from Delta's REST payloads: `GET /v2/tickers` (quotes, greeks, spot) joined
//! with `GET /v2/products` (expiry, contract size, tick size), the way the live adapter
//! builds the chain the strategy selects from. Pure functions, so recorded payloads give the
//! same chain as the live call.
//!
//! ```
//! use strangle_core::model::Underlying;
//! use strangle_delta::chain::{chain_from, parse_products, parse_quotes};
//!
//! let products = parse_products(r#"{"success": true, "result": []}"#)?;
//! let quotes = parse_quotes("[]")?;
//! // No ticker means no spot price: an error naming the underlying.
//! assert!(chain_from(Underlying::Btc, quotes, &products).is_err());
//! # Ok::<(), strangle_delta::DeltaError>(())
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use strangle_core::error::{Error as CoreError, ExchangeErrorKind};
use strangle_core::ids::Symbol;
use strangle_core::model::{ChainEntry, ChainSnapshot, OptionContract, Quote, Underlying};

use crate::convert::contract_of;
use crate::wire::{Product, Ticker};
use crate::DeltaError;

/// Option contracts by symbol, from a product list (other contract types are left out).
pub type Contracts = HashMap<Symbol, OptionContract>;

fn parse_list<T: DeserializeOwned>(text: &str, what: &str) -> Result<Vec<T>, DeltaError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Payload<T> {
        Envelope { result: Vec<T> },
        List(Vec<T>),
    }
    let decode = |message: String| DeltaError::Decode {
        method: "GET".into(),
        path: what.into(),
        message,
    };
    if let Ok(Payload::Envelope { result } | Payload::List(result)) =
        serde_json::from_str::<Payload<T>>(text)
    {
        return Ok(result);
    }
    // Refused: parse again as a plain value to say where (a syntax error's line and column,
    // or the first item that does not fit) rather than "did not match any variant".
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
    let items = value
        .get("result")
        .unwrap_or(&value)
        .as_array()
        .ok_or_else(|| decode("expected a list or {\"result\": [...]}".into()))?;
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = serde_json::from_value::<T>(item.clone()) {
            return Err(decode(format!("item {i}: {e}")));
        }
    }
    Err(decode("expected a list or {\"result\": [...]}".into()))
}

/// Parses a `/v2/tickers` answer (the whole envelope or its `result` list).
pub fn parse_tickers(text: &str) -> Result<Vec<Ticker>, DeltaError> {
    parse_list(text, "/v2/tickers")
}

/// Parses a `/v2/tickers` answer (the whole envelope or its `result` list) into quotes: the
/// same quotes as [`parse_tickers`] converted with [`crate::convert::quote_of`], by the fast path
/// ([`crate::scan`]) when it can, and the typed way otherwise (and for the error).
pub fn parse_quotes(text: &str) -> Result<Vec<Quote>, DeltaError> {
    crate::scan::ticker_quotes(text.as_bytes(), crate::scan::Form::Payload, || {
        parse_tickers(text)
    })
}

/// Parses a `/v2/products` answer into option contracts by symbol.
pub fn parse_products(text: &str) -> Result<Contracts, DeltaError> {
    Ok(contracts(&parse_list::<Product>(text, "/v2/products")?))
}

/// The option contracts among `products`, by symbol.
pub fn contracts(products: &[Product]) -> Contracts {
    products
        .iter()
        .filter_map(contract_of)
        .map(|c| (c.symbol.clone(), c))
        .collect()
}

/// The chain of `underlying`: every quote whose product is known, sorted by symbol,
/// timestamped by the newest quote, with the spot of the first quote that carries one.
/// Quotes of other underlyings are left out.
pub fn chain_from(
    underlying: Underlying,
    quotes: Vec<Quote>,
    products: &Contracts,
) -> Result<ChainSnapshot, DeltaError> {
    let mut entries = Vec::with_capacity(quotes.len());
    let (mut spot, mut ts) = (None, None::<DateTime<Utc>>);
    for quote in quotes {
        let Some(contract) = products.get(&quote.symbol) else {
            continue;
        };
        if contract.underlying != underlying {
            continue;
        }
        spot = spot.or(quote.spot);
        ts = ts.max(Some(quote.timestamp));
        entries.push(ChainEntry {
            contract: contract.clone(),
            quote,
        });
    }
    entries.sort_by(|a, b| a.contract.symbol.cmp(&b.contract.symbol));
    let no_spot = || {
        DeltaError::Engine(CoreError::exchange(
            ExchangeErrorKind::InvalidResponse,
            format!("no {underlying} ticker with a known product carries a spot price"),
        ))
    };
    match (spot, ts) {
        (Some(spot), Some(timestamp)) => Ok(ChainSnapshot {
            underlying,
            timestamp,
            spot,
            entries,
        }),
        _ => Err(no_spot()),
    }
}

/// Quotes whose product is not in `products` (a reason to refresh the product list).
pub fn unknown_symbols<'a>(quotes: &'a [Quote], products: &Contracts) -> Vec<&'a str> {
    quotes
        .iter()
        .filter(|q| !products.contains_key(&q.symbol))
        .map(|q| q.symbol.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Option<String> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read_to_string(p).ok()
    }

    #[test]
    fn tickers_and_products_fixtures_make_a_chain() {
        let (Some(t), Some(p)) = (
            fixture("tickers_btc_options.json"),
            fixture("products_options.json"),
        ) else {
            panic!("the Delta fixtures are missing from tests/fixtures");
        };
        let tickers = parse_quotes(&t).expect("tickers");
        let products = parse_products(&p).expect("products");
        assert!(!products.is_empty());
        assert!(unknown_symbols(&tickers, &products).is_empty());
        let c = chain_from(Underlying::Btc, tickers.clone(), &products).expect("chain");
        assert_eq!(c.entries.len(), tickers.len());
        assert!(c
            .entries
            .windows(2)
            .all(|w| w[0].contract.symbol < w[1].contract.symbol));
        assert!(c
            .entries
            .iter()
            .all(|e| e.contract.underlying == Underlying::Btc));
        assert!(c.spot > rust_decimal::Decimal::ZERO);
        // The products hold no ETH option: an ETH chain has no spot and says so.
        let e = chain_from(Underlying::Eth, tickers, &products).expect_err("no ETH");
        assert!(e.to_string().contains("ETH"), "{e}");
    }

    #[test]
    fn malformed_payloads_name_the_problem() {
        let e = parse_tickers("{\"result\": [{\"symbol\": 5}]}").expect_err("bad item");
        assert!(e.to_string().contains("item 0"), "{e}");
        let e = parse_tickers("[1,").expect_err("syntax");
        assert!(e.to_string().contains("line 1"), "{e}");
        // The quotes' fast path gives up on both and the typed decoder names the problem.
        let e = parse_quotes("{\"result\": [{\"symbol\": 5}]}").expect_err("bad item");
        assert!(e.to_string().contains("item 0"), "{e}");
        let e = parse_quotes("[1,").expect_err("syntax");
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = parse_products("{\"nothing\": 1}").expect_err("shape");
        assert!(e.to_string().contains("expected a list"), "{e}");
    }
}
