//! Strike selection: the expiry, then one call and one put, each chosen independently.
//!
//! Rules: the nearest expiry at least `expiry_buffer_hours` away; both legs on it; each
//! contract must pass the liquidity filters and carry a fresh quote; in delta mode its
//! |delta| must lie in the band (both ends inclusive), in premium mode its bid in the leg's
//! window. Among the survivors the pick rule decides; ties go to the contract further out of
//! the money, then to the lower symbol, so the result never depends on input order.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::Symbol;
use crate::model::{ChainEntry, ChainSnapshot, OptionKind};
use crate::profile::GateMiss;
use crate::profile::{PickRule, PriceWindow, Profile, StrikeMode};

/// The chosen pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Settlement instant shared by both legs.
    pub expiry: DateTime<Utc>,
    /// The call to sell.
    pub call: ChainEntry,
    /// The put to sell.
    pub put: ChainEntry,
}

/// Why one side had no qualifying contract: how many were dropped at each filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejections {
    /// Contracts of this kind on the chosen expiry.
    pub listed: usize,
    /// Quote older than `liquidity.max_quote_age_secs`.
    pub stale: usize,
    /// No greeks (delta mode) or no usable price (premium mode).
    pub no_data: usize,
    /// No bid, spread too wide, open interest too low, or trading halted at the venue.
    pub illiquid: usize,
    /// Contract size differs from the profile's `contract_size`.
    pub wrong_size: usize,
    /// |delta| outside the band, or premium outside the window.
    pub outside: usize,
}

/// What a side's contracts are compared on: |delta| in delta mode, the premium in premium mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The absolute delta.
    Delta,
    /// The bid (or the mark when no bid is required).
    Premium,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Delta => "|delta|",
            Self::Premium => "premium",
        })
    }
}

/// A contract that was fresh and priced but fell outside the wanted range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMiss {
    /// Delta's product symbol.
    pub symbol: Symbol,
    /// Strike price.
    pub strike: Decimal,
    /// Its |delta| (to 4 places) or premium.
    pub value: Decimal,
}

/// How far a side's market was from the profile: the wanted range and the closest contract
/// under it and over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nearest {
    /// What was compared.
    pub measure: Measure,
    /// Lowest accepted value.
    pub low: Decimal,
    /// Highest accepted value.
    pub high: Decimal,
    /// The contract with the highest value under `low`.
    pub below: Option<NearMiss>,
    /// The contract with the lowest value over `high`.
    pub above: Option<NearMiss>,
}

impl Nearest {
    fn new(measure: Measure, low: Decimal, high: Decimal) -> Self {
        Self {
            measure,
            low,
            high,
            below: None,
            above: None,
        }
    }

    /// Keeps `miss` if it is the closest so far on its side of the range; between equally
    /// close ones, the lower symbol, so the answer does not depend on the chain's order.
    fn offer(&mut self, miss: NearMiss) {
        let closer = |m: &NearMiss, kept: &NearMiss, nearer: std::cmp::Ordering| {
            m.value.cmp(&kept.value) == nearer || (m.value == kept.value && m.symbol < kept.symbol)
        };
        if miss.value < self.low {
            if self
                .below
                .as_ref()
                .is_none_or(|b| closer(&miss, b, std::cmp::Ordering::Greater))
            {
                self.below = Some(miss);
            }
        } else if miss.value > self.high
            && self
                .above
                .as_ref()
                .is_none_or(|a| closer(&miss, a, std::cmp::Ordering::Less))
        {
            self.above = Some(miss);
        }
    }
}

impl fmt::Display for Nearest {
    /// `no |delta| in 0.10–0.15 (nearest: 82500 at 0.201, 83000 at 0.065)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no {} in {}–{}",
            self.measure,
            self.low.normalize(),
            self.high.normalize()
        )?;
        let mut near: Vec<&NearMiss> = self.below.iter().chain(self.above.iter()).collect();
        near.sort_by_key(|m| m.strike);
        if near.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = near
            .iter()
            .map(|m| format!("{} at {}", m.strike.normalize(), m.value.normalize()))
            .collect();
        write!(f, " (nearest: {})", list.join(", "))
    }
}

/// Why a day's entry window passed without an entry, in the words a backtest report counts
/// days by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoEntryCause {
    /// No contract of a side's kind was listed on the expiry.
    EmptyChain,
    /// No expiry settles far enough out.
    NoExpiry,
    /// No contract's |delta| in the band (premium in the window).
    OutsideBand,
    /// The quotes were older than the profile's limit.
    StaleQuotes,
    /// No bid, a spread too wide, too little open interest, or trading halted.
    Illiquid,
    /// No greeks (delta mode) or no usable price (premium mode).
    NoData,
    /// The contract size differs from the profile's.
    WrongSize,
    /// New entries were held (a dead-man switch not armed, an order the venue did not let
    /// go of, a venue stop refused).
    EntriesHeld,
    /// No chain came while the entry window was open.
    WindowMissed,
    /// The day's weekday is not among the profile's `gates.weekdays`.
    GateWeekday,
    /// The day is one of `gates.skip_dates`.
    GateSkipDate,
    /// The expiry was nearer or further than `gates` allow.
    GateHoursToExpiry,
    /// The at-the-money IV was outside `gates`' bounds.
    GateAtmIv,
    /// The pair's spread was wider than `gates.max_pair_spread_pct`.
    GatePairSpread,
    /// A re-entry on the same strikes found one of them unquoted, stale or illiquid.
    SameStrikes,
}

impl fmt::Display for NoEntryCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EmptyChain => "no contract listed",
            Self::NoExpiry => "no expiry far enough out",
            Self::OutsideBand => "no strike in the band",
            Self::StaleQuotes => "quotes too old",
            Self::Illiquid => "no bid, spread too wide or halted",
            Self::NoData => "no greeks or price",
            Self::WrongSize => "contract size differs",
            Self::EntriesHeld => "entries held",
            Self::WindowMissed => "no chain in the window",
            Self::GateWeekday => "gate: weekday",
            Self::GateSkipDate => "gate: skip date",
            Self::GateHoursToExpiry => "gate: hours to expiry",
            Self::GateAtmIv => "gate: ATM IV",
            Self::GatePairSpread => "gate: pair spread",
            Self::SameStrikes => "re-entry: same strikes not tradeable",
        })
    }
}

/// Why no strangle can be entered now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoEntry {
    /// The chain is empty.
    EmptyChain,
    /// No expiry settles at least `buffer_hours` from now.
    NoExpiry {
        /// The profile's buffer.
        buffer_hours: u32,
        /// The latest listed expiry, if any.
        latest: Option<DateTime<Utc>>,
    },
    /// One side had no qualifying contract.
    NoContract {
        /// The side that failed.
        kind: OptionKind,
        /// The expiry searched.
        expiry: DateTime<Utc>,
        /// What the filters dropped.
        rejected: Rejections,
        /// The band or window, and the contracts closest to it.
        nearest: Box<Nearest>,
    },
    /// An entry gate of the profile closed (a day, an expiry or a market it excludes).
    Gated(crate::profile::GateMiss),
    /// A re-entry on the same strikes: one of them cannot be sold now.
    SameStrikes {
        /// The contract.
        symbol: crate::ids::Symbol,
        /// Why: not quoted, its quote too old, or illiquid.
        problem: String,
    },
}

impl NoEntry {
    /// The cause a report counts this by: for a side with no qualifying contract, the filter
    /// that dropped most of its contracts (on a tie, the first of stale quotes, no data,
    /// illiquid, wrong size, outside the band).
    pub fn cause(&self) -> NoEntryCause {
        match self {
            Self::EmptyChain => NoEntryCause::EmptyChain,
            Self::NoExpiry { .. } => NoEntryCause::NoExpiry,
            Self::SameStrikes { .. } => NoEntryCause::SameStrikes,
            Self::Gated(miss) => match miss {
                GateMiss::Weekday { .. } => NoEntryCause::GateWeekday,
                GateMiss::SkipDate { .. } => NoEntryCause::GateSkipDate,
                GateMiss::HoursToExpiry { .. } => NoEntryCause::GateHoursToExpiry,
                GateMiss::AtmIv { .. } => NoEntryCause::GateAtmIv,
                GateMiss::PairSpread { .. } => NoEntryCause::GatePairSpread,
            },
            Self::NoContract { rejected: r, .. } => {
                let counts = [
                    (r.stale, NoEntryCause::StaleQuotes),
                    (r.no_data, NoEntryCause::NoData),
                    (r.illiquid, NoEntryCause::Illiquid),
                    (r.wrong_size, NoEntryCause::WrongSize),
                    (r.outside, NoEntryCause::OutsideBand),
                ];
                let mut best = (0, NoEntryCause::EmptyChain);
                for (n, c) in counts {
                    if n > best.0 {
                        best = (n, c);
                    }
                }
                best.1
            }
        }
    }

    /// Whether `other` has the same cause (variant, side, expiry and filter counts), whatever
    /// the nearest contracts' values: the engine records a new no-entry event only when the
    /// cause changes, not at every tick of the market.
    pub fn same_cause(&self, other: &NoEntry) -> bool {
        match (self, other) {
            (
                Self::NoContract {
                    kind,
                    expiry,
                    rejected,
                    ..
                },
                Self::NoContract {
                    kind: k2,
                    expiry: e2,
                    rejected: r2,
                    ..
                },
            ) => kind == k2 && expiry == e2 && rejected == r2,
            // The same gate, whatever the figures (an IV or a spread moves every tick).
            (Self::Gated(a), Self::Gated(b)) => {
                std::mem::discriminant(a) == std::mem::discriminant(b)
            }
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for NoEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyChain => write!(f, "the option chain is empty"),
            Self::Gated(miss) => write!(f, "{miss}"),
            Self::SameStrikes { symbol, problem } => {
                write!(f, "re-entry on the same strikes: {symbol} {problem}")
            }
            Self::NoExpiry {
                buffer_hours,
                latest,
            } => match latest {
                Some(l) => write!(
                    f,
                    "no expiry settles at least {buffer_hours} h from now (latest listed: {l})"
                ),
                None => write!(f, "no expiry listed"),
            },
            Self::NoContract {
                kind,
                expiry,
                rejected: r,
                nearest,
            } => write!(
                f,
                "no {kind} qualifies on expiry {expiry}: {nearest}; {} listed, {} stale, \
                 {} without data, {} illiquid, {} wrong contract size, {} outside the band/window",
                r.listed, r.stale, r.no_data, r.illiquid, r.wrong_size, r.outside
            ),
        }
    }
}

/// Chooses the expiry and the two legs from `chain` at `now`.
///
/// ```
/// # use strangle_core::{select::select, profile::Profile};
/// # fn demo(chain: &strangle_core::model::ChainSnapshot, now: chrono::DateTime<chrono::Utc>) {
/// match select(chain, &Profile::named("p"), now) {
///     Ok(sel) => println!("sell {} and {}", sel.call.contract.symbol, sel.put.contract.symbol),
///     Err(why) => println!("no entry: {why}"),
/// }
/// # }
/// ```
pub fn select(
    chain: &ChainSnapshot,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<Selection, NoEntry> {
    if chain.entries.is_empty() {
        return Err(NoEntry::EmptyChain);
    }
    let earliest = now + chrono::Duration::hours(i64::from(profile.expiry_buffer_hours));
    let mut expiry: Option<DateTime<Utc>> = None;
    let mut latest: Option<DateTime<Utc>> = None;
    for e in &chain.entries {
        let x = e.contract.expiry;
        latest = latest.max(Some(x));
        if x >= earliest && expiry.is_none_or(|cur| x < cur) {
            expiry = Some(x);
        }
    }
    let expiry = expiry.ok_or(NoEntry::NoExpiry {
        buffer_hours: profile.expiry_buffer_hours,
        latest,
    })?;
    let call = pick_side(chain, profile, now, expiry, OptionKind::Call)?;
    let put = pick_side(chain, profile, now, expiry, OptionKind::Put)?;
    Ok(Selection {
        expiry,
        call: call.clone(),
        put: put.clone(),
    })
}

/// A candidate with its ranking score (lower is better).
struct Scored<'a> {
    entry: &'a ChainEntry,
    score: f64,
}

fn pick_side<'a>(
    chain: &'a ChainSnapshot,
    profile: &Profile,
    now: DateTime<Utc>,
    expiry: DateTime<Utc>,
    kind: OptionKind,
) -> Result<&'a ChainEntry, NoEntry> {
    // The near misses only explain a side with no contract: they are looked for (a decimal
    // and a symbol per contract outside the range) on a second pass, only then.
    scan_side(chain, profile, now, expiry, kind, false)
        .or_else(|_| scan_side(chain, profile, now, expiry, kind, true))
}

/// One pass over a side's contracts on `expiry`: the best one, or why there is none (with
/// the nearest contracts when `near_misses`).
fn scan_side<'a>(
    chain: &'a ChainSnapshot,
    profile: &Profile,
    now: DateTime<Utc>,
    expiry: DateTime<Utc>,
    kind: OptionKind,
    near_misses: bool,
) -> Result<&'a ChainEntry, NoEntry> {
    let mut rej = Rejections::default();
    let mut nearest = wanted(profile, kind);
    let stale_before =
        now - chrono::Duration::seconds(i64::from(profile.liquidity.max_quote_age_secs));
    let mut best: Option<Scored<'a>> = None;
    for e in chain
        .entries
        .iter()
        .filter(|e| e.contract.expiry == expiry && e.contract.kind == kind)
    {
        rej.listed += 1;
        let score = match score(e, profile, stale_before, &mut rej) {
            Ok(score) => score,
            Err(Some(miss)) => {
                if near_misses {
                    nearest.offer(NearMiss {
                        symbol: e.contract.symbol.clone(),
                        strike: e.contract.strike,
                        value: miss.value(),
                    });
                }
                continue;
            }
            Err(None) => continue,
        };
        let cand = Scored { entry: e, score };
        best = match best {
            Some(b) if better(&b, &cand) != Ordering::Greater => Some(b),
            _ => Some(cand),
        };
    }
    best.map(|b| b.entry).ok_or(NoEntry::NoContract {
        kind,
        expiry,
        rejected: rej,
        nearest: Box::new(nearest),
    })
}

/// A contract outside the wanted range, by what it was measured on.
enum Miss {
    /// Its |delta|.
    Delta(f64),
    /// Its premium.
    Premium(Decimal),
}

impl Miss {
    /// The value a [`NearMiss`] reports: |delta| to four places, or the premium.
    fn value(&self) -> Decimal {
        match self {
            Miss::Delta(d) => delta_value(*d),
            Miss::Premium(p) => *p,
        }
    }
}

/// The range a side's contracts must fall in, with no contract offered yet.
fn wanted(profile: &Profile, kind: OptionKind) -> Nearest {
    match profile.strike_mode {
        StrikeMode::Delta => Nearest::new(
            Measure::Delta,
            delta_value(profile.delta_band.low),
            delta_value(profile.delta_band.high),
        ),
        StrikeMode::Premium => {
            let w = profile.premium_windows.as_ref().map(|w| match kind {
                OptionKind::Call => &w.call,
                OptionKind::Put => &w.put,
            });
            Nearest::new(
                Measure::Premium,
                w.map_or(Decimal::ZERO, |w| w.min),
                w.map_or(Decimal::ZERO, |w| w.max),
            )
        }
    }
}

/// |delta| as a decimal to four places, for reports.
fn delta_value(d: f64) -> Decimal {
    Decimal::from_f64(d).unwrap_or_default().round_dp(4)
}

/// Orders two candidates: `Less` means `a` wins.
fn better(a: &Scored<'_>, b: &Scored<'_>) -> Ordering {
    a.score
        .total_cmp(&b.score)
        .then_with(|| {
            // Further out of the money first: higher call strikes, lower put strikes.
            let (sa, sb) = (a.entry.contract.strike, b.entry.contract.strike);
            match a.entry.contract.kind {
                OptionKind::Call => sb.cmp(&sa),
                OptionKind::Put => sa.cmp(&sb),
            }
        })
        .then_with(|| a.entry.contract.symbol.cmp(&b.entry.contract.symbol))
}

/// Applies the filters; returns the ranking score of a qualifying contract, or for a
/// contract outside the band or window its value (|delta| or premium), or nothing.
fn score(
    e: &ChainEntry,
    profile: &Profile,
    stale_before: DateTime<Utc>,
    rej: &mut Rejections,
) -> Result<f64, Option<Miss>> {
    let q = &e.quote;
    let liq = &profile.liquidity;
    if q.timestamp < stale_before {
        rej.stale += 1;
        return Err(None);
    }
    if let Some(cs) = profile.contract_size {
        if e.contract.contract_size != cs {
            rej.wrong_size += 1;
            return Err(None);
        }
    }
    // Cheap filters first: most contracts fall outside the band.
    let score = match profile.strike_mode {
        StrikeMode::Delta => {
            let Some(d) = q.greeks.map(|g| g.delta.abs()).filter(|d| d.is_finite()) else {
                rej.no_data += 1;
                return Err(None);
            };
            if !profile.delta_band.contains(d) {
                rej.outside += 1;
                return Err(Some(Miss::Delta(d)));
            }
            match profile.pick_rule {
                PickRule::ClosestToMid => (d - profile.delta_band.mid()).abs(),
                PickRule::HighestDelta => -d,
            }
        }
        StrikeMode::Premium => {
            let Some(windows) = profile.premium_windows.as_ref() else {
                rej.no_data += 1;
                return Err(None);
            };
            let w: &PriceWindow = match e.contract.kind {
                OptionKind::Call => &windows.call,
                OptionKind::Put => &windows.put,
            };
            let Some(price) =
                q.bid
                    .filter(|b| *b > Decimal::ZERO)
                    .or(if profile.liquidity.require_bid {
                        None
                    } else {
                        Some(q.mark)
                    })
            else {
                rej.no_data += 1;
                return Err(None);
            };
            if price < w.min || price > w.max {
                rej.outside += 1;
                return Err(Some(Miss::Premium(price)));
            }
            let mid = (w.min + w.max) / Decimal::TWO;
            (price - mid).abs().to_f64().ok_or(None)?
        }
    };
    if !liquid(q, liq) {
        rej.illiquid += 1;
        return Err(None);
    }
    Ok(score)
}

/// Whether `q` passes the liquidity filters: a bid when one is required, the spread, the
/// open interest, and a contract the venue takes orders on.
fn liquid(q: &crate::model::Quote, liq: &crate::profile::Liquidity) -> bool {
    let has_bid = q.bid.is_some_and(|b| b > Decimal::ZERO);
    // spread / mid ≤ max %, without a division: (ask − bid) × 200 ≤ max × (ask + bid).
    let spread_ok = match liq.max_spread_pct {
        Some(max) => match (q.bid, q.ask) {
            (Some(b), Some(a)) if a + b > Decimal::ZERO => {
                (a - b) * Decimal::from(200) <= max * (a + b)
            }
            _ => false,
        },
        None => true,
    };
    let oi_ok = match liq.min_open_interest {
        Some(min) => q.open_interest.is_some_and(|oi| oi >= min),
        None => true,
    };
    // A contract the venue takes no new order on is no candidate.
    (!liq.require_bid || has_bid) && spread_ok && oi_ok && q.trading_halt.is_none()
}

/// The same two contracts again, for a re-entry's `same_strikes`: `call` and `put` must be in
/// `chain`, quoted no longer ago than the profile's `max_quote_age_secs`, and pass its
/// liquidity filters (the band or window is not asked again: these are the strikes sold).
pub fn same_strikes(
    chain: &ChainSnapshot,
    profile: &Profile,
    now: DateTime<Utc>,
    call: &crate::ids::Symbol,
    put: &crate::ids::Symbol,
) -> Result<Selection, NoEntry> {
    let stale_before =
        now - chrono::Duration::seconds(i64::from(profile.liquidity.max_quote_age_secs));
    let usable = |symbol: &crate::ids::Symbol| -> Result<ChainEntry, NoEntry> {
        let problem = |p: &str| NoEntry::SameStrikes {
            symbol: symbol.clone(),
            problem: p.to_string(),
        };
        let e = chain
            .get(symbol.as_str())
            .ok_or_else(|| problem("is not quoted"))?;
        if e.quote.timestamp < stale_before {
            return Err(problem("has a quote older than max_quote_age_secs"));
        }
        if !liquid(&e.quote, &profile.liquidity) {
            return Err(problem(
                "fails the liquidity filters (bid, spread, open interest or halted)",
            ));
        }
        Ok(e.clone())
    };
    let (call, put) = (usable(call)?, usable(put)?);
    Ok(Selection {
        expiry: call.contract.expiry,
        call,
        put,
    })
}
