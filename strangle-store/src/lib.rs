//! The strangle ledger on SQLite and PostgreSQL. Not built yet (issue 4); the core's in-memory ledger stands in until then.
