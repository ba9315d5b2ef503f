//! Time rules: IST entry windows, the planned exit, and expiry choice.
//!
//! Times are UTC inside; IST (`Asia/Kolkata`) is used only to read the profile's times of
//! day. Nothing here reads the wall clock: `now` is always passed in.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Kolkata;

use crate::profile::{Profile, TimeOfDay};

/// The IST calendar date of an instant (the "trading day" entries are counted by).
pub fn ist_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Kolkata).date_naive()
}

/// The UTC instant of an IST time of day on an IST date.
pub fn ist_instant(date: NaiveDate, time: TimeOfDay) -> DateTime<Utc> {
    // India has no daylight saving, so every local time exists exactly once.
    match Kolkata.from_local_datetime(&date.and_time(time.0)).single() {
        Some(t) => t.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&date.and_time(time.0)) - Duration::minutes(330),
    }
}

/// The entry window of one IST day: `[start, end]`.
pub fn entry_window(profile: &Profile, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = ist_instant(day, profile.entry_time);
    (
        start,
        start + Duration::minutes(i64::from(profile.entry_window_minutes)),
    )
}

/// The trading day whose entry window contains `now`, if any.
///
/// A window may run past IST midnight; it still belongs to the day it started on.
pub fn window_day(profile: &Profile, now: DateTime<Utc>) -> Option<NaiveDate> {
    let today = ist_date(now);
    [today, today.pred_opt()?].into_iter().find(|d| {
        let (s, e) = entry_window(profile, *d);
        now >= s && now <= e
    })
}

/// The start of the next entry window at or after `now` whose day is after `used_day`.
/// If `now` is inside such a window, returns `now`.
pub fn next_entry(
    profile: &Profile,
    now: DateTime<Utc>,
    used_day: Option<NaiveDate>,
) -> DateTime<Utc> {
    let fresh = |d: NaiveDate| used_day.is_none_or(|u| d > u);
    if let Some(d) = window_day(profile, now) {
        if fresh(d) {
            return now;
        }
    }
    let mut day = ist_date(now);
    loop {
        let (s, _) = entry_window(profile, day);
        if s > now && fresh(day) {
            return s;
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => return now,
        };
    }
}

/// Which rule the next entry follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryRule {
    /// The profile's daily entry window.
    Window,
    /// A late start (`late_entry`): at once, the day's window having passed.
    LateStart,
    /// A re-entry after a stop (`reentry`): once the cooldown has passed, before the day's
    /// exit time.
    Reentry,
}

/// The trading day a late start at `started` may still enter at `now`: the day whose entry
/// window ended before `started` and whose planned exit (from the window's start) is after
/// both. `None` when the profile has no `late_entry`, or the start was inside a window or
/// after the exit.
pub fn late_day(
    profile: &Profile,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<NaiveDate> {
    if !profile.late_entry {
        return None;
    }
    let today = ist_date(started);
    [today, today.pred_opt()?].into_iter().find(|d| {
        let (start, end) = entry_window(profile, *d);
        let exit = planned_exit(profile, start);
        end < started && started < exit && now < exit
    })
}

/// The first IST `exit_time` strictly after `entry`: fixed once, at entry.
pub fn planned_exit(profile: &Profile, entry: DateTime<Utc>) -> DateTime<Utc> {
    let day = ist_date(entry);
    let same_day = ist_instant(day, profile.exit_time);
    if same_day > entry {
        same_day
    } else {
        ist_instant(day.succ_opt().unwrap_or(day), profile.exit_time)
    }
}

/// The nearest expiry whose settlement is at least `buffer_hours` after `now`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use strangle_core::schedule::pick_expiry;
/// let now = Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0).unwrap(); // 09:30 IST
/// let today = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
/// let tomorrow = Utc.with_ymd_and_hms(2026, 3, 11, 12, 0, 0).unwrap();
/// assert_eq!(pick_expiry(&[today, tomorrow], now, 24), Some(tomorrow));
/// ```
pub fn pick_expiry(
    expiries: &[DateTime<Utc>],
    now: DateTime<Utc>,
    buffer_hours: u32,
) -> Option<DateTime<Utc>> {
    let earliest = now + Duration::hours(i64::from(buffer_hours));
    expiries.iter().copied().filter(|e| *e >= earliest).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn ist_entry_is_0400_utc() {
        let p = Profile::named("a");
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        assert_eq!(
            entry_window(&p, d),
            (utc(2026, 3, 10, 4, 0), utc(2026, 3, 10, 4, 30))
        );
        assert_eq!(window_day(&p, utc(2026, 3, 10, 4, 30)), Some(d));
        assert_eq!(window_day(&p, utc(2026, 3, 10, 4, 31)), None);
        assert_eq!(window_day(&p, utc(2026, 3, 10, 3, 59)), None);
    }

    #[test]
    fn next_entry_skips_used_day() {
        let p = Profile::named("a");
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        let now = utc(2026, 3, 10, 4, 10);
        assert_eq!(next_entry(&p, now, None), now);
        assert_eq!(next_entry(&p, now, Some(d)), utc(2026, 3, 11, 4, 0));
        assert_eq!(
            next_entry(&p, utc(2026, 3, 10, 1, 0), None),
            utc(2026, 3, 10, 4, 0)
        );
    }

    #[test]
    fn planned_exit_is_first_after_entry() {
        let mut p = Profile::named("a");
        assert_eq!(
            planned_exit(&p, utc(2026, 3, 10, 4, 0)),
            utc(2026, 3, 10, 9, 50)
        );
        p.entry_time = TimeOfDay::hm(16, 0).expect("time");
        // 16:00 IST entry: the 15:20 IST exit is the next day's.
        assert_eq!(
            planned_exit(&p, utc(2026, 3, 10, 10, 30)),
            utc(2026, 3, 11, 9, 50)
        );
    }

    #[test]
    fn window_past_midnight_belongs_to_its_start_day() {
        let mut p = Profile::named("a");
        p.entry_time = TimeOfDay::hm(23, 50).expect("time");
        p.exit_time = TimeOfDay::hm(15, 0).expect("time");
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        // 00:05 IST on the 11th = 18:35 UTC on the 10th.
        assert_eq!(window_day(&p, utc(2026, 3, 10, 18, 35)), Some(d));
    }

    #[test]
    fn expiry_buffer() {
        let now = utc(2026, 3, 10, 4, 0);
        let e1 = utc(2026, 3, 10, 12, 0);
        let e2 = utc(2026, 3, 11, 12, 0);
        assert_eq!(pick_expiry(&[e2, e1], now, 0), Some(e1));
        assert_eq!(pick_expiry(&[e1, e2], now, 32), Some(e2));
        assert_eq!(pick_expiry(&[e1, e2], now, 33), None);
    }
}
