//! The CLI's error type and its documented exit codes.

use std::process::ExitCode;

use strangle_core::error::ErrorKind;

/// Why a command failed. Each variant is one [`ErrorKind`], whose exit code comes from the
/// one table ([`ErrorKind::front`]) that the API's statuses and Python's exceptions share.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: a profile file, an argument value (exit 3).
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist (exit 4).
    #[error("{0}")]
    NotFound(String),
    /// A conflict: duplicate name, active profile deleted (exit 5).
    #[error("{0}")]
    Conflict(String),
    /// Another runner holds the profile's lease (exit 5).
    #[error("{0}")]
    Locked(String),
    /// Refused for safety: live without `--live` or credentials, ledger/exchange mismatch (exit 6).
    #[error("{0}")]
    Refused(String),
    /// The exchange refused or failed a call (exit 1).
    #[error("{0}")]
    Exchange(String),
    /// A failure while running (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// An error of `kind` saying `message`.
    pub fn of(kind: ErrorKind, message: String) -> Self {
        match kind {
            ErrorKind::Invalid => Self::Invalid(message),
            ErrorKind::NotFound => Self::NotFound(message),
            ErrorKind::Conflict => Self::Conflict(message),
            ErrorKind::Locked => Self::Locked(message),
            ErrorKind::Refused => Self::Refused(message),
            ErrorKind::Exchange => Self::Exchange(message),
            _ => Self::Failed(message),
        }
    }

    /// This error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Locked(_) => ErrorKind::Locked,
            Self::Refused(_) => ErrorKind::Refused,
            Self::Exchange(_) => ErrorKind::Exchange,
            Self::Failed(_) => ErrorKind::Failed,
        }
    }

    /// The exit code documented in `strangle --help`, from the one table.
    pub fn code(&self) -> ExitCode {
        ExitCode::from(self.kind().front().exit_code)
    }
}

/// Any crate's error, by the kind it says (core, store, adapter, runtime, local market).
impl<E: strangle_core::error::Failure> From<E> for CliError {
    fn from(e: E) -> Self {
        Self::of(e.error_kind(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::CliError;
    use strangle_core::error::ErrorKind;

    /// Every kind keeps its kind through the CLI's error and exits with the code
    /// `strangle --help` documents (the table pinned here, so a change to it is seen).
    #[test]
    fn every_error_kind_exits_with_the_tables_code() {
        let documented = [
            (ErrorKind::Invalid, 3),
            (ErrorKind::NotFound, 4),
            (ErrorKind::Conflict, 5),
            (ErrorKind::Locked, 5),
            (ErrorKind::Refused, 6),
            (ErrorKind::Exchange, 1),
            (ErrorKind::Failed, 1),
        ];
        assert_eq!(
            documented.len(),
            ErrorKind::ALL.len(),
            "every kind is documented"
        );
        for (kind, code) in documented {
            assert_eq!(kind.front().exit_code, code, "{kind}");
        }
        for kind in ErrorKind::ALL {
            let e = CliError::of(kind, "m".into());
            assert_eq!(e.kind(), kind);
            assert_eq!(
                e.code(),
                std::process::ExitCode::from(kind.front().exit_code),
                "{kind}"
            );
        }
    }
}
