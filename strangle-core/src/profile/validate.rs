//! Profile validation: every problem at once, each naming its field.

use rust_decimal::Decimal;

use super::{PnlBasis, Profile, StrikeMode, Warning, WarningKind};
use crate::error::{Error, FieldError, ValidationErrors};

struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn check(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }
}

impl Profile {
    /// Settings that are valid but probably not what was meant, each naming its field: a
    /// percentage between 0 and 1 (`max_profit_pct = 0.8` is 0.8 %, not 80 %), an exit basis
    /// other than the default (what the rule then means). Shown by
    /// `strangle check` and `configs create/update`; nothing is refused.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use strangle_core::profile::Profile;
    /// let mut p = Profile::named("x");
    /// assert!(p.warnings().is_empty());
    /// p.max_profit_pct = Some(dec!(0.8));
    /// let w = p.warnings();
    /// assert_eq!(w[0].field, "max_profit_pct");
    /// assert_eq!(w[0].kind, strangle_core::profile::WarningKind::FractionForPercent);
    /// ```
    pub fn warnings(&self) -> Vec<Warning> {
        let mut w = Vec::new();
        let mut pcts: Vec<(String, Decimal)> = Vec::new();
        if let Some(v) = self.max_profit_pct {
            pcts.push(("max_profit_pct".into(), v));
        }
        if let Some(v) = self.max_loss_pct {
            pcts.push(("max_loss_pct".into(), v));
        }
        for (i, t) in self.trailing.tiers.iter().enumerate() {
            pcts.push((format!("trailing.tiers[{i}].trigger_pct"), t.trigger_pct));
            pcts.push((format!("trailing.tiers[{i}].lock_pct"), t.lock_pct));
        }
        if let Some(v) = self.leg_exit.stop_pct {
            pcts.push(("leg_exit.stop_pct".into(), v));
        }
        if let Some(v) = self.leg_exit.target_pct {
            pcts.push(("leg_exit.target_pct".into(), v));
        }
        if let Some(s) = &self.trailing.step {
            pcts.push(("trailing.step.every_pct".into(), s.every_pct));
            pcts.push(("trailing.step.lock_pct".into(), s.lock_pct));
        }
        // A basis other than the default changes what the rule means: say how.
        let b = &self.exit_basis;
        if b.max_profit == PnlBasis::Mark && self.max_profit_pct.is_some() {
            w.push(Warning::new(
                "exit_basis.max_profit",
                WarningKind::ProfitOnMark,
                "mark: the mark leaves out the bid/ask spread and the exit fee, so a profit exit \
                 can close at a loss (close_now, the default, fires only on a profit closing \
                 would realise)",
            ));
        }
        if b.trailing == PnlBasis::Mark && !self.trailing.tiers.is_empty() {
            w.push(Warning::new(
                "exit_basis.trailing",
                WarningKind::TrailingOnMark,
                "mark: the peak and the locked level are mark profits, which closing realises \
                 less of by the spread and the exit fee (close_now is the default)",
            ));
        }
        if b.max_loss == PnlBasis::CloseNow && self.max_loss_pct.is_some() {
            w.push(Warning::new(
                "exit_basis.max_loss",
                WarningKind::LossOnCloseNow,
                "close_now: a momentary widening of the asks counts as a loss and can stop the \
                 strangle out (mark, the default, ignores the spread)",
            ));
        }
        // Without a stop at the venue nothing caps the loss while strangle is down.
        if !self.venue_stop.enabled {
            w.push(Warning::new(
                "venue_stop.enabled",
                WarningKind::NoVenueStop,
                "false: no stop rests at the venue, so nothing caps the loss of an open \
                 strangle while strangle is down",
            ));
        } else if self.max_loss_pct.is_none() {
            w.push(Warning::new(
                "max_loss_pct",
                WarningKind::NoVenueStop,
                "off: with no loss limit no venue stop can be sized, so nothing caps the loss \
                 of an open strangle while strangle is down",
            ));
        }
        for (field, v) in pcts {
            if v > Decimal::ZERO && v < Decimal::ONE {
                let as_pct = v * Decimal::ONE_HUNDRED;
                w.push(Warning::new(
                    field,
                    WarningKind::FractionForPercent,
                    format!(
                        "{v} means {v} % of premium; for {} % write {}",
                        as_pct.normalize(),
                        as_pct.normalize()
                    ),
                ));
            }
        }
        w
    }

    /// Checks every field; returns all problems found, each naming its field.
    ///
    /// ```
    /// use strangle_core::profile::Profile;
    /// let mut p = Profile::named("x");
    /// p.delta_band.low = 0.3;       // above high
    /// p.contracts_per_leg = 0.into();
    /// let err = p.validate().unwrap_err().to_string();
    /// assert!(err.contains("delta_band"));
    /// assert!(err.contains("contracts_per_leg"));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        let mut p = Problems(Vec::new());
        let name = self.name.trim();
        p.check(!name.is_empty(), "name", "must not be empty");
        p.check(
            self.name.chars().count() <= 64,
            "name",
            "must be at most 64 characters",
        );
        p.check(
            name == self.name,
            "name",
            "must not start or end with spaces",
        );
        p.check(
            !self.name.chars().any(char::is_control),
            "name",
            "must not contain control characters",
        );

        let b = self.delta_band;
        p.check(
            b.low.is_finite() && b.low > 0.0 && b.low < 1.0,
            "delta_band.low",
            format!("must be between 0 and 1 (exclusive), got {}", b.low),
        );
        p.check(
            b.high.is_finite() && b.high > 0.0 && b.high < 1.0,
            "delta_band.high",
            format!("must be between 0 and 1 (exclusive), got {}", b.high),
        );
        p.check(
            b.low < b.high || b.low.is_nan() || b.high.is_nan(),
            "delta_band",
            format!("low ({}) must be below high ({})", b.low, b.high),
        );

        match (&self.strike_mode, &self.premium_windows) {
            (StrikeMode::Premium, None) => p.add(
                "premium_windows",
                "required when strike_mode is \"premium\"",
            ),
            (_, Some(w)) => {
                for (leg, win) in [("call", &w.call), ("put", &w.put)] {
                    p.check(
                        win.min > Decimal::ZERO,
                        format!("premium_windows.{leg}.min"),
                        "must be positive",
                    );
                    p.check(
                        win.min < win.max,
                        format!("premium_windows.{leg}"),
                        format!("min ({}) must be below max ({})", win.min, win.max),
                    );
                }
            }
            _ => {}
        }

        let l = &self.liquidity;
        if let Some(s) = l.max_spread_pct {
            p.check(
                s > Decimal::ZERO,
                "liquidity.max_spread_pct",
                "must be positive",
            );
        }
        if let Some(oi) = l.min_open_interest {
            p.check(
                oi >= Decimal::ZERO,
                "liquidity.min_open_interest",
                "must not be negative",
            );
        }
        p.check(
            l.max_quote_age_secs > 0,
            "liquidity.max_quote_age_secs",
            "must be at least 1",
        );

        p.check(
            self.entry_window_minutes > 0 && self.entry_window_minutes < 24 * 60,
            "entry_window_minutes",
            "must be between 1 and 1439",
        );
        p.check(
            self.entry_time != self.exit_time,
            "exit_time",
            "must differ from entry_time",
        );
        if self.exit_time > self.entry_time && self.entry_window_minutes > 0 {
            let window_end =
                self.entry_time.0 + chrono::Duration::minutes(i64::from(self.entry_window_minutes));
            p.check(
                window_end < self.exit_time.0 && window_end > self.entry_time.0,
                "entry_window_minutes",
                format!(
                    "the entry window ({} + {} min) must end before exit_time ({})",
                    self.entry_time, self.entry_window_minutes, self.exit_time
                ),
            );
        }
        p.check(
            self.expiry_buffer_hours <= 24 * 60,
            "expiry_buffer_hours",
            "must be at most 1440 (60 days)",
        );
        p.check(
            self.exit_before_expiry_minutes <= 24 * 60,
            "exit_before_expiry_minutes",
            "must be at most 1440",
        );

        p.check(
            self.contracts_per_leg >= Decimal::ONE && self.contracts_per_leg.fract().is_zero(),
            "contracts_per_leg",
            format!(
                "must be a whole number of at least 1, got {}",
                self.contracts_per_leg
            ),
        );
        if let Some(cs) = self.contract_size {
            p.check(cs > Decimal::ZERO, "contract_size", "must be positive");
        }
        super::gates::problems(&self.gates, &mut |f, m| p.add(f, m));
        super::leg_exit::problems(&self.leg_exit, &mut |f, m| p.add(f, m));
        super::reentry::problems(&self.reentry, &mut |f, m| p.add(f, m));
        if let Some(ml) = self.max_loss_pct {
            p.check(ml > Decimal::ZERO, "max_loss_pct", "must be positive");
        }
        if let Some(mp) = self.max_profit_pct {
            p.check(
                mp > Decimal::ZERO && mp <= Decimal::ONE_HUNDRED,
                "max_profit_pct",
                "must be above 0 and at most 100 (% of premium received)",
            );
        }

        let mut prev: Option<(Decimal, Decimal)> = None;
        for (i, t) in self.trailing.tiers.iter().enumerate() {
            let f = |x: &str| format!("trailing.tiers[{i}].{x}");
            p.check(
                t.trigger_pct > Decimal::ZERO,
                f("trigger_pct"),
                "must be positive",
            );
            p.check(
                t.lock_pct >= Decimal::ZERO,
                f("lock_pct"),
                "must not be negative",
            );
            p.check(
                t.lock_pct < t.trigger_pct,
                f("lock_pct"),
                format!(
                    "must be below the trigger ({}), or the stop fires at once",
                    t.trigger_pct
                ),
            );
            if let Some((pt, pl)) = prev {
                p.check(
                    t.trigger_pct > pt,
                    f("trigger_pct"),
                    format!("tiers must rise: {} is not above {}", t.trigger_pct, pt),
                );
                p.check(
                    t.lock_pct >= pl,
                    f("lock_pct"),
                    format!("locks must not fall: {} is below {}", t.lock_pct, pl),
                );
            }
            prev = Some((t.trigger_pct, t.lock_pct));
        }
        if let Some(s) = &self.trailing.step {
            p.check(
                !self.trailing.tiers.is_empty(),
                "trailing.step",
                "needs at least one tier to continue from",
            );
            p.check(
                s.every_pct > Decimal::ZERO,
                "trailing.step.every_pct",
                "must be positive",
            );
            p.check(
                s.lock_pct > Decimal::ZERO && s.lock_pct <= s.every_pct,
                "trailing.step.lock_pct",
                "must be positive and at most every_pct",
            );
        }

        let e = &self.execution;
        p.check(
            (1..=20).contains(&e.limit_attempts),
            "execution.limit_attempts",
            "must be between 1 and 20",
        );
        p.check(
            e.fill_wait_secs >= 1,
            "execution.fill_wait_secs",
            "must be at least 1",
        );
        p.check(
            e.cancel_confirm_secs >= 1,
            "execution.cancel_confirm_secs",
            "must be at least 1",
        );
        p.check(
            (1..=10_000).contains(&e.ioc_ticks),
            "execution.ioc_ticks",
            "must be between 1 and 10000",
        );
        p.check(
            e.partial_fill_threshold_pct > Decimal::ZERO
                && e.partial_fill_threshold_pct <= Decimal::ONE_HUNDRED,
            "execution.partial_fill_threshold_pct",
            "must be above 0 and at most 100",
        );

        p.check(
            self.venue_stop.limit_offset_pct > Decimal::ZERO
                && self.venue_stop.limit_offset_pct <= Decimal::from(1000),
            "venue_stop.limit_offset_pct",
            "must be above 0 and at most 1000",
        );

        let fm = &self.fees;
        for (field, v) in [
            ("fees.taker_rate_pct", fm.taker_rate_pct),
            ("fees.maker_rate_pct", fm.maker_rate_pct),
            ("fees.premium_cap_pct", fm.premium_cap_pct),
            ("fees.tax_pct", fm.tax_pct),
        ] {
            p.check(v >= Decimal::ZERO, field, "must not be negative");
        }

        if p.0.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidProfile(ValidationErrors(p.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{PremiumWindows, PriceWindow, TrailingTier};

    fn fields(p: &Profile) -> Vec<String> {
        match p.validate() {
            Err(Error::InvalidProfile(v)) => v.0.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn default_named_profile_is_valid() {
        Profile::named("a").validate().expect("valid");
    }

    #[test]
    fn reports_every_problem_at_once() {
        let mut p = Profile::named("");
        p.delta_band.low = 0.2;
        p.delta_band.high = 1.5;
        p.contracts_per_leg = Decimal::new(15, 1);
        p.max_profit_pct = Some(Decimal::from(150));
        p.execution.limit_attempts = 0;
        p.trailing.tiers.push(TrailingTier {
            trigger_pct: Decimal::from(40),
            lock_pct: Decimal::from(45),
        });
        let f = fields(&p);
        for want in [
            "name",
            "delta_band.high",
            "contracts_per_leg",
            "max_profit_pct",
            "execution.limit_attempts",
            "trailing.tiers[2].trigger_pct",
            "trailing.tiers[2].lock_pct",
        ] {
            assert!(f.iter().any(|x| x == want), "missing {want} in {f:?}");
        }
    }

    #[test]
    fn band_order_and_nan() {
        let mut p = Profile::named("a");
        p.delta_band.low = 0.15;
        p.delta_band.high = 0.10;
        assert!(fields(&p).contains(&"delta_band".to_string()));
        p.delta_band.low = f64::NAN;
        assert!(fields(&p).contains(&"delta_band.low".to_string()));
    }

    #[test]
    fn premium_mode_needs_windows() {
        let mut p = Profile::named("a");
        p.strike_mode = StrikeMode::Premium;
        assert_eq!(fields(&p), vec!["premium_windows".to_string()]);
        p.premium_windows = Some(PremiumWindows {
            call: PriceWindow {
                min: Decimal::from(10),
                max: Decimal::from(5),
            },
            put: PriceWindow {
                min: Decimal::from(5),
                max: Decimal::from(10),
            },
        });
        assert_eq!(fields(&p), vec!["premium_windows.call".to_string()]);
    }

    #[test]
    fn entry_window_must_end_before_exit() {
        let mut p = Profile::named("a");
        p.entry_window_minutes = 600;
        assert_eq!(fields(&p), vec!["entry_window_minutes".to_string()]);
    }

    #[test]
    fn breakeven_tier_is_valid() {
        let mut p = Profile::named("a");
        p.trailing.tiers = vec![TrailingTier {
            trigger_pct: Decimal::from(20),
            lock_pct: Decimal::ZERO,
        }];
        p.validate().expect("valid");
    }

    #[test]
    fn a_profile_without_a_venue_stop_says_so() {
        let mut p = Profile::named("a");
        assert!(p.warnings().is_empty());
        p.max_loss_pct = None;
        let w: Vec<_> = p
            .warnings()
            .into_iter()
            .map(|w| (w.field, w.kind))
            .collect();
        assert_eq!(w, [("max_loss_pct".to_string(), WarningKind::NoVenueStop)]);
        p.max_loss_pct = Some(Decimal::from(80));
        p.venue_stop.enabled = false;
        let w: Vec<_> = p
            .warnings()
            .into_iter()
            .map(|w| (w.field, w.kind))
            .collect();
        assert_eq!(
            w,
            [("venue_stop.enabled".to_string(), WarningKind::NoVenueStop)]
        );
    }

    #[test]
    fn a_basis_other_than_the_default_is_explained() {
        let mut p = Profile::named("a");
        assert!(p.warnings().is_empty());
        p.exit_basis = super::super::ExitBasis::mark();
        let w: Vec<_> = p
            .warnings()
            .into_iter()
            .map(|w| (w.field, w.kind))
            .collect();
        assert_eq!(
            w,
            [
                (
                    "exit_basis.max_profit".to_string(),
                    WarningKind::ProfitOnMark
                ),
                (
                    "exit_basis.trailing".to_string(),
                    WarningKind::TrailingOnMark
                )
            ]
        );
        p.exit_basis.max_loss = PnlBasis::CloseNow;
        p.max_profit_pct = None;
        p.trailing.tiers.clear();
        let w = p.warnings();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].field, "exit_basis.max_loss");
        assert_eq!(w[0].kind, WarningKind::LossOnCloseNow);
    }
}
