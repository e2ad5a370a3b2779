//! What a pass did: the summary it prints and the progress line it draws.

use super::*;

/// A one-line progress display on stderr, redrawn at most ten times a second.
pub(super) struct Progress {
    pub(super) on: bool,
    pub(super) feeds_total: usize,
    pub(super) feeds: usize,
    pub(super) pages_total: usize,
    pub(super) pages: usize,
    pub(super) shifts: usize,
    pub(super) last: Option<std::time::Instant>,
}

impl Progress {
    pub(super) fn draw(&mut self, force: bool) {
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

    pub(super) fn finish(&mut self) {
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
    /// Reports of moves still waiting for corroboration (`[alerts]`).
    pub pending: usize,
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
        if self.pending > 0 {
            writeln!(
                f,
                "waiting:  {} reports of moves not yet corroborated",
                self.pending
            )?;
        }
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
