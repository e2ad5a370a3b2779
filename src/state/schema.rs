//! The state's tables, for SQLite and for PostgreSQL, and the steps that
//! bring an older database up to them.

use anyhow::Result;
use rusqlite::Connection;

use super::db::{Db, args};

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_poll TEXT,
    first_seen TEXT NOT NULL,
    ttl INTEGER                    -- the feed's own poll interval, seconds
);
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT,
    published TEXT,
    status TEXT NOT NULL,          -- analysed | skipped_old | pending | failed | duplicate
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    relevant INTEGER,
    seen_at TEXT NOT NULL,
    fingerprint BLOB,              -- MinHash signature of the article's text
    outlet TEXT,
    dup_of TEXT,                   -- link of the story this one repeats
    PRIMARY KEY (feed_url, entry_id)
);
CREATE INDEX IF NOT EXISTS entries_seen ON entries (seen_at);
-- the near-duplicate search: one row per band key of a story's signature
CREATE TABLE IF NOT EXISTS story_bands (
    key INTEGER NOT NULL,
    entry INTEGER NOT NULL,        -- rowid in entries
    PRIMARY KEY (key, entry)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_bands_entry ON story_bands (entry);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    stance TEXT NOT NULL,
    speaker TEXT NOT NULL,
    confidence REAL NOT NULL,
    sentence TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_cell ON claims (actor, topic);
CREATE INDEX IF NOT EXISTS claims_recorded ON claims (recorded_at);
CREATE TABLE IF NOT EXISTS ledger (
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    stance TEXT NOT NULL,
    sentence TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (actor, topic)
);
CREATE TABLE IF NOT EXISTS ledger_history (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    from_stance TEXT,
    to_stance TEXT NOT NULL,
    sentence TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    alert_key TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    message BLOB NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,          -- owed | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT,
    last_error TEXT,
    sent_at TEXT,
    text_part TEXT NOT NULL DEFAULT '',
    html_part TEXT NOT NULL DEFAULT '',
    shift_headers TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_at);
-- every report of a move: waiting for corroboration (pending), part of a
-- confirmed move (confirmed, with the history row), a later report of a
-- confirmed stance (repeat), or dropped (expired)
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    from_stance TEXT,
    stance TEXT NOT NULL,
    site TEXT NOT NULL,
    url TEXT,
    outlet TEXT,
    sentence TEXT NOT NULL,
    confidence REAL NOT NULL,
    seen_at TEXT NOT NULL,
    status TEXT NOT NULL,          -- pending | confirmed | repeat | expired
    history INTEGER                -- ledger_history row
);
CREATE INDEX IF NOT EXISTS sources_move ON sources (actor, topic, stance, status);
CREATE INDEX IF NOT EXISTS sources_history ON sources (history);
CREATE INDEX IF NOT EXISTS sources_seen ON sources (seen_at);
-- a move an analyst reverted: the same report (cell, stance, link) is not
-- taken again
CREATE TABLE IF NOT EXISTS rejections (
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    stance TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (actor, topic, stance, url)
);
"#;

/// Brings a database made by an older version up to this schema.
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let add_missing = |table: &str, cols: &[(&str, &str)]| -> Result<()> {
        let mut st = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
        let have: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for (col, decl) in cols {
            if !have.iter().any(|c| c == col) {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {col} {decl}"))?;
            }
        }
        Ok(())
    };
    if version < 2 {
        let text = "TEXT NOT NULL DEFAULT ''";
        add_missing(
            "outbox",
            &[
                ("text_part", text),
                ("html_part", text),
                ("shift_headers", text),
            ],
        )?;
        conn.pragma_update(None, "user_version", 2)?;
    }
    if version < 3 {
        add_missing(
            "entries",
            &[
                ("fingerprint", "BLOB"),
                ("outlet", "TEXT"),
                ("dup_of", "TEXT"),
            ],
        )?;
        conn.execute_batch("CREATE INDEX IF NOT EXISTS entries_seen ON entries (seen_at)")?;
        conn.pragma_update(None, "user_version", 3)?;
    }
    if version < 4 {
        add_missing("feeds", &[("ttl", "INTEGER")])?;
        conn.pragma_update(None, "user_version", 4)?;
    }
    if version < 5 {
        // signatures changed length with the banded search; older ones can
        // no longer be compared and are dropped
        conn.execute_batch("UPDATE entries SET fingerprint = NULL WHERE fingerprint IS NOT NULL")?;
        conn.execute_batch("DELETE FROM story_bands")?;
        conn.pragma_update(None, "user_version", 5)?;
    }
    if version < 6 {
        // the hash functions of signatures changed: older signatures and
        // their keys can no longer be compared
        conn.execute_batch("UPDATE entries SET fingerprint = NULL WHERE fingerprint IS NOT NULL")?;
        conn.execute_batch("DELETE FROM story_bands")?;
        conn.pragma_update(None, "user_version", 6)?;
    }
    if version < 7 {
        // the stories still remembered, by age: forgetting looks only at them
        conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS entries_remembered ON entries (seen_at) WHERE fingerprint IS NOT NULL",
        )?;
        conn.pragma_update(None, "user_version", 7)?;
    }
    if version < 8 {
        // who changed the ledger (the engine or an analyst), and why
        add_missing(
            "ledger_history",
            &[("by", "TEXT NOT NULL DEFAULT 'engine'"), ("note", "TEXT")],
        )?;
        conn.pragma_update(None, "user_version", 8)?;
    }
    if version < 9 {
        // the claims by which processes on one PostgreSQL database share
        // the work; an SQLite file has one pass at a time and never claims
        add_missing(
            "feeds",
            &[("claimed_by", "TEXT"), ("claimed_until", "TEXT")],
        )?;
        add_missing(
            "outbox",
            &[("claimed_by", "TEXT"), ("claimed_until", "TEXT")],
        )?;
        // a link's reports, found without scanning every report of the cell
        conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS sources_link ON sources (url, actor, topic, stance, status)",
        )?;
        conn.pragma_update(None, "user_version", 9)?;
    }
    Ok(())
}

/// The PostgreSQL tables: the SQLite ones with the server's types (64-bit
/// integers, so the same values bind to both), an identity column where
/// SQLite has its rowid, and the claims by which processes share feeds and
/// owed alerts.
const PG_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_at TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    next_poll TEXT,
    first_seen TEXT NOT NULL,
    ttl BIGINT,
    claimed_by TEXT,               -- the process polling it now, until
    claimed_until TEXT             -- this time (then anyone may)
);
CREATE TABLE IF NOT EXISTS entries (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT,
    published TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    relevant BIGINT,
    seen_at TEXT NOT NULL,
    fingerprint BYTEA,
    outlet TEXT,
    dup_of TEXT,
    PRIMARY KEY (feed_url, entry_id)
);
CREATE INDEX IF NOT EXISTS entries_seen ON entries (seen_at);
CREATE INDEX IF NOT EXISTS entries_remembered ON entries (seen_at) WHERE fingerprint IS NOT NULL;
CREATE TABLE IF NOT EXISTS story_bands (
    key BIGINT NOT NULL,
    entry BIGINT NOT NULL,
    PRIMARY KEY (key, entry)
);
CREATE INDEX IF NOT EXISTS story_bands_entry ON story_bands (entry);
CREATE TABLE IF NOT EXISTS claims (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    stance TEXT NOT NULL,
    speaker TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    sentence TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_cell ON claims (actor, topic);
CREATE INDEX IF NOT EXISTS claims_recorded ON claims (recorded_at);
CREATE TABLE IF NOT EXISTS ledger (
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    stance TEXT NOT NULL,
    sentence TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (actor, topic)
);
CREATE TABLE IF NOT EXISTS ledger_history (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    from_stance TEXT,
    to_stance TEXT NOT NULL,
    sentence TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL DEFAULT 'engine',
    note TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    alert_key TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    message BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt TEXT,
    last_error TEXT,
    sent_at TEXT,
    text_part TEXT NOT NULL DEFAULT '',
    html_part TEXT NOT NULL DEFAULT '',
    shift_headers TEXT NOT NULL DEFAULT '',
    claimed_by TEXT,               -- the process sending it now, until
    claimed_until TEXT             -- this time (then anyone may)
);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_at);
CREATE INDEX IF NOT EXISTS outbox_owed ON outbox (id) WHERE status = 'owed';
CREATE TABLE IF NOT EXISTS sources (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    from_stance TEXT,
    stance TEXT NOT NULL,
    site TEXT NOT NULL,
    url TEXT,
    outlet TEXT,
    sentence TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    seen_at TEXT NOT NULL,
    status TEXT NOT NULL,
    history BIGINT
);
CREATE INDEX IF NOT EXISTS sources_move ON sources (actor, topic, stance, status);
CREATE INDEX IF NOT EXISTS sources_history ON sources (history);
CREATE INDEX IF NOT EXISTS sources_link ON sources (url, actor, topic, stance, status);
CREATE INDEX IF NOT EXISTS sources_seen ON sources (seen_at);
CREATE TABLE IF NOT EXISTS rejections (
    actor TEXT NOT NULL,
    topic TEXT NOT NULL,
    stance TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (actor, topic, stance, url)
);
"#;

/// The PostgreSQL schema's version; each later version adds a step to
/// [`migrate_postgres`].
const PG_VERSION: i64 = 1;

/// Creates the PostgreSQL schema on first use, or brings it up to this
/// version. Processes starting at once take turns (a transaction-scoped
/// advisory lock), so only one of them creates it.
pub(super) fn migrate_postgres(db: &mut Db) -> Result<()> {
    db.atomically(|db| {
        db.exec("SELECT pg_advisory_xact_lock(?1)", args![MIGRATION_LOCK])?;
        db.batch(PG_SCHEMA)?;
        let version = db
            .row("SELECT value FROM meta WHERE key = 'schema_version'", args![])?
            .and_then(|r| r.text(0).parse::<i64>().ok())
            .unwrap_or(0);
        if version > PG_VERSION {
            anyhow::bail!(
                "the database holds schema version {version}, newer than this program's {PG_VERSION}: upgrade stancewatch"
            );
        }
        db.exec(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            args![PG_VERSION.to_string()],
        )?;
        Ok(())
    })
}

/// Advisory lock keys: schema changes, and changing the ledger.
pub(super) const MIGRATION_LOCK: i64 = 0x7374_616e_6365_0001;
pub(super) const LEDGER_LOCK: i64 = 0x7374_616e_6365_0002;
