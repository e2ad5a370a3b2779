//! stancewatch watches news feeds and emails an alert when a government's
//! position on a question shifts against a baseline.
//!
//! The code map, in pipeline order:
//!
//! * [`config`] — the TOML config, raw → validated.
//! * [`profile`] — actors, topics and cue lexicons of one debate.
//! * [`fetch`] — HTTP only: timeouts, body caps, conditional GET, politeness.
//! * [`feed`] — feed bytes → entries, and each entry's identity.
//! * [`extract`] — HTML → article text (pure).
//! * [`analyze`] — article text → claims (pure).
//! * [`analysts`] — the threads, one per core, that extract and analyse pages.
//! * [`neardup`] — MinHash signatures: one wire story, one alert.
//! * [`ledger`] — the baseline from the seeds; positions and evidence (pure).
//! * [`compare`] — claims vs ledger → shifts with word diffs (pure).
//! * [`state`] — SQLite: feeds, entries, claims, ledger history, outbox.
//! * [`notify`] — alert rendering (pure) and delivery (SMTP or files).
//! * [`pass`] — one pass over all feeds, shared by `check` and `run`.
//! * [`daemon`] — the schedule, signals and systemd notifications of `run`.
//! * [`metrics`] — `run`'s optional loopback `/healthz` and `/metrics`.
//!
//! [`engine`] ties a profile to its baseline; [`article`] reads article
//! files; [`output`] holds the JSON contract; [`eval`] scores labelled sets;
//! [`train`] fits and compares the stance judges on the labelled corpus.

pub mod analysts;
pub mod analyze;
pub mod article;
pub mod cli;
pub mod compare;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod eval;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod neardup;
pub mod notify;
pub mod output;
pub mod pass;
pub mod profile;
pub mod review;
pub mod state;
pub mod train;

/// Makes the state's ledger the engine's baseline when that baseline is new.
pub fn init_state(state: &mut state::State, engine: &engine::Engine) -> anyhow::Result<()> {
    let fp = feed::hash_hex(&[&output::baseline_json(&engine.baseline)]);
    if state.init_ledger(&engine.baseline, &fp, chrono::Utc::now())? {
        tracing::info!(cells = engine.baseline.len(), "ledger set to the baseline");
    }
    Ok(())
}
