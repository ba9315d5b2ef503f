//! Parsers of command-line values shared by several commands (`run`, `sim-server`, `serve`).

use chrono::Duration;

/// Parses a clock speed: a positive number up to 10,000.
pub fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 10_000.0 => Ok(v),
        _ => Err(format!(
            "{s:?}: expected a number above 0 and at most 10000"
        )),
    }
}

/// Parses `5d`, `12h`, `90m` or `30s`: a positive whole number and its unit, which is
/// required (a bare `5` could mean days or seconds).
pub fn parse_span(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number followed by d, h, m or s"))?;
    if n <= 0 {
        return Err(format!("{s:?}: the span must be above 0"));
    }
    match unit {
        "d" => Ok(Duration::days(n)),
        "h" => Ok(Duration::hours(n)),
        "m" => Ok(Duration::minutes(n)),
        "s" => Ok(Duration::seconds(n)),
        "" => Err(format!(
            "{s:?}: give a unit: {n}d (days), {n}h (hours), {n}m (minutes) or {n}s (seconds)"
        )),
        _ => Err(format!("{s:?}: the unit must be d, h, m or s")),
    }
}
