//! One pass over all feeds, shared by `check` and `run`.
//!
//! Feeds are fetched (conditional GET) and parsed as they answer; their new
//! entries queue up as pages, fetched concurrently within the politeness
//! limits; a page that has arrived is extracted and analysed on the
//! [`Analysts`] pool (one thread per core), then compared with the current
//! ledger and recorded here, in the pass's own task: claims, ledger changes
//! and owed alerts, committed in batches of about a second. New feeds are
//! asked for only while few pages wait, so memory does not grow with the
//! number of feeds. A feed's new validators are stored once all its new
//! entries are recorded. Then what is owed is delivered. A failing feed or
//! page is recorded and reported; the pass goes on.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use reqwest::Url;
use tracing::{debug, info, warn};

use crate::analysts::Analysts;
use crate::analyze::{self, Analysis, Stance};
use crate::article::Article;
use crate::compare::{self, Shift};
use crate::config::{Config, Delivery};
use crate::engine::Engine;
use crate::extract;
use crate::feed::{self, Entry};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::ledger::Ledger;
use crate::neardup::{self, KeyFilter, Signature};
use crate::notify::mailer::{Mailer, Outcome};
use crate::notify::render::{self, Alert, Matrix, Source};
use crate::state::{ArticleRecord, FeedRow, NewAlert, OutboxRow, PassLock, State, StoryRef};

/// How many times a page that fails to load is tried before the feed's own
/// summary is analysed instead.
const PAGE_ATTEMPTS: i64 = 3;

/// How long the records of one batch gather before they are committed.
const BATCH: Duration = Duration::from_secs(1);

/// How far back a syndicated copy is matched against stories already read.
const STORY_WINDOW_DAYS: i64 = 14;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Render alerts to files and record nothing.
    pub dry_run: bool,
    /// Poll only feeds whose next poll time has come (the daemon).
    pub only_due: bool,
    /// Draw a progress line on stderr (`check` on a terminal).
    pub progress: bool,
    /// Try every owed alert now, whatever its backoff (`check`: the person
    /// who runs it expects the queue flushed); the daemon keeps the backoff.
    pub flush: bool,
    /// How the caller stops a pass and sees it progress.
    pub control: Control,
}

/// A pass's link to whoever runs it: a stop request, and a heartbeat that
/// counts every feed, page and alert handled (the daemon's watchdog pings
/// only while it moves).
#[derive(Debug, Clone, Default)]
pub struct Control {
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    beats: Arc<AtomicU64>,
}

impl Control {
    /// A control and the sender that asks its pass to stop.
    pub fn new() -> (Control, tokio::sync::watch::Sender<bool>) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (
            Control {
                stop: Some(rx),
                beats: Arc::new(AtomicU64::new(0)),
            },
            tx,
        )
    }

    /// Whether a stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|r| *r.borrow())
    }

    /// Resolves once a stop is asked for (never, without a sender).
    pub async fn stopped(&self) {
        match &self.stop {
            Some(r) => {
                let mut r = r.clone();
                // a dropped sender can no longer ask: wait forever
                if r.wait_for(|v| *v).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }

    /// Counts one unit of progress.
    pub fn beat(&self) {
        self.beats.fetch_add(1, Ordering::Relaxed);
    }

    /// Units of progress so far.
    pub fn beats(&self) -> u64 {
        self.beats.load(Ordering::Relaxed)
    }
}

/// A one-line progress display on stderr, redrawn at most ten times a second.
struct Progress {
    on: bool,
    feeds_total: usize,
    feeds: usize,
    pages_total: usize,
    pages: usize,
    shifts: usize,
    last: Option<std::time::Instant>,
}

impl Progress {
    fn draw(&mut self, force: bool) {
        if !self.on {
            return;
        }
        let now = std::time::Instant::now();
        if !force
            && self
                .last
                .is_some_and(|l| now.duration_since(l) < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        let width = 24usize;
        let (done, total) = if self.pages_total > 0 {
            (self.feeds + self.pages, self.feeds_total + self.pages_total)
        } else {
            (self.feeds, self.feeds_total.max(1))
        };
        let filled = (done * width / total.max(1)).min(width);
        eprint!(
            "\r[{}{}] feeds {}/{}  pages {}/{}  shifts {}   ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.feeds,
            self.feeds_total,
            self.pages,
            self.pages_total,
            self.shifts
        );
    }

    fn finish(&mut self) {
        if self.on {
            self.draw(true);
            eprintln!();
        }
    }
}

/// What a pass did, folded into one report.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub feeds: usize,
    pub feeds_changed: usize,
    pub feeds_not_modified: usize,
    pub feeds_skipped: usize,
    pub feed_errors: Vec<(String, String)>,
    pub entries_new: usize,
    pub entries_old: usize,
    /// Articles that repeat a story already read (syndicated copies).
    pub duplicates: usize,
    pub page_errors: Vec<(String, String)>,
    pub articles: usize,
    pub relevant: usize,
    pub claims: usize,
    pub shifts: Vec<(String, Shift)>,
    pub alerts_sent: usize,
    pub alerts_failed: Vec<String>,
    pub alerts_owed: i64,
    pub dry_run_files: Vec<String>,
    pub elapsed: Duration,
    /// The pass was asked to stop before it finished.
    pub stopped: bool,
    /// When the first configured feed is next due.
    pub next_due: Option<DateTime<Utc>>,
}

impl Summary {
    pub fn one_line(&self) -> String {
        format!(
            "{} feeds ({} changed, {} unchanged, {} failing), {} new entries, {} relevant, {} shifts, {} alerts sent, {} owed",
            self.feeds,
            self.feeds_changed,
            self.feeds_not_modified,
            self.feed_errors.len(),
            self.entries_new,
            self.relevant,
            self.shifts.len(),
            self.alerts_sent,
            self.alerts_owed
        )
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::metrics::peak_rss_bytes() {
            Some(b) => writeln!(
                f,
                "pass finished in {:.1}s, peak memory {:.0} MiB",
                self.elapsed.as_secs_f64(),
                b as f64 / (1024.0 * 1024.0)
            )?,
            None => writeln!(f, "pass finished in {:.1}s", self.elapsed.as_secs_f64())?,
        }
        if self.stopped {
            writeln!(
                f,
                "stopped before the end: entries not read yet are read next time, owed alerts stay owed"
            )?;
        }
        writeln!(
            f,
            "feeds:    {} polled, {} changed, {} not modified, {} skipped (not due), {} failed",
            self.feeds - self.feeds_skipped,
            self.feeds_changed,
            self.feeds_not_modified,
            self.feeds_skipped,
            self.feed_errors.len()
        )?;
        for (u, e) in &self.feed_errors {
            writeln!(f, "  failed  {u}: {e}")?;
        }
        writeln!(
            f,
            "entries:  {} new, {} recorded without analysis (older than max_age), {} repeating a story already read",
            self.entries_new, self.entries_old, self.duplicates
        )?;
        for (u, e) in &self.page_errors {
            writeln!(f, "  page    {u}: {e}")?;
        }
        writeln!(
            f,
            "articles: {} analysed, {} relevant, {} claims",
            self.articles, self.relevant, self.claims
        )?;
        writeln!(f, "shifts:   {}", self.shifts.len())?;
        for (src, s) in &self.shifts {
            let from = s.from.map(|x| x.as_str()).unwrap_or("none");
            writeln!(
                f,
                "  {:<5} {}/{} {} -> {} [{:.2}] {}",
                s.kind.as_str(),
                s.actor,
                s.topic,
                from,
                s.to,
                s.confidence,
                src
            )?;
            writeln!(f, "        {}", s.diff)?;
        }
        if !self.dry_run_files.is_empty() {
            writeln!(
                f,
                "dry run: {} alert(s) rendered, nothing sent or recorded",
                self.dry_run_files.len()
            )?;
            for p in &self.dry_run_files {
                writeln!(f, "  {p}")?;
            }
        } else {
            writeln!(
                f,
                "alerts:   {} sent, {} failed, {} owed",
                self.alerts_sent,
                self.alerts_failed.len(),
                self.alerts_owed
            )?;
            for e in &self.alerts_failed {
                writeln!(f, "  {e}")?;
            }
        }
        Ok(())
    }
}

/// An alert made in this pass.
struct PassAlert {
    source: Source,
    shifts: Vec<Shift>,
    /// Ledger changes accepted before this alert's.
    changes_before: u64,
    matrix: Matrix,
    /// (outlet, link) of later articles that report the same positions, the
    /// first [`MAX_CORROBORATING`] of them.
    corroborating: Vec<(String, Option<String>)>,
    /// Further corroborating articles, counted only: a position a thousand
    /// outlets repeat costs no memory per outlet.
    more: usize,
    /// The links in `corroborating` (and the alert's own), to list each once.
    links: HashSet<Option<String>>,
}

impl PassAlert {
    /// Lists another outlet's article as corroboration, once per link.
    fn corroborate(&mut self, outlet: &str, link: &Option<String>) {
        if self.links.contains(link) {
            return;
        }
        if self.corroborating.len() < MAX_CORROBORATING {
            self.links.insert(link.clone());
            self.corroborating.push((outlet.to_string(), link.clone()));
        } else {
            self.more += 1;
        }
    }
}

/// At most this many corroborating outlets are named in one alert; the
/// rest are counted.
const MAX_CORROBORATING: usize = 12;

/// A page to analyse.
struct Work {
    feed_url: String,
    /// The configured feed the entry came from: what its link may reach.
    feed: Url,
    outlet: String,
    entry: Entry,
    attempts: i64,
}

struct Done {
    work: Work,
    result: Result<Loaded, PageError>,
}

/// Why a page gave nothing.
enum PageError {
    /// Worth another try in a later pass (a network error, say).
    Retry(String),
    /// Not worth one: the page is recorded as failed with this reason.
    GiveUp(String),
}

impl PageError {
    fn reason(&self) -> &str {
        match self {
            PageError::Retry(e) | PageError::GiveUp(e) => e,
        }
    }
}

/// A page read and analysed.
struct Loaded {
    article: Article,
    analysis: Analysis,
    fingerprint: Option<Signature>,
}

/// When a feed that answered now is next polled: after the interval, or the
/// feed's own TTL when longer (capped at a day), plus the feed's share of
/// the jitter, so feeds polled together drift apart.
fn next_poll(cfg: &Config, url: &str, ttl: Option<Duration>, now: DateTime<Utc>) -> DateTime<Utc> {
    let wait = cfg
        .interval
        .max(ttl.unwrap_or_default().min(Duration::from_secs(24 * 3600)));
    let spread = if cfg.jitter.is_zero() {
        Duration::ZERO
    } else {
        let h = crate::feed::hash_hex(&[url, &now.timestamp().to_string()]);
        let n = u64::from_str_radix(&h[..12], 16).unwrap_or(0);
        Duration::from_millis(n % (cfg.jitter.as_millis().max(1) as u64))
    };
    now + chrono::Duration::from_std(wait + spread).unwrap_or_default()
}

fn backoff(failures: i64) -> chrono::Duration {
    let secs = 60i64
        .saturating_mul(1 << failures.clamp(0, 9))
        .min(6 * 3600);
    chrono::Duration::seconds(secs)
}

/// Runs one pass. A pass that fails leaves no write open: its uncommitted
/// batch is rolled back (its articles are read again next time), so the
/// next pass, and other processes, find the database free.
pub async fn run_once(
    cfg: &Config,
    engine: Arc<Engine>,
    state: &mut State,
    opts: &Options,
) -> Result<Summary> {
    let r = pass(cfg, engine, state, opts).await;
    if r.is_err()
        && let Err(e) = state.rollback_batch()
    {
        warn!(error = %e, "the failed pass's open batch could not be rolled back");
    }
    r
}

async fn pass(
    cfg: &Config,
    engine: Arc<Engine>,
    state: &mut State,
    opts: &Options,
) -> Result<Summary> {
    let started = std::time::Instant::now();
    let now = Utc::now();
    let mut summary = Summary {
        feeds: cfg.feeds.len(),
        ..Summary::default()
    };
    let feeds: Vec<(Url, bool)> = cfg
        .feeds
        .iter()
        .map(|f| (f.url.clone(), f.allow_private))
        .collect();
    let fetcher = Fetcher::new(&cfg.fetch, &feeds)?;
    // one pass at a time per state file, whoever runs it (daemon, timer, a
    // hand-run check): two would send the same owed alerts
    let _lock = if opts.dry_run {
        None
    } else {
        match hold_pass_lock(cfg, &opts.control).await? {
            Some(l) => Some(l),
            None => {
                summary.stopped = true;
                return Ok(summary);
            }
        }
    };
    let ledger: Ledger = state.ledger()?;
    let ledger_changes = state.ledger_changes()?;
    let story_window = now - chrono::Duration::days(STORY_WINDOW_DAYS);
    if !opts.dry_run {
        let pruned = state.prune(now - chrono::Duration::from_std(cfg.keep).unwrap_or_default())?;
        if pruned != crate::state::Pruned::default() {
            info!(
                entries = pruned.entries,
                claims = pruned.claims,
                alerts = pruned.alerts,
                "forgot what is older than state.keep"
            );
        }
        state.forget_stories(story_window)?;
    }
    // stories of earlier passes are searched in the database; this pass's
    // own are also kept in a filter, so a first pass searches only on a hit
    let earlier_stories = state.has_stories()?;
    // feeds and their pages flow through one loop: a feed's new entries
    // queue up as pages to fetch, new feeds are asked for only while the
    // queue is short, so memory does not grow with the number of feeds
    let mut due = Vec::new();
    for f in &cfg.feeds {
        let row = state.feed(f.url.as_str())?;
        if opts.only_due
            && let Some(next) = row
                .next_poll
                .as_deref()
                .and_then(|n| DateTime::parse_from_rfc3339(n).ok())
            && next.with_timezone(&Utc) > now
        {
            summary.feeds_skipped += 1;
            continue;
        }
        due.push((f.clone(), row));
    }
    let email = cfg.email.clone();
    let dry_dir = match email.as_ref().map(|e| &e.delivery) {
        Some(Delivery::Maildir(d)) => d.clone(),
        _ => cfg.state_path.with_extension("dry-run"),
    };
    let mut r = Reading {
        cfg,
        engine: &engine,
        opts,
        now,
        story_window,
        earlier_stories,
        progress: Progress {
            on: opts.progress,
            feeds_total: due.len(),
            feeds: 0,
            pages_total: 0,
            pages: 0,
            shifts: 0,
            last: None,
        },
        summary,
        ledger,
        ledger_changes,
        // sized for the stories that move a position, a few in a pass: more
        // only make a database search a little likelier
        this_pass: KeyFilter::with_capacity(1024 * neardup::BANDS),
        seen_keys: HashSet::new(),
        pass_alerts: Vec::new(),
        alerts_by_cell: HashMap::new(),
        alerts_by_origin: HashMap::new(),
        copies: Vec::new(),
        email,
        dry_dir,
        open_feeds: HashMap::new(),
    };
    r.progress.draw(true);

    let analysts = Arc::new(Analysts::per_core()?);
    let (feed_tx, mut feed_rx) = tokio::sync::mpsc::unbounded_channel::<FeedDone>();
    let (page_tx, mut page_rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    // every request of the pass; those still running at its end are dropped
    let mut tasks = tokio::task::JoinSet::new();
    let limit = cfg.fetch.concurrency.max(1);
    let mut due = due.into_iter();
    let mut queue: VecDeque<Work> = VecDeque::new();
    let (mut feeds_running, mut pages_running) = (0usize, 0usize);
    let ctl = &opts.control;
    // records go to the database in batches of about a second's work
    let mut batch_started = std::time::Instant::now();
    if !opts.dry_run {
        state.begin_batch()?;
    }
    loop {
        if !ctl.stopping() {
            while pages_running < limit
                && let Some(w) = queue.pop_front()
            {
                pages_running += 1;
                let page_budget = cfg.page_budget;
                let (fetcher, engine, analysts, tx) = (
                    fetcher.clone(),
                    engine.clone(),
                    analysts.clone(),
                    page_tx.clone(),
                );
                tasks.spawn(async move {
                    // whatever happens, the page's outcome comes back
                    let page = AssertUnwindSafe(load_page(&fetcher, &w))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err(INTERNAL.to_string()));
                    match page {
                        Ok(page) => analysts.submit(move || {
                            let result = analyse_page(&engine, &w, page, page_budget);
                            let _ = tx.send(Done { work: w, result });
                        }),
                        Err(e) => {
                            let _ = tx.send(Done {
                                work: w,
                                result: Err(PageError::Retry(e)),
                            });
                        }
                    }
                });
            }
            while feeds_running < limit
                && queue.len() < QUEUED_PAGES
                && let Some((f, row)) = due.next()
            {
                feeds_running += 1;
                let validators = if opts.dry_run {
                    Default::default()
                } else {
                    row.validators.clone()
                };
                let (fetcher, analysts, tx) = (fetcher.clone(), analysts.clone(), feed_tx.clone());
                tasks.spawn(async move {
                    let answer = AssertUnwindSafe(fetcher.fetch_feed(&f.url, &validators))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err(FetchError::Request(INTERNAL.into())));
                    match answer {
                        Ok(Fetched::Body {
                            bytes,
                            final_url,
                            validators,
                            ..
                        }) => analysts.submit(move || {
                            let parsed =
                                std::panic::catch_unwind(|| feed::parse(&bytes, &final_url))
                                    .unwrap_or_else(|_| Err(INTERNAL.to_string()));
                            drop(bytes);
                            let answer = FeedAnswer::Body { parsed, validators };
                            let _ = tx.send(FeedDone {
                                feed: f,
                                row,
                                answer,
                            });
                        }),
                        Ok(Fetched::NotModified) => {
                            let answer = FeedAnswer::NotModified;
                            let _ = tx.send(FeedDone {
                                feed: f,
                                row,
                                answer,
                            });
                        }
                        Err(e) => {
                            let answer = FeedAnswer::Failed(e);
                            let _ = tx.send(FeedDone {
                                feed: f,
                                row,
                                answer,
                            });
                        }
                    }
                });
            }
        }
        if feeds_running == 0 && pages_running == 0 {
            break;
        }
        tokio::select! {
            biased;
            _ = ctl.stopped() => break,
            d = page_rx.recv(), if pages_running > 0 => {
                let Some(d) = d else { break };
                pages_running -= 1;
                r.page(state, d)?;
            }
            f = feed_rx.recv(), if feeds_running > 0 => {
                let Some(f) = f else { break };
                feeds_running -= 1;
                r.feed(state, f, &mut queue)?;
            }
        }
        ctl.beat();
        // finished requests are let go of as they end
        while tasks.try_join_next().is_some() {}
        if !opts.dry_run && batch_started.elapsed() >= BATCH {
            state.commit_batch()?;
            state.begin_batch()?;
            batch_started = std::time::Instant::now();
        }
    }
    // requests still under way are dropped: feeds not heard from are polled
    // next time, and a feed whose entries were not all read keeps its old
    // validators, so they are new again next time
    drop(tasks);
    drop(analysts);
    if !opts.dry_run {
        state.commit_batch()?;
    }
    let Reading {
        mut progress,
        mut summary,
        mut pass_alerts,
        alerts_by_origin,
        copies,
        email,
        dry_dir,
        ..
    } = r;
    progress.shifts = summary.shifts.len();
    progress.finish();

    // a copy of a story that made an alert in this pass corroborates it
    for (of, outlet, link) in copies {
        if let Some(&i) = alerts_by_origin.get(&(of.feed_url, of.entry_id)) {
            pass_alerts[i].corroborate(&outlet, &link);
        }
    }

    // corroborated alerts are rendered again, with the other outlets listed
    if let Some(em) = &email {
        for pa in pass_alerts.iter().filter(|p| !p.corroborating.is_empty()) {
            let mut outlets: Vec<String> = pa
                .corroborating
                .iter()
                .map(|(o, l)| match l {
                    Some(l) => format!("{o} ({l})"),
                    None => o.clone(),
                })
                .collect();
            if pa.more > 0 {
                outlets.push(format!("and {} more articles", pa.more));
            }
            let r = render::render(
                &Alert {
                    source: &pa.source,
                    shifts: &pa.shifts,
                    changes_before: pa.changes_before,
                    matrix: Some(&pa.matrix),
                    corroborating: &outlets,
                },
                &em.from,
                &em.to,
                now,
            )?;
            if opts.dry_run {
                let p = dry_dir.join(format!("{}.eml", r.key));
                std::fs::write(&p, &r.raw)?;
            } else {
                state.update_owed(&r.key, &r.raw, &r.text, &r.html)?;
            }
        }
    }

    // 3. deliver what is owed
    if !opts.dry_run {
        if let Some(em) = &email
            && !ctl.stopping()
        {
            deliver(state, em, &mut summary, now, ctl, opts.flush).await?;
        }
        summary.alerts_owed = state.outbox_counts()?.0;
    }
    summary.stopped = ctl.stopping();
    summary.next_due = next_due(cfg, state)?;
    summary.elapsed = started.elapsed();
    info!(
        feeds = summary.feeds,
        failing = summary.feed_errors.len(),
        entries = summary.entries_new,
        shifts = summary.shifts.len(),
        sent = summary.alerts_sent,
        owed = summary.alerts_owed,
        "pass finished"
    );
    Ok(summary)
}

/// Waits for the pass lock of the state file; `None` when asked to stop
/// while waiting.
async fn hold_pass_lock(cfg: &Config, ctl: &Control) -> Result<Option<PassLock>> {
    let mut told = false;
    loop {
        if let Some(l) = PassLock::try_acquire(&cfg.state_path)? {
            return Ok(Some(l));
        }
        if !told {
            info!(state = %cfg.state_path.display(), "another pass is running on this state; waiting for it");
            told = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = ctl.stopped() => return Ok(None),
        }
    }
}

/// When the first configured feed is next due (now for one never polled).
fn next_due(cfg: &Config, state: &State) -> Result<Option<DateTime<Utc>>> {
    let mut first: Option<DateTime<Utc>> = None;
    for f in &cfg.feeds {
        let row = state.feed(f.url.as_str())?;
        let at = row
            .next_poll
            .as_deref()
            .and_then(|n| DateTime::parse_from_rfc3339(n).ok())
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        first = Some(first.map_or(at, |f| f.min(at)));
    }
    Ok(first)
}

fn skipped<'a>(feed_url: &'a str, e: &'a Entry, status: &'a str) -> ArticleRecord<'a> {
    ArticleRecord {
        feed_url,
        entry_id: &e.id,
        content_hash: &e.content_hash,
        title: &e.title,
        link: None,
        published: e.published,
        status,
        error: None,
        relevant: None,
        claims: &[],
        shifts: &[],
        alert: None,
        fingerprint: None,
        outlet: None,
        dup_of: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn feed_failed(
    state: &State,
    cfg: &Config,
    summary: &mut Summary,
    url: &str,
    row: &crate::state::FeedRow,
    err: &str,
    retry_after: Option<Duration>,
    now: DateTime<Utc>,
    opts: &Options,
) -> Result<()> {
    warn!(feed_url = url, error = err, "feed failed");
    summary.feed_errors.push((url.to_string(), err.to_string()));
    if opts.dry_run {
        return Ok(());
    }
    let mut wait = backoff(row.failures);
    if let Some(r) = retry_after.and_then(|r| chrono::Duration::from_std(r).ok()) {
        wait = wait.max(r);
    }
    let n = state.feed_failed(url, err, now, now + wait)?;
    // exactly once per run of failures: when the count reaches the threshold
    if n == cfg.fetch.failing_after as i64 {
        let detail = format!("{n} failures in a row; last: {err}");
        feed_notice(state, cfg, url, "failing", &detail, now)?;
    }
    Ok(())
}

/// Queues a "feed failing" or "feed recovered" notice.
fn feed_notice(
    state: &State,
    cfg: &Config,
    url: &str,
    kind: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(em) = &cfg.email else { return Ok(()) };
    info!(feed_url = url, kind, "feed health notice");
    let r = render::render_feed_notice(url, kind, detail, &em.from, &em.to, now)?;
    state.queue(
        &NewAlert {
            key: r.key,
            subject: r.subject,
            raw: r.raw,
            text: r.text,
            html: r.html,
            shift_headers: Vec::new(),
        },
        now,
    )
}

/// The error of a feed or page whose handling panicked (a bug): that feed or
/// page fails, the pass goes on.
const INTERNAL: &str = "an internal error (please report it)";

/// Pages waiting for a fetch slot; new feeds are asked for while fewer wait.
const QUEUED_PAGES: usize = 256;

/// What a feed's request came to.
enum FeedAnswer {
    NotModified,
    Body {
        parsed: Result<feed::Parsed, String>,
        validators: Validators,
    },
    Failed(FetchError),
}

struct FeedDone {
    feed: crate::config::Feed,
    row: FeedRow,
    answer: FeedAnswer,
}

/// A feed whose new entries are still being read: its new validators are
/// stored once every one of them is recorded, so a pass cut short (a stop,
/// a crash) leaves the feed to be read again in full next time.
struct OpenFeed {
    unread: usize,
    /// An entry could not be read and waits for another try.
    pending: bool,
    validators: Validators,
    ttl: Option<Duration>,
    next_poll: DateTime<Utc>,
}

/// The state of a pass while feeds and pages come in.
struct Reading<'a> {
    cfg: &'a Config,
    engine: &'a Arc<Engine>,
    opts: &'a Options,
    now: DateTime<Utc>,
    story_window: DateTime<Utc>,
    earlier_stories: bool,
    progress: Progress,
    summary: Summary,
    ledger: Ledger,
    /// Ledger changes accepted so far (recorded ones and this pass's): an
    /// alert is keyed by its place in that history.
    ledger_changes: u64,
    this_pass: KeyFilter,
    seen_keys: HashSet<String>,
    /// alerts of this pass, so later copies of a story can corroborate them
    pass_alerts: Vec<PassAlert>,
    alerts_by_cell: HashMap<(String, String, Stance), Vec<usize>>,
    alerts_by_origin: HashMap<(String, String), usize>,
    /// syndicated copies read in this pass: (original, outlet, link)
    copies: Vec<(StoryRef, String, Option<String>)>,
    email: Option<crate::config::Email>,
    dry_dir: std::path::PathBuf,
    open_feeds: HashMap<String, OpenFeed>,
}

impl Reading<'_> {
    /// A feed's answer: its new entries join `queue`.
    fn feed(&mut self, state: &mut State, d: FeedDone, queue: &mut VecDeque<Work>) -> Result<()> {
        let (cfg, opts, now) = (self.cfg, self.opts, self.now);
        let FeedDone {
            feed: f,
            row,
            answer,
        } = d;
        let summary = &mut self.summary;
        self.progress.feeds += 1;
        self.progress.draw(false);
        let url = f.url.as_str().to_string();
        let next_ok = next_poll(cfg, &url, row.ttl, now);
        let errors_before = summary.feed_errors.len();
        match answer {
            FeedAnswer::NotModified => {
                summary.feeds_not_modified += 1;
                if !opts.dry_run {
                    state.feed_ok(&url, None, None, now, next_ok)?;
                }
            }
            FeedAnswer::Body {
                parsed: Ok(parsed),
                validators,
            } => {
                summary.feeds_changed += 1;
                let outlet = f
                    .name
                    .clone()
                    .or(parsed.title.clone())
                    .unwrap_or_else(|| f.url.host_str().unwrap_or("local").to_string());
                let mut unread = 0;
                for e in parsed.entries {
                    let seen = state.entry(&url, &e.id)?;
                    let attempts = match &seen {
                        Some(s) if s.content_hash == e.content_hash && s.status != "pending" => {
                            continue;
                        }
                        Some(s) if s.status == "pending" => s.attempts,
                        _ => 0,
                    };
                    let too_old = !row.known
                        && e.published.is_some_and(|p| {
                            now.signed_duration_since(p)
                                > chrono::Duration::from_std(cfg.fetch.max_age).unwrap_or_default()
                        });
                    if too_old {
                        summary.entries_old += 1;
                        if !opts.dry_run {
                            state.record(&skipped(&url, &e, "skipped_old"), now)?;
                        }
                        continue;
                    }
                    summary.entries_new += 1;
                    unread += 1;
                    queue.push_back(Work {
                        feed_url: url.clone(),
                        feed: f.url.clone(),
                        outlet: outlet.clone(),
                        entry: e,
                        attempts,
                    });
                }
                self.progress.pages_total += unread;
                if !opts.dry_run {
                    // the feed's own TTL counts from now on
                    let next_ok = next_poll(cfg, &url, parsed.ttl, now);
                    if unread == 0 {
                        state.feed_ok(
                            &url,
                            parsed.title.as_deref(),
                            Some((&validators, parsed.ttl)),
                            now,
                            next_ok,
                        )?;
                    } else {
                        state.feed_ok(&url, parsed.title.as_deref(), None, now, next_ok)?;
                        self.open_feeds.insert(
                            url.clone(),
                            OpenFeed {
                                unread,
                                pending: false,
                                validators,
                                ttl: parsed.ttl,
                                next_poll: next_ok,
                            },
                        );
                    }
                }
            }
            FeedAnswer::Body { parsed: Err(e), .. } => {
                feed_failed(state, cfg, summary, &url, &row, &e, None, now, opts)?
            }
            FeedAnswer::Failed(e) => {
                let retry = match &e {
                    FetchError::Status { retry_after, .. } => *retry_after,
                    _ => None,
                };
                feed_failed(
                    state,
                    cfg,
                    summary,
                    &url,
                    &row,
                    &e.to_string(),
                    retry,
                    now,
                    opts,
                )?;
            }
        }
        // a feed that had been reported failing works again
        let ok_now = summary.feed_errors.len() == errors_before;
        if ok_now && row.failures >= cfg.fetch.failing_after as i64 && !opts.dry_run {
            let detail = format!("working again after {} failures", row.failures);
            feed_notice(state, cfg, &url, "recovered", &detail, now)?;
        }
        Ok(())
    }

    /// One entry of a feed is recorded; the feed's validators follow its last.
    fn entry_done(&mut self, state: &State, feed_url: &str, pending: bool) -> Result<()> {
        let Some(open) = self.open_feeds.get_mut(feed_url) else {
            return Ok(());
        };
        open.unread -= 1;
        open.pending |= pending;
        if open.unread > 0 {
            return Ok(());
        }
        let open = self.open_feeds.remove(feed_url).expect("just seen");
        // an entry waiting for another try keeps the old validators, so the
        // feed is read in full (and the entry tried) next time
        if !open.pending {
            state.feed_ok(
                feed_url,
                None,
                Some((&open.validators, open.ttl)),
                self.now,
                open.next_poll,
            )?;
        }
        Ok(())
    }

    /// A page's outcome: compared, recorded, and its alert queued.
    fn page(&mut self, state: &mut State, done: Done) -> Result<()> {
        let (opts, now, story_window, earlier_stories) =
            (self.opts, self.now, self.story_window, self.earlier_stories);
        let engine = self.engine;
        self.progress.pages += 1;
        self.progress.shifts = self.summary.shifts.len();
        self.progress.draw(false);
        let Done { work: w, result } = done;
        let pending = matches!(result, Err(PageError::Retry(_)));
        {
            let Reading {
                summary,
                ledger,
                ledger_changes,
                this_pass,
                seen_keys,
                pass_alerts,
                alerts_by_cell,
                alerts_by_origin,
                copies,
                email,
                dry_dir,
                ..
            } = self;
            let link = w.entry.link.as_ref().map(|l| l.to_string());
            match result {
                Err(e) => {
                    let status = match e {
                        PageError::Retry(_) => "pending",
                        PageError::GiveUp(_) => "failed",
                    };
                    summary.page_errors.push((
                        link.clone().unwrap_or_else(|| w.entry.id.clone()),
                        e.reason().to_string(),
                    ));
                    if !opts.dry_run {
                        let mut rec = skipped(&w.feed_url, &w.entry, status);
                        rec.error = Some(e.reason());
                        state.record(&rec, now)?;
                    }
                }
                Ok(Loaded {
                    article,
                    analysis,
                    fingerprint,
                }) => {
                    // a story already read (by another entry: an entry changed in
                    // place is no copy of itself)?
                    let keys = fingerprint.as_ref().map(Signature::band_keys);
                    let copy_of = match (&fingerprint, &keys) {
                        (Some(sig), Some(keys))
                            if earlier_stories
                                || keys.iter().any(|k| this_pass.may_contain(*k)) =>
                        {
                            state.find_story(sig, story_window, &w.feed_url, &w.entry.id)?
                        }
                        _ => None,
                    };
                    summary.articles += 1;
                    summary.claims += analysis.claims.len();
                    if analysis.relevant {
                        summary.relevant += 1;
                    }
                    let shifts = compare::compare(
                        ledger,
                        &analysis.claims,
                        engine.min_confidence,
                        &|a, t, s| engine.stance_words(a, t, s),
                    );
                    // a copy of a story already read that says nothing new is
                    // recorded as one and corroborates the original's alert; a
                    // copy with news of its own (an update) is read as news
                    let copy_of = copy_of.filter(|_| shifts.is_empty());
                    // a story that moved a position is remembered, so its copies
                    // are known for what they are; one that moved nothing has
                    // nothing for a copy to repeat or corroborate
                    let fingerprint = fingerprint.filter(|_| !shifts.is_empty());
                    if let (Some(keys), Some(_)) = (&keys, &fingerprint) {
                        for k in keys {
                            this_pass.insert(*k);
                        }
                    }
                    let dup_of = copy_of
                        .as_ref()
                        .map(|of| of.link.clone().unwrap_or_else(|| of.entry_id.clone()));
                    if let Some(of) = copy_of {
                        summary.duplicates += 1;
                        debug!(link = ?link, original = ?dup_of, "a copy of a story already read");
                        copies.push((of, w.outlet.clone(), link.clone()));
                    }
                    for s in &shifts {
                        let mut cell = crate::ledger::Cell {
                            actor: s.actor.clone(),
                            topic: s.topic.clone(),
                            stance: s.to,
                            evidence: vec![],
                            date: None,
                        };
                        cell.evidence.push(crate::ledger::Evidence {
                            source: link.clone().unwrap_or_default(),
                            sentence: s.sentence.clone(),
                            confidence: s.confidence,
                            stance_words: s.stance_words.clone(),
                        });
                        ledger.set(cell);
                        summary.shifts.push((
                            link.clone().unwrap_or_else(|| article.title.clone()),
                            s.clone(),
                        ));
                    }
                    // the same position reported again by another outlet in this pass
                    if shifts.is_empty() {
                        // once per alert, however often the article repeats it
                        let mut alerts: Vec<usize> = analysis
                            .claims
                            .iter()
                            .filter_map(|c| {
                                alerts_by_cell.get(&(c.actor.clone(), c.topic.clone(), c.stance))
                            })
                            .flatten()
                            .copied()
                            .collect();
                        alerts.sort_unstable();
                        alerts.dedup();
                        for i in alerts {
                            pass_alerts[i].corroborate(&w.outlet, &link);
                        }
                    }
                    let mut alert = None;
                    if let (Some(em), false) = (&email, shifts.is_empty()) {
                        let source = Source {
                            title: if article.title.is_empty() {
                                w.entry.title.clone()
                            } else {
                                article.title.clone()
                            },
                            outlet: w.outlet.clone(),
                            link: link.clone(),
                            published: w
                                .entry
                                .published
                                .map(|p| p.format("%Y-%m-%d %H:%M UTC").to_string()),
                        };
                        let changes_before = *ledger_changes;
                        *ledger_changes += shifts.len() as u64;
                        let topics: Vec<String> =
                            engine.profile.topics.iter().map(|t| t.id.clone()).collect();
                        let matrix = Matrix::build(&engine.baseline, ledger, &topics, &shifts);
                        let r = render::render(
                            &Alert {
                                source: &source,
                                shifts: &shifts,
                                changes_before,
                                matrix: Some(&matrix),
                                corroborating: &[],
                            },
                            &em.from,
                            &em.to,
                            now,
                        )?;
                        for s in &shifts {
                            alerts_by_cell
                                .entry((s.actor.clone(), s.topic.clone(), s.to))
                                .or_default()
                                .push(pass_alerts.len());
                        }
                        alerts_by_origin
                            .insert((w.feed_url.clone(), w.entry.id.clone()), pass_alerts.len());
                        pass_alerts.push(PassAlert {
                            source: source.clone(),
                            shifts: shifts.clone(),
                            changes_before,
                            matrix: matrix.clone(),
                            corroborating: Vec::new(),
                            more: 0,
                            links: HashSet::from([link.clone()]),
                        });
                        if opts.dry_run {
                            if seen_keys.insert(r.key.clone()) {
                                std::fs::create_dir_all(&dry_dir)?;
                                let p = dry_dir.join(format!("{}.eml", r.key));
                                std::fs::write(&p, &r.raw)?;
                                summary.dry_run_files.push(p.display().to_string());
                            }
                        } else {
                            alert = Some(NewAlert {
                                key: r.key,
                                subject: r.subject,
                                raw: r.raw,
                                text: r.text,
                                html: r.html,
                                shift_headers: render::shift_headers(&shifts),
                            });
                        }
                    }
                    if !opts.dry_run {
                        state.record(
                            &ArticleRecord {
                                feed_url: &w.feed_url,
                                entry_id: &w.entry.id,
                                content_hash: &w.entry.content_hash,
                                title: &w.entry.title,
                                link: link.as_deref(),
                                published: w.entry.published,
                                status: if dup_of.is_some() {
                                    "duplicate"
                                } else {
                                    "analysed"
                                },
                                error: None,
                                relevant: Some(analysis.relevant),
                                claims: &analysis.claims,
                                shifts: &shifts,
                                alert,
                                fingerprint,
                                outlet: Some(&w.outlet),
                                dup_of: dup_of.as_deref(),
                            },
                            now,
                        )?;
                    }
                }
            }
        }
        if !opts.dry_run {
            self.entry_done(state, &w.feed_url, pending)?;
        }
        Ok(())
    }
}

/// Downloads an entry's page; `None` when the feed's summary is to be read
/// instead (no link, or the page failed too often).
async fn load_page(fetcher: &Fetcher, w: &Work) -> Result<Option<Vec<u8>>, String> {
    let Some(link) = &w.entry.link else {
        return Ok(None);
    };
    match fetcher.fetch_page(link, &w.feed).await {
        Ok(Fetched::Body { bytes, .. }) => Ok(Some(bytes)),
        Ok(Fetched::NotModified) => Ok(None),
        Err(e) if w.attempts + 1 >= PAGE_ATTEMPTS => {
            debug!(link = %link, error = %e, "page failed again; analysing the feed's summary");
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Extracts and analyses a page (or the entry's summary), on the pool,
/// within `budget` of the thread's time: a page that needs more is given up.
fn analyse_page(
    engine: &Engine,
    w: &Work,
    page: Option<Vec<u8>>,
    budget: Duration,
) -> Result<Loaded, PageError> {
    let started = std::time::Instant::now();
    let spent = move || started.elapsed() > budget;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let article = match page {
            Some(bytes) => {
                let mut a = Article::from_html(&String::from_utf8_lossy(&bytes));
                if a.title.is_empty() {
                    a.title = w.entry.title.clone();
                }
                a
            }
            None => Article {
                title: w.entry.title.clone(),
                body: extract::extract(&w.entry.summary).text,
            },
        };
        let budget = analyze::Budget::new(&spent);
        let analysis = engine.analyze_within(&article, &budget).map_err(|_| {
            PageError::GiveUp(format!(
                "analysis stopped after {}s: over the page's time budget (analysis.page_budget)",
                budget_secs(started.elapsed())
            ))
        })?;
        // only an article that claims something can make or corroborate an
        // alert: the others need no fingerprint
        let fingerprint = if analysis.claims.is_empty() {
            None
        } else {
            Signature::of(&article.body)
        };
        Ok(Loaded {
            article,
            analysis,
            fingerprint,
        })
    }));
    caught.unwrap_or_else(|_| Err(PageError::Retry(INTERNAL.to_string())))
}

fn budget_secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// Sends owed alerts; transient failures wait with exponential backoff.
/// With a digest interval, owed alerts wait until the oldest is that old and
/// then go out together in one message.
pub async fn deliver(
    state: &mut State,
    email: &crate::config::Email,
    summary: &mut Summary,
    now: DateTime<Utc>,
    ctl: &Control,
    flush: bool,
) -> Result<()> {
    let owed = state.owed(now, flush)?;
    if owed.is_empty() {
        return Ok(());
    }
    let mut mailer = match Mailer::new(email) {
        Ok(m) => m,
        Err(e) => {
            summary
                .alerts_failed
                .push(format!("mail setup failed: {e:#}"));
            return Ok(());
        }
    };
    if let Some(every) = email.digest {
        let oldest = owed
            .iter()
            .filter_map(|r| DateTime::parse_from_rfc3339(&r.created_at).ok())
            .map(|d| d.with_timezone(&Utc))
            .min()
            .unwrap_or(now);
        if now.signed_duration_since(oldest) < chrono::Duration::from_std(every).unwrap_or_default()
        {
            info!(alerts = owed.len(), "alerts held for the digest");
            return Ok(());
        }
        let items: Vec<render::DigestItem<'_>> = owed
            .iter()
            .map(|r| render::DigestItem {
                key: &r.alert_key,
                subject: &r.subject,
                text: &r.text,
                html: &r.html,
                shift_headers: &r.shift_headers,
            })
            .collect();
        let d = render::render_digest(&items, &email.from, &email.to, now)?;
        let outcome = mailer.send(&d.key, &d.raw).await;
        match &outcome {
            Outcome::Sent(resp) => {
                // every alert of the digest is marked in one write: a crash
                // cannot leave some of them owed and send them again
                info!(alerts = owed.len(), response = %resp, "digest sent");
                let ids: Vec<i64> = owed.iter().map(|r| r.id).collect();
                state.mark_all_sent(&ids, now)?;
                summary.alerts_sent += owed.len();
                return Ok(());
            }
            // refused for good: perhaps for one alert's sake; each then goes
            // alone and gets its own answer
            Outcome::Permanent(e) => {
                warn!(alerts = owed.len(), error = %e, "digest refused; sending its alerts one by one");
                // on a fresh connection: the refused one may be in any state
                if let Ok(m) = Mailer::new(email) {
                    mailer = m;
                }
            }
            _ => {
                for row in &owed {
                    record_outcome(state, row, &outcome, summary, now)?;
                }
                return Ok(());
            }
        }
    }
    for row in owed {
        // a message under way is finished; the next one waits for a restart
        if ctl.stopping() {
            break;
        }
        let outcome = mailer.send(&row.alert_key, &row.message).await;
        ctl.beat();
        let fatal = matches!(outcome, Outcome::Fatal(_));
        record_outcome(state, &row, &outcome, summary, now)?;
        if fatal {
            break;
        }
    }
    Ok(())
}

fn record_outcome(
    state: &State,
    row: &OutboxRow,
    outcome: &Outcome,
    summary: &mut Summary,
    now: DateTime<Utc>,
) -> Result<()> {
    match outcome {
        Outcome::Sent(resp) => {
            info!(alert = %row.alert_key, subject = %row.subject, response = %resp, "alert sent");
            state.mark_sent(row.id, now)?;
            summary.alerts_sent += 1;
        }
        Outcome::Transient(e) => {
            let next = now + backoff(row.attempts);
            warn!(alert = %row.alert_key, error = %e, "alert not sent; will retry");
            state.mark_attempt_failed(row.id, e, false, next)?;
            summary
                .alerts_failed
                .push(format!("{}: {e} (will retry)", row.subject));
        }
        Outcome::Permanent(e) => {
            warn!(alert = %row.alert_key, error = %e, "alert refused");
            state.mark_attempt_failed(row.id, e, true, now)?;
            summary
                .alerts_failed
                .push(format!("{}: refused: {e}", row.subject));
        }
        Outcome::Fatal(e) => {
            warn!(alert = %row.alert_key, error = %e, "sending stopped for this pass");
            state.mark_attempt_failed(row.id, e, false, now)?;
            summary.alerts_failed.push(format!("sending stopped: {e}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corroboration_lists_a_few_links_once_and_counts_the_rest() {
        let own = Some("https://a.example/story".to_string());
        let mut pa = PassAlert {
            source: Source {
                title: "t".into(),
                outlet: "A".into(),
                link: own.clone(),
                published: None,
            },
            shifts: vec![],
            changes_before: 0,
            matrix: Matrix {
                topics: vec![],
                rows: vec![],
            },
            corroborating: Vec::new(),
            more: 0,
            links: HashSet::from([own.clone()]),
        };
        pa.corroborate("A", &own);
        for i in 0..1000 {
            let link = Some(format!("https://o{i}.example/story"));
            pa.corroborate(&format!("O{i}"), &link);
            // a listed link again is not counted again
            pa.corroborate("O0", &Some("https://o0.example/story".into()));
        }
        assert_eq!(pa.corroborating.len(), MAX_CORROBORATING);
        assert_eq!(pa.corroborating[0].0, "O0");
        assert_eq!(pa.more, 1000 - MAX_CORROBORATING);
        assert_eq!(pa.links.len(), MAX_CORROBORATING + 1);
    }
}
