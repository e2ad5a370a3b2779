//! Article text → claims (actor, topic, stance, speaker, confidence, sentence).
//!
//! Pure: values in, values out, no IO and no clock. The rules are general
//! (clauses, negation scope, conditions, passive agents, reported speech,
//! denials, pronouns); every word they look for comes from the [`Profile`].
//!
//! What this module does not do: decide whether a claim is news. That is
//! [`crate::compare`]'s job, against the ledger.

pub mod text;

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::profile::{CueKind, Hit, Marker, MentionKind, Profile, TermKind};
use text::{Token, tokenize};

/// A position on a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stance {
    Supports,
    Opposes,
    Conditional,
}

impl Stance {
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Supports => "supports",
            Stance::Opposes => "opposes",
            Stance::Conditional => "conditional",
        }
    }

    pub fn parse(s: &str) -> Option<Stance> {
        match s {
            "supports" => Some(Stance::Supports),
            "opposes" => Some(Stance::Opposes),
            "conditional" => Some(Stance::Conditional),
            _ => None,
        }
    }
}

impl fmt::Display for Stance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One position found in one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub actor: String,
    pub topic: String,
    pub stance: Stance,
    /// Who is quoted; differs from `actor` in reported speech.
    pub speaker: String,
    pub confidence: f64,
    pub sentence: String,
}

/// What the engine read in one article.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub relevant: bool,
    /// The article's own date, when its header gives one.
    pub date: Option<NaiveDate>,
    /// One claim per (actor, topic): the best-supported one.
    pub claims: Vec<Claim>,
}

/// Analyses an article: `title` and `body` are plain text, paragraphs
/// separated by newlines.
pub fn analyze(profile: &Profile, title: &str, body: &str) -> Analysis {
    analyze_inner(profile, title, body, false, &Budget::unlimited())
        .expect("an unlimited budget is never spent")
}

/// Analyses an article as long as `budget` lasts.
pub fn analyze_within(
    profile: &Profile,
    title: &str,
    body: &str,
    budget: &Budget<'_>,
) -> Result<Analysis, OverBudget> {
    analyze_inner(profile, title, body, false, budget)
}

/// Analyses a seed article: seeds are relevant by definition, whatever
/// their date, and have no separate title line.
pub fn analyze_seed(profile: &Profile, text: &str) -> Analysis {
    analyze_inner(profile, "", text, true, &Budget::unlimited())
        .expect("an unlimited budget is never spent")
}

/// How long the analysis of one article may go on: the caller decides (a
/// pass measures time), the analysis asks between sentences.
pub struct Budget<'a> {
    spent: Option<&'a (dyn Fn() -> bool + 'a)>,
}

impl<'a> Budget<'a> {
    /// No limit (seeds, files given on the command line).
    pub fn unlimited() -> Budget<'static> {
        Budget { spent: None }
    }

    /// A limit: `spent` answers whether it has been reached.
    pub fn new(spent: &'a (dyn Fn() -> bool + 'a)) -> Budget<'a> {
        Budget { spent: Some(spent) }
    }

    fn check(&self) -> Result<(), OverBudget> {
        match self.spent {
            Some(f) if f() => Err(OverBudget),
            _ => Ok(()),
        }
    }
}

/// The analysis of an article was stopped: it had used up its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("analysis stopped: the article used up its budget")]
pub struct OverBudget;

/// Bytes of an article's body that are read; the rest is not.
pub const MAX_TEXT: usize = 200_000;
/// Bytes of the longest sentence read as one; a longer run without a
/// sentence end (a page of unpunctuated text) is read in pieces this long.
pub const MAX_SENTENCE: usize = 1_500;

/// The longest prefix of `s` of at most `n` bytes that ends on a character.
fn prefix(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Pieces of at most [`MAX_SENTENCE`] bytes, cut at a space where there is one.
fn pieces(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let head = prefix(rest, MAX_SENTENCE);
        let cut = if head.len() < rest.len() {
            head.rfind(' ').filter(|&i| i > 0).unwrap_or(head.len())
        } else {
            head.len()
        };
        let (piece, tail) = rest.split_at(cut);
        rest = tail.trim_start();
        Some(piece)
    })
}

fn analyze_inner(
    profile: &Profile,
    title: &str,
    body: &str,
    seed: bool,
    budget: &Budget<'_>,
) -> Result<Analysis, OverBudget> {
    tracing::trace!(title, seed, "article");
    let body = prefix(body, MAX_TEXT);
    let mut header_lines = Vec::new();
    let mut sentences: Vec<String> = Vec::new();
    let mut seen_body = false;
    for line in body.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if !seen_body && (text::is_boilerplate_line(t) || text::is_heading(t)) {
            header_lines.push(t.to_string());
            continue;
        }
        if text::is_boilerplate_line(t) || text::is_heading(t) {
            continue;
        }
        seen_body = true;
        let t = text::strip_dateline(t);
        for (a, b) in text::sentence_ranges(t) {
            for s in pieces(t[a..b].trim()) {
                if !s.is_empty() {
                    sentences.push(s.to_string());
                }
            }
        }
    }
    let date = header_lines
        .iter()
        .take(6)
        .find_map(|l| find_date(l))
        .or_else(|| {
            // a date in the first sentence's dateline is also the article's
            body.lines().take(8).find_map(find_date)
        });
    let title_toks = profile.tokenize(title);
    let opinion = is_opinion(profile, title, &header_lines);
    let stale = date.is_some_and(|d| d < profile.since);

    let mut on_topic = 0usize;
    let mut off_topic = 0usize;
    let title_anchor = profile.anchors.any(&title_toks);
    let title_off = profile.off_topic.any(&title_toks);
    let mut all_toks = Vec::with_capacity(sentences.len());
    for s in &sentences {
        budget.check()?;
        let toks = profile.tokenize(s);
        let off = profile.off_topic.any(&toks);
        let base = base_topics(profile, &toks);
        let strong = base.iter().any(|h| h.kind != TermKind::Weak);
        if off {
            off_topic += 1;
        } else if strong && (profile.anchors.any(&toks) || title_anchor) {
            on_topic += 1;
        }
        all_toks.push((toks, base));
    }
    if title_off {
        off_topic += 2;
    }
    let relevant = seed || (!stale && on_topic > 0 && on_topic >= off_topic);

    let mut claims: Vec<Claim> = Vec::new();
    if relevant && (seed || !opinion) {
        let mut ctx = Context::default();
        for (s, (toks, base)) in sentences.iter().zip(&all_toks) {
            budget.check()?;
            let found = sentence_claims(profile, s, toks, base, &mut ctx);
            for c in found {
                merge_claim(&mut claims, c);
            }
        }
    }
    Ok(Analysis {
        relevant,
        date,
        claims,
    })
}

/// Keeps one claim per (actor, topic): the most confident, the earliest on a tie.
fn merge_claim(claims: &mut Vec<Claim>, c: Claim) {
    if let Some(old) = claims
        .iter_mut()
        .find(|o| o.actor == c.actor && o.topic == c.topic)
    {
        if c.confidence > old.confidence + 1e-9 {
            *old = c;
        }
    } else {
        claims.push(c);
    }
}

fn is_opinion(profile: &Profile, title: &str, header: &[String]) -> bool {
    let tt = tokenize(title);
    // "Opinion: …", "Comment | …"
    if tt.len() > 1
        && profile.opinion.longest_at(&tt, 0).is_some()
        && matches!(tt[1].norm.as_str(), ":" | "|" | "-")
    {
        return true;
    }
    header.iter().take(4).any(|l| {
        let toks = tokenize(l);
        // a label line: the word stands alone between separators
        toks.iter().enumerate().any(|(i, _)| {
            profile.opinion.longest_at(&toks, i).is_some_and(|h| {
                let before =
                    i == 0 || matches!(toks[i - 1].norm.as_str(), "|" | "›" | "/" | "-" | ":");
                let after = h.end == toks.len()
                    || matches!(toks[h.end].norm.as_str(), "|" | "›" | "/" | "-" | ":");
                before && after
            })
        })
    })
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_of(w: &str) -> Option<u32> {
    // "September." is the longest form
    if !(3..=10).contains(&w.len()) || !w.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let w = w.to_ascii_lowercase();
    let w = w.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    for (i, m) in MONTHS.iter().enumerate() {
        if (w.starts_with(m) && full[i].starts_with(w)) || (w == "sept" && i == 8) {
            return Some(i as u32 + 1);
        }
    }
    None
}

/// Finds the first full date in a line: "17 December 2021", "Dec. 23, 2025",
/// "24.12.2025", "2025-12-03".
pub fn find_date(line: &str) -> Option<NaiveDate> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == '|')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        // ISO
        if let Some(head) = w.get(..10)
            && head.as_bytes()[0].is_ascii_digit()
        {
            if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
                return Some(d);
            }
            if let Ok(d) = NaiveDate::parse_from_str(head, "%d.%m.%Y") {
                return Some(d);
            }
        }
        let year = |s: &str| -> Option<i32> {
            let y: i32 = s.trim_end_matches(['.', ';', ':']).parse().ok()?;
            (1900..=2100).contains(&y).then_some(y)
        };
        if let Some(m) = month_of(w) {
            // Month Day Year
            if i + 2 < words.len()
                && let (Ok(d), Some(y)) = (
                    words[i + 1].trim_end_matches(['.', ',']).parse::<u32>(),
                    year(words[i + 2]),
                )
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                return Some(date);
            }
            // Day Month Year
            if i >= 1
                && i + 1 < words.len()
                && let (Ok(d), Some(y)) = (words[i - 1].parse::<u32>(), year(words[i + 1]))
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                return Some(date);
            }
        }
    }
    None
}

/// What carries from one sentence to the next: who "he" and "it" are.
#[derive(Debug, Default, Clone)]
struct Context {
    last_person: Option<usize>,
    last_actor: Option<usize>,
    /// Whose proposal, plan or draft was named last ("Trump's proposal").
    last_doc_owner: Option<usize>,
    /// The sentence before was history.
    prev_historic: bool,
}

/// A document noun at `i`, after at most two modifiers ("original proposal",
/// "20-point plan"): returns the token after it.
fn doc_noun_at(profile: &Profile, toks: &[Token], i: usize) -> Option<usize> {
    (i..(i + 4).min(toks.len()))
        .take_while(|k| toks[*k].is_word() || toks[*k].norm == "-")
        .find_map(|k| profile.doc_nouns.longest_at(toks, k).map(|h| h.end))
}

/// How a mention of an actor works in its sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Can hold a position.
    Holder,
    /// Names whose troops ("Italian soldiers").
    TroopOwner,
}

#[derive(Debug, Clone)]
struct Mention {
    actor: usize,
    start: usize,
    end: usize,
    kind: MentionKind,
    role: Role,
    /// Resolved from a pronoun or a role noun.
    pronoun: bool,
    /// "the proposal": stands for its owner's document.
    doc: bool,
}

impl Mention {
    /// A mention resolved from a pronoun, a role noun or a document noun.
    fn resolved(actor: usize, start: usize, end: usize, kind: MentionKind, doc: bool) -> Mention {
        Mention {
            actor,
            start,
            end,
            kind,
            role: Role::Holder,
            pronoun: true,
            doc,
        }
    }
}

#[derive(Debug, Clone)]
struct TopicHit {
    topic: usize,
    start: usize,
    end: usize,
    kind: TermKind,
    owner: Option<usize>,
}

const PREPOSITIONS: &[&str] = &[
    "for", "to", "in", "into", "on", "of", "from", "against", "with", "toward", "towards", "about",
    "between", "inside", "than", "over", "at", "under", "across", "without", "despite", "like",
    "near", "beyond", "upon", "among", "behind", "after", "before", "through", "within", "around",
];

fn is_punct(t: &Token) -> bool {
    !t.is_word() && t.norm != "'s" && t.norm != "n't"
}

/// The claims of one sentence.
fn sentence_claims(
    profile: &Profile,
    sentence: &str,
    toks: &[Token],
    base: &[TopicHit],
    ctx: &mut Context,
) -> Vec<Claim> {
    let mentions = find_mentions(profile, sentence, toks, ctx);
    // update the carried context from this sentence, whatever it yields
    let mut next_ctx = ctx.clone();
    for m in &mentions {
        if m.role != Role::Holder || m.pronoun {
            continue;
        }
        if m.kind == MentionKind::Person && next_ctx.last_person.is_none_or(|_| true) {
            next_ctx.last_person = Some(m.actor);
        }
    }
    for m in &mentions {
        if m.role == Role::Holder
            && !m.pronoun
            && toks.get(m.end).is_some_and(|t| t.norm == "'s")
            && doc_noun_at(profile, toks, m.end + 1).is_some()
        {
            next_ctx.last_doc_owner = Some(m.actor);
        }
    }
    // the sentence's subject, when it is an actor, is what "it" points at next
    let subject = mentions
        .iter()
        .find(|m| m.role == Role::Holder && !m.pronoun)
        .filter(|m| m.start <= 3 || (m.start > 0 && toks[m.start - 1].norm == ","));
    next_ctx.last_actor = subject.map(|m| m.actor);
    if let Some(m) = subject.filter(|m| m.kind == MentionKind::Person) {
        next_ctx.last_person = Some(m.actor);
    }
    // history: a year before the profile's, or "that spring" after a historic sentence
    let since_year = profile.since.year();
    // a trailing ", echoing the language of 2024" does not date the main clause
    let main_end = (1..toks.len())
        .find(|&k| {
            toks[k - 1].norm == ","
                && (toks[k].norm.ends_with("ing") && toks[k].norm.len() > 4
                    || matches!(toks[k].norm.as_str(), "which" | "who"))
        })
        .unwrap_or(toks.len());
    let old_year = toks[..main_end].iter().any(|t| {
        t.norm.len() == 4
            && t.norm.chars().all(|c| c.is_ascii_digit())
            && t.norm
                .parse::<i32>()
                .is_ok_and(|y| (1900..since_year).contains(&y))
    });
    let back_reference = toks.windows(2).any(|w| {
        matches!(
            (w[0].norm.as_str(), w[1].norm.as_str()),
            (
                "that",
                "spring" | "summer" | "autumn" | "winter" | "year" | "month" | "week"
            ) | ("at", "the")
                | ("the", "following")
                | ("years", "later")
                | ("months", "later")
        )
    });
    let said_before = profile
        .past
        .find_all(&toks[..main_end])
        .iter()
        .any(|h| h.start == 0 || toks[h.start - 1].norm != "since");
    let historic = old_year || said_before || (ctx.prev_historic && back_reference);
    next_ctx.prev_historic = historic;
    let claims = if historic {
        Vec::new()
    } else {
        sentence_claims_inner(profile, sentence, toks, base, &mentions)
    };
    *ctx = next_ctx;
    claims
}

fn find_mentions(profile: &Profile, sentence: &str, toks: &[Token], ctx: &Context) -> Vec<Mention> {
    let own = profile
        .topics
        .iter()
        .position(|t| !t.troop_nouns.is_empty());
    let is_troop_noun = |i: usize| -> Option<usize> {
        let t = &profile.topics[own?];
        if i >= toks.len() {
            return None;
        }
        t.troop_nouns.longest_at(toks, i).map(|h| h.end)
    };
    let mut out: Vec<Mention> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let Some(h) = profile.actor_lex.longest_at(toks, i) else {
            // pronouns and role nouns
            let w = toks[i].norm.as_str();
            let starts_clause = i == 0
                || is_punct(&toks[i - 1])
                || matches!(toks[i - 1].norm.as_str(), "said" | "that" | "and" | "but");
            if matches!(w, "he" | "she") && !preceded_by_preposition(toks, i) {
                let actor = out
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::Holder && m.kind == MentionKind::Person)
                    .map(|m| m.actor)
                    .or(ctx.last_person)
                    .or(ctx.last_actor);
                if let Some(a) = actor {
                    out.push(Mention::resolved(a, i, i + 1, MentionKind::Person, false));
                }
            } else if w == "it"
                && (starts_clause
                    || i > 0
                        && matches!(
                            toks[i - 1].norm.as_str(),
                            "them" | "him" | "her" | "reporters" | "journalists" | "us"
                        ))
            {
                let actor = out
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::Holder && m.kind == MentionKind::Alias)
                    .map(|m| m.actor)
                    .or(ctx.last_actor);
                if let Some(a) = actor {
                    out.push(Mention::resolved(a, i, i + 1, MentionKind::Alias, false));
                }
            } else if matches!(w, "the" | "this" | "that")
                && profile.place_nouns.longest_at(toks, i + 1).is_none()
                && {
                    // "the war-torn country": up to three words, then a place noun
                    (i + 1..(i + 5).min(toks.len())).any(|k| {
                        profile.place_nouns.longest_at(toks, k).is_some_and(|_| {
                            (i + 1..k).all(|j| toks[j].is_word() || toks[j].norm == "-")
                        })
                    })
                }
            {
                let k = (i + 1..(i + 5).min(toks.len()))
                    .find(|k| profile.place_nouns.longest_at(toks, *k).is_some())
                    .unwrap_or(i + 1);
                let end = profile
                    .place_nouns
                    .longest_at(toks, k)
                    .map(|h| h.end)
                    .unwrap_or(k + 1);
                let actor = out
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::Holder && m.kind == MentionKind::Alias)
                    .map(|m| m.actor)
                    .or(ctx.last_actor);
                if let Some(a) = actor {
                    out.push(Mention::resolved(a, i, end, MentionKind::Alias, false));
                    i = end;
                    continue;
                }
            } else if matches!(w, "the" | "this")
                && doc_noun_at(profile, toks, i + 1).is_some()
                && ctx.last_doc_owner.is_some()
            {
                // "the proposal": whoever's proposal was named last
                let end = doc_noun_at(profile, toks, i + 1).unwrap_or(i + 2);
                let a = ctx.last_doc_owner.unwrap_or_default();
                out.push(Mention::resolved(a, i, end, MentionKind::Alias, true));
                i = end;
                continue;
            } else if w == "the"
                && starts_clause
                && let Some(r) = profile.person_roles.longest_at(toks, i + 1)
            {
                // "the president said", not "the president of France"
                let followed_by_of = toks.get(r.end).is_some_and(|t| t.norm == "of");
                let actor = ctx.last_person.or(ctx.last_actor);
                if let (false, Some(a)) = (followed_by_of, actor) {
                    out.push(Mention::resolved(a, i, r.end, MentionKind::Person, false));
                    i = r.end;
                    continue;
                }
            }
            i += 1;
            continue;
        };
        let (actor, kind) = h.value;
        let mut end = h.end;
        let mut role = Role::Holder;
        let mut keep = true;
        if let Some(te) = is_troop_noun(end) {
            role = Role::TroopOwner;
            end = te;
        } else if kind == MentionKind::Adjective {
            // "a Ukrainian negotiator", "Russian officials": speaks for the actor
            // one modifier between: "senior", "top", "chief"
            let mut found = None;
            for k in end..(end + 3).min(toks.len()) {
                if let Some(r) = profile.speaker_nouns.longest_at(toks, k) {
                    found = Some(r.end);
                    break;
                }
                if !toks[k].is_word() {
                    break;
                }
            }
            match found {
                Some(e) => end = e,
                None => keep = false,
            }
        }
        if keep {
            // merge "Kremlin spokesman Dmitry Peskov" into one mention
            if let Some(last) = out.last_mut() {
                let gap = h.start.saturating_sub(last.end);
                let between_ok = (last.end..h.start).all(|k| {
                    profile.speaker_nouns.longest_at(toks, k).is_some()
                        || profile.person_roles.longest_at(toks, k).is_some()
                        || sentence[toks[k].start..].starts_with(char::is_uppercase)
                });
                if last.actor == actor
                    && last.role == role
                    && role == Role::Holder
                    && gap <= 3
                    && between_ok
                    && !last.pronoun
                {
                    last.end = end;
                    if kind == MentionKind::Person {
                        last.kind = MentionKind::Person;
                    }
                    i = end;
                    continue;
                }
            }
            out.push(Mention {
                actor,
                start: h.start,
                end,
                kind,
                role,
                pronoun: false,
                doc: false,
            });
        }
        i = end.max(h.end);
    }
    out
}

/// The topic phrases a sentence names by its words alone (terms and pairs).
fn base_topics(profile: &Profile, toks: &[Token]) -> Vec<TopicHit> {
    // nothing in the sentence can start a topic phrase: done
    let present = toks.iter().fold(0u64, |m, t| m | t.mask);
    if !profile.may_name_topic(present) {
        return Vec::new();
    }
    let mut hits: Vec<TopicHit> = profile
        .topic_lex
        .find_all(toks)
        .into_iter()
        .map(|h| TopicHit {
            topic: h.value.0,
            start: h.start,
            end: h.end,
            kind: h.value.1,
            owner: None,
        })
        .collect();
    // "EU membership" is not NATO membership
    for (ti, t) in profile.topics.iter().enumerate() {
        if t.not_terms.is_empty() {
            continue;
        }
        let blocked = t.not_terms.find_all(toks);
        hits.retain(|h| {
            h.topic != ti || !blocked.iter().any(|b| b.start < h.end && h.start < b.end)
        });
    }
    for (ti, t) in profile.topics.iter().enumerate() {
        for p in &t.pairs {
            let a = p.a.find_all(toks);
            let b = p.b.find_all(toks);
            for x in &a {
                if let Some(y) = b.iter().find(|y| {
                    let gap = if y.start >= x.end {
                        y.start - x.end
                    } else {
                        x.start.saturating_sub(y.end)
                    };
                    // an act comes before its place: "withdraw … from Donetsk"
                    let ordered = !p.action || y.start >= x.end;
                    ordered && gap <= p.window && !(x.start < y.end && y.start < x.end)
                }) {
                    let (s, e) = (x.start.min(y.start), x.end.max(y.end));
                    // a pair never spans a clause break
                    if (s..e).any(|k| matches!(toks[k].norm.as_str(), ";" | "?" | "!")) {
                        continue;
                    }
                    if let Some(h) = hits
                        .iter_mut()
                        .find(|h| h.topic == ti && h.start < e && s < h.end)
                    {
                        if p.action {
                            h.start = h.start.min(s);
                            h.end = h.end.max(e);
                            h.kind = TermKind::Action;
                        }
                        continue;
                    }
                    hits.push(TopicHit {
                        topic: ti,
                        start: s,
                        end: e,
                        kind: if p.action {
                            TermKind::Action
                        } else {
                            TermKind::Strong
                        },
                        owner: None,
                    });
                }
            }
        }
    }
    hits
}

/// Adds what actor mentions say about the topics: whose troops, whose plan.
fn with_owners(
    profile: &Profile,
    toks: &[Token],
    mentions: &[Mention],
    mut hits: Vec<TopicHit>,
) -> Vec<TopicHit> {
    // "the coalition's plan to send forces": the plan's owner sends them
    if let Some(own) = profile
        .topics
        .iter()
        .position(|t| !t.troop_nouns.is_empty())
    {
        for h in hits
            .iter_mut()
            .filter(|h| h.topic == own && h.kind == TermKind::Action && h.owner.is_none())
        {
            if h.start >= 3 && toks[h.start - 1].norm == "to" {
                let noun = h.start - 2;
                let is_plan = profile.doc_nouns.longest_at(toks, noun).is_some()
                    || profile.nominal_cues.longest_at(toks, noun).is_some();
                if is_plan
                    && toks[noun - 1].norm == "'s"
                    && let Some(m) = mentions
                        .iter()
                        .find(|m| m.end == noun - 1 && m.role == Role::Holder)
                {
                    h.owner = Some(m.actor);
                }
            }
        }
    }
    // "Italian soldiers": the owner's own troops
    if let Some(own) = profile
        .topics
        .iter()
        .position(|t| !t.troop_nouns.is_empty())
    {
        for m in mentions.iter().filter(|m| m.role == Role::TroopOwner) {
            if profile.topics[own].exclude_actors.contains(&m.actor) {
                continue;
            }
            // already inside another topic's phrase ("withdrawal of Ukrainian troops from Donbas")
            if hits
                .iter()
                .any(|h| h.topic != own && h.start <= m.start && m.end <= h.end)
            {
                continue;
            }
            hits.retain(|h| !(h.topic == own && h.start < m.end && m.start < h.end));
            hits.push(TopicHit {
                topic: own,
                start: m.start,
                end: m.end,
                kind: TermKind::Strong,
                owner: Some(m.actor),
            });
        }
        // "its own troops", "send their soldiers": owner is the holder
    }
    // "sending Polish soldiers", "European soldiers sent to Ukraine",
    // "keep Polish soldiers out": the verb belongs to the troop phrase
    let troop_topics: Vec<usize> = profile
        .topics
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.troop_nouns.is_empty() || t.id == "foreign_force")
        .map(|(i, _)| i)
        .collect();
    for h in hits.iter_mut().filter(|h| troop_topics.contains(&h.topic)) {
        if h.start > 0
            && h.kind != TermKind::Action
            && let Some(v) = profile
                .deploy_verbs
                .longest_at(toks, h.start - 1)
                .filter(|v| v.end == h.start)
        {
            let keep = matches!(toks[v.start].norm.as_str(), "keep" | "keeping");
            let out_follows = toks.get(h.end).is_some_and(|t| t.norm == "out");
            h.start = v.start;
            h.kind = if keep && out_follows {
                TermKind::NegAction
            } else {
                TermKind::Action
            };
            if out_follows {
                h.end += 1;
            }
            continue;
        }
        if let Some(v) = profile.deploy_verbs.longest_at(toks, h.end)
            && (toks[h.end].norm.ends_with("ed") || toks[h.end].norm == "sent")
        {
            h.end = v.end;
        }
    }
    hits.sort_by_key(|h| (h.start, h.end));
    hits
}

#[derive(Debug, Clone)]
struct Cue {
    start: usize,
    end: usize,
    kind: CueKind,
}

/// Token ranges of the clauses of a sentence.
fn clauses(
    profile: &Profile,
    sentence: &str,
    toks: &[Token],
    mentions: &[Mention],
    markers: &[Hit<Marker>],
) -> Vec<(usize, usize)> {
    let mut cuts = Vec::new();
    let _ = mentions;
    let condition_at = |k: usize| {
        markers
            .iter()
            .any(|m| m.start == k && m.value == Marker::Condition)
    };
    for (i, t) in toks.iter().enumerate() {
        let w = t.norm.as_str();
        let prev = if i > 0 { toks[i - 1].norm.as_str() } else { "" };
        let cut = match w {
            ";" => true,
            "but" => {
                let next = i + 1;
                let also = toks.get(next).is_some_and(|t| t.norm == "also");
                // "…, but only if …" stays with its clause
                let cond = condition_at(next) || toks.get(next).is_some_and(|t| t.norm == "only");
                !also && !cond && i > 0
            }
            "whereas" | "although" | "though" => i > 0,
            "while" => prev == ",",
            "and" => {
                let next = i + 1;
                prev == ","
                    || toks
                        .get(next)
                        .is_some_and(|t| matches!(t.norm.as_str(), "that" | "said" | "added"))
            }
            "-" => {
                // a spaced dash: " — "
                let before = sentence[..t.start].ends_with(' ');
                let after = sentence[t.end..].starts_with(' ');
                before && after
            }
            _ => false,
        };
        if cut {
            cuts.push(i);
        }
    }
    let _ = profile;
    let mut out = Vec::new();
    let mut s = 0;
    for c in cuts {
        if c > s {
            out.push((s, c));
        }
        s = c + 1;
    }
    if s < toks.len() {
        out.push((s, toks.len()));
    }
    out
}

fn sentence_claims_inner(
    profile: &Profile,
    sentence: &str,
    toks: &[Token],
    base: &[TopicHit],
    mentions: &[Mention],
) -> Vec<Claim> {
    if toks.is_empty() {
        return Vec::new();
    }
    // questions and sentences that open a hypothetical
    if toks
        .iter()
        .rev()
        .find(|t| !matches!(t.norm.as_str(), "\"" | "'" | ")"))
        .is_some_and(|t| t.norm == "?")
    {
        return Vec::new();
    }
    if matches!(
        toks[0].norm.as_str(),
        "if" | "had"
            | "were"
            | "should"
            | "would"
            | "will"
            | "what"
            | "does"
            | "do"
            | "is"
            | "can"
            | "could"
            | "suppose"
            | "imagine"
    ) {
        return Vec::new();
    }
    if profile.off_topic.any(toks) {
        return Vec::new();
    }
    // counterfactual: "would have placed", not "would have to"
    let counterfactual = toks.windows(3).any(|w| {
        matches!(w[0].norm.as_str(), "would" | "could" | "might")
            && w[1].norm == "have"
            && w[2].norm != "to"
    });
    if counterfactual {
        return Vec::new();
    }
    let mut markers = profile.marker_lex.find_all(toks);
    // "rejected a newspaper report that …": a denial verb aimed at a report
    for v in profile.denial_verbs.find_all(toks) {
        let target = (v.end..(v.end + 4).min(toks.len()))
            .take_while(|k| toks[*k].is_word())
            .find_map(|k| profile.denied_reports.longest_at(toks, k));
        if let Some(r) = target {
            markers.retain(|m| m.end <= v.start || m.start >= r.end);
            markers.push(Hit {
                start: v.start,
                end: r.end,
                value: Marker::Denial,
            });
        }
    }
    markers.sort_by_key(|m| m.start);
    if markers.iter().any(|m| matches!(m.value, Marker::NonActor)) {
        return Vec::new();
    }
    let hyp_all = markers.iter().any(|m| m.value == Marker::Hypothetical);
    if hyp_all {
        return Vec::new();
    }
    let topics = with_owners(profile, toks, mentions, base.to_vec());
    if topics.is_empty() {
        return Vec::new();
    }
    // cues, outside topic phrases and outside denial markers
    let covered = |k: usize| {
        markers.iter().any(|m| {
            matches!(
                m.value,
                Marker::Denial | Marker::Reversal | Marker::Reporting
            ) && m.start <= k
                && k < m.end
        }) || topics.iter().any(|t| t.start <= k && k < t.end)
            || mentions.iter().any(|m| m.start <= k && k < m.end)
    };
    let cues: Vec<Cue> = profile
        .cue_lex
        .find_all(toks)
        .into_iter()
        .filter(|h| !(h.start..h.end).any(covered))
        .map(|h| Cue {
            start: h.start,
            end: h.end,
            kind: h.value,
        })
        .collect();
    let cues = chain_cues(toks, cues);
    let cue_starts: Vec<usize> = cues.iter().map(|c| c.start).collect();
    let clause_list = clauses(profile, sentence, toks, mentions, &markers);
    // condition spans: from the marker to the next comma or clause end
    let mut cond_spans: Vec<(usize, usize)> = Vec::new();
    for m in markers.iter().filter(|m| m.value == Marker::Condition) {
        let (_, ce) = clause_list
            .iter()
            .copied()
            .find(|(a, b)| *a <= m.start && m.start < *b)
            .unwrap_or((0, toks.len()));
        // to the clause end, but not over a trailing ", Merz said on Tuesday"
        let e = (m.end..ce)
            .find(|&k| {
                toks[k].norm == ","
                    && markers.iter().any(|r| {
                        r.value == Marker::Reporting
                            && r.start > k
                            && r.start < ce
                            && r.start <= k + 8
                    })
            })
            .unwrap_or(ce);
        cond_spans.push((m.start, e));
    }
    // "before any guarantees are signed": a time clause, to the next comma
    for m in markers.iter().filter(|m| m.value == Marker::Subordinate) {
        let mut e = m.end;
        while e < toks.len() && !matches!(toks[e].norm.as_str(), "," | ";") {
            e += 1;
        }
        cond_spans.push((m.start, e));
    }
    let in_cond = |k: usize| cond_spans.iter().any(|(a, b)| *a <= k && k < *b);
    if tracing::enabled!(tracing::Level::TRACE) {
        let w = |a: usize, b: usize| {
            toks[a..b]
                .iter()
                .map(|t| t.norm.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        tracing::trace!(
            sentence,
            mentions = ?mentions.iter().map(|m| format!("{}:{}{}", w(m.start, m.end), profile.actor_id(m.actor), if m.pronoun { "*" } else { "" })).collect::<Vec<_>>(),
            topics = ?topics.iter().map(|t| format!("{}:{}", w(t.start, t.end), profile.topic_id(t.topic))).collect::<Vec<_>>(),
            cues = ?cues.iter().map(|c| format!("{}:{:?}", w(c.start, c.end), c.kind)).collect::<Vec<_>>(),
            markers = ?markers.iter().map(|m| format!("{}:{:?}", w(m.start, m.end), m.value)).collect::<Vec<_>>(),
            clauses = ?clause_list.iter().map(|(a, b)| w(*a, *b)).collect::<Vec<_>>(),
            "sentence analysis"
        );
    }
    let speaker = find_speaker(toks, mentions, &markers);

    let mut out: Vec<Claim> = Vec::new();
    let mut carried_holder: Option<Vec<usize>> = None;
    for (ci, &(cs, ce)) in clause_list.iter().enumerate() {
        let mut clause_holder: Option<Vec<usize>> = None;
        // the stance and holders of an outer cue that relays a position
        // ("Putin agreed that …", "felt threatened by the proposal, which …")
        let outer_view = |c1: &Cue| -> Option<(Stance, Vec<usize>)> {
            let st = stance_of(profile, toks, &markers, &cue_starts, cs, c1.start, c1.kind)?;
            let h = choose_holder(
                profile, toks, mentions, &markers, &topics, cs, ce, c1.start, c1.end,
            )?;
            Some((st, h))
        };
        // "… cede the entire Donetsk region — a non-starter for the country":
        // an evaluation after a dash speaks of the clause before it
        if ci > 0
            && toks[cs - 1].norm == "-"
            && !topics.iter().any(|t| cs <= t.start && t.start < ce)
        {
            let (ps, pe) = clause_list[ci - 1];
            let target = topics
                .iter()
                .rfind(|t| ps <= t.start && t.start < pe && !in_cond(t.start));
            let cue = cues.iter().find(|c| cs <= c.start && c.end <= ce);
            if let (Some(t), Some(c)) = (target, cue) {
                let by = toks
                    .get(c.end)
                    .is_some_and(|t| matches!(t.norm.as_str(), "for" | "to"));
                let holder = mentions.iter().find(|m| {
                    m.role == Role::Holder && by && m.start > c.end && m.start <= c.end + 2
                });
                if let (Some(h), Some(st)) = (
                    holder,
                    stance_of(profile, toks, &markers, &cue_starts, cs, c.start, c.kind),
                ) {
                    push_claim(
                        &mut out,
                        make_claim(
                            profile,
                            h.actor,
                            t.topic,
                            st,
                            speaker.unwrap_or(h.actor),
                            0.75,
                            sentence,
                        ),
                    );
                }
            }
        }
        for t in topics.iter().filter(|t| cs <= t.start && t.start < ce) {
            if in_cond(t.start) {
                continue;
            }
            // "whether …", "when asked about …" open a question for the rest of the clause
            if markers
                .iter()
                .any(|m| {
                    m.value == Marker::OpenQuestion
                        && cs <= m.start
                        && m.start < t.start
                        // "weighing whether to", "looking at whether": open, not a question
                        && !cues.iter().any(|c| {
                            c.kind == CueKind::Conditional && c.start <= m.start && m.start <= c.end + 1
                        })
                })
            {
                continue;
            }
            // the governing cue: nearest before the topic, else nearest after
            let before = cues
                .iter()
                .filter(|c| cs <= c.start && c.end <= t.start && !in_cond(c.start))
                .max_by_key(|c| c.start);
            let after = cues
                .iter()
                .filter(|c| t.end <= c.start && c.end <= ce && !in_cond(c.start))
                .min_by_key(|c| c.start);
            // "could shelve its NATO bid": a reversal right before the topic is the act
            let reversal_cue = markers
                .iter()
                .filter(|m| {
                    m.value == Marker::Reversal
                        && cs <= m.start
                        && m.end <= t.start
                        && t.start - m.end <= 3
                        && (m.end..t.start).all(|k| toks[k].is_word())
                })
                .map(|m| Cue {
                    start: m.start,
                    end: m.end,
                    kind: CueKind::Opposes,
                })
                .next_back();
            let before = match (before, &reversal_cue) {
                (Some(b), Some(r)) if r.start > b.end => Some(r),
                (None, Some(r)) => Some(r),
                (b, _) => b,
            };
            let action = matches!(t.kind, TermKind::Action | TermKind::NegAction);
            // "The idea of sending Polish soldiers … was dismissed by Warsaw":
            // an act with nobody doing it before it is the subject of what follows
            let subject_act = action
                && before.is_none()
                && !mentions.iter().any(|m| {
                    m.role == Role::Holder
                        && cs <= m.start
                        && m.end <= t.start
                        && !preceded_by_preposition(toks, m.start)
                });
            // "described handing over Donetsk as unacceptable": a verdict on the act
            let verdict = after.is_some_and(|a| {
                let prev = |k: usize| a.start.checked_sub(k).map(|i| toks[i].norm.as_str());
                prev(1) == Some("as")
                    || (matches!(prev(1), Some("a" | "an")) && prev(2) == Some("as"))
            });
            let (cue, cue_after) = match (before, after) {
                (Some(b), _) if !(action && t.start - b.end > 10) => (Some(b.clone()), false),
                (_, Some(a)) if !action || subject_act || verdict => (Some(a.clone()), true),
                _ if action => (None, false),
                (Some(b), _) => (Some(b.clone()), false),
                _ => continue,
            };
            let (cstart, cend, kind) = match &cue {
                Some(c) => (c.start, c.end, c.kind),
                None => (t.start, t.end, CueKind::Supports),
            };
            let Some(mut stance) =
                stance_of(profile, toks, &markers, &cue_starts, cs, cstart, kind)
            else {
                continue;
            };
            // "barred from NATO", "keep Polish soldiers out": the act is a refusal
            if t.kind == TermKind::NegAction {
                stance = match stance {
                    Stance::Supports | Stance::Conditional => Stance::Opposes,
                    Stance::Opposes => Stance::Supports,
                };
            }
            // "insisted that Ukraine must never join NATO": a negation inside
            // the complement, right before the topic ("not only" is none)
            if cue.is_some() {
                let negated = markers.iter().any(|m| {
                    m.value == Marker::Negator
                        && cend <= m.start
                        && m.end <= t.start
                        && t.start - m.end <= 3
                        && toks.get(m.end).is_none_or(|n| n.norm != "only")
                        && (m.end..t.start).all(|k| toks[k].is_word())
                });
                if negated {
                    stance = match stance {
                        Stance::Supports | Stance::Conditional => Stance::Opposes,
                        Stance::Opposes => Stance::Supports,
                    };
                }
            }
            // a stated condition anywhere in the clause
            let conditioned = markers.iter().any(|m| {
                m.value == Marker::Condition
                    && cs <= m.start
                    && m.start < ce
                    && !(t.start <= m.start && m.start < t.end)
                    && !is_trigger(profile, toks, m)
            });
            if conditioned {
                stance = Stance::Conditional;
            }
            // a denial before the cue repeats the position denied away
            if markers
                .iter()
                .any(|m| m.value == Marker::Denial && m.end <= cstart)
            {
                stance = match stance {
                    Stance::Supports => Stance::Opposes,
                    Stance::Opposes => Stance::Supports,
                    // denying a condition says nothing clear
                    Stance::Conditional => continue,
                };
            }
            let mut confidence: f64 = 0.9;
            if cue_after {
                confidence -= 0.05;
            }
            if t.kind == TermKind::Weak {
                confidence -= 0.1;
            }
            let (holders, how) = match choose_holder(
                profile, toks, mentions, &markers, &topics, cs, ce, cstart, cend,
            ) {
                // "Kiev must pull its forces back, Peskov said": a demand of the speaker
                Some(h)
                    if speaker.is_some_and(|sp| !h.contains(&sp))
                        && toks[cs..cstart].iter().any(|t| t.norm == "must")
                        && mentions.iter().any(|m| {
                            h.contains(&m.actor)
                                && m.end <= cstart
                                && toks[m.end..cstart].iter().any(|t| t.norm == "must")
                        }) =>
                {
                    (vec![speaker.unwrap_or_default()], HolderBy::Speaker)
                }
                Some(h) => (h, HolderBy::Named),
                None => {
                    if let Some(h) = carried_holder.clone() {
                        (h, HolderBy::Carried)
                    } else if let Some(o) = t.owner {
                        (vec![o], HolderBy::Owner)
                    } else if let Some(m) = modifier_holder(toks, mentions, &topics, cs, ce) {
                        (vec![m], HolderBy::Modifier)
                    } else if let Some(s) = speaker {
                        (vec![s], HolderBy::Speaker)
                    } else {
                        continue;
                    }
                }
            };
            match how {
                HolderBy::Named => {}
                HolderBy::Carried | HolderBy::Owner => confidence -= 0.05,
                HolderBy::Speaker => confidence -= 0.1,
                HolderBy::Modifier => confidence -= 0.15,
            }
            if holders
                .iter()
                .any(|h| mentions.iter().any(|m| m.actor == *h && m.pronoun))
                && how == HolderBy::Named
            {
                confidence -= 0.05;
            }
            clause_holder = Some(holders.clone());
            // "Putin agreed that the United States could offer Ukraine protection":
            // agreeing to what another offers is a position on it too
            if how == HolderBy::Named && matches!(stance, Stance::Supports | Stance::Conditional) {
                let first_holder = mentions
                    .iter()
                    .filter(|m| {
                        m.role == Role::Holder
                            && holders.contains(&m.actor)
                            && cs <= m.start
                            && m.end <= cstart
                    })
                    .map(|m| m.start)
                    .max();
                if let Some(hs) = first_holder {
                    let outer = cues
                        .iter()
                        .filter(|c| cs <= c.start && c.end < hs && c.kind == CueKind::Supports)
                        .filter(|c| toks[c.end..hs].iter().any(|t| t.norm == "that"))
                        .filter(|c| !cues.iter().any(|o| o.start > c.end && o.end <= hs))
                        .max_by_key(|c| c.start);
                    if let Some(c1) = outer
                        && let Some((st1, h1)) = outer_view(c1)
                    {
                        let actors = h1.into_iter().filter(|a| !holders.contains(a));
                        let conf = confidence - 0.05;
                        relay_claims(
                            &mut out,
                            profile,
                            actors,
                            (t.topic, st1),
                            speaker,
                            conf,
                            sentence,
                        );
                    }
                }
            }
            // "Ukraine felt threatened by the proposal, which called for X":
            // the subject's view of the document is its view of X
            if let Some(d) = mentions.iter().rfind(|m| {
                m.doc
                    && cs <= m.start
                    && m.end <= cstart
                    && toks[m.end..cstart]
                        .iter()
                        .any(|t| matches!(t.norm.as_str(), "which" | "that"))
            }) {
                let outer = cues
                    .iter()
                    .filter(|c| cs <= c.start && c.end <= d.start)
                    .max_by_key(|c| c.start);
                if let Some(c1) = outer
                    && let (Some((st1, h1)), Stance::Supports | Stance::Conditional) =
                        (outer_view(c1), stance)
                {
                    let actors = h1.into_iter().filter(|a| *a != d.actor);
                    let conf = confidence - 0.1;
                    relay_claims(
                        &mut out,
                        profile,
                        actors,
                        (t.topic, st1),
                        speaker,
                        conf,
                        sentence,
                    );
                }
            }
            for &h in &holders {
                let mut topic = t.topic;
                let own = &profile.topics[topic];
                if !own.troop_nouns.is_empty() {
                    // someone else's troops: the holder's view of the force
                    if let Some(o) = t.owner.filter(|o| *o != h) {
                        let _ = o;
                        match profile.topics.iter().position(|x| x.id == "foreign_force") {
                            Some(ff) => topic = ff,
                            None => continue,
                        }
                    }
                }
                if profile.topics[topic].exclude_actors.contains(&h) {
                    continue;
                }
                let spk = speaker.unwrap_or(h);
                push_claim(
                    &mut out,
                    make_claim(
                        profile,
                        h,
                        topic,
                        stance,
                        spk,
                        (confidence * 100.0).round() / 100.0,
                        sentence,
                    ),
                );
                // a contributor to the force named in the same clause backs it
                let ff = profile.topics.iter().position(|x| x.id == "foreign_force");
                let own_topic = !profile.topics[topic].troop_nouns.is_empty();
                if let (true, Some(ff), Stance::Supports | Stance::Conditional) =
                    (own_topic, ff, stance)
                    && topics.iter().any(|x| {
                        x.topic == ff && cs <= x.start && x.start < ce && !in_cond(x.start)
                    })
                {
                    push_claim(
                        &mut out,
                        make_claim(
                            profile,
                            h,
                            ff,
                            stance,
                            spk,
                            ((confidence - 0.05) * 100.0).round() / 100.0,
                            sentence,
                        ),
                    );
                }
            }
        }
        if clause_holder.is_some() {
            carried_holder = clause_holder;
        } else if let Some(m) = mentions
            .iter()
            .find(|m| cs <= m.start && m.start < ce && m.role == Role::Holder)
        {
            carried_holder = Some(vec![m.actor]);
        }
    }
    contributor_rule(profile, &mut out);
    out
}

/// "… would respond militarily if Russia attacked again": the "if" names
/// what sets a guarantee off, not a condition on the position.
fn is_trigger(profile: &Profile, toks: &[Token], m: &Hit<Marker>) -> bool {
    toks[m.start..m.end].iter().any(|t| t.norm == "if")
        && (m.end..(m.end + 4).min(toks.len()))
            .any(|k| profile.triggers.longest_at(toks, k).is_some())
}

/// "refused to consider", "ready to accept", "open to accepting": a cue
/// right before another governs it.
fn chain_cues(toks: &[Token], cues: Vec<Cue>) -> Vec<Cue> {
    let mut out: Vec<Cue> = Vec::with_capacity(cues.len());
    for c in cues {
        if let Some(prev) = out.last_mut() {
            // adjacent, or joined by "to", "ways to", "how to", "whether to"
            let gap = &toks[prev.end..c.start.max(prev.end)];
            let joined = c.start == prev.end
                || (gap.len() <= 3
                    && gap.iter().all(|t| t.is_word())
                    && gap
                        .iter()
                        .any(|t| matches!(t.norm.as_str(), "to" | "how" | "whether")))
                // "ruled out providing air support": a hedge over a short phrase
                || (gap.len() <= 2 && prev.kind != CueKind::Supports && gap.iter().all(|t| t.is_word()));
            if joined {
                prev.kind = match prev.kind {
                    CueKind::Supports => c.kind,
                    CueKind::Conditional => CueKind::Conditional,
                    CueKind::OpposesHedged => match c.kind {
                        CueKind::Supports | CueKind::Conditional => CueKind::OpposesHedged,
                        CueKind::OpposesHedged => CueKind::Conditional,
                        CueKind::Opposes => CueKind::Supports,
                    },
                    CueKind::Opposes => match c.kind {
                        CueKind::Supports | CueKind::Conditional => CueKind::Opposes,
                        CueKind::OpposesHedged => CueKind::Conditional,
                        CueKind::Opposes => CueKind::Supports,
                    },
                };
                prev.end = c.end;
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HolderBy {
    Named,
    Carried,
    Owner,
    Speaker,
    Modifier,
}

/// A claim of actor `a` on topic `t` (profile indices).
fn make_claim(
    profile: &Profile,
    a: usize,
    t: usize,
    stance: Stance,
    speaker: usize,
    confidence: f64,
    sentence: &str,
) -> Claim {
    Claim {
        actor: profile.actor_id(a).to_string(),
        topic: profile.topic_id(t).to_string(),
        stance,
        speaker: profile.actor_id(speaker).to_string(),
        confidence,
        sentence: sentence.to_string(),
    }
}

/// Claims of several holders that one outer cue speaks for (a relayed
/// view), at a lower confidence rounded to two places.
fn relay_claims(
    out: &mut Vec<Claim>,
    profile: &Profile,
    actors: impl Iterator<Item = usize>,
    (topic, stance): (usize, Stance),
    speaker: Option<usize>,
    confidence: f64,
    sentence: &str,
) {
    let confidence = (confidence * 100.0).round() / 100.0;
    for a in actors {
        let c = make_claim(
            profile,
            a,
            topic,
            stance,
            speaker.unwrap_or(a),
            confidence,
            sentence,
        );
        push_claim(out, c);
    }
}

fn push_claim(out: &mut Vec<Claim>, c: Claim) {
    if let Some(o) = out
        .iter_mut()
        .find(|o| o.actor == c.actor && o.topic == c.topic)
    {
        if c.confidence > o.confidence {
            *o = c;
        }
    } else {
        out.push(c);
    }
}

/// An actor that offers its own troops backs the force; one that refuses
/// them says nothing against the force.
fn contributor_rule(profile: &Profile, out: &mut Vec<Claim>) {
    let Some(own) = profile.topics.iter().find(|t| !t.troop_nouns.is_empty()) else {
        return;
    };
    let own_id = own.id.clone();
    let ff_id = "foreign_force";
    let mut i = 0;
    while i < out.len() {
        if out[i].topic == own_id && out[i].stance == Stance::Opposes {
            let actor = out[i].actor.clone();
            let sentence = out[i].sentence.clone();
            out.retain(|c| {
                !(c.actor == actor
                    && c.topic == ff_id
                    && c.sentence == sentence
                    && c.stance == Stance::Opposes)
            });
        }
        i += 1;
    }
}

/// Reads the stance a cue gives, with negation, reversal and softeners
/// found in the few words before it.
fn stance_of(
    profile: &Profile,
    toks: &[Token],
    markers: &[Hit<Marker>],
    cue_starts: &[usize],
    clause_start: usize,
    cue_start: usize,
    kind: CueKind,
) -> Option<Stance> {
    let mut flips = 0;
    let mut softened = false;
    let lo = cue_start.saturating_sub(6).max(clause_start);
    for m in markers
        .iter()
        .filter(|m| lo <= m.start && m.end <= cue_start)
        .filter(|m| !cue_starts.iter().any(|c| m.end <= *c && *c < cue_start))
    {
        // stop at punctuation between the marker and the cue
        if (m.end..cue_start).any(|k| matches!(toks[k].norm.as_str(), "," | ";" | ":" | "(" | ")"))
        {
            continue;
        }
        match m.value {
            Marker::Negator | Marker::Reversal => flips += 1,
            Marker::Softener => softened = true,
            _ => {}
        }
    }
    let negated = flips % 2 == 1;
    let mut st = match (kind, negated) {
        (CueKind::Supports, false) => Stance::Supports,
        (CueKind::Supports, true) => Stance::Opposes,
        (CueKind::Opposes, false) => Stance::Opposes,
        (CueKind::Opposes, true) => Stance::Supports,
        (CueKind::OpposesHedged, false) => Stance::Opposes,
        (CueKind::OpposesHedged, true) => Stance::Conditional,
        (CueKind::Conditional, false) => Stance::Conditional,
        (CueKind::Conditional, true) => Stance::Opposes,
    };
    if softened && st == Stance::Supports && profile.softened.longest_at(toks, cue_start).is_some()
    {
        st = Stance::Conditional;
    }
    Some(st)
}

/// The mention that is followed by a reporting verb ("Sybiha said"), or that
/// follows one ("said Sybiha", "according to Peskov").
fn find_speaker(toks: &[Token], mentions: &[Mention], markers: &[Hit<Marker>]) -> Option<usize> {
    let holders = || mentions.iter().filter(|m| m.role == Role::Holder);
    for r in markers.iter().filter(|m| m.value == Marker::Reporting) {
        // "Sybiha said", "Sybiha on Monday said": a mention right before
        if let Some(m) = holders()
            .filter(|m| m.end <= r.start && r.start - m.end <= 3)
            .max_by_key(|m| m.end)
            && (m.end..r.start).all(|k| toks[k].is_word())
        {
            return Some(m.actor);
        }
        // "Meloni, who attended …, said": the mention before ", who"
        if r.start > 0
            && toks[r.start - 1].norm == ","
            && let Some(w) = (0..r.start).rev().find(|k| toks[*k].norm == "who")
            && w >= 2
            && toks[w - 1].norm == ","
            && let Some(m) = holders().find(|m| m.end == w - 1)
        {
            return Some(m.actor);
        }
        // "said Sybiha", "according to Peskov"
        if let Some(m) = holders()
            .filter(|m| m.start >= r.end && m.start - r.end <= 3)
            .min_by_key(|m| m.start)
        {
            return Some(m.actor);
        }
    }
    None
}

/// Is mention `m` the subject of a reporting verb that stands between it and `k`?
fn reports_before(toks: &[Token], markers: &[Hit<Marker>], m: &Mention, k: usize) -> bool {
    markers.iter().any(|r| {
        r.value == Marker::Reporting
            && m.end <= r.start
            && r.end <= k
            && r.start - m.end <= 4
            && (m.end..r.start).all(|j| toks[j].is_word() || toks[j].norm == "'s")
    })
}

fn preceded_by_preposition(toks: &[Token], start: usize) -> bool {
    let mut k = start;
    while k > 0 {
        k -= 1;
        let w = toks[k].norm.as_str();
        if matches!(
            w,
            "the" | "a" | "an" | "its" | "their" | "his" | "her" | "both" | "all"
        ) {
            continue;
        }
        return PREPOSITIONS.contains(&w);
    }
    false
}

#[allow(clippy::too_many_arguments)]
fn choose_holder(
    profile: &Profile,
    toks: &[Token],
    mentions: &[Mention],
    markers: &[Hit<Marker>],
    topics: &[TopicHit],
    cs: usize,
    ce: usize,
    cue_start: usize,
    cue_end: usize,
) -> Option<Vec<usize>> {
    let holders: Vec<&Mention> = mentions.iter().filter(|m| m.role == Role::Holder).collect();
    // a. passive agent: "… ruled out by Moscow"
    for m in &holders {
        if m.start > cue_end && m.start <= cue_end + 10 && m.start < ce {
            let mut k = m.start;
            // "by the Kremlin", "by all members of the Coalition"
            while k > 0
                && k > m.start.saturating_sub(5)
                && matches!(
                    toks[k - 1].norm.as_str(),
                    "the" | "a" | "an" | "all" | "members" | "leaders" | "of" | "most" | "several"
                )
            {
                k -= 1;
            }
            if k > cue_end && toks[k - 1].norm == "by" {
                return Some(coordinated(toks, &holders, m));
            }
        }
    }
    // b. possessive before a nominal cue: "Kyiv's refusal"
    for m in &holders {
        if m.end + 1 == cue_start
            && toks[m.end].norm == "'s"
            && profile.nominal_cues.longest_at(toks, cue_start).is_some()
        {
            return Some(vec![m.actor]);
        }
    }
    // c. the nearest eligible mention before the cue
    let modifies_topic = |m: &Mention| {
        let e = if toks.get(m.end).is_some_and(|t| t.norm == "'s") {
            m.end + 1
        } else {
            m.end
        };
        topics
            .iter()
            .any(|t| t.start == e || (t.start <= m.start && m.end <= t.end))
    };
    let eligible = |m: &&&Mention| {
        cs <= m.start
            && m.end <= cue_start
            && (!preceded_by_preposition(toks, m.start) || infinitive_agent(toks, m) || members_of(profile, toks, m))
            && !modifies_topic(m)
            // "Multinational Force Ukraine": a name that goes on after a capitalised topic
            && !topics.iter().any(|t| t.end == m.start && t.end > 0 && toks[t.end - 1].upper)
            && !reports_before(toks, markers, m, cue_start)
            && (toks.get(m.end).is_none_or(|t| t.norm != "'s")
                || possessive_of_act(profile, toks, m.end + 1))
    };
    // ", pledging to …": a participle after a comma speaks for the clause's subject
    let participle = {
        let mut k = cue_start;
        while k > cs && matches!(toks[k - 1].norm.as_str(), "\"" | "'") {
            k -= 1;
        }
        k > cs && toks[k - 1].norm == "," && toks[cue_start].norm.ends_with("ing")
    };
    if participle && let Some(m) = holders.iter().filter(eligible).min_by_key(|m| m.start) {
        return Some(coordinated(toks, &holders, m));
    }
    if let Some(m) = holders.iter().filter(eligible).max_by_key(|m| m.end) {
        return Some(coordinated(toks, &holders, m));
    }
    // d. for a nominal cue, the mention right after it: "the offer Washington made"
    if profile.nominal_cues.longest_at(toks, cue_start).is_some()
        && let Some(m) = holders.iter().find(|m| {
            m.start == cue_end || (m.start == cue_end + 1 && toks[cue_end].norm == "that")
        })
    {
        return Some(vec![m.actor]);
    }
    None
}

/// "Leaders of the Coalition of the Willing endorsed …": the group speaks.
fn members_of(profile: &Profile, toks: &[Token], m: &Mention) -> bool {
    let mut b = m.start;
    while b > 0 && matches!(toks[b - 1].norm.as_str(), "the" | "a" | "an") {
        b -= 1;
    }
    b >= 2
        && toks[b - 1].norm == "of"
        && (profile.speaker_nouns.longest_at(toks, b - 2).is_some()
            || matches!(toks[b - 2].norm.as_str(), "members" | "member" | "all"))
}

/// "provides for the United States, with its allies, to give …": the
/// mention after "for" is the agent of the infinitive.
fn infinitive_agent(toks: &[Token], m: &Mention) -> bool {
    let mut b = m.start;
    while b > 0 && matches!(toks[b - 1].norm.as_str(), "the" | "a" | "an") {
        b -= 1;
    }
    if b == 0 || toks[b - 1].norm != "for" {
        return false;
    }
    let mut k = m.end;
    if toks.get(k).is_some_and(|t| t.norm == ",") {
        // skip one parenthetical ", together with …,"
        k += 1;
        while k < toks.len() && toks[k].norm != "," {
            k += 1;
        }
        k += 1;
    }
    toks.get(k).is_some_and(|t| t.norm == "to") && toks.get(k + 1).is_some_and(|t| t.is_word())
}

/// "Kyiv's refusal", "Trump's original proposal", "Ukraine's defence
/// ministry": a possessive that names a holder's act or voice.
fn possessive_of_act(profile: &Profile, toks: &[Token], i: usize) -> bool {
    (i..(i + 3).min(toks.len()))
        .take_while(|k| toks[*k].is_word() || toks[*k].norm == "-")
        .any(|k| {
            profile.speaker_nouns.longest_at(toks, k).is_some()
                || profile.nominal_cues.longest_at(toks, k).is_some()
                || profile.doc_nouns.longest_at(toks, k).is_some()
        })
}

/// A modifier mention in the clause as a last resort: "the US backstop was in place".
fn modifier_holder(
    toks: &[Token],
    mentions: &[Mention],
    topics: &[TopicHit],
    cs: usize,
    ce: usize,
) -> Option<usize> {
    mentions
        .iter()
        .filter(|m| {
            m.role == Role::Holder
                && cs <= m.start
                && m.start < ce
                && !preceded_by_preposition(toks, m.start)
        })
        .find(|m| {
            topics
                .iter()
                .any(|t| t.start == m.end || t.start == m.end + 1)
        })
        .map(|m| m.actor)
}

/// "France and the United Kingdom", "Kyiv and its European allies": all holders.
fn coordinated(toks: &[Token], holders: &[&Mention], m: &Mention) -> Vec<usize> {
    let mut out = vec![m.actor];
    let mut cur_start = m.start;
    loop {
        let prev = holders
            .iter()
            .filter(|x| x.end <= cur_start)
            .max_by_key(|x| x.end);
        let Some(p) = prev else { break };
        let between: Vec<&str> = toks[p.end..cur_start]
            .iter()
            .map(|t| t.norm.as_str())
            .collect();
        let joins = matches!(
            between.as_slice(),
            [","]
                | ["and"]
                | [",", "and"]
                | ["and", "the"]
                | [",", "the"]
                | [",", "and", "the"]
                | ["and", "its"]
                | ["and", "their"]
        );
        if !joins || preceded_by_preposition(toks, p.start) {
            break;
        }
        if !out.contains(&p.actor) {
            out.push(p.actor);
        }
        cur_start = p.start;
    }
    out
}

#[cfg(test)]
mod tests;
