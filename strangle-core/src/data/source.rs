//! A market-data file on disk, recognised by its first line, opened as a backtest feed.
//!
//! Three kinds are understood: a chain file (`#strangle-chain v1`, see [`super::chain_file`]),
//! a Deribit snapshot CSV ([`super::deribit`]) and a BTC spot series priced into synthetic
//! chains ([`super::series`]). A `.gz` suffix means gzip. The `strangle backtest` command
//! and the Python package both open their data here, so they read the same files the same way.
//!
//! ```no_run
//! # async fn demo() -> strangle_core::Result<()> {
//! use strangle_core::backtest::Backtest;
//! use strangle_core::data::source::{take_error, DataFile};
//! use strangle_core::profile::Profile;
//!
//! let data = DataFile::open("btc-chains.csv.gz")?;
//! let feed = data.feed()?;
//! let errors = feed.error_slot();
//! let result = Backtest::new(Profile::default()).run(feed).await?;
//! take_error(errors.as_ref())?; // a malformed line ends the feed early; this reports it
//! # let _ = result; Ok(()) }
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::chain_file::{ChainFileFeed, ChainReader};
use super::deribit::{self, DeribitImport};
use super::series::{self, SeriesFeed};
use crate::error::{Error, Result};
use crate::model::ChainSnapshot;
use crate::sim::synthetic::SyntheticMarket;
use crate::sim::{MarketFeed, VecFeed};

/// A readable file, decompressed when its name ends in `.gz`.
pub type Reader = Box<dyn BufRead + Send>;

/// Realised-volatility window (spot points) used when a spot series comes without an IV file.
pub const REALIZED_VOL_WINDOW: usize = 720;

/// What a data file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// A `#strangle-chain v1` chain file.
    Chain,
    /// A Deribit option snapshot CSV (`timestamp,...,instrument_name,...`).
    Deribit,
    /// A spot series (a CSV with a time column and `close`).
    Spot,
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Data {
        source_name: path.display().to_string(),
        line: 1,
        message: message.to_string(),
    }
}

/// Opens `path` for reading, through gzip when it ends in `.gz`. A missing or unreadable
/// file is an [`Error::Data`] naming it.
pub fn open_reader(path: &Path) -> Result<Reader> {
    let f = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(f)))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, f))
    })
}

impl DataKind {
    /// Recognises a file from its first line.
    pub fn detect(path: &Path) -> Result<Self> {
        let mut first = String::new();
        open_reader(path)?
            .read_line(&mut first)
            .map_err(|e| file_error(path, e))?;
        if first.starts_with("#strangle-chain") {
            Ok(Self::Chain)
        } else if first.starts_with("timestamp,") && first.contains("instrument_name") {
            Ok(Self::Deribit)
        } else if first.split(',').any(|c| c.trim() == "close") {
            Ok(Self::Spot)
        } else {
            Err(file_error(
                path,
                "neither a strangle chain file (#strangle-chain v1), a Deribit snapshot CSV \
                 nor a spot series (with a close column)",
            ))
        }
    }
}

/// A data file and how to read it.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// Where it is.
    pub path: PathBuf,
    /// What it holds.
    pub kind: DataKind,
    /// Deribit data: size given to each present bid and ask, in coins.
    pub quoted_size: Decimal,
    /// Spot series: a Deribit DVOL CSV for the implied volatility (default: realised
    /// volatility of the series over [`REALIZED_VOL_WINDOW`] points).
    pub iv: Option<PathBuf>,
    /// First time replayed: earlier snapshots are skipped (every kind of file).
    pub from: Option<DateTime<Utc>>,
    /// Spot series: last time replayed (a backtest stops at its own `until` for every kind).
    pub until: Option<DateTime<Utc>>,
}

impl DataFile {
    /// Recognises the file at `path`; the options take their defaults (one coin quoted per
    /// side, realised volatility, the whole series).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let kind = DataKind::detect(&path)?;
        Ok(Self {
            path,
            kind,
            quoted_size: Decimal::ONE,
            iv: None,
            from: None,
            until: None,
        })
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The file as a feed of snapshots, read as the backtest goes (a chain file streams, a
    /// spot series is priced lazily, Deribit rows are grouped in memory first).
    pub fn feed(&self) -> Result<Feed> {
        Ok(match self.kind {
            DataKind::Chain => {
                let feed =
                    ChainFileFeed::new(ChainReader::new(open_reader(&self.path)?, self.name())?);
                let error = feed.error_slot();
                Feed {
                    inner: Inner::Chain(Box::new(feed)),
                    error: Some(error),
                    from: self.from,
                }
            }
            DataKind::Deribit => Feed {
                inner: Inner::Snapshots(VecFeed::new(self.deribit_snapshots()?)),
                error: None,
                from: self.from,
            },
            DataKind::Spot => Feed {
                inner: Inner::Series(self.series_feed()?),
                error: None,
                from: None,
            },
        })
    }

    /// Every snapshot in memory (for sweeps, which replay the same data many times). A spot
    /// series is refused: use [`DataFile::series_feed`], which prices lazily.
    pub fn load_all(&self) -> Result<Vec<ChainSnapshot>> {
        let after_from = |c: &ChainSnapshot| self.from.is_none_or(|f| c.timestamp >= f);
        match self.kind {
            DataKind::Chain => ChainReader::new(open_reader(&self.path)?, self.name())?
                .filter(|c| c.as_ref().map_or(true, after_from))
                .collect(),
            DataKind::Deribit => Ok(self
                .deribit_snapshots()?
                .into_iter()
                .filter(after_from)
                .collect()),
            DataKind::Spot => Err(file_error(
                &self.path,
                "a spot series is priced lazily, not loaded (use series_feed)",
            )),
        }
    }

    fn deribit_snapshots(&self) -> Result<Vec<ChainSnapshot>> {
        if self.quoted_size <= Decimal::ZERO {
            return Err(file_error(
                &self.path,
                format!("the quoted size must be positive, not {}", self.quoted_size),
            ));
        }
        let rows = deribit::read_rows(open_reader(&self.path)?, &self.name())?;
        Ok(deribit::to_snapshots(
            &rows,
            &DeribitImport {
                quoted_size_coins: self.quoted_size,
            },
        ))
    }

    /// Synthetic BTC chains along the spot series, at the DVOL of [`DataFile::iv`] or the
    /// realised volatility, inside `[from, until]`.
    pub fn series_feed(&self) -> Result<SeriesFeed> {
        if self.kind != DataKind::Spot {
            return Err(file_error(&self.path, "not a spot series"));
        }
        let spot = series::read_spot(open_reader(&self.path)?, &self.name())?;
        let iv = match &self.iv {
            Some(p) => series::read_dvol(open_reader(p)?, &p.display().to_string())?,
            None => series::realized_vol(&spot, REALIZED_VOL_WINDOW),
        };
        let feed = SeriesFeed::new(SyntheticMarket::btc(), spot, iv).window(self.from, self.until);
        if feed.remaining() == 0 {
            return Err(file_error(&self.path, "no spot point in the chosen window"));
        }
        Ok(feed)
    }
}

enum Inner {
    Chain(Box<ChainFileFeed<Reader>>),
    Snapshots(VecFeed),
    Series(SeriesFeed),
}

/// A data file being replayed (see [`DataFile::feed`]).
pub struct Feed {
    inner: Inner,
    error: Option<Arc<Mutex<Option<Error>>>>,
    /// Snapshots before this are skipped (a spot series is windowed when it is priced).
    from: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").finish_non_exhaustive()
    }
}

impl Feed {
    /// A clone of the slot where a malformed line is reported (a chain file stops at the
    /// first one rather than replaying a silently short history).
    pub fn error_slot(&self) -> Option<Arc<Mutex<Option<Error>>>> {
        self.error.clone()
    }

    /// Time of the last snapshot when it is known without reading the file through (a
    /// spot series, Deribit rows); `None` for a chain file.
    pub fn last_time(&self) -> Option<DateTime<Utc>> {
        match &self.inner {
            Inner::Chain(_) => None,
            Inner::Snapshots(f) => f.last_time(),
            Inner::Series(f) => f.last_time(),
        }
    }

    /// The first malformed line met so far, if any.
    pub fn check(&self) -> Result<()> {
        take_error(self.error.as_ref())
    }
}

/// Takes the error out of a feed's error slot.
pub fn take_error(slot: Option<&Arc<Mutex<Option<Error>>>>) -> Result<()> {
    match slot.and_then(|s| s.lock().ok().and_then(|mut e| e.take())) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl Feed {
    fn inner_peek(&mut self) -> Option<DateTime<Utc>> {
        match &mut self.inner {
            Inner::Chain(f) => f.peek_time(),
            Inner::Snapshots(f) => f.peek_time(),
            Inner::Series(f) => f.peek_time(),
        }
    }

    /// Drops the snapshots before `from`, once.
    fn skip_to_from(&mut self) {
        let Some(from) = self.from.take() else { return };
        while self.inner_peek().is_some_and(|t| t < from) {
            let _ = match &mut self.inner {
                Inner::Chain(f) => f.next_snapshot(),
                Inner::Snapshots(f) => f.next_snapshot(),
                Inner::Series(f) => f.next_snapshot(),
            };
        }
    }
}

impl MarketFeed for Feed {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        self.skip_to_from();
        match &mut self.inner {
            Inner::Chain(f) => f.peek_time(),
            Inner::Snapshots(f) => f.peek_time(),
            Inner::Series(f) => f.peek_time(),
        }
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        self.skip_to_from();
        match &mut self.inner {
            Inner::Chain(f) => f.next_snapshot(),
            Inner::Snapshots(f) => f.next_snapshot(),
            Inner::Series(f) => f.next_snapshot(),
        }
    }

    fn advance_to(&mut self, now: DateTime<Utc>) {
        match &mut self.inner {
            Inner::Chain(f) => f.advance_to(now),
            Inner::Snapshots(f) => f.advance_to(now),
            Inner::Series(f) => f.advance_to(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn recognises_each_kind_and_names_an_unknown_file() {
        let dir = std::env::temp_dir().join(format!("strangle-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let chain = write(&dir, "c.csv", "#strangle-chain v1\n");
        let spot = write(&dir, "s.csv", "unix,date,symbol,open,high,low,close\n");
        let deribit = write(&dir, "d.csv", "timestamp,instrument_name,mark_price\n");
        let other = write(&dir, "o.csv", "a,b,c\n");
        assert_eq!(DataKind::detect(&chain).ok(), Some(DataKind::Chain));
        assert_eq!(DataKind::detect(&spot).ok(), Some(DataKind::Spot));
        assert_eq!(DataKind::detect(&deribit).ok(), Some(DataKind::Deribit));
        let e = DataKind::detect(&other).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("o.csv") && e.contains("neither")));
        let missing = DataFile::open(dir.join("missing.csv"))
            .err()
            .map(|e| e.to_string());
        assert!(missing.is_some_and(|e| e.contains("missing.csv")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn from_skips_earlier_snapshots_of_a_chain_file_too() {
        use crate::data::chain_file::ChainWriter;
        use crate::sim::synthetic::SyntheticMarket;
        use chrono::TimeZone;
        let dir = std::env::temp_dir().join(format!("strangle-from-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let day = |d: u32| {
            Utc.with_ymd_and_hms(2026, 1, d, 4, 0, 0)
                .single()
                .expect("time")
        };
        let path = dir.join("c.csv");
        let mut w = ChainWriter::new(std::fs::File::create(&path).expect("file")).expect("w");
        for d in [19, 20, 21] {
            w.write(&SyntheticMarket::btc().chain(day(d), Decimal::from(82_000), 0.45))
                .expect("write");
        }
        w.finish().expect("finish");
        let file = DataFile {
            from: Some(day(20)),
            ..DataFile::open(&path).expect("open")
        };
        let mut feed = file.feed().expect("feed");
        assert_eq!(feed.peek_time(), Some(day(20)), "the 19th is skipped");
        let mut seen = Vec::new();
        while let Some(s) = feed.next_snapshot() {
            seen.push(s.timestamp);
        }
        assert_eq!(seen, vec![day(20), day(21)]);
        let all = file.load_all().expect("load");
        assert_eq!(
            all.first().map(|s| s.timestamp),
            Some(day(20)),
            "sweeps too"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
