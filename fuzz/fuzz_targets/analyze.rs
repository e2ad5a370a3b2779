//! Text → claims → shifts against the built-in baseline: never a panic,
//! every claim names a known actor and topic, every shift has a diff.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stancewatch::article::Article;
use stancewatch::engine::Engine;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(Engine::builtin)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let e = engine();
    let (analysis, shifts) = e.compare(&Article::from_text(&text));
    for c in &analysis.claims {
        assert!(e.profile.actors.iter().any(|a| a.id == c.actor), "{}", c.actor);
        assert!(e.profile.topics.iter().any(|t| t.id == c.topic), "{}", c.topic);
        assert!((0.0..=1.0).contains(&c.confidence));
    }
    for s in &shifts {
        assert!(!s.sentence.is_empty());
        assert!(Some(s.to) != s.from);
    }
});
