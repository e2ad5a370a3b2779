//! Renders an alert email: subject, plain text and HTML twins, and the
//! headers mail filters route on. Pure: no IO, no clock (the date is passed).
//!
//! Untrusted text (titles, sentences, URLs) is escaped in HTML; only
//! http(s) links become links; CR/LF never reach a header.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::analyze::Stance;
use crate::compare::Shift;
use crate::feed::hash_hex;
use crate::ledger::Ledger;

/// Where the article came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub title: String,
    pub outlet: String,
    pub link: Option<String>,
    pub published: Option<String>,
}

/// One alert: the shifts found in one article.
#[derive(Debug, Clone)]
pub struct Alert<'a> {
    pub source: &'a Source,
    pub shifts: &'a [Shift],
    /// How many ledger changes were accepted before this alert's: its place
    /// in the ledger's history, so the same move made again later is a new
    /// alert, while the same alert rendered again keeps its key.
    pub changes_before: u64,
    /// The positions of the actors concerned, baseline vs now.
    pub matrix: Option<&'a Matrix>,
    /// Other outlets that carried the same story.
    pub corroborating: &'a [String],
}

/// A small position table: the actors of an alert × every topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub topics: Vec<String>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRow {
    pub actor: String,
    /// (baseline, now) per topic.
    pub cells: Vec<(Option<Stance>, Option<Stance>)>,
}

impl Matrix {
    /// Rows for `actors`, baseline against `now`.
    pub fn of_actors(
        baseline: &Ledger,
        now: &Ledger,
        topics: &[String],
        actors: &[String],
    ) -> Matrix {
        Matrix {
            topics: topics.to_vec(),
            rows: actors
                .iter()
                .map(|a| MatrixRow {
                    actor: a.clone(),
                    cells: topics
                        .iter()
                        .map(|t| {
                            (
                                baseline.get(a, t).map(|c| c.stance),
                                now.get(a, t).map(|c| c.stance),
                            )
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Rows for the actors of `shifts`; `now` is the ledger with the shifts applied.
    pub fn build(baseline: &Ledger, now: &Ledger, topics: &[String], shifts: &[Shift]) -> Matrix {
        let mut actors: Vec<&str> = Vec::new();
        for s in shifts {
            if !actors.contains(&s.actor.as_str()) {
                actors.push(&s.actor);
            }
        }
        let rows = actors
            .iter()
            .map(|a| MatrixRow {
                actor: a.to_string(),
                cells: topics
                    .iter()
                    .map(|t| {
                        (
                            baseline.get(a, t).map(|c| c.stance),
                            now.get(a, t).map(|c| c.stance),
                        )
                    })
                    .collect(),
            })
            .collect();
        Matrix {
            topics: topics.to_vec(),
            rows,
        }
    }
}

fn letter(s: Option<Stance>) -> &'static str {
    match s {
        Some(Stance::Supports) => "S",
        Some(Stance::Opposes) => "O",
        Some(Stance::Conditional) => "C",
        None => "-",
    }
}

fn cell_text(c: &(Option<Stance>, Option<Stance>)) -> String {
    if c.0 == c.1 {
        letter(c.1).to_string()
    } else {
        format!("{}>{}*", letter(c.0), letter(c.1))
    }
}

/// The matrix as text: topics down, actors across.
pub fn matrix_text(m: &Matrix) -> String {
    // topics down, actors across: narrow enough for a phone
    let mut t = String::from(
        "Positions (S supports, O opposes, C conditional; baseline>now, * changed):\n",
    );
    let mut head = format!("{:<24}", "");
    for r in &m.rows {
        head.push_str(&format!(" {:<9}", actor_label(&r.actor)));
    }
    t.push_str(head.trim_end());
    t.push('\n');
    for (i, topic) in m.topics.iter().enumerate() {
        let mut line = format!("{:<24}", topic.replace('_', " "));
        for r in &m.rows {
            line.push_str(&format!(
                " {:<9}",
                r.cells.get(i).map(cell_text).unwrap_or_default()
            ));
        }
        t.push_str(line.trim_end());
        t.push('\n');
    }
    t
}

/// The matrix as an HTML table, changed cells marked.
pub fn matrix_html(m: &Matrix) -> String {
    let cell = "padding:2px 6px;text-align:left";
    let mut h = format!(
        "<table style=\"border-collapse:collapse;font-size:13px\"><tr><th style=\"{cell}\"></th>"
    );
    for r in &m.rows {
        h.push_str(&format!(
            "<th style=\"{cell}\">{}</th>",
            escape_html(&actor_label(&r.actor))
        ));
    }
    h.push_str("</tr>");
    for (i, topic) in m.topics.iter().enumerate() {
        h.push_str(&format!(
            "<tr><td style=\"{cell}\">{}</td>",
            escape_html(&topic.replace('_', " "))
        ));
        for r in &m.rows {
            let c = r.cells.get(i).copied().unwrap_or((None, None));
            let style = if c.0 != c.1 {
                format!("{cell};background:#ffe58a;font-weight:bold")
            } else {
                cell.to_string()
            };
            h.push_str(&format!(
                "<td style=\"{style}\">{}</td>",
                escape_html(&cell_text(&c))
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}

/// A rendered alert, ready to be queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub key: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The whole message, headers included.
    pub raw: Vec<u8>,
}

/// Removes control characters (CR, LF, tabs) so text is safe in a header.
pub fn header_safe(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn title_case(id: &str) -> String {
    let s = id.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// How an actor id is written for a reader ("US", "Russia").
pub fn actor_label(id: &str) -> String {
    match id {
        "us" | "uk" | "eu" | "nato" => id.to_uppercase(),
        other => title_case(other),
    }
}

fn from_str(s: &Shift) -> &'static str {
    s.from.map(|f| f.as_str()).unwrap_or("none")
}

/// The key that identifies an alert: the same shifts from the same article
/// at the same place in the ledger's history always give the same key (and
/// Message-ID); the same move made again later is another alert.
pub fn alert_key(source: &Source, shifts: &[Shift], changes_before: u64) -> String {
    let mut parts: Vec<String> = shifts
        .iter()
        .map(|s| format!("{}/{}/{}->{}", s.actor, s.topic, from_str(s), s.to))
        .collect();
    parts.sort();
    let link = source.link.clone().unwrap_or_else(|| source.title.clone());
    hash_hex(&[&link, &parts.join(","), &changes_before.to_string()])
}

pub fn subject(shifts: &[Shift]) -> String {
    let first = &shifts[0];
    let mut s = format!(
        "{} · {}: {} → {}",
        actor_label(&first.actor),
        first.topic.replace('_', " "),
        from_str(first),
        first.to
    );
    if shifts.len() > 1 {
        s.push_str(&format!(" (+{} more)", shifts.len() - 1));
    }
    header_safe(&s)
}

/// The diff in text form: `[-old-]{+new+}` as computed.
pub fn text_body(alert: &Alert<'_>) -> String {
    let mut t = String::new();
    for s in alert.shifts {
        t.push_str(&format!(
            "{} on {}: {} -> {} ({}, confidence {:.2})\n",
            actor_label(&s.actor),
            s.topic.replace('_', " "),
            from_str(s),
            s.to,
            s.kind.as_str(),
            s.confidence
        ));
        if s.speaker != s.actor {
            t.push_str(&format!(
                "Said by: {} (about {})\n",
                actor_label(&s.speaker),
                actor_label(&s.actor)
            ));
        }
        t.push_str(&format!(
            "\nNow:      {}\n",
            header_safe(&crate::compare::mark(&s.sentence, &s.stance_words))
        ));
        if !s.baseline_sentence.is_empty() {
            t.push_str(&format!(
                "Baseline: {}\n",
                header_safe(&crate::compare::mark(
                    &s.baseline_sentence,
                    &s.baseline_stance_words
                ))
            ));
            t.push_str(&format!("Diff:     {}\n", header_safe(&s.marked_diff)));
            t.push_str("          (*marked*: the words that carry the stance)\n");
        } else if !s.others.is_empty() {
            t.push_str(&format!(
                "New for {}. The ledger on {}:\n",
                actor_label(&s.actor),
                s.topic.replace('_', " ")
            ));
            for o in &s.others {
                t.push_str(&format!(
                    "  {}: {} — {}\n",
                    actor_label(&o.actor),
                    o.stance,
                    header_safe(&o.sentence)
                ));
            }
        }
        t.push('\n');
    }
    let src = alert.source;
    t.push_str(&format!("Source: {}\n", header_safe(&src.title)));
    t.push_str(&format!("Outlet: {}\n", header_safe(&src.outlet)));
    if let Some(d) = &src.published {
        t.push_str(&format!("Date:   {}\n", header_safe(d)));
    }
    if let Some(l) = &src.link {
        t.push_str(&format!("Link:   {}\n", header_safe(l)));
    }
    if !alert.corroborating.is_empty() {
        t.push_str("Also reported by:\n");
        for c in alert.corroborating {
            t.push_str(&format!("  {}\n", header_safe(c)));
        }
    }
    if let Some(m) = alert.matrix {
        t.push('\n');
        t.push_str(&matrix_text(m));
    }
    t.push_str("\n-- \nstancewatch\n");
    t
}

/// Turns `*word*` marks (stance words) into highlighted HTML.
fn marks_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut open = false;
    for (i, c) in html.char_indices() {
        if c == '*' {
            // a mark opens before a word and closes after one
            let next_word = html[i + 1..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
            let prev_word = html[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
            if !open && next_word {
                out.push_str("<mark>");
                open = true;
                continue;
            }
            if open && prev_word {
                out.push_str("</mark>");
                open = false;
                continue;
            }
        }
        out.push(c);
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// Turns the `[-…-]{+…+}` markup into coloured HTML spans.
fn diff_html(diff: &str) -> String {
    let mut out = String::new();
    let mut rest = diff;
    while !rest.is_empty() {
        let del = rest.find("[-");
        let ins = rest.find("{+");
        let next = match (del, ins) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(pos) = next else {
            out.push_str(&escape_html(rest));
            break;
        };
        out.push_str(&escape_html(&rest[..pos]));
        let is_del = rest[pos..].starts_with("[-");
        let close = if is_del { "-]" } else { "+}" };
        let body_start = pos + 2;
        match rest[body_start..].find(close) {
            Some(end) => {
                let inner = escape_html(&rest[body_start..body_start + end]);
                if is_del {
                    out.push_str(&format!(
                        "<del style=\"background:#fdd;color:#900\">{inner}</del>"
                    ));
                } else {
                    out.push_str(&format!("<ins style=\"background:#dfd;color:#060;text-decoration:none\">{inner}</ins>"));
                }
                rest = &rest[body_start + end + 2..];
            }
            None => {
                out.push_str(&escape_html(&rest[pos..]));
                break;
            }
        }
    }
    out
}

pub fn html_body(alert: &Alert<'_>) -> String {
    let mut h = String::from(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;max-width:640px\">",
    );
    for s in alert.shifts {
        h.push_str(&format!(
            "<h2 style=\"font-size:18px\">{} on {}: {} &rarr; <b>{}</b></h2><p style=\"color:#555\">{}, confidence {:.2}</p>",
            escape_html(&actor_label(&s.actor)),
            escape_html(&s.topic.replace('_', " ")),
            from_str(s),
            s.to,
            s.kind.as_str(),
            s.confidence
        ));
        if s.speaker != s.actor {
            h.push_str(&format!(
                "<p>Said by {} about {}</p>",
                escape_html(&actor_label(&s.speaker)),
                escape_html(&actor_label(&s.actor))
            ));
        }
        h.push_str(&format!(
            "<p><b>Now:</b> {}</p>",
            marks_html(&escape_html(&crate::compare::mark(
                &s.sentence,
                &s.stance_words
            )))
        ));
        if !s.baseline_sentence.is_empty() {
            h.push_str(&format!(
                "<p><b>Baseline:</b> {}</p>",
                marks_html(&escape_html(&crate::compare::mark(
                    &s.baseline_sentence,
                    &s.baseline_stance_words
                )))
            ));
            h.push_str(&format!(
                "<p><b>Diff:</b> {}</p>",
                marks_html(&diff_html(&s.marked_diff))
            ));
        } else if !s.others.is_empty() {
            h.push_str(&format!(
                "<p>New for {}. The ledger on {}:</p><ul>",
                escape_html(&actor_label(&s.actor)),
                escape_html(&s.topic.replace('_', " "))
            ));
            for o in &s.others {
                h.push_str(&format!(
                    "<li>{}: <b>{}</b> — {}</li>",
                    escape_html(&actor_label(&o.actor)),
                    o.stance,
                    escape_html(&o.sentence)
                ));
            }
            h.push_str("</ul>");
        }
    }
    let src = alert.source;
    h.push_str("<hr><p>");
    match src
        .link
        .as_deref()
        .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
    {
        Some(l) => h.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            escape_html(l),
            escape_html(&src.title)
        )),
        None => h.push_str(&escape_html(&src.title)),
    }
    h.push_str(&format!("<br>{}", escape_html(&src.outlet)));
    if let Some(d) = &src.published {
        h.push_str(&format!(" &middot; {}", escape_html(d)));
    }
    h.push_str("</p>");
    if !alert.corroborating.is_empty() {
        h.push_str("<p>Also reported by:<br>");
        let items: Vec<String> = alert.corroborating.iter().map(|c| escape_html(c)).collect();
        h.push_str(&items.join("<br>"));
        h.push_str("</p>");
    }
    if let Some(m) = alert.matrix {
        h.push_str(
            "<p style=\"color:#555\">Positions, baseline &gt; now (changed cells highlighted):</p>",
        );
        h.push_str(&matrix_html(m));
    }
    h.push_str("</body></html>");
    h
}

/// The `X-Stancewatch-Shift` header values, one per shift.
pub fn shift_headers(shifts: &[Shift]) -> Vec<String> {
    shifts
        .iter()
        .map(|s| {
            header_safe(&format!(
                "{}/{}/{}->{}",
                s.actor,
                s.topic,
                from_str(s),
                s.to
            ))
        })
        .collect()
}

/// What goes into one message.
struct Parts<'a> {
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    shift_headers: &'a [String],
    message_id: &'a str,
    thread: Option<&'a str>,
    /// `X-Stancewatch-Feed: failing|recovered URL` on feed-health notices.
    feed_header: Option<&'a str>,
}

/// Builds a message from its parts: headers, then text and HTML twins.
fn assemble(
    parts: &Parts<'_>,
    from: &str,
    to: &[String],
    date: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    let Parts {
        subject,
        text,
        html,
        shift_headers,
        message_id,
        thread,
        feed_header,
    } = *parts;
    let mut b = Message::builder()
        .from(from.parse::<Mailbox>()?)
        .subject(header_safe(subject))
        .date(date.into())
        .message_id(Some(message_id.to_string()));
    if let Some(t) = thread {
        b = b.in_reply_to(t.to_string()).references(t.to_string());
    }
    for t in to {
        b = b.to(t.parse::<Mailbox>()?);
    }
    let msg = b.multipart(
        MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text.to_string()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.to_string()),
            ),
    )?;
    let mut raw = Vec::new();
    if let Some(f) = feed_header {
        raw.extend_from_slice(format!("X-Stancewatch-Feed: {}\r\n", header_safe(f)).as_bytes());
    }
    for v in shift_headers {
        raw.extend_from_slice(format!("X-Stancewatch-Shift: {}\r\n", header_safe(v)).as_bytes());
    }
    raw.extend_from_slice(&msg.formatted());
    Ok(raw)
}

/// One queued alert, as a digest needs it.
#[derive(Debug, Clone)]
pub struct DigestItem<'a> {
    pub key: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub shift_headers: &'a [String],
}

/// Renders several queued alerts as one digest message.
pub fn render_digest(
    items: &[DigestItem<'_>],
    from: &str,
    to: &[String],
    date: DateTime<Utc>,
) -> anyhow::Result<Rendered> {
    let keys: Vec<&str> = items.iter().map(|i| i.key).collect();
    let key = format!("digest-{}", hash_hex(&keys));
    let n: usize = items.iter().map(|i| i.shift_headers.len().max(1)).sum();
    let subject = format!(
        "stancewatch digest: {n} position change{}",
        if n == 1 { "" } else { "s" }
    );
    let mut text = String::new();
    let mut html = String::from(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;max-width:640px\">",
    );
    for (i, it) in items.iter().enumerate() {
        text.push_str(&format!("== {}. {}\n\n", i + 1, header_safe(it.subject)));
        text.push_str(it.text.trim_end_matches("\n-- \nstancewatch\n"));
        text.push_str("\n\n");
        let inner = it
            .html
            .trim_start_matches(
                "<!DOCTYPE html><html><body style=\"font-family:sans-serif;max-width:640px\">",
            )
            .trim_end_matches("</body></html>");
        html.push_str(&format!(
            "<h1 style=\"font-size:20px\">{}. {}</h1>{inner}<hr>",
            i + 1,
            escape_html(it.subject)
        ));
    }
    text.push_str("-- \nstancewatch\n");
    html.push_str("</body></html>");
    let headers: Vec<String> = items
        .iter()
        .flat_map(|i| i.shift_headers.iter().cloned())
        .collect();
    let domain = from
        .rsplit('@')
        .next()
        .unwrap_or("localhost")
        .trim_end_matches('>')
        .to_string();
    let message_id = format!("<{key}@{domain}>");
    let parts = Parts {
        subject: &subject,
        text: &text,
        html: &html,
        shift_headers: &headers,
        message_id: &message_id,
        thread: None,
        feed_header: None,
    };
    let raw = assemble(&parts, from, to, date)?;
    Ok(Rendered {
        key,
        subject,
        text,
        html,
        raw,
    })
}

/// Renders a feed-health notice: `kind` is "failing" or "recovered".
pub fn render_feed_notice(
    url: &str,
    kind: &str,
    detail: &str,
    from: &str,
    to: &[String],
    date: DateTime<Utc>,
) -> anyhow::Result<Rendered> {
    let key = format!("feed-{kind}-{}", hash_hex(&[url, &date.to_rfc3339()]));
    let subject = header_safe(&format!("Feed {kind}: {url}"));
    let text = format!(
        "Feed {kind}: {url}\n\n{}\n\n-- \nstancewatch\n",
        header_safe(detail)
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;max-width:640px\"><h2 style=\"font-size:18px\">Feed {}: {}</h2><p>{}</p></body></html>",
        escape_html(kind),
        escape_html(url),
        escape_html(detail)
    );
    let domain = from
        .rsplit('@')
        .next()
        .unwrap_or("localhost")
        .trim_end_matches('>')
        .to_string();
    let message_id = format!("<{key}@{domain}>");
    let feed_header = format!("{kind} {url}");
    let parts = Parts {
        subject: &subject,
        text: &text,
        html: &html,
        shift_headers: &[],
        message_id: &message_id,
        thread: None,
        feed_header: Some(&feed_header),
    };
    let raw = assemble(&parts, from, to, date)?;
    Ok(Rendered {
        key,
        subject,
        text,
        html,
        raw,
    })
}

/// Renders the whole message.
pub fn render(
    alert: &Alert<'_>,
    from: &str,
    to: &[String],
    date: DateTime<Utc>,
) -> anyhow::Result<Rendered> {
    let key = alert_key(alert.source, alert.shifts, alert.changes_before);
    let subject = subject(alert.shifts);
    let text = text_body(alert);
    let html = html_body(alert);
    let domain = from
        .rsplit('@')
        .next()
        .unwrap_or("localhost")
        .trim_end_matches('>')
        .to_string();
    let first = &alert.shifts[0];
    let thread = format!("<{}.{}@{}>", first.actor, first.topic, domain);
    let message_id = format!("<{key}@{domain}>");
    let headers = shift_headers(alert.shifts);
    let parts = Parts {
        subject: &subject,
        text: &text,
        html: &html,
        shift_headers: &headers,
        message_id: &message_id,
        thread: Some(&thread),
        feed_header: None,
    };
    let raw = assemble(&parts, from, to, date)?;
    Ok(Rendered {
        key,
        subject,
        text,
        html,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::ShiftKind;

    fn shift(title_noise: &str) -> (Source, Vec<Shift>) {
        let src = Source {
            title: format!("Kremlin shifts{title_noise}"),
            outlet: "Wire".into(),
            link: Some("https://example.com/a".into()),
            published: Some("2026-02-01".into()),
        };
        let s = Shift {
            actor: "russia".into(),
            topic: "foreign_force".into(),
            from: Some(Stance::Opposes),
            to: Stance::Conditional,
            kind: ShiftKind::Shift,
            speaker: "russia".into(),
            confidence: 0.9,
            sentence: "Moscow could accept <b>neutral</b> peacekeepers.".into(),
            baseline_sentence: "Russia rejected peacekeepers.".into(),
            diff: "[-Russia rejected-] {+Moscow could accept <b>neutral</b>+} peacekeepers.".into(),
            stance_words: vec!["could".into(), "accept".into()],
            baseline_stance_words: vec!["rejected".into()],
            marked_diff:
                "[-Russia *rejected*-] {+Moscow *could* *accept* <b>neutral</b>+} peacekeepers."
                    .into(),
            others: Vec::new(),
        };
        (src, vec![s])
    }

    #[test]
    fn headers_and_parts() {
        let (src, shifts) = shift("");
        let r = render(
            &Alert {
                source: &src,
                shifts: &shifts,
                changes_before: 0,
                matrix: None,
                corroborating: &[],
            },
            "sw@localhost",
            &["a@localhost".into()],
            Utc::now(),
        )
        .unwrap();
        let raw = String::from_utf8(r.raw).unwrap();
        assert!(
            raw.starts_with("X-Stancewatch-Shift: russia/foreign_force/opposes->conditional\r\n")
        );
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains(&format!("Message-ID: <{}@localhost>", r.key)));
        assert_eq!(r.subject, "Russia · foreign force: opposes → conditional");
        assert!(r.html.contains("&lt;b&gt;neutral&lt;/b&gt;"));
        assert!(!r.html.contains("<b>neutral"));
    }

    #[test]
    fn newlines_in_titles_add_no_header() {
        let (src, shifts) = shift("\r\nBcc: victim@example.com");
        let r = render(
            &Alert {
                source: &src,
                shifts: &shifts,
                changes_before: 0,
                matrix: None,
                corroborating: &[],
            },
            "sw@localhost",
            &["a@localhost".into()],
            Utc::now(),
        )
        .unwrap();
        let raw = String::from_utf8(r.raw).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(
            !head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{head}"
        );
    }

    fn fixture() -> (Source, Vec<Shift>, Matrix) {
        let src = Source {
            title: "Kremlin aide: Moscow could live with neutral peacekeepers".into(),
            outlet: "Continental Wire".into(),
            link: Some("https://wire.example/kremlin-neutral".into()),
            published: Some("2026-02-12 09:30 UTC".into()),
        };
        let shifts = vec![
            Shift {
                actor: "russia".into(),
                topic: "foreign_force".into(),
                from: Some(Stance::Opposes),
                to: Stance::Conditional,
                kind: ShiftKind::Shift,
                speaker: "russia".into(),
                confidence: 0.9,
                sentence: "Moscow could accept peacekeepers in Ukraine only if they came from neutral countries.".into(),
                baseline_sentence: "Russia again rejected the post-war presence of European peacekeepers in Ukraine.".into(),
                diff: crate::compare::word_diff(
                    "Russia again rejected the post-war presence of European peacekeepers in Ukraine.",
                    "Moscow could accept peacekeepers in Ukraine only if they came from neutral countries.",
                ),
                stance_words: vec!["accept".into(), "only".into(), "if".into()],
                baseline_stance_words: vec!["rejected".into()],
                marked_diff: crate::compare::marked_word_diff(
                    "Russia again rejected the post-war presence of European peacekeepers in Ukraine.",
                    "Moscow could accept peacekeepers in Ukraine only if they came from neutral countries.",
                    &["rejected".to_string()],
                    &["accept".to_string(), "only".to_string(), "if".to_string()],
                ),
                others: Vec::new(),
            },
            Shift {
                actor: "us".into(),
                topic: "security_guarantees".into(),
                from: Some(Stance::Conditional),
                to: Stance::Supports,
                kind: ShiftKind::Shift,
                speaker: "russia".into(),
                confidence: 0.8,
                sentence: "Ushakov said Washington had offered Kyiv a 15-year guarantee.".into(),
                baseline_sentence: "Trump signalled readiness to commit to Ukraine's defence, but only because he believes Russia would not invade again.".into(),
                diff: crate::compare::word_diff(
                    "Trump signalled readiness to commit to Ukraine's defence, but only because he believes Russia would not invade again.",
                    "Ushakov said Washington had offered Kyiv a 15-year guarantee.",
                ),
                stance_words: vec!["offered".into()],
                baseline_stance_words: vec!["readiness".into(), "only".into(), "because".into()],
                marked_diff: crate::compare::marked_word_diff(
                    "Trump signalled readiness to commit to Ukraine's defence, but only because he believes Russia would not invade again.",
                    "Ushakov said Washington had offered Kyiv a 15-year guarantee.",
                    &["readiness".to_string(), "only".to_string(), "because".to_string()],
                    &["offered".to_string()],
                ),
                others: Vec::new(),
            },
            Shift {
                actor: "italy".into(),
                topic: "own_troops".into(),
                from: None,
                to: Stance::Opposes,
                kind: ShiftKind::New,
                speaker: "italy".into(),
                confidence: 0.85,
                sentence: "Rome will not send soldiers to Ukraine, the defence minister said.".into(),
                baseline_sentence: String::new(),
                diff: String::new(),
                stance_words: vec!["not".into(), "send".into()],
                baseline_stance_words: Vec::new(),
                marked_diff: String::new(),
                others: vec![crate::compare::Other {
                    actor: "uk".into(),
                    stance: Stance::Supports,
                    sentence: "London is ready to put soldiers on the ground in Ukraine.".into(),
                }],
            },
        ];
        let matrix = Matrix {
            topics: vec![
                "security_guarantees".into(),
                "foreign_force".into(),
                "own_troops".into(),
            ],
            rows: vec![
                MatrixRow {
                    actor: "russia".into(),
                    cells: vec![
                        (None, None),
                        (Some(Stance::Opposes), Some(Stance::Conditional)),
                        (None, None),
                    ],
                },
                MatrixRow {
                    actor: "us".into(),
                    cells: vec![
                        (Some(Stance::Conditional), Some(Stance::Supports)),
                        (Some(Stance::Supports), Some(Stance::Supports)),
                        (Some(Stance::Opposes), Some(Stance::Opposes)),
                    ],
                },
            ],
        };
        (src, shifts, matrix)
    }

    #[test]
    fn text_part_snapshot() {
        let (src, shifts, m) = fixture();
        insta::assert_snapshot!(text_body(&Alert {
            source: &src,
            shifts: &shifts,
            changes_before: 0,
            matrix: Some(&m),
            corroborating: &[],
        }));
    }

    #[test]
    fn html_part_snapshot() {
        let (src, shifts, m) = fixture();
        insta::assert_snapshot!(html_body(&Alert {
            source: &src,
            shifts: &shifts,
            changes_before: 0,
            matrix: Some(&m),
            corroborating: &[],
        }));
    }

    #[test]
    fn subject_lists_what_moved() {
        let (_, shifts, _) = fixture();
        assert_eq!(
            subject(&shifts),
            "Russia · foreign force: opposes → conditional (+2 more)"
        );
    }

    #[test]
    fn only_http_links_become_links() {
        let (mut src, shifts, _) = fixture();
        src.link = Some("javascript:alert(1)".into());
        let h = html_body(&Alert {
            source: &src,
            shifts: &shifts,
            changes_before: 0,
            matrix: None,
            corroborating: &[],
        });
        assert!(!h.contains("href"), "{h}");
        assert!(!h.contains("<img"));
    }

    fn header_block(raw: &[u8]) -> String {
        let s = String::from_utf8_lossy(raw);
        s.split("\r\n\r\n").next().unwrap_or("").to_string()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Whatever a feed puts in a title or sentence, the message has
        /// exactly the headers we set.
        #[test]
        fn any_title_renders_exactly_the_expected_headers(title in "\\PC*", noise in "[\\r\\n a-zA-Z:@<>]{0,40}") {
            let (mut src, mut shifts, _) = fixture();
            src.title = format!("{title}{noise}");
            shifts[0].sentence = format!("{noise}{title}");
            let r = render(&Alert { source: &src, shifts: &shifts, changes_before: 0, matrix: None, corroborating: &[] }, "sw@localhost", &["a@localhost".to_string()], Utc::now()).unwrap();
            let head = header_block(&r.raw);
            // unfold continuation lines, then count header names
            let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
            let names: Vec<String> = unfolded.split("\r\n").map(|l| l.split(':').next().unwrap_or("").to_ascii_lowercase()).collect();
            let count = |n: &str| names.iter().filter(|x| *x == n).count();
            proptest::prop_assert_eq!(count("x-stancewatch-shift"), 3);
            proptest::prop_assert_eq!(count("from"), 1);
            proptest::prop_assert_eq!(count("to"), 1);
            proptest::prop_assert_eq!(count("subject"), 1);
            proptest::prop_assert_eq!(count("bcc"), 0);
            proptest::prop_assert_eq!(count("cc"), 0);
            let allowed = ["x-stancewatch-shift", "from", "to", "subject", "date", "message-id", "in-reply-to", "references", "mime-version", "content-type"];
            for n in &names {
                proptest::prop_assert!(allowed.contains(&n.as_str()), "unexpected header {n} in {head}");
            }
        }
    }
}
