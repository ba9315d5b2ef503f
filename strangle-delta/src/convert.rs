//! Delta's wire types into the core's model: products into contracts, tickers (REST and
//! WebSocket) into quotes, fills into fills, wallet rows into wallet entries. Pure
//! functions, used by the live adapter and by the chain builder alike.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use strangle_core::model::{
    Fill as CoreFill, Greeks, OptionContract, OptionKind, PriceBand, Quote, Side as CoreSide,
    WalletEntry, WalletKind,
};

use strangle_core::ids::{ClientOrderId, ProductId, Symbol};

use crate::lenient::micros_to_time;
use crate::wire::{Fill, Product, Side, Ticker, WalletTransaction};

/// Converts a Delta product to a contract; `None` for non-options, incomplete products and
/// symbols outside [`Symbol`]'s character set.
pub fn contract_of(p: &Product) -> Option<OptionContract> {
    let kind = match p.contract_type.as_str() {
        "call_options" => OptionKind::Call,
        "put_options" => OptionKind::Put,
        _ => return None,
    };
    let underlying = p.underlying_asset.as_ref()?.symbol.parse().ok()?;
    Some(OptionContract {
        product_id: ProductId(p.id),
        symbol: Symbol::new(p.symbol.as_str()).ok()?,
        underlying,
        kind,
        strike: p.strike_price?,
        expiry: p.settlement_time?,
        contract_size: p.contract_value?,
        tick_size: p.tick_size?,
    })
}

/// Powers of ten a binary float holds exactly.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The binary float nearest to a decimal (correctly rounded, as parsing its text would give),
/// for greeks and IVs. The common case (a mantissa under 2^53, at most 22 decimals) is one
/// exact division; the rest goes through the decimal's text.
pub fn decimal_f64(d: Decimal) -> f64 {
    let m = d.mantissa().unsigned_abs();
    let scale = d.scale() as usize;
    let magnitude = if m < (1u128 << 53) && scale < EXACT_POW10.len() {
        (m as u64) as f64 / EXACT_POW10[scale]
    } else {
        d.abs().to_string().parse().unwrap_or(f64::NAN)
    };
    if d.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    }
}

/// What a quote is made of, however the ticker was read: a REST [`Ticker`], a WebSocket
/// ticker frame, or the fast path's scan ([`crate::scan`]). One place decides what makes a
/// quote, so the three agree.
#[derive(Debug, Default)]
pub(crate) struct TickerParts<'a> {
    pub(crate) symbol: &'a str,
    /// µs since the epoch.
    pub(crate) timestamp: Option<i64>,
    pub(crate) mark: Option<Decimal>,
    /// The ticker's mark volatility, the IV when the quotes carry no `mark_iv`.
    pub(crate) mark_vol: Option<Decimal>,
    pub(crate) spot: Option<Decimal>,
    pub(crate) open_interest: Option<Decimal>,
    pub(crate) best_bid: Option<Decimal>,
    pub(crate) best_ask: Option<Decimal>,
    pub(crate) bid_size: Option<Decimal>,
    pub(crate) ask_size: Option<Decimal>,
    pub(crate) bid_iv: Option<Decimal>,
    pub(crate) ask_iv: Option<Decimal>,
    pub(crate) mark_iv: Option<Decimal>,
    /// Delta, gamma, theta, vega, when the ticker carries greeks.
    pub(crate) greeks: Option<[Option<Decimal>; 4]>,
    /// The price band's lower and upper limits.
    pub(crate) band: [Option<Decimal>; 2],
    /// The product's trading status, when the ticker carries it.
    pub(crate) trading_status: Option<&'a str>,
}

impl TickerParts<'_> {
    /// The quote: zero or missing bids/asks are "no quote"; `None` without a time or a mark,
    /// or with a symbol that is not a [`Symbol`]; greeks only with a delta.
    pub(crate) fn quote(self) -> Option<Quote> {
        let timestamp: DateTime<Utc> = micros_to_time::<serde_json::Error>(self.timestamp?).ok()?;
        let mark = self.mark?;
        let symbol = Symbol::new(self.symbol).ok()?;
        let positive = |d: Option<Decimal>| d.filter(|x| *x > Decimal::ZERO);
        let f = |d: Option<Decimal>| d.map(decimal_f64);
        let (bid, ask) = (positive(self.best_bid), positive(self.best_ask));
        Some(Quote {
            symbol,
            timestamp,
            mark,
            bid,
            bid_size: bid.and(self.bid_size).unwrap_or_default(),
            ask,
            ask_size: ask.and(self.ask_size).unwrap_or_default(),
            greeks: self.greeks.and_then(|[delta, gamma, theta, vega]| {
                Some(Greeks {
                    delta: f(delta)?,
                    gamma: f(gamma).unwrap_or(0.0),
                    theta: f(theta).unwrap_or(0.0),
                    vega: f(vega).unwrap_or(0.0),
                })
            }),
            mark_iv: f(self.mark_iv).or(f(self.mark_vol)),
            bid_iv: f(self.bid_iv),
            ask_iv: f(self.ask_iv),
            spot: self.spot,
            open_interest: self.open_interest,
            price_band: match self.band {
                [Some(lower), Some(upper)] if lower <= upper => Some(PriceBand { lower, upper }),
                _ => None,
            },
            trading_halt: self
                .trading_status
                .filter(|s| !s.is_empty() && *s != "operational")
                .map(str::to_string),
        })
    }
}

/// Converts a Delta ticker to a quote. Zero or missing bids/asks are "no quote"; `None` when
/// the ticker lacks a time or mark, or its symbol is not a [`Symbol`]; greeks only with a delta.
pub fn quote_of(t: &Ticker) -> Option<Quote> {
    let q = t.quotes.as_ref();
    TickerParts {
        symbol: &t.symbol,
        timestamp: t.timestamp,
        mark: t.mark_price,
        mark_vol: t.mark_vol,
        spot: t.spot_price,
        open_interest: t.oi_contracts,
        best_bid: q.and_then(|q| q.best_bid),
        best_ask: q.and_then(|q| q.best_ask),
        bid_size: q.and_then(|q| q.bid_size),
        ask_size: q.and_then(|q| q.ask_size),
        bid_iv: q.and_then(|q| q.bid_iv),
        ask_iv: q.and_then(|q| q.ask_iv),
        mark_iv: q.and_then(|q| q.mark_iv),
        greeks: t
            .greeks
            .as_ref()
            .map(|g| [g.delta, g.gamma, g.theta, g.vega]),
        band: t
            .price_band
            .as_ref()
            .map_or([None, None], |b| [b.lower_limit, b.upper_limit]),
        trading_status: t.product_trading_status.as_deref(),
    }
    .quote()
}

/// Converts a compact WebSocket `ticker` frame to a quote.
pub fn quote_of_ws(t: &crate::wire::ws::TickerFrame) -> Option<Quote> {
    let d = t.d.first()?;
    TickerParts {
        symbol: &d.s,
        timestamp: t.ts,
        mark: d.m,
        mark_vol: None,
        spot: t.sp,
        open_interest: d.oi_contracts(),
        best_bid: d.best_bid(),
        best_ask: d.best_ask(),
        bid_size: d.bid_size(),
        ask_size: d.ask_size(),
        bid_iv: d.bid_iv(),
        ask_iv: d.ask_iv(),
        mark_iv: d.mark_iv(),
        greeks: Some([d.delta(), d.gamma(), d.theta(), d.vega()]),
        band: [d.band_lower(), d.band_upper()],
        trading_status: None,
    }
    .quote()
}

pub(crate) fn core_side(s: Side) -> CoreSide {
    match s {
        Side::Buy => CoreSide::Buy,
        Side::Sell => CoreSide::Sell,
    }
}

/// A fill of the order `client_order_id` (`None`: a fill of no order, e.g. settlement).
pub(crate) fn core_fill(f: &Fill, client_order_id: Option<&ClientOrderId>) -> Option<CoreFill> {
    Some(CoreFill {
        fill_id: f.id.clone()?,
        client_order_id: client_order_id.cloned(),
        symbol: Symbol::new(f.product_symbol.clone()?).ok()?,
        side: core_side(f.side?),
        size: f.size?,
        price: f.price?,
        fee: f.commission.unwrap_or_default(),
        timestamp: f.created_at?,
    })
}

/// What a wallet row of Delta's type `t` moved. Types from Delta's docs, ccxt's ledger
/// mapping and third-party clients; any other is `Unknown` (a check reports it rather than
/// guess).
pub(crate) fn wallet_kind(t: &str) -> WalletKind {
    match t {
        "cashflow"
        | "pnl"
        | "realized_pnl"
        | "settlement"
        | "funding"
        | "perpetual_futures_funding" => WalletKind::Cash,
        "commission" | "commission_rebate" | "gst" | "tax" | "liquidation_fee" => WalletKind::Fee,
        "deposit"
        | "external_deposit"
        | "withdrawal"
        | "withdrawal_cancellation"
        | "sub_account_transfer"
        | "conversion"
        | "referral_bonus"
        | "promo_credit"
        | "trading_credits" => WalletKind::Transfer,
        other => WalletKind::Unknown(other.to_string()),
    }
}

/// A wallet row in the core's terms; `None` without an amount or a time (logged).
pub(crate) fn wallet_entry(t: &WalletTransaction) -> Option<WalletEntry> {
    let (Some(amount), Some(at)) = (t.amount, t.created_at) else {
        tracing::warn!(
            uuid = t.uuid.as_deref().unwrap_or("-"),
            kind = t.transaction_type.as_str(),
            "wallet row without an amount or a time left out"
        );
        return None;
    };
    let (product_id, symbol) = t.product();
    Some(WalletEntry {
        id: t.uuid.clone().unwrap_or_default(),
        kind: wallet_kind(&t.transaction_type),
        venue_type: t.transaction_type.clone(),
        amount,
        symbol: symbol.and_then(|s| Symbol::new(s).ok()),
        product_id: product_id.map(ProductId),
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn ticker(symbol: &str) -> Ticker {
        Ticker {
            symbol: symbol.into(),
            timestamp: Some(1_773_136_800_000_000),
            mark_price: Some(dec!(512.5)),
            ..Ticker::default()
        }
    }

    /// Greeks and IVs are the floats their text gives (correctly rounded), whatever the
    /// decimal's scale or size.
    #[test]
    fn decimals_become_the_nearest_float() {
        use std::str::FromStr;
        for s in [
            "0.58022087",
            "-194.83141094",
            "-0.00000000",
            "0.1",
            "0.3",
            "2.38749299",
            "123456789012345678.9",
            "0.0000000000000000000000000001",
            "79228162514264337593543950335",
            "9007199254740993",
        ] {
            let d = Decimal::from_str(s).expect(s);
            let f = decimal_f64(d);
            // The decimal's own text: `-0.00000000` reads as zero, with no sign.
            let want: f64 = d.to_string().parse().expect(s);
            assert_eq!(f.to_bits(), want.to_bits(), "{s}");
        }
    }

    /// A ticker is a quote only when its symbol is one the rest of strangle can carry (into
    /// a URL, a ledger row); anything else is left out, as a non-option is.
    #[test]
    fn a_ticker_with_a_symbol_outside_the_allowed_set_is_no_quote() {
        let q = quote_of(&ticker("C-BTC-84000-130326")).expect("a quote");
        assert_eq!(q.symbol, "C-BTC-84000-130326");
        assert_eq!(q.mark, dec!(512.5));
        for bad in ["", "C-BTC-84000-130326&x=1", "C BTC", "C-BTC-84000/130326"] {
            assert_eq!(quote_of(&ticker(bad)), None, "{bad:?}");
        }
    }

    /// A wallet row names its product at the top level or in `meta_data` (id as a number or
    /// a string); a row without an amount or a time is left out; an unknown type is kept as
    /// unknown, never taken for cash or a fee.
    #[test]
    fn wallet_rows_become_entries_with_their_product() {
        let rows: Vec<WalletTransaction> = serde_json::from_str(
            r#"[
              {"uuid": "a1", "amount": "-0.295", "balance": "99.7", "asset_id": 14,
               "transaction_type": "commission", "created_at": "2026-03-10T06:41:17Z",
               "meta_data": {"product_id": "118429", "fill_id": "9c1e"}},
              {"uuid": "a2", "amount": "7.513", "transaction_type": "cashflow",
               "product_symbol": "C-BTC-84000-130326", "created_at": "2026-03-10T06:41:17Z"},
              {"uuid": "a3", "amount": "29.889184", "transaction_type": "deposit",
               "created_at": "2020-11-15T21:25:01Z", "meta_data": {"deposit_id": 3884}},
              {"uuid": "a4", "amount": "1", "transaction_type": "option_exercise",
               "created_at": "2026-03-10T06:41:17Z", "meta_data": {"product_id": 118422}},
              {"uuid": "a5", "transaction_type": "commission"}
            ]"#,
        )
        .expect("rows decode");
        let e: Vec<WalletEntry> = rows.iter().filter_map(wallet_entry).collect();
        assert_eq!(e.len(), 4, "the row without an amount is left out");
        assert_eq!(
            (e[0].kind.clone(), e[0].product_id),
            (WalletKind::Fee, Some(ProductId(118_429)))
        );
        assert_eq!(e[0].amount, dec!(-0.295));
        assert_eq!(e[1].kind, WalletKind::Cash);
        assert_eq!(
            e[1].symbol.as_ref().map(|s| s.as_str()),
            Some("C-BTC-84000-130326")
        );
        assert_eq!(
            (e[2].kind.clone(), e[2].product_id),
            (WalletKind::Transfer, None)
        );
        assert_eq!(e[3].kind, WalletKind::Unknown("option_exercise".into()));
        assert_eq!(e[3].product_id, Some(ProductId(118_422)));
    }
}
