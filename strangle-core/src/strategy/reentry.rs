//! Re-entry after a stop ([`crate::profile::Reentry`]): which closed session allows one, and
//! when. The entry itself is the strategy's usual entry, with the session's id and link.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::ids::{SessionId, Symbol};
use crate::ledger::SessionRecord;
use crate::profile::{Profile, Reentry};
use crate::risk::ExitReason;

/// A re-entry that a closed session allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Due {
    /// The trading day.
    pub day: NaiveDate,
    /// Its number (1 for the day's first re-entry).
    pub n: u32,
    /// The day's first session.
    pub first: SessionId,
    /// Not before (the stop plus the cooldown).
    pub from: DateTime<Utc>,
    /// Not at or after (the day's exit time).
    pub until: DateTime<Utc>,
    /// The stopped session's call and put (for `same_strikes`).
    pub call: Symbol,
    /// The put.
    pub put: Symbol,
    /// The stop that allowed it.
    pub after: ExitReason,
}

impl Due {
    /// Whether it may be entered at `now`.
    pub fn open_at(&self, now: DateTime<Utc>) -> bool {
        now >= self.from && now < self.until
    }
}

/// The re-entry `rec` allows under `profile`: it closed for a loss rule, the day has
/// re-entries left, and its cooldown ends before the day's exit time.
pub(super) fn due_after(profile: &Profile, rec: &SessionRecord) -> Option<Due> {
    let r = &profile.reentry;
    let after = rec.exit_reason?;
    if !Reentry::after(Some(after)) || rec.reentry >= r.max_per_day || rec.legs.len() < 2 {
        return None;
    }
    let from = rec.closed_at? + Duration::minutes(i64::from(r.cooldown_minutes));
    let due = Due {
        day: rec.trading_day,
        n: rec.reentry + 1,
        first: rec
            .reentry_of
            .clone()
            .unwrap_or_else(|| rec.session_id.clone()),
        from,
        until: rec.planned_exit,
        call: rec.legs[0].symbol.clone(),
        put: rec.legs[1].symbol.clone(),
        after,
    };
    (due.from < due.until).then_some(due)
}
