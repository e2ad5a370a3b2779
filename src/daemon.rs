//! `run`: passes on a schedule until SIGTERM/SIGINT, with systemd
//! notifications (READY, STATUS, WATCHDOG, STOPPING) and SIGHUP reload.
//!
//! The pass itself is [`crate::pass::run_once`], the same as `check`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};

use crate::config::Config;
use crate::engine::Engine;
use crate::pass::{self, Options};
use crate::state::State;

/// A small deterministic jitter in [0, max) from the clock's nanoseconds.
fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_nanos(n % max.as_nanos().max(1) as u64)
}

fn notify(states: &[NotifyState<'_>]) {
    let _ = sd_notify::notify(states);
}

/// Loads everything a pass needs; used at start and on SIGHUP.
pub fn prepare(config_path: &Path) -> Result<(Config, Arc<Engine>)> {
    let cfg = Config::load(config_path)?;
    let engine = Arc::new(Engine::from_config(Some(&cfg))?);
    Ok((cfg, engine))
}

/// Runs until a stop signal; returns Ok on a clean stop.
pub async fn run(config_path: &Path) -> Result<()> {
    let (mut cfg, mut engine) = prepare(config_path)?;
    let mut state = State::open(&cfg.state_path)?;
    crate::init_state(&mut state, &engine)?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let watchdog = sd_notify::watchdog_enabled();
    notify(&[
        NotifyState::Ready,
        NotifyState::Status("ready; first pass starting"),
    ]);
    info!(config = %config_path.display(), feeds = cfg.feeds.len(), "daemon started");
    let opts = Options {
        dry_run: false,
        only_due: true,
        progress: false,
    };
    loop {
        let outcome = {
            let pass_fut = pass::run_once(&cfg, engine.clone(), &mut state, &opts);
            tokio::pin!(pass_fut);
            let mut tick =
                tokio::time::interval(watchdog.map(|w| w / 2).unwrap_or(Duration::from_secs(3600)));
            loop {
                tokio::select! {
                    r = &mut pass_fut => break Some(r),
                    _ = tick.tick() => { if watchdog.is_some() { notify(&[NotifyState::Watchdog]); } }
                    _ = term.recv() => break None,
                    _ = int.recv() => break None,
                }
            }
        };
        match outcome {
            None => {
                info!("stop requested during a pass; owed alerts stay owed");
                break;
            }
            Some(Ok(summary)) => {
                let line = summary.one_line();
                notify(&[NotifyState::Status(&line)]);
            }
            Some(Err(e)) => {
                warn!(error = %format!("{e:#}"), "pass failed");
                notify(&[NotifyState::Status("last pass failed; see the log")]);
            }
        }
        let wait = cfg
            .interval
            .min(Duration::from_secs(60))
            .max(Duration::from_secs(1))
            + jitter(cfg.jitter);
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        let mut tick =
            tokio::time::interval(watchdog.map(|w| w / 2).unwrap_or(Duration::from_secs(3600)));
        let stop = loop {
            tokio::select! {
                _ = &mut sleep => break false,
                _ = tick.tick() => { if watchdog.is_some() { notify(&[NotifyState::Watchdog]); } }
                _ = term.recv() => break true,
                _ = int.recv() => break true,
                _ = hup.recv() => {
                    notify(&[NotifyState::Reloading]);
                    match prepare(config_path) {
                        Ok((c, e)) => {
                            cfg = c;
                            engine = e;
                            if let Err(err) = crate::init_state(&mut state, &engine) {
                                warn!(error = %format!("{err:#}"), "reload: cannot update the ledger");
                            }
                            info!("configuration reloaded");
                        }
                        Err(err) => warn!(error = %format!("{err:#}"), "reload failed; keeping the running configuration"),
                    }
                    notify(&[NotifyState::Ready]);
                }
            }
        };
        if stop {
            break;
        }
    }
    notify(&[NotifyState::Stopping]);
    info!("daemon stopped");
    Ok(())
}
