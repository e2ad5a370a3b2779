//! Language packs: the words of each grammatical class the engine reads,
//! for one language, as data (`lang/*.toml`, built in).
//!
//! The engine's rules speak of classes ([`Class::Negators`],
//! [`Class::Conditions`], …), never of words; a pack says which words of its
//! language belong to each class. Packs are also how an article's language
//! is told: the pack whose function words occur most often wins.

use std::collections::{HashMap, HashSet};

use anyhow::{Result, anyhow, bail};
use serde::Deserialize;

use super::text::{Token, fold, tokenize};
use crate::profile::{Lexicon, Phrase};

/// The built-in packs.
pub const BUILTIN: &[(&str, &str)] = &[
    ("en", include_str!("../../lang/en.toml")),
    ("de", include_str!("../../lang/de.toml")),
    ("fr", include_str!("../../lang/fr.toml")),
    ("it", include_str!("../../lang/it.toml")),
    ("es", include_str!("../../lang/es.toml")),
    ("pl", include_str!("../../lang/pl.toml")),
    ("ru", include_str!("../../lang/ru.toml")),
    ("uk", include_str!("../../lang/uk.toml")),
];

macro_rules! classes {
    ($($(#[$doc:meta])* $variant:ident = $key:ident,)*) => {
        /// A grammatical class of words.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Class {
            $($(#[$doc])* $variant,)*
        }

        impl Class {
            /// Every class, in order.
            pub const ALL: &'static [Class] = &[$(Class::$variant,)*];

            /// The key of the class in a pack file.
            pub fn key(self) -> &'static str {
                match self {
                    $(Class::$variant => stringify!($key),)*
                }
            }
        }

        /// The `[words]` table of a pack file.
        #[derive(Debug, Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        pub struct RawWords {
            $(#[serde(default)] pub $key: Vec<String>,)*
        }

        impl RawWords {
            /// The phrases of one class.
            pub fn get(&self, c: Class) -> &[String] {
                match c {
                    $(Class::$variant => &self.$key,)*
                }
            }
        }
    };
}

classes! {
    /// Turn the cue after them around ("not", "nicht", "ne", "non").
    Negators = negators,
    /// In favour, commits, offers, demands, accepts.
    Supports = supports,
    /// Against, refuses, rejects.
    Opposes = opposes,
    /// Rules out: negated, an opening.
    RuleOut = rule_out,
    /// Open without commitment.
    Openness = openness,
    /// A modal that softens an acceptance into an opening ("could").
    Modals = modals,
    /// What a modal softens ("accept").
    Softened = softened,
    /// A stated condition ("only if", "unless").
    Conditions = conditions,
    /// The plain conditional conjunction ("if").
    IfWords = if_words,
    /// With `if_words`: a hypothetical ("would").
    HypotheticalVerbs = hypothetical_verbs,
    /// What sets a guarantee off ("attack"): no condition on it.
    Triggers = triggers,
    /// Verbs and phrases that report speech.
    Reporting = reporting,
    /// Verbs that deny.
    Denials = denials,
    /// What is denied ("reports").
    ReportNouns = report_nouns,
    /// Questions ("whether").
    Questions = questions,
    /// Hypotheticals and advice.
    Hypotheticals = hypotheticals,
    /// Belief and expectation ("believe", "erwartet"): what one actor
    /// expects another to do is a forecast, not the other's position.
    Beliefs = beliefs,
    /// A position said before the coverage ("last year").
    Past = past,
    /// Join two clauses with their own stances ("but").
    ClauseJoiners = clause_joiners,
    /// Open the content of a reported statement ("that").
    Complementizers = complementizers,
    /// Relative pronouns ("which").
    Relatives = relatives,
    /// Verbs whose object is the addressee of a demand ("urged").
    AddressVerbs = address_verbs,
    /// Obligation put on the subject ("must"): the speaker demands it.
    Deontic = deontic,
    /// The agent of a passive ("by").
    PassiveAgents = passive_agents,
    /// Forms of the passive auxiliary ("was", "wurde"): an agent word that
    /// is also a preposition ("von", "da") marks an agent only with one.
    PassiveAux = passive_aux,
    /// Prepositions: an actor after one is no holder.
    Prepositions = prepositions,
    /// Possessive endings ("'s").
    Possessives = possessives,
    /// After a stance noun, name whose stance it is ("the support of
    /// Washington", "Zusagen der USA", "le refus de Moscou").
    Genitives = genitives,
    /// Pronouns that point back to a person.
    PersonPronouns = person_pronouns,
    /// Pronouns that point back to a state or institution.
    ThingPronouns = thing_pronouns,
    /// The speaker's own side ("we", "our"): the holder is the speaker.
    FirstPerson = first_person,
    /// Words that join two actors into one holder ("and").
    Conjunctions = conjunctions,
    /// Nouns that stand for a state named before ("the country").
    PlaceNouns = place_nouns,
    /// Nouns for a proposal, whose owner holds what it says ("the plan").
    DocumentNouns = document_nouns,
    /// Negator look-alikes that negate nothing ("not only").
    NotNegators = not_negators,
    /// "without": after a negated position, what follows is its condition
    /// ("will not send troops without a backstop").
    Without = without,
    /// Words before an infinitive ("to", "zu", "de"): the act after them is
    /// done, not named as a noun.
    Infinitive = infinitive,
    /// Determiners before a role noun that points back ("the").
    Determiners = determiners,
    /// Roles that point back to the last person named.
    PersonRoles = person_roles,
    /// Nouns after (or before) an actor's adjective that make it a speaker.
    SpeakerNouns = speaker_nouns,
    /// Sources whose views are nobody's position.
    NonActors = non_actors,
    /// Section words of an opinion piece.
    OpinionSections = opinion_sections,
    /// Words that start a line of page furniture.
    Boilerplate = boilerplate,
    /// Words anywhere in a short line of page furniture.
    BoilerplateAnywhere = boilerplate_anywhere,
    /// Undo the cue after them ("dropped its demand").
    Reversals = reversals,
    /// Commitments ("promised", "signed"): not making one is no stance
    /// either way.
    Commitments = commitments,
    /// A short answer that denies the question before it ("Absolutely not").
    AnswerNo = answer_no,
    /// Time clauses: what they name is not a position ("before", "until").
    TimeClauses = time_clauses,
    /// Time words that, after a negated position, make it wait on
    /// something ("will not … until").
    UntilWords = until_words,
}

/// A pack file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPack {
    pub language: RawLanguage,
    pub words: RawWords,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLanguage {
    pub code: String,
    pub name: String,
    pub function_words: Vec<String>,
    #[serde(default)]
    pub abbreviations: Vec<String>,
    #[serde(default)]
    pub months: Vec<Vec<String>>,
    /// The finite verb comes second, so a subject may follow it.
    #[serde(default)]
    pub verb_second: bool,
}

/// A compiled pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub code: String,
    pub name: String,
    /// The finite verb comes second: a subject may follow it.
    pub verb_second: bool,
    function_words: HashSet<String>,
    abbreviations: HashSet<String>,
    /// Month name → number (1..=12).
    months: HashMap<String, u32>,
    words: Vec<Lexicon<()>>,
    /// For each word, which classes have a phrase starting with it.
    index: crate::profile::TokenIndex,
    /// Phrases with a gap ("lehnt ... ab"), per class: the part before the
    /// gap and the part after it.
    gapped: Vec<Vec<(Phrase, Phrase)>>,
    /// The first parts of each class's gapped phrases, to find where one
    /// can start with one look-up.
    heads: Vec<Lexicon<()>>,
}

/// How many words a gapped phrase may span.
pub const GAP: usize = 12;

impl Pack {
    /// Parses a pack; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Pack> {
        let raw: RawPack = toml::from_str(text).map_err(|e| anyhow!("{origin}: {e}"))?;
        if raw.language.function_words.len() < 10 {
            bail!("{origin}: key `language.function_words`: at least 10 words tell a language");
        }
        if !raw.language.months.is_empty() && raw.language.months.len() != 12 {
            bail!("{origin}: key `language.months`: twelve lists, January first");
        }
        let fold_word = |w: &String| fold(w.trim()).to_string();
        let mut months = HashMap::new();
        for (i, names) in raw.language.months.iter().enumerate() {
            for n in names {
                months.insert(fold_word(n), i as u32 + 1);
            }
        }
        let mut words = Vec::new();
        let mut gapped = Vec::new();
        for c in Class::ALL {
            let (mut l, g) = split_gaps(raw.words.get(*c));
            l.mark_pack();
            words.push(l);
            gapped.push(g);
        }
        let mut heads = heads_of(&gapped);
        let index = index_of(&mut words, &mut heads);
        Ok(Pack {
            code: raw.language.code.clone(),
            name: raw.language.name.clone(),
            verb_second: raw.language.verb_second,
            function_words: raw.language.function_words.iter().map(fold_word).collect(),
            abbreviations: raw
                .language
                .abbreviations
                .iter()
                .map(|w| fold_word(w).trim_end_matches('.').to_string())
                .collect(),
            months,
            words,
            index,
            gapped,
            heads,
        })
    }

    /// Marks on each token which word classes can match there.
    pub fn annotate(&self, toks: &mut [super::text::Token]) {
        for t in toks {
            t.pack_mask = self.index.mask(&t.norm);
        }
    }

    /// The words of one class.
    pub fn class(&self, c: Class) -> &Lexicon<()> {
        &self.words[c as usize]
    }

    /// The gapped phrases of one class.
    pub fn gapped(&self, c: Class) -> &[(Phrase, Phrase)] {
        &self.gapped[c as usize]
    }

    /// Can a gapped phrase of the class start at token `i`?
    pub fn gapped_starts(&self, c: Class, toks: &[super::text::Token], i: usize) -> bool {
        self.heads[c as usize].longest_at(toks, i).is_some()
    }

    /// Adds phrases to a class (a profile's own cues for this language);
    /// [`Pack::reindex`] once done.
    pub fn extend(&mut self, c: Class, phrases: &[String]) {
        for p in phrases {
            match p.split_once("...") {
                Some((a, b)) => {
                    if let (Some(a), Some(b)) = (Phrase::parse(a.trim()), Phrase::parse(b.trim())) {
                        self.gapped[c as usize].push((a, b));
                    }
                }
                None => self.words[c as usize].add(p, ()),
            }
        }
        self.words[c as usize].mark_pack();
    }

    /// Rebuilds the token index after [`Pack::extend`].
    pub fn reindex(&mut self) {
        self.heads = heads_of(&self.gapped);
        self.index = index_of(&mut self.words, &mut self.heads);
    }

    /// Is `word` (folded, without its dot) an abbreviation?
    pub fn is_abbreviation(&self, word: &str) -> bool {
        self.abbreviations.contains(word)
    }

    /// The month a (folded) word names.
    pub fn month(&self, word: &str) -> Option<u32> {
        self.months.get(word.trim_end_matches('.')).copied()
    }

    /// Is `word` (folded) one of the words that tell this language?
    pub fn is_function_word(&self, word: &str) -> bool {
        self.function_words.contains(word)
    }
}

/// The token index over a pack's classes and their gapped phrases' heads.
fn index_of(words: &mut [Lexicon<()>], heads: &mut [Lexicon<()>]) -> crate::profile::TokenIndex {
    let mut ls: Vec<&mut dyn crate::profile::Indexed> = words
        .iter_mut()
        .chain(heads.iter_mut().filter(|h| !h.is_empty()))
        .map(|l| l as &mut dyn crate::profile::Indexed)
        .collect();
    crate::profile::TokenIndex::build(&mut ls)
}

/// A lexicon per class of the first parts of its gapped phrases.
fn heads_of(gapped: &[Vec<(Phrase, Phrase)>]) -> Vec<Lexicon<()>> {
    gapped
        .iter()
        .map(|g| {
            let mut l = Lexicon::default();
            for (a, _) in g {
                l.insert(a.clone(), ());
            }
            l.mark_pack();
            l
        })
        .collect()
}

/// Plain phrases into a lexicon; gapped ones ("lehnt ... ab") into pairs.
fn split_gaps(phrases: &[String]) -> (Lexicon<()>, Vec<(Phrase, Phrase)>) {
    let mut p = Pack {
        code: String::new(),
        name: String::new(),
        verb_second: false,
        function_words: HashSet::new(),
        abbreviations: HashSet::new(),
        months: HashMap::new(),
        words: vec![Lexicon::default()],
        index: crate::profile::TokenIndex::default(),
        gapped: vec![Vec::new()],
        heads: vec![Lexicon::default()],
    };
    p.extend(Class::ALL[0], phrases);
    (p.words.remove(0), p.gapped.remove(0))
}

/// The packs an engine reads with.
#[derive(Debug, Clone)]
pub struct Languages {
    pub packs: Vec<Pack>,
    /// The pack used when a text gives no sign of its language.
    pub default: usize,
    /// Each function word and the packs (a bit each) it belongs to.
    function_words: HashMap<String, u32>,
}

impl Languages {
    /// The built-in packs (English the default).
    pub fn builtin() -> Languages {
        let packs = BUILTIN
            .iter()
            .map(|(code, text)| {
                Pack::parse(text, &format!("<built-in language pack {code}>"))
                    .expect("the built-in packs are valid")
            })
            .collect();
        Languages::new(packs)
    }

    /// Languages reading with `packs`, the first the default.
    pub fn new(packs: Vec<Pack>) -> Languages {
        let mut function_words: HashMap<String, u32> = HashMap::new();
        for (i, p) in packs.iter().enumerate().take(32) {
            for w in &p.function_words {
                *function_words.entry(w.clone()).or_default() |= 1 << i;
            }
        }
        Languages {
            packs,
            default: 0,
            function_words,
        }
    }

    /// The pack for a language code.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.packs.iter().position(|p| p.code == code)
    }

    /// The language of a text: the pack with the most function words in
    /// its first few hundred words (ties and silence: the default).
    pub fn detect(&self, text: &str) -> usize {
        let head: String = text.chars().take(4000).collect();
        let toks = tokenize(&head);
        self.detect_tokens(&toks)
    }

    /// The language of tokens already made.
    pub fn detect_tokens(&self, toks: &[Token]) -> usize {
        let mut counts = vec![0usize; self.packs.len()];
        for t in toks.iter().take(800) {
            let Some(bits) = self.function_words.get(t.norm.as_str()) else {
                continue;
            };
            for (i, c) in counts.iter_mut().enumerate().take(32) {
                if bits & (1 << i) != 0 {
                    *c += 1;
                }
            }
        }
        let best = counts.iter().copied().max().unwrap_or(0);
        if best >= 2 {
            if counts[self.default] == best {
                return self.default;
            }
            return counts
                .iter()
                .position(|&c| c == best)
                .unwrap_or(self.default);
        }
        // a short text: the grammar words each pack knows, where only one
        // pack knows them
        let classes = [
            Class::Determiners,
            Class::Prepositions,
            Class::Conjunctions,
            Class::Complementizers,
            Class::Negators,
            Class::Reporting,
        ];
        let mut counts = vec![0usize; self.packs.len()];
        let window: Vec<Token> = toks.iter().take(200).cloned().collect();
        for i in 0..window.len() {
            let knows: Vec<usize> = (0..self.packs.len())
                .filter(|&p| {
                    classes
                        .iter()
                        .any(|c| self.packs[p].class(*c).longest_at(&window, i).is_some())
                })
                .collect();
            if knows.len() == 1 {
                counts[knows[0]] += 1;
            }
        }
        let best = counts.iter().copied().max().unwrap_or(0);
        if best == 0 || counts.iter().filter(|&&c| c == best).count() > 1 {
            return self.default;
        }
        counts
            .iter()
            .position(|&c| c == best)
            .unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_pack_compiles_and_fills_the_core_classes() {
        let l = Languages::builtin();
        assert_eq!(l.packs.len(), BUILTIN.len());
        for p in &l.packs {
            for c in [
                Class::Negators,
                Class::Supports,
                Class::Opposes,
                Class::Conditions,
                Class::Reporting,
                Class::Denials,
                Class::Prepositions,
            ] {
                assert!(!p.class(c).is_empty(), "{}: {}", p.code, c.key());
            }
        }
    }

    #[test]
    fn the_language_of_a_text_is_told_by_its_function_words() {
        let l = Languages::builtin();
        let code = |s: &str| l.packs[l.detect(s)].code.clone();
        assert_eq!(
            code("Die Regierung hat am Montag erklärt, dass sie den Plan nicht unterstützt."),
            "de"
        );
        assert_eq!(
            code("Le gouvernement a déclaré lundi qu'il ne soutient pas ce plan pour la paix."),
            "fr"
        );
        assert_eq!(
            code("Il governo ha dichiarato lunedì che non sostiene il piano per la pace."),
            "it"
        );
        assert_eq!(
            code("The government said on Monday that it does not support the plan."),
            "en"
        );
        assert_eq!(code("Kyiv"), "en");
        // a short sentence without the commonest words: the grammar words tell
        assert_eq!(
            code("La Pologne soutient l'adhésion de l'Ukraine à l'Alliance, a affirmé Sikorski."),
            "fr"
        );
    }
}
