//! Delivery: what is owed goes out, one by one or as a digest, and each
//! outcome is recorded.

use super::*;

/// Sends owed alerts; transient failures wait with exponential backoff.
/// With a digest interval, owed alerts wait until the oldest is that old and
/// then go out together in one message.
pub async fn deliver(
    state: &mut State,
    email: &crate::config::Email,
    summary: &mut Summary,
    now: DateTime<Utc>,
    ctl: &Control,
    flush: bool,
    lease: std::time::Duration,
) -> Result<()> {
    // on a shared state, the alerts this process claims: no two send one
    let owed = state.take_owed(now, flush, claimant(), lease)?;
    if owed.is_empty() {
        return Ok(());
    }
    let mut mailer = match Mailer::new(email) {
        Ok(m) => m,
        Err(e) => {
            summary
                .alerts_failed
                .push(format!("mail setup failed: {e:#}"));
            return Ok(());
        }
    };
    if let Some(every) = email.digest {
        let oldest = owed.iter().map(|r| r.created_at).min().unwrap_or(now);
        if now.signed_duration_since(oldest) < chrono::Duration::from_std(every).unwrap_or_default()
        {
            info!(alerts = owed.len(), "alerts held for the digest");
            return Ok(());
        }
        let items: Vec<render::DigestItem<'_>> = owed
            .iter()
            .map(|r| render::DigestItem {
                key: &r.alert_key,
                subject: &r.subject,
                text: &r.text,
                html: &r.html,
                shift_headers: &r.shift_headers,
            })
            .collect();
        let d = render::render_digest(&items, &email.from, &email.to, now)?;
        let outcome = mailer.send(&d.key, &d.raw).await;
        match &outcome {
            Outcome::Sent(resp) => {
                // every alert of the digest is marked in one write: a crash
                // cannot leave some of them owed and send them again
                info!(alerts = owed.len(), response = %resp, "digest sent");
                let ids: Vec<i64> = owed.iter().map(|r| r.id).collect();
                state.mark_all_sent(&ids, now)?;
                summary.alerts_sent += owed.len();
                return Ok(());
            }
            // refused for good: perhaps for one alert's sake; each then goes
            // alone and gets its own answer
            Outcome::Permanent(e) => {
                warn!(alerts = owed.len(), error = %e, "digest refused; sending its alerts one by one");
                // on a fresh connection: the refused one may be in any state
                if let Ok(m) = Mailer::new(email) {
                    mailer = m;
                }
            }
            _ => {
                for row in &owed {
                    record_outcome(state, row, &outcome, summary, now)?;
                }
                return Ok(());
            }
        }
    }
    for row in owed {
        // a message under way is finished; the next one waits for a restart
        if ctl.stopping() {
            break;
        }
        let outcome = mailer.send(&row.alert_key, &row.message).await;
        ctl.beat();
        let fatal = matches!(outcome, Outcome::Fatal(_));
        record_outcome(state, &row, &outcome, summary, now)?;
        if fatal {
            break;
        }
    }
    Ok(())
}

pub(super) fn record_outcome(
    state: &State,
    row: &OutboxRow,
    outcome: &Outcome,
    summary: &mut Summary,
    now: DateTime<Utc>,
) -> Result<()> {
    match outcome {
        Outcome::Sent(resp) => {
            info!(alert = %row.alert_key, subject = %row.subject, response = %resp, "alert sent");
            state.mark_sent(row.id, now)?;
            summary.alerts_sent += 1;
        }
        Outcome::Transient(e) => {
            let next = now + backoff(row.attempts);
            warn!(alert = %row.alert_key, error = %e, "alert not sent; will retry");
            state.mark_attempt_failed(row.id, e, false, next)?;
            summary
                .alerts_failed
                .push(format!("{}: {e} (will retry)", row.subject));
        }
        Outcome::Permanent(e) => {
            warn!(alert = %row.alert_key, error = %e, "alert refused");
            state.mark_attempt_failed(row.id, e, true, now)?;
            summary
                .alerts_failed
                .push(format!("{}: refused: {e}", row.subject));
        }
        Outcome::Fatal(e) => {
            warn!(alert = %row.alert_key, error = %e, "sending stopped for this pass");
            state.mark_attempt_failed(row.id, e, false, now)?;
            summary.alerts_failed.push(format!("sending stopped: {e}"));
        }
    }
    Ok(())
}
