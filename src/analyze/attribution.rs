//! Who holds what: for each topic a sentence names, the cue that governs it,
//! the actor that holds the position (not the addressee of a demand, not an
//! actor named as an adjective or after a preposition), who says so, and the
//! frame it is said in (reported, denied, a question, a hypothetical,
//! history, a condition).
//!
//! The result, a [`Reading`] per topic mention, is what a
//! [`super::judge::StanceJudge`] decides on.

use super::lang::Class;
use super::sentence::{ClauseKind, Governor, Mention, Sentence, Span, TopicMention, Via};
use crate::profile::{MentionKind, Profile, TermKind};

/// What one sentence leaves for the next: who "he", "it" and a role noun
/// point to, and who spoke last.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub last_person: Option<usize>,
    pub last_actor: Option<usize>,
    pub last_speaker: Option<usize>,
    /// Whose proposal, plan or draft was named last ("Trump's plan").
    pub last_document: Option<usize>,
    /// Who wrote the document named last, all of them ("Germany, France
    /// and Britain presented a counter-proposal"), and how many sentences
    /// ago: the sentences after it often spell out what it says.
    pub authors: Vec<usize>,
    pub authors_age: usize,
    /// The sentence before was history.
    pub prev_historic: bool,
}

/// The kind of word that governs a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueKind {
    Supports,
    Opposes,
    /// Rules out: negated, an opening.
    RuleOut,
    /// Open without commitment.
    Openness,
    /// A modal on an acceptance ("could accept").
    Softened,
    /// An obligation put on the subject ("must"): the speaker's demand.
    Deontic,
    /// No cue but the topic's own action ("send troops").
    Action,
}

/// The cue that governs a topic mention, tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cue {
    pub kind: CueKind,
    pub start: usize,
    pub end: usize,
}

/// How the holder was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderVia {
    /// The agent of a passive ("by X").
    Agent,
    /// An adjective on the holder's own forces ("Italian soldiers").
    Owner,
    /// A possessive before a cue noun ("Kyiv's refusal").
    Possessive,
    /// The actor before the cue (the subject, in most word orders).
    Before,
    /// The actor after the cue, before the topic ("lehnt Russland … ab").
    After,
    /// The one who speaks ("… , Peskov said"; "we", "our").
    Speaker,
    /// A pronoun, a role noun or an earlier sentence's subject.
    Context,
}

/// Frames that change what a clause says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Frame {
    /// The sentence is a question (unless answered below).
    pub question: bool,
    /// An indirect question ("whether").
    pub indirect_question: bool,
    /// A hypothetical or advice.
    pub hypothetical: bool,
    /// Another actor's forecast of the holder ("officials believe Russia
    /// will accept").
    pub predicted: bool,
    /// A commitment said not to be made ("did not promise guarantees",
    /// "non firmano"): no stance either way.
    pub withheld: bool,
    /// History: an old year or a word for the past.
    pub historical: bool,
    /// The source is an analyst, expert or the like.
    pub non_actor: bool,
    /// The topic is inside what a denial denies.
    pub denied: bool,
    /// A stated condition applies (not a trigger).
    pub condition: bool,
    /// The topic sits in a time clause or a condition clause itself.
    pub subordinate: bool,
    /// The question before was answered "no".
    pub answered_no: bool,
    /// A time clause follows ("until a deal is signed"): negated, the
    /// position waits on it.
    pub not_until: bool,
}

/// One topic mention, read: what a judge decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub topic: usize,
    pub mention: TopicMention,
    pub holder: usize,
    pub via: HolderVia,
    /// Who speaks (the holder unless another actor reports it).
    pub speaker: usize,
    pub cue: Option<Cue>,
    /// Negators in the cue's scope.
    pub negations: usize,
    /// A reversal undoes the cue ("dropped its demand").
    pub reversed: bool,
    pub frame: Frame,
    /// Clause bounds.
    pub clause: (usize, usize),
    /// Other actors that could hold it.
    pub rivals: usize,
}

/// Resolves pronouns, role nouns, "the country" and "the plan" against the
/// sentence so far and the context, in place.
pub fn resolve_references(s: &mut Sentence, ctx: &Context) {
    let toks = &s.toks;
    let mut extra = Vec::new();
    let mut named_person: Option<usize> = None;
    let mut named_state: Option<usize> = None;
    let mut document = ctx.last_document;
    let mut i = 0;
    while i < toks.len() {
        if let Some(m) = s.mentions.iter().find(|m| m.start == i) {
            if m.kind == MentionKind::Person {
                named_person = Some(m.actor);
            }
            if (m.kind == MentionKind::Alias || m.via == Via::Speaker) && m.can_hold() {
                named_state = Some(m.actor);
            }
            // "Trump's plan", "the plan of Trump" set whose plan "the plan" is
            if s.marks.at(Class::Possessives, m.end).is_some()
                && (m.end + 1..(m.end + 4).min(toks.len()))
                    .any(|k| s.marks.at(Class::DocumentNouns, k).is_some())
            {
                document = Some(m.actor);
            }
            i = m.end.max(i + 1);
            continue;
        }
        let word_start = i == 0
            || !toks[i - 1].is_word()
            || s.marks.ending_at(Class::Complementizers, i).is_some()
            || s.marks.ending_at(Class::Reporting, i).is_some()
            || s.marks.ending_at(Class::Conjunctions, i).is_some();
        if s.marks.at(Class::PersonPronouns, i).is_some()
            && !s.after_preposition(i)
            && toks[i].is_word()
        {
            if let Some(a) = named_person {
                extra.push(same_sentence(a, i, i + 1, MentionKind::Person));
            } else if let Some(a) = ctx.last_person.or(ctx.last_speaker) {
                extra.push(reference(a, i, i + 1, MentionKind::Person));
            }
        } else if s.marks.at(Class::ThingPronouns, i).is_some()
            && !s.after_preposition(i)
            && word_start
        {
            if let Some(a) = named_state {
                extra.push(same_sentence(a, i, i + 1, MentionKind::Alias));
            } else if let Some(a) = ctx.last_actor {
                extra.push(reference(a, i, i + 1, MentionKind::Alias));
            }
        } else if let Some(d) = s.marks.at(Class::Determiners, i) {
            // a role ("the chancellor"), a place ("the war-torn country") or a
            // document ("the proposal"), up to two words after the determiner
            let found = (d.end..(d.end + 5).min(toks.len())).find_map(|k| {
                let words_between =
                    (d.end..k).all(|j| toks[j].is_word() || super::sentence::attached(toks, j));
                if !words_between {
                    return None;
                }
                if let Some(r) = s.marks.at(Class::PersonRoles, k) {
                    return Some((r.end, 0));
                }
                if let Some(r) = s.marks.at(Class::PlaceNouns, k) {
                    return Some((r.end, 1));
                }
                if let Some(r) = s.marks.at(Class::DocumentNouns, k) {
                    return Some((r.end, 2));
                }
                None
            });
            if let Some((end, what)) = found {
                // not when the actor is named right after ("the president of France")
                let named_next = s
                    .mentions
                    .iter()
                    .any(|m| m.start >= end && m.start <= end + 1);
                let target = match what {
                    0 => named_person.or(ctx.last_person),
                    1 => named_state.or(ctx.last_actor),
                    _ => document,
                };
                if !named_next && let Some(a) = target {
                    extra.push(reference(
                        a,
                        i,
                        end,
                        if what == 0 {
                            MentionKind::Person
                        } else {
                            MentionKind::Alias
                        },
                    ));
                    i = end;
                    continue;
                }
            }
        }
        i += 1;
    }
    s.mentions.extend(extra);
    s.mentions.sort_by_key(|m| m.start);
}

/// A pronoun that points to an actor named earlier in the same sentence:
/// as good as the name.
fn same_sentence(actor: usize, start: usize, end: usize, kind: MentionKind) -> Mention {
    Mention {
        actor,
        start,
        end,
        kind,
        via: Via::Name,
    }
}

fn reference(actor: usize, start: usize, end: usize, kind: MentionKind) -> Mention {
    Mention {
        actor,
        start,
        end,
        kind,
        via: Via::Reference,
    }
}

/// The speaker of a sentence: the actor next to a reporting verb ("Peskov
/// said", "said Peskov", "according to Peskov"), and where the reporting part
/// lies.
fn speaker_of(s: &Sentence) -> Option<(usize, usize, usize)> {
    for r in s.marks.of(Class::Reporting) {
        // the nearest actor within four tokens, with only names and roles between
        let close = s
            .mentions
            .iter()
            .filter(|m| m.can_hold())
            .filter(|m| {
                (m.end <= r.start && r.start - m.end <= 4)
                    || (m.start >= r.end && m.start - r.end <= 3)
            })
            .filter(|m| {
                let (a, b) = if m.end <= r.start {
                    (m.end, r.start)
                } else {
                    (r.end, m.start)
                };
                !(a..b).any(|k| matches!(s.toks[k].norm.as_str(), "," | ";" | ":"))
                    && (!s.after_preposition(m.start) || m.start >= r.end)
            })
            .min_by_key(|m| {
                if m.end <= r.start {
                    r.start - m.end
                } else {
                    m.start - r.end
                }
            });
        if let Some(m) = close {
            return Some((m.actor, m.start.min(r.start), m.end.max(r.end)));
        }
    }
    None
}

/// The stance cues of tokens `a..b`, leaving out words that belong to a
/// topic's own phrase ("guarantees" in "security guarantees").
fn cues_in(s: &Sentence, a: usize, b: usize) -> Vec<Cue> {
    let mut out = Vec::new();
    let kinds = [
        (Class::RuleOut, CueKind::RuleOut),
        (Class::Openness, CueKind::Openness),
        (Class::Opposes, CueKind::Opposes),
        (Class::Deontic, CueKind::Deontic),
        (Class::Supports, CueKind::Supports),
    ];
    let in_topic = |i: usize| s.topics.iter().any(|t| t.start <= i && i < t.end);
    for (c, k) in kinds {
        for sp in s.marks.within(c, a, b) {
            // the second half of a compound ("Congress-approved",
            // "US-backed") modifies a noun: it is no verb of anyone's
            let compound = sp.start >= 2
                && s.toks[sp.start - 1].norm == "-"
                && super::sentence::attached(&s.toks, sp.start - 1);
            if in_topic(sp.start) || compound {
                continue;
            }
            if out
                .iter()
                .any(|x: &Cue| x.start <= sp.start && sp.start < x.end)
            {
                continue;
            }
            out.push(Cue {
                kind: k,
                start: sp.start,
                end: sp.end,
            });
        }
    }
    // "could accept": a modal right before a softened verb
    for sp in s.marks.within(Class::Softened, a, b) {
        let modal = s
            .marks
            .of(Class::Modals)
            .iter()
            .any(|m| m.end <= sp.start && sp.start - m.end <= 2 && m.start >= a);
        if modal {
            for c in out.iter_mut() {
                if c.start == sp.start {
                    c.kind = CueKind::Softened;
                }
            }
        }
    }
    out.sort_by_key(|c| c.start);
    // two words of one kind side by side are one cue ("veto against")
    let mut merged: Vec<Cue> = Vec::with_capacity(out.len());
    for c in out {
        if let Some(last) = merged.last_mut()
            && last.kind == c.kind
            && last.end == c.start
        {
            last.end = c.end;
            continue;
        }
        merged.push(c);
    }
    merged
}

/// Is the kind a plain "yes" that passes what it governs through?
fn transparent(k: CueKind) -> bool {
    matches!(k, CueKind::Supports | CueKind::Action)
}

/// One cue over another ("refused to consider", "ready to send"): the
/// kind that results and the negations the outer one adds.
fn compose(outer: CueKind, inner: CueKind) -> (CueKind, usize) {
    match outer {
        CueKind::Supports | CueKind::Action => (inner, 0),
        CueKind::Opposes => {
            if transparent(inner) {
                (CueKind::Opposes, 0)
            } else {
                (inner, 1)
            }
        }
        CueKind::RuleOut | CueKind::Openness | CueKind::Softened | CueKind::Deontic => {
            if transparent(inner) {
                (outer, 0)
            } else if outer == CueKind::RuleOut {
                (inner, 1)
            } else {
                (inner, 0)
            }
        }
    }
}

/// The cue that governs a topic in `a..b`: the nearest before it (else the
/// nearest after it, as in verb-final clauses), composed with the cues
/// chained before it ("refused to consider sending").
fn governing(s: &Sentence, tm: &TopicMention, a: usize, b: usize) -> Option<(Cue, usize)> {
    let cues = cues_in(s, a, b);
    let after: Vec<usize> = (0..cues.len())
        .filter(|&k| cues[k].start >= tm.end)
        .collect();
    // a cue before the topic (or around it: "lehnt … ab")
    // a cue before the topic, unless a reporting verb stands between them
    // ("reiterated Ankara's commitment to peace … and said the country may
    // contribute troops")
    let reported_between =
        |c: &Cue| c.end <= tm.start && s.marks.any_in(Class::Reporting, c.end, tm.start);
    let before = cues.iter().rposition(|c| {
        (c.end <= tm.start
            || (c.start < tm.start && c.end >= tm.end)
            || (c.start >= tm.start && c.start < tm.end))
            && !reported_between(c)
    });
    // an act named by its verb needs no cue after it ("would not withdraw
    // its troops … and urged …")
    let has_subject = s
        .mentions
        .iter()
        .any(|m| m.can_hold() && m.end <= tm.start && m.start >= a);
    // … unless an evaluation follows it ("described handing over Donetsk
    // as unacceptable")
    let judged_after = cues.iter().any(|c| {
        c.start >= tm.end
            && c.start <= tm.end + 6
            && matches!(
                c.kind,
                CueKind::Opposes | CueKind::RuleOut | CueKind::Openness
            )
    });
    if before.is_none()
        && tm.kind == TermKind::Action
        && !nominal(s, tm)
        && has_subject
        && !judged_after
    {
        return Some((act(s, tm), 0));
    }
    let idx = before.or_else(|| {
        // a participle right after the topic ("soldiers sent to …")
        // modifies it when another cue follows
        match after.as_slice() {
            [first, second, ..] if cues[*first].start == tm.end => Some(*second),
            [first, ..] => Some(*first),
            [] => None,
        }
    });
    let Some(mut k) = idx else {
        // an act named after a preposition is a noun ("his position on
        // sending troops"), not something done
        let nominal = nominal(s, tm);
        return (tm.kind == TermKind::Action && !nominal).then_some((act(s, tm), 0));
    };
    let mut cue = cues[k];
    // a topic in a prepositional phrase beyond another topic is not what
    // the cue governs ("will not send troops … under the guarantees";
    // "nach Beratungen über Garantien … vor der Entsendung … gewarnt")
    let between = |a: usize, b: usize| {
        s.topics
            .iter()
            .any(|o| o.start >= a && o.end <= b && o.topic != tm.topic)
    };
    let in_phrase = s.after_preposition(tm.start)
        || (tm.start > 0 && s.marks.ending_at(Class::Prepositions, tm.start).is_some());
    if in_phrase
        && ((cue.end <= tm.start && between(cue.end, tm.start))
            || (cue.start >= tm.end && between(tm.end, cue.start + (cue.end - cue.start))))
    {
        return None;
    }
    // the topic's own action under the cue ("refuses to send troops")
    if tm.kind == TermKind::Action && cue.end <= tm.start {
        let (kind, _) = compose(cue.kind, CueKind::Action);
        cue.kind = kind;
    }
    let mut extra = 0;
    while k > 0
        && cues[k - 1].end + 2 >= cues[k].start
        && !s
            .mentions
            .iter()
            .any(|m| m.start >= cues[k - 1].end && m.end <= cues[k].start)
    {
        let outer = cues[k - 1];
        let (kind, neg) = compose(outer.kind, cue.kind);
        extra += neg;
        cue = Cue {
            kind,
            start: outer.start,
            end: cue.end,
        };
        k -= 1;
    }
    Some((cue, extra))
}

/// The topic's own act as its cue; under a modal ("may contribute
/// troops", "troops could be deployed") an opening, not a commitment.
fn act(s: &Sentence, tm: &TopicMention) -> Cue {
    let modal = s
        .marks
        .of(Class::Modals)
        .iter()
        .any(|m| m.start + 2 >= tm.start && m.start < tm.end && m.end <= tm.end);
    Cue {
        kind: if modal {
            CueKind::Softened
        } else {
            CueKind::Action
        },
        start: tm.start,
        end: tm.end,
    }
}

/// History without a profile's date: a word for the past only.
fn historical_any(s: &Sentence, a: usize, b: usize) -> bool {
    s.marks.any_in(Class::Past, a, b)
}

/// Is the act named as a noun, after a preposition ("on sending troops",
/// "de l'envoi de troupes"), rather than done ("to withdraw", "de retirer")?
fn nominal(s: &Sentence, tm: &TopicMention) -> bool {
    if tm.start == 0 {
        return false;
    }
    // right after an infinitive marker, with no article between: done
    if s.marks.ending_at(Class::Infinitive, tm.start).is_some() {
        return false;
    }
    s.after_preposition(tm.start)
}

/// Is the clause `a..b` history: an old year, or a word for the past?
fn historical(profile: &Profile, s: &Sentence, a: usize, b: usize) -> bool {
    let since = chrono::Datelike::year(&profile.since);
    let old_year = s.toks[a..b].iter().any(|t| {
        t.norm.len() == 4
            && t.norm.chars().all(|c| c.is_ascii_digit())
            && t.norm
                .parse::<i32>()
                .is_ok_and(|y| (1900..since).contains(&y))
    });
    old_year || s.marks.any_in(Class::Past, a, b)
}

/// The actors that can hold a position in `a..b`: not after a preposition
/// (but the agent of a passive), not the addressee of a demand, not inside
/// the topic's own phrase.
fn candidates<'s>(s: &'s Sentence, a: usize, b: usize, tm: &TopicMention) -> Vec<&'s Mention> {
    s.mentions
        .iter()
        .filter(|m| m.can_hold() && m.start >= a && m.end <= b)
        .filter(|m| {
            let inside = |a: usize, b: usize| m.start >= a && m.end <= b;
            let in_term = s
                .topics
                .iter()
                .any(|t| inside(t.start, t.end) && t.kind != TermKind::Action && !t.own);
            !in_term && !inside(tm.start, tm.end)
        })
        .filter(|m| !s.after_preposition(m.start))
        .filter(|m| !genitive(s, m))
        .filter(|m| !in_prepositional_list(s, m))
        .filter(|m| !addressee(s, m))
        .collect()
}

/// A German genitive attribute ("nach der Meinung der EU"): an article right
/// after a noun (written with a capital, not opening the sentence) before
/// the actor; not after a speaker's noun ("Sprecher der Regierung").
fn genitive(s: &Sentence, m: &Mention) -> bool {
    if !s.verb_second || m.start < 2 {
        return false;
    }
    let Some(d) = s.marks.ending_at(Class::Determiners, m.start) else {
        return false;
    };
    if d.start == 0 {
        return false;
    }
    let noun = d.start - 1;
    let t = &s.toks[noun];
    t.is_word()
        && t.upper
        && noun > 0
        && !s.mentions.iter().any(|o| o.start <= noun && noun < o.end)
        && s.marks.ending_at(Class::SpeakerNouns, noun + 1).is_none()
        && s.marks.ending_at(Class::PersonRoles, noun + 1).is_none()
}

/// Is the mention a later member of a list that follows a preposition
/// ("between Ukraine, the United States and Europe")?
fn in_prepositional_list(s: &Sentence, m: &Mention) -> bool {
    let mut k = m.start;
    let mut comma = false;
    loop {
        // this item's own article
        while k > 0 && s.marks.covers(Class::Determiners, k - 1) {
            k -= 1;
        }
        if k == 0 {
            return false;
        }
        let t = s.toks[k - 1].norm.as_str();
        if !(t == "," || s.marks.covers(Class::Conjunctions, k - 1)) {
            return false;
        }
        comma |= t == ",";
        k -= 1;
        let Some(o) = s.mentions.iter().find(|o| o.end == k && o.start < k) else {
            return false;
        };
        if s.after_preposition(o.start) && !agent_of(s, o) {
            // a phrase that opens the clause ("In contrast to X, Y …") ends
            // at its comma
            let opening = s.clause_of(o.start).start + 4 >= o.start;
            return !(comma && opening);
        }
        k = o.start;
    }
}

/// Is the mention the agent of a passive ("by Warsaw", "by the Kremlin")?
fn agent_of(s: &Sentence, m: &Mention) -> bool {
    let mut k = m.start;
    if let Some(d) = s.marks.ending_at(Class::Determiners, k) {
        k = d.start;
    }
    let Some(by) = s.marks.ending_at(Class::PassiveAgents, k) else {
        return false;
    };
    // "von", "da" also mean "from": "verlangte von der Ukraine" names
    // whom a demand is made of, unless the clause is a passive
    if s.marks.covers(Class::Prepositions, by.start) {
        let clause = s.clause_of(by.start);
        return (clause.start..clause.end).any(|i| s.marks.covers(Class::PassiveAux, i));
    }
    true
}

/// The actors joined to `m` by conjunctions ("France and the United
/// Kingdom"), `m` included.
fn coordinated<'s>(s: &'s Sentence, all: &[&'s Mention], m: &'s Mention) -> Vec<&'s Mention> {
    let mut out = vec![m];
    let joins = |x: usize, y: usize| {
        // only commas, conjunctions and determiners between
        (x..y).all(|k| {
            s.toks[k].norm == ","
                || s.marks.covers(Class::Conjunctions, k)
                || s.marks.covers(Class::Determiners, k)
                || s.marks.covers(Class::SpeakerNouns, k)
        }) && (x..y).any(|k| s.marks.covers(Class::Conjunctions, k) || s.toks[k].norm == ",")
    };
    let mut left = m;
    while let Some(p) = all
        .iter()
        .filter(|p| p.end <= left.start)
        .max_by_key(|p| p.end)
    {
        if !joins(p.end, left.start) {
            break;
        }
        out.push(p);
        left = p;
    }
    let mut right = m;
    while let Some(n) = all
        .iter()
        .filter(|n| n.start >= right.end)
        .min_by_key(|n| n.start)
    {
        if !joins(right.end, n.start) {
            break;
        }
        out.push(n);
        right = n;
    }
    out
}

/// An actor right after the cue and a preposition ("a non-starter for
/// Kyiv", "unacceptable to Moscow"): who the evaluation is for.
fn experiencer<'s>(s: &'s Sentence, cue: &Cue, b: usize) -> Option<&'s Mention> {
    let p = s.marks.at(Class::Prepositions, cue.end)?;
    s.mentions.iter().find(|m| {
        m.can_hold()
            && m.start >= p.end
            && m.start <= p.end + 1
            && m.end <= b
            && (p.end..m.start).all(|k| s.marks.covers(Class::Determiners, k))
    })
}

/// Reads every topic mention of a sentence. `answered_no`: the next
/// sentence answers this one's question with a no.
pub fn readings(profile: &Profile, s: &Sentence, ctx: &Context, answered_no: bool) -> Vec<Reading> {
    let mut out = Vec::new();
    let speaker = speaker_of(s);
    let n = s.toks.len();
    let sentence_frame = Frame {
        question: s.is_question() && !answered_no,
        hypothetical: s.marks.any_in(Class::Hypotheticals, 0, n),
        non_actor: s.marks.any_in(Class::NonActors, 0, n)
            && speaker.is_none_or(|(_, a, b)| {
                s.marks
                    .of(Class::NonActors)
                    .iter()
                    .any(|x| x.start + 6 >= a && x.start <= b + 6)
            }),
        answered_no,
        ..Frame::default()
    };
    // a denial: a denial verb, or a rejection of a report ("rejected a
    // newspaper report that …")
    let denial = s.marks.of(Class::Denials).first().copied().or_else(|| {
        s.marks
            .of(Class::Opposes)
            .iter()
            .chain(s.marks.of(Class::RuleOut))
            .find(|o| {
                s.marks
                    .within(Class::ReportNouns, o.end, o.end + 5)
                    .next()
                    .is_some()
            })
            .copied()
    });
    let first_person = !s.marks.of(Class::FirstPerson).is_empty();
    let push = |out: &mut Vec<Reading>, r: Reading| {
        if !out
            .iter()
            .any(|o: &Reading| o.topic == r.topic && o.holder == r.holder && o.mention == r.mention)
        {
            out.push(r);
        }
    };
    for tm in &s.topics {
        let clause = s.clause_of(tm.start);
        let (ca, cb) = (clause.start, clause.end);
        let mut frame = sentence_frame;
        frame.subordinate = matches!(
            clause.kind,
            ClauseKind::Time | ClauseKind::Condition | ClauseKind::If
        );
        frame.indirect_question = clause.kind == ClauseKind::Question;
        // a year or a word for the past near the topic (not in a trailing
        // "…, echoing what leaders said in 2024")
        frame.historical = historical(profile, s, ca, cb.min(tm.end + 8));
        // a stated condition anywhere in the sentence; a plain "if" only
        // when it names no trigger ("if Russia attacks again")
        // a condition that names only when the question applies ("if a
        // ceasefire is reached") is timing
        let timing = |c: &super::sentence::Clause| profile.timing.any(&s.toks[c.start..c.end]);
        frame.condition = s.clauses.iter().any(|c| {
            c.start != ca
                && (c.kind == ClauseKind::Condition
                    || (c.kind == ClauseKind::If
                        && !s.marks.any_in(Class::Triggers, c.start, c.end)))
                && !timing(c)
                && !joined_between(
                    s,
                    ca.min(c.start),
                    cb.max(c.end),
                    (ca, cb),
                    (c.start, c.end),
                )
        });
        // "will not … until …": not before, so on a condition
        let until = s.clauses.iter().any(|c| {
            c.kind == ClauseKind::Time
                && c.start >= cb
                && c.start <= cb + 1
                && s.marks.at(Class::UntilWords, c.start).is_some()
        });
        frame.not_until = until;
        if let Some(d) = denial {
            frame.denied = (d.start < tm.start
                && (ca <= d.start || clause.kind == ClauseKind::Content))
                || (d.start >= tm.end && s.marks.any_in(Class::ReportNouns, 0, tm.start));
        }
        let denial_at = denial.map(|d| d.start);
        // a content clause asked for by a cue ("demanded that Kyiv cede …"):
        // the one who asks holds it, with the asking cue over the content's
        let asked = clause.kind == ClauseKind::Content && clause.gov == Governor::Cue;
        let (scope_a, governed) = if asked {
            let prev = s.clauses.iter().rfind(|c| c.end <= ca);
            (prev.map_or(ca, |p| p.start), prev)
        } else {
            (ca, None)
        };
        // no cue: still a reading (a judge may find a stance the rules do
        // not), placed at the topic
        let (mut cue, extra, missing) = match governing(s, tm, scope_a, cb) {
            Some((c, e)) => (c, e, false),
            None => (
                Cue {
                    kind: CueKind::Supports,
                    start: tm.start,
                    end: tm.start,
                },
                0,
                true,
            ),
        };
        let mut cands = candidates(s, ca, cb, tm);
        if asked {
            // the content's own subject is asked, not the holder
            cands = governed.map_or(Vec::new(), |p| candidates(s, p.start, p.end, tm));
            cands.retain(|m| m.end <= cue.start);
        }
        // the agent of the governing verb ("ruled out by Berlin"), not of a
        // participle elsewhere ("designed by the coalition")
        let agent = s
            .mentions
            .iter()
            .filter(|m| m.can_hold() && m.start >= ca && m.end <= cb)
            .find(|m| agent_of(s, m) && m.start >= cue.end && m.start - cue.end <= 4);
        // "X is unacceptable to Moscow": the topic before the cue, an actor
        // after it and a preposition
        let judged = (cue.start >= tm.end && !missing)
            .then(|| experiencer(s, &cue, cb))
            .flatten();
        let owner = s
            .mentions
            .iter()
            .filter(|_| !profile.topics[tm.topic].own_nouns.is_empty())
            .find(|m| {
                (m.via == Via::Owner && m.start + 4 >= tm.start && m.end <= tm.end + 4)
                    || (tm.own && m.start >= tm.start && m.end <= tm.end && m.can_hold())
                    // a name right before the forces ("U.S. troops")
                    || (m.via == Via::Name && m.end == tm.start && profile.topics[tm.topic].own_nouns.longest_at(&s.toks, tm.start).is_some())
            });
        let possessive = cands
            .iter()
            .find(|m| {
                s.marks.at(Class::Possessives, m.end).is_some()
                    && m.end < cue.start
                    && cue.start - m.end <= 4
            })
            .copied();
        // the actor before the cue; when the cue comes after the topic (a
        // verb at the end, as in German), the actor before the topic
        let verb_last = cue.start >= tm.end && !missing;
        let before_at = if verb_last { tm.start } else { cue.start };
        let eligible =
            |m: &&&Mention| m.end <= before_at && s.marks.at(Class::Possessives, m.end).is_none();
        // with the verb at the end the subject comes first ("dass die USA
        // der Ukraine Garantien geben"); otherwise the nearest before the cue
        let before_cue = if verb_last {
            cands
                .iter()
                .filter(eligible)
                .min_by_key(|m| m.start)
                .copied()
        } else {
            cands.iter().filter(eligible).max_by_key(|m| m.end).copied()
        };
        // a subject after the verb: only where the verb comes second
        // ("lehnt Russland die Garantien ab"); elsewhere an actor between
        // verb and topic is a recipient ("give Ukraine guarantees")
        let after_cue = cands
            .iter()
            .filter(|_| s.verb_second)
            .filter(|m| {
                m.start >= cue.end
                    && m.end <= tm.start
                    && s.marks.at(Class::Possessives, m.end).is_none()
            })
            .min_by_key(|m| m.start)
            .copied();
        let via_of = |m: &Mention, v: HolderVia| {
            if m.via == Via::Reference {
                HolderVia::Context
            } else {
                v
            }
        };
        // (actor, how found, where its mention ends)
        let mut holders: Vec<(usize, HolderVia, Option<usize>)> = Vec::new();
        if let Some(m) = stance_owner(s, &cue) {
            // "American support for …", "Zusagen der USA für …": whose
            // stance the noun names holds it, whoever reports it
            holders.push((m.actor, via_of(m, HolderVia::Possessive), None));
        } else if let Some(m) = owner {
            // "no U.S. troops": the negation sits before the owner
            holders.push((m.actor, HolderVia::Owner, Some(ca)));
        } else if let Some(m) = agent {
            holders.push((m.actor, HolderVia::Agent, None));
        } else if let Some(m) = judged {
            holders.push((m.actor, via_of(m, HolderVia::Possessive), None));
        } else if let Some(m) = possessive.filter(|_| !missing && cue.start < tm.start) {
            holders.push((m.actor, via_of(m, HolderVia::Possessive), Some(m.end)));
        } else if cue.kind == CueKind::Deontic {
            // the subject of "must" is who is asked; the speaker asks
            if let Some((a, _, _)) = speaker {
                holders.push((a, HolderVia::Speaker, None));
            }
        } else if let Some(m) = before_cue {
            let group = coordinated(s, &cands, m);
            // "neither X nor Y", "no European country": negators from the
            // one before the first of the group on
            let first = group.iter().map(|c| c.start).min().unwrap_or(m.start);
            let from = match lead_negator(s, first) {
                Some(n) => n,
                None if group.len() > 1 => first,
                None => m.end,
            };
            for c in group {
                holders.push((c.actor, via_of(c, HolderVia::Before), Some(from)));
            }
        } else if let Some(m) = after_cue {
            holders.push((m.actor, via_of(m, HolderVia::After), None));
        } else if let Some(m) = experiencer(s, &cue, cb) {
            holders.push((m.actor, via_of(m, HolderVia::Possessive), None));
        } else if clause.kind == ClauseKind::Relative {
            // the noun the clause is about: the actor right before it
            if let Some(m) = s
                .mentions
                .iter()
                .rfind(|m| m.end <= ca && ca - m.end <= 2 && m.can_hold())
            {
                holders.push((m.actor, via_of(m, HolderVia::Before), None));
            }
        } else if first_person && let Some((a, _, _)) = speaker {
            holders.push((a, HolderVia::Speaker, None));
        } else if let Some((a, _, _)) =
            speaker.filter(|_| profile.topics[tm.topic].own_nouns.is_empty())
        {
            // sending one's own forces needs someone who sends them: who
            // speaks of a deployment is not its sender
            holders.push((a, HolderVia::Speaker, None));
        } else if s.mentions.iter().all(|m| !m.can_hold()) {
            // no actor in the whole sentence: the one who spoke before
            if let Some(a) = ctx.last_speaker.or(ctx.last_person)
                && cue.start <= ca + 4
            {
                holders.push((a, HolderVia::Context, None));
            }
        }
        // what a document named just before says ("So soll die Armee auf
        // 800.000 Soldaten begrenzt werden", "Ukraine would cap its army"):
        // its authors hold it, when nobody in the clause does
        let spelled_out = s
            .marks
            .of(Class::Deontic)
            .iter()
            .any(|d| d.start >= ca && d.end <= cb)
            || s.marks
                .of(Class::HypotheticalVerbs)
                .iter()
                .any(|d| d.start >= ca && d.end <= cb)
            || s.marks
                .of(Class::DocumentNouns)
                .iter()
                .any(|d| d.start >= ca && d.start < tm.start);
        if holders.is_empty()
            && !missing
            && spelled_out
            && ctx.authors_age <= 2
            && !cands.iter().any(|m| m.start < tm.start)
        {
            for a in &ctx.authors {
                holders.push((*a, HolderVia::Context, None));
            }
        }
        if asked
            && let Some(g) = s
                .marks
                .of(Class::Supports)
                .iter()
                .chain(s.marks.of(Class::Opposes))
                .chain(s.marks.of(Class::AddressVerbs))
                .filter(|x| x.end <= ca)
                .max_by_key(|x| x.end)
        {
            // the asking cue is the governing one
            cue.start = g.start.min(cue.start);
        }
        // "X agreed that Y …": X agrees with what the clause says
        if clause.kind == ClauseKind::Content
            && clause.gov == Governor::Agreed
            && let Some(prev) = s.clauses.iter().rfind(|c| c.end <= ca)
        {
            let agree = s
                .marks
                .of(Class::Supports)
                .iter()
                .filter(|x| x.end <= ca && x.start >= prev.start)
                .max_by_key(|x| x.end);
            if let Some(g) = agree {
                let main = candidates(s, prev.start, g.start, tm);
                if let Some(m) = main.iter().max_by_key(|m| m.end) {
                    for c in coordinated(s, &main, m) {
                        if !holders.iter().any(|h| h.0 == c.actor) {
                            holders.push((c.actor, via_of(c, HolderVia::Before), None));
                        }
                    }
                }
            }
        }
        // a question answered "no": its asker holds the opposite of what it
        // asks ("Can foreign troops keep the peace? Absolutely not.")
        let mut missing = missing;
        if answered_no && holders.is_empty() {
            let asker = s
                .mentions
                .iter()
                .filter(|m| m.can_hold() && m.end <= tm.start && !s.after_preposition(m.start))
                .map(|m| m.actor)
                .next()
                .or(speaker.map(|x| x.0))
                .or(ctx.last_speaker);
            if let Some(a) = asker {
                holders.push((a, HolderVia::Speaker, None));
                missing = false;
            }
        } else if answered_no && missing {
            missing = false;
        }
        let rivals = cands
            .iter()
            .filter(|m| !holders.iter().any(|h| h.0 == m.actor))
            .count();
        // "dropped its demand for …" (before the cue) or "agreed to drop
        // its goal of …" (between the cue and the topic)
        let reversed = s.marks.of(Class::Reversals).iter().any(|r| {
            (r.end <= cue.start && cue.start - r.end <= 3 && r.start >= scope_a)
                || (!missing && r.start >= cue.end && r.end <= tm.start)
        });
        // the denial verb itself governing the topic is the stance, not a
        // frame around another one
        if !missing && denial_at.is_some_and(|d| cue.start <= d && d < cue.end.max(cue.start + 1)) {
            frame.denied = false;
        }
        // who believes or expects, before the belief word
        let believer = s
            .marks
            .of(Class::Beliefs)
            .iter()
            .filter(|b| b.end <= tm.start)
            .find_map(|b| {
                let c = s.clause_of(b.start);
                s.mentions
                    .iter()
                    .filter(|m| m.can_hold() && m.start >= c.start && m.end <= b.start)
                    .map(|m| (m.actor, b.end))
                    .next()
            });
        for (holder, via, at) in holders {
            let mut frame = frame;
            frame.predicted = believer.is_some_and(|(a, _)| a != holder);
            // negators from the holder (or the clause) to the topic
            let from = at
                .filter(|e| *e <= cue.start || via == HolderVia::Owner)
                .unwrap_or(ca.min(scope_a))
                .max(scope_a.min(ca));
            let negations = negations(s, from, tm.end.max(cue.end), tm) + extra;
            frame.withheld = negations % 2 == 1
                && !missing
                && matches!(cue.kind, CueKind::Supports | CueKind::Action)
                && s.marks
                    .of(Class::Commitments)
                    .iter()
                    .any(|c| c.start >= cue.start && c.start < cue.end.max(cue.start + 1));
            let spk = match via {
                HolderVia::Speaker | HolderVia::Context => holder,
                _ => speaker.map(|x| x.0).unwrap_or(holder),
            };
            push(
                &mut out,
                Reading {
                    topic: tm.topic,
                    mention: tm.clone(),
                    holder,
                    via,
                    speaker: spk,
                    cue: (!missing).then_some(cue),
                    negations,
                    reversed,
                    frame,
                    clause: (ca, cb),
                    rivals,
                },
            );
        }
    }
    secondary(profile, s, &mut out, &push, speaker.map(|x| x.0));
    out
}

/// Readings a clause gives for a topic named in another one:
///
/// * a relative clause on a document ("the proposal, which calls for a
///   smaller army"): whoever the main clause says welcomes or rejects the
///   document holds that position on what it calls for;
/// * a phrase set apart by a dash that judges what came before ("… cede
///   Donetsk — a non-starter for Kyiv"): its experiencer holds it.
fn secondary(
    profile: &Profile,
    s: &Sentence,
    out: &mut Vec<Reading>,
    push: &dyn Fn(&mut Vec<Reading>, Reading),
    speaker: Option<usize>,
) {
    let firsts: Vec<Reading> = out.clone();
    // "NATO backs the coalition's plan to send forces": whoever backs or
    // rejects someone's plan holds that position on what the plan says
    for r in &firsts {
        if r.via != HolderVia::Possessive {
            continue;
        }
        let Some(cue) = r.cue else { continue };
        let Some(m) = s.mentions.iter().find(|m| {
            m.actor == r.holder
                && m.end < cue.start
                && s.marks.at(Class::Possessives, m.end).is_some()
                && (m.end + 1..(m.end + 4).min(s.toks.len()))
                    .any(|k| s.marks.at(Class::DocumentNouns, k).is_some())
        }) else {
            continue;
        };
        let (ca, _) = r.clause;
        let outer = cues_in(s, ca, m.start)
            .into_iter()
            .rfind(|c| c.end <= m.start && m.start - c.end <= 2);
        let Some(outer) = outer else { continue };
        let Some(holder) = s
            .mentions
            .iter()
            .filter(|h| h.can_hold() && h.end <= outer.start && h.start >= ca)
            .filter(|h| !s.after_preposition(h.start))
            .max_by_key(|h| h.end)
        else {
            continue;
        };
        let (kind, neg) = compose(outer.kind, cue.kind);
        let mut x = r.clone();
        // backing another's plan to send its forces backs the force they
        // would form, not one's own forces
        let t = &profile.topics[r.topic];
        if !t.own_nouns.is_empty()
            && let Some((to, _)) = t.implies.first()
        {
            x.topic = *to;
            x.mention.topic = *to;
            x.mention.kind = TermKind::Strong;
        }
        x.holder = holder.actor;
        x.via = HolderVia::Before;
        x.speaker = speaker.unwrap_or(holder.actor);
        x.cue = Some(Cue {
            kind,
            start: outer.start,
            end: cue.end,
        });
        x.negations = negations(s, holder.end, outer.end, &r.mention) + neg;
        push(out, x);
    }
    for c in &s.clauses {
        match c.kind {
            ClauseKind::Relative | ClauseKind::Content => {
                // the clause follows a document noun ("the plan, which …",
                // "a framework that …")
                let doc = (c.kind == ClauseKind::Relative
                    && ((c.start >= 2
                        && s.marks
                            .ending_at(Class::DocumentNouns, c.start - 1)
                            .is_some())
                        || s.marks.ending_at(Class::DocumentNouns, c.start).is_some()))
                    || (c.kind == ClauseKind::Content
                        && c.gov == Governor::None
                        && s.marks.ending_at(Class::DocumentNouns, c.start).is_some());
                if !doc {
                    continue;
                }
                let Some(main) = s
                    .clauses
                    .iter()
                    .rfind(|m| m.end <= c.start && m.kind != ClauseKind::Relative)
                else {
                    continue;
                };
                let cues = cues_in(s, main.start, main.end);
                let Some(cue) = cues.last().copied() else {
                    continue;
                };
                let Some(holder) = s
                    .mentions
                    .iter()
                    .filter(|m| m.can_hold() && m.start >= main.start && m.end <= cue.start)
                    .filter(|m| !s.after_preposition(m.start))
                    .max_by_key(|m| m.end)
                else {
                    continue;
                };
                for tm in s
                    .topics
                    .iter()
                    .filter(|t| t.start >= c.start && t.end <= c.end)
                {
                    let first = firsts
                        .iter()
                        .find(|r| r.mention == *tm)
                        .cloned()
                        .unwrap_or_else(|| Reading {
                            topic: tm.topic,
                            mention: tm.clone(),
                            holder: holder.actor,
                            via: HolderVia::Before,
                            speaker: holder.actor,
                            cue: Some(cue),
                            negations: 0,
                            reversed: false,
                            frame: Frame {
                                question: s.is_question(),
                                historical: historical_any(s, main.start, c.end),
                                ..Frame::default()
                            },
                            clause: (main.start, main.end),
                            rivals: 0,
                        });
                    let negations = negations(s, holder.end, cue.end, tm);
                    let mut r = first;
                    r.holder = holder.actor;
                    r.via = HolderVia::Before;
                    r.speaker = speaker.unwrap_or(holder.actor);
                    r.cue = Some(cue);
                    r.negations = negations;
                    r.reversed = false;
                    r.clause = (main.start, main.end);
                    push(out, r);
                }
            }
            ClauseKind::Apposition => {
                if s.topics
                    .iter()
                    .any(|t| t.start >= c.start && t.end <= c.end)
                {
                    continue;
                }
                let cues = cues_in(s, c.start, c.end);
                let Some(cue) = cues.first().copied() else {
                    continue;
                };
                let Some(m) = experiencer(s, &cue, c.end) else {
                    continue;
                };
                let Some(tm) = s.topics.iter().rfind(|t| t.end <= c.start) else {
                    continue;
                };
                let Some(first) = firsts.iter().find(|r| r.mention == *tm) else {
                    continue;
                };
                let mut r = first.clone();
                r.holder = m.actor;
                r.via = HolderVia::Possessive;
                r.speaker = speaker.unwrap_or(m.actor);
                r.cue = Some(cue);
                r.negations = negations(s, c.start, c.end, tm);
                r.reversed = false;
                r.clause = (c.start, c.end);
                push(out, r);
            }
            _ => {}
        }
    }
}

/// Is there a clause of its own between two clauses of a sentence: one
/// opened by a joiner ("but") with words besides the joiner?
fn joined_between(s: &Sentence, a: usize, b: usize, x: (usize, usize), y: (usize, usize)) -> bool {
    s.clauses.iter().any(|c| {
        c.kind == ClauseKind::Main
            && c.start >= a
            && c.end <= b
            && (c.start, c.end) != x
            && (c.start, c.end) != y
            && s.marks
                .at(Class::ClauseJoiners, c.start)
                .is_some_and(|j| c.end > j.end + 1)
    })
}

/// Negators in `a..b`, but not those inside the topic's own phrase nor
/// look-alikes that negate nothing ("not only").
fn negations(s: &Sentence, a: usize, b: usize, tm: &TopicMention) -> usize {
    // a negator that is part of a cue ("no intention") is the cue's own
    let in_cue = |i: usize| {
        [
            Class::Opposes,
            Class::Supports,
            Class::RuleOut,
            Class::Openness,
        ]
        .iter()
        .any(|c| {
            s.marks
                .of(*c)
                .iter()
                .any(|x| x.holds(i) && x.end - x.start > 1)
        })
    };
    let not_really = |i: usize| {
        in_cue(i)
            || s.marks
                .of(Class::NotNegators)
                .iter()
                .any(|x| x.start <= i && i < x.end)
    };
    // a gapped negation ("ne … pas", "non … mai") counts once, and so do
    // its words written alone; two openings reaching one close count once
    let mut gaps: Vec<super::sentence::Span> = Vec::new();
    for x in s
        .marks
        .within(Class::Negators, a, b)
        .filter(|x| x.head != x.end)
    {
        if !gaps.iter().any(|g| g.tail == x.tail || g.start == x.start) {
            gaps.push(*x);
        }
    }
    let singles = s
        .marks
        .within(Class::Negators, a, b)
        .filter(|x| x.head == x.end)
        .filter(|x| !(tm.start < x.start && x.start < tm.end))
        .filter(|x| !not_really(x.start))
        .filter(|x| !gaps.iter().any(|g| g.holds(x.start)))
        .collect::<Vec<_>>();
    // "neither X nor Y": the second half of a pair is the first's
    let singles = singles
        .iter()
        .enumerate()
        .filter(|(i, x)| *i == 0 || !s.marks.covers(Class::Conjunctions, x.start))
        .count();
    let gapped = gaps.len();
    singles + gapped
}

/// The actor a stance noun in the cue belongs to: an adjective on it
/// ("American support", "il sostegno americano") or a genitive right after
/// it ("the backing of Washington", "Zusagen der USA", "le refus de
/// Moscou").
fn stance_owner<'s>(s: &'s Sentence, cue: &Cue) -> Option<&'s Mention> {
    let nouns: Vec<Span> = [
        Class::Supports,
        Class::Opposes,
        Class::Openness,
        Class::RuleOut,
    ]
    .iter()
    .flat_map(|c| s.marks.of(*c).iter().copied())
    .filter(|x| x.start >= cue.start && x.end <= cue.end)
    .collect();
    s.mentions.iter().find(|m| {
        nouns.iter().any(|x| {
            if m.via == Via::Stance {
                return x.start == m.end || x.end == m.start;
            }
            // a genitive: the noun (with its article, or a capital where
            // nouns have one), its genitive word(s), the name
            let noun = (x.start > 0 && s.marks.ending_at(Class::Determiners, x.start).is_some())
                || (s.verb_second && s.toks[x.start].upper);
            // not the first half of a compound ("der NATO-Erweiterung")
            let compound = m.end < s.toks.len() && s.toks[m.end].norm == "-";
            let in_topic = s
                .topics
                .iter()
                .any(|t| t.start <= m.start && m.end <= t.end);
            noun && !compound
                && !in_topic
                && m.can_hold()
                && m.start > x.end
                && m.start - x.end <= 3
                && s.marks.at(Class::Possessives, m.end).is_none()
                && (x.end..m.start).all(|k| {
                    s.marks.covers(Class::Genitives, k) || s.marks.covers(Class::Determiners, k)
                })
                && (x.end..m.start).any(|k| s.marks.covers(Class::Genitives, k))
        })
    })
}

/// Where the negator right before a subject starting at `start` begins
/// ("neither the", "weder die", "no"), determiners between.
fn lead_negator(s: &Sentence, start: usize) -> Option<usize> {
    let mut k = start;
    while k > 0 && s.marks.covers(Class::Determiners, k - 1) {
        k -= 1;
    }
    s.marks
        .ending_at(Class::Negators, k)
        .filter(|n| n.head == n.end && !s.marks.covers(Class::NotNegators, n.start))
        .map(|n| n.start)
}

/// Is the mention the addressee of a demand ("urged Kyiv", "told Kyiv")?
fn addressee(s: &Sentence, m: &Mention) -> bool {
    s.marks.of(Class::AddressVerbs).iter().any(|a| {
        a.end <= m.start
            && m.start - a.end <= 2
            && (a.end..m.start).all(|k| !is_stop(&s.toks[k].norm))
    })
}

fn is_stop(t: &str) -> bool {
    matches!(t, "," | ";" | ":" | ".")
}

/// Who wrote the first document the sentence names: the actor on the
/// noun ("the US plan", "le plan américain", "Trump's proposal", "der
/// Vorschlag der USA") or the subject of its clause ("Germany, France and
/// Britain presented a counter-proposal").
fn document_authors(s: &Sentence) -> Option<Vec<usize>> {
    let in_topic = |k: usize| s.topics.iter().any(|t| t.start <= k && k < t.end);
    // the first: what the clause is about ("a counter-proposal to the US
    // plan")
    let d = s
        .marks
        .of(Class::DocumentNouns)
        .iter()
        .find(|d| !in_topic(d.start))?;
    let next_to = s.mentions.iter().find(|m| {
        // right before ("US plan", "US-Plan", "Trump's plan"), right after
        // ("plan américain") or a genitive after ("Vorschlag der USA")
        let before = m.end == d.start
            || (m.end + 1 == d.start && matches!(s.toks[m.end].norm.as_str(), "-" | "'s" | "s'"));
        let after = m.start == d.end
            || (m.start > d.end
                && m.start - d.end <= 2
                && (d.end..m.start).all(|k| {
                    s.marks.covers(Class::Genitives, k) || s.marks.covers(Class::Determiners, k)
                })
                && (d.end..m.start).any(|k| s.marks.covers(Class::Genitives, k)));
        before || after
    });
    if let Some(m) = next_to {
        return Some(vec![m.actor]);
    }
    // the subject of the clause that names it
    let clause = s.clause_of(d.start);
    let cands: Vec<&Mention> = s
        .mentions
        .iter()
        .filter(|m| m.can_hold() && m.start >= clause.start && m.end <= d.start)
        .filter(|m| !s.after_preposition(m.start))
        .collect();
    let first = cands.iter().min_by_key(|m| m.start)?;
    Some(
        coordinated(s, &cands, first)
            .iter()
            .map(|m| m.actor)
            .collect(),
    )
}

/// Updates the context after a sentence.
pub fn carry(s: &Sentence, ctx: &mut Context, historic: bool) {
    if let Some(m) = s
        .mentions
        .iter()
        .find(|m| m.kind == MentionKind::Person && m.via != Via::Reference)
    {
        ctx.last_person = Some(m.actor);
    }
    if let Some(m) = s
        .mentions
        .iter()
        .find(|m| m.can_hold() && m.via == Via::Name)
    {
        ctx.last_actor = Some(m.actor);
    }
    ctx.last_speaker = speaker_of(s).map(|x| x.0).or_else(|| {
        s.mentions
            .iter()
            .find(|m| m.can_hold() && m.start <= 2)
            .map(|m| m.actor)
    });
    for m in &s.mentions {
        if s.marks.at(Class::Possessives, m.end).is_some()
            && (m.end + 1..(m.end + 4).min(s.toks.len()))
                .any(|k| s.marks.at(Class::DocumentNouns, k).is_some())
        {
            ctx.last_document = Some(m.actor);
        }
    }
    ctx.authors_age += 1;
    if let Some(a) = document_authors(s) {
        ctx.authors = a;
        ctx.authors_age = 0;
    }
    ctx.prev_historic = historic;
}
