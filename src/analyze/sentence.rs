//! One sentence as the engine reads it: its tokens, the word classes of its
//! language found in them ([`Marks`]), the actors ([`Mention`]) and topics
//! ([`TopicMention`]) it names, and its clauses ([`Clause`]).
//!
//! Built once per sentence; the later stages (attribution, the judges) read
//! this representation and never the raw text again.

use super::lang::{Class, GAP, Pack};
use super::text::Token;
use crate::profile::{MentionKind, Profile, TermKind};

/// Where a class of words was found: tokens `start..end` (for a phrase with
/// a gap, `head` ends its first part).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub head: usize,
    /// Where the part after a gap starts (`end` for a phrase without one).
    pub tail: usize,
}

impl Span {
    /// Is token `i` one of the span's own words (not a word in its gap)?
    pub fn holds(&self, i: usize) -> bool {
        (self.start <= i && i < self.head) || (self.tail <= i && i < self.end)
    }
}

/// The word classes found in a sentence, each a sorted list of spans.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    spans: Vec<Vec<Span>>,
}

impl Marks {
    /// Finds every class of `pack` in `toks`.
    pub fn find(pack: &Pack, toks: &[Token]) -> Marks {
        let mut spans = Vec::with_capacity(Class::ALL.len());
        // the classes none of whose phrases can start in this sentence
        let present = toks.iter().fold(0u128, |m, t| m | t.pack_mask);
        for c in Class::ALL {
            let l = pack.class(*c);
            let absent = l.bit() != 0 && present & l.bit() == 0;
            let mut v: Vec<Span> = if absent { Vec::new() } else { l.find_all(toks) }
                .into_iter()
                .map(|h| Span {
                    start: h.start,
                    end: h.end,
                    head: h.end,
                    tail: h.end,
                })
                .collect();
            let gapped = pack.gapped(*c);
            let starts: Vec<usize> = if gapped.is_empty() {
                Vec::new()
            } else {
                (0..toks.len())
                    .filter(|&i| pack.gapped_starts(*c, toks, i))
                    .collect()
            };
            for (a, b) in gapped {
                for &i in &starts {
                    if !a.matches_at(toks, i) {
                        continue;
                    }
                    let head = i + a.len();
                    let stop = (head + GAP).min(toks.len());
                    // inside a relative or content clause set off by commas
                    let mut inner = false;
                    for k in head..stop {
                        if is_boundary(&toks[k]) {
                            break;
                        }
                        // a comma ends the verb's clause unless it opens (or
                        // closes) a clause inside it ("lehnt den Plan, den
                        // Paris vorschlägt, ab")
                        if toks[k].norm == "," {
                            let opens = [Class::Relatives, Class::Complementizers]
                                .iter()
                                .any(|c| pack.class(*c).longest_at(toks, k + 1).is_some());
                            if opens {
                                inner = true;
                            } else if inner {
                                inner = false;
                            } else {
                                break;
                            }
                        }
                        if b.matches_at(toks, k) {
                            v.push(Span {
                                start: i,
                                end: k + b.len(),
                                head,
                                tail: k,
                            });
                            break;
                        }
                    }
                }
            }
            v.sort_by_key(|s| (s.start, s.end));
            spans.push(v);
        }
        Marks { spans }
    }

    /// Every span of a class.
    pub fn of(&self, c: Class) -> &[Span] {
        &self.spans[c as usize]
    }

    /// The spans of a class that start in `a..b`.
    pub fn within(&self, c: Class, a: usize, b: usize) -> impl Iterator<Item = &Span> {
        self.of(c)
            .iter()
            .filter(move |s| s.start >= a && s.start < b)
    }

    /// Does a span of the class start in `a..b`?
    pub fn any_in(&self, c: Class, a: usize, b: usize) -> bool {
        self.within(c, a, b).next().is_some()
    }

    /// The span of a class that starts at `i`.
    pub fn at(&self, c: Class, i: usize) -> Option<Span> {
        self.of(c).iter().find(|s| s.start == i).copied()
    }

    /// Is token `i` inside (the head of) a span of the class?
    pub fn covers(&self, c: Class, i: usize) -> bool {
        self.of(c).iter().any(|s| s.holds(i))
    }

    /// The span of a class that ends right at `i` (the word before `i`).
    pub fn ending_at(&self, c: Class, i: usize) -> Option<Span> {
        self.of(c).iter().find(|s| s.end == i).copied()
    }
}

/// Punctuation that ends a clause.
pub fn is_boundary(t: &Token) -> bool {
    matches!(t.norm.as_str(), ";" | ":" | "." | "?" | "!" | "(" | ")")
}

/// How an actor is named in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// By a name of the state, institution or person.
    Name,
    /// By an adjective before or after a speaker noun ("Russian officials").
    Speaker,
    /// By a pronoun or a role noun resolved from earlier sentences.
    Reference,
    /// By an adjective on the holder's own forces ("Italian soldiers").
    Owner,
    /// By an adjective on a stance noun ("American support", "le refus
    /// russe"): the actor holds that stance.
    Stance,
    /// By an adjective that holds nothing ("American guarantees").
    Modifier,
}

/// An actor named in the sentence, tokens `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub actor: usize,
    pub start: usize,
    pub end: usize,
    pub kind: MentionKind,
    pub via: Via,
}

impl Mention {
    /// Can it hold a position?
    pub fn can_hold(&self) -> bool {
        !matches!(self.via, Via::Modifier)
    }
}

/// A topic named in the sentence, tokens `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicMention {
    pub topic: usize,
    pub start: usize,
    pub end: usize,
    pub kind: TermKind,
    /// The holder's own forces are named ("our soldiers", "Italian troops").
    pub own: bool,
    /// Takes over another topic's phrase it overlaps.
    pub over: bool,
}

/// What a clause is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseKind {
    /// A main clause.
    Main,
    /// What a reporting or denial verb reports ("… said that X").
    Content,
    /// A stated condition ("only if …", "unless …").
    Condition,
    /// A plain "if" clause.
    If,
    /// A time clause ("before …"): it names no position.
    Time,
    /// An indirect question ("whether …").
    Question,
    /// A relative clause ("…, which …").
    Relative,
    /// A phrase set apart by a dash ("— a non-starter for Kyiv").
    Apposition,
}

/// What governs a content clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Governor {
    None,
    /// A reporting or denial verb: the content's subject holds the position.
    Reporting,
    /// A demand ("demanded that", "urged … to"): the content's subject is
    /// asked, the main clause's holder asks.
    Cue,
    /// An agreement ("agreed that", "welcomed that"): the content's subject
    /// holds its position, and the main clause's holder agrees with it.
    Agreed,
}

/// A clause: tokens `start..end` of the sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clause {
    pub start: usize,
    pub end: usize,
    pub kind: ClauseKind,
    pub gov: Governor,
}

/// A sentence read.
#[derive(Debug, Clone)]
pub struct Sentence {
    /// The language pack it was read with.
    pub verb_second: bool,
    pub text: String,
    pub toks: Vec<Token>,
    pub marks: Marks,
    pub mentions: Vec<Mention>,
    pub topics: Vec<TopicMention>,
    pub clauses: Vec<Clause>,
}

impl Sentence {
    /// Reads a sentence: marks, actors, topics and clauses. Pronouns and role
    /// nouns are resolved by [`super::attribution`], not here.
    pub fn read(profile: &Profile, pack: &Pack, text: &str) -> Sentence {
        let mut toks = profile.tokenize(text);
        pack.annotate(&mut toks);
        let marks = Marks::find(pack, &toks);
        let mut topics = find_topics(profile, &toks);
        let mentions = find_mentions(profile, &toks, &marks, &topics);
        own_forces(profile, &toks, &marks, &mentions, &mut topics);
        let clauses = clauses(&toks, &marks, &mentions, &topics);
        Sentence {
            verb_second: pack.verb_second,
            text: text.to_string(),
            toks,
            marks,
            mentions,
            topics,
            clauses,
        }
    }

    /// The clause that holds token `i`.
    pub fn clause_of(&self, i: usize) -> Clause {
        self.clauses
            .iter()
            .copied()
            .find(|c| c.start <= i && i < c.end)
            .unwrap_or(Clause {
                start: 0,
                end: self.toks.len(),
                kind: ClauseKind::Main,
                gov: Governor::None,
            })
    }

    /// Is the token at `i` a word right after a preposition ("for Ukraine")?
    /// Not after a speaker's noun ("the leaders of France").
    pub fn after_preposition(&self, i: usize) -> bool {
        // skip an article between ("for the Kremlin")
        let mut k = i;
        while k > 0 {
            if let Some(p) = self.marks.ending_at(Class::Prepositions, k) {
                let speaker = self.marks.ending_at(Class::SpeakerNouns, p.start).is_some()
                    || self.marks.ending_at(Class::PersonRoles, p.start).is_some();
                return !speaker;
            }
            if self.marks.ending_at(Class::Determiners, k).is_some() {
                k -= 1;
                continue;
            }
            return false;
        }
        false
    }

    /// Does the sentence end as a question?
    pub fn is_question(&self) -> bool {
        self.toks
            .iter()
            .rev()
            .find(|t| !matches!(t.norm.as_str(), "\"" | "'" | ")"))
            .is_some_and(|t| t.norm == "?")
    }
}

/// The topics named: terms, weak terms and actions, and word pairs.
fn find_topics(profile: &Profile, toks: &[Token]) -> Vec<TopicMention> {
    let mut out: Vec<TopicMention> = profile
        .topic_lex
        .find_all(toks)
        .into_iter()
        .filter(|h| {
            // "EU membership" is not NATO membership
            let t = &profile.topics[h.value.0];
            (h.start.saturating_sub(3)..h.end).all(|k| {
                t.not_terms
                    .longest_at(toks, k)
                    .is_none_or(|n| n.end <= h.start || k >= h.end)
            })
        })
        .map(|h| TopicMention {
            topic: h.value.0,
            start: h.start,
            end: h.end,
            kind: h.value.1,
            own: false,
            over: false,
        })
        .collect();
    for (ti, t) in profile.topics.iter().enumerate() {
        for p in &t.pairs {
            let a = p.a.find_all(toks);
            if a.is_empty() {
                continue;
            }
            let b = p.b.find_all(toks);
            for ha in &a {
                let near = b.iter().find(|hb| {
                    let gap = if hb.start >= ha.end {
                        hb.start - ha.end
                    } else if ha.start >= hb.end {
                        ha.start - hb.end
                    } else {
                        usize::MAX
                    };
                    gap < p.window
                        && !(ha.start.min(hb.start)..ha.end.max(hb.end))
                            .any(|k| is_boundary(&toks[k]) || toks[k].norm == ",")
                });
                if let Some(hb) = near {
                    let (start, end) = (ha.start.min(hb.start), ha.end.max(hb.end));
                    if let Some(m) = out
                        .iter_mut()
                        .find(|m| m.topic == ti && m.start < end && start < m.end)
                    {
                        // an action pair over a term ("put boots on the ground")
                        if p.action {
                            m.start = m.start.min(start);
                            m.end = m.end.max(end);
                            m.kind = TermKind::Action;
                            m.over |= p.over;
                        }
                        continue;
                    }
                    out.push(TopicMention {
                        topic: ti,
                        start,
                        end,
                        kind: if p.action {
                            TermKind::Action
                        } else {
                            TermKind::Strong
                        },
                        own: false,
                        over: p.over,
                    });
                }
            }
        }
    }
    // "the deployment of multinational forces": an own-forces action that
    // overlaps another topic's phrase is that topic's
    // … unless the act is one that takes over ("participate in a mission"),
    // in which case the other topic's phrase is dropped
    let own_topic = |t: usize| !profile.topics[t].own_nouns.is_empty();
    let takers: Vec<TopicMention> = out.iter().filter(|m| m.over).cloned().collect();
    out.retain(|o| {
        !takers
            .iter()
            .any(|m| m.topic != o.topic && o.start < m.end && m.start < o.end)
    });
    // a phrase wholly inside the act is its object ("send peacekeepers"):
    // the act stays and the phrase goes; but forces named as someone
    // else's or everyone's ("the deployment of European troops", "lo
    // schieramento di forze multinazionali") are the other topic's, and the
    // act goes
    let qualified = |o: &TopicMention| {
        profile.topics[o.topic].pairs.iter().any(|p| {
            p.b.find_all(toks)
                .iter()
                .any(|h| h.start >= o.start && h.end <= o.end)
        })
    };
    let inside_an_act = |o: &TopicMention| {
        out.iter().any(|m| {
            own_topic(m.topic) && m.kind == TermKind::Action && m.start <= o.start && o.end <= m.end
        })
    };
    let owned: Vec<TopicMention> = out
        .iter()
        .filter(|o| !own_topic(o.topic) && inside_an_act(o) && qualified(o))
        .cloned()
        .collect();
    out.retain(|m| {
        !(own_topic(m.topic)
            && m.kind == TermKind::Action
            && owned.iter().any(|o| m.start <= o.start && o.end <= m.end))
    });
    let acts: Vec<TopicMention> = out
        .iter()
        .filter(|m| own_topic(m.topic) && m.kind == TermKind::Action)
        .cloned()
        .collect();
    out.retain(|o| {
        own_topic(o.topic)
            || !acts
                .iter()
                .any(|m| m.topic != o.topic && m.start <= o.start && o.end <= m.end)
    });
    let snapshot = out.clone();
    out.retain(|m| {
        !(own_topic(m.topic)
            && m.kind == TermKind::Action
            && !m.over
            && snapshot
                .iter()
                .any(|o| o.topic != m.topic && o.start < m.end && m.start < o.end))
    });
    // the other topic takes the act over ("sending troops from NATO countries")
    for m in snapshot
        .iter()
        .filter(|m| own_topic(m.topic) && m.kind == TermKind::Action && !m.over)
    {
        if let Some(o) = out
            .iter_mut()
            .find(|o| o.topic != m.topic && o.start < m.end && m.start < o.end)
        {
            o.start = o.start.min(m.start);
            o.end = o.end.max(m.end);
            o.kind = TermKind::Action;
        }
    }
    out.sort_by_key(|m| (m.start, m.end));
    out
}

/// The holder's own forces, named with an adjective, a name or a first
/// person ("Italian soldiers", "Bundeswehr troops", "our soldiers"): a
/// topic mention of each topic that declares such nouns.
fn own_forces(
    profile: &Profile,
    toks: &[Token],
    marks: &Marks,
    mentions: &[Mention],
    topics: &mut Vec<TopicMention>,
) {
    for (ti, t) in profile.topics.iter().enumerate() {
        if t.own_nouns.is_empty() {
            continue;
        }
        let nouns = t.own_nouns.find_all(toks);
        for n in &nouns {
            // the owner within two words before the noun, or right after it
            let owner_span = mentions
                .iter()
                .filter(|m| matches!(m.via, Via::Owner | Via::Name))
                .find(|m| {
                    (m.end <= n.start
                        && n.start - m.end <= usize::from(m.via == Via::Name)
                        && (m.end..n.start).all(|k| toks[k].is_word()))
                        || (m.start == n.end && m.via == Via::Owner)
                })
                .map(|m| (m.start.min(n.start), m.end.max(n.end)));
            let first = marks
                .of(Class::FirstPerson)
                .iter()
                .find(|f| f.end <= n.start && n.start - f.end <= 2)
                .map(|f| (f.start, n.end));
            if let Some((a, b)) = owner_span.or(first) {
                if topics
                    .iter()
                    .any(|m| m.start < b && a < m.end && m.topic == ti)
                {
                    continue;
                }
                topics.push(TopicMention {
                    topic: ti,
                    start: a,
                    end: b,
                    kind: TermKind::Strong,
                    own: true,
                    over: false,
                });
            }
        }
    }
    topics.sort_by_key(|m| (m.start, m.end));
}

/// The actors named, with adjectives read as speakers, owners or mere
/// modifiers.
fn find_mentions(
    profile: &Profile,
    toks: &[Token],
    marks: &Marks,
    topics: &[TopicMention],
) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let not_names = profile.not_actors.find_all(toks);
    for h in profile.actor_lex.find_all(toks) {
        if not_names
            .iter()
            .any(|n| n.start <= h.start && h.end <= n.end)
        {
            continue;
        }
        let (actor, kind) = h.value;
        let mut m = Mention {
            actor,
            start: h.start,
            end: h.end,
            kind,
            via: Via::Name,
        };
        if kind == MentionKind::Adjective {
            m.via = adjective_role(profile, toks, marks, topics, &h);
        }
        // "Kremlin spokesman Dmitry Peskov": one mention
        if let Some(last) = out.last_mut()
            && last.actor == actor
            && last.via == Via::Name
            && m.via == Via::Name
            && h.start >= last.end
            && h.start - last.end <= 3
            && (last.end..h.start).all(|k| {
                marks.covers(Class::PersonRoles, k)
                    || marks.covers(Class::SpeakerNouns, k)
                    || toks[k].upper
            })
        {
            last.end = h.end;
            if kind == MentionKind::Person {
                last.kind = MentionKind::Person;
            }
            continue;
        }
        out.push(m);
    }
    // adjectives joined to an owner share its role ("British, French and
    // Turkish soldiers", "soldats britanniques, français et turcs")
    let joined = |a: &Mention, b: &Mention| {
        let (x, y) = if a.end <= b.start {
            (a.end, b.start)
        } else {
            (b.end, a.start)
        };
        y >= x
            && y - x <= 2
            && (x..y).all(|k| toks[k].norm == "," || marks.covers(Class::Conjunctions, k))
    };
    loop {
        let mut changed = false;
        for i in 0..out.len() {
            if out[i].via != Via::Modifier || out[i].kind != MentionKind::Adjective {
                continue;
            }
            if out.iter().any(|o| {
                o.via == Via::Owner && o.kind == MentionKind::Adjective && joined(&out[i], o)
            }) {
                out[i].via = Via::Owner;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

/// An adjective of an actor: a speaker next to a speaker noun ("Russian
/// officials", "le gouvernement français"), an owner on the own forces of a
/// topic that has them ("Italian soldiers", "truppe italiane"), else a
/// modifier that holds nothing.
fn adjective_role(
    profile: &Profile,
    toks: &[Token],
    marks: &Marks,
    topics: &[TopicMention],
    h: &crate::profile::Hit<(usize, MentionKind)>,
) -> Via {
    let before = h.start.saturating_sub(3);
    // a speaker's noun, or a document's ("the American plan": its owner holds
    // what it says)
    let speaker = |k: usize| {
        marks.of(Class::SpeakerNouns).iter().any(|s| s.start == k)
            || marks.of(Class::PersonRoles).iter().any(|s| s.start == k)
            || marks.of(Class::DocumentNouns).iter().any(|s| s.start == k)
    };
    let words_between = |a: usize, b: usize| (a..b).all(|k| toks[k].is_word());
    // after the adjective, a word at most between ("Russian officials", "a
    // Ukrainian chief negotiator"), or right before it ("responsables russes")
    if (h.end..(h.end + 2).min(toks.len())).any(|k| speaker(k) && words_between(h.end, k)) {
        return Via::Speaker;
    }
    if (before..h.start).any(|k| {
        marks
            .of(Class::SpeakerNouns)
            .iter()
            .chain(marks.of(Class::PersonRoles))
            .chain(marks.of(Class::DocumentNouns))
            .any(|s| s.start == k && s.end == h.start)
    }) {
        return Via::Speaker;
    }
    let own = |k: usize| {
        profile
            .topics
            .iter()
            .any(|t| t.own_nouns.longest_at(toks, k).is_some())
    };
    // right next to the noun ("Italian soldiers", "soldats français")
    if own(h.end)
        || profile
            .topics
            .iter()
            .filter_map(|t| {
                (h.start.saturating_sub(3)..h.start)
                    .find_map(|k| t.own_nouns.longest_at(toks, k).filter(|o| o.end == h.start))
            })
            .next()
            .is_some()
    {
        return Via::Owner;
    }
    // on a stance noun, before it ("American support", "die russische
    // Ablehnung") or after it ("le refus russe", "il sostegno americano")
    let stance = [
        Class::Supports,
        Class::Opposes,
        Class::Openness,
        Class::RuleOut,
    ]
    .iter()
    .any(|c| {
        marks.of(*c).iter().any(|x| {
            (x.start == h.end || x.end == h.start)
                && !topics.iter().any(|t| t.start <= x.start && x.start < t.end)
        })
    });
    if stance {
        return Via::Stance;
    }
    Via::Modifier
}

/// Is token `i` a dash between words ("European-led"), not a dash that
/// sets a phrase apart ("— a non-starter")?
pub fn attached(toks: &[Token], i: usize) -> bool {
    i > 0
        && i + 1 < toks.len()
        && toks[i - 1].end == toks[i].start
        && toks[i].end == toks[i + 1].start
}

/// Cuts the sentence into clauses: at clause joiners, semicolons and
/// dashes; a complementizer opens the content of what was said or asked
/// for; conditions, "if", time and question words and relative pronouns
/// open a subordinate clause that runs to the next comma.
fn clauses(
    toks: &[Token],
    marks: &Marks,
    mentions: &[Mention],
    topics: &[TopicMention],
) -> Vec<Clause> {
    let n = toks.len();
    let mut out: Vec<Clause> = Vec::new();
    let mut start = 0usize;
    let mut kind = ClauseKind::Main;
    let mut gov = Governor::None;
    // the kind to return to when a subordinate clause ends at a comma
    let mut outer = (ClauseKind::Main, Governor::None);
    let mut i = 0usize;
    let push = |out: &mut Vec<Clause>, a: usize, b: usize, k: ClauseKind, g: Governor| {
        if b > a {
            out.push(Clause {
                start: a,
                end: b,
                kind: k,
                gov: g,
            });
        }
    };
    let subordinate = |k: ClauseKind| {
        matches!(
            k,
            ClauseKind::Condition
                | ClauseKind::If
                | ClauseKind::Time
                | ClauseKind::Question
                | ClauseKind::Relative
        )
    };
    while i < n {
        let t = toks[i].norm.as_str();
        // hard breaks: semicolons, brackets, a dash that sets a phrase apart
        if (matches!(t, ";" | "(" | ")") || (t == "-" && !attached(toks, i))) && i > start {
            push(&mut out, start, i, kind, gov);
            start = i + 1;
            (kind, gov) = if t == "-" {
                (ClauseKind::Apposition, Governor::None)
            } else {
                outer
            };
            i += 1;
            continue;
        }
        // a comma ends a subordinate clause, and a content clause that no
        // verb governs ("despite the belief that …, Russia …")
        if t == "," && (subordinate(kind) || (kind == ClauseKind::Content && gov == Governor::None))
        {
            push(&mut out, start, i, kind, gov);
            start = i + 1;
            (kind, gov) = if kind == ClauseKind::Content {
                (ClauseKind::Main, Governor::None)
            } else {
                outer
            };
            i += 1;
            continue;
        }
        // ", and" before a new subject that is no actor starts a clause of its
        // own ("…, and discussions remain …"); before an actor it joins a list
        if t == ","
            && let Some(c) = marks.at(Class::Conjunctions, i + 1)
            && !mentions
                .iter()
                .any(|m| m.start >= c.end && m.start <= c.end + 1)
            && i > start
        {
            push(&mut out, start, i, kind, gov);
            start = i + 1;
            (kind, gov) = (ClauseKind::Main, Governor::None);
            outer = (kind, gov);
            i = c.end;
            continue;
        }
        // "will not send troops without a backstop": the rest is a condition
        if marks.at(Class::Without, i).is_some()
            && marks.any_in(Class::Negators, start, i)
            && i > start
        {
            push(&mut out, start, i, kind, gov);
            outer = (kind, gov);
            kind = ClauseKind::Condition;
            gov = Governor::None;
            start = i;
            i += 1;
            continue;
        }
        let opens = [
            (Class::Conditions, ClauseKind::Condition),
            (Class::IfWords, ClauseKind::If),
            (Class::TimeClauses, ClauseKind::Time),
            (Class::Questions, ClauseKind::Question),
            (Class::ClauseJoiners, ClauseKind::Main),
            (Class::Complementizers, ClauseKind::Content),
            (Class::Relatives, ClauseKind::Relative),
        ];
        let mut opened = false;
        for (c, k) in opens {
            let Some(s) = marks.at(c, i) else { continue };
            // "providing that backstop": a determiner, not a clause
            if c == Class::Complementizers && topics.iter().any(|t| t.start == s.end) {
                continue;
            }
            // a relative pronoun opens a clause after a comma, or right after
            // a document ("un accord qui …", "ein Plan, der …")
            if c == Class::Relatives
                && !(i > 0 && toks[i - 1].norm == ",")
                && marks.ending_at(Class::DocumentNouns, i).is_none()
            {
                continue;
            }
            if i > start {
                push(&mut out, start, i, kind, gov);
            }
            let g = if k == ClauseKind::Content {
                governor(toks, marks, topics, i)
            } else {
                Governor::None
            };
            if !subordinate(k) {
                outer = (k, g);
            }
            kind = k;
            gov = g;
            start = i;
            i = s.end.max(i + 1);
            opened = true;
            break;
        }
        if opened {
            continue;
        }
        i += 1;
    }
    push(&mut out, start, n, kind, gov);
    if out.is_empty() {
        out.push(Clause {
            start: 0,
            end: n,
            kind: ClauseKind::Main,
            gov: Governor::None,
        });
    }
    out
}

/// What governs a content clause opened at `i`: a reporting verb ("said
/// that"), a stance cue ("demanded that"), or neither (a noun: "the belief
/// that"). A word or two may come between ("said on Monday that").
fn governor(toks: &[Token], marks: &Marks, topics: &[TopicMention], i: usize) -> Governor {
    let in_topic = |k: usize| topics.iter().any(|t| t.start <= k && k < t.end);
    let near = |c: Class| {
        marks.of(c).iter().any(|s| {
            s.end <= i
                && i - s.end <= 8
                && s.end > 0
                && !in_topic(s.start)
                // a comma may stand right before the complementizer ("sagte, dass")
                && !(s.end..i.saturating_sub(1)).any(|k| matches!(toks[k].norm.as_str(), "," | ";" | ":"))
                && (i - s.end <= 3 || !(s.end..i).any(|k| marks.of(Class::Complementizers).iter().any(|x| x.start == k)))
        })
    };
    if near(Class::Reporting) || near(Class::Denials) {
        Governor::Reporting
    } else if near(Class::AddressVerbs) || near(Class::Deontic) {
        Governor::Cue
    } else if near(Class::Supports)
        || near(Class::Opposes)
        || near(Class::RuleOut)
        || near(Class::Openness)
    {
        Governor::Agreed
    } else {
        Governor::None
    }
}
