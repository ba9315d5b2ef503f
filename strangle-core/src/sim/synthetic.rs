//! Synthetic option chains: Black-76 prices and greeks from a spot and an IV smile, on
//! Delta's listing pattern (daily and Friday weekly expiries at 12:00 UTC, a strike grid
//! around spot).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use rust_decimal::Decimal;
//! use strangle_core::sim::synthetic::SyntheticMarket;
//! let m = SyntheticMarket::btc();
//! let t = Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap();
//! let chain = m.chain(t, Decimal::from(82_000), 0.45);
//! assert_eq!(chain.expiries().len(), 5); // three dailies, then the Fridays 13 and 20 March
//! ```

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

use crate::ids::{profile_tag, ProductId};
use crate::model::{
    delta_settlement_time, ChainEntry, ChainSnapshot, Greeks, OptionContract, OptionKind,
    OptionSymbol, Quote, Underlying,
};
use crate::pricing::black76;

/// Parameters of a synthetic market.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticMarket {
    /// BTC or ETH.
    pub underlying: Underlying,
    /// Underlying per contract.
    pub contract_size: Decimal,
    /// Price increment.
    pub tick_size: Decimal,
    /// Distance between strikes, USD.
    pub strike_step: Decimal,
    /// Strikes listed on each side of the at-the-money strike.
    pub strikes_each_side: u32,
    /// Daily expiries listed.
    pub expiries: u32,
    /// Weekly (Friday) expiries listed beyond the dailies.
    pub weeklies: u32,
    /// Bid/ask spread in % of the mark.
    pub spread_pct: f64,
    /// Contracts quoted on each side.
    pub quote_size: Decimal,
    /// IV added per unit of squared log-moneyness (the smile's curvature).
    pub smile: f64,
    /// IV added per unit of negative log-moneyness (puts richer than calls).
    pub skew: f64,
    /// Term structure: an expiry's ATM IV is `atm_iv × (1 + term_slope × ln(7 days / time
    /// left))`, kept within ½× and 2× (positive: shorter expiries richer). 0: flat.
    pub term_slope: f64,
    /// The spread grows by this fraction of the ATM spread per standard deviation of
    /// moneyness (`|ln(K/F)| / (σ√T)`). 0: the same spread on every strike.
    pub wing_spread: f64,
    /// In the last 24 hours before expiry the spread grows linearly by up to this fraction
    /// of itself. 0: no change near expiry.
    pub expiry_spread: f64,
    /// The quoted size divides by `1 + wing_size × z` (z as for `wing_spread`), and by the
    /// same near-expiry factor as the spread; never below one contract. 0: the same size
    /// everywhere.
    pub wing_size: f64,
}

impl SyntheticMarket {
    /// A BTC market shaped like Delta India's: 0.001 BTC contracts, tick 0.1, strikes every
    /// 500 USD, three daily expiries.
    pub fn btc() -> Self {
        Self {
            underlying: Underlying::Btc,
            contract_size: Decimal::new(1, 3),
            tick_size: Decimal::new(1, 1),
            strike_step: Decimal::from(500),
            strikes_each_side: 30,
            expiries: 3,
            weeklies: 2,
            spread_pct: 4.0,
            quote_size: Decimal::from(500),
            smile: 1.5,
            skew: 0.3,
            term_slope: 0.0,
            wing_spread: 0.0,
            expiry_spread: 0.0,
            wing_size: 0.0,
        }
    }

    /// The same market with liquidity shaped like a real order book: spreads widen and sizes
    /// thin away from the money (+50 % of the ATM spread and ÷1.5 size per standard
    /// deviation) and in the last day before expiry (up to twice the spread, half the size),
    /// and short expiries carry a little more IV (`term_slope` 0.05). The local market
    /// (`sim-server`, `sim` mode) quotes this; backtests on a spot series keep the flat shape
    /// so their results stay comparable.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use rust_decimal::Decimal;
    /// use strangle_core::sim::synthetic::SyntheticMarket;
    /// let t = Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap();
    /// let chain = SyntheticMarket::btc().realistic().chain(t, Decimal::from(82_000), 0.45);
    /// let spread = |sym: &str| chain.get(sym).unwrap().quote.spread_pct().unwrap();
    /// assert!(spread("C-BTC-83000-100326") > spread("C-BTC-82000-100326"));
    /// ```
    pub fn realistic(self) -> Self {
        Self {
            term_slope: 0.05,
            wing_spread: 0.5,
            expiry_spread: 1.0,
            wing_size: 0.5,
            ..self
        }
    }

    /// An ETH market: 0.01 ETH contracts, tick 0.01, strikes every 20 USD.
    pub fn eth() -> Self {
        Self {
            underlying: Underlying::Eth,
            contract_size: Decimal::new(1, 2),
            tick_size: Decimal::new(1, 2),
            strike_step: Decimal::from(20),
            ..Self::btc()
        }
    }

    /// The chain at `t` with the underlying at `spot` and at-the-money IV `atm_iv`.
    pub fn chain(&self, t: DateTime<Utc>, spot: Decimal, atm_iv: f64) -> ChainSnapshot {
        let f = spot.to_f64().unwrap_or(0.0);
        let atm = (spot / self.strike_step).round() * self.strike_step;
        let mut entries = Vec::new();
        for expiry in self.expiry_list(t) {
            let years = (expiry - t).num_seconds() as f64 / (365.0 * 86_400.0);
            let expiry_iv = atm_iv * self.term_factor(years);
            for i in -(self.strikes_each_side as i64)..=(self.strikes_each_side as i64) {
                let strike = atm + self.strike_step * Decimal::from(i);
                if strike <= Decimal::ZERO {
                    continue;
                }
                let k = strike.to_f64().unwrap_or(0.0);
                let m = (k / f).ln();
                let iv =
                    (expiry_iv * (1.0 + self.smile * m * m) - self.skew * m * expiry_iv).max(0.05);
                for kind in [OptionKind::Call, OptionKind::Put] {
                    entries.push(self.entry(kind, strike, expiry, t, spot, f, k, years, iv));
                }
            }
        }
        ChainSnapshot {
            underlying: self.underlying,
            timestamp: t,
            spot,
            entries,
        }
    }

    /// Settlement instants listed at `t`: the next `expiries` daily ones (12:00 UTC), then
    /// the next `weeklies` Fridays after them, like Delta's listing.
    pub fn expiry_list(&self, t: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut day = t.date_naive();
        while out.len() < self.expiries as usize {
            let e = delta_settlement_time(day);
            if e > t {
                out.push(e);
            }
            day = day.succ_opt().unwrap_or(day);
        }
        let mut weekly = 0;
        while weekly < self.weeklies {
            let e = delta_settlement_time(day);
            if e > t && day.weekday() == chrono::Weekday::Fri {
                out.push(e);
                weekly += 1;
            }
            day = day.succ_opt().unwrap_or(day);
        }
        out
    }

    /// The term structure's factor on the ATM IV for an expiry `years` away.
    fn term_factor(&self, years: f64) -> f64 {
        if self.term_slope == 0.0 || years <= 0.0 {
            return 1.0;
        }
        let week = 7.0 / 365.0;
        (1.0 + self.term_slope * (week / years).ln()).clamp(0.5, 2.0)
    }

    /// The spread (in % of the price) and the quoted size of a contract `z` standard
    /// deviations from the money with `hours` left.
    fn liquidity(&self, z: f64, hours: f64) -> (f64, Decimal) {
        let near = self.expiry_spread * (1.0 - hours / 24.0).clamp(0.0, 1.0);
        let spread = self.spread_pct * (1.0 + self.wing_spread * z) * (1.0 + near);
        let thin = (1.0 + self.wing_size * z) * (1.0 + near);
        let size = if thin <= 1.0 {
            self.quote_size
        } else {
            Decimal::from_f64(self.quote_size.to_f64().unwrap_or(0.0) / thin)
                .map(|d| d.floor().max(Decimal::ONE))
                .unwrap_or(self.quote_size)
        };
        (spread, size)
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        kind: OptionKind,
        strike: Decimal,
        expiry: DateTime<Utc>,
        t: DateTime<Utc>,
        spot: Decimal,
        f: f64,
        k: f64,
        years: f64,
        iv: f64,
    ) -> ChainEntry {
        let sym = OptionSymbol {
            kind,
            underlying: self.underlying,
            strike,
            expiry_date: expiry.date_naive(),
        }
        .symbol();
        let product_id = ProductId(u64::from_str_radix(&profile_tag(&sym), 16).unwrap_or(0));
        let g = black76(kind, f, k, years, iv);
        let tick = self.tick_size;
        let round = |x: f64| {
            Decimal::from_f64(x)
                .map(|d| (d / tick).round() * tick)
                .unwrap_or_default()
        };
        let mark = round(g.price).max(tick);
        let z = if years > 0.0 && iv > 0.0 {
            (k / f).ln().abs() / (iv * years.sqrt())
        } else {
            0.0
        };
        let (spread_pct, size) = self.liquidity(z, years * 365.0 * 24.0);
        // The spread is a share of the time value (all of an OTM option's price): a deep ITM
        // option is quoted as tightly around its intrinsic value as the OTM option of the
        // same strike on the other side, and never bid below intrinsic value (a buyer there
        // could exercise at a profit), so its quotes imply a volatility.
        let intrinsic_f = match kind {
            OptionKind::Call => (f - k).max(0.0),
            OptionKind::Put => (k - f).max(0.0),
        };
        let half = (g.price - intrinsic_f).max(0.0) * spread_pct / 200.0;
        let intrinsic = match kind {
            OptionKind::Call => (spot - strike).max(Decimal::ZERO),
            OptionKind::Put => (strike - spot).max(Decimal::ZERO),
        };
        let intrinsic = (intrinsic / tick).ceil() * tick;
        let bid = round(g.price - half).max(intrinsic);
        let ask = round(g.price + half).max(mark + tick).max(bid + tick);
        let quote = Quote {
            symbol: sym.clone(),
            timestamp: t,
            mark,
            bid: (bid >= tick).then_some(bid),
            bid_size: if bid >= tick { size } else { Decimal::ZERO },
            ask: Some(ask),
            ask_size: size,
            greeks: Some(Greeks {
                delta: g.delta,
                gamma: g.gamma,
                theta: g.theta,
                vega: g.vega,
            }),
            mark_iv: Some(iv),
            bid_iv: None,
            ask_iv: None,
            spot: Some(spot),
            open_interest: Some(Decimal::from(1000)),
            price_band: None,
            trading_halt: None,
        };
        ChainEntry {
            contract: OptionContract {
                product_id,
                symbol: sym,
                underlying: self.underlying,
                kind,
                strike,
                expiry,
                contract_size: self.contract_size,
                tick_size: tick,
            },
            quote,
        }
    }

    /// Snapshots every `step` from `start` to `end` (inclusive) along a spot path given as a
    /// function of time, at a constant ATM IV.
    pub fn path(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        atm_iv: f64,
        mut spot_at: impl FnMut(DateTime<Utc>) -> Decimal,
    ) -> Vec<ChainSnapshot> {
        let mut out = Vec::new();
        let mut t = start;
        while t <= end {
            out.push(self.chain(t, spot_at(t), atm_iv));
            t += step;
        }
        out
    }
}

/// A reproducible spot path: a geometric random walk whose every step moves the price by a
/// uniform draw within ±`max_move` (0.004 = 0.4 %), from a seeded xorshift generator. The
/// same seed gives the same path on every platform.
///
/// ```
/// use strangle_core::sim::synthetic::RandomWalk;
/// let mut a = RandomWalk::new(7, 82_000.0, 0.001);
/// let mut b = RandomWalk::new(7, 82_000.0, 0.001);
/// assert_eq!(a.step(), b.step());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomWalk {
    state: u64,
    spot: f64,
    max_move: f64,
}

impl RandomWalk {
    /// A walk starting at `spot`.
    pub fn new(seed: u64, spot: f64, max_move: f64) -> Self {
        Self {
            state: seed.max(1),
            spot,
            max_move,
        }
    }

    /// The current price.
    pub fn spot(&self) -> f64 {
        self.spot
    }

    /// Moves one step and returns the new price.
    pub fn step(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let u = (self.state >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        self.spot *= 1.0 + (2.0 * u - 1.0) * self.max_move;
        self.spot
    }
}

/// A [`crate::sim::MarketFeed`] that prices synthetic chains lazily on a fixed time grid from
/// a [`RandomWalk`] per market: a market that runs for as long as it is asked, on any clock
/// (a simulated clock fast-forwards it, the system clock plays it live). Between two
/// requests only the latest grid point is priced, so a long jump costs one chain per market.
#[derive(Debug, Clone)]
pub struct WalkFeed {
    markets: Vec<(SyntheticMarket, RandomWalk, f64)>,
    grid: Duration,
    next: DateTime<Utc>,
    pending: std::collections::VecDeque<ChainSnapshot>,
}

impl WalkFeed {
    /// Markets `(market, starting spot, ATM IV)` from `start`, a snapshot every `grid`, each
    /// walk step moving spot by at most `max_move`.
    pub fn new(
        markets: Vec<(SyntheticMarket, f64, f64)>,
        seed: u64,
        max_move: f64,
        start: DateTime<Utc>,
        grid: Duration,
    ) -> Self {
        let markets = markets
            .into_iter()
            .enumerate()
            .map(|(i, (m, spot, iv))| {
                (
                    m,
                    RandomWalk::new(seed.wrapping_add(i as u64), spot, max_move),
                    iv,
                )
            })
            .collect();
        Self {
            markets,
            grid,
            next: start,
            pending: Default::default(),
        }
    }

    fn price(&mut self, t: DateTime<Utc>, steps: i64) {
        for (m, walk, iv) in &mut self.markets {
            for _ in 0..steps {
                walk.step();
            }
            let s = Decimal::from_f64(walk.spot())
                .map(|d| d.round_dp(1))
                .unwrap_or_default();
            self.pending.push_back(m.chain(t, s, *iv));
        }
    }
}

impl crate::sim::MarketFeed for WalkFeed {
    fn peek_time(&mut self) -> Option<DateTime<Utc>> {
        Some(self.pending.front().map_or(self.next, |c| c.timestamp))
    }

    fn next_snapshot(&mut self) -> Option<ChainSnapshot> {
        if let Some(c) = self.pending.pop_front() {
            return Some(c);
        }
        let t = self.next;
        self.price(t, 1);
        self.next = t + self.grid;
        self.pending.pop_front()
    }

    fn advance_to(&mut self, now: DateTime<Utc>) {
        // Skip grid points that nobody will look at: walk them, price only the last.
        if self.pending.is_empty() && now >= self.next + self.grid {
            let skipped =
                (now - self.next).num_milliseconds() / self.grid.num_milliseconds().max(1);
            for (_, walk, _) in &mut self.markets {
                for _ in 0..skipped {
                    walk.step();
                }
            }
            self.next += self.grid * i32::try_from(skipped).unwrap_or(i32::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::implied_vol;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("instant")
    }

    /// OTM calls of one expiry, nearest the money first.
    fn otm_calls(c: &ChainSnapshot, expiry: DateTime<Utc>) -> Vec<&ChainEntry> {
        let mut v: Vec<_> = c
            .entries
            .iter()
            .filter(|e| {
                e.contract.expiry == expiry
                    && e.contract.kind == OptionKind::Call
                    && e.contract.strike > c.spot
                    && e.quote.bid.is_some()
            })
            .collect();
        v.sort_by_key(|e| e.contract.strike);
        v
    }

    #[test]
    fn realistic_quotes_thin_out_away_from_the_money_and_near_expiry() {
        let m = SyntheticMarket::btc().realistic();
        let chain = m.chain(at(), Decimal::from(82_000), 0.45);
        let expiries = m.expiry_list(at());
        // Away from the money: spreads (in %) widen, sizes never grow.
        for e in &expiries {
            let calls = otm_calls(&chain, *e);
            assert!(calls.len() >= 3, "{e}");
            for w in calls.windows(2) {
                let (a, b) = (&w[0].quote, &w[1].quote);
                assert!(b.ask_size <= a.ask_size, "{} {}", a.symbol, b.symbol);
                // Rounding both sides to the tick can move a spread by up to two ticks.
                let slack = m.tick_size * Decimal::from(200) / b.mark;
                let (sa, sb) = (a.spread_pct().expect("a"), b.spread_pct().expect("b"));
                assert!(sb + slack >= sa, "{a:?}\n{b:?}");
            }
            let (near, far) = (&calls[0].quote, &calls[calls.len() - 1].quote);
            assert!(far.ask_size < near.ask_size, "{e}");
            assert!(far.spread_pct() > near.spread_pct(), "{e}");
        }
        // Near expiry (8 hours left) the same moneyness is quoted thinner than a week out.
        let day = otm_calls(&chain, expiries[0])[0];
        let week = otm_calls(&chain, expiries[expiries.len() - 1])[0];
        assert!(day.quote.ask_size < week.quote.ask_size);
        // Term structure: the shortest expiry's ATM IV is above the longest's.
        let atm_iv = |e: DateTime<Utc>| {
            chain
                .entries
                .iter()
                .find(|x| x.contract.expiry == e && x.contract.strike == Decimal::from(82_000))
                .and_then(|x| x.quote.mark_iv)
                .expect("an ATM IV")
        };
        assert!(atm_iv(expiries[0]) > atm_iv(expiries[expiries.len() - 1]));
        // The flat market quotes one size everywhere.
        let flat = SyntheticMarket::btc().chain(at(), Decimal::from(82_000), 0.45);
        assert!(flat
            .entries
            .iter()
            .all(|e| e.quote.ask_size == Decimal::from(500)));
    }

    #[test]
    fn no_bid_is_below_intrinsic_so_every_quote_implies_a_volatility() {
        for m in [SyntheticMarket::btc(), SyntheticMarket::btc().realistic()] {
            let spot = Decimal::from(82_000);
            let chain = m.chain(at(), spot, 0.45);
            let f = 82_000.0;
            for e in &chain.entries {
                let c = &e.contract;
                let intrinsic = match c.kind {
                    OptionKind::Call => (spot - c.strike).max(Decimal::ZERO),
                    OptionKind::Put => (c.strike - spot).max(Decimal::ZERO),
                };
                let years = (c.expiry - at()).num_seconds() as f64 / (365.0 * 86_400.0);
                let k = c.strike.to_f64().expect("strike");
                let ask = e.quote.ask.expect("an ask");
                assert!(ask > intrinsic, "{}: ask {ask} ≤ intrinsic", c.symbol);
                let ask_f = ask.to_f64().expect("ask");
                assert!(
                    implied_vol(c.kind, ask_f, f, k, years).is_some(),
                    "{}: no IV at the ask {ask}",
                    c.symbol
                );
                if let Some(bid) = e.quote.bid {
                    assert!(
                        bid >= intrinsic,
                        "{}: bid {bid} < intrinsic {intrinsic}",
                        c.symbol
                    );
                    assert!(bid < ask);
                }
            }
        }
    }
}
