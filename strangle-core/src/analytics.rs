//! Performance statistics of closed sessions: the KPIs and series behind the dashboard, the
//! CLI's reports and backtest reports. Pure functions of the sessions, exact in `Decimal`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::{SessionRecord, SessionState};
use crate::schedule::ist_date;

/// One point of a time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Point<T> {
    /// When (the session's close).
    pub at: DateTime<Utc>,
    /// Value.
    pub value: T,
}

/// One bar of the histogram of session results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// Lower bound (inclusive), USD.
    pub from: Decimal,
    /// Upper bound (exclusive; the last bucket includes it), USD.
    pub to: Decimal,
    /// Sessions in it.
    pub count: usize,
}

/// The money of a set of closed sessions, USD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    /// Net PnL, USD (after fees).
    pub net: Decimal,
    /// Gross PnL, USD (before fees).
    pub gross: Decimal,
    /// Fees, USD, counted once per session.
    pub fees: Decimal,
}

/// How a set of closed sessions ended: wins, losses and their averages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcomes {
    /// Sessions with net > 0.
    pub wins: usize,
    /// Sessions with net < 0.
    pub losses: usize,
    /// Wins / sessions, in % (None without sessions).
    pub win_rate_pct: Option<Decimal>,
    /// Average net of winning sessions.
    pub avg_win: Option<Decimal>,
    /// Average net of losing sessions (negative).
    pub avg_loss: Option<Decimal>,
    /// Σ wins / |Σ losses| (None without losses).
    pub profit_factor: Option<Decimal>,
}

/// KPIs and chart series over a set of sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Analytics {
    /// Closed sessions counted.
    pub sessions: usize,
    /// Net, gross and fees (written as top-level fields).
    #[serde(flatten)]
    pub totals: Totals,
    /// Wins, losses and their averages (written as top-level fields).
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Longest run of consecutive winning sessions.
    pub longest_win_streak: usize,
    /// Longest run of consecutive losing sessions.
    pub longest_loss_streak: usize,
    /// Largest peak-to-trough fall of cumulative net PnL, USD (≥ 0).
    pub max_drawdown: Decimal,
    /// IST days with positive net PnL.
    pub profitable_days: usize,
    /// IST days with at least one session.
    pub trading_days: usize,
    /// Net PnL per IST day.
    pub daily: Vec<(NaiveDate, Decimal)>,
    /// Cumulative net PnL after each session.
    pub cumulative: Vec<Point<Decimal>>,
    /// Drawdown from the running peak after each session (≤ 0).
    pub drawdown: Vec<Point<Decimal>>,
    /// Win rate (%) over the last `window` sessions, after each session.
    pub rolling_win_rate: Vec<Point<f64>>,
    /// Histogram of session net PnL.
    pub histogram: Vec<Bucket>,
}

/// Computes [`Analytics`] over the closed sessions among `sessions` (any order), with a
/// rolling win rate over `window` sessions and `buckets` histogram bars.
pub fn analyze(sessions: &[SessionRecord], window: usize, buckets: usize) -> Analytics {
    let mut closed: Vec<&SessionRecord> = sessions
        .iter()
        .filter(|s| s.state == SessionState::Closed && s.closed_at.is_some())
        .collect();
    closed.sort_by_key(|s| (s.closed_at, s.session_id.clone()));
    let mut a = Analytics {
        sessions: closed.len(),
        ..Analytics::default()
    };
    if closed.is_empty() {
        return a;
    }
    let (mut win_sum, mut loss_sum) = (Decimal::ZERO, Decimal::ZERO);
    let (mut run_w, mut run_l) = (0usize, 0usize);
    let (mut cum, mut peak) = (Decimal::ZERO, Decimal::ZERO);
    let mut days: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    let mut outcomes: Vec<bool> = Vec::new();
    for s in &closed {
        let at = s.closed_at.unwrap_or(s.opened_at);
        let net = s.pnl.net;
        a.totals.net += net;
        a.totals.gross += s.pnl.gross;
        a.totals.fees += s.pnl.fees;
        if net > Decimal::ZERO {
            a.outcomes.wins += 1;
            win_sum += net;
            run_w += 1;
            run_l = 0;
        } else if net < Decimal::ZERO {
            a.outcomes.losses += 1;
            loss_sum += net;
            run_l += 1;
            run_w = 0;
        } else {
            run_w = 0;
            run_l = 0;
        }
        a.longest_win_streak = a.longest_win_streak.max(run_w);
        a.longest_loss_streak = a.longest_loss_streak.max(run_l);
        cum += net;
        peak = peak.max(cum);
        a.max_drawdown = a.max_drawdown.max(peak - cum);
        a.cumulative.push(Point { at, value: cum });
        a.drawdown.push(Point {
            at,
            value: cum - peak,
        });
        outcomes.push(net > Decimal::ZERO);
        let from = outcomes.len().saturating_sub(window.max(1));
        let recent = &outcomes[from..];
        let rate = recent.iter().filter(|w| **w).count() as f64 * 100.0 / recent.len() as f64;
        a.rolling_win_rate.push(Point { at, value: rate });
        *days.entry(ist_date(at)).or_default() += net;
    }
    let n = Decimal::from(closed.len());
    a.outcomes.win_rate_pct =
        Some((Decimal::from(a.outcomes.wins) * Decimal::ONE_HUNDRED / n).round_dp(4));
    a.outcomes.avg_win =
        (a.outcomes.wins > 0).then(|| (win_sum / Decimal::from(a.outcomes.wins)).round_dp(8));
    a.outcomes.avg_loss =
        (a.outcomes.losses > 0).then(|| (loss_sum / Decimal::from(a.outcomes.losses)).round_dp(8));
    a.outcomes.profit_factor =
        (loss_sum < Decimal::ZERO).then(|| (win_sum / -loss_sum).round_dp(6));
    a.trading_days = days.len();
    a.profitable_days = days.values().filter(|v| **v > Decimal::ZERO).count();
    a.daily = days.into_iter().collect();
    a.histogram = histogram(closed.iter().map(|s| s.pnl.net), buckets);
    a
}

fn histogram(values: impl Iterator<Item = Decimal>, buckets: usize) -> Vec<Bucket> {
    let v: Vec<Decimal> = values.collect();
    let (Some(lo), Some(hi)) = (v.iter().min().copied(), v.iter().max().copied()) else {
        return Vec::new();
    };
    let k = buckets.max(1);
    if lo == hi {
        return vec![Bucket {
            from: lo,
            to: hi,
            count: v.len(),
        }];
    }
    let width = (hi - lo) / Decimal::from(k);
    let mut out: Vec<Bucket> = (0..k)
        .map(|i| Bucket {
            from: lo + width * Decimal::from(i),
            to: lo + width * Decimal::from(i + 1),
            count: 0,
        })
        .collect();
    for x in v {
        let i = ((x - lo) / width)
            .floor()
            .to_usize()
            .unwrap_or(0)
            .min(k - 1);
        out[i].count += 1;
    }
    out
}

/// The keys of a JSON object's members, in the order written (nested objects' keys too):
/// what the tests that pin a type's JSON shape compare.
#[cfg(test)]
pub(crate) fn object_keys(json: &str) -> Vec<String> {
    json.split(['{', ','])
        .filter_map(|part| part.strip_prefix('"')?.split_once("\":"))
        .map(|(k, _)| k.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Mode;
    use crate::model::Underlying;
    use crate::pnl::SessionPnl;
    use chrono::{Duration, TimeZone};
    use rust_decimal_macros::dec;

    #[test]
    fn the_analytics_are_written_with_the_same_keys_in_the_same_order() {
        let json = serde_json::to_string(&Analytics::default()).expect("serializes");
        let top = object_keys(&json);
        let want = [
            "sessions",
            "net",
            "gross",
            "fees",
            "wins",
            "losses",
            "win_rate_pct",
            "avg_win",
            "avg_loss",
            "profit_factor",
            "longest_win_streak",
            "longest_loss_streak",
            "max_drawdown",
            "profitable_days",
            "trading_days",
            "daily",
            "cumulative",
            "drawdown",
            "rolling_win_rate",
            "histogram",
        ];
        assert_eq!(top, want, "{json}");
        let back: Analytics = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, Analytics::default());
    }

    fn session(day: i64, net: Decimal) -> SessionRecord {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 1, 6, 0, 0)
            .single()
            .expect("t")
            + Duration::days(day);
        SessionRecord {
            session_id: crate::ids::SessionId::new(format!("s{day}")).expect("a valid id"),
            profile: "p".into(),
            underlying: Underlying::Btc,
            mode: Mode::Backtest,
            trading_day: t.date_naive(),
            state: SessionState::Closed,
            opened_at: t,
            closed_at: Some(t + Duration::hours(1)),
            expiry: t + Duration::days(1),
            planned_exit: t + Duration::hours(5),
            entry_spot: None,
            legs: vec![],
            exit_reason: None,
            pnl: SessionPnl {
                premium: dec!(10),
                gross: net + dec!(1),
                fees: dec!(1),
                net,
            },
            trailing_level: None,
            peak_pnl_pct: None,
            trough_pnl_pct: None,
            reentry_of: None,
            reentry: 0,
        }
    }

    #[test]
    fn kpis_by_hand() {
        let s: Vec<_> = [dec!(3), dec!(2), dec!(-4), dec!(-1), dec!(5), dec!(0)]
            .into_iter()
            .enumerate()
            .map(|(i, n)| session(i as i64, n))
            .collect();
        let a = analyze(&s, 3, 3);
        assert_eq!(a.sessions, 6);
        assert_eq!(a.totals.net, dec!(5));
        assert_eq!(a.totals.fees, dec!(6), "one fee per session, counted once");
        assert_eq!(a.totals.gross, dec!(11));
        assert_eq!((a.outcomes.wins, a.outcomes.losses), (3, 2));
        assert_eq!(a.outcomes.win_rate_pct, Some(dec!(50)));
        assert_eq!(a.outcomes.avg_win, Some(dec!(3.33333333)));
        assert_eq!(a.outcomes.avg_loss, Some(dec!(-2.5)));
        assert_eq!(a.outcomes.profit_factor, Some(dec!(2)));
        assert_eq!((a.longest_win_streak, a.longest_loss_streak), (2, 2));
        // Cumulative 3, 5, 1, 0, 5, 5: peak 5, trough 0.
        assert_eq!(a.max_drawdown, dec!(5));
        assert_eq!(a.cumulative.last().map(|p| p.value), Some(dec!(5)));
        assert_eq!(a.drawdown[3].value, dec!(-5));
        assert_eq!((a.trading_days, a.profitable_days), (6, 3));
        assert_eq!(a.rolling_win_rate[4].value, 100.0 / 3.0);
        assert_eq!(a.histogram.iter().map(|b| b.count).sum::<usize>(), 6);
        assert_eq!(a.histogram[0].from, dec!(-4));
        assert_eq!(a.histogram[2].count, 3, "3, 5 and 2 fall in [2, 5]");
    }

    #[test]
    fn empty_and_open_sessions() {
        let mut open = session(0, dec!(1));
        open.state = SessionState::Open;
        let a = analyze(&[open], 5, 5);
        assert_eq!(a.sessions, 0);
        assert!(a.outcomes.win_rate_pct.is_none() && a.histogram.is_empty());
    }
}
