//! A corpus of malformed and unusual feeds: every one yields entries or a
//! clear error, never a panic, a hang or a blow-up; and a whole pass over
//! all of them on a loopback server reports each as entries or a per-feed
//! error.

use std::time::{Duration, Instant};

use reqwest::Url;
use stancewatch::feed::{self, Parsed};

use crate::support::*;

fn base() -> Url {
    Url::parse("https://news.example/feeds/world.xml").unwrap()
}

fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let start = Instant::now();
    let r = feed::parse(bytes, &base());
    // a guard against quadratic blow-ups, far above any sane parse time
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "parsing took {:?}",
        start.elapsed()
    );
    r
}

fn entries(bytes: &[u8]) -> Parsed {
    match parse(bytes) {
        Ok(p) => p,
        Err(e) => panic!("expected entries, got {e}"),
    }
}

fn rss2(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>W</title><link>https://news.example/</link><description>d</description>{items}</channel></rss>"
    )
}

/// The corpus: (name, bytes, what is expected).
enum Expect {
    /// At least this many entries.
    Entries(usize),
    /// Entries or an error, as long as it is clean.
    Either,
}

fn corpus() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let latin1_title: Vec<u8> = {
        let mut v = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>W</title><item><title>Caf".to_vec();
        v.push(0xE9);
        v.extend_from_slice(b" in Kyiv</title><link>/a</link></item></channel></rss>");
        v
    };
    let utf16: Vec<u8> = {
        let text = rss2("<item><title>UTF-16 item</title><link>/u16</link></item>")
            .replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
        let mut v = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    };
    let utf8_bom: Vec<u8> = {
        let mut v = vec![0xEF, 0xBB, 0xBF];
        v.extend_from_slice(rss2("<item><title>BOM</title><link>/bom</link></item>").as_bytes());
        v
    };
    let invalid_utf8: Vec<u8> = {
        let mut v =
            rss2("<item><title>Zürich — bad XX bytes</title><link>/bad</link></item>").into_bytes();
        let at = v.windows(2).position(|w| w == b"XX").unwrap();
        v[at] = 0xC3;
        v[at + 1] = 0x28;
        v
    };
    let wrong_declared = {
        // declared UTF-8, written in Windows-1252
        let mut v =
            rss2("<item><title>Smart QQquotesQQ</title><link>/w</link></item>").into_bytes();
        for quote in [0x93, 0x94] {
            let at = v.windows(2).position(|w| w == b"QQ").unwrap();
            v.splice(at..at + 2, [quote]);
        }
        v
    };
    let laughs = {
        let mut dtd = String::from("<!DOCTYPE rss [<!ENTITY lol \"lol\">");
        dtd.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">");
        for i in 2..10 {
            let p = i - 1;
            dtd.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&lol{p};").repeat(10)
            ));
        }
        dtd.push_str("]>");
        format!(
            "<?xml version=\"1.0\"?>{dtd}<rss version=\"2.0\"><channel><title>W</title><item><title>&lol9;</title><link>/l</link></item></channel></rss>"
        )
    };
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><rss version=\"2.0\"><channel><title>W</title><item><title>X &xxe; X</title><description>&xxe;</description><link>/x</link></item></channel></rss>";
    let cdata = rss2(
        "<item><title><![CDATA[Kyiv <b>talks</b> ]]]]><![CDATA[> resume]]></title><description><![CDATA[<script>alert(1)</script><p>Body</p><![CDATA[nested]]></description><link>/c</link></item>",
    );
    let huge_field = rss2(&format!(
        "<item><title>{}</title><description>{}</description><link>/h</link></item>",
        "Ukraine ".repeat(200_000),
        "<p>guarantees</p>".repeat(100_000)
    ));
    let thousands = rss2(
        &(0..5000)
            .map(|i| {
                format!("<item><title>Item {i}</title><link>/i/{i}</link><guid>g{i}</guid></item>")
            })
            .collect::<String>(),
    );
    let dates = rss2(
        &[
            "yesterday",
            "2026-13-45",
            "Mon, 32 Foo 2026 25:61:00 +9999",
            "",
            "0000-00-00T00:00:00Z",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "-0044-03-15",
            "1e308",
            "Tue, 10 Jun 2025 04:00:00 GMT",
        ]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!("<item><title>D{i}</title><link>/d/{i}</link><pubDate>{d}</pubDate></item>")
        })
        .collect::<String>(),
    );
    let links = rss2(
        "<item><title>js</title><link>javascript:alert(1)</link><guid>js</guid></item>\
         <item><title>data</title><link>data:text/html,hi</link><guid>data</guid></item>\
         <item><title>rel</title><link>../story/1.html</link></item>\
         <item><title>proto</title><link>//other.example/x</link></item>\
         <item><title>space</title><link>  /padded  </link></item>",
    );
    let html_titles = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>A</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>\
        <entry><id>urn:1</id><title type=\"html\">&lt;b&gt;Kyiv&lt;/b&gt; &amp;amp; Warsaw</title><link href=\"/e1\"/><updated>2026-01-01T00:00:00Z</updated></entry>\
        <entry><id>urn:2</id><title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><i>Berlin</i> talks</div></title><link href=\"/e2\"/><updated>2026-01-01T00:00:00Z</updated></entry>\
        </feed>";
    let rss091 = "<?xml version=\"1.0\"?><!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" \"http://my.netscape.com/publish/formats/rss-0.91.dtd\"><rss version=\"0.91\"><channel><title>W</title><link>https://news.example/</link><description>d</description><language>en</language><item><title>Old format</title><link>https://news.example/091</link><description>x</description></item></channel></rss>";
    let rss092 = "<?xml version=\"1.0\"?><rss version=\"0.92\"><channel><title>W</title><link>https://news.example/</link><description>d</description><item><title>Also old</title><link>https://news.example/092</link><enclosure url=\"https://news.example/a.mp3\" length=\"1\" type=\"audio/mpeg\"/></item></channel></rss>";
    let rss10 = "<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel rdf:about=\"https://news.example/\"><title>W</title><link>https://news.example/</link><description>d</description></channel><item rdf:about=\"https://news.example/10\"><title>RDF item</title><link>https://news.example/10</link><dc:date>2026-01-02T03:04:05Z</dc:date></item></rdf:RDF>";
    let atom03 = "<?xml version=\"1.0\"?><feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>W</title><modified>2026-01-01T00:00:00Z</modified><entry><title>Atom 0.3 entry</title><link rel=\"alternate\" type=\"text/html\" href=\"https://news.example/a03\"/><id>tag:news.example,2026:1</id><issued>2026-01-01T00:00:00Z</issued><modified>2026-01-01T00:00:00Z</modified></entry></feed>";
    let atom10 = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>W</title><id>urn:w</id><updated>2026-01-01T00:00:00Z</updated><entry><title>Atom 1.0 entry</title><link rel=\"alternate\" href=\"/a10\"/><id>urn:e1</id><updated>2026-01-01T00:00:00Z</updated><content type=\"html\">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>";
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"W","home_page_url":"https://news.example/","items":[{"id":"j1","url":"https://news.example/j1","title":"JSON item","content_html":"<p>Body</p>","date_published":"2026-01-01T00:00:00Z"},{"id":"j2","title":"No link","content_text":"Text only"}]}"#;
    let json_broken =
        r#"{"version":"https://jsonfeed.org/version/1.1","title":"W","items":[{"id":"#;
    let truncated = rss2("<item><title>Cut</title><link>/cut</link></item>");
    let truncated = truncated[..truncated.len() / 2].to_string();
    let deep = format!(
        "<rss version=\"2.0\"><channel>{}</channel></rss>",
        "<item>".repeat(200_000)
    );
    let empty_items = rss2("<item></item><item><title></title></item><item><guid></guid></item>");
    // a declaration that changes the encoding after white space, or a second
    // declaration after a comment: the XML parser underneath asserts on these
    let late_declaration: Vec<u8> = {
        let mut v = vec![b' '; 20_000];
        v.extend_from_slice(&latin1_title);
        v
    };
    let second_declaration: Vec<u8> = {
        let mut v = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><!--".to_vec();
        v.extend(std::iter::repeat_n(b'x', 9_000));
        v.extend_from_slice(b"-->");
        v.extend_from_slice(&latin1_title);
        v
    };
    vec![
        ("rss 0.91", rss091.into(), Entries(1)),
        ("rss 0.92", rss092.into(), Entries(1)),
        ("rss 1.0 (rdf)", rss10.into(), Entries(1)),
        ("rss 2.0 + latin-1 declared", latin1_title, Entries(1)),
        (
            "latin-1 declared after 20 KB of white space",
            late_declaration,
            Entries(1),
        ),
        (
            "a second declaration after a long comment",
            second_declaration,
            Entries(1),
        ),
        ("atom 0.3", atom03.into(), Entries(1)),
        ("atom 1.0", atom10.into(), Entries(1)),
        ("json feed 1.1", json.into(), Entries(2)),
        ("json feed, cut short", json_broken.into(), Either),
        ("utf-16 with bom", utf16, Either),
        ("utf-8 bom", utf8_bom, Entries(1)),
        ("invalid utf-8", invalid_utf8, Entries(1)),
        ("windows-1252 declared utf-8", wrong_declared, Entries(1)),
        ("billion laughs", laughs.into(), Either),
        ("external entity", xxe.into(), Either),
        ("cdata abuse", cdata.into(), Either),
        ("huge fields", huge_field.into(), Either),
        ("5000 entries", thousands.into(), Entries(5000)),
        ("broken dates", dates.into(), Entries(9)),
        ("relative and javascript links", links.into(), Entries(5)),
        ("html in titles", html_titles.into(), Entries(2)),
        ("truncated", truncated.into(), Either),
        ("200k-deep nesting", deep.into(), Either),
        ("empty items", empty_items.into(), Either),
        ("empty", Vec::new(), Either),
        ("not xml", b"\x00\x01\x02 hello".to_vec(), Either),
    ]
}

#[test]
fn every_corpus_feed_gives_entries_or_a_clear_error() {
    for (name, bytes, expect) in corpus() {
        let r = std::panic::catch_unwind(|| parse(&bytes));
        let r = r.unwrap_or_else(|_| panic!("{name}: panicked"));
        match &r {
            Ok(p) => println!("{name}: {} entries", p.entries.len()),
            Err(e) => println!("{name}: {e}"),
        }
        match (r, expect) {
            (Ok(p), Expect::Entries(n)) => {
                assert!(p.entries.len() >= n, "{name}: {} entries", p.entries.len())
            }
            (Err(e), Expect::Entries(_)) => panic!("{name}: {e}"),
            (Ok(_), Expect::Either) => {}
            (Err(e), Expect::Either) => {
                assert!(e.starts_with("not a feed"), "{name}: unclear error {e}")
            }
        }
        if let Ok(p) = parse(&bytes) {
            for e in &p.entries {
                assert!(!e.id.is_empty(), "{name}: an entry without identity");
                if let Some(l) = &e.link {
                    assert!(matches!(l.scheme(), "http" | "https"), "{name}: {l}");
                }
            }
        }
    }
}

#[test]
fn entity_tricks_expand_nothing_and_read_no_file() {
    let all = corpus();
    let get = |n: &str| all.iter().find(|c| c.0 == n).unwrap().1.clone();
    if let Ok(p) = parse(&get("billion laughs")) {
        for e in &p.entries {
            assert!(e.title.len() < 10_000, "entities were expanded");
        }
    }
    if let Ok(p) = parse(&get("external entity")) {
        for e in &p.entries {
            assert!(!e.title.contains("root:") && !e.summary.contains("root:"));
        }
    }
}

#[test]
fn links_resolve_or_are_dropped_and_titles_are_plain_text() {
    let all = corpus();
    let get = |n: &str| all.iter().find(|c| c.0 == n).unwrap().1.clone();
    let p = entries(&get("relative and javascript links"));
    let link = |t: &str| {
        p.entries
            .iter()
            .find(|e| e.title == t)
            .unwrap()
            .link
            .as_ref()
            .map(Url::to_string)
    };
    assert_eq!(link("js"), None);
    assert_eq!(link("data"), None);
    assert_eq!(
        link("rel").as_deref(),
        Some("https://news.example/story/1.html")
    );
    assert_eq!(link("proto").as_deref(), Some("https://other.example/x"));
    assert_eq!(
        link("space").as_deref(),
        Some("https://news.example/padded")
    );

    let p = entries(&get("html in titles"));
    let titles: Vec<&str> = p.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, vec!["Kyiv & Warsaw", "Berlin talks"]);

    let p = entries(&get("rss 2.0 + latin-1 declared"));
    assert_eq!(p.entries[0].title, "Café in Kyiv");
    // mislabelled: Windows-1252 bytes in a feed that says UTF-8
    let p = entries(&get("windows-1252 declared utf-8"));
    assert_eq!(p.entries[0].title, "Smart \u{201c}quotes\u{201d}");
    // in UTF-8 text, one stray byte costs one character, not the feed
    let p = entries(&get("invalid utf-8"));
    assert_eq!(p.entries[0].title, "Zürich — bad \u{fffd}( bytes");
    let p = entries(&get("atom 0.3"));
    assert_eq!(p.entries[0].title, "Atom 0.3 entry");
    assert!(p.entries[0].published.is_some());

    let p = entries(&get("broken dates"));
    // a well-formed date is read; broken ones leave the date empty
    assert!(p.entries.iter().any(|e| e.published.is_some()));
    assert!(p.entries.iter().filter(|e| e.published.is_none()).count() >= 5);
}

#[test]
fn a_pass_over_the_whole_corpus_reports_each_feed() {
    let http = HttpServer::start();
    let mut feeds = Vec::new();
    for (i, (_, bytes, _)) in corpus().into_iter().enumerate() {
        let path = format!("/corpus/{i}.xml");
        http.route(&path, Route::ok("application/xml", bytes));
        feeds.push(http.url(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    // alerts as files: this pass is about the feeds
    let cfg = dir.path().join("c.toml");
    let mut text = format!(
        "[state]\npath = \"{}\"\nkeep = \"36500d\"\n[email]\nfrom = \"sw@localhost\"\nto = [\"a@localhost\"]\nmaildir = \"{}\"\n[fetch]\ntimeout = \"5s\"\nmax_age = \"30000d\"\n",
        dir.path().join("s.db").display(),
        dir.path().join("mail").display()
    );
    for f in &feeds {
        text.push_str(&format!("[[feeds]]\nurl = \"{f}\"\n"));
    }
    std::fs::write(&cfg, text).unwrap();
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    // every feed counted: changed (entries) or failed (with its reason)
    let line = s.lines().find(|l| l.starts_with("feeds:")).unwrap();
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (polled, changed, failed) = (nums[0], nums[1], nums[4]);
    assert_eq!(polled, feeds.len(), "{s}");
    assert_eq!(changed + failed, feeds.len(), "{s}");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// Inputs the fuzzer found crashing (in the feed parser itself): each is a
/// clean per-feed error now.
#[test]
fn fuzz_regressions_are_clean_errors() {
    let dir = repo("tests/fixtures/fuzz/feed");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        if let Err(e) = parse(&bytes) {
            assert!(e.starts_with("not a feed"), "{e}");
        }
        n += 1;
    }
    assert!(n > 0);
}
