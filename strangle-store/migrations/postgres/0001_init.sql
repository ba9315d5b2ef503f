-- strangle ledger, version 1 (PostgreSQL). Money is NUMERIC.

CREATE TABLE profiles (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    underlying    TEXT    NOT NULL,
    strike_mode   TEXT    NOT NULL,
    delta_low     DOUBLE PRECISION    NOT NULL,
    delta_high    DOUBLE PRECISION    NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT FALSE,
    settings      JSONB   NOT NULL,            -- the whole profile, for round trips
    created_at    TIMESTAMPTZ    NOT NULL,
    updated_at    TIMESTAMPTZ    NOT NULL
);
-- At most one active profile, enforced by the database.
CREATE UNIQUE INDEX profiles_one_active ON profiles (active) WHERE active;

CREATE TABLE sessions (
    session_id     TEXT PRIMARY KEY,
    profile        TEXT NOT NULL,
    underlying     TEXT NOT NULL,
    mode           TEXT NOT NULL,
    trading_day    DATE NOT NULL,
    state          TEXT NOT NULL,
    opened_at      TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ,
    expiry         TIMESTAMPTZ NOT NULL,
    planned_exit   TIMESTAMPTZ NOT NULL,
    entry_spot     NUMERIC,
    exit_reason    TEXT,
    premium        NUMERIC NOT NULL,
    gross          NUMERIC NOT NULL,
    fees           NUMERIC NOT NULL,
    net            NUMERIC NOT NULL,
    trailing_level NUMERIC,
    peak_pnl_pct   NUMERIC,
    trough_pnl_pct NUMERIC
);
CREATE INDEX sessions_profile_opened ON sessions (profile, opened_at DESC);
CREATE INDEX sessions_state ON sessions (state);

CREATE TABLE legs (
    session_id     TEXT    NOT NULL REFERENCES sessions (session_id),
    kind           TEXT    NOT NULL,
    symbol         TEXT    NOT NULL,
    product_id     BIGINT  NOT NULL,
    strike         NUMERIC    NOT NULL,
    contract_size  NUMERIC    NOT NULL,
    tick_size      NUMERIC    NOT NULL,
    target         NUMERIC    NOT NULL,
    entry_delta    DOUBLE PRECISION,
    sold           NUMERIC    NOT NULL,
    sold_value     NUMERIC    NOT NULL,
    bought         NUMERIC    NOT NULL,
    bought_value   NUMERIC    NOT NULL,
    fees           NUMERIC    NOT NULL,
    mark           NUMERIC,
    entry_attempts BIGINT  NOT NULL,
    exit_attempts  BIGINT  NOT NULL,
    PRIMARY KEY (session_id, kind)
);

CREATE TABLE orders (
    client_order_id   TEXT PRIMARY KEY,
    session_id        TEXT    NOT NULL REFERENCES sessions (session_id),
    leg               TEXT    NOT NULL,
    purpose           TEXT    NOT NULL,
    attempt           BIGINT  NOT NULL,
    product_id        BIGINT  NOT NULL,
    symbol            TEXT    NOT NULL,
    side              TEXT    NOT NULL,
    size              NUMERIC    NOT NULL,
    order_type        TEXT    NOT NULL,
    limit_price       NUMERIC,
    time_in_force     TEXT    NOT NULL,
    reduce_only       BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ    NOT NULL,
    state             TEXT    NOT NULL,      -- intent, open, filled, cancelled, rejected
    exchange_order_id TEXT,
    filled_size       NUMERIC    NOT NULL,
    reason            TEXT,
    updated_at        TIMESTAMPTZ    NOT NULL
);
CREATE INDEX orders_session ON orders (session_id);

CREATE TABLE order_updates (
    id                BIGSERIAL PRIMARY KEY,
    client_order_id   TEXT NOT NULL REFERENCES orders (client_order_id),
    state             TEXT NOT NULL,
    filled_size       NUMERIC NOT NULL,
    reason            TEXT,
    at                TIMESTAMPTZ NOT NULL
);

CREATE TABLE fills (
    fill_id         TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    client_order_id TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    size            NUMERIC NOT NULL,
    price           NUMERIC NOT NULL,
    fee             NUMERIC NOT NULL,
    at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX fills_session ON fills (session_id);

CREATE TABLE marks (
    id             BIGSERIAL PRIMARY KEY,
    session_id     TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    premium        NUMERIC NOT NULL,
    gross          NUMERIC NOT NULL,
    fees           NUMERIC NOT NULL,
    net            NUMERIC NOT NULL,
    trailing_level NUMERIC,
    spot           NUMERIC
);
CREATE INDEX marks_session ON marks (session_id, at);

CREATE TABLE events (
    id         BIGSERIAL PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    profile    TEXT NOT NULL,
    session_id TEXT,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX events_session ON events (session_id);

-- Append-only: the audit trail is never rewritten.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END $$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Single-runner leases (PostgreSQL also takes an advisory lock; the row names the holder).
CREATE TABLE leases (
    resource    TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
