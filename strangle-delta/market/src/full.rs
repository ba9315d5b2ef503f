//! Delta's whole payloads: every key the real API sends, with its JSON type.
//!
//! The adapter parses only the keys it needs (`strangle_delta::wire`), so a server rendered from those
//! structs would only ever be read back by the adapter that wrote it. These renderers follow
//! Delta's recorded payloads (`tests/fixtures/`, copied from `../shared/fixtures/delta/`)
//! instead: big decimals as strings, contract counts and ids as numbers, nested assets, the
//! spot index and the product inside positions — so any Delta client finds what it looks for.
//! `tests/schema.rs` compares every endpoint's answer with its fixture, key by key.
//!
//! Values the simulated venue does not model (margins, liquidation prices, 24-hour changes,
//! the index's constituent exchanges) carry Delta's neutral or recorded values; each is named
//! where it is set.

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use strangle_core::model::{
    FeeModel, Fill as CoreFill, OptionContract, OptionKind, OrderState, OrderStatus, Quote,
    Side as CoreSide, Underlying,
};

use super::OrderMeta;
use strangle_delta::wire::OrderType;

/// The user id every account of the local market reports.
pub const USER_ID: u64 = 91_234_567;

/// A decimal as Delta writes one: a JSON string.
fn s(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

fn s_opt(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, s)
}

/// A whole number of contracts as Delta writes it: a JSON number.
fn int(d: Decimal) -> Value {
    d.trunc().to_i64().map_or(Value::Null, |v| json!(v))
}

fn iso(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn iso_secs(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Delta's asset ids: BTC 13, USD 14, ETH 15.
pub fn asset_id(symbol: &str) -> u64 {
    match symbol {
        "BTC" => 13,
        "ETH" => 15,
        _ => 14,
    }
}

/// An asset object (`underlying_asset`, `quoting_asset`, `settling_asset`, `/v2/assets`).
pub fn asset(symbol: &str) -> Value {
    let (name, min_precision) = match symbol {
        "BTC" => ("Bitcoin", 4),
        "ETH" => ("Ethereum", 4),
        _ => ("US Dollar", 2),
    };
    json!({
        "id": asset_id(symbol),
        "symbol": symbol,
        "name": name,
        "precision": 8,
        "minimum_precision": min_precision,
        "deposit_status": "enabled",
        "withdrawal_status": "enabled",
        "base_withdrawal_fee": "0.000000000000000000",
        "min_withdrawal_amount": "0.000000000000000000",
    })
}

/// The spot index of an underlying (`.DEXBTUSD`, `.DEXETUSD`), as products and `/v2/indices`
/// carry it. The constituent exchanges are Delta's recorded ones; this market's index is its
/// own simulated spot.
pub fn spot_index(u: Underlying) -> Value {
    let (id, symbol) = match u {
        Underlying::Btc => (14, ".DEXBTUSD"),
        Underlying::Eth => (15, ".DEXETUSD"),
    };
    let exchange = |name: &str, priority: u32| json!({"exchange": name, "health_interval": 3000, "health_priority": priority, "weight": 1});
    json!({
        "id": id,
        "symbol": symbol,
        "description": format!("{u} Spot"),
        "index_type": "spot_pair",
        "is_composite": false,
        "price_method": "ltp",
        "tick_size": "0.100000000000000000",
        "underlying_asset_id": asset_id(u.as_str()),
        "quoting_asset_id": 14,
        "constituent_exchanges": [exchange("binance", 1), exchange("bybit", 2), exchange("okx", 3)],
    })
}

fn contract_type(k: OptionKind) -> &'static str {
    match k {
        OptionKind::Call => "call_options",
        OptionKind::Put => "put_options",
    }
}

/// `a` with `b`'s keys added (two `json!` objects: one would exceed the macro's recursion).
fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(m), Value::Object(extra)) = (a.as_object_mut(), b) {
        m.extend(extra);
    }
    a
}

/// Delta's display settings of an option product (recorded values).
fn ui_config() -> Value {
    json!({
        "default_trading_view_candle": "1",
        "leverage_slider_values": [],
        "price_clubbing_values": [0.1, 0.5, 1, 5, 10],
        "show_bracket_orders": false,
        "sort_priority": null,
        "tags": [],
    })
}

/// A listed (or, with `settled`, an expired) contract as a Delta product. `settled` is the
/// index its expiry settled at, once it has.
pub fn product(
    c: &OptionContract,
    fees: &FeeModel,
    expired: bool,
    settled: Option<Decimal>,
) -> Value {
    let hundred = Decimal::ONE_HUNDRED;
    let u = c.underlying.as_str();
    let (kind, short) = match c.kind {
        OptionKind::Call => ("call", "Call"),
        OptionKind::Put => ("put", "Put"),
    };
    let e = c.expiry;
    let specs = json!({
        "backup_vol_expiry_time": 31_536_000,
        "max_deviation_from_external_vol": 0.75,
        "max_lower_deviation_from_external_vol": 0.75,
        "max_upper_deviation_from_external_vol": 0.5,
        "max_volatility": 3,
        "min_volatility": 0.1,
        "premium_commission_rate": (fees.premium_cap_pct / hundred).to_f64(),
        "vol_calculation_method": "orderbook",
        "vol_expiry_time": 31_536_000,
        "settlement_index_price": s_opt(settled),
    });
    let head = json!({
        "id": c.product_id,
        "symbol": c.symbol.as_str(),
        "description": format!("{u} {kind} option expiring on {}-{}-{}", e.day(), e.month(), e.year()),
        "short_description": format!("{u}  {short}"),
        "contract_type": contract_type(c.kind),
        "state": if expired { "expired" } else { "live" },
        "trading_status": "operational",
        "strike_price": s(c.strike),
        // The local market lists every contract a week before its expiry (Delta's own
        // listing horizon varies).
        "launch_time": iso_secs(e - Duration::days(7)),
        "settlement_time": iso_secs(e),
        "settlement_price": s_opt(settled.map(|i| c.intrinsic(i))),
        "notional_type": "vanilla",
        "impact_size": 200,
        "initial_margin": "1",
        "maintenance_margin": "0.5",
        "contract_value": s(c.contract_size),
        "contract_unit_currency": u,
        "tick_size": s(c.tick_size),
        "product_specs": specs,
    });
    let tail = json!({
        "max_leverage_notional": "200000",
        "default_leverage": "100.000000000000000000",
        "initial_margin_scaling_factor": "0.000002",
        "maintenance_margin_scaling_factor": "0.000002",
        "taker_commission_rate": s(fees.taker_rate_pct / hundred),
        "maker_commission_rate": s(fees.maker_rate_pct / hundred),
        "liquidation_penalty_factor": "0.5",
        "position_size_limit": 255_633,
        "basis_factor_max_limit": "10.95",
        "is_quanto": false,
        "funding_method": "mark_price",
        "annualized_funding": "10.95",
        "price_band": "2",
        "insurance_fund_margin_contribution": "1",
        "barrier_price": null,
        "auction_start_time": null,
        "auction_finish_time": null,
        "disruption_reason": null,
        "ui_config": ui_config(),
        "underlying_asset": asset(u),
        "quoting_asset": asset("USD"),
        "settling_asset": asset("USD"),
        "spot_index": spot_index(c.underlying),
    });
    merged(head, tail)
}

/// An `f64` as a decimal with eight places (serialized as a string).
fn d8(x: f64) -> Option<Decimal> {
    Decimal::try_from(x).ok().map(|d| d.round_dp(8))
}

/// Delta's ticker, field for field (decimals serialize as strings, as Delta sends them).
#[derive(serde::Serialize)]
struct TickerOut<'a> {
    close: f64,
    contract_type: &'static str,
    greeks: Option<GreeksOut>,
    high: f64,
    low: f64,
    ltp_change_24h: &'static str,
    mark_change_24h: &'static str,
    mark_price: Decimal,
    mark_vol: Option<Decimal>,
    oi: Decimal,
    oi_change_usd_6h: &'static str,
    oi_contracts: Decimal,
    oi_value: Decimal,
    oi_value_symbol: &'a str,
    oi_value_usd: Decimal,
    open: f64,
    price_band: PriceBand,
    product_id: u64,
    product_trading_status: &'a str,
    quotes: QuotesOut,
    size: u64,
    spot_price: Decimal,
    strike_price: Decimal,
    symbol: &'a str,
    tick_size: Decimal,
    contract_value: Decimal,
    underlying_asset_symbol: &'a str,
    timestamp: i64,
    turnover: f64,
    turnover_symbol: &'static str,
    turnover_usd: f64,
    volume: f64,
}

#[derive(serde::Serialize)]
struct GreeksOut {
    delta: Option<Decimal>,
    gamma: Option<Decimal>,
    rho: &'static str,
    spot: Decimal,
    theta: Option<Decimal>,
    vega: Option<Decimal>,
}

#[derive(serde::Serialize)]
struct PriceBand {
    lower_limit: Decimal,
    upper_limit: Decimal,
}

#[derive(serde::Serialize)]
struct QuotesOut {
    ask_iv: Option<Decimal>,
    ask_size: Option<Decimal>,
    best_ask: Option<Decimal>,
    best_bid: Option<Decimal>,
    bid_iv: Option<Decimal>,
    bid_size: Option<Decimal>,
    impact_mid_price: Option<Decimal>,
    mark_iv: Option<Decimal>,
}

/// A quote as a Delta ticker (JSON text), with the IVs of its best bid and ask (`ivs`, see
/// [`quote_ivs`]). The 24-hour statistics (open, high, low, close, changes, volume, turnover)
/// are not modelled: the local market reports the mark as each price and no volume.
pub fn ticker(c: &OptionContract, q: &Quote, ivs: (Option<f64>, Option<f64>)) -> String {
    let mark = q.mark.to_f64().unwrap_or_default();
    let spot = q.spot.unwrap_or_default();
    let oi = q.open_interest.unwrap_or_default();
    let iv = |x: Option<f64>| x.and_then(d8);
    let out = TickerOut {
        close: mark,
        contract_type: contract_type(c.kind),
        greeks: q.greeks.map(|g| GreeksOut {
            delta: d8(g.delta),
            gamma: d8(g.gamma),
            rho: "0",
            spot,
            theta: d8(g.theta),
            vega: d8(g.vega),
        }),
        high: mark,
        low: mark,
        ltp_change_24h: "0",
        mark_change_24h: "0",
        mark_price: q.mark,
        mark_vol: iv(q.mark_iv),
        oi: oi * c.contract_size,
        oi_change_usd_6h: "0",
        oi_contracts: oi,
        oi_value: oi * c.contract_size,
        oi_value_symbol: c.underlying.as_str(),
        oi_value_usd: (oi * c.contract_size * spot).round_dp(4),
        open: mark,
        price_band: {
            let (lower_limit, upper_limit) = price_band(c, q.mark);
            PriceBand {
                lower_limit,
                upper_limit,
            }
        },
        product_id: c.product_id.get(),
        product_trading_status: q.trading_halt.as_deref().unwrap_or("operational"),
        quotes: QuotesOut {
            ask_iv: iv(ivs.1),
            ask_size: q.ask.map(|_| q.ask_size),
            best_ask: q.ask,
            best_bid: q.bid,
            bid_iv: iv(ivs.0),
            bid_size: q.bid.map(|_| q.bid_size),
            impact_mid_price: None,
            mark_iv: iv(q.mark_iv),
        },
        size: 0,
        spot_price: spot,
        strike_price: c.strike,
        symbol: c.symbol.as_str(),
        tick_size: c.tick_size,
        contract_value: c.contract_size,
        underlying_asset_symbol: c.underlying.as_str(),
        timestamp: q.timestamp.timestamp_micros(),
        turnover: 0.0,
        turnover_symbol: "USD",
        turnover_usd: 0.0,
        volume: 0.0,
    };
    serde_json::to_string(&out).unwrap_or_default()
}

/// A quote as the public `ticker` channel's compact frame (Delta's new public endpoint):
/// greeks `g` [delta, gamma, rho, theta, vega], quotes `q` [ask, ask size, bid, bid size,
/// impact mid], IVs `qiv` [ask, bid, mark], OI `oi` [contracts, 6 h change USD], price band
/// `pb`, `ohlc` and turnover `to` (not modelled: the mark, and zero).
pub fn ws_ticker(c: &OptionContract, q: &Quote, ivs: (Option<f64>, Option<f64>)) -> String {
    let mark = q.mark.to_f64().unwrap_or_default();
    let iv = |x: Option<f64>| x.and_then(d8);
    let g = q.greeks.map(|g| {
        [
            d8(g.delta),
            d8(g.gamma),
            Some(Decimal::ZERO),
            d8(g.theta),
            d8(g.vega),
        ]
    });
    json!({
        "d": [{
            "g": g,
            "i": c.product_id,
            "m": q.mark,
            "m24hc": "0",
            "ohlc": [mark, mark, mark, mark],
            "oi": [q.open_interest.unwrap_or_default(), Decimal::ZERO],
            "pb": <[Decimal; 2]>::from(price_band(c, q.mark)),
            "q": [q.ask, q.ask.map(|_| q.ask_size), q.bid, q.bid.map(|_| q.bid_size), None::<Decimal>],
            "qiv": [iv(ivs.1), iv(ivs.0), iv(q.mark_iv)],
            "s": c.symbol.as_str(),
            "to": [0.0, 0.0],
        }],
        "sp": q.spot,
        "sy": c.symbol.as_str(),
        "ts": q.timestamp.timestamp_micros(),
        "type": "ticker",
    })
    .to_string()
}

/// The IVs of a quote's best bid and ask: the quote's own, or implied by Black-76 on its spot
/// (Delta publishes them; a market with only prices gets them implied).
pub fn quote_ivs(c: &OptionContract, q: &Quote) -> (Option<f64>, Option<f64>) {
    let years = (c.expiry - q.timestamp).num_seconds() as f64 / (365.0 * 86_400.0);
    let implied = |given: Option<f64>, price: Option<Decimal>| {
        given.or_else(|| {
            strangle_core::pricing::implied_vol(
                c.kind,
                price?.to_f64()?,
                q.spot?.to_f64()?,
                c.strike.to_f64()?,
                years,
            )
        })
    };
    (implied(q.bid_iv, q.bid), implied(q.ask_iv, q.ask))
}

fn side(s: CoreSide) -> &'static str {
    match s {
        CoreSide::Buy => "buy",
        CoreSide::Sell => "sell",
    }
}

/// A venue order as a Delta order.
pub fn order(st: &OrderStatus, meta: &OrderMeta) -> Value {
    let filled = st.filled_size();
    let avg = (!filled.is_zero())
        .then(|| st.fills.iter().map(|f| f.price * f.size).sum::<Decimal>() / filled);
    let (state, reason) = match st.state {
        OrderState::Pending => ("pending", None),
        OrderState::Open => ("open", None),
        OrderState::Filled => ("closed", None),
        OrderState::Cancelled | OrderState::Rejected => (
            "cancelled",
            Some(
                st.reason
                    .clone()
                    .unwrap_or_else(|| "cancelled_by_user".into()),
            ),
        ),
    };
    json!({
        "id": meta.id,
        "user_id": USER_ID,
        "size": int(st.size),
        "unfilled_size": int(st.size - filled),
        "side": side(st.side),
        "order_type": order_type(meta.order_type),
        "limit_price": s_opt(st.limit_price),
        "stop_order_type": meta.stop.map(|s| s.kind.name()),
        "stop_price": s_opt(meta.stop.map(|s| s.stop_price)),
        "stop_trigger_method": meta.stop.map_or("mark_price", |s| s.trigger.name()),
        "trail_amount": s_opt(meta.stop.and_then(|s| s.trail_amount)),
        "time_in_force": meta.time_in_force,
        "reduce_only": meta.reduce_only,
        "close_on_trigger": "false",
        "client_order_id": meta.client_order_id,
        "state": state,
        "average_fill_price": s_opt(avg),
        "paid_commission": s(st.fees()),
        // Delta blocks the expected commission of the unfilled part here; the local market
        // charges fees when fills happen and blocks nothing.
        "commission": "0",
        "cancellation_reason": reason,
        "bracket_order": meta.bracket,
        "bracket_stop_loss_limit_price": null,
        "bracket_stop_loss_price": null,
        "bracket_take_profit_limit_price": null,
        "bracket_take_profit_price": null,
        "bracket_trail_amount": null,
        "meta_data": {"source": "api"},
        "created_at": iso(meta.created_at),
        "product_id": meta.product_id,
        "product_symbol": st.symbol.as_str(),
    })
}

/// A venue fill as a Delta fill. `order` is the order it belongs to (none for a settlement);
/// a fill at the order's creation instant took liquidity (`taker`), a later one rested. The
/// effective commission rate is the fee model's rate for that role (on notional, before the
/// premium cap).
pub fn fill(f: &CoreFill, product_id: u64, order: Option<&OrderMeta>, fees: &FeeModel) -> Value {
    let settlement = f.client_order_id.is_none();
    let (role, rate) = match order {
        Some(m) if f.timestamp > m.created_at => ("maker", fees.maker_rate_pct),
        Some(_) => ("taker", fees.taker_rate_pct),
        None => ("taker", fees.settlement_rate_pct),
    };
    json!({
        "id": f.fill_id,
        "size": int(f.size),
        "fill_type": if settlement { "settlement" } else { "normal" },
        "side": side(f.side),
        "price": s(f.price),
        "role": role,
        "commission": s(f.fee),
        "created_at": iso(f.timestamp),
        "product_id": product_id,
        "product_symbol": f.symbol.as_str(),
        "order_id": order.map(|m| m.id.to_string()),
        "settling_asset_id": 14,
        "settling_asset_symbol": "USD",
        "meta_data": {
            "commission_deto": "0",
            "commission_deto_in_settling_asset": "0",
            "effective_commission_rate": s(rate / Decimal::ONE_HUNDRED),
            "liquidation_fee_deto": "0",
            "liquidation_fee_deto_in_settling_asset": "0",
            "order_price": order.map_or(Value::Null, |_| s(f.price)),
            "order_size": s(f.size),
            "order_type": if settlement { "settlement" } else { "limit_order" },
            "order_unfilled_size": "0",
            "tfc_used_for_commission": "0",
            "tfc_used_for_liquidation_fee": "0",
            "total_commission_in_settling_asset": s(f.fee),
            "total_liquidation_fee_in_settling_asset": "0",
        },
    })
}

/// The part of `fee` that is commission when `tax_pct` % tax on it is booked apart (to 8
/// places, as Delta books amounts).
pub fn fee_before_tax(fee: Decimal, tax_pct: Decimal) -> Decimal {
    (fee / (Decimal::ONE + tax_pct / Decimal::ONE_HUNDRED)).round_dp(8)
}

/// A fill's cash before fees, USD: a sale credits, a buy debits.
fn fill_cash(f: &CoreFill, contract_size: Decimal) -> Decimal {
    let value = f.price * f.size * contract_size;
    match f.side {
        CoreSide::Sell => value,
        CoreSide::Buy => -value,
    }
}

/// The wallet's ledger rows (`GET /v2/wallet/transactions`) that `fills` made, oldest first,
/// with the balance after each, ending at `closing` USD (the wallet's cash now): per fill a
/// `cashflow` (a settlement fill: `settlement`) of `± price × size × contract size` and a
/// `commission` of `−fee`; with `tax_apart` (the fee model's tax %), the tax as a `gst` row
/// of its own. The product is named in `meta_data`, as the wallet rows' shape in Delta's
/// docs leaves open.
pub fn wallet_rows(
    fills: &[(CoreFill, u64, Decimal)],
    closing: Decimal,
    tax_apart: Option<Decimal>,
) -> Vec<Value> {
    let flows: Decimal = fills
        .iter()
        .map(|(f, _, cs)| fill_cash(f, *cs) - f.fee)
        .sum();
    let mut balance = closing - flows;
    let mut out = Vec::new();
    for (f, product_id, contract_size) in fills {
        let cash = fill_cash(f, *contract_size);
        let commission = tax_apart.map_or(f.fee, |t| fee_before_tax(f.fee, t));
        let settlement = f.client_order_id.is_none();
        let mut row = |suffix: &str, kind: &str, amount: Decimal| {
            balance += amount;
            out.push(json!({
                "uuid": format!("{}-{suffix}", f.fill_id),
                "amount": s(amount),
                "balance": s(balance),
                "asset_id": 14,
                "asset_symbol": "USD",
                "transaction_type": kind,
                "meta_data": {
                    "fill_id": f.fill_id,
                    "product_id": product_id,
                    "product_symbol": f.symbol.as_str(),
                },
                "user_id": USER_ID,
                "created_at": iso(f.timestamp),
            }));
        };
        row(
            "cash",
            if settlement { "settlement" } else { "cashflow" },
            cash,
        );
        if !f.fee.is_zero() {
            row("fee", "commission", -commission);
            if commission != f.fee {
                row("tax", "gst", commission - f.fee);
            }
        }
    }
    out
}

/// A real-time position (`GET /v2/positions?product_id=`): signed contracts, the entry price
/// (`null` when flat) and the time, µs.
pub fn position(size: Decimal, entry_price: Option<Decimal>, at_micros: i64) -> Value {
    json!({"entry_price": s_opt(entry_price), "size": int(size), "timestamp": at_micros})
}

/// The local market's margin rate for a short option: 20 % of the notional (spot × contract
/// value × contracts) blocked, half of it as the maintenance level. Delta's own formula is not
/// modelled; longs block nothing (their premium is paid).
pub const SHORT_MARGIN_PCT: u32 = 20;

/// The margin `contracts` short contracts of `c` block at `spot` under [`SHORT_MARGIN_PCT`].
pub fn short_margin(contracts: Decimal, c: &OptionContract, spot: Decimal) -> Decimal {
    (spot * Decimal::from(SHORT_MARGIN_PCT) / Decimal::ONE_HUNDRED * c.contract_size * contracts)
        .round_dp(8)
}

/// The margin a short position blocks under [`SHORT_MARGIN_PCT`].
pub fn position_margin(
    p: &strangle_core::model::Position,
    c: &OptionContract,
    spot: Decimal,
) -> Decimal {
    margins(p, c, spot).margin
}

/// A position's margin under [`SHORT_MARGIN_PCT`].
#[derive(Debug, Clone, Copy)]
struct Margins {
    margin: Decimal,
    bankruptcy: Decimal,
    liquidation: Decimal,
}

fn margins(p: &strangle_core::model::Position, c: &OptionContract, spot: Decimal) -> Margins {
    if p.size >= Decimal::ZERO {
        return Margins {
            margin: Decimal::ZERO,
            bankruptcy: Decimal::ZERO,
            liquidation: Decimal::ZERO,
        };
    }
    let per_unit = spot * Decimal::from(SHORT_MARGIN_PCT) / Decimal::ONE_HUNDRED;
    let entry = p.entry_price.unwrap_or_default();
    Margins {
        margin: short_margin(p.size.abs(), c, spot),
        bankruptcy: (entry + per_unit).round_dp(8),
        liquidation: (entry + per_unit / Decimal::TWO).round_dp(8),
    }
}

/// A position with its margin fields and its product (`/v2/positions/margined`). A short is
/// margined at [`SHORT_MARGIN_PCT`] of its notional at `spot`; its bankruptcy price is the
/// option price at which that margin is gone, its liquidation price where half of it is.
pub fn margined_position(
    p: &strangle_core::model::Position,
    c: &OptionContract,
    fees: &FeeModel,
    mark: Option<Decimal>,
    spot: Decimal,
    at: DateTime<Utc>,
) -> Value {
    let upnl = match (mark, p.entry_price) {
        (Some(m), Some(e)) => Some(((m - e) * p.size * c.contract_size).round_dp(8)),
        _ => None,
    };
    let m = margins(p, c, spot);
    let (margin, bankruptcy, liquidation) = (m.margin, m.bankruptcy, m.liquidation);
    json!({
        "user_id": USER_ID,
        "product_id": p.product_id,
        "product_symbol": p.symbol.as_str(),
        "size": int(p.size),
        "entry_price": s_opt(p.entry_price),
        "mark_price": s_opt(mark),
        "margin": s(margin),
        "margin_mode": "isolated",
        "liquidation_price": s(liquidation),
        "bankruptcy_price": s(bankruptcy),
        "adl_level": null,
        "auto_topup": false,
        "commission": "0",
        "realized_pnl": "0",
        "realized_funding": "0",
        "realized_cashflow": "0",
        "realized_holding_cost": "0",
        "unrealized_pnl": s_opt(upnl),
        "created_at": iso(at),
        "updated_at": iso(at),
        "product": product(c, fees, false, None),
    })
}

/// The USD wallet row of `/v2/wallet/balances`: `balance` is the cash, `blocked_margin` the
/// short positions' margin plus the margin open sell orders would block (both at
/// [`SHORT_MARGIN_PCT`]), and `available_balance` what is left (Delta: `balance −
/// blocked_margin`). The local market shows the margin but does not refuse orders for it.
pub fn wallet_row(cash: Decimal, position_margin: Decimal, order_margin: Decimal) -> Value {
    let blocked = position_margin + order_margin;
    let available = (cash - blocked).max(Decimal::ZERO);
    json!({
        "asset_id": 14,
        "asset_symbol": "USD",
        "available_balance": s(available),
        "available_balance_for_robo": s(available),
        "balance": s(cash),
        "blocked_margin": s(blocked),
        "commission": "0",
        "cross_asset_liability": "0",
        "cross_commission": "0",
        "cross_locked_collateral": "0",
        "cross_order_margin": "0",
        "cross_position_margin": "0",
        "id": 6_019_871,
        "interest_credit": "0",
        "order_margin": s(order_margin),
        "pending_referral_bonus": "0",
        "pending_trading_fee_credit": "0",
        "portfolio_margin": "0",
        "position_margin": s(position_margin),
        "trading_fee_credit": "0",
        "unvested_amount": "0",
        "user_id": USER_ID,
    })
}

/// An order as the `orders` channel's snapshot lists it.
pub fn ws_order(st: &OrderStatus, meta: &OrderMeta) -> Value {
    let filled = st.filled_size();
    let avg = (!filled.is_zero())
        .then(|| st.fills.iter().map(|f| f.price * f.size).sum::<Decimal>() / filled);
    json!({
        "id": meta.id,
        "limit_price": s_opt(st.limit_price),
        "order_type": order_type(meta.order_type),
        "product_id": meta.product_id,
        "reduce_only": meta.reduce_only,
        "side": side(st.side),
        "size": int(st.size),
        "state": order_state(st.state),
        "stop_order_type": meta.stop.map(|s| s.kind.name()),
        "stop_price": s_opt(meta.stop.map(|s| s.stop_price)),
        "time_in_force": meta.time_in_force,
        "trail_amount": s_opt(meta.stop.and_then(|s| s.trail_amount)),
        "unfilled_size": int(st.size - filled),
        "average_fill_price": s_opt(avg),
        "user_id": USER_ID,
        "client_order_id": meta.client_order_id,
    })
}

/// The `orders` channel's snapshot of the open orders.
pub fn ws_orders_snapshot(orders: Vec<Value>, seq_no: u64, at_micros: i64) -> String {
    json!({
        "meta": {"seq_no": seq_no, "timestamp": at_micros},
        "result": orders,
        "success": true,
        "symbol": "all",
        "type": "orders",
        "action": "snapshot",
    })
    .to_string()
}

/// An `orders` channel event (`create`, `update` with reason `fill`, ...).
pub fn ws_order_update(
    st: &OrderStatus,
    meta: &OrderMeta,
    action: &str,
    reason: Option<&str>,
    seq_no: u64,
    at_micros: i64,
) -> String {
    let o = ws_order(st, meta);
    let cancellation = match st.state {
        OrderState::Cancelled | OrderState::Rejected => Some(
            st.reason
                .clone()
                .unwrap_or_else(|| "cancelled_by_user".into()),
        ),
        _ => None,
    };
    json!({
        "type": "orders",
        "action": action,
        "reason": reason,
        "symbol": st.symbol.as_str(),
        "product_id": meta.product_id,
        "order_id": meta.id,
        "client_order_id": meta.client_order_id,
        "size": o["size"],
        "unfilled_size": o["unfilled_size"],
        "average_fill_price": o["average_fill_price"],
        "limit_price": o["limit_price"],
        "side": side(st.side),
        "cancellation_reason": cancellation,
        "stop_order_type": o["stop_order_type"],
        "bracket_order": meta.bracket,
        "state": order_state(st.state),
        "seq_no": seq_no,
        "timestamp": at_micros,
        "stop_price": o["stop_price"],
        "trigger_price_max_or_min": null,
        "bracket_stop_loss_price": null,
        "bracket_stop_loss_limit_price": null,
        "bracket_take_profit_price": null,
        "bracket_take_profit_limit_price": null,
        "bracket_trail_amount": null,
    })
    .to_string()
}

/// A position as the `positions` channel lists it (margin as in [`margined_position`]).
pub fn ws_position(
    p: &strangle_core::model::Position,
    c: &OptionContract,
    spot: Decimal,
    at: DateTime<Utc>,
) -> Value {
    let m = margins(p, c, spot);
    json!({
        "adl_level": null,
        "auto_topup": false,
        "bankruptcy_price": s(m.bankruptcy),
        "commission": "0",
        "created_at": iso(at),
        "entry_price": s_opt(p.entry_price),
        "liquidation_price": s(m.liquidation),
        "margin": s(m.margin),
        "product_id": p.product_id,
        "product_symbol": p.symbol.as_str(),
        "realized_funding": "0",
        "realized_pnl": "0",
        "size": int(p.size),
        "updated_at": iso(at),
        "user_id": USER_ID,
        "symbol": p.symbol.as_str(),
    })
}

/// A `positions` channel event (`create`, `update`, `delete`) for one product; `p` is `None`
/// once flat.
pub fn ws_position_update(
    action: &str,
    symbol: &str,
    product_id: u64,
    p: Option<(&strangle_core::model::Position, &OptionContract)>,
    spot: Decimal,
) -> String {
    let m = p.map(|(p, c)| margins(p, c, spot));
    json!({
        "type": "positions",
        "action": action,
        "reason": null,
        "symbol": symbol,
        "product_id": product_id,
        "size": p.map_or(json!(0), |(p, _)| int(p.size)),
        "margin": s(m.map_or(Decimal::ZERO, |m| m.margin)),
        "entry_price": s_opt(p.and_then(|(p, _)| p.entry_price)),
        "liquidation_price": s(m.map_or(Decimal::ZERO, |m| m.liquidation)),
        "bankruptcy_price": s(m.map_or(Decimal::ZERO, |m| m.bankruptcy)),
        "commission": "0",
    })
    .to_string()
}

/// A `v2/user_trades` frame: one fill of an order, with the position after it (`po`).
pub fn ws_user_trade(f: &CoreFill, meta: &OrderMeta, position_after: Decimal, seq: u64) -> String {
    let role = if f.timestamp > meta.created_at {
        "maker"
    } else {
        "taker"
    };
    json!({
        "type": "v2/user_trades",
        "sy": f.symbol.as_str(),
        "f": f.fill_id,
        "R": "normal",
        "u": USER_ID,
        "o": meta.id,
        "S": side(f.side),
        "s": int(f.size),
        "p": s(f.price),
        "po": int(position_after),
        "r": role,
        "c": meta.client_order_id,
        "t": f.timestamp.timestamp_micros(),
        "se": seq,
    })
    .to_string()
}

fn order_type(t: OrderType) -> &'static str {
    match t {
        OrderType::LimitOrder => "limit_order",
        OrderType::MarketOrder => "market_order",
    }
}

fn order_state(s: OrderState) -> &'static str {
    match s {
        OrderState::Pending => "pending",
        OrderState::Open => "open",
        OrderState::Filled => "closed",
        OrderState::Cancelled | OrderState::Rejected => "cancelled",
    }
}

/// This market's price band for a contract at a mark: from the tick up to three marks and a
/// tick (recorded Delta bands are about that wide).
pub(crate) fn price_band(c: &OptionContract, mark: Decimal) -> (Decimal, Decimal) {
    (
        c.tick_size,
        (mark * Decimal::from(3) + c.tick_size).round_dp(8),
    )
}
