//! Exits: max loss, the tiered trailing stop, max profit, the exit time, the expiry buffer and
//! operator commands — evaluated in that order, first match wins.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::profile::{PnlBasis, Profile, Trailing};

/// Why a strangle was closed (or never completed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// Loss reached `max_loss_pct` of premium.
    MaxLoss,
    /// Profit fell back to the locked trailing level.
    TrailingStop,
    /// Profit reached `max_profit_pct` of premium.
    MaxProfit,
    /// The planned IST exit time arrived.
    ExitTime,
    /// Settlement came within `exit_before_expiry_minutes`.
    ExpiryBuffer,
    /// The operator asked to stop (flatten, then stop).
    OperatorStop,
    /// The operator pressed panic (market-close now).
    Panic,
    /// One leg could not be entered; the other was bought back.
    FailedEntry,
    /// The contracts reached settlement while open (cash-settled by the venue).
    Settled,
    /// A backtest's data (or its `until`) ended with the strangle still open: valued at its
    /// last marks, with no exit fill.
    DataEnd,
    /// A restart found the legs already flat at the exchange (bought back outside strangle,
    /// or a simulated market that ended with its process, adopted by the operator): booked at
    /// what reconciliation recorded.
    ClosedOutside,
    /// A stop order resting at the venue bought a leg back (the rest was then closed by the
    /// strategy, or, with a leg policy that keeps the other leg, carried on).
    VenueStop,
    /// A leg's loss reached `leg_exit.stop_pct` of its premium.
    LegStop,
    /// A leg's profit reached `leg_exit.target_pct` of its premium.
    LegTarget,
    /// The leg left after the other's stop was bought back at its cost
    /// (`exit_leg_and_move_other_to_cost`).
    LegCostStop,
    /// The account risk governor halted: every profile is flattened.
    AccountRisk,
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxLoss => "max_loss",
            Self::TrailingStop => "trailing_stop",
            Self::MaxProfit => "max_profit",
            Self::ExitTime => "exit_time",
            Self::ExpiryBuffer => "expiry_buffer",
            Self::OperatorStop => "operator_stop",
            Self::Panic => "panic",
            Self::FailedEntry => "failed_entry",
            Self::Settled => "settled",
            Self::DataEnd => "data_end",
            Self::ClosedOutside => "closed_outside",
            Self::VenueStop => "venue_stop",
            Self::LegStop => "leg_stop",
            Self::LegTarget => "leg_target",
            Self::LegCostStop => "leg_cost_stop",
            Self::AccountRisk => "account_risk",
        })
    }
}

/// The profit lock that a peak profit earns, in % of premium; `None` before the first tier.
///
/// ```
/// use rust_decimal_macros::dec;
/// use strangle_core::profile::{Trailing, TrailingTier, TrailingStep};
/// use strangle_core::risk::lock_for_peak;
/// let t = Trailing {
///     tiers: vec![TrailingTier { trigger_pct: dec!(40), lock_pct: dec!(15) }],
///     step: Some(TrailingStep { every_pct: dec!(10), lock_pct: dec!(5) }),
/// };
/// assert_eq!(lock_for_peak(&t, dec!(39)), None);
/// assert_eq!(lock_for_peak(&t, dec!(40)), Some(dec!(15)));
/// assert_eq!(lock_for_peak(&t, dec!(65)), Some(dec!(25))); // two steps above 40
/// ```
pub fn lock_for_peak(trailing: &Trailing, peak_pct: Decimal) -> Option<Decimal> {
    let last = trailing
        .tiers
        .iter()
        .filter(|t| t.trigger_pct <= peak_pct)
        .max_by(|a, b| a.trigger_pct.cmp(&b.trigger_pct))?;
    let mut lock = last.lock_pct;
    let top = trailing.tiers.iter().map(|t| t.trigger_pct).max()?;
    if let (Some(step), true) = (&trailing.step, last.trigger_pct == top) {
        if step.every_pct > Decimal::ZERO {
            let steps = ((peak_pct - top) / step.every_pct).floor();
            lock += steps * step.lock_pct;
        }
    }
    Some(lock)
}

/// The trailing stop of one session: a ratchet on the profit lock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailingStop {
    /// Highest profit seen, % of premium.
    pub peak_pct: Option<Decimal>,
    /// Locked profit, % of premium; it never decreases once set.
    pub level: Option<Decimal>,
}

impl TrailingStop {
    /// Feeds the current profit; returns the (possibly raised) level.
    pub fn update(&mut self, trailing: &Trailing, pnl_pct: Decimal) -> Option<Decimal> {
        let peak = self.peak_pct.map_or(pnl_pct, |p| p.max(pnl_pct));
        self.peak_pct = Some(peak);
        if let Some(lock) = lock_for_peak(trailing, peak) {
            self.level = Some(self.level.map_or(lock, |l| l.max(lock)));
        }
        self.level
    }

    /// Whether the current profit has fallen to the locked level.
    pub fn hit(&self, pnl_pct: Decimal) -> bool {
        self.level.is_some_and(|l| pnl_pct <= l)
    }
}

/// What the exit rules look at.
#[derive(Debug, Clone, Copy)]
pub struct ExitInputs {
    /// Now.
    pub now: DateTime<Utc>,
    /// Net PnL at the marks in % of premium, when the quotes are fresh enough to trust.
    pub mark_pct: Option<Decimal>,
    /// Net PnL if closed now at the asks (exit fees included) in % of premium, when the
    /// quotes are fresh and every open leg has an ask.
    pub close_pct: Option<Decimal>,
    /// The IST exit time fixed at entry.
    pub planned_exit: DateTime<Utc>,
    /// Settlement of the legs.
    pub expiry: DateTime<Utc>,
    /// An operator stop is pending.
    pub stop_requested: bool,
}

impl ExitInputs {
    /// The profit on `basis`, if known.
    pub fn pct(&self, basis: PnlBasis) -> Option<Decimal> {
        match basis {
            PnlBasis::Mark => self.mark_pct,
            PnlBasis::CloseNow => self.close_pct,
        }
    }
}

/// Evaluates the exits in order and returns the first that fires, each rule on the PnL basis
/// the profile gives it (a rule whose basis is unknown now does not fire). Updates the
/// trailing stop with the current profit first, so a new peak is locked before it is tested.
pub fn check_exit(
    profile: &Profile,
    trailing: &mut TrailingStop,
    inp: &ExitInputs,
) -> Option<ExitReason> {
    let basis = profile.exit_basis;
    let trail = inp.pct(basis.trailing);
    if let Some(pct) = trail {
        trailing.update(&profile.trailing, pct);
    }
    if let (Some(m), Some(pct)) = (profile.max_loss_pct, inp.pct(basis.max_loss)) {
        if pct <= -m {
            return Some(ExitReason::MaxLoss);
        }
    }
    if trail.is_some_and(|pct| trailing.hit(pct)) {
        return Some(ExitReason::TrailingStop);
    }
    if let (Some(m), Some(pct)) = (profile.max_profit_pct, inp.pct(basis.max_profit)) {
        if pct >= m {
            return Some(ExitReason::MaxProfit);
        }
    }
    if inp.now >= inp.planned_exit {
        return Some(ExitReason::ExitTime);
    }
    let buffer = Duration::minutes(i64::from(profile.exit_before_expiry_minutes));
    if inp.now >= inp.expiry - buffer {
        return Some(ExitReason::ExpiryBuffer);
    }
    inp.stop_requested.then_some(ExitReason::OperatorStop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{TrailingStep, TrailingTier};
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn tiers() -> Trailing {
        Trailing {
            tiers: vec![
                TrailingTier {
                    trigger_pct: dec!(20),
                    lock_pct: dec!(0),
                },
                TrailingTier {
                    trigger_pct: dec!(40),
                    lock_pct: dec!(15),
                },
            ],
            step: Some(TrailingStep {
                every_pct: dec!(10),
                lock_pct: dec!(5),
            }),
        }
    }

    #[test]
    fn breakeven_tier_fires_at_zero() {
        let t = tiers();
        let mut s = TrailingStop::default();
        assert_eq!(s.update(&t, dec!(10)), None);
        assert!(!s.hit(dec!(-5)), "no lock before the first trigger");
        assert_eq!(s.update(&t, dec!(25)), Some(dec!(0)));
        assert!(!s.hit(dec!(1)));
        assert!(s.hit(dec!(0)), "a lock of 0 % is a working breakeven stop");
    }

    #[test]
    fn ratchet_never_loosens() {
        let t = tiers();
        let mut s = TrailingStop::default();
        s.update(&t, dec!(72));
        assert_eq!(s.level, Some(dec!(30)));
        s.update(&t, dec!(10));
        assert_eq!(s.level, Some(dec!(30)));
        assert_eq!(s.peak_pct, Some(dec!(72)));
    }

    #[test]
    fn exit_order_first_match_wins() {
        let p = Profile::named("a");
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("t");
        let inp = ExitInputs {
            now: t0 + Duration::hours(10),
            mark_pct: Some(dec!(-150)),
            close_pct: Some(dec!(-160)),
            planned_exit: t0 + Duration::hours(5),
            expiry: t0 + Duration::hours(11),
            stop_requested: true,
        };
        let mut ts = TrailingStop::default();
        assert_eq!(check_exit(&p, &mut ts, &inp), Some(ExitReason::MaxLoss));
        let inp2 = ExitInputs {
            mark_pct: Some(dec!(5)),
            close_pct: Some(dec!(4)),
            ..inp
        };
        assert_eq!(check_exit(&p, &mut ts, &inp2), Some(ExitReason::ExitTime));
        let inp3 = ExitInputs {
            mark_pct: None,
            close_pct: None,
            now: t0 + Duration::hours(1),
            ..inp
        };
        assert_eq!(
            check_exit(&p, &mut ts, &inp3),
            Some(ExitReason::OperatorStop)
        );
        let inp4 = ExitInputs {
            now: t0 + Duration::minutes(60 * 10 + 31),
            planned_exit: t0 + Duration::hours(20),
            mark_pct: None,
            close_pct: None,
            stop_requested: false,
            ..inp
        };
        assert_eq!(
            check_exit(&p, &mut ts, &inp4),
            Some(ExitReason::ExpiryBuffer)
        );
    }

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("t")
            + Duration::hours(h)
    }

    fn inputs(mark: Option<Decimal>, close: Option<Decimal>) -> ExitInputs {
        ExitInputs {
            now: at(0),
            mark_pct: mark,
            close_pct: close,
            planned_exit: at(5),
            expiry: at(30),
            stop_requested: false,
        }
    }

    /// Max profit and the trailing stop look at what closing would realise by default; max
    /// loss at the mark. Each can be set to the other basis.
    #[test]
    fn each_rule_reads_its_own_basis() {
        let mut p = Profile::named("b");
        p.max_profit_pct = Some(dec!(50));
        p.max_loss_pct = Some(dec!(100));
        let mut ts = TrailingStop::default();
        // The mark says 55 % profit, closing would realise 35 %: no max-profit exit.
        let inp = inputs(Some(dec!(55)), Some(dec!(35)));
        assert_eq!(check_exit(&p, &mut ts, &inp), None);
        assert_eq!(
            ts.peak_pct,
            Some(dec!(35)),
            "the trailing peak is on close-now"
        );
        // Closing would realise 50 %: exit.
        let inp = inputs(Some(dec!(60)), Some(dec!(50)));
        assert_eq!(
            check_exit(&p, &mut TrailingStop::default(), &inp),
            Some(ExitReason::MaxProfit)
        );
        // A spread blow-out: closing would cost 130 % of premium, the mark says −40 %.
        let inp = inputs(Some(dec!(-40)), Some(dec!(-130)));
        assert_eq!(check_exit(&p, &mut TrailingStop::default(), &inp), None);
        // On the mark basis (the original platform's behaviour) the mark decides everything.
        p.exit_basis = crate::profile::ExitBasis::mark();
        let inp = inputs(Some(dec!(55)), Some(dec!(35)));
        assert_eq!(
            check_exit(&p, &mut TrailingStop::default(), &inp),
            Some(ExitReason::MaxProfit)
        );
        // Without an ask on a leg, close-now is unknown: its rules wait, the others work.
        p.exit_basis = crate::profile::ExitBasis::default();
        let inp = inputs(Some(dec!(-120)), None);
        assert_eq!(
            check_exit(&p, &mut TrailingStop::default(), &inp),
            Some(ExitReason::MaxLoss)
        );
        let inp = inputs(Some(dec!(90)), None);
        assert_eq!(check_exit(&p, &mut TrailingStop::default(), &inp), None);
    }
}
