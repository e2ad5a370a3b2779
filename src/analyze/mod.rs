//! Article text → claims (actor, topic, stance, speaker, confidence, sentence).
//!
//! Pure: values in, values out, no IO and no clock. The article goes
//! through stages with a typed representation between them, each its own
//! module:
//!
//! * [`document`]: boilerplate, headings, dateline, date, language, opinion;
//! * [`sentence`]: sentences, word classes of the language, actors, topics,
//!   clauses;
//! * [`attribution`]: who holds the position on each topic named, who says
//!   so, the cue and the frame ([`attribution::Reading`]);
//! * [`judge`]: a [`judge::StanceJudge`] turns a reading into a stance and a
//!   score, and [`calibration`] into a confidence.
//!
//! Words come from the language packs ([`lang`]) and the [`Profile`];
//! the code knows word classes and topic properties, never words or ids.
//!
//! What this module does not do: decide whether a claim is news. That is
//! [`crate::compare`]'s job, against the ledger.

pub mod attribution;
pub mod calibration;
pub mod document;
pub mod judge;
pub mod lang;
pub mod linear;
pub mod sentence;
pub mod text;

use std::fmt;

use chrono::NaiveDate;

use crate::profile::Profile;
use attribution::{Context, Reading};
use judge::StanceJudge;
use sentence::Sentence;

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
    /// The words of the sentence that carry the stance: the cue and the
    /// negations that turn it ("refused to deploy", "not … send").
    pub stance_words: Vec<String>,
}

/// What the engine read in one article.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub relevant: bool,
    /// The article's own date, when its header gives one.
    pub date: Option<NaiveDate>,
    /// The language it was read in (a pack code).
    pub language: String,
    /// One claim per (actor, topic): the best-supported one.
    pub claims: Vec<Claim>,
}

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
pub(crate) fn pieces(s: &str) -> impl Iterator<Item = &str> {
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

/// The judges an engine can use, by name.
pub fn judge_named(name: &str) -> Option<Box<dyn StanceJudge>> {
    match name {
        "rules" => Some(Box::new(judge::Rules::builtin())),
        "linear" => Some(Box::new(linear::Linear::builtin())),
        _ => None,
    }
}

/// How much a reading of the headline is trusted next to one of the body:
/// headlines drop the hedges, conditions and attributions the body keeps.
pub const HEADLINE_WEIGHT: f64 = 0.85;

/// The names `judge_named` knows.
pub const JUDGES: &[&str] = &["rules", "linear"];

/// Analyses an article with the rule judge: `title` and `body` are plain
/// text, paragraphs separated by newlines.
pub fn analyze(profile: &Profile, title: &str, body: &str) -> Analysis {
    read(
        profile,
        &judge::Rules::builtin(),
        title,
        body,
        false,
        &Budget::unlimited(),
    )
    .expect("an unlimited budget is never spent")
}

/// Analyses an article with `judge`, as long as `budget` lasts.
pub fn analyze_with(
    profile: &Profile,
    judge: &dyn StanceJudge,
    title: &str,
    body: &str,
    budget: &Budget<'_>,
) -> Result<Analysis, OverBudget> {
    read(profile, judge, title, body, false, budget)
}

/// Analyses a seed article: seeds are relevant by definition, whatever
/// their date, and have no separate title line.
pub fn analyze_seed(profile: &Profile, judge: &dyn StanceJudge, text: &str) -> Analysis {
    read(profile, judge, "", text, true, &Budget::unlimited())
        .expect("an unlimited budget is never spent")
}

/// The first full date in a line, in any language the profile reads.
pub fn find_date(profile: &Profile, line: &str) -> Option<NaiveDate> {
    text::find_date(line, &profile.langs.packs)
}

/// Every reading of every sentence of an article, for judges to be
/// compared on (and trained on) the same representation.
pub fn readings(profile: &Profile, title: &str, body: &str) -> Vec<(Sentence, Vec<Reading>)> {
    let doc = document::Document::read(profile, title, prefix(body, MAX_TEXT));
    let mut out = Vec::new();
    let mut ctx = Context::default();
    for (k, s) in doc.sentences.iter().enumerate() {
        let answered = doc.answered_no(k);
        let mut s = s.clone();
        attribution::resolve_references(&mut s, &ctx);
        let historic = false;
        let r = attribution::readings(profile, &s, &ctx, answered);
        attribution::carry(&s, &mut ctx, historic);
        out.push((s, r));
    }
    out
}

/// How each topic of each sentence was read, as text for a person.
pub fn explain(profile: &Profile, judge: &dyn StanceJudge, title: &str, body: &str) -> String {
    use std::fmt::Write;
    let doc = document::Document::read(profile, title, prefix(body, MAX_TEXT));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# language {}, relevant {}, opinion {}, date {:?}",
        profile.langs.packs[doc.lang].code,
        doc.relevant(profile),
        doc.opinion,
        doc.date
    );
    let mut ctx = Context::default();
    for (k, s) in doc.sentences.iter().enumerate() {
        let mut s = s.clone();
        attribution::resolve_references(&mut s, &ctx);
        let rs = if doc.off_topic[k] {
            Vec::new()
        } else {
            attribution::readings(profile, &s, &ctx, doc.answered_no(k))
        };
        attribution::carry(&s, &mut ctx, false);
        if s.topics.is_empty() {
            continue;
        }
        let _ = writeln!(out, "> {}", s.text);
        if doc.off_topic[k] {
            let _ = writeln!(out, "    off topic");
        }
        let clauses: Vec<String> = s
            .clauses
            .iter()
            .map(|c| {
                let words: Vec<&str> = s.toks[c.start..c.end]
                    .iter()
                    .map(|t| t.norm.as_str())
                    .collect();
                format!("{:?}[{}]", c.kind, words.join(" "))
            })
            .collect();
        let _ = writeln!(out, "    clauses: {}", clauses.join(" | "));
        let topics: Vec<String> = s
            .topics
            .iter()
            .map(|t| {
                let w: Vec<&str> = s.toks[t.start..t.end]
                    .iter()
                    .map(|t| t.norm.as_str())
                    .collect();
                format!(
                    "{} '{}' {:?}",
                    profile.topics[t.topic].id,
                    w.join(" "),
                    t.kind
                )
            })
            .collect();
        let actors: Vec<String> = s
            .mentions
            .iter()
            .map(|m| format!("{} {:?}@{}", profile.actors[m.actor].id, m.via, m.start))
            .collect();
        let _ = writeln!(
            out,
            "    topics: {}; actors: {}",
            topics.join(", "),
            actors.join(", ")
        );
        for r in &rs {
            let cue = r.cue.map(|c| {
                let w: Vec<&str> = s.toks[c.start..c.end]
                    .iter()
                    .map(|t| t.norm.as_str())
                    .collect();
                format!("{:?} '{}'", c.kind, w.join(" "))
            });
            let v = judge.judge(&s, r);
            let _ = writeln!(
                out,
                "    {} {}: holder {} via {:?}, speaker {}, cue {}, negations {}, reversed {}, frame {:?} => {}",
                profile.topics[r.topic].id,
                s.toks[r.mention.start..r.mention.end]
                    .iter()
                    .map(|t| t.norm.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                profile.actors[r.holder].id,
                r.via,
                profile.actors[r.speaker].id,
                cue.unwrap_or_else(|| "-".into()),
                r.negations,
                r.reversed,
                r.frame,
                v.map_or("no claim".to_string(), |v| format!(
                    "{} {:.2}",
                    v.stance, v.score
                ))
            );
        }
    }
    out
}

fn read(
    profile: &Profile,
    judge: &dyn StanceJudge,
    title: &str,
    body: &str,
    seed: bool,
    budget: &Budget<'_>,
) -> Result<Analysis, OverBudget> {
    tracing::trace!(title, seed, "article");
    let body = prefix(body, MAX_TEXT);
    let mut doc = document::Document::read(profile, title, body);
    let relevant = seed || doc.relevant(profile);
    let mut claims: Vec<Claim> = Vec::new();
    // cells an actor denies in this article: a report it denies does not
    // stand for its position ("Beijing was willing …", reported, then denied)
    let mut denials: Vec<Claim> = Vec::new();
    let mut denied_cells: Vec<(String, String)> = Vec::new();
    if relevant && (seed || !doc.opinion) {
        let mut ctx = Context::default();
        // the sentences are read in place: what the next one answers first
        let answered: Vec<bool> = (0..doc.sentences.len())
            .map(|k| doc.answered_no(k))
            .collect();
        let sentences = std::mem::take(&mut doc.sentences);
        for (k, mut s) in sentences.into_iter().enumerate() {
            budget.check()?;
            attribution::resolve_references(&mut s, &ctx);
            let off = doc.off_topic[k];
            let readings = if off {
                Vec::new()
            } else {
                attribution::readings(profile, &s, &ctx, answered[k])
            };
            attribution::carry(&s, &mut ctx, false);
            let mut found: Vec<Claim> = Vec::new();
            // a headline compresses: its readings count for less
            let weight = if doc.paragraph[k] == usize::MAX {
                HEADLINE_WEIGHT
            } else {
                1.0
            };
            for r in &readings {
                let Some(mut v) = judge.judge(&s, r) else {
                    continue;
                };
                v.score *= weight;
                for (topic, stance) in topic_claims(profile, r, v.stance) {
                    if r.frame.denied {
                        denied_cells.push((
                            profile.actors[r.holder].id.clone(),
                            profile.topics[topic].id.clone(),
                        ));
                    }
                    found.push(Claim {
                        actor: profile.actors[r.holder].id.clone(),
                        topic: profile.topics[topic].id.clone(),
                        stance,
                        speaker: profile.actors[r.speaker].id.clone(),
                        confidence: (v.score * 100.0).round() / 100.0,
                        sentence: s.text.clone(),
                        stance_words: stance_words(&s, r),
                    });
                }
            }
            shadow(profile, &s, &readings, &mut found);
            for c in found {
                if denied_cells
                    .iter()
                    .any(|(a, t)| *a == c.actor && *t == c.topic)
                {
                    denials.push(c.clone());
                }
                merge_claim(&mut claims, c);
            }
            denied_cells.clear();
        }
    }
    // a denial outweighs what it denies, wherever the report stood
    for d in denials {
        match claims
            .iter_mut()
            .find(|c| c.actor == d.actor && c.topic == d.topic)
        {
            Some(c) => *c = d,
            None => claims.push(d),
        }
    }
    Ok(Analysis {
        relevant,
        date: doc.date,
        language: profile.langs.packs[doc.lang].code.clone(),
        claims,
    })
}

/// The words of a sentence that carry a reading's stance: its cue (both
/// parts of a split one), the topic's own act when that is the cue, the
/// negators in its scope and a condition's opening words.
fn stance_words(s: &Sentence, r: &Reading) -> Vec<String> {
    let word = |i: usize| s.text[s.toks[i].start..s.toks[i].end].to_string();
    let mut idx: Vec<usize> = Vec::new();
    if let Some(c) = r.cue {
        let span = s
            .marks
            .of(lang::Class::Opposes)
            .iter()
            .chain(s.marks.of(lang::Class::Supports))
            .chain(s.marks.of(lang::Class::RuleOut))
            .chain(s.marks.of(lang::Class::Openness))
            .chain(s.marks.of(lang::Class::Deontic))
            .filter(|x| x.start >= c.start && x.end <= c.end.max(x.end) && x.start < c.end)
            .copied()
            .collect::<Vec<_>>();
        if span.is_empty() {
            idx.extend(c.start..c.end.min(s.toks.len()));
        }
        for x in span {
            idx.extend((x.start..x.end).filter(|&i| x.holds(i)));
        }
    }
    let (a, b) = r.clause;
    for n in s.marks.of(lang::Class::Negators) {
        if n.start >= a && n.start < b && n.start < r.mention.end.max(r.cue.map_or(0, |c| c.end)) {
            idx.extend((n.start..n.end).filter(|&i| n.holds(i)));
        }
    }
    if r.frame.condition {
        for c in s.clauses.iter().filter(|c| {
            matches!(
                c.kind,
                sentence::ClauseKind::Condition | sentence::ClauseKind::If
            )
        }) {
            idx.extend(c.start..(c.start + 2).min(c.end));
        }
    }
    idx.sort_unstable();
    idx.dedup();
    idx.into_iter()
        .filter(|&i| i < s.toks.len() && s.toks[i].is_word())
        .map(word)
        .collect()
}

/// The stance words of the claim a sentence makes for one cell (for
/// evidence kept without them, such as a ledger read back from the state).
pub fn stance_words_of(
    profile: &Profile,
    judge: &dyn StanceJudge,
    actor: &str,
    topic: &str,
    sentence: &str,
) -> Vec<String> {
    analyze_seed(profile, judge, sentence)
        .claims
        .into_iter()
        .find(|c| c.actor == actor && c.topic == topic)
        .map(|c| c.stance_words)
        .unwrap_or_default()
}

/// The claims a verdict stands for: the topic (or the one it is for this
/// holder), less an excluded holder, and the topics it implies.
pub(crate) fn topic_claims(profile: &Profile, r: &Reading, stance: Stance) -> Vec<(usize, Stance)> {
    let mut t = &profile.topics[r.topic];
    // deploying the force oneself is about one's own forces
    if let Some(to) = t.acts
        && r.mention.kind == crate::profile::TermKind::Action
        && !profile.topics[to].exclude_holders.contains(&r.holder)
        && !profile.topics[to]
            .redirect
            .iter()
            .any(|(h, _)| h.contains(&r.holder))
    {
        t = &profile.topics[to];
        let mut out = vec![(to, stance)];
        for (other, when) in &t.implies {
            if *when == stance {
                out.push((*other, stance));
            }
        }
        return out;
    }
    let topic = t
        .redirect
        .iter()
        .find(|(holders, _)| holders.contains(&r.holder))
        .map_or(r.topic, |(_, to)| *to);
    let t = &profile.topics[topic];
    if t.exclude_holders.contains(&r.holder) {
        return Vec::new();
    }
    let mut out = vec![(topic, stance)];
    for (other, when) in &t.implies {
        if *when == stance && !profile.topics[*other].exclude_holders.contains(&r.holder) {
            out.push((*other, stance));
        }
    }
    out
}

/// A clause that refuses the holder's own forces and names another topic
/// refuses the forces only ("our soldiers will not join the mission").
fn shadow(profile: &Profile, s: &Sentence, readings: &[Reading], found: &mut Vec<Claim>) {
    let _ = s;
    for r in readings {
        let t = &profile.topics[r.topic];
        if t.shadows.is_empty() {
            continue;
        }
        let holder = &profile.actors[r.holder].id;
        let own_opposes = found
            .iter()
            .any(|c| c.actor == *holder && c.topic == t.id && c.stance == Stance::Opposes);
        if !own_opposes {
            continue;
        }
        for sh in &t.shadows {
            let id = &profile.topics[*sh].id;
            let same_clause = readings
                .iter()
                .any(|o| o.topic == *sh && o.holder == r.holder && o.clause == r.clause);
            if same_clause {
                found.retain(|c| {
                    !(c.actor == *holder && c.topic == *id && c.stance == Stance::Opposes)
                });
            }
        }
    }
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

#[cfg(test)]
mod tests;
