-- strangle ledger, version 1 (SQLite). Money is stored as exact decimal text.

CREATE TABLE profiles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    underlying    TEXT    NOT NULL,
    strike_mode   TEXT    NOT NULL,
    delta_low     REAL    NOT NULL,
    delta_high    REAL    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    settings      TEXT    NOT NULL,            -- the whole profile as JSON, for round trips
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
-- At most one active profile, enforced by the database.
CREATE UNIQUE INDEX profiles_one_active ON profiles (active) WHERE active = 1;

CREATE TABLE sessions (
    session_id     TEXT PRIMARY KEY,
    profile        TEXT NOT NULL,
    underlying     TEXT NOT NULL,
    mode           TEXT NOT NULL,
    trading_day    TEXT NOT NULL,
    state          TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    closed_at      TEXT,
    expiry         TEXT NOT NULL,
    planned_exit   TEXT NOT NULL,
    entry_spot     TEXT,
    exit_reason    TEXT,
    premium        TEXT NOT NULL,
    gross          TEXT NOT NULL,
    fees           TEXT NOT NULL,
    net            TEXT NOT NULL,
    trailing_level TEXT,
    peak_pnl_pct   TEXT,
    trough_pnl_pct TEXT
);
CREATE INDEX sessions_profile_opened ON sessions (profile, opened_at DESC);
CREATE INDEX sessions_state ON sessions (state);

CREATE TABLE legs (
    session_id     TEXT    NOT NULL REFERENCES sessions (session_id),
    kind           TEXT    NOT NULL,
    symbol         TEXT    NOT NULL,
    product_id     INTEGER NOT NULL,
    strike         TEXT    NOT NULL,
    contract_size  TEXT    NOT NULL,
    tick_size      TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    entry_delta    REAL,
    sold           TEXT    NOT NULL,
    sold_value     TEXT    NOT NULL,
    bought         TEXT    NOT NULL,
    bought_value   TEXT    NOT NULL,
    fees           TEXT    NOT NULL,
    mark           TEXT,
    entry_attempts INTEGER NOT NULL,
    exit_attempts  INTEGER NOT NULL,
    PRIMARY KEY (session_id, kind)
);

CREATE TABLE orders (
    client_order_id   TEXT PRIMARY KEY,
    session_id        TEXT    NOT NULL REFERENCES sessions (session_id),
    leg               TEXT    NOT NULL,
    purpose           TEXT    NOT NULL,
    attempt           INTEGER NOT NULL,
    product_id        INTEGER NOT NULL,
    symbol            TEXT    NOT NULL,
    side              TEXT    NOT NULL,
    size              TEXT    NOT NULL,
    order_type        TEXT    NOT NULL,
    limit_price       TEXT,
    time_in_force     TEXT    NOT NULL,
    reduce_only       INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    state             TEXT    NOT NULL,      -- intent, open, filled, cancelled, rejected
    exchange_order_id TEXT,
    filled_size       TEXT    NOT NULL,
    reason            TEXT,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX orders_session ON orders (session_id);

CREATE TABLE order_updates (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id   TEXT NOT NULL REFERENCES orders (client_order_id),
    state             TEXT NOT NULL,
    filled_size       TEXT NOT NULL,
    reason            TEXT,
    at                TEXT NOT NULL
);

CREATE TABLE fills (
    fill_id         TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    client_order_id TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    size            TEXT NOT NULL,
    price           TEXT NOT NULL,
    fee             TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX fills_session ON fills (session_id);

CREATE TABLE marks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     TEXT NOT NULL,
    at             TEXT NOT NULL,
    premium        TEXT NOT NULL,
    gross          TEXT NOT NULL,
    fees           TEXT NOT NULL,
    net            TEXT NOT NULL,
    trailing_level TEXT,
    spot           TEXT
);
CREATE INDEX marks_session ON marks (session_id, at);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    profile    TEXT NOT NULL,
    session_id TEXT,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX events_session ON events (session_id);

-- Append-only: the audit trail is never rewritten.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Single-runner leases: one engine per profile and account.
CREATE TABLE leases (
    resource    TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
