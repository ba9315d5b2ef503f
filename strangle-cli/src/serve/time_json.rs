//! Times in the heartbeat and runtime answers, written digit by digit: the same text as
//! chrono's serde (RFC 3339 in UTC with `Z`, the fraction in 0, 3, 6 or 9 digits), which
//! goes through `fmt` machinery that was a tenth of a runtime answer's cost. Years outside
//! 0–9999 and leap seconds are left to chrono.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// `t` as chrono's serde writes it, or `None` where chrono is left to write it.
fn text(t: &DateTime<Utc>, out: &mut [u8; 30]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let two = |out: &mut [u8; 30], at: usize, v: u32| {
        out[at] = b'0' + (v / 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    two(out, 0, year / 100);
    two(out, 2, year % 100);
    out[4] = b'-';
    two(out, 5, t.month());
    out[7] = b'-';
    two(out, 8, t.day());
    out[10] = b'T';
    two(out, 11, t.hour());
    out[13] = b':';
    two(out, 14, t.minute());
    out[16] = b':';
    two(out, 17, t.second());
    let (digits, mut fraction) = if nanos == 0 {
        (0, 0)
    } else if nanos % 1_000_000 == 0 {
        (3, nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        (6, nanos / 1_000)
    } else {
        (9, nanos)
    };
    let mut end = 19;
    if digits > 0 {
        out[19] = b'.';
        for i in (0..digits).rev() {
            out[20 + i] = b'0' + (fraction % 10) as u8;
            fraction /= 10;
        }
        end = 20 + digits;
    }
    out[end] = b'Z';
    Some(end + 1)
}

/// Serialises a time (for `serialize_with`).
pub fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match text(t, &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(text) => s.serialize_str(text),
        None => t.serialize(s),
    }
}

/// Serialises an optional time (for `serialize_with`).
pub fn opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "time")] DateTime<Utc>);

    fn agree(t: DateTime<Utc>) {
        let want = serde_json::to_string(&t).expect("chrono");
        let got = serde_json::to_string(&Fast(t)).expect("fast");
        assert_eq!(got, want, "{t:?}");
    }

    /// Random times over years 0–9999, with fractions of every length: chrono's text.
    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let lo = NaiveDate::from_ymd_opt(0, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a date")
            .and_utc()
            .timestamp();
        let hi = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .expect("a date")
            .and_utc()
            .timestamp();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let span = u64::try_from(hi - lo).expect("positive");
        for _ in 0..50_000 {
            let secs = lo + i64::try_from(next() % span).expect("fits");
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1_000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1_000,
                _ => (next() % 1_000_000_000) as u32,
            };
            agree(Utc.timestamp_opt(secs, nanos).single().expect("in range"));
        }
        for (secs, nanos) in [(0, 0), (0, 1), (-1, 999_999_999), (1_773_115_200, 10_000)] {
            agree(Utc.timestamp_opt(secs, nanos).single().expect("in range"));
        }
    }

    /// Leap seconds and years past 9999 are chrono's to write.
    #[test]
    fn what_is_left_to_chrono_is_written_by_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("a leap second")
            .and_utc();
        agree(leap);
        let far = NaiveDate::from_ymd_opt(12_345, 6, 7)
            .and_then(|d| d.and_hms_opt(8, 9, 10))
            .expect("a date")
            .and_utc();
        agree(far);
        let before = NaiveDate::from_ymd_opt(-44, 3, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a date")
            .and_utc();
        agree(before);
    }
}
