//! Pages: fetched, extracted and analysed on the analysts' pool, then
//! compared with the ledger, recorded and turned into alerts.

use super::*;

/// An alert made in this pass.
pub(super) struct PassAlert {
    pub(super) source: Source,
    pub(super) shifts: Vec<Shift>,
    /// Ledger changes accepted before this alert's.
    pub(super) changes_before: u64,
    pub(super) matrix: Matrix,
    /// (outlet, link) of later articles that report the same positions, the
    /// first [`MAX_CORROBORATING`] of them.
    pub(super) corroborating: Vec<(String, Option<String>)>,
    /// Further corroborating articles, counted only: a position a thousand
    /// outlets repeat costs no memory per outlet.
    pub(super) more: usize,
    /// The links in `corroborating` (and the alert's own), to list each once.
    pub(super) links: HashSet<Option<String>>,
}

impl PassAlert {
    /// Lists another outlet's article as corroboration, once per link.
    pub(super) fn corroborate(&mut self, outlet: &str, link: &Option<String>) {
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
pub(super) const MAX_CORROBORATING: usize = 12;

/// A page to analyse.
pub(super) struct Work {
    pub(super) feed_url: String,
    /// The configured feed the entry came from: what its link may reach.
    pub(super) feed: Url,
    pub(super) outlet: String,
    pub(super) entry: Entry,
    pub(super) attempts: i64,
}

pub(super) struct Done {
    pub(super) work: Work,
    pub(super) result: Result<Loaded, PageError>,
}

/// Why a page gave nothing.
pub(super) enum PageError {
    /// Worth another try in a later pass (a network error, say).
    Retry(String),
    /// Not worth one: the page is recorded as failed with this reason.
    GiveUp(String),
}

impl PageError {
    pub(super) fn reason(&self) -> &str {
        match self {
            PageError::Retry(e) | PageError::GiveUp(e) => e,
        }
    }
}

/// A page read and analysed.
pub(super) struct Loaded {
    pub(super) article: Article,
    pub(super) analysis: Analysis,
    pub(super) fingerprint: Option<Signature>,
}

impl Reading<'_> {
    /// A page's outcome: compared, recorded, and its alert queued.
    pub(super) fn page(&mut self, state: &mut State, done: Done) -> Result<()> {
        let (opts, now, story_window, earlier_stories) =
            (self.opts, self.now, self.story_window, self.earlier_stories);
        let rules = self.cfg.alerts;
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
                        PageError::Retry(_) => EntryStatus::Pending,
                        PageError::GiveUp(_) => EntryStatus::Failed,
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
                    // other processes on a shared state may have moved the
                    // ledger or read the story: the ledger is taken (until the
                    // batch commits), and read again if it moved
                    if !opts.dry_run {
                        state.hold_ledger(ledger, ledger_changes)?;
                    }
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
                    let moves = compare::compare(
                        ledger,
                        &analysis.claims,
                        engine.min_confidence,
                        &|a, t, s| engine.stance_words(a, t, s),
                    );
                    // a move alerts, and moves the ledger, once enough
                    // independent outlets report it; until then it waits
                    let site = site_of(link.as_deref(), &w.feed_url);
                    let mut reports: Vec<Report> = Vec::new();
                    let mut shifts: Vec<Shift> = Vec::new();
                    let mut earlier: Vec<(String, Option<String>)> = Vec::new();
                    for m in moves {
                        if let Some(u) = &link
                            && state.is_rejected(&m.actor, &m.topic, m.to, u)?
                        {
                            continue;
                        }
                        let waiting = state.pending_sources(&m.actor, &m.topic, m.to)?;
                        // a copy of a story already read, or another report
                        // from a site already counted, is no new source
                        let independent =
                            copy_of.is_none() && !waiting.iter().any(|x| x.site == site);
                        let mut sites: HashSet<&str> =
                            waiting.iter().map(|x| x.site.as_str()).collect();
                        if independent {
                            sites.insert(&site);
                        }
                        let surest = waiting
                            .iter()
                            .map(|x| x.confidence)
                            .fold(m.confidence, f64::max);
                        let kind = if sites.len() >= rules.needed(surest) {
                            ReportKind::Confirmed
                        } else if independent {
                            ReportKind::Pending
                        } else {
                            continue;
                        };
                        reports.push(Report {
                            actor: m.actor.clone(),
                            topic: m.topic.clone(),
                            from: m.from,
                            to: m.to,
                            site: site.clone(),
                            url: link.clone(),
                            outlet: Some(w.outlet.clone()),
                            sentence: m.sentence.clone(),
                            confidence: m.confidence,
                            kind,
                        });
                        if kind == ReportKind::Confirmed {
                            earlier.extend(
                                waiting
                                    .into_iter()
                                    .map(|x| (x.outlet.unwrap_or_else(|| x.site.clone()), x.url)),
                            );
                            shifts.push(m);
                        } else {
                            summary.pending += 1;
                        }
                    }
                    // the stances the ledger already holds, reported again:
                    // more sources for them, no alert
                    for c in analysis.claims.iter().filter(|c| {
                        c.confidence >= engine.min_confidence
                            && ledger
                                .get(&c.actor, &c.topic)
                                .is_some_and(|cell| cell.stance == c.stance)
                            && copy_of.is_none()
                    }) {
                        if reports
                            .iter()
                            .any(|r| r.actor == c.actor && r.topic == c.topic)
                        {
                            continue;
                        }
                        reports.push(Report {
                            actor: c.actor.clone(),
                            topic: c.topic.clone(),
                            from: Some(c.stance),
                            to: c.stance,
                            site: site.clone(),
                            url: link.clone(),
                            outlet: Some(w.outlet.clone()),
                            sentence: c.sentence.clone(),
                            confidence: c.confidence,
                            kind: ReportKind::Repeat,
                        });
                    }
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
                        let cited: Vec<String> = earlier
                            .iter()
                            .map(|(o, l)| match l {
                                Some(l) => format!("{o} ({l})"),
                                None => o.clone(),
                            })
                            .collect();
                        let r = render::render(
                            &Alert {
                                source: &source,
                                shifts: &shifts,
                                changes_before,
                                matrix: Some(&matrix),
                                corroborating: &cited,
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
                        let mut pa = PassAlert {
                            source: source.clone(),
                            shifts: shifts.clone(),
                            changes_before,
                            matrix: matrix.clone(),
                            corroborating: Vec::new(),
                            more: 0,
                            links: HashSet::from([link.clone()]),
                        };
                        for (outlet, url) in &earlier {
                            pa.corroborate(outlet, url);
                        }
                        pass_alerts.push(pa);
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
                                    EntryStatus::Duplicate
                                } else {
                                    EntryStatus::Analysed
                                },
                                error: None,
                                relevant: Some(analysis.relevant),
                                claims: &analysis.claims,
                                shifts: &shifts,
                                alert,
                                fingerprint,
                                outlet: Some(&w.outlet),
                                dup_of: dup_of.as_deref(),
                                reports: &reports,
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
pub(super) async fn load_page(fetcher: &Fetcher, w: &Work) -> Result<Option<Vec<u8>>, String> {
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
pub(super) fn analyse_page(
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

pub(super) fn budget_secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// The site that makes a source independent: the registrable part of the
/// link's host ("www.bbc.co.uk" → "bbc.co.uk"), an address as it is; the
/// feed's when the entry has no link.
pub(super) fn site_of(link: Option<&str>, feed: &str) -> String {
    let Some(url) = link.or(Some(feed)).and_then(|l| Url::parse(l).ok()) else {
        return feed.to_string();
    };
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let labels: Vec<&str> = d.split('.').collect();
            // two labels, or three under a country's second level ("co.uk")
            let second_level = [
                "co", "com", "org", "net", "gov", "ac", "edu", "or", "ne", "go",
            ];
            let n = if labels.len() >= 3
                && labels[labels.len() - 1].len() == 2
                && second_level.contains(&labels[labels.len() - 2])
            {
                3
            } else {
                2
            };
            labels[labels.len().saturating_sub(n)..].join(".")
        }
        Some(h) => h.to_string(),
        None => url.as_str().to_string(),
    }
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
