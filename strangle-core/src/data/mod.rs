//! Market data on disk and from elsewhere: the chain file format that backtests replay
//! ([`chain_file`]) and importers ([`deribit`]), and synthetic chains along real spot and
//! volatility series ([`series`]). Those work on `Read`/`Write`; [`source`] opens a file
//! on disk, recognises which of them it holds and replays it as a feed.

pub mod chain_file;
pub mod deribit;
pub mod series;
pub mod source;

pub use chain_file::{ChainFileFeed, ChainReader, ChainWriter};
