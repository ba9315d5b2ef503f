//! Re-entry after a stop: a session closed by a loss rule may be followed the same IST trading
//! day by another, up to `max_per_day` times, each after a cooldown and before the day's exit
//! time. Each re-entry is a session of its own, linked to the day's first.
//!
//! The loss rules that allow one: `max_loss`, `venue_stop`, `leg_stop` and `leg_cost_stop`. A
//! profit exit, the exit time, an operator's stop or the account risk governor never do.
//!
//! ```
//! use strangle_core::profile::{Profile, ReentryMode};
//! let p: Profile = toml::from_str(r#"
//!     name = "again"
//!     [reentry]
//!     max_per_day = 2
//!     cooldown_minutes = 30
//!     mode = "same_strikes"
//! "#).expect("a profile");
//! p.validate().expect("valid");
//! assert_eq!(p.reentry.mode, ReentryMode::SameStrikes);
//! ```

use serde::{Deserialize, Serialize};

use crate::risk::ExitReason;

/// What a re-entry sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReentryMode {
    /// A fresh selection by the profile's rules (the default).
    #[default]
    Fresh,
    /// The same two contracts again, when their quotes pass the liquidity filters.
    SameStrikes,
}

/// Re-entry after a stop; off until `max_per_day` is set. A profile leaves it out while off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Reentry {
    /// Re-entries allowed per IST trading day (0: none; at most 20).
    pub max_per_day: u32,
    /// Minutes to wait after the stop before re-entering.
    pub cooldown_minutes: u32,
    /// A fresh selection, or the same strikes.
    pub mode: ReentryMode,
}

/// The most re-entries a day may have (each adds to the session id: `…r20`).
pub const MAX_REENTRIES: u32 = 20;

impl Reentry {
    /// Whether anything is set.
    pub fn is_set(&self) -> bool {
        *self != Self::default()
    }

    /// Whether a session that closed for `reason` may be followed by a re-entry.
    pub fn after(reason: Option<ExitReason>) -> bool {
        matches!(
            reason,
            Some(
                ExitReason::MaxLoss
                    | ExitReason::VenueStop
                    | ExitReason::LegStop
                    | ExitReason::LegCostStop
            )
        )
    }
}

/// Reports every problem of the re-entry rule to `add(field, message)`.
pub(super) fn problems(r: &Reentry, add: &mut dyn FnMut(&str, String)) {
    if r.max_per_day > MAX_REENTRIES {
        add(
            "reentry.max_per_day",
            format!("must be at most {MAX_REENTRIES}"),
        );
    }
    if r.cooldown_minutes > 24 * 60 {
        add(
            "reentry.cooldown_minutes",
            "must be at most 1440 (a day)".into(),
        );
    }
    if r.max_per_day == 0 && (r.cooldown_minutes > 0 || r.mode != ReentryMode::Fresh) {
        add(
            "reentry.max_per_day",
            "is 0, so no re-entry happens: set it, or leave [reentry] out".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_example_is_a_valid_profile() {
        let p = crate::profile::tests::readme_profile("[reentry]");
        assert_eq!((p.reentry.max_per_day, p.reentry.cooldown_minutes), (2, 30));
    }

    #[test]
    fn only_loss_rules_allow_a_reentry() {
        for r in [
            ExitReason::MaxLoss,
            ExitReason::VenueStop,
            ExitReason::LegStop,
            ExitReason::LegCostStop,
        ] {
            assert!(Reentry::after(Some(r)), "{r}");
        }
        for r in [
            ExitReason::MaxProfit,
            ExitReason::TrailingStop,
            ExitReason::ExitTime,
            ExitReason::OperatorStop,
            ExitReason::Panic,
            ExitReason::AccountRisk,
            ExitReason::LegTarget,
        ] {
            assert!(!Reentry::after(Some(r)), "{r}");
        }
        assert!(!Reentry::after(None));
    }
}
