//! Market data on disk and from elsewhere: the chain file format that backtests replay
//! ([`chain_file`]) and importers ([`deribit`]), and synthetic chains along real spot and
//! volatility series ([`series`]). Everything works on `Read`/`Write`; opening
//! files is the caller's business.

pub mod chain_file;
pub mod deribit;
pub mod series;

pub use chain_file::{ChainFileFeed, ChainReader, ChainWriter};
