//! Single-runner leases: only one engine may trade a given profile and account at a time,
//! across processes and machines sharing the database.
//!
//! On SQLite a lease is a row with an expiry that the holder renews (a crashed holder's lease
//! lapses after its TTL). On PostgreSQL it is a session-level advisory lock held on a
//! dedicated connection (released by the server the moment the holder's connection dies),
//! plus a row that names the holder for the message a second instance gets.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use strangle_core::ledger::LeaseHolder;
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::{PgStore, SqliteStore, Store};

/// A held lease. Dropping it stops renewing (SQLite: the lease lapses after its TTL;
/// PostgreSQL: the lock is released when the connection closes). Prefer [`Lease::release`].
#[derive(Debug)]
pub struct Lease {
    resource: String,
    holder: String,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Sqlite {
        pool: sqlx::SqlitePool,
        renew: JoinHandle<()>,
    },
    Postgres {
        conn: Option<PgConnection>,
        key: i64,
        pool: sqlx::PgPool,
    },
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Inner::Sqlite { renew, .. } = &self.inner {
            renew.abort();
        }
    }
}

/// How long a SQLite lease lives without renewal (renewed at a third of it): a crashed
/// holder's lease lapses this long after its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(30);

/// `host:pid`, naming this process as a lease holder.
pub fn default_holder() -> String {
    strangle_core::ledger::process_holder()
}

#[async_trait::async_trait]
impl strangle_core::ledger::LeaseGuard for Lease {
    async fn release(self: Box<Self>) -> strangle_core::Result<()> {
        Ok(Lease::release(*self).await?)
    }
}

/// Whether `holder` (`host:pid`, optionally followed by `/tag`) names a process on this
/// machine that no longer runs. Only answers `true` where it can tell (Linux's `/proc`).
pub fn holder_is_dead(holder: &str) -> bool {
    let Some(h) = LeaseHolder::parse(holder) else {
        return false;
    };
    if h.host != LeaseHolder::this_process().host {
        return false;
    }
    let proc_root = std::path::Path::new("/proc");
    proc_root.join("self").exists() && !proc_root.join(h.pid.to_string()).exists()
}

/// A stable 64-bit key for an advisory lock.
fn lock_key(resource: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

impl Lease {
    /// What is locked.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Who holds it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Gives the lease up now.
    pub async fn release(mut self) -> Result<(), StoreError> {
        match &mut self.inner {
            Inner::Sqlite { pool, renew } => {
                renew.abort();
                sqlx::query("DELETE FROM leases WHERE resource = $1 AND holder = $2")
                    .bind(&self.resource)
                    .bind(&self.holder)
                    .execute(&*pool)
                    .await?;
            }
            Inner::Postgres { conn, key, pool } => {
                if let Some(mut c) = conn.take() {
                    sqlx::query("SELECT pg_advisory_unlock($1)")
                        .bind(*key)
                        .execute(&mut c)
                        .await?;
                    sqlx::Connection::close(c).await?;
                }
                sqlx::query("DELETE FROM leases WHERE resource = $1 AND holder = $2")
                    .bind(&self.resource)
                    .bind(&self.holder)
                    .execute(&*pool)
                    .await?;
            }
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Takes the lease on `resource` for `holder`, renewed every `ttl / 3` while held.
    pub async fn acquire_lease(
        &self,
        resource: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let now = Utc::now();
        let ttl_c = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
        let r = sqlx::query(
            "INSERT INTO leases (resource, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (resource) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, \
             expires_at = excluded.expires_at WHERE leases.expires_at < $3 OR leases.holder = $2",
        )
        .bind(resource)
        .bind(holder)
        .bind(now)
        .bind(now + ttl_c)
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 0 {
            let row = sqlx::query("SELECT holder, acquired_at FROM leases WHERE resource = $1")
                .bind(resource)
                .fetch_one(self.pool())
                .await?;
            let since: DateTime<Utc> = row.try_get("acquired_at")?;
            let old: String = row.try_get("holder")?;
            // A holder on this machine whose process is gone (killed, crashed) holds nothing:
            // take the lease over at once rather than make the restart wait out the TTL.
            let taken = holder_is_dead(&old)
                && sqlx::query(
                    "UPDATE leases SET holder = $1, acquired_at = $2, expires_at = $3 \
                     WHERE resource = $4 AND holder = $5",
                )
                .bind(holder)
                .bind(now)
                .bind(now + ttl_c)
                .bind(resource)
                .bind(&old)
                .execute(self.pool())
                .await?
                .rows_affected()
                    == 1;
            if !taken {
                return Err(StoreError::Locked {
                    resource: resource.into(),
                    holder: old,
                    since: since.to_rfc3339(),
                });
            }
            tracing::warn!(resource, previous = %old, "took over the lease of a process that is gone");
        }
        let (pool, res, who) = (
            self.pool().clone(),
            resource.to_string(),
            holder.to_string(),
        );
        let renew = tokio::spawn(async move {
            let mut every = tokio::time::interval(ttl / 3);
            every.tick().await;
            loop {
                every.tick().await;
                let r = sqlx::query(
                    "UPDATE leases SET expires_at = $1 WHERE resource = $2 AND holder = $3",
                )
                .bind(Utc::now() + ttl_c)
                .bind(&res)
                .bind(&who)
                .execute(&pool)
                .await;
                match r {
                    Ok(r) if r.rows_affected() == 1 => {}
                    Ok(_) => {
                        tracing::error!(resource = %res, "lease lost: another holder took it");
                        return;
                    }
                    Err(e) => tracing::warn!(resource = %res, error = %e, "lease renewal failed"),
                }
            }
        });
        Ok(Lease {
            resource: resource.into(),
            holder: holder.into(),
            inner: Inner::Sqlite {
                pool: self.pool().clone(),
                renew,
            },
        })
    }
}

impl PgStore {
    /// Takes the advisory lock on `resource` for `holder`; held until released or until this
    /// process's connection ends. `ttl` is unused (PostgreSQL notices dead holders itself).
    pub async fn acquire_lease(
        &self,
        resource: &str,
        holder: &str,
        _ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let key = lock_key(resource);
        // A connection of its own, outside the pool: when it closes, the lock goes with it.
        let mut conn = self.pool().acquire().await?.detach();
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await?;
        if !got {
            let row = sqlx::query("SELECT holder, acquired_at FROM leases WHERE resource = $1")
                .bind(resource)
                .fetch_optional(self.pool())
                .await?;
            let (holder, since) = match row {
                Some(r) => (
                    r.try_get::<String, _>("holder")?,
                    r.try_get::<DateTime<Utc>, _>("acquired_at")?.to_rfc3339(),
                ),
                None => ("another process".to_string(), "unknown".to_string()),
            };
            return Err(StoreError::Locked {
                resource: resource.into(),
                holder,
                since,
            });
        }
        sqlx::query(
            "INSERT INTO leases (resource, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (resource) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, \
             expires_at = excluded.expires_at",
        )
        .bind(resource)
        .bind(holder)
        .bind(Utc::now())
        .execute(&mut conn)
        .await?;
        Ok(Lease {
            resource: resource.into(),
            holder: holder.into(),
            inner: Inner::Postgres {
                conn: Some(conn),
                key,
                pool: self.pool().clone(),
            },
        })
    }
}

impl Store {
    /// Takes the single-runner lease on `resource` (e.g. `profile:<name>@<account>`).
    pub async fn acquire_lease(
        &self,
        resource: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        match self {
            Store::Sqlite(s) => s.acquire_lease(resource, holder, ttl).await,
            Store::Postgres(s) => s.acquire_lease(resource, holder, ttl).await,
        }
    }
}
