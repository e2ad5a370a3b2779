//! The state: feeds and their validators, entries seen, claims, the
//! current ledger with its history, and the outbox of owed alerts; in an
//! SQLite file, or in a PostgreSQL database several processes share.
//!
//! All SQL lives here. An article's claims, the ledger changes its shifts
//! make and the alert they owe are written in one transaction; an alert is
//! marked sent only after the mail server accepted it.

mod db;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use db::{Db, Row, Value, args};
use schema::{SCHEMA, migrate};

use crate::analyze::{Claim, Stance};
use crate::compare::Shift;
use crate::fetch::Validators;
use crate::ledger::{Cell, Evidence, Ledger};
use crate::neardup::Signature;

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
    /// Until when another process has claimed it (PostgreSQL).
    pub claimed_until: Option<DateTime<Utc>>,
}

/// An exclusive hold on one state file for the length of a pass (an
/// advisory lock on `STATE.lock`, released when dropped or when the process
/// dies).
pub enum PassLock {
    File(std::fs::File),
    Shared,
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
            Ok(()) => Ok(Some(PassLock::File(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::new(e).context(format!("{}: cannot lock", path.display())))
            }
        }
    }

    /// Takes the lock of the state at `at`, or `None` when another process
    /// holds it. A PostgreSQL state has no such lock: processes share its
    /// feeds and alerts by claiming them.
    pub fn try_acquire_at(at: &Location) -> Result<Option<PassLock>> {
        match at {
            Location::File(p) => PassLock::try_acquire(p),
            Location::Server { .. } => Ok(Some(PassLock::Shared)),
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

/// The state of one deployment: an SQLite file, or a PostgreSQL database
/// that several processes share.
pub struct State {
    db: Db,
}

/// Where the state is kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// An SQLite file (created with its folder when missing).
    File(PathBuf),
    /// A PostgreSQL database (`postgresql://…`), with the password when it
    /// is not in the address.
    Server {
        url: String,
        password: Option<String>,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Server { url, .. } => f.write_str(&db::redact(url)),
        }
    }
}

fn source_row(r: &Row) -> SourceRow {
    SourceRow {
        site: r.text(0),
        url: r.opt_text(1),
        outlet: r.opt_text(2),
        sentence: r.text(3),
        confidence: r.real(4),
        seen_at: time(r.opt_text(5)).unwrap_or(DateTime::<Utc>::MIN_UTC),
    }
}

const SOURCE_COLUMNS: &str = "site, url, outlet, sentence, confidence, seen_at";

const OUTBOX_COLUMNS: &str =
    "id, alert_key, subject, message, attempts, created_at, text_part, html_part, shift_headers";

fn outbox_row(r: &Row) -> OutboxRow {
    OutboxRow {
        id: r.int(0),
        alert_key: r.text(1),
        subject: r.text(2),
        message: r.blob(3).unwrap_or_default(),
        attempts: r.int(4),
        created_at: time(r.opt_text(5)).unwrap_or(DateTime::<Utc>::MIN_UTC),
        text: r.text(6),
        html: r.text(7),
        shift_headers: r.text(8).lines().map(str::to_string).collect(),
    }
}

/// The statements of one [`State::record`].
fn write_record(db: &Db, rec: &ArticleRecord<'_>, now_s: &str) -> Result<()> {
    let rowid = db
        .one(
            "INSERT INTO entries (feed_url, entry_id, content_hash, title, link, published, status, attempts, error, relevant, seen_at,
               fingerprint, outlet, dup_of)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(feed_url, entry_id) DO UPDATE SET content_hash = excluded.content_hash, title = excluded.title,
               link = excluded.link, status = excluded.status, attempts = entries.attempts + 1, error = excluded.error,
               relevant = excluded.relevant, seen_at = excluded.seen_at, fingerprint = excluded.fingerprint,
               outlet = excluded.outlet, dup_of = excluded.dup_of
             RETURNING rowid",
            args![
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
            ],
        )?
        .int(0);
    // the story's search keys: replaced for an entry read again, none for
    // a copy (the search finds originals)
    db.exec("DELETE FROM story_bands WHERE entry = ?1", args![rowid])?;
    if let (Some(sig), None) = (&rec.fingerprint, rec.dup_of) {
        for k in sig.band_keys() {
            db.exec(
                "INSERT INTO story_bands (key, entry) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![k, rowid],
            )?;
        }
    }
    for c in rec.claims {
        db.exec(
            "INSERT INTO claims (feed_url, entry_id, actor, topic, stance, speaker, confidence, sentence, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            args![
                rec.feed_url,
                rec.entry_id,
                &c.actor,
                &c.topic,
                c.stance.as_str(),
                &c.speaker,
                c.confidence,
                &c.sentence,
                now_s
            ],
        )?;
    }
    let source = rec.link.unwrap_or(rec.entry_id);
    let insert_source = |r: &Report, status: &str, history: Option<i64>| -> Result<()> {
        db.exec(
            "INSERT INTO sources (actor, topic, from_stance, stance, site, url, outlet, sentence, confidence, seen_at, status, history)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            args![
                &r.actor,
                &r.topic,
                r.from.map(|f| f.as_str()),
                r.to.as_str(),
                &r.site,
                r.url.as_deref(),
                r.outlet.as_deref(),
                &r.sentence,
                r.confidence,
                now_s,
                status,
                history
            ],
        )?;
        Ok(())
    };
    for s in rec.shifts {
        db.exec(
            "INSERT INTO ledger (actor, topic, stance, sentence, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(actor, topic) DO UPDATE SET stance = excluded.stance, sentence = excluded.sentence,
               source = excluded.source, updated_at = excluded.updated_at",
            args![&s.actor, &s.topic, s.to.as_str(), &s.sentence, source, now_s],
        )?;
        let history = db
            .one(
                "INSERT INTO ledger_history (actor, topic, from_stance, to_stance, sentence, source, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                args![
                    &s.actor,
                    &s.topic,
                    s.from.map(|f| f.as_str()),
                    s.to.as_str(),
                    &s.sentence,
                    source,
                    now_s
                ],
            )?
            .int(0);
        // the reports that waited for this move confirm it now
        db.exec(
            "UPDATE sources SET status = 'confirmed', history = ?4
             WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND status = 'pending'",
            args![&s.actor, &s.topic, s.to.as_str(), history],
        )?;
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
                // by link: a cell repeated by thousands of articles is
                // searched by the one link, not scanned
                let same_link = if r.url.is_some() {
                    "url = ?4"
                } else {
                    "url IS NULL AND ?4 IS NULL"
                };
                let known = db
                    .one(
                        &format!(
                            "SELECT EXISTS (SELECT 1 FROM sources WHERE {same_link} AND actor = ?1 AND topic = ?2
                               AND stance = ?3 AND status IN ('confirmed', 'repeat'))"
                        ),
                        args![&r.actor, &r.topic, r.to.as_str(), r.url.as_deref()],
                    )?
                    .bool(0);
                if !known {
                    let history = db
                        .one(
                            "SELECT MAX(id) FROM ledger_history WHERE actor = ?1 AND topic = ?2",
                            args![&r.actor, &r.topic],
                        )?
                        .opt_int(0);
                    insert_source(r, "repeat", history)?;
                }
            }
        }
    }
    if let Some(a) = &rec.alert {
        db.exec(
            "INSERT INTO outbox (alert_key, subject, message, created_at, status, text_part, html_part, shift_headers)
             VALUES (?1, ?2, ?3, ?4, 'owed', ?5, ?6, ?7)
             ON CONFLICT(alert_key) DO NOTHING",
            args![
                &a.key,
                &a.subject,
                a.raw.as_slice(),
                now_s,
                &a.text,
                &a.html,
                a.shift_headers.join("\n")
            ],
        )?;
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
        Ok(State {
            db: Db::Sqlite(conn),
        })
    }

    /// Opens the state where the configuration keeps it: a file, or a
    /// PostgreSQL database (its schema created or upgraded on first use).
    pub fn open_at(at: &Location) -> Result<State> {
        match at {
            Location::File(p) => State::open(p),
            Location::Server { url, password } => {
                let pg = db::Pg::connect(url, password.as_deref())?;
                let mut db = Db::Postgres { pg, in_tx: false };
                schema::migrate_postgres(&mut db)
                    .with_context(|| format!("{at}: cannot create or upgrade the schema"))?;
                Ok(State { db })
            }
        }
    }

    /// Whether the state is a server shared with other processes.
    pub fn is_shared(&self) -> bool {
        self.db.is_postgres()
    }

    /// Makes the stored ledger the baseline when the baseline changed (or
    /// on first use); later accepted shifts are kept while it is unchanged.
    pub fn init_ledger(
        &mut self,
        baseline: &Ledger,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let fingerprint = fingerprint.to_string();
        self.db.atomically(|db| {
            // two processes starting at once: the second waits and finds
            // the first one's baseline
            if db.is_postgres() {
                db.exec("LOCK TABLE meta IN SHARE ROW EXCLUSIVE MODE", args![])?;
            }
            let old = db
                .row("SELECT value FROM meta WHERE key = 'baseline'", args![])?
                .map(|r| r.text(0));
            if old.as_deref() == Some(fingerprint.as_str()) {
                return Ok(false);
            }
            db.exec("DELETE FROM ledger", args![])?;
            for c in baseline.cells() {
                let ev = c.evidence.first();
                db.exec(
                    "INSERT INTO ledger (actor, topic, stance, sentence, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    args![
                        &c.actor,
                        &c.topic,
                        c.stance.as_str(),
                        ev.map(|e| e.sentence.as_str()).unwrap_or(""),
                        ev.map(|e| e.source.as_str()).unwrap_or("baseline"),
                        ts(now)
                    ],
                )?;
            }
            db.exec(
                "INSERT INTO meta (key, value) VALUES ('baseline', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                args![fingerprint.as_str()],
            )?;
            Ok(true)
        })
    }

    /// How many ledger changes were ever recorded.
    pub fn ledger_changes(&self) -> Result<u64> {
        let n = self
            .db
            .one("SELECT COUNT(*) FROM ledger_history", args![])?
            .int(0);
        Ok(n as u64)
    }

    /// The current ledger: the baseline plus the shifts accepted since.
    pub fn ledger(&self) -> Result<Ledger> {
        let mut l = Ledger::default();
        for r in self.db.query(
            "SELECT actor, topic, stance, sentence, source FROM ledger",
            args![],
        )? {
            let Some(stance) = Stance::parse(&r.text(2)) else {
                continue;
            };
            l.set(Cell {
                actor: r.text(0),
                topic: r.text(1),
                stance,
                evidence: vec![Evidence {
                    source: r.text(4),
                    sentence: r.text(3),
                    confidence: 1.0,
                    stance_words: Vec::new(),
                }],
                date: None,
            });
        }
        Ok(l)
    }

    pub fn feed(&self, url: &str) -> Result<FeedRow> {
        let row = self.db.row(
            "SELECT title, etag, last_modified, last_success, last_error, failures, next_poll, ttl, claimed_until
             FROM feeds WHERE url = ?1",
            args![url],
        )?;
        Ok(match row {
            Some(r) => FeedRow {
                url: url.to_string(),
                title: r.opt_text(0),
                validators: Validators {
                    etag: r.opt_text(1),
                    last_modified: r.opt_text(2),
                },
                last_success: time(r.opt_text(3)),
                last_error: r.opt_text(4),
                failures: r.int(5),
                next_poll: time(r.opt_text(6)),
                // polled before (a claimed feed may not have been yet)
                known: r.opt_text(3).is_some() || r.opt_text(4).is_some(),
                ttl: r.opt_int(7).map(|s| Duration::from_secs(s.max(0) as u64)),
                claimed_until: time(r.opt_text(8)),
            },
            None => FeedRow {
                url: url.to_string(),
                ..FeedRow::default()
            },
        })
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
        self.db.exec(
            "INSERT INTO feeds (url, title, etag, last_modified, last_success, failures, next_poll, first_seen, ttl)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?5, ?8)
             ON CONFLICT(url) DO UPDATE SET
               title = COALESCE(excluded.title, feeds.title),
               etag = CASE WHEN ?7 THEN excluded.etag ELSE feeds.etag END,
               last_modified = CASE WHEN ?7 THEN excluded.last_modified ELSE feeds.last_modified END,
               ttl = CASE WHEN ?7 THEN excluded.ttl ELSE feeds.ttl END,
               last_success = excluded.last_success, failures = 0, next_poll = excluded.next_poll,
               claimed_by = NULL, claimed_until = NULL",
            args![
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

    /// A feed answered and its new entries are being read: it counts as
    /// polled, stays due until they are all read (a pass that dies before
    /// leaves them to the next), and stays this process's.
    pub fn feed_reading(&self, url: &str, title: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        self.db.exec(
            "INSERT INTO feeds (url, title, last_success, failures, next_poll, first_seen)
             VALUES (?1, ?2, ?3, 0, ?3, ?3)
             ON CONFLICT(url) DO UPDATE SET title = COALESCE(excluded.title, feeds.title),
               last_success = excluded.last_success, failures = 0, next_poll = excluded.next_poll",
            args![url, title, ts(now)],
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
        Ok(self
            .db
            .one(
                "INSERT INTO feeds (url, last_error, last_error_at, failures, next_poll, first_seen)
                 VALUES (?1, ?2, ?3, 1, ?4, ?3)
                 ON CONFLICT(url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at,
                   failures = feeds.failures + 1, next_poll = excluded.next_poll,
                   claimed_by = NULL, claimed_until = NULL
                 RETURNING failures",
                args![url, error, ts(now), ts(next)],
            )?
            .int(0))
    }

    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        let urls: Vec<String> = self
            .db
            .query("SELECT url FROM feeds ORDER BY url", args![])?
            .iter()
            .map(|r| r.text(0))
            .collect();
        urls.iter().map(|u| self.feed(u)).collect()
    }

    pub fn entry(&self, feed_url: &str, entry_id: &str) -> Result<Option<EntryRow>> {
        Ok(self
            .db
            .row(
                "SELECT content_hash, status, attempts FROM entries WHERE feed_url = ?1 AND entry_id = ?2",
                args![feed_url, entry_id],
            )?
            .map(|r| EntryRow {
                content_hash: r.text(0),
                status: EntryStatus::parse(&r.text(1)),
                attempts: r.int(2),
            }))
    }

    /// Records an entry's outcome: claims, ledger changes and the owed alert
    /// in one transaction (or in the open batch, which commits or rolls back
    /// as a whole).
    pub fn record(&mut self, rec: &ArticleRecord<'_>, now: DateTime<Utc>) -> Result<()> {
        let now = ts(now);
        self.db.atomically(|db| write_record(db, rec, &now))
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
        let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("?{i}")).collect();
        let n = keys.len();
        // SQLite: `+` keeps the planner on the band keys, not the time index
        // SQLite: a cross join keeps the candidates first
        let (join, seen) = if self.db.is_postgres() {
            ("JOIN", "e.seen_at")
        } else {
            ("CROSS JOIN", "+e.seen_at")
        };
        let sql = format!(
            "SELECT e.fingerprint, e.feed_url, e.entry_id, e.link, COALESCE(e.outlet, '')
             FROM (SELECT entry, COUNT(*) AS shared FROM story_bands WHERE key IN ({})
                   GROUP BY entry ORDER BY shared DESC, entry LIMIT {CANDIDATES}) b
             {join} entries e ON e.rowid = b.entry
             WHERE e.dup_of IS NULL AND e.fingerprint IS NOT NULL AND {seen} >= ?{}
               AND NOT (e.feed_url = ?{} AND e.entry_id = ?{})
             ORDER BY e.rowid",
            placeholders.join(","),
            n + 1,
            n + 2,
            n + 3
        );
        let mut a: Vec<Value> = keys.iter().map(|k| Value::Int(*k)).collect();
        a.extend(args![ts(since), feed_url, entry_id]);
        let mut best: Option<(f64, StoryRef)> = None;
        for r in self.db.query(&sql, a)? {
            let Some(other) = r.blob(0).as_deref().and_then(Signature::from_bytes) else {
                continue;
            };
            let sim = sig.similarity(&other);
            if sim >= crate::neardup::THRESHOLD && best.as_ref().is_none_or(|b| sim > b.0) {
                best = Some((
                    sim,
                    StoryRef {
                        feed_url: r.text(1),
                        entry_id: r.text(2),
                        link: r.opt_text(3),
                        outlet: r.text(4),
                    },
                ));
            }
        }
        Ok(best.map(|b| b.1))
    }

    /// Whether any story is kept for the near-duplicate search.
    pub fn has_stories(&self) -> Result<bool> {
        Ok(self
            .db
            .one("SELECT EXISTS (SELECT 1 FROM story_bands)", args![])?
            .bool(0))
    }

    /// Forgets what is older than `before`: read entries, their claims and
    /// story keys, and delivered or failed alerts. The ledger and its history
    /// stay whole; owed alerts stay. Each step uses an index on time, so the
    /// cost follows what is forgotten, not the database's age.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<Pruned> {
        let b = ts(before);
        self.db.atomically(|db| {
            db.exec(
                "DELETE FROM story_bands WHERE entry IN (SELECT rowid FROM entries WHERE seen_at < ?1)",
                args![&b],
            )?;
            let entries = db.exec(
                "DELETE FROM entries WHERE seen_at < ?1 AND status <> 'pending'",
                args![&b],
            )?;
            let claims = db.exec("DELETE FROM claims WHERE recorded_at < ?1", args![&b])?;
            let alerts = db.exec(
                "DELETE FROM outbox WHERE created_at < ?1 AND status IN ('sent', 'failed')",
                args![&b],
            )?;
            // the sources of confirmed moves are their evidence and stay
            db.exec(
                "DELETE FROM sources WHERE seen_at < ?1 AND status IN ('repeat', 'expired')",
                args![&b],
            )?;
            Ok(Pruned {
                entries,
                claims,
                alerts,
            })
        })
    }

    /// Reports still waiting since before `before` expire: dropped from the
    /// waiting moves, kept as what they were.
    pub fn expire_pending(&self, before: DateTime<Utc>) -> Result<usize> {
        self.db.exec(
            "UPDATE sources SET status = 'expired' WHERE status = 'pending' AND seen_at < ?1",
            args![ts(before)],
        )
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
        Ok(self
            .db
            .query(
                &format!(
                    "SELECT {SOURCE_COLUMNS} FROM sources
                     WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND status = ?4 ORDER BY id"
                ),
                args![actor, topic, stance.as_str(), status],
            )?
            .iter()
            .map(source_row)
            .collect())
    }

    /// The ledger as it stands, cell by cell, with the sources of each.
    pub fn positions(&self) -> Result<Vec<PositionRow>> {
        let rows = self.db.query(
            "SELECT l.actor, l.topic, l.stance, l.updated_at, l.sentence, l.source,
                    (SELECT MAX(id) FROM ledger_history h WHERE h.actor = l.actor AND h.topic = l.topic)
             FROM ledger l ORDER BY l.actor, l.topic",
            args![],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut row = PositionRow {
                actor: r.text(0),
                topic: r.text(1),
                stance: Stance::parse(&r.text(2)).unwrap_or(Stance::Supports),
                since: time(r.opt_text(3)).unwrap_or(DateTime::<Utc>::MIN_UTC),
                sentence: r.text(4),
                source: r.text(5),
                sources: Vec::new(),
            };
            row.sources = self
                .db
                .query(
                    &format!(
                        "SELECT {SOURCE_COLUMNS} FROM sources
                         WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND history IS NOT DISTINCT FROM ?4
                           AND status IN ('confirmed', 'repeat') ORDER BY id"
                    ),
                    args![&row.actor, &row.topic, row.stance.as_str(), r.opt_int(6)],
                )?
                .iter()
                .map(source_row)
                .collect();
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
        let rows = self.db.query(
            "SELECT actor, topic, stance, MIN(from_stance), MIN(seen_at) FROM sources
             WHERE status = ?1 AND (?2 = '' OR (actor = ?2 AND topic = ?3))
             GROUP BY actor, topic, stance ORDER BY MIN(seen_at)",
            args![status, a, t],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut m = PendingMove {
                actor: r.text(0),
                topic: r.text(1),
                to: Stance::parse(&r.text(2)).unwrap_or(Stance::Supports),
                from: r.opt_text(3).as_deref().and_then(Stance::parse),
                first_seen: time(r.opt_text(4)).unwrap_or(DateTime::<Utc>::MIN_UTC),
                sources: Vec::new(),
            };
            m.sources = self.sources_with(&m.actor, &m.topic, m.to, status)?;
            out.push(m);
        }
        Ok(out)
    }

    /// The ledger's changes, oldest first; of one cell, or all.
    pub fn history(&self, cell: Option<(&str, &str)>) -> Result<Vec<HistoryRow>> {
        let (a, t) = cell.unwrap_or(("", ""));
        let rows = self.db.query(
            "SELECT id, actor, topic, from_stance, to_stance, sentence, source, at, by, note FROM ledger_history
             WHERE ?1 = '' OR (actor = ?1 AND topic = ?2) ORDER BY id",
            args![a, t],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = r.int(0);
            out.push(HistoryRow {
                id,
                actor: r.text(1),
                topic: r.text(2),
                from: r.opt_text(3).as_deref().and_then(Stance::parse),
                to: Stance::parse(&r.text(4)),
                sentence: r.text(5),
                source: r.text(6),
                at: time(r.opt_text(7)).unwrap_or(DateTime::<Utc>::MIN_UTC),
                by: r.text(8),
                note: r.opt_text(9),
                sources: self
                    .db
                    .query(
                        &format!(
                            "SELECT {SOURCE_COLUMNS} FROM sources
                             WHERE history = ?1 AND status = 'confirmed' ORDER BY id"
                        ),
                        args![id],
                    )?
                    .iter()
                    .map(source_row)
                    .collect(),
            });
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
        self.db.atomically(|db| {
            let from = db
                .row(
                    "SELECT stance FROM ledger WHERE actor = ?1 AND topic = ?2",
                    args![actor, topic],
                )?
                .map(|r| r.text(0));
            match stance {
                Some(st) => {
                    db.exec(
                        "INSERT INTO ledger (actor, topic, stance, sentence, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT(actor, topic) DO UPDATE SET stance = excluded.stance, sentence = excluded.sentence,
                           source = excluded.source, updated_at = excluded.updated_at",
                        args![actor, topic, st.as_str(), sentence, source, ts(now)],
                    )?;
                }
                None => {
                    db.exec(
                        "DELETE FROM ledger WHERE actor = ?1 AND topic = ?2",
                        args![actor, topic],
                    )?;
                }
            }
            Ok(db
                .one(
                    "INSERT INTO ledger_history (actor, topic, from_stance, to_stance, sentence, source, at, by, note)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                    args![
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
                )?
                .int(0))
        })
    }

    /// The reports behind a history row are not taken again for the same
    /// move (an analyst reverted it).
    pub fn reject_sources_of(&self, history: i64) -> Result<usize> {
        self.db.exec(
            "INSERT INTO rejections (actor, topic, stance, url)
             SELECT actor, topic, stance, url FROM sources WHERE history = ?1 AND url IS NOT NULL
             ON CONFLICT DO NOTHING",
            args![history],
        )
    }

    /// Did an analyst revert this move as reported by this link?
    pub fn is_rejected(&self, actor: &str, topic: &str, stance: Stance, url: &str) -> Result<bool> {
        Ok(self
            .db
            .one(
                "SELECT EXISTS (SELECT 1 FROM rejections WHERE actor = ?1 AND topic = ?2 AND stance = ?3 AND url = ?4)",
                args![actor, topic, stance.as_str(), url],
            )?
            .bool(0))
    }

    /// Drops the search keys of stories read before `before`.
    /// Only stories still remembered (with a fingerprint) are looked at, so
    /// the cost follows what is forgotten now, not how many entries are old.
    pub fn forget_stories(&mut self, before: DateTime<Utc>) -> Result<()> {
        let b = ts(before);
        self.db.atomically(|db| {
            db.exec(
                "DELETE FROM story_bands WHERE entry IN
                   (SELECT rowid FROM entries WHERE fingerprint IS NOT NULL AND seen_at < ?1)",
                args![&b],
            )?;
            db.exec(
                "UPDATE entries SET fingerprint = NULL WHERE fingerprint IS NOT NULL AND seen_at < ?1",
                args![&b],
            )?;
            Ok(())
        })
    }

    /// Opens a batch: the records that follow are committed together by
    /// [`State::commit_batch`] (one write of the pages they share instead of
    /// one per article). Each record stays whole: a batch that is never
    /// committed loses whole articles, which are then read again. A batch
    /// left open by an aborted pass is rolled back first.
    pub fn begin_batch(&mut self) -> Result<()> {
        self.db.rollback()?;
        self.db.begin()
    }

    /// Rolls back the open batch, if any.
    pub fn rollback_batch(&mut self) -> Result<()> {
        self.db.rollback()
    }

    /// Commits the open batch, if any.
    pub fn commit_batch(&mut self) -> Result<()> {
        self.db.commit()
    }

    /// The owed alerts whose retry time has come (all of them with `flush`).
    pub fn owed(&self, now: DateTime<Utc>, flush: bool) -> Result<Vec<OutboxRow>> {
        Ok(self
            .db
            .query(
                &format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox
                     WHERE status = 'owed' AND (?2 OR next_attempt IS NULL OR next_attempt <= ?1) ORDER BY id"
                ),
                args![ts(now), flush],
            )?
            .iter()
            .map(outbox_row)
            .collect())
    }

    /// The owed alerts this process is to send: on a file, [`State::owed`];
    /// on PostgreSQL, those it claims for `lease` (skipping any another
    /// process holds), so no two processes send one alert.
    pub fn take_owed(
        &self,
        now: DateTime<Utc>,
        flush: bool,
        me: &str,
        lease: Duration,
    ) -> Result<Vec<OutboxRow>> {
        if !self.db.is_postgres() {
            return self.owed(now, flush);
        }
        let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let mut rows: Vec<OutboxRow> = self
            .db
            .query(
                &format!(
                    "UPDATE outbox SET claimed_by = ?3, claimed_until = ?4
                     WHERE id IN (SELECT id FROM outbox
                       WHERE status = 'owed' AND (?2 OR next_attempt IS NULL OR next_attempt <= ?1)
                         AND (claimed_until IS NULL OR claimed_until < ?1)
                       ORDER BY id FOR UPDATE SKIP LOCKED)
                     RETURNING {OUTBOX_COLUMNS}"
                ),
                args![ts(now), flush, me, ts(until)],
            )?
            .iter()
            .map(outbox_row)
            .collect();
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Claims, for `lease`, the feeds among `urls` that are due (all of them
    /// without `only_due`) and that no other process holds; the claimed
    /// ones. On a file every feed is this process's: the pass lock keeps
    /// other passes out.
    ///
    /// Claims are committed at once, outside the open batch (which is
    /// committed first and opened again after): others see them now, and
    /// nothing else is held while they are taken.
    pub fn claim_feeds(
        &mut self,
        urls: &[String],
        only_due: bool,
        now: DateTime<Utc>,
        me: &str,
        lease: Duration,
    ) -> Result<std::collections::HashSet<String>> {
        if !self.db.is_postgres() {
            return Ok(urls.iter().cloned().collect());
        }
        let batch = self.db.in_transaction();
        if batch {
            self.db.commit()?;
        }
        let claimed = self.claim_now(urls, only_due, now, me, lease);
        if batch {
            self.db.begin()?;
        }
        claimed
    }

    fn claim_now(
        &self,
        urls: &[String],
        only_due: bool,
        now: DateTime<Utc>,
        me: &str,
        lease: Duration,
    ) -> Result<std::collections::HashSet<String>> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let mut claimed = std::collections::HashSet::new();
        for chunk in urls.chunks(500) {
            // a feed never polled gets its row, so it can be claimed
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(?{}, ?{})", i + 2, 1))
                .collect();
            let mut a: Vec<Value> = vec![ts(now).into()];
            a.extend(chunk.iter().map(Value::from));
            self.db.exec(
                &format!(
                    "INSERT INTO feeds (url, first_seen) VALUES {} ON CONFLICT DO NOTHING",
                    rows.join(", ")
                ),
                a,
            )?;
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 5)).collect();
            let mut a: Vec<Value> = args![ts(now), only_due, me, ts(until)];
            a.extend(chunk.iter().map(Value::from));
            for r in self.db.query(
                &format!(
                    "UPDATE feeds SET claimed_by = ?3, claimed_until = ?4
                     WHERE url IN (SELECT url FROM feeds
                       WHERE url IN ({})
                         AND (NOT ?2 OR next_poll IS NULL OR next_poll <= ?1)
                         AND (claimed_until IS NULL OR claimed_until < ?1)
                       FOR UPDATE SKIP LOCKED)
                     RETURNING url",
                    list.join(", ")
                ),
                a,
            )? {
                claimed.insert(r.text(0));
            }
        }
        Ok(claimed)
    }

    /// Extends this process's claims to `until` (a long pass keeps them).
    pub fn renew_claims(&self, me: &str, until: DateTime<Utc>) -> Result<()> {
        if self.db.is_postgres() {
            for table in ["feeds", "outbox"] {
                self.db.exec(
                    &format!("UPDATE {table} SET claimed_until = ?2 WHERE claimed_by = ?1"),
                    args![me, ts(until)],
                )?;
            }
        }
        Ok(())
    }

    /// Lets go of what this process claimed and did not finish.
    pub fn release_claims(&self, me: &str) -> Result<()> {
        if self.db.is_postgres() {
            for table in ["feeds", "outbox"] {
                self.db.exec(
                    &format!(
                        "UPDATE {table} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?1"
                    ),
                    args![me],
                )?;
            }
        }
        Ok(())
    }

    /// Before an article is compared with the ledger: on PostgreSQL, takes
    /// the ledger for the rest of the open transaction (other processes
    /// wait to change it) and, when another process changed it since
    /// `changes` was read, reads it again. On a file the pass lock already
    /// keeps the ledger to one pass.
    pub fn hold_ledger(&self, ledger: &mut Ledger, changes: &mut u64) -> Result<()> {
        if !self.db.is_postgres() {
            return Ok(());
        }
        self.db.exec(
            "SELECT pg_advisory_xact_lock(?1)",
            args![schema::LEDGER_LOCK],
        )?;
        let now = self.ledger_changes()?;
        if now != *changes {
            *ledger = self.ledger()?;
            *changes = now;
        }
        Ok(())
    }

    /// Queues an alert that records no shift (a feed-health notice).
    pub fn queue(&self, a: &NewAlert, now: DateTime<Utc>) -> Result<()> {
        self.db.exec(
            "INSERT INTO outbox (alert_key, subject, message, created_at, status, text_part, html_part, shift_headers)
             VALUES (?1, ?2, ?3, ?4, 'owed', ?5, ?6, '') ON CONFLICT(alert_key) DO NOTHING",
            args![&a.key, &a.subject, a.raw.as_slice(), ts(now), &a.text, &a.html],
        )?;
        Ok(())
    }

    /// Replaces the message of an alert still owed (same key, new content).
    pub fn update_owed(&self, key: &str, raw: &[u8], text: &str, html: &str) -> Result<()> {
        self.db.exec(
            "UPDATE outbox SET message = ?2, text_part = ?3, html_part = ?4 WHERE alert_key = ?1 AND status = 'owed'",
            args![key, raw, text, html],
        )?;
        Ok(())
    }

    /// Marks alerts sent together (a digest), in one transaction.
    pub fn mark_all_sent(&mut self, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
        let now = ts(now);
        self.db.atomically(|db| {
            for id in ids {
                mark_sent(db, *id, &now)?;
            }
            Ok(())
        })
    }

    pub fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        mark_sent(&self.db, id, &ts(now))
    }

    /// A failed attempt: `permanent` keeps it as failed, else it is retried at `next`.
    pub fn mark_attempt_failed(
        &self,
        id: i64,
        error: &str,
        permanent: bool,
        next: DateTime<Utc>,
    ) -> Result<()> {
        self.db.exec(
            "UPDATE outbox SET status = CASE WHEN ?3 THEN 'failed' ELSE 'owed' END, attempts = attempts + 1,
               last_error = ?2, next_attempt = ?4, claimed_by = NULL, claimed_until = NULL WHERE id = ?1",
            args![id, error, permanent, ts(next)],
        )?;
        Ok(())
    }

    /// (owed, sent, failed) alert counts.
    pub fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        let count = |s: &str| -> Result<i64> {
            Ok(self
                .db
                .one("SELECT COUNT(*) FROM outbox WHERE status = ?1", args![s])?
                .int(0))
        };
        Ok((count("owed")?, count("sent")?, count("failed")?))
    }
}

fn mark_sent(db: &Db, id: i64, now: &str) -> Result<()> {
    db.exec(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL,
           text_part = '', html_part = '', claimed_by = NULL, claimed_until = NULL WHERE id = ?1",
        args![id, now],
    )?;
    Ok(())
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
        let c = &state.db;
        for (id, seen) in [
            ("old", "2020-01-01T00:00:00Z"),
            ("new", "2030-01-01T00:00:00Z"),
        ] {
            c.exec(
                "INSERT INTO entries (feed_url, entry_id, content_hash, title, status, seen_at, fingerprint)
                 VALUES ('f', ?1, 'h', 't', 'analysed', ?2, x'00')",
                args![id, seen],
            )
            .unwrap();
            c.exec(
                "INSERT INTO claims (feed_url, entry_id, actor, topic, stance, speaker, confidence, sentence, recorded_at)
                 VALUES ('f', ?1, 'a', 't', 'supports', 'a', 0.9, 's', ?2)",
                args![id, seen],
            )
            .unwrap();
        }
        for (key, status) in [("sent", "sent"), ("owed", "owed"), ("failed", "failed")] {
            c.exec(
                "INSERT INTO outbox (alert_key, subject, message, created_at, status) VALUES (?1, 's', x'00', '2020-01-01T00:00:00Z', ?2)",
                args![key, status],
            )
            .unwrap();
        }
        c.exec(
            "INSERT INTO ledger_history (actor, topic, to_stance, sentence, source, at) VALUES ('a', 't', 'supports', 's', 'x', '2020-01-01T00:00:00Z')",
            args![],
        )
        .unwrap();
        let cutoff = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let p = state.prune(cutoff).unwrap();
        assert_eq!((p.entries, p.claims, p.alerts), (1, 1, 2));
        let count =
            |state: &State, sql: &str| -> i64 { state.db.one(sql, args![]).unwrap().int(0) };
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
