//! Importing a configuration of the original Python platform (its `trading_configurations`
//! rows, `TradingConfigPayload`): each field mapped to the profile, with a line saying what
//! was done, and every field that cannot be carried named with the reason. The original's
//! fields, units and quirks are in `original-platform.md` (shared reference).
//!
//! ```
//! use strangle_core::profile::seed;
//! let row = serde_json::json!({
//!     "name": "btc-daily", "underlying": "BTC", "delta_range_low": 0.1, "delta_range_high": 0.15,
//!     "trade_time_ist": "09:30", "exit_time_ist": "15:20", "quantity": 2,
//!     "max_loss_pct": 0.4, "max_profit_pct": 80, "trailing_sl_enabled": true,
//!     "trailing_rules": {"0.2": 0, "0.3": 0.1}, "strike_selection_mode": "delta",
//! });
//! let import = seed::from_seed(&row).unwrap();
//! assert_eq!(import.profile.max_loss_pct, Some(40.into()));
//! assert_eq!(import.profile.trailing.tiers.len(), 2);
//! assert!(import.notes.iter().any(|n| n.from == "max_loss_pct" && n.kind == seed::NoteKind::Converted));
//! ```

use chrono::NaiveTime;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{PremiumWindows, PriceWindow, Profile, StrikeMode, TimeOfDay, Trailing, TrailingTier};
use crate::error::{Error, FieldError, ValidationErrors};
use crate::model::Underlying;

/// What happened to one field of the original configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Carried as it was.
    Mapped,
    /// Carried with a change of unit or shape (a fraction read as a percent, a map as tiers).
    Converted,
    /// Carried, but strangle acts on it differently from the original.
    Differs,
    /// Not carried; the note says why.
    NotCarried,
    /// A strangle setting the original did not have, left at its default.
    Default,
}

/// One line of the import's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    /// The original's field.
    pub from: String,
    /// The profile field it became (none when not carried).
    pub to: Option<String>,
    /// What was done.
    pub kind: NoteKind,
    /// In words.
    pub message: String,
}

/// A configuration read from the original platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedImport {
    /// The profile (validated).
    pub profile: Profile,
    /// Whether the original had it active (`is_active`).
    pub active: bool,
    /// Every mapping made and every field not carried, in the original's field order.
    pub notes: Vec<Note>,
}

/// Reads configurations: one object, a list of them, the original's `GET /configs/` answer
/// (`{"items": [...], "total": n}`), or `{"configurations": [...]}`.
pub fn configurations(v: &Value) -> Result<Vec<&Map<String, Value>>, Error> {
    let list = match v {
        Value::Object(m) => match (m.get("items"), m.get("configurations")) {
            (Some(Value::Array(a)), _) | (None, Some(Value::Array(a))) => a.iter().collect(),
            _ => vec![v],
        },
        Value::Array(a) => a.iter().collect(),
        _ => vec![v],
    };
    list.into_iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_object().ok_or_else(|| {
                invalid(
                    &format!("[{i}]"),
                    "a configuration is a JSON object of the original's fields",
                )
            })
        })
        .collect()
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidProfile(ValidationErrors(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }]))
}

/// The fields this import knows, in the original's order.
const KNOWN: [&str; 22] = [
    "name",
    "underlying",
    "delta_range_low",
    "delta_range_high",
    "trade_time_ist",
    "exit_time_ist",
    "expiry_date",
    "quantity",
    "contract_size",
    "max_loss_pct",
    "max_profit_pct",
    "trailing_sl_enabled",
    "trailing_rules",
    "strike_selection_mode",
    "call_option_price_min",
    "call_option_price_max",
    "put_option_price_min",
    "put_option_price_max",
    "is_active",
    "id",
    "created_at",
    "updated_at",
];

struct Reader<'a> {
    row: &'a Map<String, Value>,
    notes: Vec<Note>,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    fn note(&mut self, from: &str, to: Option<&str>, kind: NoteKind, message: impl Into<String>) {
        self.notes.push(Note {
            from: from.into(),
            to: to.map(str::to_string),
            kind,
            message: message.into(),
        });
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// The field, unless absent or null.
    fn get(&self, key: &str) -> Option<&Value> {
        self.row.get(key).filter(|v| !v.is_null())
    }

    fn number(&mut self, key: &str) -> Option<f64> {
        let v = self.get(key)?.clone();
        match v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        {
            Some(x) if x.is_finite() => Some(x),
            _ => {
                self.error(key, format!("expected a number, got {v}"));
                None
            }
        }
    }

    fn text(&mut self, key: &str) -> Option<String> {
        let v = self.get(key)?.clone();
        match v.as_str() {
            Some(s) => Some(s.trim().to_string()),
            None => {
                self.error(key, format!("expected text, got {v}"));
                None
            }
        }
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        let v = self.get(key)?.clone();
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.error(key, format!("expected true or false, got {v}"));
                None
            }
        }
    }
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x)
        .map(|d| d.normalize())
        .unwrap_or_default()
}

/// The original's time formats: `HH:MM`, `HH:MM:SS`, `hh:mm AM`.
fn time_of(s: &str) -> Option<TimeOfDay> {
    ["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
        .map(TimeOfDay)
}

/// A percent as the original's API stored it: values in (0, 1] were fractions (×100).
fn percent(x: f64) -> (Decimal, bool) {
    if x > 0.0 && x <= 1.0 {
        (dec(x * 100.0), true)
    } else {
        (dec(x), false)
    }
}

/// Reads one configuration of the original platform.
pub fn from_seed(v: &Value) -> Result<SeedImport, Error> {
    let row = v.as_object().ok_or_else(|| {
        invalid(
            "body",
            "a configuration is a JSON object of the original's fields",
        )
    })?;
    let mut r = Reader {
        row,
        notes: Vec::new(),
        errors: Vec::new(),
    };
    let mut p = Profile::default();

    match r.text("name") {
        Some(n) if !n.is_empty() => {
            r.note("name", Some("name"), NoteKind::Mapped, format!("{n:?}"));
            p.name = n;
        }
        Some(_) => r.error("name", "the name is empty"),
        None => r.error("name", "every configuration needs its name"),
    }
    if let Some(u) = r.text("underlying") {
        match u.to_ascii_uppercase().as_str() {
            "BTC" => p.underlying = Underlying::Btc,
            "ETH" => p.underlying = Underlying::Eth,
            other => r.error("underlying", format!("{other:?}: only BTC and ETH")),
        }
        r.note(
            "underlying",
            Some("underlying"),
            NoteKind::Mapped,
            u.to_ascii_uppercase(),
        );
    }
    for (key, to) in [
        ("delta_range_low", "delta_band.low"),
        ("delta_range_high", "delta_band.high"),
    ] {
        if let Some(x) = r.number(key) {
            if key.ends_with("low") {
                p.delta_band.low = x;
            } else {
                p.delta_band.high = x;
            }
            r.note(
                key,
                Some(to),
                NoteKind::Mapped,
                format!("{x} (|delta|, both ends included, as in the original)"),
            );
        }
    }
    if let Some(t) = r.text("trade_time_ist") {
        match time_of(&t) {
            Some(tod) => {
                p.entry_time = tod;
                r.note(
                    "trade_time_ist",
                    Some("entry_time"),
                    NoteKind::Differs,
                    format!(
                        "{t} → {tod}; the original entered any time after it, strangle enters \
                         within entry_window_minutes ({} min) of it (late_entry off)",
                        p.entry_window_minutes
                    ),
                );
            }
            None => r.error(
                "trade_time_ist",
                format!("{t:?} is not HH:MM, HH:MM:SS or hh:mm AM"),
            ),
        }
    }
    if let Some(t) = r.text("exit_time_ist") {
        match time_of(&t) {
            Some(tod) => {
                p.exit_time = tod;
                r.note(
                    "exit_time_ist",
                    Some("exit_time"),
                    NoteKind::Differs,
                    format!(
                        "{t} → {tod}; the original only displayed it, strangle closes the \
                         strangle at this time"
                    ),
                );
            }
            None => r.error(
                "exit_time_ist",
                format!("{t:?} is not HH:MM, HH:MM:SS or hh:mm AM"),
            ),
        }
    }
    if let Some(d) = r.text("expiry_date") {
        r.note(
            "expiry_date",
            None,
            NoteKind::NotCarried,
            format!(
                "{d}: a fixed date is not carried; strangle picks each day the nearest expiry \
                 settling at least expiry_buffer_hours ({} h) after entry",
                p.expiry_buffer_hours
            ),
        );
    }
    if let Some(q) = r.number("quantity") {
        if q >= 1.0 && q.fract() == 0.0 {
            p.contracts_per_leg = dec(q);
            r.note(
                "quantity",
                Some("contracts_per_leg"),
                NoteKind::Mapped,
                format!("{q}"),
            );
        } else {
            r.error(
                "quantity",
                format!("{q}: contracts per leg must be a whole number from 1"),
            );
        }
    }
    if let Some(c) = r.number("contract_size") {
        if c > 0.0 {
            p.contract_size = Some(dec(c));
            r.note(
                "contract_size",
                Some("contract_size"),
                NoteKind::Differs,
                format!(
                    "{c}; the original used it in its PnL maths, strangle takes the size from \
                     Delta's product and refuses to enter when it differs from this"
                ),
            );
        } else {
            r.error("contract_size", format!("{c}: must be above 0"));
        }
    }
    for (key, to) in [
        ("max_loss_pct", "max_loss_pct"),
        ("max_profit_pct", "max_profit_pct"),
    ] {
        if let Some(x) = r.number(key) {
            if x <= 0.0 {
                r.error(key, format!("{x}: must be above 0"));
                continue;
            }
            let (pct, was_fraction) = percent(x);
            if key == "max_loss_pct" {
                p.max_loss_pct = Some(pct);
            } else {
                p.max_profit_pct = Some(pct);
            }
            if was_fraction {
                r.note(key, Some(to), NoteKind::Converted, format!("{x} read as a fraction: {pct} % of premium (as the original's API stored it)"));
            } else {
                r.note(
                    key,
                    Some(to),
                    NoteKind::Mapped,
                    format!("{pct} % of premium"),
                );
            }
        }
    }
    if r.get("max_loss_pct").is_some() {
        r.note(
            "max_loss_pct",
            Some("exit_basis.max_loss"),
            NoteKind::Default,
            "judged on the PnL at the marks, as in the original (exit_basis.max_loss = mark)",
        );
    }
    if r.get("max_profit_pct").is_some() {
        r.note(
            "max_profit_pct",
            Some("exit_basis.max_profit"),
            NoteKind::Differs,
            "strangle judges the profit target on what buying back at the asks would realise \
             (exit_basis.max_profit = close_now); set it to mark for the original's behaviour",
        );
    }

    let enabled = r.boolean("trailing_sl_enabled");
    let rules = r.get("trailing_rules").cloned();
    let tiers = match (&rules, enabled) {
        (Some(Value::Object(m)), _) => {
            let mut tiers = Vec::new();
            for (k, v) in m {
                let key = format!("trailing_rules.{k}");
                let trigger = k
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0);
                let level = v
                    .as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                match (trigger, level) {
                    (Some(t), Some(l)) if l >= 0.0 => {
                        // The original's engine: a fraction below 1 is ×100, anything else is
                        // already a percent (so "1.00" meant 1 %).
                        let tp = if t < 1.0 { dec(t * 100.0) } else { dec(t) };
                        let lp = if l > 0.0 && l < 1.0 { dec(l * 100.0) } else { dec(l) };
                        if t == 1.0 {
                            // Ambiguous: the original's API meant 100 %, its engine read 1 %.
                            r.error(&key, format!("trigger {k} is ambiguous: the original's engine read it as 1 % of premium, its UI meant 100 %; write 0.01 or 100"));
                            continue;
                        }
                        tiers.push(TrailingTier {
                            trigger_pct: tp,
                            lock_pct: lp,
                        });
                    }
                    _ => r.error(&key, format!("{k}: {v}: a trigger above 0 and a level from 0, as fractions of premium")),
                }
            }
            tiers.sort_by_key(|t| t.trigger_pct);
            Some(tiers)
        }
        (Some(other), _) => {
            r.error(
                "trailing_rules",
                format!("expected an object of trigger: level, got {other}"),
            );
            None
        }
        (None, _) => Some(Vec::new()),
    };
    if let Some(tiers) = tiers {
        let on = enabled.unwrap_or(true) && !tiers.is_empty();
        let text = tiers
            .iter()
            .map(|t| format!("at +{} % lock {} %", t.trigger_pct, t.lock_pct))
            .collect::<Vec<_>>()
            .join(", ");
        p.trailing = Trailing {
            tiers: if on { tiers } else { Vec::new() },
            step: None,
        };
        if on {
            r.note("trailing_rules", Some("trailing.tiers"), NoteKind::Converted, format!("fractions of premium as percents: {text}; no step beyond the last tier (the original had none)"));
            r.note(
                "trailing_rules",
                Some("exit_basis.trailing"),
                NoteKind::Differs,
                "strangle judges the trailing stop on what buying back at the asks would \
                 realise (exit_basis.trailing = close_now); set it to mark for the original's \
                 behaviour",
            );
        } else {
            r.note(
                "trailing_sl_enabled",
                Some("trailing"),
                NoteKind::Mapped,
                if enabled == Some(false) {
                    "off: no tier, no step"
                } else {
                    "no rule: no trailing stop"
                },
            );
        }
    }

    let mode = r.text("strike_selection_mode");
    let price = |r: &mut Reader, key: &str| r.number(key).map(dec);
    let windows = [
        price(&mut r, "call_option_price_min"),
        price(&mut r, "call_option_price_max"),
        price(&mut r, "put_option_price_min"),
        price(&mut r, "put_option_price_max"),
    ];
    match mode.as_deref() {
        None | Some("delta") => {
            p.strike_mode = StrikeMode::Delta;
            if mode.is_some() {
                r.note(
                    "strike_selection_mode",
                    Some("strike_mode"),
                    NoteKind::Mapped,
                    "delta",
                );
            }
            if windows.iter().any(Option::is_some) {
                r.note("call_/put_option_price_min/max", None, NoteKind::NotCarried, "price windows are used only in price mode, and this configuration is in delta mode");
            }
        }
        Some("price") => match windows {
            [Some(cmin), Some(cmax), Some(pmin), Some(pmax)] => {
                p.strike_mode = StrikeMode::Premium;
                p.premium_windows = Some(PremiumWindows {
                    call: PriceWindow {
                        min: cmin,
                        max: cmax,
                    },
                    put: PriceWindow {
                        min: pmin,
                        max: pmax,
                    },
                });
                r.note(
                    "strike_selection_mode",
                    Some("strike_mode"),
                    NoteKind::Mapped,
                    "price → premium",
                );
                r.note(
                    "call_/put_option_price_min/max",
                    Some("premium_windows"),
                    NoteKind::Mapped,
                    format!("call {cmin}–{cmax}, put {pmin}–{pmax} USD"),
                );
            }
            _ => r.error(
                "strike_selection_mode",
                "price mode needs all four of call_/put_option_price_min/max",
            ),
        },
        Some(other) => r.error(
            "strike_selection_mode",
            format!("{other:?}: expected delta or price"),
        ),
    }
    let active = r.boolean("is_active").unwrap_or(false);
    if r.row.contains_key("is_active") {
        r.note(
            "is_active",
            None,
            NoteKind::Mapped,
            if active {
                "active: the imported profile is made the active one"
            } else {
                "inactive"
            },
        );
    }
    for key in ["id", "created_at", "updated_at"] {
        if r.row.contains_key(key) {
            r.note(
                key,
                None,
                NoteKind::NotCarried,
                "the ledger assigns its own ids and times",
            );
        }
    }
    let unknown: Vec<String> = r
        .row
        .keys()
        .filter(|k| !KNOWN.contains(&k.as_str()))
        .cloned()
        .collect();
    for k in unknown {
        r.note(
            &k,
            None,
            NoteKind::NotCarried,
            "not a field of the original's configuration that strangle knows",
        );
    }
    r.note(
        "(none)",
        Some("liquidity, execution, fees"),
        NoteKind::Default,
        "strangle's defaults: a bid required, spread at most 50 %, quotes at most 30 s old; \
         limit orders repriced 3 times, then market; Delta India's fees with 18 % GST",
    );

    if !r.errors.is_empty() {
        return Err(Error::InvalidProfile(ValidationErrors(r.errors)));
    }
    p.validate()?;
    Ok(SeedImport {
        profile: p,
        active,
        notes: r.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(i: &SeedImport, from: &str) -> Vec<NoteKind> {
        i.notes
            .iter()
            .filter(|n| n.from == from)
            .map(|n| n.kind)
            .collect()
    }

    #[test]
    fn a_row_of_the_original_with_its_quirks() {
        // As the original's UI saves a new profile: fractions for the percents, the default
        // trailing map, an explicit expiry, a 12-hour entry time, and its own bookkeeping.
        let row = json!({
            "id": 7, "name": "eth-weekly", "underlying": "eth", "delta_range_low": 0.08,
            "delta_range_high": 0.12, "trade_time_ist": "09:45 AM", "exit_time_ist": "15:00:00",
            "expiry_date": "28-03-2026", "quantity": 3, "contract_size": 0.01,
            "max_loss_pct": 0.4, "max_profit_pct": 80, "trailing_sl_enabled": true,
            "trailing_rules": {"0.2": 0, "0.3": 0.1, "0.4": 0.15, "0.5": 0.25, "60": 30},
            "strike_selection_mode": "delta", "call_option_price_min": null,
            "is_active": true, "created_at": "2026-01-01T00:00:00", "colour": "blue",
        });
        let i = from_seed(&row).expect("imports");
        let p = &i.profile;
        assert_eq!(p.name, "eth-weekly");
        assert_eq!(p.underlying, Underlying::Eth);
        assert_eq!((p.delta_band.low, p.delta_band.high), (0.08, 0.12));
        assert_eq!(p.entry_time.to_string(), "09:45");
        assert_eq!(p.exit_time.to_string(), "15:00");
        assert_eq!(p.contracts_per_leg, Decimal::from(3));
        assert_eq!(p.contract_size, Some(Decimal::new(1, 2)));
        assert_eq!(p.max_loss_pct, Some(Decimal::from(40)));
        assert_eq!(p.max_profit_pct, Some(Decimal::from(80)));
        let tiers: Vec<(String, String)> = p
            .trailing
            .tiers
            .iter()
            .map(|t| (t.trigger_pct.to_string(), t.lock_pct.to_string()))
            .collect();
        assert_eq!(
            tiers,
            [
                ("20", "0"),
                ("30", "10"),
                ("40", "15"),
                ("50", "25"),
                ("60", "30")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(p.trailing.step, None);
        assert!(i.active);
        assert_eq!(
            kinds(&i, "max_loss_pct"),
            [NoteKind::Converted, NoteKind::Default]
        );
        assert_eq!(kinds(&i, "expiry_date"), [NoteKind::NotCarried]);
        assert_eq!(kinds(&i, "exit_time_ist"), [NoteKind::Differs]);
        assert_eq!(kinds(&i, "colour"), [NoteKind::NotCarried]);
        assert_eq!(kinds(&i, "id"), [NoteKind::NotCarried]);
        assert_eq!(
            kinds(&i, "call_/put_option_price_min/max"),
            Vec::<NoteKind>::new()
        );
    }

    #[test]
    fn price_mode_and_a_disabled_trailing_stop() {
        let row = json!({
            "name": "btc-price", "strike_selection_mode": "price",
            "call_option_price_min": 10, "call_option_price_max": 40,
            "put_option_price_min": "12.5", "put_option_price_max": 45,
            "trailing_sl_enabled": false, "trailing_rules": {"0.2": 0},
        });
        let i = from_seed(&row).expect("imports");
        assert_eq!(i.profile.strike_mode, StrikeMode::Premium);
        let w = i.profile.premium_windows.expect("windows");
        assert_eq!(
            (w.put.min, w.call.max),
            (Decimal::new(125, 1), Decimal::from(40))
        );
        assert!(i.profile.trailing.tiers.is_empty() && i.profile.trailing.step.is_none());
        assert!(!i.active);
    }

    #[test]
    fn every_bad_field_is_named_and_nothing_is_imported() {
        let row = json!({
            "name": "", "underlying": "SOL", "quantity": 1.5, "trade_time_ist": "noon",
            "max_loss_pct": -3, "trailing_rules": {"x": 1, "1.00": 0.5},
            "strike_selection_mode": "price", "call_option_price_min": 1,
        });
        let Err(Error::InvalidProfile(v)) = from_seed(&row) else {
            panic!("refused")
        };
        let fields: Vec<&str> = v.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "name",
            "underlying",
            "quantity",
            "trade_time_ist",
            "max_loss_pct",
            "trailing_rules.x",
            "trailing_rules.1.00",
            "strike_selection_mode",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        // The strangle validation applies too: a band upside down.
        let row = json!({"name": "x", "delta_range_low": 0.3, "delta_range_high": 0.1});
        assert!(matches!(from_seed(&row), Err(Error::InvalidProfile(_))));
    }

    #[test]
    fn a_list_or_the_original_api_answer_holds_several() {
        let one = json!({"name": "a"});
        assert_eq!(configurations(&one).expect("one").len(), 1);
        let list = json!([{"name": "a"}, {"name": "b"}]);
        assert_eq!(configurations(&list).expect("two").len(), 2);
        let api = json!({"configurations": [{"name": "a"}]});
        assert_eq!(configurations(&api).expect("one").len(), 1);
        // The original's real `GET /configs/` answer (issue 31: it was read as one nameless
        // configuration).
        let listed = json!({"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "total": 2});
        let got = configurations(&listed).expect("two");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].get("name"), Some(&json!("b")));
        assert!(configurations(&json!([1])).is_err());
    }
}
