//! HTML page → article title and main text.
//!
//! Pure: a string in, plain text out (one paragraph per line). Navigation,
//! headers, footers, sidebars, cookie banners, share bars, related-link
//! rails, scripts and captions are dropped; the article element (or the
//! container with the most paragraph text) is kept. Sentence-level
//! boilerplate is left to [`crate::analyze`].

use scraper::{ElementRef, Html, Node, Selector};

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

fn walk(node: ego_tree::NodeRef<'_, Node>, lines: &mut Vec<String>, cur: &mut String) {
    match node.value() {
        Node::Text(t) => {
            let s: &str = t;
            if !s.trim().is_empty() {
                if !cur.is_empty() && !cur.ends_with(' ') && s.starts_with(char::is_whitespace) {
                    cur.push(' ');
                }
                let words: Vec<&str> = s.split_whitespace().collect();
                if !cur.is_empty() && !cur.ends_with(' ') && !s.starts_with(char::is_whitespace) {
                    // inline element boundary without space: keep as is
                }
                cur.push_str(&words.join(" "));
                if s.ends_with(char::is_whitespace) {
                    cur.push(' ');
                }
            }
        }
        Node::Element(el) => {
            if is_dropped(el) {
                return;
            }
            let block = BLOCK_TAGS.contains(&el.name());
            if block {
                flush(lines, cur);
            }
            for child in node.children() {
                walk(child, lines, cur);
            }
            if block {
                flush(lines, cur);
            }
        }
        _ => {
            for child in node.children() {
                walk(child, lines, cur);
            }
        }
    }
}

fn flush(lines: &mut Vec<String>, cur: &mut String) {
    let t = cur.trim();
    if !t.is_empty() {
        lines.push(t.to_string());
    }
    cur.clear();
}

fn text_of(el: ElementRef<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    walk(*el, &mut lines, &mut cur);
    flush(&mut lines, &mut cur);
    lines
}

/// The element that holds the article: `<article>`, `[itemprop=articleBody]`,
/// `<main>`, else the element whose own `<p>` children hold the most text.
fn content_root(doc: &Html) -> ElementRef<'_> {
    for sel in ["[itemprop=articleBody]", "article", "main", "[role=main]"] {
        let s = Selector::parse(sel).expect("static selector");
        let best = doc
            .select(&s)
            .filter(|e| !is_dropped(e.value()))
            .max_by_key(|e| paragraph_chars(*e));
        if let Some(e) = best
            && paragraph_chars(e) > 200
        {
            return e;
        }
    }
    let p = Selector::parse("p").expect("static selector");
    let mut best: Option<(usize, ElementRef<'_>)> = None;
    for para in doc.select(&p) {
        if let Some(parent) = para.parent().and_then(ElementRef::wrap) {
            let n = paragraph_chars(parent);
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

fn paragraph_chars(e: ElementRef<'_>) -> usize {
    e.child_elements()
        .filter(|c| c.value().name() == "p" && !is_dropped(c.value()))
        .map(|c| c.text().map(str::len).sum::<usize>())
        .sum()
}

/// Extracts the title and main text of an HTML page.
pub fn extract(html: &str) -> Extracted {
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
              <p>Russia again rejected the presence of European peacekeepers in Ukraine on Monday, the Kremlin said.</p>
              <figure><img src="x.jpg"><figcaption>Photo: the Kremlin.</figcaption></figure>
              <p>Kremlin spokesman Dmitry Peskov said the position had not changed and would not change.</p>
              <aside class="related"><a href="/x">Meloni: Italy will not send troops to Ukraine</a></aside>
            </article>
            <footer>© 2026 The Wire</footer></body></html>"#;
        let e = extract(html);
        assert_eq!(e.title, "Kremlin says no to peacekeepers");
        assert!(e.text.contains("Russia again rejected"));
        assert!(e.text.contains("Peskov said"));
        assert!(!e.text.contains("cookies"));
        assert!(!e.text.contains("Meloni"));
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
}
