//! The ledger on PostgreSQL: pooled connections, NUMERIC money, batched mark inserts.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::types::Json;

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

type Db = sqlx::Postgres;
type DbRow = <Db as sqlx::Database>::Row;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const EXISTS_MIGRATIONS_TABLE: &str = "SELECT table_name::text FROM information_schema.tables \
     WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()";

/// The ledger in a PostgreSQL database.
#[derive(Debug)]
pub struct Store {
    pool: sqlx::PgPool,
    marks: tokio::sync::Mutex<Vec<PnlMark>>,
}

fn dec(d: Decimal) -> Decimal {
    d
}

fn get_dec(row: &DbRow, col: &'static str, _table: &'static str) -> Result<Decimal, StoreError> {
    Ok(row.try_get::<Decimal, _>(col)?)
}

fn json(p: &Profile) -> Result<Json<serde_json::Value>, StoreError> {
    serde_json::to_value(p)
        .map(Json)
        .map_err(|e| StoreError::Corrupt {
            table: "profiles",
            column: "settings",
            reason: e.to_string(),
        })
}

fn get_json(row: &DbRow, col: &'static str) -> Result<String, StoreError> {
    Ok(row
        .try_get::<Json<serde_json::Value>, _>(col)?
        .0
        .to_string())
}

impl Store {
    /// Writes buffered marks and closes the connections.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.flush().await?;
        self.pool.close().await;
        Ok(())
    }
}

impl Store {
    /// Connects to `url` (`postgres://...`) and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_in_schema(url, None).await
    }

    /// Connects to `url` for reading only (inside `schema` when given): nothing is created or
    /// migrated, and every transaction is `READ ONLY`, so the server refuses writes.
    pub async fn open_read_only(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut opts = connect_options(url)?.options([("default_transaction_read_only", "on")]);
        if let Some(s) = schema {
            check_schema_name(s)?;
            opts = opts.options([("search_path", s)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Self::from_pool_read_only(pool).await
    }

    /// Connects to `url` and works inside `schema` (created if missing), e.g. to keep several
    /// ledgers, or isolated tests, in one database.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut opts = connect_options(url)?;
        if let Some(s) = schema {
            check_schema_name(s)?;
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            opts = opts.options([("search_path", s)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        Self::from_pool(pool).await
    }
}

fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url).map_err(|e| StoreError::Location {
        location: redact(url),
        reason: e.to_string(),
    })
}

fn check_schema_name(s: &str) -> Result<(), StoreError> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Location {
            location: s.into(),
            reason: "schema names are letters, digits and _".into(),
        });
    }
    Ok(())
}

/// A URL with its password replaced, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
