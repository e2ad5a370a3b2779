//! SQLite state: feeds and their validators, entries seen, claims, the
//! current ledger with its history, and the outbox of owed alerts.
//!
//! All SQL lives here. An article's claims, the ledger changes its shifts
//! make and the alert they owe are written in one transaction; an alert is
//! marked sent only after the mail server accepted it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::analyze::{Claim, Stance};
use crate::compare::Shift;
use crate::fetch::Validators;
use crate::ledger::{Cell, Evidence, Ledger};
use crate::neardup::Signature;

const SCHEMA: &str = r#"
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

fn source_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceRow> {
    Ok(SourceRow {
        site: r.get(0)?,
        url: r.get(1)?,
        outlet: r.get(2)?,
        sentence: r.get(3)?,
        confidence: r.get(4)?,
        seen_at: time(r.get(5)?).unwrap_or(DateTime::<Utc>::MIN_UTC),
    })
}

/// A stored time (RFC 3339), read back.
fn time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// What [`State::prune`] forgot.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub entries: usize,
    pub claims: usize,
    pub alerts: usize,
}

/// A feed's stored health and validators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedRow {
    pub url: String,
    pub title: Option<String>,
    pub validators: Validators,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub failures: i64,
    pub next_poll: Option<DateTime<Utc>>,
    pub known: bool,
    /// The feed's own poll interval, from its last body.
    pub ttl: Option<Duration>,
}

/// An exclusive hold on one state database for the length of a pass
/// (an advisory lock on `STATE.lock`, released when dropped or when the
/// process dies).
#[derive(Debug)]
pub struct PassLock {
    _file: std::fs::File,
}

impl PassLock {
    /// Takes the lock, or `None` when another process holds it.
    pub fn try_acquire(state_path: &Path) -> Result<Option<PassLock>> {
        let mut name = state_path.as_os_str().to_owned();
        name.push(".lock");
        let path = std::path::PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create the state folder", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open the lock file", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(PassLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::new(e).context(format!("{}: cannot lock", path.display())))
            }
        }
    }
}

/// What became of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    /// Read and analysed.
    Analysed,
    /// Older than `fetch.max_age`: recorded, not read.
    SkippedOld,
    /// Its page failed; tried again on a later pass.
    Pending,
    /// Given up on (too many failures, or over its time budget).
    Failed,
    /// A copy of a story already read.
    Duplicate,
}

impl EntryStatus {
    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Analysed => "analysed",
            EntryStatus::SkippedOld => "skipped_old",
            EntryStatus::Pending => "pending",
            EntryStatus::Failed => "failed",
            EntryStatus::Duplicate => "duplicate",
        }
    }

    /// Reads a stored word (an unknown one is taken for `Failed`: not read
    /// again).
    pub fn parse(s: &str) -> EntryStatus {
        match s {
            "analysed" => EntryStatus::Analysed,
            "skipped_old" => EntryStatus::SkippedOld,
            "pending" => EntryStatus::Pending,
            "duplicate" => EntryStatus::Duplicate,
            _ => EntryStatus::Failed,
        }
    }
}

/// What the state knows of an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub content_hash: String,
    pub status: EntryStatus,
    pub attempts: i64,
}

/// An alert owed to the mail server.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub alert_key: String,
    pub subject: String,
    pub message: Vec<u8>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub text: String,
    pub html: String,
    pub shift_headers: Vec<String>,
}

/// An alert to queue: its key, the whole message and its parts (for digests).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub key: String,
    pub subject: String,
    pub raw: Vec<u8>,
    pub text: String,
    pub html: String,
    pub shift_headers: Vec<String>,
}

/// An entry's outcome, written in one transaction.
pub struct ArticleRecord<'a> {
    pub feed_url: &'a str,
    pub entry_id: &'a str,
    pub content_hash: &'a str,
    pub title: &'a str,
    pub link: Option<&'a str>,
    pub published: Option<DateTime<Utc>>,
    pub status: EntryStatus,
    pub error: Option<&'a str>,
    pub relevant: Option<bool>,
    pub claims: &'a [Claim],
    pub shifts: &'a [Shift],
    pub alert: Option<NewAlert>,
    /// The article's signature, and its outlet, for near-duplicate search.
    pub fingerprint: Option<Signature>,
    pub outlet: Option<&'a str>,
    /// The story this article repeats (its link, else its entry id).
    pub dup_of: Option<&'a str>,
    /// What the article reports of each move: a source for a move still
    /// waiting, for one it confirms (also in `shifts`), or for a stance
    /// already held.
    pub reports: &'a [Report],
}

/// One outlet's report of a stance.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub actor: String,
    pub topic: String,
    pub from: Option<Stance>,
    pub to: Stance,
    /// The site that makes it independent (registrable domain, or address).
    pub site: String,
    pub url: Option<String>,
    pub outlet: Option<String>,
    pub sentence: String,
    pub confidence: f64,
    pub kind: ReportKind,
}

/// What a report does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Waits for corroboration.
    Pending,
    /// Confirms a move (its shift is recorded with it).
    Confirmed,
    /// Repeats the stance the ledger holds.
    Repeat,
}

/// A cell of the ledger as it stands, with its sources.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRow {
    pub actor: String,
    pub topic: String,
    pub stance: Stance,
    pub since: DateTime<Utc>,
    pub sentence: String,
    pub source: String,
    /// The reports that confirmed its last change and those that repeated
    /// it since.
    pub sources: Vec<SourceRow>,
}

/// A move still waiting for corroboration.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMove {
    pub actor: String,
    pub topic: String,
    pub from: Option<Stance>,
    pub to: Stance,
    pub first_seen: DateTime<Utc>,
    pub sources: Vec<SourceRow>,
}

/// One change of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub id: i64,
    pub actor: String,
    pub topic: String,
    pub from: Option<Stance>,
    /// `None`: the cell was removed.
    pub to: Option<Stance>,
    pub sentence: String,
    pub source: String,
    pub at: DateTime<Utc>,
    /// `engine` or `analyst`.
    pub by: String,
    pub note: Option<String>,
    pub sources: Vec<SourceRow>,
}

/// A source of a move or of a held stance, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub site: String,
    pub url: Option<String>,
    pub outlet: Option<String>,
    pub sentence: String,
    pub confidence: f64,
    pub seen_at: DateTime<Utc>,
}

/// At most this many stories sharing band keys with a new one are scored.
pub const CANDIDATES: usize = 32;

/// A story already read, as the near-duplicate index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryRef {
    pub feed_url: String,
    pub entry_id: String,
    pub link: Option<String>,
    pub outlet: String,
}

pub struct State {
    conn: Connection,
}

/// Brings a database made by an older version up to this schema.
fn migrate(conn: &Connection) -> Result<()> {
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
    Ok(())
}

/// The statements of one [`State::record`].
fn write_record(tx: &Connection, rec: &ArticleRecord<'_>, now_s: &str) -> Result<()> {
    let rowid = tx.prepare_cached("INSERT INTO entries (feed_url, entry_id, content_hash, title, link, published, status, attempts, error, relevant, seen_at,
               fingerprint, outlet, dup_of)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(feed_url, entry_id) DO UPDATE SET content_hash = excluded.content_hash, title = excluded.title,
               link = excluded.link, status = excluded.status, attempts = entries.attempts + 1, error = excluded.error,
               relevant = excluded.relevant, seen_at = excluded.seen_at, fingerprint = excluded.fingerprint,
               outlet = excluded.outlet, dup_of = excluded.dup_of
             RETURNING rowid")?.query_row(params![
                rec.feed_url,
                rec.entry_id,
                rec.content_hash,
                rec.title,
                rec.link,
                rec.published.map(ts),
                rec.status.as_str(),
                rec.error,
                rec.relevant,
                now_s,
                rec.fingerprint.map(|f| f.to_bytes()),
                rec.outlet,
                rec.dup_of
            ], |r| r.get::<_, i64>(0))?;
    // the story's search keys: replaced for an entry read again, none for
    // a copy (the search finds originals)
    tx.prepare_cached("DELETE FROM story_bands WHERE entry = ?1")?
        .execute(params![rowid])?;
    if let (Some(sig), None) = (&rec.fingerprint, rec.dup_of) {
        let mut ins =
            tx.prepare_cached("INSERT OR IGNORE INTO story_bands (key, entry) VALUES (?1, ?2)")?;
        for k in sig.band_keys() {
            ins.execute(params![k, rowid])?;
        }
    }
    for c in rec.claims {
        tx.prepare_cached("INSERT INTO claims (feed_url, entry_id, actor, topic, stance, speaker, confidence, sentence, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?.execute(params![rec.feed_url, rec.entry_id, c.actor, c.topic, c.stance.as_str(), c.speaker, c.confidence, c.sentence, now_s])?;
    }
    let source = rec.link.unwrap_or(rec.entry_id);
    let insert_source = |r: &Report, status: &str, history: Option<i64>| -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO sources (actor, topic, from_stance, stance, site, url, outlet, sentence, confidence, seen_at, status, history)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            r.actor,
            r.topic,
            r.from.map(|f| f.as_str()),
            r.to.as_str(),
            r.site,
            r.url,
            r.outlet,
            r.sentence,
            r.confidence,
            now_s,
            status,
            history
        ])?;
        Ok(())
    };
    for s in rec.shifts {
        tx.prepare_cached("INSERT INTO ledger (actor, topic, stance, sentence, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(actor, topic) DO UPDATE SET stance = excluded.stance, sentence = excluded.sentence,
                   source = excluded.source, updated_at = excluded.updated_at")?.execute(params![s.actor, s.topic, s.to.as_str(), s.sentence, source, now_s])?;
        let history = tx.prepare_cached("INSERT INTO ledger_history (actor, topic, from_stance, to_stance, sentence, source, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 RETURNING id")?.query_row(params![s.actor, s.topic, s.from.map(|f| f.as_str()), s.to.as_str(), s.sentence, source, now_s], |r| r.get::<_, i64>(0))?;
        // the reports that waited for this move confirm it now
        tx.prepare_cached(
            "UPDATE sources SET status = 'confirmed', history = ?4
             WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND status = 'pending'",
        )?
        .execute(params![s.actor, s.topic, s.to.as_str(), history])?;
        for r in rec
            .reports
            .iter()
            .filter(|r| r.kind == ReportKind::Confirmed && r.actor == s.actor && r.topic == s.topic)
        {
            insert_source(r, "confirmed", Some(history))?;
        }
    }
    for r in rec.reports {
        match r.kind {
            ReportKind::Confirmed => {}
            ReportKind::Pending => insert_source(r, "pending", None)?,
            ReportKind::Repeat => {
                // once per link and stance: a page read again adds nothing
                let known: bool = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM sources WHERE actor = ?1 AND topic = ?2 AND stance = ?3
                           AND url IS ?4 AND status IN ('confirmed', 'repeat'))",
                    )?
                    .query_row(params![r.actor, r.topic, r.to.as_str(), r.url], |x| x.get(0))?;
                if !known {
                    let history: Option<i64> = tx
                        .prepare_cached(
                            "SELECT MAX(id) FROM ledger_history WHERE actor = ?1 AND topic = ?2",
                        )?
                        .query_row(params![r.actor, r.topic], |x| x.get(0))?;
                    insert_source(r, "repeat", history)?;
                }
            }
        }
    }
    if let Some(a) = &rec.alert {
        tx.prepare_cached("INSERT INTO outbox (alert_key, subject, message, created_at, status, text_part, html_part, shift_headers)
                 VALUES (?1, ?2, ?3, ?4, 'owed', ?5, ?6, ?7)
                 ON CONFLICT(alert_key) DO NOTHING")?.execute(params![a.key, a.subject, a.raw, now_s, a.text, a.html, a.shift_headers.join("\n")])?;
    }
    Ok(())
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl State {
    /// Opens (creating if missing) the database file.
    pub fn open(path: &Path) -> Result<State> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create the state folder", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("{}: cannot open the state database", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // every statement of a pass stays prepared
        conn.set_prepared_statement_cache_capacity(32);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // a commit is on disk when it returns: an alert owed, or marked
        // sent, survives a power cut
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("{}: cannot create the schema", path.display()))?;
        migrate(&conn).with_context(|| format!("{}: cannot upgrade the schema", path.display()))?;
        Ok(State { conn })
    }

    /// Makes the stored ledger the baseline when the baseline changed (or
    /// on first use); later accepted shifts are kept while it is unchanged.
    pub fn init_ledger(
        &mut self,
        baseline: &Ledger,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let old: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'baseline'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if old.as_deref() == Some(fingerprint) {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM ledger", [])?;
        for c in baseline.cells() {
            let ev = c.evidence.first();
            tx.execute(
                "INSERT INTO ledger (actor, topic, stance, sentence, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    c.actor,
                    c.topic,
                    c.stance.as_str(),
                    ev.map(|e| e.sentence.as_str()).unwrap_or(""),
                    ev.map(|e| e.source.as_str()).unwrap_or("baseline"),
                    ts(now)
                ],
            )?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('baseline', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![fingerprint],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The current ledger: the baseline plus the shifts accepted since.
    /// How many ledger changes were ever recorded.
    pub fn ledger_changes(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM ledger_history", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    pub fn ledger(&self) -> Result<Ledger> {
        let mut stmt = self
            .conn
            .prepare("SELECT actor, topic, stance, sentence, source FROM ledger")?;
        let mut l = Ledger::default();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (actor, topic, stance, sentence, source) = row?;
            let Some(stance) = Stance::parse(&stance) else {
                continue;
            };
            l.set(Cell {
                actor,
                topic,
                stance,
                evidence: vec![Evidence {
                    source,
                    sentence,
                    confidence: 1.0,
                    stance_words: Vec::new(),
                }],
                date: None,
            });
        }
        Ok(l)
    }

    pub fn feed(&self, url: &str) -> Result<FeedRow> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT title, etag, last_modified, last_success, last_error, failures, next_poll, ttl FROM feeds WHERE url = ?1",
            )?
            .query_row(
                params![url],
                |r| {
                    Ok(FeedRow {
                        url: url.to_string(),
                        title: r.get(0)?,
                        validators: Validators {
                            etag: r.get(1)?,
                            last_modified: r.get(2)?,
                        },
                        last_success: time(r.get(3)?),
                        last_error: r.get(4)?,
                        failures: r.get(5)?,
                        next_poll: time(r.get(6)?),
                        known: true,
                        ttl: r
                            .get::<_, Option<i64>>(7)?
                            .map(|s| Duration::from_secs(s.max(0) as u64)),
                    })
                },
            )
            .optional()?;
        Ok(row.unwrap_or(FeedRow {
            url: url.to_string(),
            ..FeedRow::default()
        }))
    }

    pub fn feed_ok(
        &self,
        url: &str,
        title: Option<&str>,
        body: Option<(&Validators, Option<Duration>)>,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<()> {
        // validators and TTL change only with a new body (not on a 304)
        let v = body.map(|b| b.0);
        let ttl = body.and_then(|b| b.1).map(|t| t.as_secs() as i64);
        self.conn.prepare_cached(
            "INSERT INTO feeds (url, title, etag, last_modified, last_success, failures, next_poll, first_seen, ttl)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?5, ?8)
             ON CONFLICT(url) DO UPDATE SET
               title = COALESCE(excluded.title, feeds.title),
               etag = CASE WHEN ?7 THEN excluded.etag ELSE feeds.etag END,
               last_modified = CASE WHEN ?7 THEN excluded.last_modified ELSE feeds.last_modified END,
               ttl = CASE WHEN ?7 THEN excluded.ttl ELSE feeds.ttl END,
               last_success = excluded.last_success, failures = 0, next_poll = excluded.next_poll",
        )?.execute(
            params![
                url,
                title,
                v.and_then(|v| v.etag.clone()),
                v.and_then(|v| v.last_modified.clone()),
                ts(now),
                ts(next),
                v.is_some(),
                ttl
            ],
        )?;
        Ok(())
    }

    pub fn feed_failed(
        &self,
        url: &str,
        error: &str,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO feeds (url, last_error, last_error_at, failures, next_poll, first_seen)
             VALUES (?1, ?2, ?3, 1, ?4, ?3)
             ON CONFLICT(url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at,
               failures = feeds.failures + 1, next_poll = excluded.next_poll",
            params![url, error, ts(now), ts(next)],
        )?;
        Ok(self.conn.query_row(
            "SELECT failures FROM feeds WHERE url = ?1",
            params![url],
            |r| r.get(0),
        )?)
    }

    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        let mut stmt = self.conn.prepare("SELECT url FROM feeds ORDER BY url")?;
        let urls: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        urls.iter().map(|u| self.feed(u)).collect()
    }

    pub fn entry(&self, feed_url: &str, entry_id: &str) -> Result<Option<EntryRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT content_hash, status, attempts FROM entries WHERE feed_url = ?1 AND entry_id = ?2",
            )?
            .query_row(
                params![feed_url, entry_id],
                |r| {
                    Ok(EntryRow {
                        content_hash: r.get(0)?,
                        status: EntryStatus::parse(&r.get::<_, String>(1)?),
                        attempts: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records an entry's outcome: claims, ledger changes and the owed alert
    /// in one transaction.
    pub fn record(&mut self, rec: &ArticleRecord<'_>, now: DateTime<Utc>) -> Result<()> {
        if self.conn.is_autocommit() {
            let tx = self.conn.transaction()?;
            write_record(&tx, rec, &ts(now))?;
            tx.commit()?;
        } else {
            // inside an open batch, which commits or rolls back as a whole
            write_record(&self.conn, rec, &ts(now))?;
        }
        Ok(())
    }

    /// The story read since `since` that `sig` repeats: of the
    /// [`CANDIDATES`] stories sharing most band keys with it, the most
    /// similar at or above the threshold, other than the entry `(feed_url,
    /// entry_id)` itself. Originals only: a copy points at its original.
    pub fn find_story(
        &self,
        sig: &Signature,
        since: DateTime<Utc>,
        feed_url: &str,
        entry_id: &str,
    ) -> Result<Option<StoryRef>> {
        let keys = sig.band_keys();
        let placeholders = vec!["?"; keys.len()].join(",");
        let sql = format!(
            "SELECT e.fingerprint, e.feed_url, e.entry_id, e.link, COALESCE(e.outlet, '')
             FROM (SELECT entry, COUNT(*) AS shared FROM story_bands WHERE key IN ({placeholders})
                   GROUP BY entry ORDER BY shared DESC, entry LIMIT {CANDIDATES}) b
             CROSS JOIN entries e ON e.rowid = b.entry
             WHERE e.dup_of IS NULL AND e.fingerprint IS NOT NULL AND +e.seen_at >= ?
               AND NOT (e.feed_url = ? AND e.entry_id = ?)
             ORDER BY e.rowid"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut args: Vec<rusqlite::types::Value> = keys.iter().map(|k| (*k).into()).collect();
        args.push(ts(since).into());
        args.push(feed_url.to_string().into());
        args.push(entry_id.to_string().into());
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut best: Option<(f64, StoryRef)> = None;
        while let Some(r) = rows.next()? {
            let Some(other) = Signature::from_bytes(&r.get::<_, Vec<u8>>(0)?) else {
                continue;
            };
            let sim = sig.similarity(&other);
            if sim >= crate::neardup::THRESHOLD && best.as_ref().is_none_or(|b| sim > b.0) {
                best = Some((
                    sim,
                    StoryRef {
                        feed_url: r.get(1)?,
                        entry_id: r.get(2)?,
                        link: r.get(3)?,
                        outlet: r.get(4)?,
                    },
                ));
            }
        }
        Ok(best.map(|b| b.1))
    }

    /// Whether any story is kept for the near-duplicate search.
    pub fn has_stories(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM story_bands)", [], |r| {
                r.get(0)
            })?)
    }

    /// Forgets what is older than `before`: read entries, their claims and
    /// story keys, and delivered or failed alerts. The ledger and its history
    /// stay whole; owed alerts stay. Each step uses an index on time, so the
    /// cost follows what is forgotten, not the database's age.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<Pruned> {
        let b = ts(before);
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM story_bands WHERE entry IN (SELECT rowid FROM entries WHERE seen_at < ?1)",
            params![b],
        )?;
        let entries = tx.execute(
            "DELETE FROM entries WHERE seen_at < ?1 AND status <> 'pending'",
            params![b],
        )?;
        let claims = tx.execute("DELETE FROM claims WHERE recorded_at < ?1", params![b])?;
        let alerts = tx.execute(
            "DELETE FROM outbox WHERE created_at < ?1 AND status IN ('sent', 'failed')",
            params![b],
        )?;
        // the sources of confirmed moves are their evidence and stay
        tx.execute(
            "DELETE FROM sources WHERE seen_at < ?1 AND status IN ('repeat', 'expired')",
            params![b],
        )?;
        tx.commit()?;
        Ok(Pruned {
            entries,
            claims,
            alerts,
        })
    }

    /// Reports still waiting since before `before` expire: dropped from the
    /// waiting moves, kept as what they were.
    pub fn expire_pending(&self, before: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE sources SET status = 'expired' WHERE status = 'pending' AND seen_at < ?1",
            params![ts(before)],
        )?)
    }

    /// The reports waiting for a move (cell and new stance).
    pub fn pending_sources(
        &self,
        actor: &str,
        topic: &str,
        stance: Stance,
    ) -> Result<Vec<SourceRow>> {
        self.sources_with(actor, topic, stance, "pending")
    }

    fn sources_with(
        &self,
        actor: &str,
        topic: &str,
        stance: Stance,
        status: &str,
    ) -> Result<Vec<SourceRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT site, url, outlet, sentence, confidence, seen_at FROM sources
             WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND status = ?4 ORDER BY id",
        )?;
        let rows = st.query_map(params![actor, topic, stance.as_str(), status], source_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The ledger as it stands, cell by cell, with the sources of each.
    pub fn positions(&self) -> Result<Vec<PositionRow>> {
        let mut st = self.conn.prepare(
            "SELECT l.actor, l.topic, l.stance, l.updated_at, l.sentence, l.source,
                    (SELECT MAX(id) FROM ledger_history h WHERE h.actor = l.actor AND h.topic = l.topic)
             FROM ledger l ORDER BY l.actor, l.topic",
        )?;
        let rows: Vec<(PositionRow, Option<i64>)> = st
            .query_map([], |r| {
                Ok((
                    PositionRow {
                        actor: r.get(0)?,
                        topic: r.get(1)?,
                        stance: Stance::parse(&r.get::<_, String>(2)?).unwrap_or(Stance::Supports),
                        since: time(r.get(3)?).unwrap_or(DateTime::<Utc>::MIN_UTC),
                        sentence: r.get(4)?,
                        source: r.get(5)?,
                        sources: Vec::new(),
                    },
                    r.get(6)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut src = self.conn.prepare(
            "SELECT site, url, outlet, sentence, confidence, seen_at FROM sources
             WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND history IS ?4
               AND status IN ('confirmed', 'repeat') ORDER BY id",
        )?;
        let mut out = Vec::new();
        for (mut row, last) in rows {
            row.sources = src
                .query_map(
                    params![row.actor, row.topic, row.stance.as_str(), last],
                    source_row,
                )?
                .collect::<Result<_, _>>()?;
            out.push(row);
        }
        Ok(out)
    }

    /// The moves waiting for corroboration, oldest first.
    pub fn pending_moves(&self) -> Result<Vec<PendingMove>> {
        self.moves("pending", None)
    }

    /// The moves dropped because they were not corroborated within the
    /// window; of one cell, or all. They are kept (as long as `state.keep`)
    /// so that `history` can show what was seen and not taken.
    pub fn expired_moves(&self, cell: Option<(&str, &str)>) -> Result<Vec<PendingMove>> {
        self.moves("expired", cell)
    }

    /// The moves whose reports have `status`, grouped by (cell, new stance).
    fn moves(&self, status: &str, cell: Option<(&str, &str)>) -> Result<Vec<PendingMove>> {
        let (a, t) = cell.unwrap_or(("", ""));
        let mut st = self.conn.prepare_cached(
            "SELECT actor, topic, stance, MIN(from_stance), MIN(seen_at) FROM sources
             WHERE status = ?1 AND (?2 = '' OR (actor = ?2 AND topic = ?3))
             GROUP BY actor, topic, stance ORDER BY MIN(seen_at)",
        )?;
        let moves: Vec<PendingMove> = st
            .query_map(params![status, a, t], |r| {
                Ok(PendingMove {
                    actor: r.get(0)?,
                    topic: r.get(1)?,
                    to: Stance::parse(&r.get::<_, String>(2)?).unwrap_or(Stance::Supports),
                    from: r
                        .get::<_, Option<String>>(3)?
                        .as_deref()
                        .and_then(Stance::parse),
                    first_seen: time(r.get(4)?).unwrap_or(DateTime::<Utc>::MIN_UTC),
                    sources: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(moves.len());
        for mut m in moves {
            m.sources = self.sources_with(&m.actor, &m.topic, m.to, status)?;
            out.push(m);
        }
        Ok(out)
    }

    /// The ledger's changes, oldest first; of one cell, or all.
    pub fn history(&self, cell: Option<(&str, &str)>) -> Result<Vec<HistoryRow>> {
        let (a, t) = cell.unwrap_or(("", ""));
        let mut st = self.conn.prepare(
            "SELECT id, actor, topic, from_stance, to_stance, sentence, source, at, by, note FROM ledger_history
             WHERE ?1 = '' OR (actor = ?1 AND topic = ?2) ORDER BY id",
        )?;
        let rows: Vec<HistoryRow> = st
            .query_map(params![a, t], |r| {
                Ok(HistoryRow {
                    id: r.get(0)?,
                    actor: r.get(1)?,
                    topic: r.get(2)?,
                    from: r
                        .get::<_, Option<String>>(3)?
                        .as_deref()
                        .and_then(Stance::parse),
                    to: Stance::parse(&r.get::<_, String>(4)?),
                    sentence: r.get(5)?,
                    source: r.get(6)?,
                    at: time(r.get(7)?).unwrap_or(DateTime::<Utc>::MIN_UTC),
                    by: r.get(8)?,
                    note: r.get(9)?,
                    sources: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut src = self.conn.prepare(
            "SELECT site, url, outlet, sentence, confidence, seen_at FROM sources
             WHERE history = ?1 AND status = 'confirmed' ORDER BY id",
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for mut h in rows {
            h.sources = src
                .query_map(params![h.id], source_row)?
                .collect::<Result<_, _>>()?;
            out.push(h);
        }
        Ok(out)
    }

    /// Sets a cell by hand (`None` removes it), recorded in the history as
    /// `by` with `note`. Returns the history row.
    #[allow(clippy::too_many_arguments)]
    pub fn set_cell(
        &mut self,
        actor: &str,
        topic: &str,
        stance: Option<Stance>,
        sentence: &str,
        source: &str,
        by: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let from: Option<String> = tx
            .query_row(
                "SELECT stance FROM ledger WHERE actor = ?1 AND topic = ?2",
                params![actor, topic],
                |r| r.get(0),
            )
            .optional()?;
        match stance {
            Some(st) => {
                tx.execute(
                    "INSERT INTO ledger (actor, topic, stance, sentence, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(actor, topic) DO UPDATE SET stance = excluded.stance, sentence = excluded.sentence,
                       source = excluded.source, updated_at = excluded.updated_at",
                    params![actor, topic, st.as_str(), sentence, source, ts(now)],
                )?;
            }
            None => {
                tx.execute(
                    "DELETE FROM ledger WHERE actor = ?1 AND topic = ?2",
                    params![actor, topic],
                )?;
            }
        }
        let id = tx.query_row(
            "INSERT INTO ledger_history (actor, topic, from_stance, to_stance, sentence, source, at, by, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            params![
                actor,
                topic,
                from,
                stance.map_or("none", |s| s.as_str()),
                sentence,
                source,
                ts(now),
                by,
                note
            ],
            |r| r.get::<_, i64>(0),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// The reports behind a history row are not taken again for the same
    /// move (an analyst reverted it).
    pub fn reject_sources_of(&self, history: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "INSERT OR IGNORE INTO rejections (actor, topic, stance, url)
             SELECT actor, topic, stance, url FROM sources WHERE history = ?1 AND url IS NOT NULL",
            params![history],
        )?)
    }

    /// Did an analyst revert this move as reported by this link?
    pub fn is_rejected(&self, actor: &str, topic: &str, stance: Stance, url: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM rejections WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND url = ?4)",
            )?
            .query_row(params![actor, topic, stance.as_str(), url], |r| r.get(0))?)
    }

    /// Drops the search keys of stories read before `before`.
    /// Only stories still remembered (with a fingerprint) are looked at, so
    /// the cost follows what is forgotten now, not how many entries are old.
    pub fn forget_stories(&mut self, before: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM story_bands WHERE entry IN
               (SELECT rowid FROM entries WHERE fingerprint IS NOT NULL AND seen_at < ?1)",
            params![ts(before)],
        )?;
        tx.execute(
            "UPDATE entries SET fingerprint = NULL WHERE fingerprint IS NOT NULL AND seen_at < ?1",
            params![ts(before)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Opens a batch: the records that follow are committed together by
    /// [`State::commit_batch`] (one write of the pages they share instead of
    /// one per article). Each record stays whole: a batch that is never
    /// committed loses whole articles, which are then read again. A batch
    /// left open by an aborted pass is rolled back first.
    pub fn begin_batch(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Rolls back the open batch, if any.
    pub fn rollback_batch(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    /// Commits the open batch, if any.
    pub fn commit_batch(&mut self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// Alerts owed and due now.
    /// The owed alerts whose retry time has come (all of them with `flush`).
    pub fn owed(&self, now: DateTime<Utc>, flush: bool) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, alert_key, subject, message, attempts, created_at, text_part, html_part, shift_headers FROM outbox
             WHERE status = 'owed' AND (?2 OR next_attempt IS NULL OR next_attempt <= ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![ts(now), flush], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                alert_key: r.get(1)?,
                subject: r.get(2)?,
                message: r.get(3)?,
                attempts: r.get(4)?,
                created_at: time(r.get(5)?).unwrap_or(DateTime::<Utc>::MIN_UTC),
                text: r.get(6)?,
                html: r.get(7)?,
                shift_headers: r.get::<_, String>(8)?.lines().map(str::to_string).collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queues an alert that records no shift (a feed-health notice).
    pub fn queue(&self, a: &NewAlert, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "INSERT INTO outbox (alert_key, subject, message, created_at, status, text_part, html_part, shift_headers)
             VALUES (?1, ?2, ?3, ?4, 'owed', ?5, ?6, '') ON CONFLICT(alert_key) DO NOTHING",
            params![a.key, a.subject, a.raw, ts(now), a.text, a.html],
        )?;
        Ok(())
    }

    /// Replaces the message of an alert still owed (same key, new content).
    pub fn update_owed(&self, key: &str, raw: &[u8], text: &str, html: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET message = ?2, text_part = ?3, html_part = ?4 WHERE alert_key = ?1 AND status = 'owed'",
            params![key, raw, text, html],
        )?;
        Ok(())
    }

    /// Marks alerts sent together (a digest), in one transaction.
    pub fn mark_all_sent(&mut self, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL,
                   text_part = '', html_part = '' WHERE id = ?1",
                params![id, ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL,
               text_part = '', html_part = '' WHERE id = ?1",
            params![id, ts(now)],
        )?;
        Ok(())
    }

    /// A failed attempt: `permanent` keeps it as failed, else it is retried at `next`.
    pub fn mark_attempt_failed(
        &self,
        id: i64,
        error: &str,
        permanent: bool,
        next: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = CASE WHEN ?3 THEN 'failed' ELSE 'owed' END, attempts = attempts + 1,
               last_error = ?2, next_attempt = ?4 WHERE id = ?1",
            params![id, error, permanent, ts(next)],
        )?;
        Ok(())
    }

    /// (owed, sent, failed) alert counts.
    pub fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        let count = |s: &str| -> Result<i64> {
            Ok(self.conn.query_row(
                "SELECT COUNT(*) FROM outbox WHERE status = ?1",
                params![s],
                |r| r.get(0),
            )?)
        };
        Ok((count("owed")?, count("sent")?, count("failed")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flush_takes_every_owed_alert_and_a_pass_only_the_due_ones() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("s.db")).unwrap();
        let now = Utc::now();
        let alert = NewAlert {
            key: "k1".into(),
            subject: "s".into(),
            raw: b"m".to_vec(),
            text: String::new(),
            html: String::new(),
            shift_headers: Vec::new(),
        };
        state.queue(&alert, now).unwrap();
        let row = state.owed(now, false).unwrap().remove(0);
        state
            .mark_attempt_failed(row.id, "451 later", false, now + chrono::Duration::hours(1))
            .unwrap();
        assert!(state.owed(now, false).unwrap().is_empty());
        assert_eq!(state.owed(now, true).unwrap().len(), 1);
    }

    #[test]
    fn pruning_forgets_old_entries_claims_and_delivered_alerts_and_keeps_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::open(&dir.path().join("s.db")).unwrap();
        let c = &state.conn;
        for (id, seen) in [
            ("old", "2020-01-01T00:00:00Z"),
            ("new", "2030-01-01T00:00:00Z"),
        ] {
            c.execute(
                "INSERT INTO entries (feed_url, entry_id, content_hash, title, status, seen_at, fingerprint)
                 VALUES ('f', ?1, 'h', 't', 'analysed', ?2, x'00')",
                params![id, seen],
            )
            .unwrap();
            c.execute(
                "INSERT INTO claims (feed_url, entry_id, actor, topic, stance, speaker, confidence, sentence, recorded_at)
                 VALUES ('f', ?1, 'a', 't', 'supports', 'a', 0.9, 's', ?2)",
                params![id, seen],
            )
            .unwrap();
        }
        for (key, status) in [("sent", "sent"), ("owed", "owed"), ("failed", "failed")] {
            c.execute(
                "INSERT INTO outbox (alert_key, subject, message, created_at, status) VALUES (?1, 's', x'00', '2020-01-01T00:00:00Z', ?2)",
                params![key, status],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO ledger_history (actor, topic, to_stance, sentence, source, at) VALUES ('a', 't', 'supports', 's', 'x', '2020-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let cutoff = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let p = state.prune(cutoff).unwrap();
        assert_eq!((p.entries, p.claims, p.alerts), (1, 1, 2));
        let count = |state: &State, sql: &str| -> i64 {
            state.conn.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        assert_eq!(count(&state, "SELECT COUNT(*) FROM entries"), 1);
        assert_eq!(
            count(&state, "SELECT COUNT(*) FROM outbox WHERE status = 'owed'"),
            1
        );
        assert_eq!(
            state.ledger_changes().unwrap(),
            1,
            "the ledger's history stays whole"
        );
        // stories are forgotten once
        state.forget_stories(cutoff).unwrap();
        assert_eq!(
            count(
                &state,
                "SELECT COUNT(*) FROM entries WHERE fingerprint IS NOT NULL"
            ),
            1
        );
    }

    #[test]
    fn a_rolled_back_batch_leaves_the_database_free_for_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut state = State::open(&path).unwrap();
        state.begin_batch().unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        assert!(
            other.execute_batch("BEGIN IMMEDIATE").is_err(),
            "the batch holds the write lock"
        );
        state.rollback_batch().unwrap();
        other.execute_batch("BEGIN IMMEDIATE; ROLLBACK").unwrap();
    }
}
