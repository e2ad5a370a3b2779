//! Tests of the stages, each on sentences written for the test.

use super::attribution::{self, Context, CueKind, HolderVia};
use super::judge::{Rules, StanceJudge};
use super::lang::Class;
use super::sentence::{ClauseKind, Governor, Sentence, Via};
use super::*;
use crate::profile::Profile;

fn profile() -> Profile {
    Profile::builtin()
}

/// The claims of one sentence, as (actor, topic, stance).
fn claims(text: &str) -> Vec<(String, String, String)> {
    let p = profile();
    let a = analyze_seed(&p, &Rules::builtin(), text);
    let mut v: Vec<(String, String, String)> = a
        .claims
        .into_iter()
        .map(|c| (c.actor, c.topic, c.stance.as_str().to_string()))
        .collect();
    v.sort();
    v
}

fn has(text: &str, actor: &str, topic: &str, stance: &str) -> bool {
    claims(text).contains(&(actor.into(), topic.into(), stance.into()))
}

fn read(text: &str) -> Sentence {
    let p = profile();
    let lang = p.langs.detect(text);
    let mut s = Sentence::read(&p, &p.langs.packs[lang], text);
    attribution::resolve_references(&mut s, &Context::default());
    s
}

#[test]
fn gapped_phrases_match_across_the_words_between() {
    let s = read(
        "Die Regierung in Rom lehnt eine Obergrenze für die ukrainische Armee entschieden ab.",
    );
    let opp = s.marks.of(Class::Opposes);
    assert!(opp.iter().any(|x| x.head < x.end), "{opp:?}");
    // the words in the gap are not the cue's own
    let g = opp.iter().find(|x| x.head < x.end).unwrap();
    assert!(g.holds(g.start) && !g.holds(g.head) && g.holds(g.end - 1));
}

#[test]
fn elided_words_are_one_token_in_text_and_in_phrases() {
    let t = text::tokenize("L'Italie n'enverra pas de soldats, dell'Ucraina.");
    let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
    assert!(
        norms.contains(&"l'") && norms.contains(&"n'") && norms.contains(&"dell'"),
        "{norms:?}"
    );
    // English contractions keep their own rule
    let t = text::tokenize("Kyiv's answer: we don't accept it.");
    let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
    assert!(norms.contains(&"'s") && norms.contains(&"n't"), "{norms:?}");
}

#[test]
fn folding_handles_sharp_s_and_ligatures() {
    assert_eq!(
        text::fold("Außenminister Œuvre Æther"),
        "aussenminister oeuvre aether"
    );
    let t = text::tokenize("Großbritannien");
    assert_eq!(t[0].norm, "grossbritannien");
}

#[test]
fn clauses_know_conditions_content_and_who_governs_it() {
    let s = read("Oslo officials said that Norway would send troops only if parliament agreed.");
    let kinds: Vec<ClauseKind> = s.clauses.iter().map(|c| c.kind).collect();
    assert!(
        kinds.contains(&ClauseKind::Content) && kinds.contains(&ClauseKind::Condition),
        "{kinds:?}"
    );
    let content = s
        .clauses
        .iter()
        .find(|c| c.kind == ClauseKind::Content)
        .unwrap();
    assert_eq!(content.gov, Governor::Reporting);
    let s = read("The Kremlin demanded that Kyiv pull its army out of Donetsk.");
    let content = s
        .clauses
        .iter()
        .find(|c| c.kind == ClauseKind::Content)
        .unwrap();
    assert_eq!(content.gov, Governor::Cue);
}

#[test]
fn adjectives_speak_own_forces_or_merely_modify() {
    let s =
        read("Polish diplomats said American guarantees matter, and Turkish soldiers may come.");
    let via = |actor: &str| {
        let p = profile();
        s.mentions
            .iter()
            .find(|m| p.actors[m.actor].id == actor)
            .map(|m| m.via)
    };
    assert_eq!(via("poland"), Some(Via::Speaker));
    assert_eq!(via("us"), Some(Via::Modifier));
    assert_eq!(via("turkey"), Some(Via::Owner));
}

#[test]
fn pairs_match_in_either_order_and_not_across_a_comma() {
    let s = read("Warsaw said soldiers would not be sent there.");
    assert!(!s.topics.is_empty());
    let s = read("Ukraine has strong armed forces, foreign partners say.");
    let p = profile();
    assert!(
        !s.topics
            .iter()
            .any(|t| p.topics[t.topic].id == "foreign_force"),
        "{:?}",
        s.topics
    );
}

#[test]
fn the_addressee_of_a_demand_holds_nothing() {
    assert!(has(
        "Washington urged Kyiv to withdraw its forces from Donetsk, officials said.",
        "us",
        "territorial_concessions",
        "supports"
    ));
    assert!(
        !claims("Washington urged Kyiv to withdraw its forces from Donetsk, officials said.")
            .iter()
            .any(|c| c.0 == "ukraine")
    );
}

#[test]
fn a_passive_agent_holds_the_position() {
    assert!(has(
        "Any deployment of Polish soldiers in Ukraine was dismissed by Warsaw on Friday.",
        "poland",
        "own_troops",
        "opposes"
    ));
}

#[test]
fn negation_reaches_the_cue_and_rule_out_reads_as_an_opening_when_negated() {
    assert!(has(
        "Berlin has not ruled out sending soldiers to a multinational force in Ukraine.",
        "germany",
        "own_troops",
        "conditional"
    ));
    assert!(has(
        "Rome will never send soldiers to Ukraine, the defence minister said.",
        "italy",
        "own_troops",
        "opposes"
    ));
    // "not only" negates nothing
    assert!(has(
        "Paris not only backs the multinational force for Ukraine but will lead it.",
        "france",
        "foreign_force",
        "supports"
    ));
}

#[test]
fn a_stated_condition_makes_it_conditional_and_timing_does_not() {
    assert!(has(
        "London will deploy soldiers to Ukraine only if Washington provides air cover.",
        "uk",
        "own_troops",
        "conditional"
    ));
    assert!(has(
        "London will deploy soldiers to Ukraine once a ceasefire is signed.",
        "uk",
        "own_troops",
        "supports"
    ));
    // what sets a guarantee off is no condition on it
    assert!(has(
        "Paris pledged security guarantees for Ukraine that would apply if Russia attacks again.",
        "france",
        "security_guarantees",
        "supports"
    ));
}

#[test]
fn a_denial_is_the_deniers_opposition_and_its_report_yields_nothing_else() {
    let c = claims("Beijing denied reports that it would send troops to Ukraine.");
    assert!(
        c.contains(&("china".into(), "own_troops".into(), "opposes".into())),
        "{c:?}"
    );
    assert!(!c.iter().any(|x| x.2 == "supports"), "{c:?}");
}

#[test]
fn a_question_gives_nothing_unless_answered_no() {
    assert!(claims("Would Moscow ever accept European peacekeepers in Ukraine?").is_empty());
    let p = profile();
    let a = analyze(
        &p,
        "",
        "Peskov asked whether foreign troops in Ukraine could keep the peace? Absolutely not.",
    );
    assert!(
        a.claims
            .iter()
            .any(|c| c.actor == "russia" && c.stance == Stance::Opposes),
        "{:?}",
        a.claims
    );
}

#[test]
fn history_and_analysts_are_nobodys_position_today() {
    assert!(claims("In 2008 the alliance promised Ukraine NATO membership.").is_empty());
    assert!(
        claims("Analysts said Berlin would eventually send soldiers to the force in Ukraine.")
            .is_empty()
    );
}

#[test]
fn reported_speech_keeps_holder_and_speaker_apart() {
    let p = profile();
    let a = analyze_seed(
        &p,
        &Rules::builtin(),
        "Zelensky said Washington had agreed to back a European force in Ukraine.",
    );
    let c = a
        .claims
        .iter()
        .find(|c| c.actor == "us" && c.topic == "foreign_force")
        .expect("a US claim");
    assert_eq!(c.speaker, "ukraine");
}

#[test]
fn own_forces_name_their_owner_and_refusals_stay_with_them() {
    let c = claims("Italian soldiers will not be part of the peacekeeping contingent in Ukraine.");
    assert!(
        c.contains(&("italy".into(), "own_troops".into(), "opposes".into())),
        "{c:?}"
    );
    assert!(!c.iter().any(|x| x.1 == "foreign_force"), "{c:?}");
}

#[test]
fn a_coalition_sending_troops_is_about_the_force() {
    let c = claims("The coalition of the willing is finalising plans to deploy troops to Ukraine.");
    assert!(c.iter().all(|x| x.1 != "own_troops"), "{c:?}");
}

#[test]
fn verb_final_german_takes_the_subject_not_the_recipient() {
    let c = claims("Der Kreml hat die Sicherheitsgarantien der USA für die Ukraine abgelehnt.");
    assert!(
        c.contains(&(
            "russia".into(),
            "security_guarantees".into(),
            "opposes".into()
        )),
        "{c:?}"
    );
    assert!(!c.iter().any(|x| x.0 == "us"), "{c:?}");
}

#[test]
fn french_and_italian_negation() {
    assert!(has(
        "L'Italie n'enverra pas de soldats en Ukraine, a déclaré la présidente du Conseil.",
        "italy",
        "own_troops",
        "opposes"
    ));
    assert!(has(
        "La Polonia non invierà mai soldati in Ucraina, ha detto il premier Tusk.",
        "poland",
        "own_troops",
        "opposes"
    ));
}

#[test]
fn lists_after_a_preposition_hold_nothing() {
    let c = claims(
        "Talks between Washington, Moscow and Kyiv on security guarantees resumed on Monday.",
    );
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn the_speakers_must_is_the_speakers_demand() {
    let c = claims("Kyiv must leave the Donetsk region, Putin said on Friday.");
    assert!(
        c.contains(&(
            "russia".into(),
            "territorial_concessions".into(),
            "supports".into()
        )),
        "{c:?}"
    );
    assert!(!c.iter().any(|x| x.0 == "ukraine"), "{c:?}");
}

#[test]
fn cues_compose_when_one_governs_another() {
    let p = profile();
    let s = read("Moscow refused to consider any Western troops in Ukraine.");
    let r = attribution::readings(&p, &s, &Context::default(), false);
    let ff = r
        .iter()
        .find(|r| p.topics[r.topic].id == "foreign_force")
        .unwrap();
    assert_eq!(ff.via, HolderVia::Before);
    assert_eq!(
        Rules::builtin().judge(&s, ff).map(|v| v.stance),
        Some(Stance::Opposes)
    );
    let s = read("Ankara refused to rule out sending troops to Ukraine.");
    let r = attribution::readings(&p, &s, &Context::default(), false);
    let ot = r
        .iter()
        .find(|r| p.topics[r.topic].id == "own_troops")
        .unwrap();
    assert_eq!(ot.cue.map(|c| c.kind), Some(CueKind::RuleOut));
    assert_eq!(
        Rules::builtin().judge(&s, ot).map(|v| v.stance),
        Some(Stance::Conditional)
    );
}

#[test]
fn the_linear_judge_reads_the_same_readings() {
    let p = profile();
    let s = read("Warsaw firmly rejected any plan to send Polish soldiers to Ukraine.");
    let r = attribution::readings(&p, &s, &Context::default(), false);
    let lin = linear::Linear::builtin();
    assert!(
        r.iter()
            .any(|r| lin.judge(&s, r).map(|v| v.stance) == Some(Stance::Opposes))
    );
}

#[test]
fn a_long_unpunctuated_run_is_read_in_pieces() {
    let p = profile();
    let long = "Ukraine Kyiv troops guarantees ".repeat(4000);
    let a = analyze(&p, "t", &long);
    let _ = a.relevant;
    assert!(pieces(&long).all(|x| x.len() <= MAX_SENTENCE));
}

#[test]
fn a_negator_before_coordinated_subjects_negates_each() {
    for text in [
        "The minister said that neither the Dutch government nor the European Union has plans to send troops to Ukraine.",
        "Der Minister sagte, dass weder die NATO noch die Europäische Union Pläne haben, Soldaten in die Ukraine zu schicken.",
        "Le ministre a dit que ni la Pologne ni l'OTAN ne comptent envoyer des soldats en Ukraine.",
    ] {
        let c = claims(text);
        assert!(!c.iter().any(|x| x.2 == "supports"), "{text}: {c:?}");
        assert!(c.iter().any(|x| x.2 == "opposes"), "{text}: {c:?}");
    }
}

#[test]
fn von_and_da_mark_an_agent_only_in_a_passive() {
    // a demand made of someone: "von" names whom it is asked of
    assert!(!has(
        "Moskau verlangte von der Ukraine den Verzicht auf den NATO-Beitritt.",
        "ukraine",
        "nato_membership",
        "supports"
    ));
    // a passive: "da" names who acts
    let s = read("Le garanzie per l'Ucraina sono state respinte dalla Polonia.");
    let r = attribution::readings(&profile(), &s, &Context::default(), false);
    assert!(
        r.iter().any(|r| r.via == HolderVia::Agent),
        "{:?}",
        r.iter().map(|r| r.via).collect::<Vec<_>>()
    );
}

#[test]
fn the_second_half_of_a_compound_is_no_cue() {
    let s = read("Officials discussed Congress-approved guarantees for Ukraine.");
    let cues = s.marks.of(Class::Supports);
    assert!(cues.iter().any(|c| s.toks[c.start].norm == "approved"));
    let r = attribution::readings(&profile(), &s, &Context::default(), false);
    assert!(r.iter().all(|r| r.cue.is_none()), "{r:?}");
}

#[test]
fn a_stance_noun_belongs_to_its_adjective_or_genitive() {
    // the owner of the stance noun holds it, not the one who reports it
    for text in [
        "Carney said that American backing for the security guarantees would be settled within a week.",
        "Le ministre a dit que le soutien américain aux garanties de sécurité sera acquis.",
        "Der Minister lobte die Zusagen der USA für Sicherheitsgarantien.",
    ] {
        assert!(
            has(text, "us", "security_guarantees", "supports"),
            "{text}: {:?}",
            claims(text)
        );
    }
    // the first half of a compound is no genitive owner
    let c = claims("Moskau bekräftigte seine Ablehnung der NATO-Erweiterung.");
    assert!(!c.iter().any(|x| x.0 == "nato"), "{c:?}");
    // a verb with "of" after it is no noun: "stay out of" names no holder
    let c = claims("The president said American troops will stay out of Ukraine.");
    assert!(!c.iter().any(|x| x.0 == "ukraine"), "{c:?}");
}

#[test]
fn what_a_document_says_is_held_by_its_authors_in_the_sentences_after_it() {
    let text = "Belgien, Polen und Italien haben einen gemeinsamen Entwurf vorgelegt. \
                Die ukrainische Armee soll demnach auf 900.000 Soldaten begrenzt werden.";
    for actor in ["poland", "italy"] {
        assert!(
            has(text, actor, "army_cap", "supports"),
            "{actor}: {:?}",
            claims(text)
        );
    }
    // too far on, the document no longer speaks
    let text = "Polen hat einen Entwurf vorgelegt. Es regnete. Der Wind drehte. \
                Die Sonne schien. Die ukrainische Armee soll auf 900.000 Soldaten begrenzt werden.";
    assert!(
        !has(text, "poland", "army_cap", "supports"),
        "{:?}",
        claims(text)
    );
}

#[test]
fn what_one_actor_expects_of_another_is_a_forecast() {
    let text =
        "Polish diplomats believe Russia will accept Western security guarantees for Ukraine.";
    assert!(
        !has(text, "russia", "security_guarantees", "supports"),
        "{:?}",
        claims(text)
    );
    // one's own belief is one's position
    let text = "Poland believes that security guarantees for Ukraine are essential.";
    assert!(
        has(text, "poland", "security_guarantees", "supports"),
        "{:?}",
        claims(text)
    );
}

#[test]
fn the_headline_is_read_at_a_discount() {
    let p = profile();
    let claim = |title: &str, body: &str| {
        super::analyze(&p, title, body)
            .claims
            .into_iter()
            .find(|c| c.actor == "poland" && c.topic == "own_troops")
    };
    let line = "Poland rules out sending troops to Ukraine";
    let other = "The minister spoke in Warsaw on Monday about the war.";
    let head = claim(line, other).expect("the headline's claim");
    let body = claim("News", &format!("{line}.")).expect("the body's claim");
    assert_eq!(head.stance, Stance::Opposes);
    assert_eq!(head.sentence, line);
    let want = (body.confidence * HEADLINE_WEIGHT * 100.0).round() / 100.0;
    assert!((head.confidence - want).abs() <= 0.011, "{head:?} {body:?}");
    // a body that opens with the headline is read once, as body
    let c = claim(line, &format!("{line}, the minister said.")).unwrap();
    assert_ne!(c.sentence, line);
    assert!(c.confidence > head.confidence, "{c:?}");
}

#[test]
fn an_act_under_a_modal_is_an_opening() {
    assert!(has(
        "Norway said Poland may contribute troops to a peacekeeping force in Ukraine.",
        "poland",
        "own_troops",
        "conditional"
    ));
    assert!(has(
        "Poland will contribute troops to a peacekeeping force in Ukraine.",
        "poland",
        "own_troops",
        "supports"
    ));
}

#[test]
fn german_reported_speech_keeps_its_verbs() {
    for text in [
        "Der Minister sagte, Polen lehne die Entsendung eigener Soldaten in die Ukraine ab.",
        "Der Minister sagte, Polen schließe die Entsendung eigener Soldaten in die Ukraine aus.",
    ] {
        assert!(
            has(text, "poland", "own_troops", "opposes"),
            "{text}: {:?}",
            claims(text)
        );
    }
}

#[test]
fn a_separable_verb_does_not_reach_past_its_clause() {
    // "stellen, ist aber bereit": the particle belongs to the next clause
    let s = read("Polen wird keine Soldaten stellen, ist aber bereit, Flugzeuge zu schicken.");
    assert!(
        s.marks
            .of(Class::Supports)
            .iter()
            .all(|x| x.head == x.end || !(x.start..x.end).any(|k| s.toks[k].norm == ",")),
        "{:?}",
        s.marks.of(Class::Supports)
    );
    // a relative clause inside the gap is still inside the verb's clause
    let s = read("Polen lehnt den Plan, den Paris vorschlägt, entschieden ab.");
    assert!(
        s.marks.of(Class::Opposes).iter().any(|x| x.head < x.end),
        "{:?}",
        s.marks.of(Class::Opposes)
    );
}

#[test]
fn a_commitment_not_made_is_no_stance() {
    let text = "Poland did not sign the declaration on security guarantees for Ukraine.";
    let c = claims(text);
    assert!(
        !c.iter()
            .any(|x| x.0 == "poland" && x.1 == "security_guarantees"),
        "{c:?}"
    );
    // a refusal is one
    assert!(has(
        "Poland refused to sign the declaration on security guarantees for Ukraine.",
        "poland",
        "security_guarantees",
        "opposes"
    ));
}

#[test]
fn deploying_forces_named_as_everyones_is_the_force() {
    let c =
        claims("Poland backs the deployment of multinational troops in Ukraine after a ceasefire.");
    assert!(
        c.contains(&("poland".into(), "foreign_force".into(), "supports".into())),
        "{c:?}"
    );
    assert!(!c.iter().any(|x| x.1 == "own_troops"), "{c:?}");
    // sending peacekeepers is still sending one's own
    assert!(has(
        "Poland will send peacekeepers to Ukraine after a ceasefire.",
        "poland",
        "own_troops",
        "supports"
    ));
}
