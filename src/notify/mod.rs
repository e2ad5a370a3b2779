//! Alerts: rendering (pure) and delivery (SMTP or `.eml` files).

pub mod mailer;
pub mod render;

use chrono::Utc;

use crate::analyze::Stance;
use crate::compare::{Shift, ShiftKind};
use crate::config::Email;

/// Sends a sample alert and describes what the server said.
pub async fn send_test(email: &Email) -> anyhow::Result<String> {
    let source = render::Source {
        title: "stancewatch test alert".into(),
        outlet: "stancewatch".into(),
        link: None,
        published: Some(Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()),
    };
    let shifts = [Shift {
        actor: "russia".into(),
        topic: "foreign_force".into(),
        from: Some(Stance::Opposes),
        to: Stance::Conditional,
        kind: ShiftKind::Shift,
        speaker: "russia".into(),
        confidence: 1.0,
        sentence: "This is a test: Moscow could accept neutral peacekeepers.".into(),
        baseline_sentence:
            "Russia again rejected the post-war presence of European peacekeepers in Ukraine."
                .into(),
        diff: crate::compare::word_diff(
            "Russia again rejected the post-war presence of European peacekeepers in Ukraine.",
            "This is a test: Moscow could accept neutral peacekeepers.",
        ),
        stance_words: vec!["could".into(), "accept".into()],
        baseline_stance_words: vec!["rejected".into()],
        marked_diff: crate::compare::marked_word_diff(
            "Russia again rejected the post-war presence of European peacekeepers in Ukraine.",
            "This is a test: Moscow could accept neutral peacekeepers.",
            &["rejected".to_string()],
            &["could".to_string(), "accept".to_string()],
        ),
        others: Vec::new(),
    }];
    let r = render::render(
        &render::Alert {
            source: &source,
            shifts: &shifts,
            changes_before: 0,
            matrix: None,
            corroborating: &[],
        },
        &email.from,
        &email.to,
        Utc::now(),
    )?;
    let mailer = mailer::Mailer::new(email)?;
    let key = format!("test-{}", Utc::now().timestamp());
    Ok(match mailer.send(&key, &r.raw).await {
        mailer::Outcome::Sent(s) => format!("sent: {s}"),
        mailer::Outcome::Transient(e) => format!("not sent (temporary failure): {e}"),
        mailer::Outcome::Permanent(e) => format!("refused by the server: {e}"),
        mailer::Outcome::Fatal(e) => format!("failed: {e}"),
    })
}
