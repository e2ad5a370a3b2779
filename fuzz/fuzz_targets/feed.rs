//! Feed bytes → entries: any bytes give entries or an error, never a panic;
//! every entry has an identity and only http(s) links.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://feeds.example/news/rss.xml").unwrap();
    if let Ok(parsed) = stancewatch::feed::parse(data, &base) {
        for e in &parsed.entries {
            assert!(!e.id.is_empty());
            assert!(!e.content_hash.is_empty());
            if let Some(l) = &e.link {
                assert!(matches!(l.scheme(), "http" | "https"), "{l}");
            }
        }
    }
});
