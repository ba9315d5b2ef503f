//! A strategy profile: every setting of one strangle strategy, with units in the names.
//!
//! Percentages are percentages (`80` means 80 %), never fractions; times of day are IST
//! (`Asia/Kolkata`) written `HH:MM`. A profile deserializes from JSON or TOML with defaults
//! for what is left out, and [`Profile::validate`] reports every problem at once.
//!
//! ```
//! use strangle_core::profile::Profile;
//! let p: Profile = serde_json::from_str(r#"{"name": "btc-daily", "contracts_per_leg": "10"}"#).unwrap();
//! assert_eq!(p.delta_band.low, 0.10);
//! assert!(p.validate().is_ok());
//! ```

mod cost;
pub mod gates;
mod leg_exit;
mod optional_limit;
mod reentry;
pub mod seed;
mod time_of_day;
mod validate;
mod warning;

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{FeeModel, Underlying};

pub use cost::RoundTrip;
pub use gates::{GateMiss, Gates, SkipDate, Weekday};
pub use leg_exit::{LegExit, Survivor};
pub use reentry::{Reentry, ReentryMode, MAX_REENTRIES};
pub use time_of_day::TimeOfDay;
pub use warning::{Warning, WarningKind};

/// How strikes are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StrikeMode {
    /// By |delta| inside [`Profile::delta_band`].
    #[default]
    Delta,
    /// By premium inside [`Profile::premium_windows`].
    Premium,
}

/// Which contract wins inside the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PickRule {
    /// |delta| closest to the middle of the band.
    #[default]
    ClosestToMid,
    /// The largest |delta| in the band (the most premium).
    HighestDelta,
}

/// Inclusive |delta| band, `0 < low < high < 1`; a field left out takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct DeltaBand {
    /// Lowest |delta| accepted.
    pub low: f64,
    /// Highest |delta| accepted.
    pub high: f64,
}

impl DeltaBand {
    /// Middle of the band.
    pub fn mid(&self) -> f64 {
        (self.low + self.high) / 2.0
    }

    /// Whether |delta| lies inside the band, both ends included.
    pub fn contains(&self, abs_delta: f64) -> bool {
        abs_delta >= self.low && abs_delta <= self.high
    }
}

impl Default for DeltaBand {
    fn default() -> Self {
        Self {
            low: 0.10,
            high: 0.15,
        }
    }
}

/// An inclusive price window in USD per one unit of underlying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceWindow {
    /// Lowest premium accepted.
    pub min: Decimal,
    /// Highest premium accepted.
    pub max: Decimal,
}

/// Premium windows per leg, for [`StrikeMode::Premium`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PremiumWindows {
    /// Window for the call's bid.
    pub call: PriceWindow,
    /// Window for the put's bid.
    pub put: PriceWindow,
}

/// Filters a contract must pass before it may be selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Liquidity {
    /// Require a best bid (we sell at it).
    pub require_bid: bool,
    /// Widest bid/ask spread accepted, in % of the mid; `"off"` disables the filter.
    #[serde(with = "optional_limit")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "50"))]
    pub max_spread_pct: Option<Decimal>,
    /// Fewest contracts of open interest accepted.
    pub min_open_interest: Option<Decimal>,
    /// Oldest quote accepted for an entry, in seconds.
    pub max_quote_age_secs: u32,
}

impl Default for Liquidity {
    fn default() -> Self {
        Self {
            require_bid: true,
            max_spread_pct: Some(Decimal::from(50)),
            min_open_interest: None,
            max_quote_age_secs: 30,
        }
    }
}

/// One trailing-stop tier: once profit reaches `trigger_pct` of premium, lock `lock_pct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrailingTier {
    /// Profit (% of premium received) that arms the tier.
    pub trigger_pct: Decimal,
    /// Profit (% of premium) that is then locked; `0` is a breakeven stop.
    pub lock_pct: Decimal,
}

/// Continues the ratchet above the last tier: every `every_pct` more profit locks
/// `lock_pct` more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrailingStep {
    /// Profit increment (percentage points) above the last tier's trigger.
    pub every_pct: Decimal,
    /// Lock increment (percentage points) for each such increment.
    pub lock_pct: Decimal,
}

/// The tiered trailing stop.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Trailing {
    /// Tiers in increasing trigger order.
    pub tiers: Vec<TrailingTier>,
    /// Optional rule above the last tier.
    pub step: Option<TrailingStep>,
}

/// How orders are worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Execution {
    /// Limit orders tried per leg before giving up or falling back to market.
    pub limit_attempts: u32,
    /// Seconds a limit order may rest before it is cancelled and repriced.
    pub fill_wait_secs: u32,
    /// Ticks added per new attempt in the direction that fills (lower sells, higher buys).
    pub reprice_step_ticks: u32,
    /// On entry, a leg filled to at least this % of its size when attempts run out is kept
    /// at the filled size; below it the entry fails and is unwound.
    pub partial_fill_threshold_pct: Decimal,
    /// Seconds to wait for a cancel to be confirmed before asking again.
    pub cancel_confirm_secs: u32,
    /// After the last limit attempt, send an aggressive IOC order for the rest: priced
    /// `ioc_ticks` past the touch, within the product's price band (never a market order:
    /// Delta ignores the limit of a market order).
    pub market_fallback: bool,
    /// Ticks past the touch of an aggressive IOC order (the fallback after the limit
    /// attempts, and every panic exit): buys at the ask plus this many ticks, sells at the
    /// bid less this many, capped by the product's price band; repeated on fresh quotes
    /// until the leg is flat.
    pub ioc_ticks: u32,
}

impl Default for Execution {
    fn default() -> Self {
        Self {
            limit_attempts: 3,
            fill_wait_secs: 10,
            reprice_step_ticks: 5,
            partial_fill_threshold_pct: Decimal::ONE_HUNDRED,
            cancel_confirm_secs: 5,
            market_fallback: true,
            ioc_ticks: 10,
        }
    }
}

/// Stop orders resting at the venue: the protection that stays when strangle is down.
///
/// After a short leg fills, a reduce-only stop-limit order to buy it back rests at the venue.
/// Its trigger is the leg's price at which the session's loss limit is passed whatever the
/// other leg does (the other leg falling to zero included): with `R` the premium the session
/// has received less what buying back has cost (USD), `F` the floor the exit rules hold the
/// session's PnL to (`-max_loss_pct` % of premium, raised to the trailing stop's locked level
/// once it has one) and `n × s` the leg's open contracts times the contract size, the stop
/// is `(R − F) / (n × s)`, rounded up to the tick. It never fires before the strategy's own
/// max-loss or trailing exit would (before fees), so while strangle runs it is only a
/// backstop. It moves down when the trailing stop tightens (a new stop is placed before the
/// old one is cancelled) and is cancelled when the leg is flat. A profile with `max_loss_pct`
/// off has no loss limit and so gets no venue stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct VenueStop {
    /// Place venue stops (on by default).
    pub enabled: bool,
    /// The price the stop watches: `mark_price` (default), `last_traded_price` or
    /// `spot_price` (Delta's `stop_trigger_method`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "mark_price"))]
    pub trigger: crate::model::StopTrigger,
    /// The triggered order's limit, this % above the stop price (rounded up to the tick):
    /// how far past the trigger the venue may fill while nobody watches.
    pub limit_offset_pct: Decimal,
}

impl Default for VenueStop {
    fn default() -> Self {
        Self {
            enabled: true,
            trigger: crate::model::StopTrigger::MarkPrice,
            limit_offset_pct: Decimal::from(50),
        }
    }
}

/// What an exit rule compares with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PnlBasis {
    /// Net PnL with the open contracts valued at the mark (the exchange's fair price).
    Mark,
    /// Net PnL if the open contracts were bought back now at the quoted asks, the exit fees
    /// the fee model predicts included: what closing would realise.
    CloseNow,
}

/// The PnL basis of each exit rule. By default a profit exit (max profit, the trailing stop)
/// looks at what closing would realise, so it never fires on a profit the spread and the exit
/// fee would eat; max loss looks at the mark, so a momentary blow-out of the spread does not
/// stop a position out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ExitBasis {
    /// Basis of `max_profit_pct` (default `close_now`).
    pub max_profit: PnlBasis,
    /// Basis of the trailing stop's peak and lock (default `close_now`).
    pub trailing: PnlBasis,
    /// Basis of `max_loss_pct` (default `mark`).
    pub max_loss: PnlBasis,
}

impl Default for ExitBasis {
    fn default() -> Self {
        Self {
            max_profit: PnlBasis::CloseNow,
            trailing: PnlBasis::CloseNow,
            max_loss: PnlBasis::Mark,
        }
    }
}

impl ExitBasis {
    /// Every rule on the mark: the original platform's behaviour.
    pub fn mark() -> Self {
        Self {
            max_profit: PnlBasis::Mark,
            trailing: PnlBasis::Mark,
            max_loss: PnlBasis::Mark,
        }
    }
}

/// Every setting of one strangle strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Profile {
    /// Unique name.
    pub name: String,
    /// BTC or ETH.
    pub underlying: Underlying,
    /// Delta (default) or premium.
    pub strike_mode: StrikeMode,
    /// |delta| band for [`StrikeMode::Delta`].
    pub delta_band: DeltaBand,
    /// Which contract wins inside the band.
    pub pick_rule: PickRule,
    /// Premium windows for [`StrikeMode::Premium`].
    pub premium_windows: Option<PremiumWindows>,
    /// Liquidity filters.
    pub liquidity: Liquidity,
    /// IST time of day at which entries may start.
    pub entry_time: TimeOfDay,
    /// Minutes after `entry_time` during which an entry may still happen.
    pub entry_window_minutes: u32,
    /// IST time of day at which an open strangle is closed (the first one after entry).
    pub exit_time: TimeOfDay,
    /// Started (or restarted) after the day's entry window but before its exit time, with no
    /// session that day yet: enter at once instead of waiting for the next day's window (the
    /// original platform's entry gate, any time after `trade_time_ist`). Off by default; the
    /// status's `next_entry_rule` says which rule applies.
    pub late_entry: bool,
    /// Minimum hours from entry to the chosen expiry's settlement.
    pub expiry_buffer_hours: u32,
    /// Close an open strangle this many minutes before settlement at the latest.
    pub exit_before_expiry_minutes: u32,
    /// Contracts sold per leg (a whole number).
    pub contracts_per_leg: Decimal,
    /// Expected underlying per contract; the entry refuses a product that differs.
    pub contract_size: Option<Decimal>,
    /// Close when the loss reaches this % of premium received; `"off"` disables it.
    #[serde(with = "optional_limit")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "80"))]
    pub max_loss_pct: Option<Decimal>,
    /// Close when the profit reaches this % of premium received; `"off"` disables it.
    #[serde(with = "optional_limit")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "80"))]
    pub max_profit_pct: Option<Decimal>,
    /// Tiered trailing stop on profit.
    pub trailing: Trailing,
    /// The PnL each exit rule looks at (mark, or what closing now would realise).
    pub exit_basis: ExitBasis,
    /// Order working.
    pub execution: Execution,
    /// Stop orders resting at the venue.
    pub venue_stop: VenueStop,
    /// Fees used by the simulated venue.
    pub fees: FeeModel,
    /// Entry gates: weekdays, skip dates, hours to expiry, ATM IV, the pair's spread (all
    /// off by default; left out of the written profile while off).
    #[serde(skip_serializing_if = "gates_off")]
    pub gates: Gates,
    /// Leg-wise stop and target, and what a leg's stop does to the other leg (off by
    /// default; left out of the written profile while off).
    #[serde(skip_serializing_if = "leg_exit_off")]
    pub leg_exit: LegExit,
    /// Re-entry after a stop (off by default; left out of the written profile while off).
    #[serde(skip_serializing_if = "reentry_off")]
    pub reentry: Reentry,
}

fn gates_off(g: &Gates) -> bool {
    !g.is_set()
}

fn leg_exit_off(l: &LegExit) -> bool {
    !l.is_set()
}

fn reentry_off(r: &Reentry) -> bool {
    !r.is_set()
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            name: String::new(),
            underlying: Underlying::Btc,
            strike_mode: StrikeMode::Delta,
            delta_band: DeltaBand::default(),
            pick_rule: PickRule::ClosestToMid,
            premium_windows: None,
            liquidity: Liquidity::default(),
            entry_time: TimeOfDay(NaiveTime::from_hms_opt(9, 30, 0).unwrap_or_default()),
            entry_window_minutes: 30,
            exit_time: TimeOfDay(NaiveTime::from_hms_opt(15, 20, 0).unwrap_or_default()),
            late_entry: false,
            expiry_buffer_hours: 24,
            exit_before_expiry_minutes: 30,
            contracts_per_leg: Decimal::ONE,
            contract_size: None,
            max_loss_pct: Some(Decimal::ONE_HUNDRED),
            max_profit_pct: Some(Decimal::from(80)),
            trailing: Trailing {
                tiers: vec![
                    TrailingTier {
                        trigger_pct: Decimal::from(30),
                        lock_pct: Decimal::ZERO,
                    },
                    TrailingTier {
                        trigger_pct: Decimal::from(50),
                        lock_pct: Decimal::from(25),
                    },
                ],
                step: Some(TrailingStep {
                    every_pct: Decimal::TEN,
                    lock_pct: Decimal::from(5),
                }),
            },
            exit_basis: ExitBasis::default(),
            execution: Execution::default(),
            venue_stop: VenueStop::default(),
            fees: FeeModel::default(),
            gates: Gates::default(),
            leg_exit: LegExit::default(),
            reentry: Reentry::default(),
        }
    }
}

impl Profile {
    /// A default profile with the given name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rich() -> Profile {
        let mut p = Profile::named("round-trip");
        p.underlying = Underlying::Eth;
        p.strike_mode = StrikeMode::Premium;
        p.premium_windows = Some(PremiumWindows {
            call: PriceWindow {
                min: Decimal::new(105, 1),
                max: Decimal::from(40),
            },
            put: PriceWindow {
                min: Decimal::from(8),
                max: Decimal::from(35),
            },
        });
        p.pick_rule = PickRule::HighestDelta;
        p.liquidity.min_open_interest = Some(Decimal::from(25));
        p.entry_time = TimeOfDay::hm(10, 15).unwrap_or(p.entry_time);
        p.contract_size = Some(Decimal::new(1, 2));
        p.max_profit_pct = None;
        p
    }

    #[test]
    fn json_round_trip() {
        let p = rich();
        let json = serde_json::to_string(&p).expect("serialize");
        assert!(json.contains(r#""entry_time":"10:15""#), "{json}");
        let back: Profile = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, p);
    }

    #[test]
    fn toml_round_trip() {
        let p = rich();
        let text = toml::to_string(&p).expect("serialize");
        let back: Profile = toml::from_str(&text).expect("deserialize");
        assert_eq!(back, p);
        assert!(text.contains("max_profit_pct = \"off\""), "{text}");
        let on: Profile = toml::from_str("max_profit_pct = 60").expect("number");
        assert_eq!(on.max_profit_pct, Some(Decimal::from(60)));
        let json: Profile = serde_json::from_str(r#"{"max_loss_pct": null}"#).expect("null");
        assert_eq!(json.max_loss_pct, None);
    }

    /// The README's TOML block that starts with `first_line`, as a named profile.
    pub(crate) fn readme_profile(first_line: &str) -> Profile {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find(&format!("```toml\n{first_line}"))
            .unwrap_or_else(|| panic!("README shows {first_line}"))
            + 8;
        let end = start + readme[start..].find("```").expect("its end");
        let mut p: Profile = toml::from_str(&readme[start..end]).expect("it parses");
        p.name = "readme".into();
        p.validate().expect("it is valid");
        p
    }

    #[test]
    fn readme_example_parses_and_validates() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n").expect("toml block") + 8;
        let end = start + readme[start..].find("```").expect("end of block");
        let p: Profile = toml::from_str(&readme[start..end]).expect("README profile parses");
        assert_eq!(p.name, "btc-daily");
        p.validate().expect("the README profile is valid");
    }

    #[test]
    fn unknown_and_bad_fields_are_named() {
        let err =
            toml::from_str::<Profile>("name = \"x\"\ndelta_bnad = 1").expect_err("unknown field");
        assert!(err.to_string().contains("delta_bnad"), "{err}");
        let err = toml::from_str::<Profile>("name = \"x\"\nentry_time = \"25:00\"")
            .expect_err("bad time");
        assert!(err.to_string().contains("25:00"), "{err}");
        let err = serde_json::from_str::<Profile>(r#"{"underlying": "DOGE"}"#)
            .expect_err("bad underlying");
        assert!(err.to_string().contains("DOGE"), "{err}");
    }
}
