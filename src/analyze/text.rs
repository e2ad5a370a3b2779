//! Text → paragraphs → sentences → tokens.
//!
//! Pure string work: the words of a language come from its pack. Sentence
//! splitting survives news prose ("U.S.", "Jan. 9", initials, quotes that
//! close a sentence); each sentence is a byte range of its paragraph, so
//! nothing is lost or reordered. Boilerplate lines (bylines, captions,
//! "Read more", copyright, bios) are recognised by their shape and by the
//! pack's furniture words.

use chrono::NaiveDate;

use super::lang::{Class, Pack};

/// One word or punctuation mark, normalised for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lower-cased, accents folded, curly quotes straightened.
    pub norm: String,
    /// True when the original word was written entirely in capitals
    /// (and has at least two letters): "US", "UK", "EU".
    pub caps: bool,
    /// True when the original word starts with a capital letter.
    pub upper: bool,
    /// Byte offsets in the sentence.
    pub start: usize,
    pub end: usize,
    /// Which of a profile's lexicons have a phrase that can start here
    /// (set by `Profile::annotate`; all bits until then).
    pub mask: u128,
    /// The same for the word classes of a language pack (set by
    /// `Pack::annotate`; all bits until then).
    pub pack_mask: u128,
}

impl Token {
    pub fn is_word(&self) -> bool {
        self.norm
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric())
    }
}

/// Folds the accents of Latin letters found in European names.
pub fn fold_char(c: char) -> char {
    // ASCII folds to itself but for the backtick
    if c.is_ascii() {
        return if c == '`' { '\'' } else { c };
    }
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' | 'ă' | 'ā' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ą' | 'Ă' | 'Ā' => 'A',
        'ç' | 'ć' | 'č' => 'c',
        'Ç' | 'Ć' | 'Č' => 'C',
        'ď' => 'd',
        'Ď' => 'D',
        'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ě' | 'ē' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' | 'Ę' | 'Ě' | 'Ē' => 'E',
        'ğ' => 'g',
        'Ğ' => 'G',
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'ī' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' | 'Ī' => 'I',
        'ł' => 'l',
        'Ł' => 'L',
        'ñ' | 'ń' | 'ň' => 'n',
        'Ñ' | 'Ń' | 'Ň' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' | 'ō' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ő' | 'Ō' => 'O',
        'ř' => 'r',
        'Ř' => 'R',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'Ś' | 'Š' | 'Ş' | 'Ș' => 'S',
        'ť' | 'ţ' | 'ț' => 't',
        'Ť' | 'Ţ' | 'Ț' => 'T',
        'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' | 'ū' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ů' | 'Ű' | 'Ū' => 'U',
        'ý' | 'ÿ' => 'y',
        'Ý' => 'Y',
        'ź' | 'ż' | 'ž' => 'z',
        'Ź' | 'Ż' | 'Ž' => 'Z',
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => '-',
        '\u{00A0}' | '\u{2009}' | '\u{202F}' => ' ',
        other => other,
    }
}

/// Letters that fold into two: "ß" → "ss", "æ" → "ae", "œ" → "oe".
fn fold_wide(c: char) -> Option<&'static str> {
    match c {
        'ß' | 'ẞ' => Some("ss"),
        'æ' | 'Æ' => Some("ae"),
        'œ' | 'Œ' => Some("oe"),
        _ => None,
    }
}

/// A phrase as the matcher sees it: lower case, accents folded, "ß" as "ss".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some(w) = fold_wide(c) {
            out.push_str(w);
            continue;
        }
        let c = fold_char(c);
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Words after an apostrophe that make an English contraction, not an
/// elision ("don't", "it's", "we're").
const CONTRACTIONS: &[&str] = &["t", "s", "re", "ve", "ll", "d", "m"];

/// Splits a sentence (or a phrase of the profile) into tokens.
///
/// Words are runs of letters and digits; "U.S." and "U.K." become one word
/// ("US"); "600,000" and "5.5" stay whole; "'s" is a token of its own; an
/// elided word keeps its apostrophe ("n'", "qu'", "dell'"); every other mark
/// is a one-character token.
pub fn tokenize(s: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::with_capacity(s.len() / 5 + 1);
    let mut i = 0;
    let n = chars.len();
    let byte_at = |k: usize| if k < n { chars[k].0 } else { s.len() };
    while i < n {
        let c = fold_char(chars[i].1);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_alphanumeric() {
            let start = i;
            let mut word = String::new();
            let mut letters = 0usize;
            let mut uppers = 0usize;
            let mut dotted = false;
            while i < n {
                let ch = fold_char(chars[i].1);
                if ch.is_alphanumeric() {
                    if ch.is_alphabetic() {
                        letters += 1;
                        if ch.is_uppercase() {
                            uppers += 1;
                        }
                    }
                    if let Some(w) = fold_wide(ch) {
                        word.push_str(w);
                    } else if ch.is_ascii() {
                        word.push(ch.to_ascii_lowercase());
                    } else {
                        word.extend(ch.to_lowercase());
                    }
                    i += 1;
                    continue;
                }
                // "U.S." / "U.K.": a single capital followed by a dot and another capital.
                if ch == '.'
                    && i + 1 < n
                    && fold_char(chars[i + 1].1).is_uppercase()
                    && word.chars().count() == 1
                    || (ch == '.'
                        && dotted
                        && i + 1 < n
                        && fold_char(chars[i + 1].1).is_uppercase())
                {
                    dotted = true;
                    i += 1;
                    continue;
                }
                // "600,000", "5.5": punctuation between digits stays in the word.
                if (ch == ',' || ch == '.')
                    && word.chars().last().is_some_and(|d| d.is_ascii_digit())
                    && i + 1 < n
                    && chars[i + 1].1.is_ascii_digit()
                {
                    word.push(ch);
                    i += 1;
                    continue;
                }
                break;
            }
            // Swallow the final dot of "U.S." so it reads as one word.
            if dotted && i < n && chars[i].1 == '.' {
                i += 1;
            }
            // An elision: a short word, an apostrophe, a letter ("l'armée").
            if !dotted
                && i + 1 < n
                && fold_char(chars[i].1) == '\''
                && fold_char(chars[i + 1].1).is_alphabetic()
                && (1..=5).contains(&word.chars().count())
                && word.chars().all(char::is_alphabetic)
            {
                let after: String = chars[i + 1..]
                    .iter()
                    .take_while(|(_, c)| c.is_alphanumeric())
                    .map(|(_, c)| c.to_ascii_lowercase())
                    .collect();
                if !CONTRACTIONS.contains(&after.as_str()) {
                    word.push('\'');
                    i += 1;
                }
            }
            let caps = letters >= 2 && uppers == letters;
            let upper = fold_char(chars[start].1).is_uppercase();
            out.push(Token {
                norm: word,
                caps,
                upper,
                start: byte_at(start),
                end: byte_at(i),
                mask: u128::MAX,
                pack_mask: u128::MAX,
            });
            continue;
        }
        if c == '\'' {
            // possessive 's or a closing apostrophe
            if i + 1 < n && matches!(chars[i + 1].1, 's' | 'S') {
                let after = i + 2;
                let ends = after >= n || !chars[after].1.is_alphanumeric();
                if ends {
                    out.push(Token {
                        norm: "'s".into(),
                        caps: false,
                        upper: false,
                        start: byte_at(i),
                        end: byte_at(i + 2),
                        mask: u128::MAX,
                        pack_mask: u128::MAX,
                    });
                    i += 2;
                    continue;
                }
            }
            // "n't" is split by the word rule as "n" + "'" + "t": handled below.
        }
        out.push(Token {
            norm: c.to_string(),
            caps: false,
            upper: false,
            start: byte_at(i),
            end: byte_at(i + 1),
            mask: u128::MAX,
            pack_mask: u128::MAX,
        });
        i += 1;
    }
    merge_contractions(out)
}

/// "won't" → "wo" "n't"; "isn't" → "is" "n't"; "can't" → "ca" "n't".
fn merge_contractions(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.norm == "'"
            && i + 1 < tokens.len()
            && tokens[i + 1].norm == "t"
            && tokens[i + 1].start == t.end
            && out
                .last()
                .is_some_and(|p: &Token| p.norm.ends_with('n') && p.end == t.start)
        {
            let prev = out.last_mut().expect("checked above");
            prev.norm.pop();
            prev.end -= 1;
            let start = prev.end;
            if prev.norm.is_empty() {
                out.pop();
            }
            out.push(Token {
                norm: "n't".into(),
                caps: false,
                upper: false,
                start,
                end: tokens[i + 1].end,
                mask: u128::MAX,
                pack_mask: u128::MAX,
            });
            i += 2;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// Splits a paragraph into sentences, returned as byte ranges that together
/// cover the whole paragraph in order (whitespace between sentences goes
/// with the sentence before it).
pub fn sentence_ranges(p: &str, pack: &Pack) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = p.char_indices().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < n {
        let c = chars[i].1;
        if matches!(c, '.' | '!' | '?' | '…') {
            // extend over repeated marks and closing quotes / brackets
            let mut j = i + 1;
            while j < n
                && matches!(
                    chars[j].1,
                    '.' | '!' | '?' | '"' | '\'' | '”' | '’' | ')' | ']' | '»' | '“'
                )
            {
                j += 1;
            }
            // must be followed by whitespace, then a sentence start
            if j < n && chars[j].1.is_whitespace() {
                let mut k = j;
                while k < n && chars[k].1.is_whitespace() {
                    k += 1;
                }
                // a closing guillemet set off by a space ("orientation. »")
                // still belongs to the sentence it closes
                if k < n && chars[k].1 == '»' {
                    let mut q = k + 1;
                    while q < n && chars[q].1.is_whitespace() {
                        q += 1;
                    }
                    if q > k + 1 || q == n {
                        k = q;
                    }
                }
                if k < n
                    && starts_sentence(chars[k].1)
                    && !(c == '.' && is_abbreviation(p, &chars, i, k, pack))
                {
                    let end = chars[k].0;
                    out.push((start, end));
                    start = end;
                    i = k;
                    continue;
                }
            }
            i = j;
            continue;
        }
        i += 1;
    }
    if start < p.len() {
        out.push((start, p.len()));
    }
    out
}

fn starts_sentence(c: char) -> bool {
    c.is_uppercase()
        || c.is_ascii_digit()
        || matches!(
            c,
            '"' | '“' | '„' | '\'' | '‘' | '(' | '[' | '«' | '-' | '—' | '–'
        )
}

/// Is the full stop at `dot` part of an abbreviation or an initial?
fn is_abbreviation(p: &str, chars: &[(usize, char)], dot: usize, next: usize, pack: &Pack) -> bool {
    // the word before the dot
    let mut b = dot;
    while b > 0 && (chars[b - 1].1.is_alphanumeric() || chars[b - 1].1 == '.') {
        b -= 1;
    }
    let word = fold(&p[chars[b].0..chars[dot].0]);
    if word.is_empty() {
        return false;
    }
    // single initial ("J. D. Vance", "D.") or dotted acronym ("U.S.", "D.C.")
    let letters: Vec<char> = word.chars().filter(|c| *c != '.').collect();
    if letters.len() == 1 && letters[0].is_alphabetic() {
        return true;
    }
    if word.contains('.') && !pack.is_abbreviation(&word) {
        // "U.S." before a word that opens sentences in this language ends one
        let rest = p[chars[next].0..].split_whitespace().next().unwrap_or("");
        let w = fold(rest.trim_matches(|c: char| !c.is_alphabetic()));
        let toks = tokenize(&w);
        let opener = [
            Class::Determiners,
            Class::PersonPronouns,
            Class::ThingPronouns,
            Class::FirstPerson,
            Class::ClauseJoiners,
        ]
        .iter()
        .any(|c| pack.class(*c).longest_at(&toks, 0).is_some());
        return !(opener || pack.is_function_word(&w));
    }
    // an ordinal ("am 5. Dezember") or a number with a dot
    if word.chars().all(|c| c.is_ascii_digit()) && word.len() <= 2 {
        let rest = p[chars[next].0..].split_whitespace().next().unwrap_or("");
        return pack
            .month(&fold(rest.trim_matches(|c: char| !c.is_alphabetic())))
            .is_some();
    }
    pack.is_abbreviation(&word)
}

/// Recognises a whole line of page furniture: bylines, captions, "Read more",
/// copyright, newsletter and cookie text, section labels, tag lists.
pub fn is_boilerplate_line(line: &str, pack: &Pack) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return true;
    }
    let words = t.split_whitespace().count();
    if t.starts_with('©') || t.starts_with("(c)") {
        return true;
    }
    // one tokenisation: the whole of a short line, the head of a long one
    let toks = if words <= 30 {
        tokenize(t)
    } else {
        tokenize(&t.chars().take(60).collect::<String>())
    };
    let mut toks = toks;
    pack.annotate(&mut toks);
    if pack
        .class(Class::Boilerplate)
        .longest_at(&toks, 0)
        .is_some()
        && words <= 40
    {
        // "By Anna K." / "Photo: …" / "Read more: …" — but not a sentence that
        // only starts with such a word ("By contrast, Germany …")
        let hit = pack
            .class(Class::Boilerplate)
            .longest_at(&toks, 0)
            .map_or(0, |h| h.end);
        let next = toks.get(hit);
        let shape = next.is_none_or(|n| !n.is_word() || n.upper) || words <= 8;
        if shape {
            return true;
        }
    }
    if words <= 30 && pack.class(Class::BoilerplateAnywhere).any(&toks) {
        return true;
    }
    // a caption that ends with a credit in brackets: "... (Kyiv Ledger)"
    if t.ends_with(')')
        && !t.ends_with(".)")
        && let Some(open) = t.rfind('(')
    {
        let inner = &t[open + 1..t.len() - 1];
        let words = inner.split_whitespace().count();
        if words <= 5 && !inner.contains(',') && open > 0 {
            return true;
        }
    }
    // all-capital lines: section labels, datelines, stray headlines
    let mut letters = t.chars().filter(|c| c.is_alphabetic()).peekable();
    if letters.peek().is_some() && letters.all(|c| !c.is_lowercase()) {
        return true;
    }
    // labels: a short line with separators ("Politics | Harbour Post", "WORLD › EUROPE")
    if (t.contains(" | ") || t.contains('›') || t.contains(" / ") || t.contains(" · "))
        && !t.ends_with('.')
        && words < 16
    {
        return true;
    }
    // a line that is only a date or a time stamp
    if t.chars().filter(|c| c.is_ascii_digit()).count() * 3
        >= t.chars().filter(|c| !c.is_whitespace()).count()
    {
        return true;
    }
    false
}

/// A line with no closing punctuation and few words reads as a heading.
pub fn is_heading(line: &str) -> bool {
    let t = line.trim();
    // a closing quote or bracket ends a sentence only after its full stop
    let body = t.trim_end_matches(['"', '”', '\'', '’', ')', '»', '“', '«']);
    let last = body.chars().last().unwrap_or('.');
    !matches!(last, '.' | '!' | '?' | ':' | ';' | '…') && t.split_whitespace().count() <= 20
}

/// Removes a dateline prefix: "KYIV (BSM) — President…", "OSLO, 4 March
/// 2026 (Nordwire) — Norway…", "Berlin (dpa) - Die Regierung…".
pub fn strip_dateline(line: &str) -> &str {
    let t = line.trim_start();
    for sep in [" — ", " – ", " -- ", " - "] {
        if let Some(pos) = t.find(sep) {
            if pos > 60 {
                continue;
            }
            let head = &t[..pos];
            let first_word = head.split([' ', ',', '(', '/']).next().unwrap_or("");
            let upper_place = first_word.chars().filter(|c| c.is_alphabetic()).count() >= 3
                && first_word
                    .chars()
                    .all(|c| c.is_uppercase() || c == '/' || c == '-' || c == '.');
            // "Berlin (dpa)": a place and an agency in brackets
            let agency = head.trim_end().ends_with(')')
                && head.contains('(')
                && first_word.starts_with(char::is_uppercase)
                && head.split_whitespace().count() <= 8;
            if upper_place || agency {
                return &t[pos + sep.len()..];
            }
        }
    }
    t
}

/// Finds the first full date in a line: "17 December 2021", "Dec. 23, 2025",
/// "5. Dezember 2025", "24.12.2025", "2025-12-03", in any pack's months.
pub fn find_date(line: &str, packs: &[Pack]) -> Option<NaiveDate> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == '|')
        .filter(|w| !w.is_empty())
        .take(200)
        .collect();
    let month_of = |w: &str| -> Option<u32> {
        if w.len() < 3 || !w.as_bytes()[0].is_ascii_alphabetic() || w.len() > 12 {
            return None;
        }
        let f = fold(w);
        packs.iter().find_map(|p| p.month(&f))
    };
    let year = |s: &str| -> Option<i32> {
        let y: i32 = s.trim_end_matches(['.', ';', ':']).parse().ok()?;
        (1900..=2100).contains(&y).then_some(y)
    };
    for (i, w) in words.iter().enumerate() {
        // ISO and dotted numeric dates
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
        // a month name counts only next to a day number
        let digit = |k: usize| {
            words
                .get(k)
                .is_some_and(|x| x.as_bytes()[0].is_ascii_digit())
        };
        if (digit(i + 1) || (i >= 1 && digit(i - 1)))
            && let Some(m) = month_of(w)
        {
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
                && let (Ok(d), Some(y)) = (
                    words[i - 1].trim_end_matches('.').parse::<u32>(),
                    year(words[i + 1]),
                )
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                return Some(date);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> Pack {
        super::super::lang::Languages::builtin().packs[0].clone()
    }

    fn split(p: &str) -> Vec<&str> {
        sentence_ranges(p, &en())
            .into_iter()
            .map(|(a, b)| p[a..b].trim())
            .collect()
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        let p = "U.S. President Donald Trump spoke on Jan. 9 in Washington, D.C. He said Sen. Graham agreed. The end.";
        assert_eq!(
            split(p),
            vec![
                "U.S. President Donald Trump spoke on Jan. 9 in Washington, D.C.",
                "He said Sen. Graham agreed.",
                "The end."
            ]
        );
    }

    #[test]
    fn a_guillemet_after_a_space_closes_its_sentence() {
        let p = "Elle a dit : « Nous refusons. » Puis elle est partie.";
        assert_eq!(
            split(p),
            vec!["Elle a dit : « Nous refusons. »", "Puis elle est partie."]
        );
        let p = "Il a conclu : « Non. »";
        assert_eq!(split(p), vec!["Il a conclu : « Non. »"]);
    }

    #[test]
    fn quotes_close_sentences() {
        let p = "\"We will never accept it,\" he said. \"Never.\" Then he left.";
        assert_eq!(
            split(p),
            vec![
                "\"We will never accept it,\" he said.",
                "\"Never.\"",
                "Then he left."
            ]
        );
    }

    #[test]
    fn party_labels_and_initials_stay_inside() {
        let p = "Sen. Chuck Schumer (D-N.Y.) said the U.S. would not. J. D. Vance disagreed.";
        assert_eq!(split(p).len(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Whatever the paragraph, the sentences cover it whole, in order,
        /// without overlap, on character boundaries: no text is lost or moved.
        #[test]
        fn sentences_never_lose_or_reorder_text(
            p in "([A-Za-z]{1,8}|[.!?;:,\"'()\u{201c}\u{201d}]|[ \n]|U\\.S\\.|Jan\\.|\\d{1,3}|\\PC){0,60}"
        ) {
            let r = sentence_ranges(&p, &en());
            if p.is_empty() {
                proptest::prop_assert!(r.iter().all(|(a, b)| a == b));
            } else {
                proptest::prop_assert_eq!(r.first().unwrap().0, 0);
                proptest::prop_assert_eq!(r.last().unwrap().1, p.len());
            }
            let mut joined = String::new();
            for (i, (a, b)) in r.iter().enumerate() {
                proptest::prop_assert!(a <= b);
                proptest::prop_assert!(p.is_char_boundary(*a) && p.is_char_boundary(*b));
                if i > 0 {
                    proptest::prop_assert_eq!(r[i - 1].1, *a);
                }
                joined.push_str(&p[*a..*b]);
            }
            proptest::prop_assert_eq!(joined, p);
        }
    }

    #[test]
    fn ranges_cover_the_paragraph() {
        let p = "One. Two?  Three! four. Five";
        let r = sentence_ranges(p, &en());
        assert_eq!(r.first().unwrap().0, 0);
        assert_eq!(r.last().unwrap().1, p.len());
        for w in r.windows(2) {
            assert_eq!(w[0].1, w[1].0);
        }
    }

    #[test]
    fn tokens_fold_and_keep_acronyms() {
        let t = tokenize("The U.S. won't cede 600,000 troops — Kyiv's “no” to Türkiye.");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(
            norms,
            vec![
                "the", "us", "wo", "n't", "cede", "600,000", "troops", "-", "kyiv", "'s", "\"",
                "no", "\"", "to", "turkiye", "."
            ]
        );
        assert!(t[1].caps);
        assert!(!t[0].caps);
    }

    #[test]
    fn boilerplate_lines() {
        for l in [
            "Photo: a convoy on a snowy road outside the city, March 2026. (Harbour Post)",
            "Read more: Ministers meet again on the fishing quota",
            "By Ilse Marten and Tom Brandt in Oslo",
            "© 2026 Harbour Post Media. All rights reserved.",
            "We use cookies to remember your settings and to count our visitors.",
            "WORLD › EUROPE",
            "CLINTONS TO BE HELD IN CONTEMPT OF CONGRESS IF THEY NO-SHOW DEPOSITIONS",
            "Ilse Marten reports on Nordic politics from Oslo.",
            "Politics | Harbour Post",
            "Mar. 4, 2026, 08:15",
        ] {
            assert!(is_boilerplate_line(l, &en()), "{l}");
        }
        assert!(!is_boilerplate_line(
            "The Norwegian minister said on Tuesday that Oslo firmly rejects the new levy.",
            &en()
        ));
    }

    #[test]
    fn datelines_are_stripped() {
        assert_eq!(
            strip_dateline("KYIV (BSM) — President Zelenskyy spoke."),
            "President Zelenskyy spoke."
        );
        assert_eq!(
            strip_dateline("OSLO, 4 March 2026 (Nordwire) — Norway is ready."),
            "Norway is ready."
        );
        assert_eq!(
            strip_dateline("Russia — as ever — said no."),
            "Russia — as ever — said no."
        );
    }
}
