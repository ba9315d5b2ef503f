//! Synthetic chains from real series: a spot path (CSV of closes) and an implied-volatility
//! series (Deribit's DVOL, or realised volatility when there is none), priced with Black-76
//! and a smile by [`SyntheticMarket`]. The chains are priced lazily, one per spot point, so
//! a year of hourly data replays without holding 8,000 chains in memory.
//!
//! Spot files are read by their header: `unix` (epoch seconds), `timestamp` (epoch ms) or
//! `open_time`/`date` (a date-time) for the time, and `close` for the price. DVOL files need
//! `timestamp` (epoch ms) and `dvol_close` (vol points: 45.0 = 45 %); gaps are carried
//! forward.

use std::io::Read;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::model::ChainSnapshot;
use crate::sim::synthetic::SyntheticMarket;
use crate::sim::MarketFeed;

/// A time series of `(time, value)` in time order.
pub type Series<T> = Vec<(DateTime<Utc>, T)>;

fn data_err(name: &str, line: u64, message: String) -> Error {
    Error::Data {
        source_name: name.to_string(),
        line,
        message,
    }
}

fn parse_time(col: &str, s: &str) -> Option<DateTime<Utc>> {
    match col {
        "unix" => s
            .parse::<i64>()
            .ok()
            .and_then(|v| Utc.timestamp_opt(v, 0).single()),
        "timestamp" => s
            .parse::<i64>()
            .ok()
            .and_then(|v| Utc.timestamp_millis_opt(v).single()),
        _ => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%:z")
                    .ok()
                    .map(|t| t.with_timezone(&Utc))
            })
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                    .ok()
                    .map(|t| t.and_utc())
            }),
    }
}

fn read_series<R: Read, T>(
    input: R,
    name: &str,
    time_cols: &[&str],
    value_col: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Series<T>> {
    let mut rdr = csv::Reader::from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| data_err(name, 1, e.to_string()))?
        .clone();
    let (ti, tcol) = time_cols
        .iter()
        .find_map(|c| headers.iter().position(|h| h == *c).map(|i| (i, *c)))
        .ok_or_else(|| {
            data_err(
                name,
                1,
                format!("no time column (one of {})", time_cols.join(", ")),
            )
        })?;
    let vi = headers
        .iter()
        .position(|h| h == value_col)
        .ok_or_else(|| Error::MissingColumn {
            source_name: name.to_string(),
            column: value_col.to_string(),
        })?;
    let mut out: Series<T> = Vec::new();
    for rec in rdr.records() {
        let rec =
            rec.map_err(|e| data_err(name, e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let t_raw = rec.get(ti).unwrap_or("");
        let t = parse_time(tcol, t_raw)
            .ok_or_else(|| data_err(name, line, format!("{tcol}: {t_raw:?} is not a time")))?;
        let v_raw = rec.get(vi).unwrap_or("");
        let v = parse(v_raw).ok_or_else(|| {
            data_err(
                name,
                line,
                format!("{value_col}: {v_raw:?} is not a valid value"),
            )
        })?;
        if out.last().is_some_and(|(p, _)| *p >= t) {
            return Err(data_err(
                name,
                line,
                format!(
                    "{tcol}: times must increase ({t} follows {})",
                    out[out.len() - 1].0
                ),
            ));
        }
        out.push((t, v));
    }
    Ok(out)
}

/// Reads a spot series (closes).
pub fn read_spot<R: Read>(input: R, name: &str) -> Result<Series<Decimal>> {
    read_series(
        input,
        name,
        &["unix", "timestamp", "open_time", "date"],
        "close",
        |s| Decimal::from_str(s).ok().filter(|d| *d > Decimal::ZERO),
    )
}

/// Reads Deribit's DVOL series as decimal volatility (45.0 vol points → 0.45).
pub fn read_dvol<R: Read>(input: R, name: &str) -> Result<Series<f64>> {
    read_series(input, name, &["timestamp"], "dvol_close", |s| {
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(|v| v / 100.0)
    })
}

/// Annualised realised volatility of the log returns over the `window` points before each
/// point (hourly points: 720 = 30 days), clamped to 10 %–300 %; the first points use what
/// history there is (at least two returns, else 60 %).
pub fn realized_vol(spot: &Series<Decimal>, window: usize) -> Series<f64> {
    use rust_decimal::prelude::ToPrimitive;
    let px: Vec<f64> = spot
        .iter()
        .map(|(_, p)| p.to_f64().unwrap_or(0.0))
        .collect();
    let rets: Vec<f64> = px
        .windows(2)
        .map(|w| if w[0] > 0.0 { (w[1] / w[0]).ln() } else { 0.0 })
        .collect();
    let per_year = match spot.len() {
        0 | 1 => 24.0 * 365.0,
        n => {
            let span = (spot[n - 1].0 - spot[0].0).num_seconds() as f64;
            (n - 1) as f64 * 365.0 * 86_400.0 / span.max(1.0)
        }
    };
    spot.iter()
        .enumerate()
        .map(|(i, (t, _))| {
            let from = i.saturating_sub(window);
            let r = &rets[from..i.min(rets.len())];
            let vol = if r.len() < 2 {
                0.6
            } else {
                let m = r.iter().sum::<f64>() / r.len() as f64;
                let var = r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r.len() - 1) as f64;
                (var * per_year).sqrt()
            };
            (*t, vol.clamp(0.1, 3.0))
        })
        .collect()
}

/// The latest value at or before `t` (the first value before the series starts).
pub fn value_at(series: &Series<f64>, t: DateTime<Utc>) -> Option<f64> {
    let i = series.partition_point(|(s, _)| *s <= t);
    series.get(i.saturating_sub(1)).map(|(_, v)| *v)
}

/// Chains priced lazily along a spot series with an IV series.
#[derive(Debug, Clone)]
pub struct SeriesFeed {
    market: SyntheticMarket,
    spot: Series<Decimal>,
    iv: Series<f64>,
    next: usize,
}

impl SeriesFeed {
    /// One chain per spot point, at the IV in force at that time.
    pub fn new(market: SyntheticMarket, spot: Series<Decimal>, iv: Series<f64>) -> Self {
        Self {
            market,
            spot,
            iv,
            next: 0,
        }
    }

    /// Keeps only the points in `[from, to]`.
    pub fn window(mut self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        self.spot
            .retain(|(t, _)| from.is_none_or(|f| *t >= f) && to.is_none_or(|e| *t <= e));
        self
    }

    /// Time of the last chain.
    pub fn last_time(&self) -> Option<DateTime<Utc>> {
        self.spot.last().map(|(t, _)| *t)
    }

    /// Chains left to price.
    pub fn remaining(&self) -> usize {
        self.spot.len() - self.next
    }
}

impl Iterator for SeriesFeed {
    type Item = ChainSnapshot;

    fn next(&mut self) -> Option<ChainSnapshot> {
        let (t, s) = *self.spot.get(self.next)?;
        self.next += 1;
        let iv = value_at(&self.iv, t).unwrap_or(0.6);
        Some(self.market.chain(t, s, iv))
    }
}

impl MarketFeed for SeriesFeed {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        self.spot.get(self.next).map(|(t, _)| *t)
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPOT: &str = "unix,date,symbol,open,high,low,close\n1616544000,2021-03-24 00:00:00,BTC/USD,1,1,1,54000\n1616547600,2021-03-24 01:00:00,BTC/USD,1,1,1,54500\n1616551200,2021-03-24 02:00:00,BTC/USD,1,1,1,54200\n";

    #[test]
    fn spot_and_dvol_read_by_their_headers() {
        let s = read_spot(SPOT.as_bytes(), "s.csv").expect("spot");
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].1, Decimal::from(54_500));
        assert_eq!(s[0].0.to_rfc3339(), "2021-03-24T00:00:00+00:00");
        let m =
            "open_time,open,high,low,close,volume\n2023-03-01 00:00:00+00:00,1,1,1,23143.72,3\n";
        assert_eq!(read_spot(m.as_bytes(), "m.csv").expect("minutes").len(), 1);
        let d = "timestamp,datetime_utc,dvol_close\n1616544000000,x,84.88\n";
        let d = read_dvol(d.as_bytes(), "d.csv").expect("dvol");
        assert!((d[0].1 - 0.8488).abs() < 1e-12);
    }

    #[test]
    fn bad_series_name_the_line() {
        let bad = SPOT.replace("54500", "-1");
        let e = read_spot(bad.as_bytes(), "s.csv").expect_err("negative");
        assert!(e.to_string().contains("s.csv line 3: close"), "{e}");
        let back = SPOT.replace("1616551200", "1616540000");
        let e = read_spot(back.as_bytes(), "s.csv").expect_err("order");
        assert!(e.to_string().contains("times must increase"), "{e}");
    }

    #[test]
    fn the_feed_prices_one_chain_per_point() {
        let s = read_spot(SPOT.as_bytes(), "s.csv").expect("spot");
        let iv = realized_vol(&s, 720);
        let mut f = SeriesFeed::new(SyntheticMarket::btc(), s, iv);
        assert_eq!(f.peek_time().map(|t| t.timestamp()), Some(1_616_544_000));
        let first = f.next_snapshot().expect("chain");
        assert_eq!(first.spot, Decimal::from(54_000));
        assert_eq!(
            f.next_snapshot().map(|c| c.spot),
            Some(Decimal::from(54_500))
        );
        assert_eq!(
            f.next_snapshot().map(|c| c.spot),
            Some(Decimal::from(54_200))
        );
        assert!(f.next_snapshot().is_none());
    }
}
