-- The account risk governor: the account's limits and the governor's state (JSON), one row.
-- Every write increments version, and a write based on an older version is refused, so the
-- runners sharing this ledger never overwrite each other's halt or an operator's reset.
CREATE TABLE account_risk (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    limits     TEXT NOT NULL,
    state      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
