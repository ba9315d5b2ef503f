//! Importing Deribit option-chain snapshots (the CSV layout of `get_book_summary`/ticker
//! dumps described in `../shared/data/README.md`) into USD chains shaped like Delta's.
//!
//! Deribit options are inverse: prices are in coin. Each price is converted to USD with the
//! row's own forward (`underlying_price`), which is how Deribit's mark is defined
//! (`mark × forward = Black-76 price in USD`); see [`pricing_check`]. Contracts get Delta's
//! sizes (0.001 BTC, 0.01 ETH) and ticks, keep Deribit's expiry instant (08:00 UTC), and
//! Delta-style symbols, so the same profiles trade them. Deribit publishes no book depth in
//! these dumps: each present bid and ask is given [`DeribitImport::quoted_size_coins`] of
//! size. The snapshot's spot is the median of its rows' `index_price` (the rows were fetched
//! one after another, so the index moves a little within a snapshot).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::ids::product_id;
use crate::model::{
    ChainEntry, ChainSnapshot, Greeks, OptionContract, OptionKind, OptionSymbol, Quote, Underlying,
};
use crate::pricing::black76;

/// Import settings.
#[derive(Debug, Clone)]
pub struct DeribitImport {
    /// Size given to each present bid and ask, in coins (1 = 1,000 BTC contracts of 0.001).
    pub quoted_size_coins: Decimal,
}

impl Default for DeribitImport {
    fn default() -> Self {
        Self {
            quoted_size_coins: Decimal::ONE,
        }
    }
}

/// Delta's contract size and tick for an underlying.
pub fn delta_contract_spec(u: Underlying) -> (Decimal, Decimal) {
    match u {
        Underlying::Btc => (Decimal::new(1, 3), Decimal::new(1, 1)),
        Underlying::Eth => (Decimal::new(1, 2), Decimal::new(1, 2)),
    }
}

/// One row of the Deribit CSV, as read.
#[derive(Debug, Clone)]
pub struct DeribitRow {
    /// Snapshot time.
    pub timestamp: DateTime<Utc>,
    /// BTC or ETH.
    pub underlying: Underlying,
    /// Deribit's instrument name, e.g. `BTC-30JAN26-86000-P`.
    pub instrument: String,
    /// Call or put.
    pub kind: OptionKind,
    /// Strike, USD.
    pub strike: Decimal,
    /// Expiry instant.
    pub expiry: DateTime<Utc>,
    /// Best bid, coin.
    pub bid: Option<Decimal>,
    /// Best ask, coin.
    pub ask: Option<Decimal>,
    /// Mark, coin.
    pub mark: Decimal,
    /// Mark IV, decimal.
    pub mark_iv: f64,
    /// Delta.
    pub delta: f64,
    /// Vega, USD per vol point.
    pub vega: f64,
    /// Open interest, coins.
    pub open_interest: Option<Decimal>,
    /// Forward of this expiry, USD.
    pub forward: Decimal,
    /// Spot index, USD.
    pub index: Decimal,
}

/// Reads every row; errors name the line and the column.
pub fn read_rows<R: Read>(input: R, name: &str) -> Result<Vec<DeribitRow>> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| data_err(name, 1, e.to_string()))?
        .clone();
    let col = |c: &str| {
        headers
            .iter()
            .position(|h| h == c)
            .ok_or_else(|| Error::MissingColumn {
                source_name: name.to_string(),
                column: c.to_string(),
            })
    };
    let idx = [
        col("timestamp")?,
        col("currency")?,
        col("instrument_name")?,
        col("option_type")?,
        col("strike")?,
        col("expiry")?,
        col("bid_price")?,
        col("ask_price")?,
        col("mark_price")?,
        col("mark_iv")?,
        col("delta")?,
        col("vega")?,
        col("open_interest")?,
        col("underlying_price")?,
        col("index_price")?,
    ];
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut times: HashMap<String, DateTime<Utc>> = HashMap::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(data_err(
                    name,
                    e.position().map_or(0, |p| p.line()),
                    e.to_string(),
                ))
            }
        }
        let line = rec.position().map_or(0, |p| p.line());
        let f = |i: usize| rec.get(idx[i]).unwrap_or("").trim();
        let bad = |c: &str, m: String| data_err(name, line, format!("{c}: {m}"));
        let mut time = |s: &str, c: &str| -> Result<DateTime<Utc>> {
            if let Some(t) = times.get(s) {
                return Ok(*t);
            }
            let t = DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad(c, format!("{s:?} is not an RFC 3339 time")))?;
            times.insert(s.to_string(), t);
            Ok(t)
        };
        let timestamp = time(f(0), "timestamp")?;
        let expiry = time(f(5), "expiry")?;
        let dec = |i: usize, c: &str| -> Result<Option<Decimal>> {
            let s = f(i);
            if s.is_empty() {
                return Ok(None);
            }
            Decimal::from_str(s)
                .or_else(|_| Decimal::from_scientific(s))
                .map(Some)
                .map_err(|_| bad(c, format!("{s:?} is not a number")))
        };
        let req = |i: usize, c: &str| -> Result<Decimal> {
            dec(i, c)?.ok_or_else(|| bad(c, "required".into()))
        };
        let float = |i: usize, c: &str| -> Result<f64> {
            f(i).parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(c, format!("{:?} is not a number", f(i))))
        };
        let underlying: Underlying = f(1)
            .parse()
            .map_err(|_| bad("currency", format!("{:?} is not BTC or ETH", f(1))))?;
        let kind = match f(3) {
            "call" | "C" => OptionKind::Call,
            "put" | "P" => OptionKind::Put,
            other => return Err(bad("option_type", format!("{other:?} is not call or put"))),
        };
        let row = DeribitRow {
            timestamp,
            underlying,
            instrument: f(2).to_string(),
            kind,
            strike: req(4, "strike")?,
            expiry,
            bid: dec(6, "bid_price")?,
            ask: dec(7, "ask_price")?,
            mark: req(8, "mark_price")?,
            mark_iv: float(9, "mark_iv")?,
            delta: float(10, "delta")?,
            vega: float(11, "vega")?,
            open_interest: dec(12, "open_interest")?,
            forward: req(13, "underlying_price")?,
            index: req(14, "index_price")?,
        };
        if row.strike <= Decimal::ZERO || row.forward <= Decimal::ZERO {
            return Err(bad("strike/underlying_price", "must be positive".into()));
        }
        out.push(row);
    }
    Ok(out)
}

fn data_err(name: &str, line: u64, message: String) -> Error {
    Error::Data {
        source_name: name.to_string(),
        line,
        message,
    }
}

/// Groups rows into USD snapshots, one per (time, underlying), in time order (BTC before
/// ETH at equal times).
pub fn to_snapshots(rows: &[DeribitRow], opts: &DeribitImport) -> Vec<ChainSnapshot> {
    let mut groups: BTreeMap<(DateTime<Utc>, Underlying), Vec<&DeribitRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.timestamp, r.underlying))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((t, u), rows)| {
            let mut idx: Vec<Decimal> = rows.iter().map(|r| r.index).collect();
            idx.sort();
            let spot = idx[idx.len() / 2];
            let mut entries: Vec<ChainEntry> = rows.iter().map(|r| entry(r, spot, opts)).collect();
            entries.sort_by(|a, b| a.contract.symbol.cmp(&b.contract.symbol));
            entries.dedup_by(|a, b| a.contract.symbol == b.contract.symbol);
            ChainSnapshot {
                underlying: u,
                timestamp: t,
                spot,
                entries,
            }
        })
        .collect()
}

fn entry(r: &DeribitRow, spot: Decimal, opts: &DeribitImport) -> ChainEntry {
    let (size, tick) = delta_contract_spec(r.underlying);
    let usd = |coin: Decimal| (coin * r.forward).round_dp(8);
    let quoted = (opts.quoted_size_coins / size).round_dp(0);
    let symbol = OptionSymbol {
        kind: r.kind,
        underlying: r.underlying,
        strike: r.strike.normalize(),
        expiry_date: r.expiry.date_naive(),
    }
    .symbol();
    let years = (r.expiry - r.timestamp).num_seconds() as f64 / (365.0 * 86_400.0);
    let f = r.forward.to_f64().unwrap_or(0.0);
    let k = r.strike.to_f64().unwrap_or(0.0);
    let model = black76(r.kind, f, k, years, r.mark_iv);
    ChainEntry {
        contract: OptionContract {
            product_id: product_id(&symbol),
            symbol: symbol.clone(),
            underlying: r.underlying,
            kind: r.kind,
            strike: r.strike.normalize(),
            expiry: r.expiry,
            contract_size: size,
            tick_size: tick,
        },
        quote: Quote {
            symbol,
            timestamp: r.timestamp,
            mark: usd(r.mark),
            bid: r.bid.filter(|b| *b > Decimal::ZERO).map(usd),
            bid_size: if r.bid.is_some_and(|b| b > Decimal::ZERO) {
                quoted
            } else {
                Decimal::ZERO
            },
            ask: r.ask.filter(|a| *a > Decimal::ZERO).map(usd),
            ask_size: if r.ask.is_some_and(|a| a > Decimal::ZERO) {
                quoted
            } else {
                Decimal::ZERO
            },
            greeks: Some(Greeks {
                delta: r.delta,
                gamma: model.gamma,
                theta: model.theta,
                vega: r.vega,
            }),
            mark_iv: Some(r.mark_iv),
            bid_iv: None,
            ask_iv: None,
            spot: Some(spot),
            open_interest: r.open_interest.map(|oi| (oi / size).round_dp(4)),
            price_band: None,
            trading_halt: None,
        },
    }
}

/// How well Black-76 on each row's forward and mark IV reproduces Deribit's mark.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingCheck {
    /// Rows compared (marks of at least `min_mark_coin`).
    pub rows: usize,
    /// Median of |model − mark| / mark.
    pub median_rel_error: f64,
    /// 95th percentile of the same.
    pub p95_rel_error: f64,
    /// Largest.
    pub max_rel_error: f64,
}

/// Prices every row whose mark is at least `min_mark_coin` (tiny marks are rounded to
/// Deribit's tick and say nothing about the model) and compares in coin.
pub fn pricing_check(rows: &[DeribitRow], min_mark_coin: Decimal) -> PricingCheck {
    let mut errs: Vec<f64> = rows
        .iter()
        .filter(|r| r.mark >= min_mark_coin && r.expiry > r.timestamp)
        .filter_map(|r| {
            let f = r.forward.to_f64()?;
            let k = r.strike.to_f64()?;
            let mark = r.mark.to_f64()?;
            let years = (r.expiry - r.timestamp).num_seconds() as f64 / (365.0 * 86_400.0);
            let model = black76(r.kind, f, k, years, r.mark_iv).price / f;
            Some((model - mark).abs() / mark)
        })
        .collect();
    errs.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if errs.is_empty() {
            f64::NAN
        } else {
            errs[((errs.len() - 1) as f64 * q).round() as usize]
        }
    };
    PricingCheck {
        rows: errs.len(),
        median_rel_error: at(0.5),
        p95_rel_error: at(0.95),
        max_rel_error: errs.last().copied().unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "timestamp,currency,instrument_name,option_type,strike,expiry,bid_price,ask_price,mark_price,mark_iv,delta,vega,open_interest,volume,underlying_price,underlying_name,index_price
2026-01-19T04:06:41Z,BTC,BTC-30JAN26-86000-P,put,86000.0,2026-01-30T08:00:00Z,0.006,0.0065,0.00634677,0.4359,-0.15424,38.49209,1578.6,80.9,92672.8,BTC-30JAN26,92601.22
2026-01-19T04:06:41Z,BTC,BTC-30JAN26-100000-C,call,100000.0,2026-01-30T08:00:00Z,,0.0045,0.0041,0.40,0.12,30.0,10,1,92672.8,BTC-30JAN26,92611.22
";

    #[test]
    fn coin_prices_become_usd_on_the_rows_forward() {
        let rows = read_rows(CSV.as_bytes(), "d.csv").expect("rows");
        let snaps = to_snapshots(&rows, &DeribitImport::default());
        assert_eq!(snaps.len(), 1);
        let s = &snaps[0];
        assert_eq!(s.spot, Decimal::from_str("92611.22").expect("dec"));
        let put = s.get("P-BTC-86000-300126").expect("put");
        // 0.006 BTC × 92,672.8 USD.
        assert_eq!(
            put.quote.bid,
            Some(Decimal::from_str("556.0368").expect("dec"))
        );
        assert_eq!(put.quote.bid_size, Decimal::from(1000));
        assert_eq!(
            put.contract.expiry.to_rfc3339(),
            "2026-01-30T08:00:00+00:00"
        );
        assert_eq!(put.contract.contract_size, Decimal::new(1, 3));
        assert_eq!(put.quote.open_interest, Some(Decimal::from(1_578_600)));
        let call = s.get("C-BTC-100000-300126").expect("call");
        assert_eq!((call.quote.bid, call.quote.bid_size), (None, Decimal::ZERO));
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let bad = CSV.replace("0.4359", "x");
        let e = read_rows(bad.as_bytes(), "d.csv").expect_err("bad iv");
        assert!(e.to_string().contains("d.csv line 2: mark_iv"), "{e}");
        let e = read_rows("a,b\n1,2\n".as_bytes(), "d.csv").expect_err("columns");
        assert!(
            matches!(&e, Error::MissingColumn { column, .. } if column == "timestamp"),
            "{e}"
        );
    }
}
