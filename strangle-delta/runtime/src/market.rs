//! Where an engine trades ([`Market`]), and the one rule that turns what a front was asked
//! for ([`MarketRequest`]) into it: the CLI's `run`, `serve`'s trading control and Python
//! sessions all call [`MarketRequest::build`], so a live market is refused the same way
//! everywhere (no confirmation, no credentials) and a simulated clock is made one way.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use strangle_core::clock::{Clock, ScaledClock, SystemClock};
use strangle_core::ledger::Mode;
use strangle_delta::api::DeltaClient;
use strangle_delta::{Credentials, DeltaError, Environment};
use strangle_delta_market::demo_credentials;

use crate::RunError;

/// Where the engine trades.
#[derive(Debug, Clone)]
pub enum Market {
    /// The Delta-compatible local market, started in this process: no network, no keys.
    Sim(SimMarket),
    /// Delta's public market data with simulated fills.
    Paper {
        /// Which Delta environment to read market data from.
        env: Environment,
        /// Starting simulated cash, USD.
        cash: Decimal,
    },
    /// Real orders on Delta Exchange, with the dead-man switch armed.
    Live {
        /// Which Delta environment.
        env: Environment,
        /// API key and secret.
        credentials: Credentials,
    },
}

impl Market {
    /// A simulated market in real time with the given seed and the demo credentials.
    pub fn sim(seed: u64) -> Self {
        Self::Sim(SimMarket {
            seed,
            credentials: demo_credentials(),
            time: SimTime::RealTime,
        })
    }

    /// The span a simulated market fast-forwards through, if it does.
    pub fn fast_forward(&self) -> Option<FastForward> {
        match self {
            Self::Sim(SimMarket {
                time: SimTime::FastForward(ff),
                ..
            }) => Some(*ff),
            _ => None,
        }
    }

    /// The shifted, sped-up clock of a simulated market, if it runs on one.
    pub fn scaled_clock(&self) -> Option<ScaledClock> {
        match self {
            Self::Sim(SimMarket {
                time: SimTime::Scaled(c),
                ..
            }) => Some(*c),
            _ => None,
        }
    }

    /// The mode recorded on sessions traded on this market.
    pub fn mode(&self) -> Mode {
        match self {
            Self::Sim(_) => Mode::Sim,
            Self::Paper { .. } => Mode::Paper,
            // A live run against a market on this machine is a rehearsal, never money.
            Self::Live { env, .. } if env.is_loopback() => Mode::Rehearsal,
            Self::Live { .. } => Mode::Live,
        }
    }
}

/// The local simulated market's settings.
#[derive(Debug, Clone)]
pub struct SimMarket {
    /// Seed of the random walks.
    pub seed: u64,
    /// Credentials the in-process server accepts (and the engine signs with).
    pub credentials: Credentials,
    /// How simulated time passes.
    pub time: SimTime,
}

/// How time passes on the simulated market.
#[derive(Debug, Clone, Copy, Default)]
pub enum SimTime {
    /// The wall clock.
    #[default]
    RealTime,
    /// The wall clock shifted and sped up (share one [`ScaledClock`] between engines so
    /// they live on one timeline).
    Scaled(ScaledClock),
    /// A span of simulated time run as fast as possible (then the engine ends).
    FastForward(FastForward),
}

impl SimTime {
    /// The clock a simulated market runs on, from what a front was given (the one rule for
    /// `run`, `serve` and Python sessions): a span to fast-forward (from `start`, default
    /// `now`); else a start and a speed for a shifted, sped-up wall clock (start default
    /// `now`, speed default 1); else the wall clock. A speed that is not positive, a span that
    /// is not, and a speed with a fast-forward (which runs as fast as it can) are refused.
    pub fn from_parts(
        start: Option<DateTime<Utc>>,
        speed: Option<f64>,
        fast_forward: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<Self, RunError> {
        if let Some(s) = speed.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(RunError::Invalid(format!(
                "speed must be a positive number, not {s}"
            )));
        }
        Ok(match (fast_forward, start, speed) {
            (Some(span), _, _) if span <= Duration::zero() => {
                return Err(RunError::Invalid(
                    "the span to fast-forward must be above 0".into(),
                ))
            }
            (Some(_), _, Some(_)) => {
                return Err(RunError::Invalid(
                    "a fast-forward runs as fast as it can: it takes no speed".into(),
                ))
            }
            (Some(span), start, None) => Self::FastForward(FastForward {
                start: start.unwrap_or(now),
                span,
            }),
            (None, None, None) => Self::RealTime,
            (None, start, speed) => {
                Self::Scaled(ScaledClock::new(start.unwrap_or(now), speed.unwrap_or(1.0)))
            }
        })
    }
}

/// A span of simulated time run as fast as possible.
#[derive(Debug, Clone, Copy)]
pub struct FastForward {
    /// Simulated start.
    pub start: DateTime<Utc>,
    /// How much simulated time to run.
    pub span: Duration,
}

/// Which kind of market a front asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketKind {
    /// The in-process local market.
    Sim,
    /// Delta's market data, simulated fills.
    Paper,
    /// Real orders.
    Live,
}

/// The simulated market's inputs, as a front was given them.
#[derive(Debug, Clone, Default)]
pub struct SimRequest {
    /// Seed of the random walks.
    pub seed: u64,
    /// Credentials the in-process market accepts (default: the public demo pair).
    pub credentials: Option<Credentials>,
    /// Where simulated time starts.
    pub start: Option<DateTime<Utc>>,
    /// How fast simulated time runs.
    pub speed: Option<f64>,
    /// A span of simulated time to run as fast as possible.
    pub fast_forward: Option<Duration>,
    /// The clock used when none of the three above is set (`serve`'s shared timeline);
    /// default the wall clock.
    pub shared: Option<SimTime>,
}

/// A live market's inputs, as a front was given them.
#[derive(Debug, Clone, Default)]
pub struct LiveRequest {
    /// Whether the operator confirmed real orders (`--live`, `confirm_live=True`, a server
    /// started with `--live`).
    pub confirmed: bool,
    /// What the front's user does to confirm, for the refusal's text.
    pub how_to_confirm: &'static str,
    /// The keys; `None` reads them from the environment or the key file.
    pub credentials: Option<Credentials>,
}

/// What a front was asked to trade on, before any check.
#[derive(Debug, Clone)]
pub struct MarketRequest {
    /// Sim, paper or live.
    pub kind: MarketKind,
    /// The Delta environment of a paper or live market.
    pub env: Environment,
    /// The simulated market's inputs (only the sim kind takes a start, speed or span).
    pub sim: SimRequest,
    /// A paper market's starting cash, USD (default 10,000).
    pub cash: Option<Decimal>,
    /// A live market's confirmation and keys.
    pub live: LiveRequest,
}

impl MarketRequest {
    /// A request for `kind` on `env` with every other input at its default.
    pub fn new(kind: MarketKind, env: Environment) -> Self {
        Self {
            kind,
            env,
            sim: SimRequest::default(),
            cash: None,
            live: LiveRequest::default(),
        }
    }

    /// The market, or why not: a start, speed or span off the sim market, a bad speed or span
    /// and a cash that is not positive are [`RunError::Invalid`]; a live market without the
    /// operator's confirmation or without credentials is [`RunError::Refused`]. `now` is the
    /// default start of a simulated clock. Nothing is started here.
    pub fn build(self, now: DateTime<Utc>) -> Result<Market, RunError> {
        let sim = self.sim;
        let clock_set = sim.start.is_some() || sim.speed.is_some() || sim.fast_forward.is_some();
        if clock_set && self.kind != MarketKind::Sim {
            return Err(RunError::Invalid(
                "a simulated start, speed or fast-forward works on the sim market only".into(),
            ));
        }
        Ok(match self.kind {
            MarketKind::Sim => Market::Sim(SimMarket {
                seed: sim.seed,
                credentials: sim.credentials.unwrap_or_else(demo_credentials),
                time: match (clock_set, sim.shared) {
                    (false, Some(shared)) => shared,
                    _ => SimTime::from_parts(sim.start, sim.speed, sim.fast_forward, now)?,
                },
            }),
            MarketKind::Paper => {
                let cash = self.cash.unwrap_or(Decimal::from(10_000));
                if cash <= Decimal::ZERO {
                    return Err(RunError::Invalid(format!(
                        "paper cash must be positive, not {cash}"
                    )));
                }
                Market::Paper {
                    env: self.env,
                    cash,
                }
            }
            MarketKind::Live => {
                if !self.live.confirmed {
                    return Err(RunError::Refused(format!(
                        "a live market sends real orders: {}",
                        self.live.how_to_confirm
                    )));
                }
                let credentials = live_credentials(self.live.credentials)?;
                Market::Live {
                    env: self.env,
                    credentials,
                }
            }
        })
    }
}

/// The keys of a live market: `given`, else the environment's or the key file's, else a
/// refusal saying where to put them.
pub fn live_credentials(given: Option<Credentials>) -> Result<Credentials, RunError> {
    match given {
        Some(c) => Ok(c),
        None => Credentials::from_env()?.ok_or_else(|| {
            RunError::Refused(format!(
                "live trading needs credentials: set {} and {} (or {})",
                strangle_delta::credentials::KEY_VAR,
                strangle_delta::credentials::SECRET_VAR,
                strangle_delta::credentials::FILE_VAR
            ))
        }),
    }
}

/// The clock an engine trading on `env` runs by. A local market (a loopback URL, such as
/// `strangle sim-server`) that publishes its clock sets the time for every process trading
/// on it, so `sim-server --start 2026-03-10T03:59:00Z` is 09:29 IST for them too, whatever
/// the hour. Anywhere else, and on Delta's own hosts always, it is the wall clock.
pub async fn market_clock(
    client: &DeltaClient,
    env: &Environment,
) -> Result<Arc<dyn Clock>, DeltaError> {
    if env.is_loopback() {
        if let Some(clock) = client.market_clock().await? {
            return Ok(Arc::new(clock));
        }
    }
    Ok(Arc::new(SystemClock))
}

#[cfg(test)]
mod tests {
    use super::{Market, Mode};
    use chrono::Duration;
    use strangle_delta::{Credentials, Environment};

    /// One rule turns a front's start, speed and span into the simulated market's clock.
    #[test]
    fn a_simulated_clock_is_made_by_one_rule() {
        use super::SimTime;
        use chrono::TimeZone;
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("time");
        let start = now - Duration::days(1);
        assert!(matches!(
            SimTime::from_parts(None, None, None, now),
            Ok(SimTime::RealTime)
        ));
        match SimTime::from_parts(Some(start), None, Some(Duration::days(5)), now) {
            Ok(SimTime::FastForward(ff)) => {
                assert_eq!((ff.start, ff.span), (start, Duration::days(5)))
            }
            other => panic!("{other:?}"),
        }
        match SimTime::from_parts(None, None, Some(Duration::hours(1)), now) {
            Ok(SimTime::FastForward(ff)) => assert_eq!(ff.start, now, "from now by default"),
            other => panic!("{other:?}"),
        }
        match SimTime::from_parts(Some(start), Some(60.0), None, now) {
            Ok(SimTime::Scaled(c)) => assert_eq!(c.speed(), 60.0),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            SimTime::from_parts(None, Some(2.0), None, now),
            Ok(SimTime::Scaled(_))
        ));
        for (speed, span) in [
            (Some(0.0), None),
            (Some(f64::NAN), None),
            (Some(-1.0), None),
            (Some(2.0), Some(Duration::hours(1))),
            (None, Some(Duration::zero())),
        ] {
            let e = SimTime::from_parts(None, speed, span, now).expect_err("refused");
            assert!(matches!(e, crate::RunError::Invalid(_)), "{e}");
        }
    }

    #[test]
    fn a_live_run_on_a_market_on_this_machine_is_a_rehearsal() {
        let credentials = Credentials::new("k", "s").expect("credentials");
        let local = Market::Live {
            env: Environment::local("http://127.0.0.1:8080"),
            credentials: credentials.clone(),
        };
        assert_eq!(local.mode(), Mode::Rehearsal);
        let real = Market::Live {
            env: Environment::IndiaTestnet,
            credentials,
        };
        assert_eq!(real.mode(), Mode::Live);
    }

    /// Every front's inputs go through one rule: a simulated clock off the sim market and
    /// paper cash that is not positive are invalid, a live market unconfirmed is refused with
    /// the front's hint, and the sim market takes the shared clock unless given its own.
    #[test]
    fn a_market_request_is_checked_by_one_rule() {
        use super::{LiveRequest, MarketKind, MarketRequest, SimRequest, SimTime};
        use crate::RunError;
        use chrono::TimeZone;
        use rust_decimal::Decimal;
        use strangle_core::clock::ScaledClock;
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
            .single()
            .expect("time");
        let env = Environment::IndiaTestnet;

        let mut off_sim = MarketRequest::new(MarketKind::Paper, env.clone());
        off_sim.sim.speed = Some(60.0);
        assert!(
            matches!(off_sim.build(now), Err(RunError::Invalid(m)) if m.contains("sim market only"))
        );

        let broke = MarketRequest {
            cash: Some(Decimal::ZERO),
            ..MarketRequest::new(MarketKind::Paper, env.clone())
        };
        assert!(matches!(broke.build(now), Err(RunError::Invalid(m)) if m.contains("cash")));
        let paper = MarketRequest::new(MarketKind::Paper, env.clone()).build(now);
        assert!(matches!(paper, Ok(Market::Paper { cash, .. }) if cash == Decimal::from(10_000)));

        let unconfirmed = MarketRequest {
            live: LiveRequest {
                confirmed: false,
                how_to_confirm: "add --live to confirm",
                credentials: Some(Credentials::new("k", "s").expect("credentials")),
            },
            ..MarketRequest::new(MarketKind::Live, env.clone())
        };
        assert!(
            matches!(unconfirmed.clone().build(now), Err(RunError::Refused(m)) if m.ends_with("add --live to confirm"))
        );
        let mut confirmed = unconfirmed;
        confirmed.live.confirmed = true;
        match confirmed.build(now) {
            Ok(m @ Market::Live { .. }) => assert_eq!(m.mode(), Mode::Live),
            other => panic!("{other:?}"),
        }

        let shared = SimTime::Scaled(ScaledClock::new(now, 60.0));
        let mut sim = MarketRequest::new(MarketKind::Sim, env.clone());
        sim.sim = SimRequest {
            seed: 7,
            shared: Some(shared),
            ..SimRequest::default()
        };
        let m = sim.clone().build(now).expect("sim");
        assert_eq!(
            m.scaled_clock().map(|c| c.speed()),
            Some(60.0),
            "the shared clock"
        );
        assert!(matches!(&m, Market::Sim(s) if s.seed == 7 && s.credentials.api_key == "sim-key"));
        sim.sim.fast_forward = Some(Duration::hours(2));
        let ff = sim.build(now).expect("sim").fast_forward().expect("a span");
        assert_eq!(
            (ff.start, ff.span),
            (now, Duration::hours(2)),
            "its own clock wins"
        );
    }
}
