//! Entry gates: conditions a day, an expiry and the market must meet before a strangle is
//! sold. Each gate is off until set; a day that a gate closes is explained by a
//! [`GateMiss`], which the strategy reports like any other reason for no entry (the audit
//! trail, the heartbeat, the backtest's count of days by cause).
//!
//! ```
//! use strangle_core::profile::Profile;
//! let p: Profile = toml::from_str(r#"
//!     name = "weekdays"
//!     [gates]
//!     weekdays = ["mon", "tue", "wed", "thu", "fri"]
//!     skip_dates = [{ date = "2026-12-16", reason = "FOMC" }]
//!     max_hours_to_expiry = 30
//!     min_atm_iv_pct = 35
//!     max_pair_spread_pct = 8
//! "#).expect("a profile");
//! p.validate().expect("valid");
//! assert!(p.gates.is_set());
//! ```

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{ChainEntry, ChainSnapshot, OptionKind};

/// A day of the week, written `mon` … `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// The weekday of an (IST) date.
    pub fn of(day: NaiveDate) -> Self {
        match day.weekday() {
            chrono::Weekday::Mon => Self::Mon,
            chrono::Weekday::Tue => Self::Tue,
            chrono::Weekday::Wed => Self::Wed,
            chrono::Weekday::Thu => Self::Thu,
            chrono::Weekday::Fri => Self::Fri,
            chrono::Weekday::Sat => Self::Sat,
            chrono::Weekday::Sun => Self::Sun,
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        })
    }
}

/// A trading day on which no strangle is entered, with why (an FOMC or CPI day, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SkipDate {
    /// The IST trading day.
    pub date: NaiveDate,
    /// Why it is skipped (shown in the trail and the report).
    #[serde(default)]
    pub reason: String,
}

/// The entry gates of a profile; every one is off until set. A profile leaves them out
/// while all are off; once one is set, every field is written (`null` for one off), so a
/// sweep can grid any of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Gates {
    /// IST weekdays on which a strangle may be entered (empty: every day).
    pub weekdays: Vec<Weekday>,
    /// IST trading days on which no strangle is entered.
    pub skip_dates: Vec<SkipDate>,
    /// Fewest hours from entry to the chosen expiry.
    pub min_hours_to_expiry: Option<u32>,
    /// Most hours from entry to the chosen expiry.
    pub max_hours_to_expiry: Option<u32>,
    /// Lowest at-the-money implied volatility, % (the mean mark IV of the call and the put
    /// struck nearest the index, on the chosen expiry).
    pub min_atm_iv_pct: Option<Decimal>,
    /// Highest at-the-money implied volatility, %.
    pub max_atm_iv_pct: Option<Decimal>,
    /// Largest combined spread of the pair to sell: (call ask − call bid + put ask − put
    /// bid) as % of the two mids' sum.
    pub max_pair_spread_pct: Option<Decimal>,
}

/// Why a gate kept a strangle from being entered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "gate", rename_all = "snake_case")]
pub enum GateMiss {
    /// The day's weekday is not among `gates.weekdays`.
    Weekday {
        /// The IST trading day.
        day: NaiveDate,
        /// Its weekday.
        weekday: Weekday,
    },
    /// The day is one of `gates.skip_dates`.
    SkipDate {
        /// The IST trading day.
        day: NaiveDate,
        /// The calendar's reason.
        reason: String,
    },
    /// The chosen expiry is nearer or further than the gates allow.
    HoursToExpiry {
        /// Hours from now to the expiry (whole hours, rounded down).
        hours: i64,
        /// The gate's least, if set.
        min: Option<u32>,
        /// The gate's most, if set.
        max: Option<u32>,
    },
    /// The at-the-money IV is outside the gate's bounds, or could not be read.
    AtmIv {
        /// The IV, %, when the chain gave one (`None`: no mark IV near the money).
        iv_pct: Option<Decimal>,
        /// The gate's least, if set.
        min: Option<Decimal>,
        /// The gate's most, if set.
        max: Option<Decimal>,
    },
    /// The pair's combined spread is wider than the cap, or a leg has no bid or ask.
    PairSpread {
        /// The spread, % of the mids (`None`: a side without both prices).
        spread_pct: Option<Decimal>,
        /// The cap.
        max: Decimal,
    },
}

impl fmt::Display for GateMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bounds = |min: Option<String>, max: Option<String>| match (min, max) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "unbounded".to_string(),
        };
        match self {
            Self::Weekday { day, weekday } => {
                write!(f, "{day} is a {weekday}, not one of gates.weekdays")
            }
            Self::SkipDate { day, reason } if reason.is_empty() => {
                write!(f, "{day} is in gates.skip_dates")
            }
            Self::SkipDate { day, reason } => write!(f, "{day} is skipped: {reason}"),
            Self::HoursToExpiry { hours, min, max } => write!(
                f,
                "the expiry is {hours} h away; gates want {} h",
                bounds(min.map(|v| v.to_string()), max.map(|v| v.to_string()))
            ),
            Self::AtmIv { iv_pct, min, max } => {
                let want = bounds(min.map(|v| v.to_string()), max.map(|v| v.to_string()));
                match iv_pct {
                    Some(iv) => write!(f, "ATM IV is {iv} %; gates want {want} %"),
                    None => write!(f, "no ATM IV in the chain; gates want {want} %"),
                }
            }
            Self::PairSpread { spread_pct, max } => match spread_pct {
                Some(s) => write!(
                    f,
                    "the pair's spread is {s} % of its mid; gates allow {max} %"
                ),
                None => write!(
                    f,
                    "a leg has no bid or ask, so its spread is unknown; gates allow {max} %"
                ),
            },
        }
    }
}

impl Gates {
    /// Whether any gate is set.
    pub fn is_set(&self) -> bool {
        *self != Self::default()
    }

    /// The day gates (weekday, skip dates) for IST trading day `day`.
    pub fn check_day(&self, day: NaiveDate) -> Result<(), GateMiss> {
        let weekday = Weekday::of(day);
        if !self.weekdays.is_empty() && !self.weekdays.contains(&weekday) {
            return Err(GateMiss::Weekday { day, weekday });
        }
        if let Some(s) = self.skip_dates.iter().find(|s| s.date == day) {
            return Err(GateMiss::SkipDate {
                day,
                reason: s.reason.clone(),
            });
        }
        Ok(())
    }

    /// The market gates for selling `call` and `put` on `expiry` from `chain` at `now`:
    /// hours to expiry, ATM IV, the pair's spread, in that order.
    pub fn check_market(
        &self,
        chain: &ChainSnapshot,
        expiry: DateTime<Utc>,
        call: &ChainEntry,
        put: &ChainEntry,
        now: DateTime<Utc>,
    ) -> Result<(), GateMiss> {
        let (min, max) = (self.min_hours_to_expiry, self.max_hours_to_expiry);
        if min.is_some() || max.is_some() {
            let hours = (expiry - now).num_hours();
            let low = min.is_some_and(|m| hours < i64::from(m));
            let high = max.is_some_and(|m| hours > i64::from(m));
            if low || high {
                return Err(GateMiss::HoursToExpiry { hours, min, max });
            }
        }
        let (min, max) = (self.min_atm_iv_pct, self.max_atm_iv_pct);
        if min.is_some() || max.is_some() {
            let iv_pct = atm_iv_pct(chain, expiry);
            let inside =
                iv_pct.is_some_and(|iv| min.is_none_or(|m| iv >= m) && max.is_none_or(|m| iv <= m));
            if !inside {
                return Err(GateMiss::AtmIv { iv_pct, min, max });
            }
        }
        if let Some(max) = self.max_pair_spread_pct {
            let spread_pct = pair_spread_pct(call, put);
            if spread_pct.is_none_or(|s| s > max) {
                return Err(GateMiss::PairSpread { spread_pct, max });
            }
        }
        Ok(())
    }
}

/// The at-the-money IV on `expiry`, %: the mean mark IV of the call and the put struck
/// nearest the chain's index (the lower strike on a tie; either alone when the other has
/// none), to 2 decimals.
pub fn atm_iv_pct(chain: &ChainSnapshot, expiry: DateTime<Utc>) -> Option<Decimal> {
    // One pass, comparisons only: per kind the highest strike at or below the index and the
    // lowest above it; the nearer of the two is the ATM contract.
    let spot = chain.spot;
    let mut below: [Option<&ChainEntry>; 2] = [None, None];
    let mut above: [Option<&ChainEntry>; 2] = [None, None];
    for e in chain.entries.iter().filter(|e| e.contract.expiry == expiry) {
        let k = usize::from(e.contract.kind == OptionKind::Put);
        let strike = e.contract.strike;
        if strike <= spot {
            if below[k].is_none_or(|b| strike > b.contract.strike) {
                below[k] = Some(e);
            }
        } else if above[k].is_none_or(|a| strike < a.contract.strike) {
            above[k] = Some(e);
        }
    }
    let nearest = |k: usize| match (below[k], above[k]) {
        (Some(b), Some(a)) => {
            if a.contract.strike - spot < spot - b.contract.strike {
                Some(a)
            } else {
                Some(b)
            }
        }
        (b, a) => b.or(a),
    };
    let ivs: Vec<f64> = (0..2)
        .filter_map(|k| nearest(k)?.quote.mark_iv)
        .filter(|iv| iv.is_finite() && *iv > 0.0)
        .collect();
    if ivs.is_empty() {
        return None;
    }
    let mean = ivs.iter().sum::<f64>() / ivs.len() as f64;
    Decimal::from_f64_retain(mean * 100.0).map(|d| d.round_dp(2))
}

/// The pair's combined spread, % of the two mids' sum, to 4 decimals; `None` when a leg
/// lacks a bid or an ask, or the mids sum to zero.
pub fn pair_spread_pct(call: &ChainEntry, put: &ChainEntry) -> Option<Decimal> {
    let side = |e: &ChainEntry| Some((e.quote.bid?, e.quote.ask?));
    let ((cb, ca), (pb, pa)) = (side(call)?, side(put)?);
    let mids = (cb + ca + pb + pa) / Decimal::TWO;
    if mids <= Decimal::ZERO {
        return None;
    }
    Some(((ca - cb + pa - pb) * Decimal::ONE_HUNDRED / mids).round_dp(4))
}

/// The key a profile file may hold in `[gates]` to take its skip dates from a calendar file.
pub const SKIP_DATES_FILE: &str = "skip_dates_file";

/// A calendar file's skip dates, from its fields (parsed from TOML or JSON by the caller):
/// `skip_dates = [{ date = "2026-12-16", reason = "FOMC" }, ...]`.
pub fn calendar(fields: serde_json::Value) -> Result<Vec<SkipDate>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Calendar {
        skip_dates: Vec<SkipDate>,
    }
    let c: Calendar = serde_json::from_value(fields).map_err(|e| e.to_string())?;
    Ok(c.skip_dates)
}

/// Why `gates.skip_dates_file` could not be read in; each names the calendar file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The key holds something other than a path.
    #[error("gates.{SKIP_DATES_FILE}: must be the path of a calendar file")]
    NotAPath,
    /// The calendar file could not be read or parsed as TOML/JSON.
    #[error("gates.{SKIP_DATES_FILE}: {file}: {reason}")]
    Unreadable {
        /// The path as written.
        file: String,
        /// Why.
        reason: String,
    },
    /// The calendar file's fields are not a list of skip dates.
    #[error("gates.{SKIP_DATES_FILE}: {file}: {reason}")]
    Malformed {
        /// The path as written.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The profile's own `gates.skip_dates` is not a list to add the calendar to.
    #[error("gates.skip_dates must be a list to add a calendar to")]
    SkipDatesNotAList,
}

/// A profile file's fields (as JSON) with `gates.skip_dates_file` replaced by the dates it
/// names, after the file's own `gates.skip_dates`. `read` gives a calendar file's fields by
/// its path as written (or why it cannot). Nothing changes without the key.
pub fn expand_skip_dates_file(
    profile: &mut serde_json::Value,
    read: impl Fn(&str) -> Result<serde_json::Value, String>,
) -> Result<(), CalendarError> {
    let Some(gates) = profile.get_mut("gates").and_then(|g| g.as_object_mut()) else {
        return Ok(());
    };
    let Some(file) = gates.remove(SKIP_DATES_FILE) else {
        return Ok(());
    };
    let path = file.as_str().ok_or(CalendarError::NotAPath)?;
    let fields = read(path).map_err(|reason| CalendarError::Unreadable {
        file: path.to_string(),
        reason,
    })?;
    let dates = calendar(fields).map_err(|reason| CalendarError::Malformed {
        file: path.to_string(),
        reason,
    })?;
    let listed = gates
        .entry("skip_dates")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    let list = listed
        .as_array_mut()
        .ok_or(CalendarError::SkipDatesNotAList)?;
    list.extend(
        dates
            .into_iter()
            .map(|d| serde_json::json!({"date": d.date, "reason": d.reason})),
    );
    Ok(())
}

/// A profile file's fields (TOML, or JSON when it ends in `.json`), with a calendar file
/// named by `gates.skip_dates_file` (a path relative to the profile file) read in: what the
/// CLI and the Python package read profile files with. An error names the file.
pub fn read_profile_fields(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let parse = |at: &std::path::Path| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(at).map_err(|e| format!("{}: {e}", at.display()))?;
        let json = at
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", at.display()))
        } else {
            toml::from_str(&text).map_err(|e| format!("{}: {e}", at.display()))
        }
    };
    let mut v = parse(path)?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    expand_skip_dates_file(&mut v, |file| parse(&dir.join(file)))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(v)
}

/// The gates' problems, each naming its field (added to `Profile::validate`'s list).
pub(super) fn problems(g: &Gates, add: &mut dyn FnMut(String, String)) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, d) in g.weekdays.iter().enumerate() {
        if !seen.insert(*d) {
            add(
                format!("gates.weekdays[{i}]"),
                format!("{d} is listed twice"),
            );
        }
    }
    let mut dates = std::collections::BTreeSet::new();
    for (i, s) in g.skip_dates.iter().enumerate() {
        if !dates.insert(s.date) {
            add(
                format!("gates.skip_dates[{i}].date"),
                format!("{} is listed twice", s.date),
            );
        }
        if s.reason.chars().count() > 200 || s.reason.chars().any(char::is_control) {
            add(
                format!("gates.skip_dates[{i}].reason"),
                "must be at most 200 characters without control characters".into(),
            );
        }
    }
    if let (Some(a), Some(b)) = (g.min_hours_to_expiry, g.max_hours_to_expiry) {
        if a > b {
            add(
                "gates.min_hours_to_expiry".into(),
                format!("{a} is above max_hours_to_expiry ({b})"),
            );
        }
    }
    for (field, v) in [
        ("gates.min_atm_iv_pct", g.min_atm_iv_pct),
        ("gates.max_atm_iv_pct", g.max_atm_iv_pct),
    ] {
        if let Some(v) = v {
            if v <= Decimal::ZERO || v > Decimal::from(1000) {
                add(
                    field.into(),
                    format!("must be above 0 and at most 1000 (% IV), got {v}"),
                );
            }
        }
    }
    if let (Some(a), Some(b)) = (g.min_atm_iv_pct, g.max_atm_iv_pct) {
        if a > b {
            add(
                "gates.min_atm_iv_pct".into(),
                format!("{a} is above max_atm_iv_pct ({b})"),
            );
        }
    }
    if let Some(v) = g.max_pair_spread_pct {
        if v <= Decimal::ZERO {
            add(
                "gates.max_pair_spread_pct".into(),
                format!("must be positive, got {v}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use crate::sim::synthetic::SyntheticMarket;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn a_profile_without_gates_is_written_as_before() {
        let json = serde_json::to_string(&Profile::named("p")).expect("json");
        assert!(!json.contains("gates"), "{json}");
        let mut p = Profile::named("p");
        p.gates.weekdays = vec![Weekday::Mon];
        let json = serde_json::to_string(&p).expect("json");
        assert!(
            json.contains(r#""gates":{"weekdays":["mon"],"skip_dates":[],"#),
            "{json}"
        );
        let back: Profile = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, p);
    }

    #[test]
    fn day_gates_name_the_weekday_or_the_calendar_reason() {
        let g = Gates {
            weekdays: vec![Weekday::Mon, Weekday::Fri],
            skip_dates: vec![SkipDate {
                date: day(2026, 12, 11),
                reason: "CPI".into(),
            }],
            ..Gates::default()
        };
        assert_eq!(g.check_day(day(2026, 12, 7)), Ok(())); // a Monday
        let tue = g.check_day(day(2026, 12, 8)).expect_err("a Tuesday");
        assert_eq!(
            tue.to_string(),
            "2026-12-08 is a tue, not one of gates.weekdays"
        );
        let cpi = g
            .check_day(day(2026, 12, 11))
            .expect_err("a Friday, but CPI");
        assert_eq!(cpi.to_string(), "2026-12-11 is skipped: CPI");
        assert_eq!(Gates::default().check_day(day(2026, 12, 8)), Ok(()));
    }

    #[test]
    fn market_gates_read_hours_atm_iv_and_the_pair_spread() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("t");
        let chain = SyntheticMarket::btc().chain(t, dec!(82000), 0.45);
        let p = Profile::named("p");
        let sel = crate::select::select(&chain, &p, t).expect("a selection");
        let hours = (sel.expiry - t).num_hours();
        let iv = atm_iv_pct(&chain, sel.expiry).expect("an ATM IV");
        assert!(iv > dec!(30) && iv < dec!(60), "{iv}");
        let spread = pair_spread_pct(&sel.call, &sel.put).expect("a spread");
        assert!(spread > Decimal::ZERO, "{spread}");
        let check = |g: Gates| g.check_market(&chain, sel.expiry, &sel.call, &sel.put, t);
        let exact = Gates {
            min_hours_to_expiry: Some(u32::try_from(hours).expect("hours")),
            max_hours_to_expiry: Some(u32::try_from(hours).expect("hours")),
            min_atm_iv_pct: Some(iv),
            max_atm_iv_pct: Some(iv),
            max_pair_spread_pct: Some(spread),
            ..Gates::default()
        };
        assert_eq!(check(exact.clone()), Ok(()), "bounds are inclusive");
        let near = Gates {
            max_hours_to_expiry: Some(u32::try_from(hours - 1).expect("hours")),
            ..exact.clone()
        };
        assert!(matches!(check(near), Err(GateMiss::HoursToExpiry { .. })));
        let calm = Gates {
            max_atm_iv_pct: Some(iv - dec!(0.01)),
            ..exact.clone()
        };
        assert_eq!(
            check(calm),
            Err(GateMiss::AtmIv {
                iv_pct: Some(iv),
                min: Some(iv),
                max: Some(iv - dec!(0.01)),
            })
        );
        let tight = Gates {
            max_pair_spread_pct: Some(spread - dec!(0.0001)),
            ..exact
        };
        assert!(matches!(check(tight), Err(GateMiss::PairSpread { .. })));
    }

    #[test]
    fn validation_names_every_bad_gate_field() {
        let mut p = Profile::named("p");
        p.gates = Gates {
            weekdays: vec![Weekday::Mon, Weekday::Mon],
            skip_dates: vec![
                SkipDate {
                    date: day(2026, 12, 16),
                    reason: "FOMC".into(),
                },
                SkipDate {
                    date: day(2026, 12, 16),
                    reason: "x\u{7}".into(),
                },
            ],
            min_hours_to_expiry: Some(30),
            max_hours_to_expiry: Some(20),
            min_atm_iv_pct: Some(dec!(80)),
            max_atm_iv_pct: Some(dec!(0)),
            max_pair_spread_pct: Some(dec!(-1)),
        };
        let Err(crate::Error::InvalidProfile(v)) = p.validate() else {
            panic!("invalid gates must be refused");
        };
        let fields: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
        for want in [
            "gates.weekdays[1]",
            "gates.skip_dates[1].date",
            "gates.skip_dates[1].reason",
            "gates.min_hours_to_expiry",
            "gates.max_atm_iv_pct",
            "gates.min_atm_iv_pct",
            "gates.max_pair_spread_pct",
        ] {
            assert!(fields.contains(&want), "{want} missing from {fields:?}");
        }
        let unknown = toml::from_str::<Profile>("name = \"p\"\n[gates]\nweekday = [\"mon\"]\n");
        assert!(unknown.is_err(), "a misspelt gate is refused");
    }

    #[test]
    fn a_calendar_file_adds_its_dates_after_the_profiles_own() {
        let mut v = serde_json::json!({
            "name": "p",
            "gates": {
                "skip_dates": [{"date": "2026-12-01", "reason": "own"}],
                "skip_dates_file": "events.toml"
            }
        });
        let cal = serde_json::json!({"skip_dates": [
            {"date": "2026-12-16", "reason": "FOMC"},
            {"date": "2026-12-10", "reason": "CPI"}
        ]});
        expand_skip_dates_file(&mut v, |path| {
            assert_eq!(path, "events.toml");
            Ok(cal.clone())
        })
        .expect("expanded");
        let p: Profile = serde_json::from_value(v).expect("a profile");
        let got: Vec<(String, &str)> = p
            .gates
            .skip_dates
            .iter()
            .map(|s| (s.date.to_string(), s.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-12-01".to_string(), "own"),
                ("2026-12-16".to_string(), "FOMC"),
                ("2026-12-10".to_string(), "CPI")
            ]
        );
        let mut missing = serde_json::json!({"gates": {"skip_dates_file": "nope.toml"}});
        let e = expand_skip_dates_file(&mut missing, |_| Err("no such file".into()))
            .expect_err("no such file");
        assert_eq!(
            e,
            CalendarError::Unreadable {
                file: "nope.toml".into(),
                reason: "no such file".into()
            }
        );
        let mut bad = serde_json::json!({"gates": {"skip_dates_file": "x.toml"}});
        let e = expand_skip_dates_file(&mut bad, |_| {
            Ok(serde_json::json!({"skip_dates": [{"date": "2026-13-01"}]}))
        })
        .expect_err("a bad date");
        assert!(
            matches!(&e, CalendarError::Malformed { file, .. } if file == "x.toml"),
            "{e:?}"
        );
        let mut number = serde_json::json!({"gates": {"skip_dates_file": 7}});
        let e = expand_skip_dates_file(&mut number, |_| unreachable!("nothing to read"));
        assert_eq!(e, Err(CalendarError::NotAPath));
    }

    #[test]
    fn the_readme_gates_and_calendar_read_and_validate() {
        let readme = include_str!("../../../README.md");
        let block = |opening: &str| {
            let start = readme.find(opening).expect("the block") + "```toml\n".len();
            let end = start + readme[start..].find("```").expect("its end");
            readme[start..end].to_string()
        };
        let gates = block("```toml\n[gates]");
        let calendar = block("```toml\nskip_dates = [");
        let dir = std::env::temp_dir().join(format!("strangle-gates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        std::fs::write(dir.join("events-2026.toml"), calendar).expect("written");
        let file = dir.join("p.toml");
        std::fs::write(&file, format!("name = \"readme\"\n{gates}")).expect("written");
        let read = read_profile_fields(&file);
        let _ = std::fs::remove_dir_all(&dir);
        let p: Profile =
            serde_json::from_value(read.expect("README's files read")).expect("a profile");
        p.validate().expect("README's gates are valid");
        assert_eq!(p.gates.skip_dates.len(), 2);
        assert_eq!(p.gates.max_hours_to_expiry, Some(30));
    }

    #[test]
    fn the_atm_iv_is_the_reference_nearest_strike_at_any_index() {
        // The one-pass search against the obvious one: nearest |strike − index|, the lower
        // strike on a tie, per kind.
        let reference = |chain: &ChainSnapshot, expiry: DateTime<Utc>| {
            let nearest = |kind: OptionKind| {
                chain
                    .entries
                    .iter()
                    .filter(|e| e.contract.expiry == expiry && e.contract.kind == kind)
                    .min_by_key(|e| ((e.contract.strike - chain.spot).abs(), e.contract.strike))
                    .and_then(|e| e.quote.mark_iv)
                    .filter(|iv| iv.is_finite() && *iv > 0.0)
            };
            let ivs: Vec<f64> = [nearest(OptionKind::Call), nearest(OptionKind::Put)]
                .into_iter()
                .flatten()
                .collect();
            (!ivs.is_empty())
                .then(|| ivs.iter().sum::<f64>() / ivs.len() as f64)
                .and_then(|m| Decimal::from_f64_retain(m * 100.0))
                .map(|d| d.round_dp(2))
        };
        let t = Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("t");
        let base = SyntheticMarket::btc().chain(t, dec!(82000), 0.45);
        let expiries: std::collections::BTreeSet<_> =
            base.entries.iter().map(|e| e.contract.expiry).collect();
        // Indexes on strikes, between them, at the midpoint (a tie) and beyond the range.
        for spot in (0..=400).map(|i| dec!(60000) + Decimal::from(i) * dec!(125)) {
            let mut chain = base.clone();
            chain.spot = spot;
            for expiry in &expiries {
                assert_eq!(
                    atm_iv_pct(&chain, *expiry),
                    reference(&chain, *expiry),
                    "index {spot}, expiry {expiry}"
                );
            }
        }
    }
}
