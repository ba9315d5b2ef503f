//! The one error type of `strangle-core`.

use std::fmt;

/// What went wrong at an exchange, in terms the engine can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExchangeErrorKind {
    /// The request never got a definite answer (timeout, connection reset, 5xx).
    /// For an order placement the outcome is unknown and must be looked up.
    Uncertain,
    /// The venue refused the request (bad price, reduce-only with no position, ...).
    Rejected,
    /// Not enough margin to place the order.
    InsufficientMargin,
    /// The order, product or symbol is unknown to the venue.
    NotFound,
    /// Credentials are missing, wrong or lack permission.
    Auth,
    /// Too many requests; retry later.
    RateLimited,
    /// The venue sent something that could not be understood.
    InvalidResponse,
}

impl fmt::Display for ExchangeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Uncertain => "uncertain outcome",
            Self::Rejected => "rejected",
            Self::InsufficientMargin => "insufficient margin",
            Self::NotFound => "not found",
            Self::Auth => "authentication",
            Self::RateLimited => "rate limited",
            Self::InvalidResponse => "invalid response",
        };
        f.write_str(s)
    }
}

/// One problem found in a profile, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Dotted path of the field, e.g. `delta_band.low` or `trailing.tiers[1].lock_pct`.
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found while validating a profile (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Errors of the core: configuration, symbols, and the failures that the
/// `Exchange` and `Ledger` implementations report through the core's traits.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The profile failed validation; every bad field is listed.
    #[error("invalid profile: {0}")]
    InvalidProfile(ValidationErrors),
    /// A contract symbol does not follow Delta's `C-BTC-90000-310125` format.
    #[error("invalid option symbol {symbol:?}: {reason}")]
    InvalidSymbol {
        /// The symbol as given.
        symbol: String,
        /// Why it was refused.
        reason: String,
    },
    /// An exchange call failed.
    #[error("exchange: {kind}: {message}{}", .code.as_deref().map(|c| format!(" (code {c})")).unwrap_or_default())]
    Exchange {
        /// What kind of failure it was.
        kind: ExchangeErrorKind,
        /// The venue's own error code when it gave one (Delta's `insufficient_margin`,
        /// `open_order_not_found`, ...): what code decides on, never the message.
        code: Option<String>,
        /// Details from the venue (status, context); never secrets.
        message: String,
    },
    /// The ledger could not record or read something: the ledger's own error, kept whole
    /// (its kind and its sources), not its text.
    #[error("ledger: {0}")]
    Ledger(#[source] std::sync::Arc<dyn Failure>),
    /// The engine cannot continue (e.g. it found a state it refuses to trade on).
    #[error("engine: {0}")]
    Engine(String),
    /// The ledger and the exchange disagree about an open session, and adopting the
    /// exchange's state was not asked for: the engine refuses to trade.
    #[error(
        "session {session_id} does not match the exchange, refusing to trade: {}{} \
         (adopt the exchange's state to continue)",
        .differences.join("; "),
        unseen_note(.unseen_orders)
    )]
    Mismatch {
        /// The session.
        session_id: crate::ids::SessionId,
        /// Each difference, leg by leg.
        differences: Vec<String>,
        /// Orders of the session that no read of the venue finds (one it has not made
        /// visible yet is found by starting again a few seconds later).
        unseen_orders: Vec<crate::ids::ClientOrderId>,
    },
    /// An order of the session is still working at the exchange and could not be cancelled:
    /// the engine refuses to trade.
    #[error(
        "order {client_order_id} is still working at the exchange and could not be cancelled, \
         refusing to trade"
    )]
    OrderStillWorking {
        /// The order's client id.
        client_order_id: crate::ids::ClientOrderId,
    },
    /// The exchange reported a position that could not be tied to a product (no symbol, an
    /// id in no catalogue): the engine cannot tell whether it is one of its legs, so it
    /// refuses to trade rather than book it either way.
    #[error(
        "the exchange reports a {underlying} position that names no known product, refusing \
         to trade: {row}"
    )]
    UnidentifiedPosition {
        /// The underlying whose positions were read.
        underlying: String,
        /// The row as the exchange sent it.
        row: String,
    },
    /// Another engine holds the single-runner lease on this profile and account.
    #[error("{resource} is already being traded by {holder}; stop it first")]
    Locked {
        /// What is leased (`profile:<name>@<account>`).
        resource: String,
        /// Who holds it, and since when.
        holder: String,
    },
    /// Something named does not exist (account risk limits never set, ...).
    #[error("not found: {0}")]
    NotFound(String),
    /// The state forbids it now: another writer changed what this write was based on.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A data file (an imported CSV, a series) lacks a column it needs.
    #[error("{source_name} line 1: missing column {column:?}")]
    MissingColumn {
        /// The file or stream.
        source_name: String,
        /// The column's name.
        column: String,
    },
    /// Market data (a chain file, an imported CSV) is malformed.
    #[error("{source_name} line {line}: {message}")]
    Data {
        /// The file or stream.
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong, naming the column.
        message: String,
    },
}

impl Error {
    /// Shorthand for an exchange error without a venue code.
    pub fn exchange(kind: ExchangeErrorKind, message: impl Into<String>) -> Self {
        Self::Exchange {
            kind,
            code: None,
            message: message.into(),
        }
    }

    /// An exchange error carrying the venue's own error code.
    pub fn venue(
        kind: ExchangeErrorKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Exchange {
            kind,
            code: Some(code.into()),
            message: message.into(),
        }
    }

    /// The kind of failure, for the fronts' one table ([`ErrorKind::front`]).
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            Self::InvalidProfile(_)
            | Self::InvalidSymbol { .. }
            | Self::Data { .. }
            | Self::MissingColumn { .. } => ErrorKind::Invalid,
            e if e.is_refusal() => ErrorKind::Refused,
            Self::Locked { .. } => ErrorKind::Locked,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Exchange { .. } => ErrorKind::Exchange,
            Self::Ledger(inner) => inner.error_kind(),
            _ => ErrorKind::Failed,
        }
    }

    /// A ledger failure, kept whole.
    pub fn ledger(e: impl Failure) -> Self {
        Self::Ledger(std::sync::Arc::new(e))
    }

    /// The venue's error code, if this is an exchange error that carries one.
    pub fn venue_code(&self) -> Option<&str> {
        match self {
            Self::Exchange { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether the engine refused to trade because the ledger and the exchange disagree
    /// (an operator must look; the CLI exits 6, the API answers 409).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Mismatch { .. }
                | Self::OrderStillWorking { .. }
                | Self::UnidentifiedPosition { .. }
        )
    }

    /// The exchange error kind, if this is an exchange error.
    pub fn exchange_kind(&self) -> Option<ExchangeErrorKind> {
        match self {
            Self::Exchange { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// An error that says its [`ErrorKind`]: every crate's error type implements it, so a
/// front, or an error that wraps another crate's, asks any of them the same way.
pub trait Failure: std::error::Error + Send + Sync + 'static {
    /// The kind of failure, for the fronts' one table ([`ErrorKind::front`]).
    fn error_kind(&self) -> ErrorKind;
}

impl Failure for Error {
    fn error_kind(&self) -> ErrorKind {
        Error::error_kind(self)
    }
}

/// What kind of failure an error is, as the fronts tell it: the `strangle` binary's exit
/// code, the API's HTTP status and the Python package's exception class all come from
/// [`ErrorKind::front`], the one table. Every crate's error type says its kind
/// ([`Failure::error_kind`]), so a front decides by kind, never by a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input: a profile, a file, an argument, a request.
    Invalid,
    /// Something named does not exist.
    NotFound,
    /// The state forbids it: a duplicate name, a running or active profile.
    Conflict,
    /// Another runner holds the profile's lease (another process or session trades it).
    Locked,
    /// Refused for safety: the ledger and the exchange disagree, live trading unconfirmed or
    /// without credentials; an operator must look.
    Refused,
    /// The exchange refused or failed a call (or its outcome is unknown).
    Exchange,
    /// Anything else: a fault while running.
    Failed,
}

/// How each front shows one [`ErrorKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontCodes {
    /// The `strangle` binary's exit code (documented in `strangle --help`).
    pub exit_code: u8,
    /// The API's HTTP status.
    pub http_status: u16,
    /// The Python package's exception class (`strangle.<name>`).
    pub python_exception: &'static str,
}

impl ErrorKind {
    /// Every kind, in the table's order.
    pub const ALL: [ErrorKind; 7] = [
        Self::Invalid,
        Self::NotFound,
        Self::Conflict,
        Self::Locked,
        Self::Refused,
        Self::Exchange,
        Self::Failed,
    ];

    /// The one table: how the binary, the API and Python show this kind.
    pub const fn front(self) -> FrontCodes {
        let (exit_code, http_status, python_exception) = match self {
            Self::Invalid => (3, 422, "InvalidError"),
            Self::NotFound => (4, 404, "NotFoundError"),
            Self::Conflict => (5, 409, "ConflictError"),
            Self::Locked => (5, 409, "LockedError"),
            Self::Refused => (6, 409, "RefusedError"),
            Self::Exchange => (1, 502, "ExchangeError"),
            Self::Failed => (1, 500, "StrangleError"),
        };
        FrontCodes {
            exit_code,
            http_status,
            python_exception,
        }
    }

    /// The kind's name in snake case (`not_found`), as the API's error body and Python's
    /// `kind` attribute give it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Locked => "locked",
            Self::Refused => "refused",
            Self::Exchange => "exchange",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The part of a mismatch's message naming the orders the venue does not find.
fn unseen_note(ids: &[crate::ids::ClientOrderId]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
    format!(
        "; the venue finds no order {} (an order it has not made visible yet is found by \
         starting again in a few seconds)",
        ids.join(", ")
    )
}
