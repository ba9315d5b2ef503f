//! Leg-wise exits: a stop and a target on each short leg alone, beside the session's own
//! rules, and what happens to the other leg when one leg's stop fires.
//!
//! A leg's PnL is counted in % of the premium that leg brought in, fees included, on the
//! basis the session's rules use (`exit_basis.max_loss` for the stop, `exit_basis.max_profit`
//! for the target). A leg target closes only that leg; a leg stop closes what
//! [`LegExit::on_stop`] says.
//!
//! ```
//! use strangle_core::profile::{Profile, Survivor};
//! let p: Profile = toml::from_str(r#"
//!     name = "legs"
//!     [leg_exit]
//!     stop_pct = 60
//!     target_pct = 85
//!     on_stop = "exit_leg_and_move_other_to_cost"
//! "#).expect("a profile");
//! p.validate().expect("valid");
//! assert_eq!(p.leg_exit.on_stop, Survivor::ExitLegAndMoveOtherToCost);
//! ```

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What happens to the other leg when one leg's stop fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Survivor {
    /// Close the whole strangle (the default).
    #[default]
    ExitAll,
    /// Close the stopped leg; the other carries on under the session's rules and its own.
    ExitLeg,
    /// Close the stopped leg; the other's stop moves to its cost: it is bought back as soon
    /// as closing it would no longer leave that leg in profit, its fees both ways included.
    /// Its venue stop moves to its average sale price.
    ExitLegAndMoveOtherToCost,
}

/// The leg-wise exit rules of a profile; off until set. A profile leaves them out while they
/// are off; once one is set, every field is written (`null` for one off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LegExit {
    /// Close a leg when its loss reaches this % of the premium it brought in (`60`: the leg
    /// is bought back at about 1.6 times its sale price).
    pub stop_pct: Option<Decimal>,
    /// Close a leg when its profit reaches this % of the premium it brought in (`85`: the
    /// leg is bought back at about 15 % of its sale price).
    pub target_pct: Option<Decimal>,
    /// What a leg's stop does to the other leg.
    pub on_stop: Survivor,
}

impl LegExit {
    /// Whether any leg rule is set.
    pub fn is_set(&self) -> bool {
        self.stop_pct.is_some() || self.target_pct.is_some() || self.on_stop != Survivor::ExitAll
    }

    /// Whether a leg's stop leaves the other leg open (a stop is set and `on_stop` is not
    /// `exit_all`): a venue stop that fires then closes one leg, not the strangle.
    pub fn splits(&self) -> bool {
        self.stop_pct.is_some() && self.on_stop != Survivor::ExitAll
    }
}

/// Reports every problem of the leg rules to `add(field, message)`.
pub(super) fn problems(l: &LegExit, add: &mut dyn FnMut(&str, String)) {
    if let Some(s) = l.stop_pct {
        if s <= Decimal::ZERO {
            add("leg_exit.stop_pct", "must be positive".into());
        }
    }
    if let Some(t) = l.target_pct {
        if t <= Decimal::ZERO || t > Decimal::ONE_HUNDRED {
            add(
                "leg_exit.target_pct",
                "must be above 0 and at most 100 (% of the leg's premium)".into(),
            );
        }
    }
    if l.on_stop != Survivor::ExitAll && l.stop_pct.is_none() {
        add(
            "leg_exit.on_stop",
            "says what a leg's stop does to the other leg, but leg_exit.stop_pct is not set".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use rust_decimal_macros::dec;

    #[test]
    fn off_leg_rules_are_left_out_of_the_written_profile() {
        let p = Profile::named("plain");
        let json = serde_json::to_value(&p).expect("json");
        assert!(json.get("leg_exit").is_none(), "{json}");
        let mut p = p;
        p.leg_exit.target_pct = Some(dec!(80));
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(
            json["leg_exit"],
            serde_json::json!({"stop_pct": null, "target_pct": "80", "on_stop": "exit_all"})
        );
        let back: Profile = serde_json::from_value(json).expect("back");
        assert_eq!(back, p);
    }

    fn bad_fields(p: &Profile) -> Vec<String> {
        match p.validate() {
            Err(crate::Error::InvalidProfile(v)) => v.0.into_iter().map(|f| f.field).collect(),
            other => panic!("expected an invalid profile, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut p = Profile::named("bad");
        p.leg_exit = LegExit {
            stop_pct: None,
            target_pct: Some(dec!(120)),
            on_stop: Survivor::ExitLeg,
        };
        assert_eq!(bad_fields(&p), ["leg_exit.target_pct", "leg_exit.on_stop"]);
        p.leg_exit.stop_pct = Some(dec!(0));
        p.leg_exit.target_pct = Some(dec!(50));
        assert_eq!(bad_fields(&p), ["leg_exit.stop_pct"]);
    }

    #[test]
    fn the_readme_example_is_a_valid_profile() {
        let p = crate::profile::tests::readme_profile("[leg_exit]");
        assert_eq!(p.leg_exit.on_stop, Survivor::ExitLegAndMoveOtherToCost);
        assert_eq!(p.leg_exit.stop_pct, Some(dec!(60)));
    }

    #[test]
    fn only_a_stop_with_a_survivor_policy_splits_the_strangle() {
        let mut l = LegExit::default();
        assert!(!l.is_set() && !l.splits());
        l.stop_pct = Some(dec!(50));
        assert!(l.is_set() && !l.splits(), "exit_all closes both legs");
        l.on_stop = Survivor::ExitLeg;
        assert!(l.splits());
    }
}
