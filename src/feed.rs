//! Feed bytes → entries, and the identity of an entry.
//!
//! feed-rs reads RSS 0.9x/1.0/2.0, Atom and JSON Feed from bytes (it
//! handles the declared encoding itself). An entry is identified by its
//! guid, else its link, else a hash of title and content; a content hash
//! tells an entry updated in place from one seen before.

use chrono::{DateTime, Utc};
use reqwest::Url;
use sha2::{Digest, Sha256};

/// One feed item, reduced to what a pass needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub link: Option<Url>,
    pub published: Option<DateTime<Utc>>,
    /// The summary or content the feed carries (HTML allowed).
    pub summary: String,
    /// Changes when the entry is edited in place.
    pub content_hash: String,
}

/// A parsed feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub title: Option<String>,
    pub entries: Vec<Entry>,
    /// How long the publisher asks readers to wait between polls (RSS `ttl`).
    pub ttl: Option<std::time::Duration>,
}

pub fn hash_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A title as plain text: markup some feeds put in titles is dropped,
/// entities decoded and white space folded.
fn plain_text(s: &str) -> String {
    let text = if s.contains('<') || s.contains('&') {
        let frag = scraper::Html::parse_fragment(s);
        frag.root_element().text().collect::<String>()
    } else {
        s.to_string()
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

const ATOM_03_NS: &str = "http://purl.org/atom/ns#";

/// Atom 0.3 read as Atom 1.0: the namespace and the two renamed dates.
fn atom03_as_10(text: &str) -> String {
    text.replace(ATOM_03_NS, "http://www.w3.org/2005/Atom")
        .replace("<issued>", "<published>")
        .replace("</issued>", "</published>")
        .replace("<modified>", "<updated>")
        .replace("</modified>", "</updated>")
}

/// A feed that is not the UTF-8 it claims (or defaults to), as UTF-8:
/// mostly UTF-8 with stray bytes keeps its text and loses the strays;
/// otherwise it was written in Windows-1252, the usual culprit. The XML
/// declaration then says UTF-8.
fn repair_encoding(bytes: &[u8]) -> Option<String> {
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    let lossy = String::from_utf8_lossy(bytes);
    let bad = lossy
        .chars()
        .filter(|c| *c == char::REPLACEMENT_CHARACTER)
        .count();
    let good = lossy
        .chars()
        .filter(|c| !c.is_ascii() && *c != char::REPLACEMENT_CHARACTER)
        .count();
    let text = if good > bad {
        lossy.into_owned()
    } else {
        encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned()
    };
    // the declaration, if any, must not contradict the text now
    let text = match (text.find("<?xml"), text.find("?>")) {
        (Some(a), Some(b)) if a < b && b < 200 => {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
                &text[b + 2..]
            )
        }
        _ => text,
    };
    Some(text)
}

/// The feed parser on one input. Some malformed inputs trip an assertion
/// inside it (an Atom entry opened inside an entry); that is this feed's
/// error, not the end of the pass.
fn run_parser(bytes: &[u8], base: &Url) -> Result<feed_rs::model::Feed, String> {
    let parse = || {
        feed_rs::parser::Builder::new()
            .base_uri(Some(base.as_str()))
            .build()
            .parse(bytes)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("the feed parser gave up on this input".to_string()),
    }
}

/// The feed as UTF-8 with one declaration that says so, before the parser
/// sees it: decoded from its byte-order mark or declared encoding, every
/// XML declaration dropped and one UTF-8 declaration put first. (The parser
/// trips an assertion when a declaration that changes the encoding comes
/// late: after leading white space or comments, or a second time.)
fn as_utf8(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return Cow::Owned(one_declaration(
            &enc.decode_without_bom_handling(&bytes[bom..]).0,
        ));
    }
    // declarations are looked for well past any leading white space
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let declared: Vec<&'static encoding_rs::Encoding> = declarations(&head)
        .filter_map(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .collect();
    if let Some(enc) = declared
        .iter()
        .find(|e| **e != encoding_rs::UTF_8 && e.is_ascii_compatible())
    {
        return Cow::Owned(one_declaration(&enc.decode_without_bom_handling(bytes).0));
    }
    match std::str::from_utf8(bytes) {
        // one declaration at most, first: as it is
        Ok(t)
            if declared.len() <= 1
                && find_declaration(t).is_none_or(|at| t[..at].trim().is_empty()) =>
        {
            Cow::Borrowed(bytes)
        }
        Ok(t) => Cow::Owned(one_declaration(t)),
        // not UTF-8 and nothing else declared: repaired if the parser fails
        Err(_) => Cow::Borrowed(bytes),
    }
}

/// The text with every XML declaration dropped and one UTF-8 declaration
/// first, leading white space gone.
fn one_declaration(text: &str) -> Vec<u8> {
    let mut out = String::with_capacity(text.len() + 40);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    while let Some(at) = find_declaration(rest) {
        out.push_str(&rest[..at]);
        rest = match rest[at..].find("?>") {
            Some(end) => &rest[at + end + 2..],
            None => "",
        };
        if out.len() == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>".len() {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    out.into_bytes()
}

/// The encodings the XML declarations in `head` name, in order.
fn declarations(head: &str) -> impl Iterator<Item = String> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let at = from + find_declaration(&head[from..])?;
            let end = at + head[at..].find("?>")?;
            from = end;
            if let Some(e) = declared_encoding(&head[at..end]) {
                return Some(e);
            }
        }
    })
}

/// Where an XML declaration (`<?xml` then white space, not `<?xml-stylesheet`)
/// starts.
fn find_declaration(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("<?xml") {
        let at = from + i;
        if s[at + 5..].starts_with(|c: char| c.is_whitespace()) {
            return Some(at);
        }
        from = at + 5;
    }
    None
}

/// The encoding an XML declaration (`<?xml …`, up to its `?>`) names.
fn declared_encoding(decl: &str) -> Option<String> {
    let e = decl.find("encoding")?;
    let rest = decl[e + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].trim().to_string())
}

/// Parses feed bytes; relative links resolve against `base`.
pub fn parse(bytes: &[u8], base: &Url) -> Result<Parsed, String> {
    let utf8 = as_utf8(bytes);
    let bytes: &[u8] = &utf8;
    let head = &bytes[..bytes.len().min(1024)];
    let atom03 = String::from_utf8_lossy(head).contains(ATOM_03_NS);
    let feed = if atom03 {
        let text = atom03_as_10(&String::from_utf8_lossy(bytes));
        run_parser(text.as_bytes(), base)
    } else {
        run_parser(bytes, base)
    };
    let feed = match feed {
        Ok(f) => f,
        Err(e) => match repair_encoding(bytes) {
            Some(text) => {
                run_parser(text.as_bytes(), base).map_err(|_| format!("not a feed: {e}"))?
            }
            None => return Err(format!("not a feed: {e}")),
        },
    };
    let mut entries = Vec::with_capacity(feed.entries.len());
    for e in feed.entries {
        let title = e
            .title
            .as_ref()
            .map(|t| plain_text(&t.content))
            .unwrap_or_default();
        let link = e
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or(e.links.first())
            .and_then(|l| base.join(l.href.trim()).ok())
            // javascript:, data:, mailto: … are no articles; a local feed
            // may link to local files
            .filter(|u| match u.scheme() {
                "http" | "https" => true,
                "file" => base.scheme() == "file",
                _ => false,
            });
        let summary = e
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        let id = if !e.id.trim().is_empty() {
            e.id.trim().to_string()
        } else if let Some(l) = &link {
            l.to_string()
        } else {
            hash_hex(&[&title, &summary])
        };
        let content_hash = hash_hex(&[
            &title,
            &summary,
            link.as_ref().map(Url::as_str).unwrap_or(""),
        ]);
        entries.push(Entry {
            id,
            title,
            link,
            published: e.published.or(e.updated),
            summary,
            content_hash,
        });
    }
    Ok(Parsed {
        title: feed.title.map(|t| t.content),
        entries,
        ttl: feed
            .ttl
            .filter(|m| *m > 0)
            .map(|m| std::time::Duration::from_secs(u64::from(m) * 60)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_items_with_relative_links() {
        let xml = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
            <item><title>One</title><link>../pages/one.html</link><guid>g1</guid><pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate><description>First</description></item>
            <item><title>Two</title><link>https://example.com/two</link></item>
            </channel></rss>"#;
        let base = Url::parse("http://127.0.0.1:9/feeds/wire.xml").unwrap();
        let p = parse(xml, &base).unwrap();
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.entries[0].id, "g1");
        assert_eq!(
            p.entries[0].link.as_ref().unwrap().as_str(),
            "http://127.0.0.1:9/pages/one.html"
        );
        assert!(p.entries[0].published.is_some());
        assert!(!p.entries[1].id.is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        let base = Url::parse("http://127.0.0.1:9/f.xml").unwrap();
        assert!(parse(b"\x00\x01not xml at all", &base).is_err());
    }
}
