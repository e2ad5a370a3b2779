//! Feed bytes → entries: any bytes give entries or an error, never a panic;
//! every entry has an identity and only http(s) links.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `feed::parse` catches a panic inside the feed parser and reports it as
    // the feed's error; libFuzzer's hook would abort on it before it is
    // caught. A panic that escapes still aborts the run: libfuzzer-sys
    // catches it around this closure.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
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
