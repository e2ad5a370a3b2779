//! The profile: actors, topics and cue lexicons of one debate.
//!
//! A profile is a TOML file (`profiles/ukraine.toml` is built in). It is
//! parsed into [`RawProfile`] with unknown keys refused, then compiled into a
//! [`Profile`] whose phrases are tokenised once for fast matching. This module
//! reads the file; it knows nothing about how the phrases are used.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::analyze::Stance;
use crate::analyze::lang::{Class, Languages};
use crate::analyze::text::{Token, tokenize};

/// The built-in profile's TOML text.
pub const BUILTIN_PROFILE: &str = include_str!("../profiles/ukraine.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub profile: RawMeta,
    pub actors: Vec<RawActor>,
    pub topics: Vec<RawTopic>,
    /// The profile's own cue words, per language, in the classes of a
    /// language pack: words that carry a stance in this debate only.
    #[serde(default)]
    pub cues: BTreeMap<String, crate::analyze::lang::RawWords>,
    pub relevance: RawRelevance,
    #[serde(default)]
    pub seeds: Vec<RawSeedDate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub since: String,
    /// The language of a text that gives no sign of its own (a pack code).
    #[serde(default)]
    pub language: Option<String>,
}

/// Phrases in every language, or per language code ("en", "de", …): both
/// are matched in every article, since names cross languages.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum Words {
    All(Vec<String>),
    ByLanguage(BTreeMap<String, Vec<String>>),
}

impl Default for Words {
    fn default() -> Words {
        Words::All(Vec::new())
    }
}

impl Words {
    /// Every phrase, whatever its language.
    pub fn all(&self) -> Vec<String> {
        match self {
            Words::All(v) => v.clone(),
            Words::ByLanguage(m) => m.values().flatten().cloned().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.all().is_empty()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActor {
    pub id: String,
    pub name: String,
    /// Names of the state or institution ("it" refers back to them).
    #[serde(default)]
    pub aliases: Words,
    /// Persons who speak for it ("he", "she" refer back to them).
    #[serde(default)]
    pub people: Words,
    /// "Italian soldiers" (whose troops), "a Ukrainian negotiator" (who speaks).
    #[serde(default)]
    pub adjectives: Words,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPair {
    pub a: Words,
    pub b: Words,
    pub window: usize,
    #[serde(default)]
    pub action: bool,
    /// The pair's act takes over another topic's phrase it overlaps
    /// ("participate in a peacekeeping mission" is about one's own forces).
    #[serde(default)]
    pub over: bool,
}

/// A claim on one topic that also stands for a claim on another.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImplies {
    pub topic: String,
    pub stance: String,
}

/// For some holders a topic is another one ("the coalition will deploy
/// troops" is about the force, not about its own troops).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedirect {
    pub holders: Vec<String>,
    pub topic: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub id: String,
    pub name: String,
    /// Phrases that name the question.
    #[serde(default)]
    pub terms: Words,
    /// Phrases that name it only in a relevant article.
    #[serde(default)]
    pub weak: Words,
    /// Phrases in which the holder itself does the thing ("send troops"):
    /// with no other cue they count as `supports`.
    #[serde(default)]
    pub actions: Words,
    /// Two word lists that name the question when both occur within
    /// `window` words, in either order.
    #[serde(default)]
    pub pairs: Vec<RawPair>,
    /// Phrases that look like the question and are not.
    #[serde(default)]
    pub not_terms: Words,
    /// Holders that cannot hold this question.
    #[serde(default)]
    pub exclude_holders: Vec<String>,
    /// A supporting claim here also supports these.
    #[serde(default)]
    pub implies: Vec<RawImplies>,
    /// Holders for whom the question is another topic.
    #[serde(default)]
    pub redirect: Vec<RawRedirect>,
    /// The question is about the holder's own forces: an actor's adjective
    /// on one of these nouns ("Italian soldiers") names the holder, and a
    /// refusal in a clause that also names another topic is a refusal of
    /// this one only.
    #[serde(default)]
    pub own_nouns: Words,
    /// With `own_nouns`: the topics whose opposition in the same clause is
    /// read as opposition to this one.
    #[serde(default)]
    pub shadows: Vec<String>,
    /// When a holder who could hold that topic sends or deploys this one
    /// (an act), the question is that topic ("Turkey is open to deploying
    /// peacekeepers" is about Turkey's own troops).
    #[serde(default)]
    pub acts: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelevance {
    /// The article must speak of these for its claims to count.
    pub anchors: Words,
    /// Other debates that share the words.
    #[serde(default)]
    pub off_topic: Words,
    /// When the debate's questions apply ("a ceasefire", "a peace deal"): a
    /// condition that names only this is timing, not a condition.
    #[serde(default)]
    pub timing: Words,
    /// Names that contain an actor's name and are not the actor ("Washington
    /// Post", "Deutsche Welle").
    #[serde(default)]
    pub not_actors: Words,
}

/// Pins the date of a seed whose text carries none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeedDate {
    pub file: String,
    pub date: String,
}

/// One word of a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WordPat {
    Exact(String),
    Prefix(String),
    /// `#num`: any number ("600,000", "800").
    Number,
}

/// A phrase of the profile, tokenised.
#[derive(Debug, Clone)]
pub struct Phrase {
    words: Vec<WordPat>,
    /// Written in capitals: matches only capitalised words.
    caps: bool,
    /// A name that starts with a capital: its first word must too.
    initial: bool,
}

impl Phrase {
    pub fn parse(s: &str) -> Option<Phrase> {
        let caps = s.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && s.chars()
                .filter(|c| c.is_alphabetic())
                .all(|c| c.is_uppercase());
        let mut words = Vec::new();
        let mut toks = tokenize(s);
        // an elided word written alone ("n'", "qu'", "dell'") is one word,
        // as it is in running text
        let mut k = 0;
        while k + 1 < toks.len() {
            let elided = toks[k].norm.chars().count() <= 5
                && toks[k].norm.chars().all(char::is_alphabetic)
                && toks[k + 1].norm == "'"
                && toks[k + 1].start == toks[k].end
                && toks.get(k + 2).is_none_or(|n| n.start > toks[k + 1].end);
            if elided {
                let q = toks.remove(k + 1);
                toks[k].norm.push('\'');
                toks[k].end = q.end;
            }
            k += 1;
        }
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if i + 1 < toks.len() && toks[i + 1].norm == "*" && toks[i + 1].start == t.end {
                words.push(WordPat::Prefix(t.norm.clone()));
                i += 2;
                continue;
            }
            if t.norm == "#"
                && toks
                    .get(i + 1)
                    .is_some_and(|n| n.norm == "num" && n.start == t.end)
            {
                words.push(WordPat::Number);
                i += 2;
                continue;
            }
            words.push(WordPat::Exact(t.norm.clone()));
            i += 1;
        }
        if words.is_empty() {
            return None;
        }
        Some(Phrase {
            words,
            caps,
            initial: false,
        })
    }

    /// A name: written with a capital ("Nato"), it matches only a word
    /// written with one (not the Italian "nato").
    pub fn parse_name(s: &str) -> Option<Phrase> {
        let mut p = Phrase::parse(s)?;
        p.initial = !p.caps && s.trim_start().starts_with(char::is_uppercase);
        Some(p)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Does the phrase match the tokens starting at `at`?
    pub fn matches_at(&self, toks: &[Token], at: usize) -> bool {
        if at + self.words.len() > toks.len() {
            return false;
        }
        self.words.iter().enumerate().all(|(k, w)| {
            let t = &toks[at + k];
            if self.caps && t.is_word() && !t.caps {
                return false;
            }
            if self.initial && k == 0 && !t.upper {
                return false;
            }
            match w {
                WordPat::Exact(s) => t.norm == *s,
                WordPat::Prefix(p) => t.norm.starts_with(p.as_str()),
                WordPat::Number => t.norm.starts_with(|c: char| c.is_ascii_digit()),
            }
        })
    }
}

/// FNV-1a: a fast hash for the short words the lexicons look up; the keys
/// come from the profile, not from strangers, so flooding is no concern.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// A set of phrases, each tagged with a value, matched longest-first.
///
/// Phrases are indexed by their first word; wildcard first words
/// ("reject*") by the first byte of the stem, so a token is compared only
/// with the stems that can match it.
#[derive(Debug, Clone)]
pub struct Lexicon<T: Clone> {
    by_first: FnvMap<String, Vec<(Phrase, T)>>,
    by_prefix: Vec<Vec<(String, Phrase, T)>>,
    /// `#num` and other first words that match any token.
    any_first: Vec<(Phrase, T)>,
    /// This lexicon's bit in `Token::mask` (0: not indexed, always look).
    bit: u128,
    /// The bit is in `Token::pack_mask`: a language pack's word class.
    in_pack: bool,
    /// Phrases held.
    phrases: usize,
}

impl<T: Clone> Default for Lexicon<T> {
    fn default() -> Self {
        Lexicon {
            by_first: FnvMap::default(),
            by_prefix: vec![Vec::new(); 256],
            any_first: Vec::new(),
            bit: 0,
            in_pack: false,
            phrases: 0,
        }
    }
}

/// One match of a lexicon in a token list: tokens `start..end`.
#[derive(Debug, Clone)]
pub struct Hit<T> {
    pub start: usize,
    pub end: usize,
    pub value: T,
}

impl<T: Clone> Lexicon<T> {
    pub fn add(&mut self, text: &str, value: T) {
        let Some(p) = Phrase::parse(text) else { return };
        self.insert(p, value);
    }

    /// Adds names: one written with a capital matches only a capital.
    pub fn add_names(&mut self, texts: &[String], value: T) {
        for t in texts {
            if let Some(p) = Phrase::parse_name(t) {
                self.insert(p, value.clone());
            }
        }
    }

    /// Adds a parsed phrase.
    pub(crate) fn insert(&mut self, p: Phrase, value: T) {
        self.phrases += 1;
        match &p.words[0] {
            WordPat::Exact(w) => self.by_first.entry(w.clone()).or_default().push((p, value)),
            WordPat::Prefix(w) if !w.is_empty() => {
                let b = w.as_bytes()[0] as usize;
                self.by_prefix[b].push((w.clone(), p, value));
            }
            WordPat::Prefix(_) | WordPat::Number => self.any_first.push((p, value)),
        }
    }

    pub fn add_all(&mut self, texts: &[String], value: T) {
        for t in texts {
            self.add(t, value.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.phrases == 0
    }

    /// Its bit in the token index (0: not indexed).
    pub(crate) fn bit(&self) -> u128 {
        self.bit
    }

    /// Its index bit lives in `Token::pack_mask`.
    pub(crate) fn mark_pack(&mut self) {
        self.in_pack = true;
    }

    /// The longest phrase matching at `at`, if any.
    pub fn longest_at(&self, toks: &[Token], at: usize) -> Option<Hit<T>> {
        // past the end (a sentence that ends where a phrase could start)
        let tok = toks.get(at)?;
        let mask = if self.in_pack {
            tok.pack_mask
        } else {
            tok.mask
        };
        if mask & self.bit == 0 && self.bit != 0 {
            return None;
        }
        let mut best: Option<Hit<T>> = None;
        let mut consider = |p: &Phrase, v: &T| {
            if p.matches_at(toks, at) && best.as_ref().is_none_or(|b| b.end - b.start < p.len()) {
                best = Some(Hit {
                    start: at,
                    end: at + p.len(),
                    value: v.clone(),
                });
            }
        };
        let word = toks[at].norm.as_str();
        if let Some(list) = self.by_first.get(word) {
            for (p, v) in list {
                consider(p, v);
            }
        }
        if let Some(b) = word.as_bytes().first() {
            for (pre, p, v) in &self.by_prefix[*b as usize] {
                if word.starts_with(pre.as_str()) {
                    consider(p, v);
                }
            }
        }
        for (p, v) in &self.any_first {
            consider(p, v);
        }
        best
    }

    /// All non-overlapping matches, scanning left to right, longest first.
    pub fn find_all(&self, toks: &[Token]) -> Vec<Hit<T>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if let Some(h) = self.longest_at(toks, i) {
                i = h.end;
                out.push(h);
            } else {
                i += 1;
            }
        }
        out
    }

    /// Does any phrase occur in the tokens?
    pub fn any(&self, toks: &[Token]) -> bool {
        (0..toks.len()).any(|i| self.longest_at(toks, i).is_some())
    }
}

/// What the token index needs to know of a lexicon.
pub(crate) trait Indexed {
    fn set_bit(&mut self, bit: u128);
    /// (exact first words, wildcard stems, matches any first word)
    fn starts(&self) -> (Vec<String>, Vec<String>, bool);
}

impl<T: Clone> Indexed for Lexicon<T> {
    fn set_bit(&mut self, bit: u128) {
        self.bit = bit;
    }
    fn starts(&self) -> (Vec<String>, Vec<String>, bool) {
        let exact = self.by_first.keys().cloned().collect();
        let stems = self
            .by_prefix
            .iter()
            .flatten()
            .map(|(s, _, _)| s.clone())
            .collect();
        (exact, stems, !self.any_first.is_empty())
    }
}

/// For each word, which lexicons have a phrase that starts with it: one
/// hash lookup per token instead of one per token and lexicon.
#[derive(Debug, Clone, Default)]
pub struct TokenIndex {
    exact: FnvMap<String, u128>,
    /// Stems by their first two bytes; one-byte stems apart.
    stems: FnvMap<[u8; 2], Vec<(String, u128)>>,
    short: Vec<(String, u128)>,
    always: u128,
}

impl TokenIndex {
    pub(crate) fn build(lexicons: &mut [&mut dyn Indexed]) -> TokenIndex {
        let mut idx = TokenIndex {
            exact: FnvMap::default(),
            stems: FnvMap::default(),
            short: Vec::new(),
            always: 0,
        };
        // 127 lexicons get a bit; any beyond get bit 0 and are always consulted
        for l in lexicons.iter_mut().skip(127) {
            l.set_bit(0);
        }
        for (i, l) in lexicons.iter_mut().enumerate().take(127) {
            let bit = 1u128 << i;
            l.set_bit(bit);
            let (exact, stems, any) = l.starts();
            for w in exact {
                *idx.exact.entry(w).or_default() |= bit;
            }
            for st in stems {
                let list = match st.as_bytes() {
                    [a, b, ..] => idx.stems.entry([*a, *b]).or_default(),
                    _ => &mut idx.short,
                };
                match list.iter_mut().find(|(s, _)| *s == st) {
                    Some((_, m)) => *m |= bit,
                    None => list.push((st, bit)),
                }
            }
            if any {
                idx.always |= bit;
            }
        }
        idx
    }

    pub(crate) fn mask(&self, word: &str) -> u128 {
        let mut m = self.always | self.exact.get(word).copied().unwrap_or(0);
        if let [a, b, ..] = word.as_bytes()
            && let Some(list) = self.stems.get(&[*a, *b])
        {
            for (st, bits) in list {
                if word.starts_with(st.as_str()) {
                    m |= bits;
                }
            }
        }
        for (st, bits) in &self.short {
            if word.starts_with(st.as_str()) {
                m |= bits;
            }
        }
        m
    }
}

/// How an actor is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentionKind {
    /// The state or institution ("Kyiv", "the Kremlin").
    Alias,
    /// A person who speaks for it ("Zelensky").
    Person,
    /// An adjective ("Italian"); a holder only before a speaker noun.
    Adjective,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Pair {
    pub a: Lexicon<()>,
    pub b: Lexicon<()>,
    pub window: usize,
    pub action: bool,
    pub over: bool,
}

#[derive(Debug, Clone)]
pub struct Topic {
    pub id: String,
    pub name: String,
    pub pairs: Vec<Pair>,
    pub exclude_holders: Vec<usize>,
    /// (topic, stance): a claim here with `Stance::Supports` also stands for these.
    pub implies: Vec<(usize, Stance)>,
    /// (holders, topic): for these holders the question is that topic.
    pub redirect: Vec<(Vec<usize>, usize)>,
    /// The holder's own forces ("soldiers", "troops").
    pub own_nouns: Lexicon<()>,
    /// Topics whose opposition in a clause with this one is this one's.
    pub shadows: Vec<usize>,
    /// Sending or deploying it is this topic, for holders who can hold it.
    pub acts: Option<usize>,
    /// Phrases that look like the question and are not.
    pub not_terms: Lexicon<()>,
}

/// How a topic phrase names its question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    Strong,
    Weak,
    /// The holder does it ("send troops"): supports unless another cue governs.
    Action,
}

fn lex(v: &[String]) -> Lexicon<()> {
    let mut l = Lexicon::default();
    l.add_all(v, ());
    l
}

/// A compiled profile, with the language packs it reads with.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub since: NaiveDate,
    pub actors: Vec<Actor>,
    pub topics: Vec<Topic>,
    pub actor_lex: Lexicon<(usize, MentionKind)>,
    pub topic_lex: Lexicon<(usize, TermKind)>,
    pub anchors: Lexicon<()>,
    pub off_topic: Lexicon<()>,
    /// When the questions apply: conditions naming this are timing.
    pub timing: Lexicon<()>,
    /// Names that contain an actor's and are not the actor.
    pub not_actors: Lexicon<()>,
    pub langs: Languages,
    pub seed_dates: HashMap<String, NaiveDate>,
    index: TokenIndex,
}

impl Profile {
    /// The built-in profile.
    pub fn builtin() -> Profile {
        Profile::parse(BUILTIN_PROFILE, "<built-in profile>")
            .expect("the built-in profile is valid")
    }

    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the profile", path.display()))?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parses profile text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Profile> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Profile::compile(raw, origin)
    }

    fn compile(raw: RawProfile, origin: &str) -> Result<Profile> {
        let since = NaiveDate::parse_from_str(&raw.profile.since, "%Y-%m-%d").map_err(|e| {
            anyhow::anyhow!("{origin}: key `profile.since`: {e} (expected YYYY-MM-DD)")
        })?;
        if raw.actors.is_empty() {
            bail!("{origin}: key `actors`: a profile needs at least one actor");
        }
        if raw.topics.is_empty() {
            bail!("{origin}: key `topics`: a profile needs at least one topic");
        }
        let mut langs = Languages::builtin();
        if let Some(code) = &raw.profile.language {
            langs.default = langs.index_of(code).ok_or_else(|| {
                anyhow::anyhow!("{origin}: key `profile.language`: no language pack `{code}`")
            })?;
        }
        for (code, words) in &raw.cues {
            let Some(i) = langs.index_of(code) else {
                bail!("{origin}: key `cues.{code}`: no language pack `{code}`");
            };
            for c in Class::ALL {
                langs.packs[i].extend(*c, words.get(*c));
            }
            langs.packs[i].reindex();
        }
        let mut actors = Vec::new();
        let mut actor_lex = Lexicon::default();
        for (i, a) in raw.actors.iter().enumerate() {
            if a.id.is_empty()
                || !a
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                bail!(
                    "{origin}: key `actors[{i}].id`: `{}` must be lower-case letters, digits or _",
                    a.id
                );
            }
            if actors.iter().any(|x: &Actor| x.id == a.id) {
                bail!(
                    "{origin}: key `actors[{i}].id`: `{}` is defined twice",
                    a.id
                );
            }
            if a.aliases.is_empty() && a.people.is_empty() {
                bail!("{origin}: key `actors[{i}].aliases`: an actor needs a name to be found by");
            }
            actors.push(Actor {
                id: a.id.clone(),
                name: a.name.clone(),
            });
            actor_lex.add_names(&a.aliases.all(), (i, MentionKind::Alias));
            actor_lex.add_names(&a.people.all(), (i, MentionKind::Person));
            actor_lex.add_all(&a.adjectives.all(), (i, MentionKind::Adjective));
        }
        let actor_index = |id: &str| actors.iter().position(|a| a.id == id);
        let topic_ids: Vec<&str> = raw.topics.iter().map(|t| t.id.as_str()).collect();
        let topic_index = |id: &str| topic_ids.iter().position(|t| *t == id);
        let mut topics = Vec::new();
        let mut topic_lex = Lexicon::default();
        for (i, t) in raw.topics.iter().enumerate() {
            if topics.iter().any(|x: &Topic| x.id == t.id) {
                bail!(
                    "{origin}: key `topics[{i}].id`: `{}` is defined twice",
                    t.id
                );
            }
            if t.terms.is_empty() && t.actions.is_empty() && t.pairs.is_empty() {
                bail!("{origin}: key `topics[{i}].terms`: a topic needs terms, actions or pairs");
            }
            topic_lex.add_all(&t.terms.all(), (i, TermKind::Strong));
            topic_lex.add_all(&t.weak.all(), (i, TermKind::Weak));
            topic_lex.add_all(&t.actions.all(), (i, TermKind::Action));
            let actors_of = |key: &str, ids: &[String]| -> Result<Vec<usize>> {
                ids.iter()
                    .map(|x| {
                        actor_index(x).ok_or_else(|| {
                            anyhow::anyhow!("{origin}: key `topics[{i}].{key}`: no actor `{x}`")
                        })
                    })
                    .collect()
            };
            let exclude_holders = actors_of("exclude_holders", &t.exclude_holders)?;
            let mut implies = Vec::new();
            for im in &t.implies {
                let to = topic_index(&im.topic).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{origin}: key `topics[{i}].implies`: no topic `{}`",
                        im.topic
                    )
                })?;
                let stance = Stance::parse(&im.stance).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{origin}: key `topics[{i}].implies`: `{}` is not a stance",
                        im.stance
                    )
                })?;
                implies.push((to, stance));
            }
            let mut redirect = Vec::new();
            for r in &t.redirect {
                let to = topic_index(&r.topic).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{origin}: key `topics[{i}].redirect`: no topic `{}`",
                        r.topic
                    )
                })?;
                redirect.push((actors_of("redirect", &r.holders)?, to));
            }
            let mut shadows = Vec::new();
            for x in &t.shadows {
                shadows.push(topic_index(x).ok_or_else(|| {
                    anyhow::anyhow!("{origin}: key `topics[{i}].shadows`: no topic `{x}`")
                })?);
            }
            let acts = match &t.acts {
                Some(x) => Some(topic_index(x).ok_or_else(|| {
                    anyhow::anyhow!("{origin}: key `topics[{i}].acts`: no topic `{x}`")
                })?),
                None => None,
            };
            let mut pairs = Vec::new();
            for (k, p) in t.pairs.iter().enumerate() {
                if p.window == 0 || p.a.is_empty() || p.b.is_empty() {
                    bail!(
                        "{origin}: key `topics[{i}].pairs[{k}]`: needs words in `a` and `b` and a window above 0"
                    );
                }
                pairs.push(Pair {
                    a: lex(&p.a.all()),
                    b: lex(&p.b.all()),
                    window: p.window,
                    action: p.action,
                    over: p.over,
                });
            }
            topics.push(Topic {
                id: t.id.clone(),
                name: t.name.clone(),
                pairs,
                exclude_holders,
                implies,
                redirect,
                own_nouns: lex(&t.own_nouns.all()),
                shadows,
                acts,
                not_terms: lex(&t.not_terms.all()),
            });
        }
        let mut seed_dates = HashMap::new();
        for (i, s) in raw.seeds.iter().enumerate() {
            let d = NaiveDate::parse_from_str(&s.date, "%Y-%m-%d").map_err(|e| {
                anyhow::anyhow!("{origin}: key `seeds[{i}].date`: {e} (expected YYYY-MM-DD)")
            })?;
            seed_dates.insert(s.file.clone(), d);
        }
        let mut p = Profile {
            name: raw.profile.name,
            description: raw.profile.description,
            since,
            actors,
            topics,
            actor_lex,
            topic_lex,
            anchors: lex(&raw.relevance.anchors.all()),
            off_topic: lex(&raw.relevance.off_topic.all()),
            timing: lex(&raw.relevance.timing.all()),
            not_actors: lex(&raw.relevance.not_actors.all()),
            langs,
            seed_dates,
            index: TokenIndex::default(),
        };
        p.build_index();
        Ok(p)
    }

    fn build_index(&mut self) {
        let mut all: Vec<&mut dyn Indexed> = vec![
            &mut self.actor_lex,
            &mut self.topic_lex,
            &mut self.anchors,
            &mut self.off_topic,
            &mut self.timing,
            &mut self.not_actors,
        ];
        for t in &mut self.topics {
            all.push(&mut t.own_nouns);
            all.push(&mut t.not_terms);
            for p in &mut t.pairs {
                all.push(&mut p.a);
                all.push(&mut p.b);
            }
        }
        self.index = TokenIndex::build(&mut all);
    }

    /// Given the union of a sentence's token masks: can any topic phrase
    /// (a term, or both halves of a pair) occur in it?
    pub fn may_name_topic(&self, present: u128) -> bool {
        let has = |bit: u128| bit == 0 || present & bit != 0;
        has(self.topic_lex.bit)
            || self
                .topics
                .iter()
                .flat_map(|t| &t.pairs)
                .any(|p| has(p.a.bit) && has(p.b.bit))
    }

    /// Marks on each token which lexicons can match there.
    pub fn annotate(&self, toks: &mut [Token]) {
        for t in toks {
            t.mask = self.index.mask(&t.norm);
        }
    }

    /// Tokenises text and annotates the tokens for this profile.
    pub fn tokenize(&self, s: &str) -> Vec<Token> {
        let mut t = tokenize(s);
        self.annotate(&mut t);
        t
    }

    pub fn actor_id(&self, i: usize) -> &str {
        &self.actors[i].id
    }

    pub fn topic_id(&self, i: usize) -> &str {
        &self.topics[i].id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_compiles() {
        let p = Profile::builtin();
        assert_eq!(p.actors.len(), 13);
        assert_eq!(p.topics.len(), 6);
    }

    #[test]
    fn capital_aliases_ignore_the_pronoun() {
        let p = Profile::builtin();
        let toks = tokenize("Let us see what the US says.");
        let hits = p.actor_lex.find_all(&toks);
        assert_eq!(hits.len(), 1);
        assert_eq!(p.actor_id(hits[0].value.0), "us");
    }

    #[test]
    fn wildcards_match_inflections() {
        let mut l = Lexicon::default();
        l.add("rul* out", ());
        assert!(l.any(&tokenize("Merz ruled out sending troops")));
        assert!(l.any(&tokenize("it rules out")));
        assert!(!l.any(&tokenize("the rule applies")));
    }

    #[test]
    fn unknown_keys_name_the_origin() {
        let text = BUILTIN_PROFILE.replace("[profile]", "[profile]\ncolour = 1");
        let err = Profile::parse(&text, "my.toml").unwrap_err().to_string();
        assert!(err.contains("my.toml") && err.contains("colour"), "{err}");
    }
}

#[cfg(test)]
mod readme_example {
    use super::*;

    /// The worked example in README.md is a valid profile.
    #[test]
    fn readme_profile_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("name = \"arctic-shipping\"")
            .expect("example present");
        let block_start = readme[..start].rfind("```toml\n").expect("fenced") + "```toml\n".len();
        let block_end = block_start + readme[block_start..].find("```").expect("closed");
        let p = Profile::parse(&readme[block_start..block_end], "README.md").unwrap();
        assert_eq!(p.actors[0].id, "norway");
        assert_eq!(p.topics[0].id, "transit_fees");
    }
}
