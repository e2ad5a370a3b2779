//! Alert rendering from arbitrary strings: always a mail whose header names
//! are exactly the expected ones (nothing from the text reaches a header of
//! its own) and whose only recipient is the configured one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stancewatch::analyze::Stance;
use stancewatch::compare::{Shift, ShiftKind};
use stancewatch::notify::render::{render, Alert, Source};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut f = text.split('\u{0}').map(str::to_string);
    let mut next = || f.next().unwrap_or_default();
    let source = Source {
        title: next(),
        outlet: next(),
        link: Some(next()).filter(|l| !l.is_empty()),
        published: Some(next()),
    };
    let shift = Shift {
        actor: next(),
        topic: next(),
        from: Some(Stance::Opposes),
        to: Stance::Conditional,
        kind: ShiftKind::Shift,
        speaker: next(),
        confidence: 0.9,
        sentence: next(),
        baseline_sentence: next(),
        diff: next(),
        stance_words: vec![next()],
        baseline_stance_words: vec![next()],
        marked_diff: next(),
        others: Vec::new(),
    };
    let corroborating = vec![next(), next()];
    let shifts = vec![shift];
    let alert = Alert {
        source: &source,
        shifts: &shifts,
        changes_before: 0,
        matrix: None,
        corroborating: &corroborating,
    };
    let to = vec!["analyst@localhost".to_string()];
    let r = render(&alert, "stancewatch@localhost", &to, chrono::Utc::now())
        .expect("any text renders");
    let raw = String::from_utf8_lossy(&r.raw);
    let head = raw.split("\r\n\r\n").next().unwrap();
    let mut names: Vec<String> = head
        .split("\r\n")
        .filter(|l| !l.starts_with(' ') && !l.starts_with('\t'))
        .map(|l| l.split(':').next().unwrap().to_ascii_lowercase())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "content-type",
            "date",
            "from",
            "in-reply-to",
            "message-id",
            "mime-version",
            "references",
            "subject",
            "to",
            "x-stancewatch-shift"
        ],
        "{head}"
    );
    assert!(head.contains("To: analyst@localhost\r\n"), "{head}");
    assert!(!head.contains('\n') || !head.replace("\r\n", "").contains('\n'));
});
