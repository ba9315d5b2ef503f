//! Profile warnings: settings that are valid but probably not what was meant, each with a
//! kind that code decides on and a message for people.

use serde::{Deserialize, Serialize};

/// What a [`Warning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// A percentage between 0 and 1 (`0.8` is 0.8 %, perhaps meant as 80 %).
    FractionForPercent,
    /// Max profit on the mark basis: the exit can close at a loss.
    ProfitOnMark,
    /// The trailing stop on the mark basis: its peak and lock are mark profits.
    TrailingOnMark,
    /// Max loss on the close-now basis: a widening of the asks can stop the strangle out.
    LossOnCloseNow,
    /// Max profit below the round-trip cost at current prices.
    ProfitWithinCost,
    /// Max loss at or below the PnL right after entry: it fires at once.
    LossFiresAtOnce,
    /// Max loss below the round-trip cost at current prices: a small move stops it out.
    LossWithinCost,
    /// A threshold below what the two capped fees alone can cost (no prices at hand).
    WithinCappedFees,
    /// No stop rests at the venue: nothing caps the loss while strangle is down.
    NoVenueStop,
}

/// One warning about a profile, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// Dotted path of the field, e.g. `max_profit_pct`.
    pub field: String,
    /// What it is about.
    pub kind: WarningKind,
    /// The same in plain words, with the figures.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(
        field: impl Into<String>,
        kind: WarningKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
