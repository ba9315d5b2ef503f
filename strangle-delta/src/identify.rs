//! Ties Delta's position rows to products.
//!
//! `GET /v2/positions?underlying_asset_symbol=` documents `product_id` and `product_symbol` on
//! every row, but `GET /v2/positions?product_id=` answers with only `size` and `entry_price`,
//! and a row whose product has expired names an id that is no longer in the live list. A row
//! that cannot be tied to a product is never skipped: an open short that recovery cannot see
//! would be booked as closed. So a row is identified by its symbol, else by its id through the
//! product catalogue (live and expired), else through `/v2/positions/margined` (which carries
//! symbols), and otherwise the caller stops and prints the row.

use std::collections::HashMap;

use rust_decimal::Decimal;
use strangle_core::ids::{ProductId, Symbol};
use strangle_core::model::{OptionContract, OptionSymbol, Position as CorePosition, Underlying};

use crate::wire::{MarginedPosition, Position};

/// What positions are identified with: the catalogues read so far and, once read, the
/// margined positions.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    /// Option products known so far, by symbol (live; expired ones once read).
    pub products: HashMap<Symbol, OptionContract>,
    /// `/v2/positions/margined`, once read.
    pub margined: Option<Vec<MarginedPosition>>,
}

/// Whether `symbol` is an option of `u` (`C-BTC-…`, `P-BTC-…`).
fn option_of(symbol: &str, u: Underlying) -> Option<Symbol> {
    let parsed = symbol.parse::<OptionSymbol>().ok()?;
    if parsed.underlying != u {
        return None;
    }
    Symbol::new(symbol).ok()
}

/// The non-flat option positions of `u` among `rows`, or the first row that the sources do
/// not tie to a product. Rows of other products (futures, other underlyings) are left out.
pub(crate) fn positions(
    u: Underlying,
    rows: &[Position],
    src: &Sources,
) -> Result<Vec<CorePosition>, Position> {
    let by_id: HashMap<ProductId, &OptionContract> =
        src.products.values().map(|c| (c.product_id, c)).collect();
    let margined = src.margined.as_deref().unwrap_or_default();
    let mut out: Vec<CorePosition> = Vec::new();
    // Rows named by neither symbol nor id are matched last, against margined rows not taken.
    let mut anonymous = Vec::new();
    for row in rows {
        let Some(size) = row.size else {
            return Err(row.clone());
        };
        if size.is_zero() {
            continue;
        }
        let symbol = match (&row.product_symbol, row.product_id) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(id)) => by_id
                .get(&ProductId(id))
                .map(|c| c.symbol.to_string())
                .or_else(|| {
                    margined
                        .iter()
                        .find(|m| m.product_id == Some(id))
                        .and_then(|m| m.product_symbol.clone())
                }),
            (None, None) => {
                anonymous.push(row);
                continue;
            }
        };
        let Some(symbol) = symbol else {
            return Err(row.clone());
        };
        let Some(symbol) = option_of(&symbol, u) else {
            continue;
        };
        let product_id = match row.product_id {
            Some(id) => ProductId(id),
            None => match src.products.get(&symbol) {
                Some(c) => c.product_id,
                None => return Err(row.clone()),
            },
        };
        out.push(CorePosition {
            product_id,
            symbol,
            size,
            entry_price: row.entry_price,
        });
    }
    for (i, row) in anonymous.iter().enumerate() {
        let size = row.size.unwrap_or_default();
        let same_price = |m: &MarginedPosition| match (m.entry_price, row.entry_price) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let candidates: Vec<&MarginedPosition> = margined
            .iter()
            .filter(|m| {
                m.size == Some(size)
                    && same_price(m)
                    && m.product_symbol.as_deref().is_some_and(|s| {
                        option_of(s, u).is_some() && !out.iter().any(|p| p.symbol == s)
                    })
            })
            .collect();
        // Rows that look alike (same size and entry price) are interchangeable: when the
        // margined rows like them are exactly as many, any pairing gives the same positions.
        let alike = anonymous[i..]
            .iter()
            .filter(|r| r.size == row.size && r.entry_price == row.entry_price)
            .count();
        let (Some(m), true) = (candidates.first().copied(), candidates.len() == alike) else {
            return Err((*row).clone());
        };
        let symbol = m.product_symbol.as_deref().and_then(|s| option_of(s, u));
        let (Some(symbol), Some(product_id)) = (symbol, m.product_id) else {
            return Err((*row).clone());
        };
        out.push(CorePosition {
            product_id: ProductId(product_id),
            symbol,
            size,
            entry_price: row.entry_price.or(m.entry_price),
        });
    }
    out.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(out)
}

/// The index price an expired option settled at, as Delta published it on the product
/// (`product_specs.settlement_index_price`), if it has.
pub(crate) fn settlement_index(p: &crate::wire::Product) -> Option<Decimal> {
    if p.state != "expired" {
        return None;
    }
    p.product_specs
        .as_ref()
        .and_then(|s| s.settlement_index_price)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(id: u64, symbol: &str) -> OptionContract {
        OptionContract::from_symbol(
            ProductId(id),
            symbol,
            Decimal::new(1, 3),
            Decimal::new(1, 1),
        )
        .expect("symbol")
    }

    fn row(id: Option<u64>, symbol: Option<&str>, size: i64, entry: i64) -> Position {
        Position {
            product_id: id,
            product_symbol: symbol.map(str::to_string),
            size: Some(Decimal::from(size)),
            entry_price: Some(Decimal::from(entry)),
            timestamp: None,
        }
    }

    fn margined(id: u64, symbol: &str, size: i64, entry: i64) -> MarginedPosition {
        MarginedPosition {
            product_id: Some(id),
            product_symbol: Some(symbol.into()),
            size: Some(Decimal::from(size)),
            entry_price: Some(Decimal::from(entry)),
            ..MarginedPosition::default()
        }
    }

    #[test]
    fn rows_are_named_by_symbol_then_id_then_margined_rows() {
        let mut src = Sources::default();
        src.products.insert(
            "C-BTC-84000-130326".parse().expect("symbol"),
            contract(7, "C-BTC-84000-130326"),
        );
        let rows = vec![
            row(Some(9), Some("P-BTC-80000-130326"), -10, 519),
            row(Some(7), None, -10, 751),
            row(Some(1), Some("BTCUSD"), 3, 82_000),
            row(Some(11), Some("C-BTC-90000-130326"), 0, 0),
        ];
        let got = positions(Underlying::Btc, &rows, &src).expect("identified");
        let names: Vec<_> = got
            .iter()
            .map(|p| (p.product_id.get(), p.symbol.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![(7, "C-BTC-84000-130326"), (9, "P-BTC-80000-130326")]
        );

        // A row with only size and entry price: a margined row of the same size and price
        // that no other row took names it.
        let bare = vec![
            row(Some(9), Some("P-BTC-80000-130326"), -10, 519),
            row(None, None, -10, 751),
        ];
        assert!(positions(Underlying::Btc, &bare, &Sources::default()).is_err());
        src.margined = Some(vec![
            margined(9, "P-BTC-80000-130326", -10, 519),
            margined(7, "C-BTC-84000-130326", -10, 751),
        ]);
        let got = positions(Underlying::Btc, &bare, &src).expect("identified");
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .any(|p| p.symbol == "C-BTC-84000-130326" && p.product_id == ProductId(7)));
    }

    #[test]
    fn an_ambiguous_or_unknown_row_is_refused_not_skipped() {
        let src = Sources {
            margined: Some(vec![
                margined(7, "C-BTC-84000-130326", -10, 751),
                margined(9, "P-BTC-80000-130326", -10, 751),
            ]),
            ..Sources::default()
        };
        // Two margined rows fit: no guess.
        let bare = vec![row(None, None, -10, 751)];
        assert_eq!(
            positions(Underlying::Btc, &bare, &src),
            Err(bare[0].clone())
        );
        // An id in no catalogue and no margined row.
        let lost = vec![row(Some(42), None, -10, 751)];
        assert_eq!(
            positions(Underlying::Btc, &lost, &src),
            Err(lost[0].clone())
        );
        // A row without a size.
        let sizeless = vec![Position {
            size: None,
            ..row(Some(7), Some("C-BTC-84000-130326"), 0, 0)
        }];
        assert!(positions(Underlying::Btc, &sizeless, &src).is_err());
    }

    /// Found by fault scenario seed 487: both legs sold one contract at the same price, and
    /// the rows named neither product. Two rows alike, two margined rows alike: any pairing
    /// gives the same positions, so both are identified.
    #[test]
    fn rows_that_look_alike_are_identified_when_as_many_margined_rows_fit() {
        let src = Sources {
            margined: Some(vec![
                margined(7, "C-BTC-84000-130326", -1, 113),
                margined(9, "P-BTC-80000-130326", -1, 113),
            ]),
            ..Sources::default()
        };
        let twins = vec![row(None, None, -1, 113), row(None, None, -1, 113)];
        let got = positions(Underlying::Btc, &twins, &src).expect("identified");
        let symbols: Vec<_> = got.iter().map(|p| p.symbol.as_str()).collect();
        assert_eq!(symbols, ["C-BTC-84000-130326", "P-BTC-80000-130326"]);
        // Three rows alike for two margined rows: refused.
        let three = vec![row(None, None, -1, 113); 3];
        assert!(positions(Underlying::Btc, &three, &src).is_err());
    }
}
