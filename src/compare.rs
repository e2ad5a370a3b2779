//! Claims vs the ledger → shifts, each with its evidence.
//!
//! A claim whose stance differs from its cell is a `shift`: its evidence is
//! the cell's baseline sentence and a word diff, with the words that carry
//! the stance marked on both sides. A claim for a cell the ledger lacks is
//! `new`: no diff against an unrelated sentence, but what the ledger holds on
//! that topic for other actors. A claim equal to its cell is a repeat and
//! yields nothing. Pure: no IO, no clock. Diffs run under a deadline.

use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

use crate::analyze::{Claim, Stance};
use crate::ledger::Ledger;

/// The longest a single sentence diff may take before it approximates.
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftKind {
    Shift,
    New,
}

impl ShiftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftKind::Shift => "shift",
            ShiftKind::New => "new",
        }
    }
}

/// A position that moved, with the evidence on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub actor: String,
    pub topic: String,
    pub from: Option<Stance>,
    pub to: Stance,
    pub kind: ShiftKind,
    pub speaker: String,
    pub confidence: f64,
    pub sentence: String,
    pub baseline_sentence: String,
    pub diff: String,
    /// The words that carry the stance, now and in the baseline sentence.
    pub stance_words: Vec<String>,
    pub baseline_stance_words: Vec<String>,
    /// The diff with the stance words marked `*like this*` on both sides.
    pub marked_diff: String,
    /// For a `new` cell: what the ledger holds on the topic for others.
    pub others: Vec<Other>,
}

/// Another actor's position on the same topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    pub actor: String,
    pub stance: Stance,
    pub sentence: String,
}

/// Compares claims with the ledger. Claims below `min_confidence` are not
/// reported. `words_of(actor, topic, sentence)` gives the stance words of a
/// ledger sentence whose evidence does not keep them.
pub fn compare(
    ledger: &Ledger,
    claims: &[Claim],
    min_confidence: f64,
    words_of: &dyn Fn(&str, &str, &str) -> Vec<String>,
) -> Vec<Shift> {
    let mut out = Vec::new();
    for c in claims {
        if c.confidence < min_confidence {
            continue;
        }
        let (kind, from, baseline_sentence, baseline_words, others) =
            match ledger.get(&c.actor, &c.topic) {
                Some(cell) if cell.stance == c.stance => continue,
                Some(cell) => {
                    let ev = cell.evidence.first();
                    let sentence = ev.map(|e| e.sentence.clone()).unwrap_or_default();
                    let words = match ev {
                        Some(e) if !e.stance_words.is_empty() => e.stance_words.clone(),
                        Some(e) => words_of(&c.actor, &c.topic, &e.sentence),
                        None => Vec::new(),
                    };
                    (
                        ShiftKind::Shift,
                        Some(cell.stance),
                        sentence,
                        words,
                        Vec::new(),
                    )
                }
                None => (
                    ShiftKind::New,
                    None,
                    String::new(),
                    Vec::new(),
                    others_on(ledger, c),
                ),
            };
        let (diff, marked_diff) = if baseline_sentence.is_empty() {
            (String::new(), String::new())
        } else {
            (
                word_diff(&baseline_sentence, &c.sentence),
                marked_word_diff(
                    &baseline_sentence,
                    &c.sentence,
                    &baseline_words,
                    &c.stance_words,
                ),
            )
        };
        out.push(Shift {
            actor: c.actor.clone(),
            topic: c.topic.clone(),
            from,
            to: c.stance,
            kind,
            speaker: c.speaker.clone(),
            confidence: c.confidence,
            sentence: c.sentence.clone(),
            baseline_sentence,
            diff,
            stance_words: c.stance_words.clone(),
            baseline_stance_words: baseline_words,
            marked_diff,
            others,
        });
    }
    out
}

/// What the ledger holds on a claim's topic for the other actors.
fn others_on(ledger: &Ledger, c: &Claim) -> Vec<Other> {
    let mut seen: Vec<String> = Vec::new();
    ledger
        .cells()
        .filter(|cell| cell.topic == c.topic && cell.actor != c.actor)
        .filter(|cell| {
            // one line per sentence: a sentence that names two actors is shown once
            let s = cell
                .evidence
                .first()
                .map(|e| e.sentence.clone())
                .unwrap_or_default();
            let fresh = !seen.contains(&s);
            seen.push(s);
            fresh
        })
        .take(6)
        .map(|cell| Other {
            actor: cell.actor.clone(),
            stance: cell.stance,
            sentence: cell
                .evidence
                .first()
                .map(|e| e.sentence.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// The sentence with each stance word marked `*like this*` (whole words,
/// each once, in order).
pub fn mark(sentence: &str, words: &[String]) -> String {
    if words.is_empty() {
        return sentence.to_string();
    }
    let mut out = String::with_capacity(sentence.len() + 4 * words.len());
    let mut rest = sentence;
    for w in words {
        let Some(pos) = find_word(rest, w) else {
            continue;
        };
        out.push_str(&rest[..pos]);
        out.push('*');
        out.push_str(&rest[pos..pos + w.len()]);
        out.push('*');
        rest = &rest[pos + w.len()..];
    }
    out.push_str(rest);
    out
}

/// The byte offset of `w` in `s` as a whole word.
fn find_word(s: &str, w: &str) -> Option<usize> {
    if w.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = s[from..].find(w) {
        let at = from + i;
        let before = s[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = s[at + w.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return Some(at);
        }
        from = at + w.len();
    }
    None
}

/// Splits a sentence into words and punctuation marks, so "ready." and
/// "ready" compare equal on the word.
pub fn diff_tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for w in s.split_whitespace() {
        let mut start = 0;
        let mut end = w.len();
        let lead: Vec<(usize, char)> = w
            .char_indices()
            .take_while(|(_, c)| !c.is_alphanumeric())
            .collect();
        for (i, c) in &lead {
            out.push(&w[*i..*i + c.len_utf8()]);
        }
        if let Some((i, c)) = lead.last() {
            start = i + c.len_utf8();
        }
        if start >= end {
            continue;
        }
        let mut trail = Vec::new();
        for (i, c) in w[start..].char_indices().rev() {
            if c.is_alphanumeric() {
                break;
            }
            trail.push(&w[start + i..start + i + c.len_utf8()]);
            end = start + i;
        }
        out.push(&w[start..end]);
        out.extend(trail.into_iter().rev());
    }
    out
}

/// A word diff of `old` against `new`: `[-removed-]{+added+}`, unchanged
/// words as they are.
pub fn word_diff(old: &str, new: &str) -> String {
    marked_word_diff(old, new, &[], &[])
}

/// A word diff with the stance words of each side marked `*like this*`:
/// the old side's in what was removed or kept, the new side's in what was
/// added or kept.
pub fn marked_word_diff(
    old: &str,
    new: &str,
    old_words: &[String],
    new_words: &[String],
) -> String {
    let a = diff_tokens(old);
    let b = diff_tokens(new);
    let marks = |side: &[String], w: &str| side.iter().any(|x| x == w);
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_TIMEOUT)
        .diff_slices(&a, &b);
    // group runs of one tag
    let mut runs: Vec<(ChangeTag, Vec<String>)> = Vec::new();
    for ch in diff.iter_all_changes() {
        let w = ch.value();
        let marked = match ch.tag() {
            ChangeTag::Delete => marks(old_words, w),
            ChangeTag::Insert => marks(new_words, w),
            ChangeTag::Equal => marks(old_words, w) || marks(new_words, w),
        };
        let w = if marked {
            format!("*{w}*")
        } else {
            w.to_string()
        };
        match runs.last_mut() {
            Some((tag, words)) if *tag == ch.tag() => words.push(w),
            _ => runs.push((ch.tag(), vec![w])),
        }
    }
    let mut out = String::new();
    for (tag, words) in runs {
        let mut text = String::new();
        for w in &words {
            if !text.is_empty() && needs_space(w.as_str()) {
                text.push(' ');
            }
            text.push_str(w);
        }
        if !out.is_empty() && (tag != ChangeTag::Equal || needs_space(words[0].as_str())) {
            out.push(' ');
        }
        match tag {
            ChangeTag::Equal => out.push_str(&text),
            ChangeTag::Delete => {
                out.push_str("[-");
                out.push_str(&text);
                out.push_str("-]");
            }
            ChangeTag::Insert => {
                out.push_str("{+");
                out.push_str(&text);
                out.push_str("+}");
            }
        }
    }
    out
}

fn needs_space(tok: &str) -> bool {
    !matches!(tok, "," | "." | ";" | ":" | "!" | "?" | ")" | "'s" | "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a word diff back into the token sequences of its two sides.
    fn sides(diff: &str) -> (Vec<String>, Vec<String>) {
        let (mut old, mut new) = (Vec::new(), Vec::new());
        let mut rest = diff;
        while !rest.is_empty() {
            let next = [rest.find("[-"), rest.find("{+")]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(rest.len());
            for t in diff_tokens(&rest[..next]) {
                old.push(t.to_string());
                new.push(t.to_string());
            }
            rest = &rest[next..];
            for (open, close, side) in [("[-", "-]", &mut old), ("{+", "+}", &mut new)] {
                if let Some(r) = rest.strip_prefix(open) {
                    let end = r.find(close).expect("a closed run");
                    side.extend(diff_tokens(&r[..end]).into_iter().map(str::to_string));
                    rest = &r[end + close.len()..];
                }
            }
        }
        (old, new)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// The diff holds both sentences: its unchanged and removed words
        /// are the old sentence, its unchanged and added words the new one.
        #[test]
        fn diff_reconstructs_both_sides(
            old in "([a-zA-Z\u{e9}\u{431}]{1,7}|[.,;:!?()%'\"\u{2014}-]|[0-9]{1,4}| ){0,40}",
            new in "([a-zA-Z\u{e9}\u{431}]{1,7}|[.,;:!?()%'\"\u{2014}-]|[0-9]{1,4}| ){0,40}",
        ) {
            let d = word_diff(&old, &new);
            let (o, n) = sides(&d);
            let want_o: Vec<String> = diff_tokens(&old).into_iter().map(str::to_string).collect();
            let want_n: Vec<String> = diff_tokens(&new).into_iter().map(str::to_string).collect();
            proptest::prop_assert_eq!(o, want_o, "diff {}", d);
            proptest::prop_assert_eq!(n, want_n, "diff {}", d);
        }
    }

    #[test]
    fn diff_marks_changed_words() {
        let d = word_diff("Russia rejected the force.", "Russia accepted the force.");
        assert_eq!(d, "Russia [-rejected-] {+accepted+} the force.");
    }

    #[test]
    fn punctuation_is_split_from_words() {
        assert_eq!(
            diff_tokens("ready, (now)."),
            vec!["ready", ",", "(", "now", ")", "."]
        );
        let d = word_diff("They are ready.", "They are ready");
        assert_eq!(d, "They are ready [-.-]");
    }

    #[test]
    fn both_sides_can_be_rebuilt_from_the_diff() {
        let old = "Kyiv rejects a cap on its army.";
        let new = "Kyiv could accept a cap on its army, officials said.";
        let d = word_diff(old, new);
        let keep_old = d.replace("{+", "\u{1}").replace("+}", "\u{2}");
        let stripped_old: String = strip_between(&keep_old, '\u{1}', '\u{2}')
            .replace("[-", "")
            .replace("-]", "");
        let norm = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace(" ,", ",")
                .replace(" .", ".")
        };
        assert_eq!(norm(&stripped_old), norm(old));
    }

    fn strip_between(s: &str, a: char, b: char) -> String {
        let mut out = String::new();
        let mut skip = false;
        for c in s.chars() {
            if c == a {
                skip = true;
            } else if c == b {
                skip = false;
            } else if !skip {
                out.push(c);
            }
        }
        out
    }
}
