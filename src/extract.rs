//! HTML page → article title and main text.
//!
//! Pure: a string in, plain text out (one paragraph per line). Navigation,
//! headers, footers, sidebars, cookie banners, share bars, related-link
//! rails, scripts and captions are dropped; the article element (or the
//! container with the most paragraph text) is kept. Sentence-level
//! boilerplate is left to [`crate::analyze`].
//!
//! A page is a stranger's: its cost is linear in its size. Markup past
//! [`MAX_ELEMENTS`] elements or nested deeper than [`MAX_DEPTH`] is cut off
//! before parsing (the parser's work grows with the depth of open elements),
//! the tree is walked without recursion, and each container's paragraph text
//! is counted once.

use std::collections::HashMap;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node, Selector};

/// Elements read from one page; the rest is cut off.
pub const MAX_ELEMENTS: usize = 100_000;
/// Elements open at once; markup nested deeper is cut off.
pub const MAX_DEPTH: usize = 512;

/// Tags whose whole subtree is never article text.
const DROP_TAGS: &[&str] = &[
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "figure",
    "figcaption",
    "iframe",
    "svg",
    "button",
    "select",
    "template",
    "canvas",
    "video",
    "audio",
    "menu",
    "dialog",
    "head",
    "title",
];

/// Class or id fragments that mark page furniture.
const DROP_MARKS: &[&str] = &[
    "cookie",
    "consent",
    "banner",
    "related",
    "sidebar",
    "share",
    "social",
    "newsletter",
    "subscribe",
    "promo",
    "advert",
    "sponsor",
    "breadcrumb",
    "menu",
    "navbar",
    "nav-",
    "footer",
    "comment",
    "caption",
    "rail",
    "recommend",
    "most-read",
    "mostread",
    "popular",
    "trending",
    "tags",
    "byline",
    "author-bio",
    "bio",
    "toolbar",
    "masthead",
    "paywall",
    "modal",
    "popup",
];

/// Tags that start a new line.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "br",
    "tr",
    "table",
    "dd",
    "dt",
    "pre",
    "address",
];

/// An extracted page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub title: String,
    pub text: String,
    /// Why the page was cut short, when it was.
    pub cut: Option<String>,
}

fn is_dropped(el: &scraper::node::Element) -> bool {
    if DROP_TAGS.contains(&el.name()) {
        return true;
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if matches!(
        el.attr("role"),
        Some("navigation" | "banner" | "contentinfo" | "complementary" | "dialog")
    ) {
        return true;
    }
    let mut marks = String::new();
    if let Some(id) = el.id() {
        marks.push_str(&id.to_ascii_lowercase());
        marks.push(' ');
    }
    for c in el.classes() {
        marks.push_str(&c.to_ascii_lowercase());
        marks.push(' ');
    }
    DROP_MARKS.iter().any(|m| {
        marks.split_whitespace().any(|w| {
            w == *m
                || w.starts_with(&format!("{m}-"))
                || w.ends_with(&format!("-{m}"))
                || w.contains(&format!("-{m}-"))
                || (m.ends_with('-') && w.starts_with(m))
        })
    })
}

/// Elements that have no end tag.
const VOID_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// The longest prefix of `html` within [`MAX_ELEMENTS`] and [`MAX_DEPTH`],
/// and why it was cut, if it was. A quick scan of the tags, not a parse:
/// comments and the contents of `script` and `style` are skipped.
pub fn bounded(html: &str) -> (&str, Option<String>) {
    let b = html.as_bytes();
    let (mut i, mut elements, mut depth) = (0usize, 0usize, 0usize);
    while let Some(off) = memchr_lt(&b[i..]) {
        let at = i + off;
        i = at + 1;
        if b[i..].starts_with(b"!--") {
            i = find(b, i + 3, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let name_at = if closing { i + 1 } else { i };
        let name_len = b[name_at..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !b[name_at].is_ascii_alphabetic() {
            continue;
        }
        let name = html[name_at..name_at + name_len].to_ascii_lowercase();
        let tag_end = find(b, name_at, b">").unwrap_or(b.len());
        if closing {
            depth = depth.saturating_sub(1);
            i = tag_end;
            continue;
        }
        elements += 1;
        if elements > MAX_ELEMENTS {
            return (
                &html[..at],
                Some(format!("more than {MAX_ELEMENTS} elements")),
            );
        }
        let self_closing = tag_end > 0 && b.get(tag_end - 1) == Some(&b'/');
        if !VOID_TAGS.contains(&name.as_str()) && !self_closing {
            depth += 1;
            if depth > MAX_DEPTH {
                return (
                    &html[..at],
                    Some(format!("elements nested deeper than {MAX_DEPTH}")),
                );
            }
        }
        i = tag_end;
        if name == "script" || name == "style" {
            // raw text up to the end tag
            let end = format!("</{name}");
            let mut j = i;
            loop {
                match find(b, j, b"</") {
                    Some(k)
                        if b.len() >= k + end.len()
                            && b[k..k + end.len()].eq_ignore_ascii_case(end.as_bytes()) =>
                    {
                        i = k;
                        break;
                    }
                    Some(k) => j = k + 2,
                    None => {
                        i = b.len();
                        break;
                    }
                }
            }
        }
    }
    (html, None)
}

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= b.len() {
        return None;
    }
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The text under `root`, one block per line, without recursion: the
/// walk keeps its own stack, so no page can exhaust the thread's.
fn text_of(root: ElementRef<'_>) -> Vec<String> {
    enum Step<'a> {
        Enter(ego_tree::NodeRef<'a, Node>),
        /// The end of a block element: its text ends a line.
        Leave,
    }
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut stack = vec![Step::Enter(*root)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Leave => {
                flush(&mut lines, &mut cur);
                continue;
            }
            Step::Enter(n) => n,
        };
        match node.value() {
            Node::Text(t) => {
                let s: &str = t;
                if !s.trim().is_empty() {
                    if !cur.is_empty() && !cur.ends_with(' ') && s.starts_with(char::is_whitespace)
                    {
                        cur.push(' ');
                    }
                    let mut first = true;
                    for w in s.split_whitespace() {
                        if !first {
                            cur.push(' ');
                        }
                        cur.push_str(w);
                        first = false;
                    }
                    if s.ends_with(char::is_whitespace) {
                        cur.push(' ');
                    }
                }
            }
            Node::Element(el) => {
                if is_dropped(el) {
                    continue;
                }
                if BLOCK_TAGS.contains(&el.name()) {
                    flush(&mut lines, &mut cur);
                    stack.push(Step::Leave);
                }
                let children: Vec<_> = node.children().collect();
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
            _ => {
                let children: Vec<_> = node.children().collect();
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
        }
    }
    flush(&mut lines, &mut cur);
    lines
}

fn flush(lines: &mut Vec<String>, cur: &mut String) {
    let t = cur.trim();
    if !t.is_empty() {
        lines.push(t.to_string());
    }
    cur.clear();
}

/// Paragraph text of each container, counted once per container.
#[derive(Default)]
struct ParagraphChars(HashMap<NodeId, usize>);

impl ParagraphChars {
    fn of(&mut self, e: ElementRef<'_>) -> usize {
        *self.0.entry(e.id()).or_insert_with(|| {
            e.child_elements()
                .filter(|c| c.value().name() == "p" && !is_dropped(c.value()))
                .map(|c| c.text().map(str::len).sum::<usize>())
                .sum()
        })
    }
}

/// The element that holds the article: `<article>`, `[itemprop=articleBody]`,
/// `<main>`, else the element whose own `<p>` children hold the most text.
fn content_root(doc: &Html) -> ElementRef<'_> {
    let mut chars = ParagraphChars::default();
    for sel in ["[itemprop=articleBody]", "article", "main", "[role=main]"] {
        let s = Selector::parse(sel).expect("static selector");
        let best = doc
            .select(&s)
            .filter(|e| !is_dropped(e.value()))
            .max_by_key(|e| chars.of(*e));
        if let Some(e) = best
            && chars.of(e) > 200
        {
            return e;
        }
    }
    let p = Selector::parse("p").expect("static selector");
    let mut best: Option<(usize, ElementRef<'_>)> = None;
    for para in doc.select(&p) {
        if let Some(parent) = para.parent().and_then(ElementRef::wrap) {
            let n = chars.of(parent);
            if best.as_ref().is_none_or(|(m, _)| n > *m) {
                best = Some((n, parent));
            }
        }
    }
    best.map(|b| b.1).unwrap_or_else(|| {
        let body = Selector::parse("body").expect("static selector");
        doc.select(&body).next().unwrap_or(doc.root_element())
    })
}

/// Extracts the title and main text of an HTML page.
pub fn extract(html: &str) -> Extracted {
    let (html, cut) = bounded(html);
    let doc = Html::parse_document(html);
    let root = content_root(&doc);
    let mut lines = text_of(root);
    // the headline: the first <h1> of the article, else <title> without the site name
    let h1 = Selector::parse("h1").expect("static selector");
    let title_sel = Selector::parse("title").expect("static selector");
    let heading = root
        .select(&h1)
        .next()
        .or_else(|| doc.select(&h1).next())
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty());
    let title = heading.unwrap_or_else(|| {
        let t = doc
            .select(&title_sel)
            .next()
            .map(|e| e.text().collect::<String>())
            .unwrap_or_default();
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        t.split(" | ")
            .next()
            .unwrap_or("")
            .split(" - ")
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    });
    if lines.first().is_some_and(|l| *l == title) {
        lines.remove(0);
    }
    Extracted {
        title,
        text: lines.join("\n"),
        cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_article_and_drops_furniture() {
        let html = r#"<html><head><title>Kremlin says no | The Wire</title></head><body>
            <nav><a href="/">Home</a> <a href="/world">World</a></nav>
            <div class="cookie-banner">We use cookies to improve your experience.</div>
            <article><h1>Kremlin says no to peacekeepers</h1>
              <p class="byline">By A. Writer</p>
              <p>Russia again rejected the idea of European peacekeepers in Ukraine on Monday, the Kremlin said.</p>
              <figure><img src="x.jpg"><figcaption>Photo: the Kremlin.</figcaption></figure>
              <p>A spokesman in Moscow said the stance was the same as last month and would stay so.</p>
              <aside class="related"><a href="/x">Rome weighs a naval role in the Black Sea</a></aside>
            </article>
            <footer>© 2026 The Wire</footer></body></html>"#;
        let e = extract(html);
        assert_eq!(e.title, "Kremlin says no to peacekeepers");
        assert!(e.text.contains("Russia again rejected"));
        assert!(e.text.contains("spokesman in Moscow said"));
        assert!(!e.text.contains("cookies"));
        assert!(!e.text.contains("naval role"));
        assert!(!e.text.contains("Photo"));
        assert!(!e.text.contains("Home"));
        assert!(!e.text.contains("By A. Writer"));
        assert_eq!(e.text.lines().count(), 2);
    }

    #[test]
    fn falls_back_to_the_densest_container() {
        let html = "<html><body><div id='menu'><p>Menu</p></div><div class='content'><p>First paragraph of the story is here and it is long enough.</p><p>Second paragraph of the story.</p></div></body></html>";
        let e = extract(html);
        assert!(e.text.starts_with("First paragraph"));
        assert!(!e.text.contains("Menu"));
    }

    #[test]
    fn markup_past_the_caps_is_cut_before_parsing() {
        let many = format!("<div>{}</div>", "<p>x</p>".repeat(MAX_ELEMENTS + 10));
        let (kept, why) = bounded(&many);
        assert!(kept.len() < many.len());
        assert!(why.unwrap().contains("elements"));
        let deep = format!(
            "{}<p>deep</p>{}",
            "<div>".repeat(10_000),
            "</div>".repeat(10_000)
        );
        let (kept, why) = bounded(&deep);
        assert_eq!(kept.matches("<div>").count(), MAX_DEPTH);
        assert!(why.unwrap().contains("nested"));
        // void elements, self-closing tags, comments and scripts open nothing
        let flat = format!(
            "<p>{}</p><script>{}</script><!-- {} -->",
            "<br><img src=x/><span/>".repeat(1000),
            "if (a<b) { x = '<div>'; }".repeat(1000),
            "<div>".repeat(1000)
        );
        assert_eq!(bounded(&flat), (flat.as_str(), None));
    }

    #[test]
    fn deep_and_wide_pages_are_read_without_recursion() {
        let deep = format!(
            "<html><body>{}<p>Deep text</p>{}</body></html>",
            "<div>".repeat(400),
            "</div>".repeat(400)
        );
        assert_eq!(extract(&deep).text, "Deep text");
        let wide = format!(
            "<html><body><div>{}</div></body></html>",
            "<p>Paragraph text here.</p>".repeat(50_000)
        );
        let e = extract(&wide);
        assert_eq!(e.text.lines().count(), 50_000);
        assert_eq!(e.cut, None);
    }
}
