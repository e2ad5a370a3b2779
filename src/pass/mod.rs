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
//!
//! The loop and the state it keeps are here; `feeds.rs` polls and records
//! feeds, `pages.rs` analyses pages and records their claims, shifts and
//! alerts, `delivery.rs` sends what is owed, `summary.rs` reports.

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
use crate::state::{
    ArticleRecord, EntryStatus, FeedRow, NewAlert, OutboxRow, PassLock, Report, ReportKind, State,
    StoryRef,
};

mod delivery;
mod feeds;
mod pages;
mod summary;

pub use delivery::deliver;
pub use summary::Summary;

use feeds::*;
use pages::*;
use summary::Progress;

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
    if r.is_err() {
        if let Err(e) = state.rollback_batch() {
            warn!(error = %e, "the failed pass's open batch could not be rolled back");
        }
        if let Err(e) = state.release_claims(claimant()) {
            warn!(error = %e, "the failed pass's claims could not be let go (they lapse with state.lease)");
        }
    }
    r
}

/// This process's name in the claims it makes on a shared state.
pub fn claimant() -> &'static str {
    static ME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("{host}:{}:{nonce:08x}", std::process::id())
    })
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
        let expired = state.expire_pending(
            now - chrono::Duration::from_std(cfg.alerts.window).unwrap_or_default(),
        )?;
        if expired > 0 {
            info!(
                reports = expired,
                "moves not corroborated within alerts.window dropped"
            );
        }
    }
    // stories of earlier passes are searched in the database; this pass's
    // own are also kept in a filter, so a first pass searches only on a hit
    // (on a shared state other processes add stories all the time)
    let earlier_stories = state.is_shared() || state.has_stories()?;
    // feeds and their pages flow through one loop: a feed's new entries
    // queue up as pages to fetch, new feeds are asked for only while the
    // queue is short, so memory does not grow with the number of feeds
    // feeds are handed out as the loop asks for them; on a shared state
    // each is claimed first, a few at a time, so processes split them
    let mut due = Due {
        feeds: cfg.feeds.iter(),
        ready: VecDeque::new(),
        claim: !opts.dry_run,
        only_due: opts.only_due,
        now,
        lease: cfg.lease,
        skipped: 0,
    };
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
            feeds_total: cfg.feeds.len(),
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
    let mut queue: VecDeque<Work> = VecDeque::new();
    let (mut feeds_running, mut pages_running) = (0usize, 0usize);
    let ctl = &opts.control;
    // records go to the database in batches of about a second's work
    let mut batch_started = std::time::Instant::now();
    let mut renewed = std::time::Instant::now();
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
                && let Some((f, row)) = due.next(state)?
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
            if renewed.elapsed() >= cfg.lease / 3 {
                let until = Utc::now() + chrono::Duration::from_std(cfg.lease).unwrap_or_default();
                state.renew_claims(claimant(), until)?;
                renewed = std::time::Instant::now();
            }
            state.begin_batch()?;
            batch_started = std::time::Instant::now();
        }
    }
    r.summary.feeds_skipped += due.skipped;
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
            deliver(state, em, &mut summary, now, ctl, opts.flush, cfg.lease).await?;
        }
        summary.alerts_owed = state.outbox_counts()?.0;
        // feeds not reached (a stop) and alerts not sent are free again
        state.release_claims(claimant())?;
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

/// Waits for the pass lock of the state; `None` when asked to stop while
/// waiting.
async fn hold_pass_lock(cfg: &Config, ctl: &Control) -> Result<Option<PassLock>> {
    let mut told = false;
    let at = cfg.state_access()?;
    loop {
        if let Some(l) = PassLock::try_acquire_at(&at)? {
            return Ok(Some(l));
        }
        if !told {
            info!(state = %cfg.state_location(), "another pass is running on this state; waiting for it");
            told = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = ctl.stopped() => return Ok(None),
        }
    }
}

/// How many feeds a pass claims at once on a shared state: enough to keep
/// its fetches busy, few enough that a process starting alongside finds
/// feeds left.
const CLAIM_CHUNK: usize = 16;

/// The feeds a pass polls, handed out as its loop asks for them: those due
/// (all of them without `only_due`) and, on a shared state, claimed by this
/// process.
struct Due<'a> {
    feeds: std::slice::Iter<'a, crate::config::Feed>,
    ready: VecDeque<(crate::config::Feed, crate::state::FeedRow)>,
    claim: bool,
    only_due: bool,
    now: DateTime<Utc>,
    lease: Duration,
    skipped: usize,
}

impl Due<'_> {
    fn next(
        &mut self,
        state: &mut State,
    ) -> Result<Option<(crate::config::Feed, crate::state::FeedRow)>> {
        loop {
            if let Some(x) = self.ready.pop_front() {
                return Ok(Some(x));
            }
            let chunk: Vec<&crate::config::Feed> = self.feeds.by_ref().take(CLAIM_CHUNK).collect();
            if chunk.is_empty() {
                return Ok(None);
            }
            let urls: Vec<String> = chunk.iter().map(|f| f.url.to_string()).collect();
            let mine = if self.claim {
                state.claim_feeds(&urls, self.only_due, self.now, claimant(), self.lease)?
            } else {
                urls.iter().cloned().collect()
            };
            for f in chunk {
                if !mine.contains(f.url.as_str()) {
                    self.skipped += 1;
                    continue;
                }
                let row = state.feed(f.url.as_str())?;
                if self.only_due
                    && let Some(next) = row.next_poll
                    && next > self.now
                {
                    self.skipped += 1;
                    continue;
                }
                self.ready.push_back((f.clone(), row));
            }
        }
    }
}

/// When the first configured feed is next due (now for one never polled).
fn next_due(cfg: &Config, state: &State) -> Result<Option<DateTime<Utc>>> {
    let mut first: Option<DateTime<Utc>> = None;
    for f in &cfg.feeds {
        let row = state.feed(f.url.as_str())?;
        // a feed another process is polling is not due before its claim ends
        let at = row
            .next_poll
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .max(row.claimed_until.unwrap_or(DateTime::<Utc>::MIN_UTC));
        first = Some(first.map_or(at, |f| f.min(at)));
    }
    Ok(first)
}

/// The error of a feed or page whose handling panicked (a bug): that feed or
/// page fails, the pass goes on.
const INTERNAL: &str = "an internal error (please report it)";

/// Pages waiting for a fetch slot; new feeds are asked for while fewer wait.
const QUEUED_PAGES: usize = 256;

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
