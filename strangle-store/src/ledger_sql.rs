//! The ledger's queries, written once for both backends. `sqlite.rs` and `postgres.rs` each
//! declare this file as their `sql` module, so it is compiled once per backend against the
//! interface that backend provides through `super`:
//!
//! - `Db`, the sqlx database, and `DbRow`, its row type;
//! - `Store`, with the fields `pool: sqlx::Pool<Db>` and `marks` (the buffered PnL marks);
//! - `MIGRATOR` and `EXISTS_MIGRATIONS_TABLE` (the query that finds sqlx's migrations table);
//! - `dec` and `get_dec`: money into and out of a column (TEXT on SQLite, NUMERIC on
//!   PostgreSQL); `json` and `get_json`: a profile's settings (TEXT, JSONB).
//!
//! The SQL is the same for both: `$n` placeholders, `ON CONFLICT` upserts.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use strangle_core::audit::EventKind;
use strangle_core::ids::{ClientOrderId, InvalidId, ProductId, SessionId, Symbol};
use strangle_core::ledger::{AuditEvent, LegRecord, OrderIntent, PnlMark, SessionRecord};
use strangle_core::model::{Fill, OrderStatus};
use strangle_core::pnl::{LegBook, SessionPnl};
use strangle_core::profile::Profile;

use crate::codec::{from_text, to_text};
use crate::error::StoreError;
use crate::profiles::StoredProfile;
use crate::queries::{OrderRow, Page, SessionDetail, SessionFilter};

use super::{dec, get_dec, get_json, json, Db, DbRow, Store, EXISTS_MIGRATIONS_TABLE, MIGRATOR};

fn get_dec_opt(
    row: &DbRow,
    col: &'static str,
    table: &'static str,
) -> Result<Option<Decimal>, StoreError> {
    match row.try_get_raw(col).map(|v| sqlx::ValueRef::is_null(&v)) {
        Ok(true) => Ok(None),
        _ => get_dec(row, col, table).map(Some),
    }
}

/// The `session_id` column of `row`, checked.
fn session_id(row: &DbRow, table: &'static str) -> Result<SessionId, StoreError> {
    checked(row, table, "session_id")
}

/// The `premium`, `gross`, `fees` and `net` columns of `row` (sessions and marks).
fn pnl_of(row: &DbRow, table: &'static str) -> Result<SessionPnl, StoreError> {
    Ok(SessionPnl {
        premium: get_dec(row, "premium", table)?,
        gross: get_dec(row, "gross", table)?,
        fees: get_dec(row, "fees", table)?,
        net: get_dec(row, "net", table)?,
    })
}

/// The `client_order_id` column of `row`, checked.
fn client_order_id(row: &DbRow, table: &'static str) -> Result<ClientOrderId, StoreError> {
    checked(row, table, "client_order_id")
}

/// The `symbol` column of `row`, checked.
fn symbol(row: &DbRow, table: &'static str) -> Result<Symbol, StoreError> {
    checked(row, table, "symbol")
}

/// A product id as the `BIGINT` column of `table` stores it; one above `i64::MAX` is
/// refused rather than stored wrapped.
fn db_product_id(id: ProductId, table: &'static str) -> Result<i64, StoreError> {
    i64::try_from(id.get()).map_err(|_| StoreError::OutOfRange {
        table,
        column: "product_id",
        value: id.to_string(),
    })
}

/// The `product_id` column of `row`; a negative number is corruption.
fn product_id(row: &DbRow, table: &'static str) -> Result<ProductId, StoreError> {
    let n: i64 = row.try_get("product_id")?;
    u64::try_from(n)
        .map(ProductId)
        .map_err(|_| StoreError::Corrupt {
            table,
            column: "product_id",
            reason: format!("{n} is negative"),
        })
}

/// A text column holding a checked id; a stored text that fails the check is corruption.
fn checked<T: std::str::FromStr<Err = InvalidId>>(
    row: &DbRow,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    let s: String = row.try_get(column)?;
    s.parse().map_err(|e: InvalidId| StoreError::Corrupt {
        table,
        column,
        reason: e.to_string(),
    })
}

impl Store {
    /// Wraps a connection pool and brings its schema up to date.
    pub async fn from_pool(pool: sqlx::Pool<Db>) -> Result<Self, StoreError> {
        let store = Self {
            pool,
            marks: tokio::sync::Mutex::new(Vec::new()),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps a pool on a database opened for reading only: checks that it holds a ledger of
    /// this build's schema version and changes nothing.
    pub async fn from_pool_read_only(pool: sqlx::Pool<Db>) -> Result<Self, StoreError> {
        let store = Self {
            pool,
            marks: tokio::sync::Mutex::new(Vec::new()),
        };
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        match store.applied_version().await? {
            None => Err(StoreError::NotALedger),
            Some(found) if found > known => Err(StoreError::TooNew { found, known }),
            Some(found) if found < known => Err(StoreError::TooOld { found, known }),
            Some(_) => Ok(store),
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &sqlx::Pool<Db> {
        &self.pool
    }

    /// Writes buffered marks in one transaction.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let marks = std::mem::take(&mut *self.marks.lock().await);
        if marks.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // One multi-row INSERT per chunk: a group commit of many marks.
        for chunk in marks.chunks(crate::MARKS_PER_INSERT) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO marks (session_id, at, premium, gross, fees, net, close_now_net, \
                 trailing_level, spot) ",
            );
            qb.push_values(chunk, |mut b, m| {
                b.push_bind(m.session_id.to_string())
                    .push_bind(m.at)
                    .push_bind(dec(m.pnl.premium))
                    .push_bind(dec(m.pnl.gross))
                    .push_bind(dec(m.pnl.fees))
                    .push_bind(dec(m.pnl.net))
                    .push_bind(m.close_now_net.map(dec))
                    .push_bind(m.trailing_level.map(dec))
                    .push_bind(m.spot.map(dec));
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.flush().await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (session_id, profile, underlying, mode, trading_day, state, opened_at, \
             closed_at, expiry, planned_exit, entry_spot, exit_reason, premium, gross, fees, net, \
             trailing_level, peak_pnl_pct, trough_pnl_pct, reentry_of, reentry) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21) \
             ON CONFLICT (session_id) DO UPDATE SET state = excluded.state, closed_at = excluded.closed_at, \
             exit_reason = excluded.exit_reason, premium = excluded.premium, gross = excluded.gross, \
             fees = excluded.fees, net = excluded.net, trailing_level = excluded.trailing_level, \
             peak_pnl_pct = excluded.peak_pnl_pct, trough_pnl_pct = excluded.trough_pnl_pct, \
             entry_spot = excluded.entry_spot, planned_exit = excluded.planned_exit",
        )
        .bind(s.session_id.as_str())
        .bind(&s.profile)
        .bind(to_text(&s.underlying))
        .bind(to_text(&s.mode))
        .bind(s.trading_day)
        .bind(to_text(&s.state))
        .bind(s.opened_at)
        .bind(s.closed_at)
        .bind(s.expiry)
        .bind(s.planned_exit)
        .bind(s.entry_spot.map(dec))
        .bind(s.exit_reason.map(|r| to_text(&r)))
        .bind(dec(s.pnl.premium))
        .bind(dec(s.pnl.gross))
        .bind(dec(s.pnl.fees))
        .bind(dec(s.pnl.net))
        .bind(s.trailing_level.map(dec))
        .bind(s.peak_pnl_pct.map(dec))
        .bind(s.trough_pnl_pct.map(dec))
        .bind(s.reentry_of.as_ref().map(|id| id.as_str().to_string()))
        .bind(i64::from(s.reentry))
        .execute(&mut *tx)
        .await?;
        for g in &s.legs {
            sqlx::query(
                "INSERT INTO legs (session_id, kind, symbol, product_id, strike, contract_size, tick_size, \
                 target, entry_delta, sold, sold_value, bought, bought_value, fees, mark, entry_attempts, \
                 exit_attempts, stop_attempts, stop_price, exit_reason, stop_at_cost) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                 $20, $21) \
                 ON CONFLICT (session_id, kind) DO UPDATE SET target = excluded.target, sold = excluded.sold, \
                 sold_value = excluded.sold_value, bought = excluded.bought, bought_value = excluded.bought_value, \
                 fees = excluded.fees, mark = excluded.mark, entry_attempts = excluded.entry_attempts, \
                 exit_attempts = excluded.exit_attempts, stop_attempts = excluded.stop_attempts, \
                 stop_price = excluded.stop_price, exit_reason = excluded.exit_reason, \
                 stop_at_cost = excluded.stop_at_cost",
            )
            .bind(s.session_id.as_str())
            .bind(to_text(&g.kind))
            .bind(g.symbol.as_str())
            .bind(db_product_id(g.product_id, "legs")?)
            .bind(dec(g.strike))
            .bind(dec(g.contract_size))
            .bind(dec(g.tick_size))
            .bind(dec(g.target))
            .bind(g.entry_delta)
            .bind(dec(g.book.sold))
            .bind(dec(g.book.sold_value))
            .bind(dec(g.book.bought))
            .bind(dec(g.book.bought_value))
            .bind(dec(g.book.fees))
            .bind(g.mark.map(dec))
            .bind(i64::from(g.entry_attempts))
            .bind(i64::from(g.exit_attempts))
            .bind(i64::from(g.stop_attempts))
            .bind(g.stop_price.map(dec))
            .bind(g.exit_reason.as_ref().map(to_text))
            .bind(g.stop_at_cost)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_intent(&self, i: &OrderIntent) -> Result<(), StoreError> {
        self.flush().await?;
        let r = &i.request;
        sqlx::query(
            "INSERT INTO orders (client_order_id, session_id, leg, purpose, attempt, product_id, symbol, side, \
             size, order_type, limit_price, time_in_force, reduce_only, created_at, state, exchange_order_id, \
             filled_size, reason, updated_at, stop_price, stop_trigger) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'intent', NULL, $15, NULL, $16, $17, $18) \
             ON CONFLICT (client_order_id) DO NOTHING",
        )
        .bind(r.client_order_id.as_str())
        .bind(i.session_id.as_str())
        .bind(to_text(&i.leg))
        .bind(to_text(&i.purpose))
        .bind(i64::from(i.attempt))
        .bind(db_product_id(r.product_id, "orders")?)
        .bind(r.symbol.as_str())
        .bind(to_text(&r.side))
        .bind(dec(r.size))
        .bind(to_text(&r.order_type))
        .bind(r.limit_price.map(dec))
        .bind(to_text(&r.time_in_force))
        .bind(r.reduce_only)
        .bind(i.created_at)
        .bind(dec(Decimal::ZERO))
        .bind(i.created_at)
        .bind(r.stop.map(|s| dec(s.stop_price)))
        .bind(r.stop.map(|s| to_text(&s.trigger)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_order_update(&self, s: &OrderStatus) -> Result<(), StoreError> {
        self.flush().await?;
        let mut tx = self.pool.begin().await?;
        let state = to_text(&s.state);
        let filled = s.filled_size();
        sqlx::query(
            "UPDATE orders SET state = $1, exchange_order_id = $2, filled_size = $3, reason = $4, updated_at = $5 \
             WHERE client_order_id = $6",
        )
        .bind(&state)
        .bind(&s.exchange_order_id)
        .bind(dec(filled))
        .bind(&s.reason)
        .bind(s.updated_at)
        .bind(s.client_order_id.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO order_updates (client_order_id, state, filled_size, reason, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.client_order_id.as_str())
            .bind(&state)
            .bind(dec(filled))
            .bind(&s.reason)
            .bind(s.updated_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_fill(&self, session_id: &str, f: &Fill) -> Result<(), StoreError> {
        self.flush().await?;
        sqlx::query(
            "INSERT INTO fills (fill_id, session_id, client_order_id, symbol, side, size, price, fee, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (fill_id) DO NOTHING",
        )
        .bind(&f.fill_id)
        .bind(session_id)
        // A fill of no order (settlement) is stored with an empty client id.
        .bind(f.client_order_id.as_deref().unwrap_or(""))
        .bind(f.symbol.as_str())
        .bind(to_text(&f.side))
        .bind(dec(f.size))
        .bind(dec(f.price))
        .bind(dec(f.fee))
        .bind(f.timestamp)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_mark(&self, m: &PnlMark) -> Result<(), StoreError> {
        let full = {
            let mut b = self.marks.lock().await;
            b.push(m.clone());
            b.len() >= crate::MARK_BATCH
        };
        if full {
            self.flush().await?;
        }
        Ok(())
    }

    async fn put_event(&self, e: &AuditEvent) -> Result<(), StoreError> {
        self.flush().await?;
        sqlx::query("INSERT INTO events (at, profile, session_id, kind, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.at)
            .bind(&e.profile)
            .bind(e.session_id.as_deref())
            .bind(e.kind.as_str())
            .bind(&e.detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn session_of(row: &DbRow, legs: Vec<LegRecord>) -> Result<SessionRecord, StoreError> {
        const T: &str = "sessions";
        let text =
            |c: &'static str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(c)?) };
        Ok(SessionRecord {
            session_id: session_id(row, T)?,
            profile: text("profile")?,
            underlying: from_text(&text("underlying")?, T, "underlying")?,
            mode: from_text(&text("mode")?, T, "mode")?,
            trading_day: row.try_get::<NaiveDate, _>("trading_day")?,
            state: from_text(&text("state")?, T, "state")?,
            opened_at: row.try_get::<DateTime<Utc>, _>("opened_at")?,
            closed_at: row.try_get::<Option<DateTime<Utc>>, _>("closed_at")?,
            expiry: row.try_get::<DateTime<Utc>, _>("expiry")?,
            planned_exit: row.try_get::<DateTime<Utc>, _>("planned_exit")?,
            entry_spot: get_dec_opt(row, "entry_spot", T)?,
            legs,
            exit_reason: match row.try_get::<Option<String>, _>("exit_reason")? {
                Some(r) => Some(from_text(&r, T, "exit_reason")?),
                None => None,
            },
            pnl: pnl_of(row, T)?,
            trailing_level: get_dec_opt(row, "trailing_level", T)?,
            peak_pnl_pct: get_dec_opt(row, "peak_pnl_pct", T)?,
            trough_pnl_pct: get_dec_opt(row, "trough_pnl_pct", T)?,
            reentry_of: match row.try_get::<Option<String>, _>("reentry_of")? {
                Some(id) => Some(SessionId::new(&id).map_err(|e| StoreError::Corrupt {
                    table: T,
                    column: "reentry_of",
                    reason: e.to_string(),
                })?),
                None => None,
            },
            reentry: u32::try_from(row.try_get::<i64, _>("reentry")?).map_err(|_| {
                StoreError::Corrupt {
                    table: T,
                    column: "reentry",
                    reason: "negative".into(),
                }
            })?,
        })
    }

    async fn legs_of(&self, session_id: &str) -> Result<Vec<LegRecord>, StoreError> {
        const T: &str = "legs";
        let rows = sqlx::query("SELECT * FROM legs WHERE session_id = $1 ORDER BY kind")
            .bind(session_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let attempts = |c: &'static str| -> Result<u32, StoreError> {
                    u32::try_from(r.try_get::<i64, _>(c)?).map_err(|_| StoreError::Corrupt {
                        table: T,
                        column: c,
                        reason: "negative".into(),
                    })
                };
                Ok(LegRecord {
                    kind: from_text(&r.try_get::<String, _>("kind")?, T, "kind")?,
                    symbol: symbol(r, T)?,
                    product_id: product_id(r, T)?,
                    strike: get_dec(r, "strike", T)?,
                    contract_size: get_dec(r, "contract_size", T)?,
                    tick_size: get_dec(r, "tick_size", T)?,
                    target: get_dec(r, "target", T)?,
                    entry_delta: r.try_get("entry_delta")?,
                    book: LegBook {
                        sold: get_dec(r, "sold", T)?,
                        sold_value: get_dec(r, "sold_value", T)?,
                        bought: get_dec(r, "bought", T)?,
                        bought_value: get_dec(r, "bought_value", T)?,
                        fees: get_dec(r, "fees", T)?,
                    },
                    mark: get_dec_opt(r, "mark", T)?,
                    entry_attempts: attempts("entry_attempts")?,
                    exit_attempts: attempts("exit_attempts")?,
                    stop_attempts: attempts("stop_attempts")?,
                    stop_price: get_dec_opt(r, "stop_price", T)?,
                    exit_reason: r
                        .try_get::<Option<String>, _>("exit_reason")?
                        .map(|t| from_text(&t, T, "exit_reason"))
                        .transpose()?,
                    stop_at_cost: r.try_get::<bool, _>("stop_at_cost")?,
                })
            })
            .collect()
    }

    /// One session with its legs.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM sessions WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(Self::session_of(&r, self.legs_of(session_id).await?)?)),
            None => Ok(None),
        }
    }

    async fn sessions_where(
        &self,
        sql: &str,
        profile: &str,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(sql).bind(profile).fetch_all(&self.pool).await?;
        self.sessions_from(&rows).await
    }

    /// Session rows with their legs.
    async fn sessions_from(&self, rows: &[DbRow]) -> Result<Vec<SessionRecord>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("session_id")?;
            out.push(Self::session_of(r, self.legs_of(&id).await?)?);
        }
        Ok(out)
    }

    // ---- queries --------------------------------------------------------------------------

    fn push_filter(qb: &mut sqlx::QueryBuilder<'_, Db>, f: &SessionFilter) {
        qb.push(" WHERE 1 = 1");
        if let Some(p) = &f.profile {
            qb.push(" AND profile = ").push_bind(p.clone());
        }
        if let Some(t) = f.from {
            qb.push(" AND opened_at >= ").push_bind(t);
        }
        if let Some(t) = f.to {
            qb.push(" AND opened_at < ").push_bind(t);
        }
        if let Some(s) = f.state {
            qb.push(" AND state = ").push_bind(to_text(&s));
        }
        if let Some(m) = f.mode {
            qb.push(" AND mode = ").push_bind(to_text(&m));
        }
    }

    /// A session's PnL marks, oldest first; more than `points` are thinned to about
    /// `points` (see [`crate::thin_marks`]). The second value is how many the ledger holds.
    pub async fn marks(
        &self,
        session: &str,
        points: usize,
    ) -> Result<(Vec<PnlMark>, usize), StoreError> {
        self.flush().await?;
        let rows = sqlx::query("SELECT * FROM marks WHERE session_id = $1 ORDER BY at, id")
            .bind(session)
            .fetch_all(&self.pool)
            .await?;
        const T: &str = "marks";
        let mut all = Vec::with_capacity(rows.len());
        for row in &rows {
            all.push(PnlMark {
                session_id: session_id(row, T)?,
                at: row.try_get::<DateTime<Utc>, _>("at")?,
                pnl: pnl_of(row, T)?,
                close_now_net: get_dec_opt(row, "close_now_net", T)?,
                trailing_level: get_dec_opt(row, "trailing_level", T)?,
                spot: get_dec_opt(row, "spot", T)?,
            });
        }
        let total = all.len();
        Ok((crate::thin_marks(all, points), total))
    }

    /// The modes the ledger has sessions in.
    pub async fn modes(&self) -> Result<Vec<strangle_core::ledger::Mode>, StoreError> {
        self.flush().await?;
        let rows: Vec<String> = sqlx::query_scalar("SELECT DISTINCT mode FROM sessions")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|m| from_text(m, "sessions", "mode"))
            .collect()
    }

    /// Sessions matching `f`, newest first, one page at a time.
    pub async fn list_sessions(
        &self,
        f: &SessionFilter,
    ) -> Result<Page<SessionRecord>, StoreError> {
        self.flush().await?;
        let limit = f.limit.clamp(1, 1000);
        let offset = f.offset.max(0);
        let mut count = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) FROM sessions");
        Self::push_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let mut qb = sqlx::QueryBuilder::<Db>::new("SELECT * FROM sessions");
        Self::push_filter(&mut qb, f);
        qb.push(" ORDER BY opened_at DESC, session_id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let items = self.sessions_from(&rows).await?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }

    /// Every session matching `f` (no paging), oldest first: for exports and analytics.
    pub async fn all_sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRecord>, StoreError> {
        self.flush().await?;
        let mut qb = sqlx::QueryBuilder::<Db>::new("SELECT * FROM sessions");
        Self::push_filter(&mut qb, f);
        qb.push(" ORDER BY opened_at, session_id");
        let rows = qb.build().fetch_all(&self.pool).await?;
        self.sessions_from(&rows).await
    }

    /// One session's fills, oldest first.
    pub async fn fills_of(&self, session_id: &str) -> Result<Vec<Fill>, StoreError> {
        const F: &str = "fills";
        let rows = sqlx::query("SELECT * FROM fills WHERE session_id = $1 ORDER BY at, fill_id")
            .bind(session_id)
            .fetch_all(&self.pool)
            .await?;
        let mut fills = Vec::with_capacity(rows.len());
        for r in &rows {
            fills.push(Fill {
                fill_id: r.try_get("fill_id")?,
                client_order_id: match r.try_get::<String, _>("client_order_id")? {
                    s if s.is_empty() => None,
                    _ => Some(client_order_id(r, F)?),
                },
                symbol: symbol(r, F)?,
                side: from_text(&r.try_get::<String, _>("side")?, F, "side")?,
                size: get_dec(r, "size", F)?,
                price: get_dec(r, "price", F)?,
                fee: get_dec(r, "fee", F)?,
                timestamp: r.try_get("at")?,
            });
        }
        Ok(fills)
    }

    /// One session with its legs, orders, fills and audit trail.
    pub async fn session_detail(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionDetail>, StoreError> {
        self.flush().await?;
        let Some(session) = self.session(session_id).await? else {
            return Ok(None);
        };
        const T: &str = "orders";
        let rows = sqlx::query(
            "SELECT * FROM orders WHERE session_id = $1 ORDER BY created_at, client_order_id",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        let mut orders = Vec::with_capacity(rows.len());
        for r in &rows {
            let state: String = r.try_get("state")?;
            let request = strangle_core::model::OrderRequest {
                client_order_id: client_order_id(r, T)?,
                product_id: product_id(r, T)?,
                symbol: symbol(r, T)?,
                side: from_text(&r.try_get::<String, _>("side")?, T, "side")?,
                size: get_dec(r, "size", T)?,
                order_type: from_text(&r.try_get::<String, _>("order_type")?, T, "order_type")?,
                limit_price: get_dec_opt(r, "limit_price", T)?,
                time_in_force: from_text(
                    &r.try_get::<String, _>("time_in_force")?,
                    T,
                    "time_in_force",
                )?,
                reduce_only: r.try_get("reduce_only")?,
                stop: match get_dec_opt(r, "stop_price", T)? {
                    None => None,
                    Some(stop_price) => {
                        let name: Option<String> = r.try_get("stop_trigger")?;
                        Some(strangle_core::model::StopOrder {
                            stop_price,
                            trigger: from_text(&name.unwrap_or_default(), T, "stop_trigger")?,
                            trail_amount: None,
                            kind: strangle_core::model::StopKind::StopLoss,
                        })
                    }
                },
            };
            orders.push(OrderRow {
                intent: OrderIntent {
                    session_id: self::session_id(r, T)?,
                    leg: from_text(&r.try_get::<String, _>("leg")?, T, "leg")?,
                    purpose: from_text(&r.try_get::<String, _>("purpose")?, T, "purpose")?,
                    attempt: u32::try_from(r.try_get::<i64, _>("attempt")?).unwrap_or_default(),
                    request,
                    created_at: r.try_get("created_at")?,
                },
                state: if state == "intent" {
                    None
                } else {
                    Some(from_text(&state, T, "state")?)
                },
                exchange_order_id: r.try_get("exchange_order_id")?,
                filled_size: get_dec(r, "filled_size", T)?,
                reason: r.try_get("reason")?,
                updated_at: r.try_get("updated_at")?,
            });
        }
        let fills = self.fills_of(session_id).await?;
        let rows = sqlx::query("SELECT * FROM events WHERE session_id = $1 ORDER BY id")
            .bind(session_id)
            .fetch_all(&self.pool)
            .await?;
        let events = rows
            .iter()
            .map(|r| {
                Ok(AuditEvent {
                    at: r.try_get("at")?,
                    profile: r.try_get("profile")?,
                    session_id: match r.try_get::<Option<String>, _>("session_id")? {
                        Some(_) => Some(self::session_id(r, "events")?),
                        None => None,
                    },
                    kind: EventKind::parse(r.try_get("kind")?),
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(SessionDetail {
            session,
            orders,
            fills,
            events,
        }))
    }

    // ---- profiles -------------------------------------------------------------------------

    /// Binds a profile's columns: name, underlying, strike_mode, delta_low, delta_high,
    /// settings, created_at, updated_at.
    fn bind_profile<'q>(
        q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>,
        p: &'q Profile,
        now: DateTime<Utc>,
    ) -> Result<sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>, StoreError> {
        Ok(q.bind(&p.name)
            .bind(to_text(&p.underlying))
            .bind(to_text(&p.strike_mode))
            .bind(p.delta_band.low)
            .bind(p.delta_band.high)
            .bind(json(p)?)
            .bind(now)
            .bind(now))
    }

    /// Saves a profile by name: updates a known one in place (an upsert would spend an id
    /// of PostgreSQL's sequence, and SQLite's AUTOINCREMENT, each time), creates an unknown
    /// one.
    async fn put_profile(&self, p: &Profile) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE profiles SET underlying = $1, strike_mode = $2, delta_low = $3, delta_high = $4, \
             settings = $5, updated_at = $6 WHERE name = $7",
        )
        .bind(to_text(&p.underlying))
        .bind(to_text(&p.strike_mode))
        .bind(p.delta_band.low)
        .bind(p.delta_band.high)
        .bind(json(p)?)
        .bind(Utc::now())
        .bind(&p.name)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() > 0 {
            return Ok(());
        }
        // Another process may create it between the two statements: the upsert covers that.
        let q = sqlx::query(
            "INSERT INTO profiles (name, underlying, strike_mode, delta_low, delta_high, settings, created_at, updated_at, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE) \
             ON CONFLICT (name) DO UPDATE SET underlying = excluded.underlying, strike_mode = excluded.strike_mode, \
             delta_low = excluded.delta_low, delta_high = excluded.delta_high, settings = excluded.settings, \
             updated_at = excluded.updated_at",
        );
        Self::bind_profile(q, p, Utc::now())?
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn profile_of(row: &DbRow) -> Result<StoredProfile, StoreError> {
        let settings = get_json(row, "settings")?;
        let profile: Profile =
            serde_json::from_str(&settings).map_err(|e| StoreError::Corrupt {
                table: "profiles",
                column: "settings",
                reason: e.to_string(),
            })?;
        Ok(StoredProfile {
            id: row.try_get("id")?,
            active: row.try_get("active")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            profile,
        })
    }

    /// Every profile, by name.
    pub async fn profiles(&self) -> Result<Vec<StoredProfile>, StoreError> {
        let rows = sqlx::query("SELECT * FROM profiles ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::profile_of).collect()
    }

    /// One profile by id.
    pub async fn profile_by_id(&self, id: i64) -> Result<StoredProfile, StoreError> {
        let row = sqlx::query("SELECT * FROM profiles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(Self::profile_of)
            .transpose()?
            .ok_or_else(|| StoreError::NoProfile(id.to_string()))
    }

    /// One profile by name.
    pub async fn profile(&self, name: &str) -> Result<StoredProfile, StoreError> {
        let row = sqlx::query("SELECT * FROM profiles WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(Self::profile_of)
            .transpose()?
            .ok_or_else(|| StoreError::NoProfile(name.to_string()))
    }

    /// The active profile, if any.
    pub async fn active_profile(&self) -> Result<Option<StoredProfile>, StoreError> {
        let row = sqlx::query("SELECT * FROM profiles WHERE active")
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::profile_of).transpose()
    }

    /// Adds a new profile; a taken name is [`StoreError::DuplicateProfile`].
    pub async fn create_profile(&self, p: &Profile) -> Result<StoredProfile, StoreError> {
        let q = sqlx::query(
            "INSERT INTO profiles (name, underlying, strike_mode, delta_low, delta_high, settings, created_at, updated_at, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE)",
        );
        let res = Self::bind_profile(q, p, Utc::now())?
            .execute(&self.pool)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::DuplicateProfile(p.name.clone()))
            }
            Err(e) => Err(e.into()),
            Ok(_) => self.profile(&p.name).await,
        }
    }

    /// Replaces the settings of profile `id` (the name may change, but not to a taken one).
    pub async fn update_profile(&self, id: i64, p: &Profile) -> Result<StoredProfile, StoreError> {
        let res = sqlx::query(
            "UPDATE profiles SET name = $1, underlying = $2, strike_mode = $3, delta_low = $4, delta_high = $5, \
             settings = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&p.name)
        .bind(to_text(&p.underlying))
        .bind(to_text(&p.strike_mode))
        .bind(p.delta_band.low)
        .bind(p.delta_band.high)
        .bind(json(p)?)
        .bind(Utc::now())
        .bind(id)
        .execute(&self.pool)
        .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::DuplicateProfile(p.name.clone()))
            }
            Err(e) => Err(e.into()),
            Ok(r) if r.rows_affected() == 0 => Err(StoreError::NoProfile(id.to_string())),
            Ok(_) => self.profile_by_id(id).await,
        }
    }

    /// Makes profile `id` the only active one, atomically.
    pub async fn activate_profile(&self, id: i64) -> Result<StoredProfile, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE profiles SET active = FALSE WHERE active AND id <> $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query("UPDATE profiles SET active = TRUE WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NoProfile(id.to_string()));
        }
        tx.commit().await?;
        self.profile_by_id(id).await
    }

    /// Deletes profile `id`, unless it is the active one.
    pub async fn delete_profile(&self, id: i64) -> Result<(), StoreError> {
        let p = self.profile_by_id(id).await?;
        if p.active {
            return Err(StoreError::ActiveProfile(p.profile.name));
        }
        sqlx::query("DELETE FROM profiles WHERE id = $1 AND NOT active")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Highest schema version applied, if any.
    async fn applied_version(&self) -> Result<Option<i64>, StoreError> {
        let exists: Option<String> = sqlx::query_scalar(EXISTS_MIGRATIONS_TABLE)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Ok(None);
        }
        Ok(
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Applies the embedded migrations, refusing a database from a newer strangle.
    async fn migrate(&self) -> Result<(), StoreError> {
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        if let Some(found) = self.applied_version().await? {
            if found > known {
                return Err(StoreError::TooNew { found, known });
            }
        }
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl strangle_core::governor::RiskLedger for Store {
    async fn account_risk(
        &self,
    ) -> strangle_core::Result<Option<strangle_core::governor::RiskRecord>> {
        const T: &str = "account_risk";
        let Some(row) = sqlx::query("SELECT * FROM account_risk WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from)?
        else {
            return Ok(None);
        };
        let read = |col: &'static str| -> Result<String, StoreError> { Ok(row.try_get(col)?) };
        let corrupt = |column: &'static str| {
            move |e: serde_json::Error| StoreError::Corrupt {
                table: T,
                column,
                reason: e.to_string(),
            }
        };
        Ok(Some(strangle_core::governor::RiskRecord {
            limits: serde_json::from_str(&read("limits")?).map_err(corrupt("limits"))?,
            state: serde_json::from_str(&read("state")?).map_err(corrupt("state"))?,
            version: row.try_get::<i64, _>("version").map_err(StoreError::from)?,
            updated_at: row
                .try_get::<DateTime<Utc>, _>("updated_at")
                .map_err(StoreError::from)?,
        }))
    }

    async fn save_account_risk(
        &self,
        rec: &strangle_core::governor::RiskRecord,
    ) -> strangle_core::Result<bool> {
        let text = |v: Result<String, serde_json::Error>, column: &'static str| {
            v.map_err(|e| StoreError::Corrupt {
                table: "account_risk",
                column,
                reason: e.to_string(),
            })
        };
        let limits = text(serde_json::to_string(&rec.limits), "limits")?;
        let state = text(serde_json::to_string(&rec.state), "state")?;
        let q = if rec.version == 0 {
            sqlx::query(
                "INSERT INTO account_risk (id, limits, state, version, updated_at) \
                 VALUES (1, $1, $2, 1, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(limits)
            .bind(state)
            .bind(rec.updated_at)
        } else {
            sqlx::query(
                "UPDATE account_risk SET limits = $1, state = $2, version = version + 1, \
                 updated_at = $3 WHERE id = 1 AND version = $4",
            )
            .bind(limits)
            .bind(state)
            .bind(rec.updated_at)
            .bind(rec.version)
        };
        let done = q.execute(&self.pool).await.map_err(StoreError::from)?;
        Ok(done.rows_affected() == 1)
    }

    async fn risk_sessions(
        &self,
        day: NaiveDate,
        basis: strangle_core::profile::PnlBasis,
    ) -> strangle_core::Result<Vec<strangle_core::governor::SessionView>> {
        const T: &str = "sessions";
        self.flush().await?;
        let rows = sqlx::query(
            "SELECT session_id, profile, trading_day, state, net FROM sessions \
             WHERE trading_day = $1 OR state <> 'closed' ORDER BY opened_at",
        )
        .bind(day)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = session_id(r, T)?;
            let state: strangle_core::ledger::SessionState = from_text(
                &r.try_get::<String, _>("state").map_err(StoreError::from)?,
                T,
                "state",
            )?;
            let open = state.is_active();
            let mut net = get_dec(r, "net", T)?;
            if open {
                let mark = sqlx::query(
                    "SELECT net, close_now_net FROM marks WHERE session_id = $1 \
                     ORDER BY at DESC, id DESC LIMIT 1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from)?;
                if let Some(m) = mark {
                    net = strangle_core::governor::net_on(
                        basis,
                        get_dec(&m, "net", "marks")?,
                        get_dec_opt(&m, "close_now_net", "marks")?,
                    );
                }
            }
            out.push(strangle_core::governor::SessionView {
                profile: r.try_get("profile").map_err(StoreError::from)?,
                session_id: id.to_string(),
                trading_day: r
                    .try_get::<NaiveDate, _>("trading_day")
                    .map_err(StoreError::from)?,
                open,
                net,
            });
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl strangle_core::Ledger for Store {
    async fn save_profile(&self, profile: &Profile) -> strangle_core::Result<()> {
        Ok(self.put_profile(profile).await?)
    }
    async fn upsert_session(&self, session: &SessionRecord) -> strangle_core::Result<()> {
        Ok(self.put_session(session).await?)
    }
    async fn record_order_intent(&self, intent: &OrderIntent) -> strangle_core::Result<()> {
        Ok(self.put_intent(intent).await?)
    }
    async fn record_order_update(
        &self,
        _session_id: &SessionId,
        status: &OrderStatus,
    ) -> strangle_core::Result<()> {
        Ok(self.put_order_update(status).await?)
    }
    async fn record_fill(&self, session_id: &SessionId, fill: &Fill) -> strangle_core::Result<()> {
        Ok(self.put_fill(session_id, fill).await?)
    }
    async fn record_mark(&self, mark: &PnlMark) -> strangle_core::Result<()> {
        Ok(self.put_mark(mark).await?)
    }
    async fn record_event(&self, event: &AuditEvent) -> strangle_core::Result<()> {
        Ok(self.put_event(event).await?)
    }
    async fn latest_session(&self, profile: &str) -> strangle_core::Result<Option<SessionRecord>> {
        let v = self
            .sessions_where(
                "SELECT * FROM sessions WHERE profile = $1 ORDER BY opened_at DESC LIMIT 1",
                profile,
            )
            .await?;
        Ok(v.into_iter().next())
    }
    async fn active_sessions(&self, profile: &str) -> strangle_core::Result<Vec<SessionRecord>> {
        Ok(self
            .sessions_where("SELECT * FROM sessions WHERE profile = $1 AND state <> 'closed' ORDER BY opened_at", profile)
            .await?)
    }
    async fn session_fills(
        &self,
        session_id: &strangle_core::ids::SessionId,
    ) -> strangle_core::Result<Vec<Fill>> {
        self.flush().await?;
        Ok(self.fills_of(session_id.as_str()).await?)
    }
}
