//! The hard cases of claim extraction, one rule each, on sentences written
//! for these tests.

use super::*;

fn claims_of(text: &str) -> Vec<(String, String, Stance)> {
    let p = Profile::builtin();
    let a = analyze_seed(&p, text);
    let mut v: Vec<_> = a
        .claims
        .into_iter()
        .map(|c| (c.actor, c.topic, c.stance))
        .collect();
    v.sort();
    v
}

fn one(actor: &str, topic: &str, stance: Stance) -> Vec<(String, String, Stance)> {
    vec![(actor.to_string(), topic.to_string(), stance)]
}

use Stance::{Conditional as C, Opposes as O, Supports as S};

#[test]
fn plain_rejection_and_support() {
    assert_eq!(
        claims_of("Moscow flatly rejects any European peacekeepers in Ukraine."),
        one("russia", "foreign_force", O)
    );
    assert_eq!(
        claims_of(
            "The Dutch are irrelevant here; Warsaw strongly backs the reassurance force for Ukraine."
        ),
        one("poland", "foreign_force", S)
    );
}

#[test]
fn negation_scope() {
    // a negated refusal of the hedging kind is openness
    assert_eq!(
        claims_of("Berlin has not ruled out sending German soldiers to Ukraine, a spokesman said."),
        one("germany", "own_troops", C)
    );
    // a negated rejection is acceptance
    assert_eq!(
        claims_of("Kyiv has not rejected the proposed cap on its army."),
        one("ukraine", "army_cap", S)
    );
    // "no longer" negates
    assert_eq!(
        claims_of("Washington no longer supports Ukraine's NATO membership."),
        one("us", "nato_membership", O)
    );
    // "not only" is no negation
    assert_eq!(
        claims_of(
            "The Kremlin's plan called for Ukraine not only to cede territory but to disarm."
        ),
        one("russia", "territorial_concessions", S)
    );
}

#[test]
fn softeners_and_openness_are_conditional() {
    assert_eq!(
        claims_of("Moscow could accept a neutral peacekeeping force in Ukraine."),
        one("russia", "foreign_force", C)
    );
    assert_eq!(
        claims_of("Rome is open to joining a collective security guarantee for Ukraine."),
        one("italy", "security_guarantees", C)
    );
    assert_eq!(
        claims_of("London is considering how to make more British troops available, Healey said."),
        one("uk", "own_troops", C)
    );
}

#[test]
fn stated_conditions() {
    assert_eq!(
        claims_of(
            "Paris will send troops to Ukraine only if a ceasefire holds for a month, Macron said."
        ),
        one("france", "own_troops", C)
    );
    assert_eq!(
        claims_of(
            "Kyiv could shelve its NATO bid in exchange for binding guarantees from Washington."
        ),
        one("ukraine", "nato_membership", C)
    );
    // the condition names another actor's act: no claim for that actor
    let c = claims_of(
        "The EU would fund Ukraine's security guarantees provided that the United States backs them too.",
    );
    assert!(!c.iter().any(|x| x.0 == "us"), "{c:?}");
    // "if Russia attacks" is a guarantee's trigger, not a condition
    assert_eq!(
        claims_of(
            "Britain would respond militarily if Russia attacked Ukraine again, Starmer said."
        ),
        one("uk", "security_guarantees", S)
    );
}

#[test]
fn passive_voice_takes_the_agent() {
    assert_eq!(
        claims_of("A ceiling on Ukraine's armed forces has been rejected by Kyiv."),
        one("ukraine", "army_cap", O)
    );
    assert_eq!(
        claims_of("The idea of sending Polish soldiers to Ukraine was dismissed by Warsaw."),
        one("poland", "own_troops", O)
    );
}

#[test]
fn holders_outside_the_subject() {
    assert_eq!(
        claims_of("Kyiv's refusal to cede territory has frozen the talks."),
        one("ukraine", "territorial_concessions", O)
    );
    assert_eq!(
        claims_of("Details of the guarantee Washington offered to Ukraine remain secret."),
        one("us", "security_guarantees", S)
    );
    assert_eq!(
        claims_of("For Rome, sending Italian soldiers to Ukraine is out of the question."),
        one("italy", "own_troops", O)
    );
}

#[test]
fn reported_speech_attributes_the_position_to_its_holder() {
    let p = Profile::builtin();
    let a = analyze_seed(
        &p,
        "Trump said Putin had agreed to accept European troops in Ukraine.",
    );
    assert_eq!(a.claims.len(), 1);
    assert_eq!(
        (a.claims[0].actor.as_str(), a.claims[0].speaker.as_str()),
        ("russia", "us")
    );
    assert_eq!(a.claims[0].stance, S);
    // a demand voiced by the speaker
    assert_eq!(
        claims_of("Kyiv must withdraw from the rest of Donetsk, Peskov told reporters."),
        one("russia", "territorial_concessions", S)
    );
}

#[test]
fn denials_repeat_the_denied_position() {
    assert_eq!(
        claims_of("Peskov denied that Moscow had accepted Western troops in Ukraine."),
        one("russia", "foreign_force", O)
    );
    assert_eq!(
        claims_of("Zelensky denied that Kyiv had abandoned its goal of joining NATO."),
        one("ukraine", "nato_membership", S)
    );
    // a denial of a report that states no clear position yields nothing
    assert_eq!(
        claims_of(
            "The White House rejected a report that its guarantee was conditional on Kyiv ceding land."
        ),
        vec![]
    );
}

#[test]
fn hypotheticals_questions_and_analysts_are_not_claims() {
    for s in [
        "Would London really send troops if the ceasefire collapsed?",
        "If Washington walked away, the guarantees would mean little to Moscow.",
        "Analysts say the Kremlin will never accept European peacekeepers.",
        "Ukraine should refuse any territorial concession, a former ambassador argues.",
        "It remains unclear whether Turkey would still lead the naval mission.",
        "Trump declined to say whether American troops would take part.",
    ] {
        assert_eq!(claims_of(s), vec![], "{s}");
    }
}

#[test]
fn history_is_not_a_claim() {
    for s in [
        "In 1994 Ukraine gave up its nuclear arsenal in return for assurances from Washington and Moscow.",
        "Back then, Germany and France blocked Ukraine's path to NATO membership.",
        "Zelensky had once said NATO membership was the only guarantee that would work.",
    ] {
        assert_eq!(claims_of(s), vec![], "{s}");
    }
    // a trailing participle with a year does not date the main clause
    assert_eq!(
        claims_of(
            "Rutte said Ukraine's path to NATO membership is irreversible, repeating a pledge from 2024."
        ),
        one("nato", "nato_membership", S)
    );
}

#[test]
fn pronouns_and_role_nouns_carry_over() {
    assert_eq!(
        claims_of(
            "Giorgia Meloni met reporters in Rome. She said Italy will not send soldiers to Ukraine."
        ),
        one("italy", "own_troops", O)
    );
    assert_eq!(
        claims_of(
            "Friedrich Merz spoke after the summit. The chancellor said Germany backs the multinational force."
        ),
        one("germany", "foreign_force", S)
    );
}

#[test]
fn several_claims_in_one_sentence() {
    let c = claims_of(
        "Warsaw will not send troops but would host the logistics hub for the force, Tusk said.",
    );
    assert!(
        c.contains(&("poland".into(), "own_troops".into(), O)),
        "{c:?}"
    );
    assert!(
        c.contains(&("poland".into(), "foreign_force".into(), S)),
        "{c:?}"
    );
    let c = claims_of(
        "Moscow rejects any foreign troops in Ukraine, whereas Kyiv insists such a force is essential.",
    );
    assert!(
        c.contains(&("russia".into(), "foreign_force".into(), O)),
        "{c:?}"
    );
}

#[test]
fn off_topic_uses_of_the_same_words_yield_nothing() {
    let p = Profile::builtin();
    let gaza = "Turkey offers troops for Gaza force\n\nAnkara is ready to send soldiers to the stabilisation force in Gaza, Erdogan said.\nIsrael objects to any Turkish role.";
    let a = analyze(&p, "Turkey offers troops for Gaza force", gaza);
    assert!(!a.relevant);
    assert!(a.claims.is_empty());
}

#[test]
fn boilerplate_lines_yield_nothing() {
    let p = Profile::builtin();
    let body = "KYIV, 3 March 2026\n\nZelensky met European envoys in Kyiv to discuss security guarantees.\n\nRead more: Kremlin rules out European peacekeepers in Ukraine\nPhoto: Meloni says Italy will not send troops. (Reuters)\n© 2026 Wire. All rights reserved.";
    let a = analyze(&p, "Envoys meet in Kyiv", body);
    assert!(a.relevant);
    assert!(a.claims.is_empty(), "{:?}", a.claims);
}

#[test]
fn stale_articles_are_not_news() {
    let p = Profile::builtin();
    let body = "ARCHIVE — first published on 17 December 2021.\n\nMoscow demanded security guarantees that NATO would never admit Ukraine.";
    let a = analyze(&p, "Russia's demands", body);
    assert!(!a.relevant);
}

#[test]
fn opinion_pieces_are_relevant_but_claim_nothing() {
    let p = Profile::builtin();
    let body = "OPINION | The Review\n\nBy A. Columnist\n\nThe Kremlin will never accept European troops in Ukraine, and Kyiv knows it.";
    let a = analyze(&p, "Opinion: the force nobody wants", body);
    assert!(a.relevant);
    assert!(a.claims.is_empty());
}

#[test]
fn dates_in_headers() {
    assert_eq!(
        find_date("KYIV, Dec 14, 2025"),
        NaiveDate::from_ymd_opt(2025, 12, 14)
    );
    assert_eq!(
        find_date("ROME, 7 January 2026"),
        NaiveDate::from_ymd_opt(2026, 1, 7)
    );
    assert_eq!(
        find_date("BLACK SEA MONITOR | Ukraine | 24.12.2025"),
        NaiveDate::from_ymd_opt(2025, 12, 24)
    );
    assert_eq!(
        find_date("2025-12-03 14:58:00"),
        NaiveDate::from_ymd_opt(2025, 12, 3)
    );
    assert_eq!(find_date("no date here"), None);
}

/// Inputs the fuzzer found crashing, kept as regression cases: each is
/// analysed and compared with the baseline without a panic.
#[test]
fn fuzz_regressions_analyse_without_panic() {
    let engine = crate::engine::Engine::builtin();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/analyze");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        engine.compare(&crate::article::Article::from_text(&text));
        n += 1;
    }
    assert!(n > 0);
}
