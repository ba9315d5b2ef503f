//! The ledger on SQLite: one file, WAL journal, `synchronous = FULL` so that every committed
//! order intent and fill survives a power cut; PnL marks are group-committed.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use rust_decimal::Decimal;
use sqlx::Row;
use strangle_core::ledger::PnlMark;
use strangle_core::profile::Profile;

use crate::error::StoreError;

// The shared queries, compiled against this backend (see the module's docs); the other backend
// declares the same file, on purpose.
#[allow(clippy::duplicate_mod)]
#[path = "ledger_sql.rs"]
mod sql;

type Db = sqlx::Sqlite;
type DbRow = <Db as sqlx::Database>::Row;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const EXISTS_MIGRATIONS_TABLE: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";

/// The ledger in a SQLite file.
#[derive(Debug)]
pub struct Store {
    pool: sqlx::SqlitePool,
    marks: tokio::sync::Mutex<Vec<PnlMark>>,
}

fn dec(d: Decimal) -> String {
    d.to_string()
}

fn get_dec(row: &DbRow, col: &'static str, table: &'static str) -> Result<Decimal, StoreError> {
    let s: String = row.try_get(col)?;
    Decimal::from_str(&s).map_err(|e| StoreError::Corrupt {
        table,
        column: col,
        reason: format!("{s:?}: {e}"),
    })
}

fn json(p: &Profile) -> Result<String, StoreError> {
    serde_json::to_string(p).map_err(|e| StoreError::Corrupt {
        table: "profiles",
        column: "settings",
        reason: e.to_string(),
    })
}

fn get_json(row: &DbRow, col: &'static str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(col)?)
}

impl Store {
    /// Opens (creating if needed) the ledger file at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        refuse_folder(path)?;
        Self::open_file(path).await.map_err(|e| named(path, e))
    }

    async fn open_file(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Location {
                location: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        create_owner_only(path).map_err(|e| StoreError::Location {
            location: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Self::from_pool(pool).await
    }
}

/// A folder is not a ledger file: said before SQLite answers "unable to open database file".
fn refuse_folder(path: &Path) -> Result<(), StoreError> {
    if path.is_dir() {
        return Err(StoreError::Location {
            location: path.display().to_string(),
            reason: format!(
                "it is a folder; name a file in it, e.g. {}",
                path.join("strangle.db").display()
            ),
        });
    }
    Ok(())
}

/// A failure to open or migrate the ledger at `path`, naming the file (errors that already
/// name it pass as they are).
fn named(path: &Path, e: StoreError) -> StoreError {
    match e {
        e @ (StoreError::Location { .. }
        | StoreError::TooNew { .. }
        | StoreError::TooOld { .. }
        | StoreError::Open { .. }) => e,
        e => StoreError::Open {
            location: path.display().to_string(),
            source: Box::new(e),
        },
    }
}

/// Creates an empty ledger file readable and writable by its owner only (0600), if none is
/// there yet: the ledger holds the account's orders and fills. SQLite gives its `-wal` and
/// `-shm` files the same mode as the database file. An existing file is left as it is.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl Store {
    /// Writes buffered marks, moves everything from the `-wal` file into the database file
    /// (`wal_checkpoint(TRUNCATE)`), and closes the connections: after a clean close the
    /// ledger is the one file, and copying it alone copies everything.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.flush().await?;
        if !self.pool.is_closed() {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
            self.pool.close().await;
        }
        Ok(())
    }
}

impl Store {
    /// Opens an existing ledger file for reading only: nothing is created or migrated, and
    /// SQLite itself refuses every write on these connections.
    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        refuse_folder(path)?;
        if !path.is_file() {
            return Err(StoreError::Location {
                location: path.display().to_string(),
                reason: "no ledger file there (reading never creates one)".into(),
            });
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(10));
        let opened = async {
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await?;
            Self::from_pool_read_only(pool).await
        };
        opened.await.map_err(|e| named(path, e))
    }
}
