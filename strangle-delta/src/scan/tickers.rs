//! `GET /v2/tickers` answers straight into quotes: the same quotes, in the same order, as
//! decoding every [`crate::wire::Ticker`] and converting it with
//! [`crate::convert::quote_of`], several times faster (see `benches/BENCHMARKS.md`).

use strangle_core::model::Quote;

use super::cursor::{pack, Cursor, Name, Shape};
use super::number::{decimal_opt, int_opt, number_fits_a_decimal, u64_opt};
use super::{Fallback, Scan};
use crate::convert::TickerParts;

/// The keys read here, packed for one-comparison matching.
const BEST_BID: u128 = pack(b"best_bid");
const BEST_ASK: u128 = pack(b"best_ask");
const BID_SIZE: u128 = pack(b"bid_size");
const ASK_SIZE: u128 = pack(b"ask_size");
const BID_IV: u128 = pack(b"bid_iv");
const ASK_IV: u128 = pack(b"ask_iv");
const MARK_IV: u128 = pack(b"mark_iv");
const DELTA: u128 = pack(b"delta");
const GAMMA: u128 = pack(b"gamma");
const THETA: u128 = pack(b"theta");
const VEGA: u128 = pack(b"vega");
const RHO: u128 = pack(b"rho");
const LOWER_LIMIT: u128 = pack(b"lower_limit");
const UPPER_LIMIT: u128 = pack(b"upper_limit");
const AFTER: u128 = pack(b"after");
const BEFORE: u128 = pack(b"before");
const SUCCESS: u128 = pack(b"success");
const RESULT: u128 = pack(b"result");
const META: u128 = pack(b"meta");
const ERROR: u128 = pack(b"error");
const MESSAGE: u128 = pack(b"message");
const SYMBOL: u128 = pack(b"symbol");
const TIMESTAMP: u128 = pack(b"timestamp");
const MARK_PRICE: u128 = pack(b"mark_price");
const MARK_VOL: u128 = pack(b"mark_vol");
const SPOT_PRICE: u128 = pack(b"spot_price");
const OI_CONTRACTS: u128 = pack(b"oi_contracts");
const QUOTES: u128 = pack(b"quotes");
const GREEKS: u128 = pack(b"greeks");
const PRODUCT_ID: u128 = pack(b"product_id");
const CONTRACT_TYPE: u128 = pack(b"contract_type");
const PRICE_BAND: u128 = pack(b"price_band");
const STRIKE_PRICE: u128 = pack(b"strike_price");
const OI: u128 = pack(b"oi");
const CONTRACT_VALUE: u128 = pack(b"contract_value");
const TICK_SIZE: u128 = pack(b"tick_size");
const SIZE: u128 = pack(b"size");
const TURNOVER_USD: u128 = pack(b"turnover_usd");

/// The key orders of the objects in a ticker list, learned from one ticker for the next.
#[derive(Default)]
struct Shapes<'a> {
    ticker: Shape<'a>,
    quotes: Shape<'a>,
    greeks: Shape<'a>,
    price_band: Shape<'a>,
}

/// A key seen twice in one object: serde refuses a duplicate field, so the fast path leaves
/// it to serde.
struct Seen(u32);

impl Seen {
    #[inline]
    fn first(&mut self, bit: u32) -> Scan<()> {
        if self.0 & (1 << bit) != 0 {
            return Err(Fallback);
        }
        self.0 |= 1 << bit;
        Ok(())
    }
}

/// The fields of one ticker a quote is made of; the symbol stays bytes until the ticker is
/// read whole (text that is not UTF-8 is the typed decoder's error to name).
#[derive(Default)]
struct Fields<'a> {
    symbol: Option<&'a [u8]>,
    parts: TickerParts<'a>,
}

/// A string field that the wire type reads as `String` (or `Option<String>` when
/// `nullable`): its text is not needed, only its type is checked.
#[inline]
fn string_field(c: &mut Cursor<'_>, nullable: bool) -> Scan<()> {
    if nullable && c.null()? {
        return Ok(());
    }
    let s = c.plain_string()?;
    if s.is_ascii() || std::str::from_utf8(s).is_ok() {
        Ok(())
    } else {
        Err(Fallback)
    }
}

/// A decimal the wire type reads but the quote does not use: checked, then dropped.
#[inline]
fn checked_decimal(c: &mut Cursor<'_>) -> Scan<()> {
    if matches!(c.peek()?, b'-' | b'0'..=b'9') {
        number_fits_a_decimal(c.number()?)
    } else {
        decimal_opt(c).map(|_| ())
    }
}

/// `quotes`: an object of decimals, or null.
fn quotes<'a>(c: &mut Cursor<'a>, shape: &mut Shape<'a>, f: &mut Fields<'a>) -> Scan<()> {
    if c.null()? {
        return Ok(());
    }
    let mut seen = Seen(0);
    c.object_shaped(shape, |c, key| {
        let (bit, slot) = match key.word {
            BEST_BID => (0, &mut f.parts.best_bid),
            BEST_ASK => (1, &mut f.parts.best_ask),
            BID_SIZE => (2, &mut f.parts.bid_size),
            ASK_SIZE => (3, &mut f.parts.ask_size),
            BID_IV => (4, &mut f.parts.bid_iv),
            ASK_IV => (5, &mut f.parts.ask_iv),
            MARK_IV => (6, &mut f.parts.mark_iv),
            _ => return c.skip_value(),
        };
        seen.first(bit)?;
        *slot = decimal_opt(c)?;
        Ok(())
    })
}

/// `greeks`: an object of decimals, or null.
fn greeks<'a>(c: &mut Cursor<'a>, shape: &mut Shape<'a>, f: &mut Fields<'a>) -> Scan<()> {
    if c.null()? {
        return Ok(());
    }
    let mut g = [None; 4];
    let mut seen = Seen(0);
    c.object_shaped(shape, |c, key| {
        let bit = match key.word {
            DELTA => 0,
            GAMMA => 1,
            THETA => 2,
            VEGA => 3,
            RHO => {
                seen.first(4)?;
                return checked_decimal(c);
            }
            _ => return c.skip_value(),
        };
        seen.first(bit)?;
        g[bit as usize] = decimal_opt(c)?;
        Ok(())
    })?;
    f.parts.greeks = Some(g);
    Ok(())
}

/// `price_band`: two decimals, or null.
fn price_band<'a>(c: &mut Cursor<'a>, shape: &mut Shape<'a>, f: &mut Fields<'a>) -> Scan<()> {
    if c.null()? {
        return Ok(());
    }
    let mut seen = Seen(0);
    c.object_shaped(shape, |c, key| {
        let bit = match key.word {
            LOWER_LIMIT => 0,
            UPPER_LIMIT => 1,
            _ => return c.skip_value(),
        };
        seen.first(bit)?;
        f.parts.band[bit as usize] = decimal_opt(c)?;
        Ok(())
    })
}

/// A ticker's keys that the wire type reads, by length first so that the keys it ignores
/// (`close`, `volume`, ...) cost a comparison or two.
#[derive(Clone, Copy)]
enum Key {
    Symbol,
    Timestamp,
    MarkPrice,
    MarkVol,
    SpotPrice,
    OiContracts,
    Quotes,
    Greeks,
    ProductId,
    ContractType,
    UnderlyingAssetSymbol,
    ProductTradingStatus,
    PriceBand,
    StrikePrice,
    Oi,
    ContractValue,
    TickSize,
    Size,
    TurnoverUsd,
}

#[inline]
fn ticker_key(key: Name<'_>) -> Option<Key> {
    use Key::*;
    Some(match key.word {
        SYMBOL => Symbol,
        TIMESTAMP => Timestamp,
        MARK_PRICE => MarkPrice,
        MARK_VOL => MarkVol,
        SPOT_PRICE => SpotPrice,
        OI_CONTRACTS => OiContracts,
        QUOTES => Quotes,
        GREEKS => Greeks,
        PRODUCT_ID => ProductId,
        CONTRACT_TYPE => ContractType,
        PRICE_BAND => PriceBand,
        STRIKE_PRICE => StrikePrice,
        OI => Oi,
        CONTRACT_VALUE => ContractValue,
        TICK_SIZE => TickSize,
        SIZE => Size,
        TURNOVER_USD => TurnoverUsd,
        _ if key.text == b"underlying_asset_symbol" => UnderlyingAssetSymbol,
        _ if key.text == b"product_trading_status" => ProductTradingStatus,
        _ => return None,
    })
}

/// One ticker object into its fields, checking every field the wire type reads.
fn ticker<'a>(c: &mut Cursor<'a>, shapes: &mut Shapes<'a>) -> Scan<Fields<'a>> {
    let mut f = Fields::default();
    let mut seen = Seen(0);
    let Shapes {
        ticker,
        quotes: quotes_shape,
        greeks: greeks_shape,
        price_band: band_shape,
    } = shapes;
    c.object_shaped(ticker, |c, key| {
        let Some(k) = ticker_key(key) else {
            return c.skip_value();
        };
        seen.first(k as u32)?;
        match k {
            Key::Symbol => f.symbol = Some(c.plain_string()?),
            Key::Timestamp => f.parts.timestamp = int_opt(c)?,
            Key::MarkPrice => f.parts.mark = decimal_opt(c)?,
            Key::MarkVol => f.parts.mark_vol = decimal_opt(c)?,
            Key::SpotPrice => f.parts.spot = decimal_opt(c)?,
            Key::OiContracts => f.parts.open_interest = decimal_opt(c)?,
            Key::Quotes => quotes(c, quotes_shape, &mut f)?,
            Key::Greeks => greeks(c, greeks_shape, &mut f)?,
            Key::ProductId => {
                u64_opt(c)?;
            }
            Key::ContractType => string_field(c, false)?,
            Key::UnderlyingAssetSymbol => string_field(c, true)?,
            Key::ProductTradingStatus => {
                if !c.null()? {
                    let text = std::str::from_utf8(c.plain_string()?).map_err(|_| Fallback)?;
                    f.parts.trading_status = Some(text);
                }
            }
            Key::PriceBand => price_band(c, band_shape, &mut f)?,
            Key::StrikePrice
            | Key::Oi
            | Key::ContractValue
            | Key::TickSize
            | Key::Size
            | Key::TurnoverUsd => checked_decimal(c)?,
        }
        Ok(())
    })?;
    // The wire type requires a symbol.
    if f.symbol.is_none() {
        return Err(Fallback);
    }
    Ok(f)
}

/// The quote of one ticker's fields (see [`TickerParts::quote`]). A symbol that is not
/// UTF-8 is the typed decoder's error to report.
fn quote(f: Fields<'_>) -> Scan<Option<Quote>> {
    let symbol = std::str::from_utf8(f.symbol.unwrap_or_default()).map_err(|_| Fallback)?;
    Ok(TickerParts { symbol, ..f.parts }.quote())
}

/// A list of tickers into quotes (tickers that make no quote are left out).
fn ticker_list(c: &mut Cursor<'_>, out: &mut Vec<Quote>) -> Scan<()> {
    let mut shapes = Shapes::default();
    c.array(|c| {
        if let Some(q) = quote(ticker(c, &mut shapes)?)? {
            out.push(q);
        }
        Ok(())
    })
}

/// `meta`: null, or an object whose cursors are strings or null.
fn meta(c: &mut Cursor<'_>) -> Scan<()> {
    if c.null()? {
        return Ok(());
    }
    let mut seen = Seen(0);
    c.object(|c, key| match key.word {
        AFTER => {
            seen.first(0)?;
            string_field(c, true)
        }
        BEFORE => {
            seen.first(1)?;
            string_field(c, true)
        }
        _ => c.skip_value(),
    })
}

/// The quotes of a successful REST answer, `{"success": true, "result": [...], ...}`.
/// [`Fallback`] for anything else, including `success: false` and a missing `result`: the
/// typed decoder then names the error.
pub fn quotes_from_envelope(bytes: &[u8]) -> Result<Vec<Quote>, Fallback> {
    let mut c = Cursor::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 700);
    let (mut success, mut result) = (false, false);
    let mut seen = Seen(0);
    c.object(|c, key| {
        match key.word {
            SUCCESS => {
                seen.first(0)?;
                success = c.boolean()?;
            }
            RESULT => {
                seen.first(1)?;
                ticker_list(c, &mut out)?;
                result = true;
            }
            META => {
                seen.first(2)?;
                meta(c)?;
            }
            // An error on a success is the typed decoder's to read.
            ERROR | MESSAGE => {
                if !c.null()? {
                    return Err(Fallback);
                }
            }
            _ => c.skip_value()?,
        }
        Ok(())
    })?;
    if success && result && c.at_end() {
        Ok(out)
    } else {
        Err(Fallback)
    }
}

/// The quotes of a recorded `/v2/tickers` payload: the whole envelope or its `result` list,
/// as [`crate::chain::parse_tickers`] reads it.
pub fn quotes_from_payload(bytes: &[u8]) -> Result<Vec<Quote>, Fallback> {
    let mut c = Cursor::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 700);
    if c.peek()? == b'[' {
        ticker_list(&mut c, &mut out)?;
    } else {
        let mut seen = Seen(0);
        let mut result = false;
        c.object(|c, key| {
            if key.word == RESULT {
                seen.first(0)?;
                ticker_list(c, &mut out)?;
                result = true;
                Ok(())
            } else {
                c.skip_value()
            }
        })?;
        if !result {
            return Err(Fallback);
        }
    }
    if c.at_end() {
        Ok(out)
    } else {
        Err(Fallback)
    }
}
