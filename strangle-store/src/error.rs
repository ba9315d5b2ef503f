//! The one error type of `strangle-store`.

use strangle_core::error::ErrorKind;

/// What went wrong with the ledger's database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL or path is not usable.
    #[error("invalid database location {location:?}: {reason}")]
    Location {
        /// What was given.
        location: String,
        /// Why it is refused.
        reason: String,
    },
    /// The database was written by a newer strangle.
    #[error(
        "the database is at schema version {found}, newer than this strangle knows ({known}); \
         upgrade strangle instead of opening it with an older version"
    )]
    TooNew {
        /// Version in the database.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// A ledger opened for reading was written by an older strangle and needs its migrations.
    #[error(
        "the database is at schema version {found}, older than this strangle's ({known}); \
         open it once for writing (e.g. `strangle sessions list`) to upgrade it"
    )]
    TooOld {
        /// Version in the database.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// A database opened for reading holds no strangle ledger.
    #[error("the database holds no strangle ledger (no migrations were ever applied to it)")]
    NotALedger,
    /// A profile with this name exists already.
    #[error("a profile named {0:?} already exists")]
    DuplicateProfile(String),
    /// No profile with this name or id.
    #[error("no profile {0:?}")]
    NoProfile(String),
    /// The active profile cannot be deleted.
    #[error("profile {0:?} is active; activate another one before deleting it")]
    ActiveProfile(String),
    /// Another engine holds the lock on this profile and account.
    #[error("{resource} is already being traded by {holder} (since {since}); stop it first")]
    Locked {
        /// What is locked.
        resource: String,
        /// Who holds it.
        holder: String,
        /// Since when.
        since: String,
    },
    /// A stored value could not be read back.
    #[error("corrupt value in {table}.{column}: {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// Why.
        reason: String,
    },
    /// A value is out of the range its column can hold; nothing was written.
    #[error("{table}.{column} cannot hold {value}")]
    OutOfRange {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// The value refused.
        value: String,
    },
    /// The ledger at `location` could not be opened (not a database, damaged, unreadable).
    #[error("cannot open the ledger {location}: {source}")]
    Open {
        /// The file or URL.
        location: String,
        /// Why.
        #[source]
        source: Box<StoreError>,
    },
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// The kind of failure, for the fronts' one table
    /// ([`strangle_core::error::ErrorKind::front`]).
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            Self::Location { .. }
            | Self::TooNew { .. }
            | Self::Open { .. }
            | Self::NotALedger
            | Self::OutOfRange { .. } => ErrorKind::Invalid,
            Self::NoProfile(_) => ErrorKind::NotFound,
            Self::DuplicateProfile(_) | Self::ActiveProfile(_) => ErrorKind::Conflict,
            Self::Locked { .. } => ErrorKind::Locked,
            _ => ErrorKind::Failed,
        }
    }
}

impl strangle_core::error::Failure for StoreError {
    fn error_kind(&self) -> ErrorKind {
        StoreError::error_kind(self)
    }
}

impl From<StoreError> for strangle_core::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Locked {
                resource,
                holder,
                since,
            } => strangle_core::Error::Locked {
                resource,
                holder: format!("{holder} (since {since})"),
            },
            e => strangle_core::Error::ledger(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_failure_keeps_its_kind_and_its_source() {
        let store = StoreError::OutOfRange {
            table: "orders",
            column: "product_id",
            value: "18446744073709551615".into(),
        };
        let text = store.to_string();
        let e = strangle_core::Error::from(store);
        assert!(matches!(e, strangle_core::Error::Ledger(_)), "{e}");
        assert_eq!(
            e.error_kind(),
            ErrorKind::Invalid,
            "the store's kind, not Failed"
        );
        let source = std::error::Error::source(&e).expect("the store error is kept");
        assert_eq!(source.to_string(), text);
        assert_eq!(e.to_string(), format!("ledger: {text}"));
    }
}
