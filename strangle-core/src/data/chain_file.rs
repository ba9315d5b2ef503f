//! The chain file: option-chain history on disk, streamed one snapshot at a time.
//!
//! Format `strangle-chain v1` is CSV (RFC 4180) with a version line first:
//!
//! ```text
//! #strangle-chain v1
//! time,underlying,spot,symbol,expiry,contract_size,tick_size,bid,bid_size,ask,ask_size,mark,mark_iv,bid_iv,ask_iv,delta,gamma,theta,vega,open_interest
//! 2026-03-10T04:00:00Z,BTC,82000,C-BTC-86000-110326,2026-03-11T12:00:00Z,0.001,0.1,120.5,500,124.1,500,122.3,0.45,,,0.12,0.00002,-150.2,30.1,1200
//! ```
//!
//! - One row per contract quote; the rows of one snapshot share `time` and `underlying` and
//!   are consecutive; snapshots are in time order (two underlyings may share a time).
//! - Times are RFC 3339 UTC. Money (`spot`, `bid`, `ask`, `mark`) is USD per one unit of the
//!   underlying, written exactly (decimal strings); sizes and open interest are contracts of
//!   `contract_size` underlying; IVs are decimals (0.45 = 45 %); greeks follow
//!   [`crate::pricing`] (vega per vol point, theta per day).
//! - `symbol` is Delta's (`C-BTC-86000-110326`); `expiry` is the settlement instant, which
//!   the symbol's date alone does not fix across venues.
//! - An empty field is "unknown": no bid, no ask, no IV; greeks are all four or none.
//!
//! [`ChainReader`] reads snapshot by snapshot, so a file larger than memory replays in
//! constant memory; [`ChainWriter`] writes. Both work on any `Read`/`Write`: the caller opens
//! files (and may wrap them in a decompressor).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::ids::product_id;
use crate::model::{
    ChainEntry, ChainSnapshot, Greeks, OptionContract, OptionSymbol, Quote, Underlying,
};
use crate::sim::MarketFeed;

/// The version line that opens every v1 file.
pub const VERSION_LINE: &str = "#strangle-chain v1";

/// The v1 columns, in order.
pub const COLUMNS: [&str; 20] = [
    "time",
    "underlying",
    "spot",
    "symbol",
    "expiry",
    "contract_size",
    "tick_size",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
    "mark",
    "mark_iv",
    "bid_iv",
    "ask_iv",
    "delta",
    "gamma",
    "theta",
    "vega",
    "open_interest",
];

fn csv_error(name: &str, e: &csv::Error) -> Error {
    Error::Data {
        source_name: name.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

/// Writes snapshots in the v1 format.
pub struct ChainWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> ChainWriter<W> {
    /// Writes the version line and the header.
    pub fn new(mut out: W) -> Result<Self> {
        writeln!(out, "{VERSION_LINE}").map_err(|e| io_error("chain file", &e))?;
        let mut out = csv::Writer::from_writer(out);
        out.write_record(COLUMNS)
            .map_err(|e| csv_error("chain file", &e))?;
        Ok(Self { out })
    }

    /// A writer that appends to an existing v1 file (no version line, no header).
    pub fn appending(out: W) -> Self {
        Self {
            out: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
        }
    }

    /// Writes what is buffered through to the inner writer (so a reader sees whole rows).
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| io_error("chain file", &e))
    }

    /// Appends one snapshot (its entries in their order).
    pub fn write(&mut self, s: &ChainSnapshot) -> Result<()> {
        let time = s
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let underlying = s.underlying.to_string();
        let spot = s.spot.to_string();
        let opt_dec = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        let opt_f = |f: Option<f64>| f.map(|f| f.to_string()).unwrap_or_default();
        for e in &s.entries {
            let q = &e.quote;
            let c = &e.contract;
            let g = q.greeks;
            let row = [
                time.clone(),
                underlying.clone(),
                spot.clone(),
                c.symbol.to_string(),
                c.expiry
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                c.contract_size.to_string(),
                c.tick_size.to_string(),
                opt_dec(q.bid),
                q.bid_size.to_string(),
                opt_dec(q.ask),
                q.ask_size.to_string(),
                q.mark.to_string(),
                opt_f(q.mark_iv),
                opt_f(q.bid_iv),
                opt_f(q.ask_iv),
                opt_f(g.map(|g| g.delta)),
                opt_f(g.map(|g| g.gamma)),
                opt_f(g.map(|g| g.theta)),
                opt_f(g.map(|g| g.vega)),
                opt_dec(q.open_interest),
            ];
            self.out
                .write_record(&row)
                .map_err(|e| csv_error("chain file", &e))?;
        }
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> Result<W> {
        self.out
            .into_inner()
            .map_err(|e| io_error("chain file", e.error()))
    }
}

fn io_error(name: &str, e: &std::io::Error) -> Error {
    Error::Data {
        source_name: name.to_string(),
        line: 0,
        message: e.to_string(),
    }
}

/// One parsed row.
struct Row {
    time: DateTime<Utc>,
    underlying: Underlying,
    spot: Decimal,
    entry: ChainEntry,
}

/// Reads v1 snapshots one at a time.
pub struct ChainReader<R: BufRead> {
    name: String,
    rows: csv::Reader<R>,
    record: csv::StringRecord,
    pending: Option<Row>,
    last_time: Option<DateTime<Utc>>,
    // Parsed once per distinct text: every row of a snapshot repeats its time, and every
    // snapshot repeats the contracts.
    time_cache: (String, DateTime<Utc>),
    contracts: HashMap<(String, String, String, String), OptionContract>,
    done: bool,
}

impl<R: BufRead> ChainReader<R> {
    /// Checks the version line and the header. `name` labels errors (e.g. the file path).
    pub fn new(mut input: R, name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let mut first = String::new();
        input
            .read_line(&mut first)
            .map_err(|e| io_error(&name, &e))?;
        let first = first.trim_end();
        if first != VERSION_LINE {
            let message = if first.starts_with("#strangle-chain") {
                format!("unsupported version {first:?}: this strangle reads {VERSION_LINE:?}")
            } else {
                format!("not a strangle chain file: the first line must be {VERSION_LINE:?}")
            };
            return Err(Error::Data {
                source_name: name,
                line: 1,
                message,
            });
        }
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(input);
        let header = rows.headers().map_err(|e| csv_error(&name, &e))?;
        if header.iter().ne(COLUMNS.iter().copied()) {
            return Err(Error::Data {
                source_name: name,
                line: 2,
                message: format!("the header must be {}", COLUMNS.join(",")),
            });
        }
        Ok(Self {
            name,
            rows,
            record: csv::StringRecord::new(),
            pending: None,
            last_time: None,
            time_cache: (String::new(), DateTime::<Utc>::MIN_UTC),
            contracts: HashMap::new(),
            done: false,
        })
    }

    fn err(&self, message: String) -> Error {
        Error::Data {
            source_name: self.name.clone(),
            // The csv reader counts the version line out; add it back.
            line: self.record.position().map_or(0, |p| p.line() + 1),
            message,
        }
    }

    fn read_row(&mut self) -> Result<Option<Row>> {
        let more = self
            .rows
            .read_record(&mut self.record)
            .map_err(|e| csv_error(&self.name, &e))?;
        if !more {
            return Ok(None);
        }
        if self.record.len() != COLUMNS.len() {
            return Err(self.err(format!(
                "expected {} fields, found {}",
                COLUMNS.len(),
                self.record.len()
            )));
        }
        let f = |i: usize| self.record.get(i).unwrap_or("");
        let time = if f(0) == self.time_cache.0 {
            self.time_cache.1
        } else {
            let t = parse_time(f(0)).map_err(|m| self.err(format!("time: {m}")))?;
            self.time_cache = (f(0).to_string(), t);
            t
        };
        let underlying: Underlying = f(1)
            .parse()
            .map_err(|_| self.err(format!("underlying: {:?} is not BTC or ETH", f(1))))?;
        let spot = req_dec(f(2)).map_err(|m| self.err(format!("spot: {m}")))?;
        let key = (
            f(3).to_string(),
            f(4).to_string(),
            f(5).to_string(),
            f(6).to_string(),
        );
        let contract = match self.contracts.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = self.contract(&key)?;
                if c.underlying != underlying {
                    return Err(
                        self.err(format!("symbol {} is not a {underlying} option", c.symbol))
                    );
                }
                self.contracts.insert(key, c.clone());
                c
            }
        };
        let dec = |i: usize, col: &str| opt_dec(f(i)).map_err(|m| self.err(format!("{col}: {m}")));
        let num = |i: usize, col: &str| opt_f64(f(i)).map_err(|m| self.err(format!("{col}: {m}")));
        let bid = dec(7, "bid")?;
        let bid_size = dec(8, "bid_size")?.unwrap_or_default();
        let ask = dec(9, "ask")?;
        let ask_size = dec(10, "ask_size")?.unwrap_or_default();
        let mark = req_dec(f(11)).map_err(|m| self.err(format!("mark: {m}")))?;
        let greeks = match (
            num(15, "delta")?,
            num(16, "gamma")?,
            num(17, "theta")?,
            num(18, "vega")?,
        ) {
            (Some(delta), Some(gamma), Some(theta), Some(vega)) => Some(Greeks {
                delta,
                gamma,
                theta,
                vega,
            }),
            (None, None, None, None) => None,
            _ => {
                return Err(self.err("delta, gamma, theta, vega: give all four or none".to_string()))
            }
        };
        for (v, col) in [(bid, "bid"), (ask, "ask"), (Some(mark), "mark")] {
            if v.is_some_and(|v| v < Decimal::ZERO) {
                return Err(self.err(format!("{col}: must not be negative")));
            }
        }
        let quote = Quote {
            symbol: contract.symbol.clone(),
            timestamp: time,
            mark,
            bid,
            bid_size,
            ask,
            ask_size,
            greeks,
            mark_iv: num(12, "mark_iv")?,
            bid_iv: num(13, "bid_iv")?,
            ask_iv: num(14, "ask_iv")?,
            spot: Some(spot),
            open_interest: dec(19, "open_interest")?,
            price_band: None,
            trading_halt: None,
        };
        Ok(Some(Row {
            time,
            underlying,
            spot,
            entry: ChainEntry { contract, quote },
        }))
    }

    fn contract(&self, key: &(String, String, String, String)) -> Result<OptionContract> {
        let (symbol, expiry, size, tick) = key;
        let s: OptionSymbol = symbol
            .parse()
            .map_err(|e| self.err(format!("symbol: {e}")))?;
        let expiry = parse_time(expiry).map_err(|m| self.err(format!("expiry: {m}")))?;
        if expiry.date_naive() != s.expiry_date {
            return Err(self.err(format!(
                "expiry {expiry} is not on the symbol's date {}",
                s.expiry_date
            )));
        }
        let positive = |v: &str, col: &str| match req_dec(v) {
            Ok(d) if d > Decimal::ZERO => Ok(d),
            Ok(_) => Err(self.err(format!("{col}: must be positive"))),
            Err(m) => Err(self.err(format!("{col}: {m}"))),
        };
        Ok(OptionContract {
            product_id: product_id(symbol),
            symbol: s.symbol(),
            underlying: s.underlying,
            kind: s.kind,
            strike: s.strike,
            expiry,
            contract_size: positive(size, "contract_size")?,
            tick_size: positive(tick, "tick_size")?,
        })
    }

    /// The next snapshot, `None` at the end.
    pub fn next_snapshot(&mut self) -> Result<Option<ChainSnapshot>> {
        if self.done {
            return Ok(None);
        }
        let first = match self.pending.take() {
            Some(r) => r,
            None => match self.read_row()? {
                Some(r) => r,
                None => {
                    self.done = true;
                    return Ok(None);
                }
            },
        };
        if self.last_time.is_some_and(|t| first.time < t) {
            return Err(self.err(format!(
                "time {} goes backwards: rows must be in time order",
                first.time
            )));
        }
        self.last_time = Some(first.time);
        let mut snap = ChainSnapshot {
            underlying: first.underlying,
            timestamp: first.time,
            spot: first.spot,
            entries: vec![first.entry],
        };
        loop {
            match self.read_row()? {
                Some(r) if r.time == snap.timestamp && r.underlying == snap.underlying => {
                    snap.entries.push(r.entry);
                }
                Some(r) => {
                    self.pending = Some(r);
                    break;
                }
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        Ok(Some(snap))
    }

    /// Time of the next snapshot without consuming it.
    pub fn peek_time(&mut self) -> Result<Option<DateTime<Utc>>> {
        if self.pending.is_none() && !self.done {
            match self.read_row()? {
                Some(r) => self.pending = Some(r),
                None => self.done = true,
            }
        }
        Ok(self.pending.as_ref().map(|r| r.time))
    }
}

impl<R: BufRead> Iterator for ChainReader<R> {
    type Item = Result<ChainSnapshot>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_snapshot() {
            Ok(Some(s)) => Some(Ok(s)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A [`MarketFeed`] over a chain file. A read error ends the feed and is kept for
/// [`ChainFileFeed::error_slot`], so a backtest can report it instead of a silently short run.
pub struct ChainFileFeed<R: BufRead> {
    reader: ChainReader<R>,
    error: std::sync::Arc<std::sync::Mutex<Option<Error>>>,
}

impl<R: BufRead> ChainFileFeed<R> {
    /// Wraps a reader.
    pub fn new(reader: ChainReader<R>) -> Self {
        Self {
            reader,
            error: Default::default(),
        }
    }

    /// A handle that shows the error that ended the feed, if any (readable after the feed
    /// has been moved into a venue).
    pub fn error_slot(&self) -> std::sync::Arc<std::sync::Mutex<Option<Error>>> {
        self.error.clone()
    }

    fn fail(&mut self, e: Error) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
        self.reader.done = true;
        self.reader.pending = None;
    }
}

impl<R: BufRead + Send> MarketFeed for ChainFileFeed<R> {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        match self.reader.peek_time() {
            Ok(t) => t,
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        match self.reader.next_snapshot() {
            Ok(s) => s,
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }
}

fn parse_time(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s:?} is not an RFC 3339 time"))
}

fn req_dec(s: &str) -> std::result::Result<Decimal, String> {
    match opt_dec(s)? {
        Some(d) => Ok(d),
        None => Err("required".into()),
    }
}

fn opt_dec(s: &str) -> std::result::Result<Option<Decimal>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .map(Some)
        .map_err(|_| format!("{s:?} is not a number"))
}

fn opt_f64(s: &str) -> std::result::Result<Option<f64>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{s:?} is not a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::synthetic::SyntheticMarket;
    use chrono::TimeZone;

    fn snaps() -> Vec<ChainSnapshot> {
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("time");
        let btc = SyntheticMarket::btc();
        let eth = SyntheticMarket::eth();
        vec![
            btc.chain(t0, Decimal::from(82_000), 0.45),
            eth.chain(t0, Decimal::from(2_150), 0.6),
            btc.chain(
                t0 + chrono::Duration::minutes(5),
                Decimal::from(82_100),
                0.46,
            ),
        ]
    }

    #[test]
    fn snapshots_round_trip_exactly() {
        let mut w = ChainWriter::new(Vec::new()).expect("writer");
        for s in snaps() {
            w.write(&s).expect("write");
        }
        let bytes = w.finish().expect("finish");
        let back: Vec<ChainSnapshot> = ChainReader::new(&bytes[..], "mem")
            .expect("reader")
            .collect::<Result<_>>()
            .expect("read");
        let mut want = snaps();
        for s in &mut want {
            for e in &mut s.entries {
                e.contract.product_id = product_id(&e.contract.symbol);
            }
        }
        assert_eq!(back, want);
    }

    #[test]
    fn bad_input_names_the_line_and_column() {
        let head = format!("{VERSION_LINE}\n{}\n", COLUMNS.join(","));
        let good = "2026-03-10T04:00:00Z,BTC,82000,C-BTC-86000-110326,2026-03-11T12:00:00Z,0.001,0.1,1,5,2,5,1.5,0.4,,,0.1,0.001,-1,2,10";
        let cases = [
            ("#strangle-chain v2\n".to_string(), "unsupported version"),
            ("time,underlying\n".to_string(), "not a strangle chain file"),
            (format!("{VERSION_LINE}\ntime,spot\n"), "the header must be"),
            (
                format!("{head}{}", good.replace(",82000,", ",x,")),
                "line 3: spot",
            ),
            (
                format!("{head}{good}\n{}", good.replace("C-BTC", "C-XRP")),
                "line 4: symbol",
            ),
            (
                format!("{head}{}", good.replace(",0.1,0.001,-1,2,", ",0.1,,-1,2,")),
                "all four or none",
            ),
            (
                format!("{head}{}", good.replace("2026-03-11T12", "2026-03-12T12")),
                "not on the symbol's date",
            ),
            (
                format!("{head}{}", good.replace(",1,5,2,", ",-1,5,2,")),
                "bid: must not be negative",
            ),
            (
                format!("{head}{good}\n{}", good.replacen("04:00", "03:00", 1)),
                "goes backwards",
            ),
        ];
        for (text, want) in cases {
            let res = ChainReader::new(text.as_bytes(), "f.csv")
                .and_then(|r| r.collect::<Result<Vec<_>>>());
            let err = res.expect_err(want).to_string();
            assert!(err.contains(want), "{want:?} not in {err:?}");
            assert!(err.starts_with("f.csv line "), "{err}");
        }
    }
}
