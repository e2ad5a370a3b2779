//! The analyst's side of the ledger: what it holds and why (`positions`,
//! `history`), corrections by hand (`ledger revert`, `ledger set`), and the
//! confirmed shifts as a feed or a table (`export`).
//!
//! Everything here reads or changes the state through [`State`]; what it
//! prints is built here and in [`crate::output`] (JSON).

use std::fmt::Write as _;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};

use crate::analyze::Stance;
use crate::engine::Engine;
use crate::ledger::{Cell, Evidence, Ledger};
use crate::notify::render::{Matrix, actor_label, escape_html, matrix_html, matrix_text};
use crate::output::{CellJson, ChangeJson, ExpiredJson, PendingJson, PositionsJson, SourceJson};
use crate::state::{HistoryRow, PendingMove, PositionRow, SourceRow, State};

/// How a list of changes is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Atom,
    Json,
    Csv,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn sources_json(s: &[SourceRow]) -> Vec<SourceJson<'_>> {
    s.iter()
        .map(|s| SourceJson {
            url: s.url.as_deref(),
            outlet: s.outlet.as_deref(),
            sentence: &s.sentence,
        })
        .collect()
}

/// `ACTOR/TOPIC`, both known to the profile.
pub fn parse_cell<'a>(engine: &Engine, cell: &'a str) -> Result<(&'a str, &'a str)> {
    let (a, t) = cell
        .split_once('/')
        .ok_or_else(|| anyhow!("`{cell}`: write the cell as ACTOR/TOPIC, e.g. us/own_troops"))?;
    let p = &engine.profile;
    if !p.actors.iter().any(|x| x.id == a) {
        let known: Vec<&str> = p.actors.iter().map(|x| x.id.as_str()).collect();
        bail!(
            "`{a}` is no actor of the profile (known: {})",
            known.join(", ")
        );
    }
    if !p.topics.iter().any(|x| x.id == t) {
        let known: Vec<&str> = p.topics.iter().map(|x| x.id.as_str()).collect();
        bail!(
            "`{t}` is no topic of the profile (known: {})",
            known.join(", ")
        );
    }
    Ok((a, t))
}

/// A ledger of the state's rows, for the matrix.
fn ledger_of(rows: &[PositionRow]) -> Ledger {
    let mut l = Ledger::default();
    for r in rows {
        l.set(Cell {
            actor: r.actor.clone(),
            topic: r.topic.clone(),
            stance: r.stance,
            evidence: vec![Evidence {
                source: r.source.clone(),
                sentence: r.sentence.clone(),
                confidence: 1.0,
                stance_words: Vec::new(),
            }],
            date: None,
        });
    }
    l
}

/// `positions`: the ledger with the sources of each cell, and the moves
/// waiting for corroboration.
pub fn positions(state: &State, engine: &Engine, json: bool) -> Result<String> {
    let rows = state.positions()?;
    let pending = state.pending_moves()?;
    if json {
        let j = PositionsJson {
            positions: rows
                .iter()
                .map(|r| CellJson {
                    actor: &r.actor,
                    topic: &r.topic,
                    stance: r.stance.as_str(),
                    since: time(r.since),
                    sources: if r.sources.is_empty() {
                        // the baseline's own evidence: a seed
                        vec![SourceJson {
                            url: None,
                            outlet: Some(&r.source),
                            sentence: &r.sentence,
                        }]
                    } else {
                        sources_json(&r.sources)
                    },
                })
                .collect(),
            pending: pending
                .iter()
                .map(|p| PendingJson {
                    actor: &p.actor,
                    topic: &p.topic,
                    from: p.from.map(Stance::as_str),
                    to: p.to.as_str(),
                    first_seen: time(p.first_seen),
                    sources: sources_json(&p.sources),
                })
                .collect(),
        };
        return Ok(serde_json::to_string(&j)? + "\n");
    }
    let now = ledger_of(&rows);
    let topics: Vec<String> = engine.profile.topics.iter().map(|t| t.id.clone()).collect();
    let actors = actors_held(engine, &now, &topics);
    let mut out = matrix_text(&Matrix::of_actors(&engine.baseline, &now, &topics, &actors));
    let changed: Vec<_> = rows
        .iter()
        .filter(|r| engine.baseline.get(&r.actor, &r.topic).map(|c| c.stance) != Some(r.stance))
        .collect();
    if !changed.is_empty() {
        out.push_str("\nChanged since the baseline:\n");
        for r in changed {
            let _ = writeln!(
                out,
                "  {} · {}: {} (since {})",
                actor_label(&r.actor),
                r.topic.replace('_', " "),
                r.stance,
                time(r.since)
            );
            for s in &r.sources {
                let _ = writeln!(out, "    {}: {}", source_label(s), s.sentence);
            }
        }
    }
    if !pending.is_empty() {
        out.push_str("\nWaiting for corroboration:\n");
        for p in &pending {
            let _ = writeln!(
                out,
                "  {} · {}: {} → {} (first seen {}, {} source{})",
                actor_label(&p.actor),
                p.topic.replace('_', " "),
                p.from.map_or("none", Stance::as_str),
                p.to,
                time(p.first_seen),
                p.sources.len(),
                if p.sources.len() == 1 { "" } else { "s" }
            );
            for s in &p.sources {
                let _ = writeln!(out, "    {}: {}", source_label(s), s.sentence);
            }
        }
    }
    Ok(out)
}

/// The actors with a stance now or in the baseline, in the profile's order.
fn actors_held(engine: &Engine, now: &Ledger, topics: &[String]) -> Vec<String> {
    engine
        .profile
        .actors
        .iter()
        .map(|a| &a.id)
        .filter(|a| {
            let held = |l: &Ledger| topics.iter().any(|t| l.get(a, t).is_some());
            held(now) || held(&engine.baseline)
        })
        .cloned()
        .collect()
}

/// The page the daemon serves at `/`: the matrix, each changed cell's
/// timeline with its evidence and links, and the moves waiting for
/// corroboration. One document, no script, no outside asset; everything
/// from the feeds is escaped.
pub fn page(state: &State, engine: &Engine, now: DateTime<Utc>) -> Result<String> {
    let esc = escape_html;
    let rows = state.positions()?;
    let history = state.history(None)?;
    let pending = state.pending_moves()?;
    let current = ledger_of(&rows);
    let topics: Vec<String> = engine.profile.topics.iter().map(|t| t.id.clone()).collect();
    let actors = actors_held(engine, &current, &topics);
    let mut h = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        h,
        "<title>stancewatch — {}</title>",
        esc(&engine.profile.name)
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width\">");
    h.push_str("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Confirmed shifts\" href=\"/shifts.atom\">");
    h.push_str("<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}td,th{padding:2px 6px;text-align:left}li{margin:.4rem 0}.q{color:#444}.meta{color:#666;font-size:90%}</style>");
    h.push_str("</head><body>");
    let _ = write!(
        h,
        "<h1>Positions: {}</h1><p class=\"meta\">as of {} · <a href=\"/shifts.atom\">Atom feed of the confirmed shifts</a></p>",
        esc(&engine.profile.name),
        time(now)
    );
    h.push_str("<section id=\"matrix\"><h2>Baseline and now</h2>");
    h.push_str(
        "<p class=\"meta\">S supports, O opposes, C conditional; baseline&gt;now, * changed</p>",
    );
    h.push_str(&matrix_html(&Matrix::of_actors(
        &engine.baseline,
        &current,
        &topics,
        &actors,
    )));
    h.push_str("</section>");
    h.push_str("<section id=\"pending\"><h2>Waiting for corroboration</h2>");
    if pending.is_empty() {
        h.push_str("<p>Nothing is waiting.</p>");
    } else {
        h.push_str("<ul>");
        for p in &pending {
            let _ = write!(
                h,
                "<li><b>{} · {}: {} → {}</b> <span class=\"meta\">first seen {}</span>{}</li>",
                esc(&actor_label(&p.actor)),
                esc(&p.topic.replace('_', " ")),
                p.from.map_or("none", Stance::as_str),
                p.to,
                time(p.first_seen),
                sources_html(&p.sources)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
    h.push_str("<section id=\"timelines\"><h2>Changes, cell by cell</h2>");
    let mut cells: Vec<(&str, &str)> = history
        .iter()
        .map(|c| (c.actor.as_str(), c.topic.as_str()))
        .collect();
    cells.sort_unstable();
    cells.dedup();
    if cells.is_empty() {
        h.push_str("<p>No change since the baseline.</p>");
    }
    for (a, t) in cells {
        let _ = write!(
            h,
            "<article id=\"cell-{}-{}\"><h3>{} · {}</h3><ol>",
            esc(a),
            esc(t),
            esc(&actor_label(a)),
            esc(&t.replace('_', " "))
        );
        for c in history.iter().filter(|c| c.actor == a && c.topic == t) {
            let _ = write!(
                h,
                "<li><b>{} → {}</b> <span class=\"meta\">{}, by {}</span>{}",
                c.from.map_or("none", Stance::as_str),
                c.to.map_or("none", Stance::as_str),
                time(c.at),
                esc(&c.by),
                c.note
                    .as_deref()
                    .map(|n| format!(" <span class=\"meta\">— {}</span>", esc(n)))
                    .unwrap_or_default()
            );
            if c.sources.is_empty() {
                let _ = write!(h, "<p class=\"q\">{}</p>", esc(&c.sentence));
            }
            h.push_str(&sources_html(&c.sources));
            h.push_str("</li>");
        }
        h.push_str("</ol></article>");
    }
    h.push_str("</section></body></html>\n");
    Ok(h)
}

/// A list of sources, each linked when its address is http(s).
fn sources_html(sources: &[SourceRow]) -> String {
    if sources.is_empty() {
        return String::new();
    }
    let esc = escape_html;
    let mut h = String::from("<ul class=\"sources\">");
    for s in sources {
        let name = esc(s.outlet.as_deref().unwrap_or(&s.site));
        let who = match &s.url {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => format!(
                "<a href=\"{}\" rel=\"noopener noreferrer\">{name}</a>",
                esc(u)
            ),
            _ => name,
        };
        let _ = write!(
            h,
            "<li>{who}: <span class=\"q\">{}</span></li>",
            esc(&s.sentence)
        );
    }
    h.push_str("</ul>");
    h
}

fn source_label(s: &SourceRow) -> String {
    match (&s.outlet, &s.url) {
        (Some(o), Some(u)) => format!("{o} <{u}>"),
        (Some(o), None) => o.clone(),
        (None, Some(u)) => u.clone(),
        (None, None) => s.site.clone(),
    }
}

fn change_json(h: &HistoryRow) -> ChangeJson<'_> {
    ChangeJson {
        id: h.id,
        actor: &h.actor,
        topic: &h.topic,
        from: h.from.map(Stance::as_str),
        to: h.to.map(Stance::as_str),
        at: time(h.at),
        by: &h.by,
        note: h.note.as_deref(),
        sentence: &h.sentence,
        source: &h.source,
        sources: sources_json(&h.sources),
    }
}

/// `history`: every change, oldest first, and the moves that were seen but
/// dropped for want of corroboration; JSON is one object per line.
pub fn history(state: &State, cell: Option<(&str, &str)>, json: bool) -> Result<String> {
    let rows = state.history(cell)?;
    let expired = state.expired_moves(cell)?;
    // both lists are in time order: merge them
    let mut items: Vec<(DateTime<Utc>, Result<&HistoryRow, &PendingMove>)> = rows
        .iter()
        .map(|h| (h.at, Ok(h)))
        .chain(expired.iter().map(|m| (m.first_seen, Err(m))))
        .collect();
    items.sort_by_key(|(at, _)| *at);
    let mut out = String::new();
    for (_, item) in &items {
        match item {
            Ok(h) if json => {
                out.push_str(&serde_json::to_string(&change_json(h))?);
                out.push('\n');
            }
            Ok(h) => {
                let _ = writeln!(
                    out,
                    "{}  {} · {}: {} → {}  by {}{}",
                    time(h.at),
                    actor_label(&h.actor),
                    h.topic.replace('_', " "),
                    h.from.map_or("none", Stance::as_str),
                    h.to.map_or("none", Stance::as_str),
                    h.by,
                    h.note
                        .as_deref()
                        .map(|n| format!(" — {n}"))
                        .unwrap_or_default()
                );
                if h.sources.is_empty() {
                    let _ = writeln!(out, "    {}: {}", h.source, h.sentence);
                }
                for s in &h.sources {
                    let _ = writeln!(out, "    {}: {}", source_label(s), s.sentence);
                }
            }
            Err(m) if json => {
                out.push_str(&serde_json::to_string(&ExpiredJson {
                    actor: &m.actor,
                    topic: &m.topic,
                    from: m.from.map(Stance::as_str),
                    to: m.to.as_str(),
                    first_seen: time(m.first_seen),
                    expired: true,
                    sources: sources_json(&m.sources),
                })?);
                out.push('\n');
            }
            Err(m) => {
                let _ = writeln!(
                    out,
                    "{}  {} · {}: {} → {}  not corroborated within alerts.window: dropped, the ledger unchanged",
                    time(m.first_seen),
                    actor_label(&m.actor),
                    m.topic.replace('_', " "),
                    m.from.map_or("none", Stance::as_str),
                    m.to,
                );
                for s in &m.sources {
                    let _ = writeln!(out, "    {}: {}", source_label(s), s.sentence);
                }
            }
        }
    }
    if items.is_empty() && !json {
        out.push_str("no change since the baseline\n");
    }
    Ok(out)
}

/// `ledger revert`: the cell goes back to what it held before its last
/// change (a cell that did not exist is removed); the reports behind the
/// undone change are not taken again for the same move.
pub fn revert(
    state: &mut State,
    engine: &Engine,
    cell: (&str, &str),
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String> {
    let (a, t) = cell;
    let hist = state.history(Some(cell))?;
    let Some(last) = hist.last() else {
        bail!("{a}/{t} holds its baseline: there is no change to revert");
    };
    // what the cell said before: the change before the last, or the baseline
    let before = hist.iter().rev().nth(1);
    let (sentence, source) = match (before, engine.baseline.get(a, t)) {
        (Some(b), _) if b.to == last.from => (b.sentence.clone(), b.source.clone()),
        (_, Some(c)) if Some(c.stance) == last.from => {
            let ev = c.evidence.first();
            (
                ev.map(|e| e.sentence.clone()).unwrap_or_default(),
                ev.map(|e| e.source.clone()).unwrap_or_default(),
            )
        }
        _ => (String::new(), "analyst".to_string()),
    };
    state.set_cell(a, t, last.from, &sentence, &source, "analyst", note, now)?;
    let rejected = state.reject_sources_of(last.id)?;
    Ok(format!(
        "{a}/{t}: {} → {} (reverted by an analyst; {rejected} report{} of the undone move will not count again)\n",
        last.to.map_or("none", Stance::as_str),
        last.from.map_or("none", Stance::as_str),
        if rejected == 1 { "" } else { "s" }
    ))
}

/// `ledger set`: fixes a cell by hand.
pub fn set(
    state: &mut State,
    cell: (&str, &str),
    stance: Stance,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String> {
    let (a, t) = cell;
    let sentence = note.unwrap_or("set by an analyst");
    state.set_cell(
        a,
        t,
        Some(stance),
        sentence,
        "analyst",
        "analyst",
        note,
        now,
    )?;
    Ok(format!("{a}/{t}: set to {stance} by an analyst\n"))
}

/// `export`: the confirmed shifts (the engine's changes of the ledger),
/// newest first.
pub fn export(
    state: &State,
    engine: &Engine,
    format: ExportFormat,
    now: DateTime<Utc>,
) -> Result<String> {
    let mut rows: Vec<HistoryRow> = state
        .history(None)?
        .into_iter()
        .filter(|h| h.by == "engine")
        .collect();
    rows.reverse();
    match format {
        ExportFormat::Json => {
            let all: Vec<ChangeJson<'_>> = rows.iter().map(change_json).collect();
            Ok(serde_json::to_string(&all)? + "\n")
        }
        ExportFormat::Csv => {
            let mut out = String::from("at,actor,topic,from,to,link,sentence\n");
            for h in &rows {
                let link = h
                    .sources
                    .iter()
                    .find_map(|s| s.url.clone())
                    .unwrap_or_else(|| h.source.clone());
                let cols = [
                    time(h.at),
                    h.actor.clone(),
                    h.topic.clone(),
                    h.from.map_or("none", Stance::as_str).to_string(),
                    h.to.map_or("none", Stance::as_str).to_string(),
                    link,
                    h.sentence.clone(),
                ];
                let line: Vec<String> = cols.iter().map(|c| csv_field(c)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
            Ok(out)
        }
        ExportFormat::Atom => Ok(atom(&rows, &engine.profile.name, now)),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// An Atom 1.0 feed of the changes (newest first).
pub fn atom(rows: &[HistoryRow], profile: &str, now: DateTime<Utc>) -> String {
    let esc = escape_html;
    let updated = rows.first().map_or(now, |h| h.at);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(
        x,
        "  <title>stancewatch: confirmed shifts ({})</title>",
        esc(profile)
    );
    let _ = writeln!(
        x,
        "  <id>urn:stancewatch:{}:shifts</id>",
        esc(&slug(profile))
    );
    let _ = writeln!(x, "  <updated>{}</updated>", time(updated));
    x.push_str("  <author><name>stancewatch</name></author>\n");
    for h in rows {
        let title = format!(
            "{} · {}: {} → {}",
            actor_label(&h.actor),
            h.topic.replace('_', " "),
            h.from.map_or("none", Stance::as_str),
            h.to.map_or("none", Stance::as_str)
        );
        let link = h.sources.iter().find_map(|s| s.url.clone()).or_else(|| {
            (h.source.starts_with("http://") || h.source.starts_with("https://"))
                .then(|| h.source.clone())
        });
        let mut content = h.sentence.clone();
        for s in &h.sources {
            let _ = write!(content, "\n{}: {}", source_label(s), s.sentence);
        }
        x.push_str("  <entry>\n");
        let _ = writeln!(
            x,
            "    <id>urn:stancewatch:{}:shift:{}</id>",
            esc(&slug(profile)),
            h.id
        );
        let _ = writeln!(x, "    <title>{}</title>", esc(&title));
        let _ = writeln!(x, "    <updated>{}</updated>", time(h.at));
        if let Some(l) = link {
            let _ = writeln!(x, "    <link rel=\"alternate\" href=\"{}\"/>", esc(&l));
        }
        let _ = writeln!(x, "    <content type=\"text\">{}</content>", esc(&content));
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}
