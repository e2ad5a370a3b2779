//! Feeds: when each is polled, what its answer does to the state, and the
//! notices a failing feed earns.

use super::*;

/// When a feed that answered now is next polled: after the interval, or the
/// feed's own TTL when longer (capped at a day), plus the feed's share of
/// the jitter, so feeds polled together drift apart.
pub(super) fn next_poll(
    cfg: &Config,
    url: &str,
    ttl: Option<Duration>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
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

pub(super) fn backoff(failures: i64) -> chrono::Duration {
    let secs = 60i64
        .saturating_mul(1 << failures.clamp(0, 9))
        .min(6 * 3600);
    chrono::Duration::seconds(secs)
}

pub(super) fn skipped<'a>(
    feed_url: &'a str,
    e: &'a Entry,
    status: EntryStatus,
) -> ArticleRecord<'a> {
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
        reports: &[],
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn feed_failed(
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
pub(super) fn feed_notice(
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

/// What a feed's request came to.
pub(super) enum FeedAnswer {
    NotModified,
    Body {
        parsed: Result<feed::Parsed, String>,
        validators: Validators,
    },
    Failed(FetchError),
}

pub(super) struct FeedDone {
    pub(super) feed: crate::config::Feed,
    pub(super) row: FeedRow,
    pub(super) answer: FeedAnswer,
}

/// A feed whose new entries are still being read: its new validators are
/// stored once every one of them is recorded, so a pass cut short (a stop,
/// a crash) leaves the feed to be read again in full next time.
pub(super) struct OpenFeed {
    pub(super) unread: usize,
    /// An entry could not be read and waits for another try.
    pub(super) pending: bool,
    pub(super) validators: Validators,
    pub(super) ttl: Option<Duration>,
    pub(super) next_poll: DateTime<Utc>,
}

impl Reading<'_> {
    /// A feed's answer: its new entries join `queue`.
    pub(super) fn feed(
        &mut self,
        state: &mut State,
        d: FeedDone,
        queue: &mut VecDeque<Work>,
    ) -> Result<()> {
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
                        Some(s)
                            if s.content_hash == e.content_hash
                                && s.status != EntryStatus::Pending =>
                        {
                            continue;
                        }
                        Some(s) if s.status == EntryStatus::Pending => s.attempts,
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
                            state.record(&skipped(&url, &e, EntryStatus::SkippedOld), now)?;
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
                        // due again until its entries are read: a pass
                        // that dies before that leaves the feed to the next
                        state.feed_reading(&url, parsed.title.as_deref(), now)?;
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
    pub(super) fn entry_done(
        &mut self,
        state: &State,
        feed_url: &str,
        pending: bool,
    ) -> Result<()> {
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
        let body = (!open.pending).then_some((&open.validators, open.ttl));
        state.feed_ok(feed_url, None, body, self.now, open.next_poll)?;
        Ok(())
    }
}
