//! The document stage: an article's lines → its language, date, whether it
//! is an opinion piece, and its sentences, with page furniture (bylines,
//! captions, "read more" lines, headings) and datelines left out.

use chrono::NaiveDate;

use super::lang::Class;
use super::sentence::Sentence;
use super::text::{self, tokenize};
use crate::profile::{Profile, TermKind};

/// An article read.
#[derive(Debug, Clone)]
pub struct Document {
    /// The language pack it is read with.
    pub lang: usize,
    /// The article's own date, when its header or first lines give one.
    pub date: Option<NaiveDate>,
    /// An opinion piece: relevant, but nobody's position.
    pub opinion: bool,
    pub sentences: Vec<Sentence>,
    /// The paragraph of each sentence.
    pub paragraph: Vec<usize>,
    /// Sentences that name another debate ("Gaza", "Taiwan").
    pub off_topic: Vec<bool>,
    /// The title names another debate.
    title_off: bool,
    /// The title names the debate's place.
    title_anchor: bool,
}

impl Document {
    /// Reads an article: `title` one line, `body` paragraphs on lines.
    pub fn read(profile: &Profile, title: &str, body: &str) -> Document {
        let langs = &profile.langs;
        let head: String = title
            .chars()
            .chain(['\n'])
            .chain(body.chars().take(2000))
            .collect();
        // names ("von der Leyen") say nothing of the language around them
        let mut toks = profile.tokenize(&head);
        let names: Vec<(usize, usize)> = profile
            .actor_lex
            .find_all(&toks)
            .iter()
            .map(|h| (h.start, h.end))
            .collect();
        for (a, b) in names {
            for t in &mut toks[a..b] {
                t.norm.clear();
            }
        }
        let lang = langs.detect_tokens(&toks);
        let pack = &langs.packs[lang];
        let mut header = Vec::new();
        let mut sentences = Vec::new();
        let mut paragraph = Vec::new();
        let mut seen_body = false;
        // the headline states what the story reports, often its main claim
        // ("Meloni rules out Italian troops"): it is read as a paragraph of
        // its own before the body, unless the body repeats it
        let headline = title.trim();
        let repeated = body.lines().take(3).any(|l| l.trim().starts_with(headline));
        if !headline.is_empty() && !repeated && !text::is_boilerplate_line(headline, pack) {
            for (a, b) in text::sentence_ranges(headline, pack) {
                for piece in super::pieces(headline[a..b].trim()) {
                    if !piece.is_empty() {
                        sentences.push(Sentence::read(profile, pack, piece));
                        paragraph.push(usize::MAX);
                    }
                }
            }
        }
        for (p, line) in body.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let furniture = text::is_boilerplate_line(t, pack) || text::is_heading(t);
            if furniture {
                if !seen_body {
                    header.push(t.to_string());
                }
                continue;
            }
            seen_body = true;
            let t = text::strip_dateline(t);
            for (a, b) in text::sentence_ranges(t, pack) {
                for piece in super::pieces(t[a..b].trim()) {
                    if piece.is_empty() {
                        continue;
                    }
                    sentences.push(Sentence::read(profile, pack, piece));
                    paragraph.push(p);
                }
            }
        }
        let date = header
            .iter()
            .take(6)
            .find_map(|l| text::find_date(l, &langs.packs))
            .or_else(|| {
                body.lines()
                    .take(8)
                    .find_map(|l| text::find_date(l, &langs.packs))
            });
        let title_toks = profile.tokenize(title);
        let opinion = is_opinion(profile, lang, &title_toks, &header);
        let off_topic = sentences
            .iter()
            .map(|s| profile.off_topic.any(&s.toks))
            .collect();
        Document {
            lang,
            date,
            opinion,
            sentences,
            paragraph,
            off_topic,
            title_off: profile.off_topic.any(&title_toks),
            title_anchor: profile.anchors.any(&title_toks),
        }
    }

    /// Is the article about the profile's debate? It must name the debate's
    /// place and, more often than another debate, one of its topics; and it
    /// must not be dated before the profile's start.
    pub fn relevant(&self, profile: &Profile) -> bool {
        if self.date.is_some_and(|d| d < profile.since) {
            return false;
        }
        let mut on = 0usize;
        let mut off = if self.title_off { 2 } else { 0 };
        let anchored =
            self.title_anchor || self.sentences.iter().any(|s| profile.anchors.any(&s.toks));
        for (k, s) in self.sentences.iter().enumerate() {
            if self.off_topic[k] {
                off += 1;
            } else if s.topics.iter().any(|t| t.kind != TermKind::Weak) {
                on += 1;
            }
        }
        anchored && on > 0 && on >= off
    }

    /// Is sentence `k` a question that the next sentence of its paragraph
    /// answers with a no ("… ? Absolutely not.")?
    pub fn answered_no(&self, k: usize) -> bool {
        let Some(s) = self.sentences.get(k) else {
            return false;
        };
        if !s.is_question() {
            return false;
        }
        let Some(next) = self.sentences.get(k + 1) else {
            return false;
        };
        if self.paragraph.get(k + 1) != self.paragraph.get(k) && next.toks.len() > 8 {
            return false;
        }
        let first = next.toks.iter().position(|t| t.is_word()).unwrap_or(0);
        next.marks.at(Class::AnswerNo, first).is_some()
    }
}

/// An opinion piece: the title or a header label names its section.
fn is_opinion(profile: &Profile, lang: usize, title: &[text::Token], header: &[String]) -> bool {
    let words = profile.langs.packs[lang].class(Class::OpinionSections);
    let sep = |t: &text::Token| matches!(t.norm.as_str(), ":" | "|" | "-" | "/" | "›");
    if let Some(h) = words.longest_at(title, 0)
        && title.get(h.end).is_some_and(sep)
    {
        return true;
    }
    header.iter().take(4).any(|l| {
        let toks = tokenize(l);
        (0..toks.len()).any(|i| {
            words.longest_at(&toks, i).is_some_and(|h| {
                (i == 0 || sep(&toks[i - 1])) && (h.end == toks.len() || sep(&toks[h.end]))
            })
        })
    })
}
