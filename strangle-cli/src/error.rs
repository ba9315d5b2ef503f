//! The CLI's error type and its documented exit codes.

use std::process::ExitCode;

/// Why a command failed; each kind has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: a profile file, an argument value (exit 3).
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist (exit 4).
    #[error("{0}")]
    NotFound(String),
    /// A conflict: duplicate name, profile already running, active profile deleted (exit 5).
    #[error("{0}")]
    Conflict(String),
    /// Refused for safety: live without `--live` or credentials, ledger/exchange mismatch (exit 6).
    #[error("{0}")]
    Refused(String),
    /// A failure while running (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// The exit code documented in `strangle --help`.
    pub fn code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Failed(_) => 1,
            Self::Invalid(_) => 3,
            Self::NotFound(_) => 4,
            Self::Conflict(_) => 5,
            Self::Refused(_) => 6,
        })
    }
}

impl From<strangle_store::StoreError> for CliError {
    fn from(e: strangle_store::StoreError) -> Self {
        use strangle_store::StoreError as S;
        match e {
            S::NoProfile(_) => Self::NotFound(e.to_string()),
            S::DuplicateProfile(_) | S::ActiveProfile(_) | S::Locked { .. } => {
                Self::Conflict(e.to_string())
            }
            S::TooNew { .. } | S::Location { .. } | S::Open { .. } => Self::Invalid(e.to_string()),
            _ => Self::Failed(e.to_string()),
        }
    }
}

impl From<strangle_core::Error> for CliError {
    fn from(e: strangle_core::Error) -> Self {
        match e {
            strangle_core::Error::InvalidProfile(_)
            | strangle_core::Error::Data { .. }
            | strangle_core::Error::MissingColumn { .. } => Self::Invalid(e.to_string()),
            ref e if e.is_refusal() => Self::Refused(e.to_string()),
            strangle_core::Error::Locked { .. } => Self::Conflict(e.to_string()),
            _ => Self::Failed(e.to_string()),
        }
    }
}

impl From<strangle_delta::DeltaError> for CliError {
    fn from(e: strangle_delta::DeltaError) -> Self {
        match e {
            strangle_delta::DeltaError::Credentials(_) => Self::Refused(e.to_string()),
            strangle_delta::DeltaError::Engine(inner) => inner.into(),
            _ => Self::Failed(e.to_string()),
        }
    }
}

impl From<strangle_delta_runtime::RunError> for CliError {
    fn from(e: strangle_delta_runtime::RunError) -> Self {
        use strangle_delta_runtime::RunError as R;
        match e {
            R::Invalid(m) => Self::Invalid(m),
            R::Refused(m) => Self::Refused(m),
            R::Engine(inner) => inner.into(),
            R::Delta(inner) => inner.into(),
            other => Self::Failed(other.to_string()),
        }
    }
}
