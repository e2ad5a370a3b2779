//! `run`: passes on a schedule until SIGTERM/SIGINT, with systemd
//! notifications (READY, STATUS, WATCHDOG, RELOADING, STOPPING), SIGHUP
//! reload and an optional loopback `/healthz` + `/metrics` endpoint.
//!
//! The pass itself is [`crate::pass::run_once`], the same as `check`. The
//! [`Scheduler`] decides when passes run and what systemd hears; it drives
//! any [`Job`], so its timing is tested on a paused clock.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::Config;
use crate::engine::Engine;
use crate::metrics::{self, Metrics};
use crate::pass::{self, Control, Options};
use crate::state::State;

/// The shortest wait between two passes: feeds due within it wait for the
/// next pass together.
pub const MIN_WAIT: Duration = Duration::from_secs(5);

/// What the scheduler asks of the daemon.
pub trait Job {
    /// Runs one pass; `control` asks it to stop and counts its progress.
    fn pass(&mut self, control: Control) -> impl Future<Output = PassReport>;
    /// Loads the configuration and profile again; on error the running
    /// ones stay.
    fn reload(&mut self) -> Result<()>;
    /// The configured base interval.
    fn interval(&self) -> Duration;
    /// How long a pass may go without progress before it counts as hung
    /// (the longest single request or delivery, with room to spare).
    fn stall_limit(&self) -> Duration;
}

/// How a pass ended, as the scheduler needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PassReport {
    /// The one-line summary for `STATUS=`.
    pub status: String,
    /// Time from the end of the pass until the first feed is due.
    pub next_due_in: Option<Duration>,
}

/// What the signal handlers tell the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Stop,
    Reload,
}

/// Runs passes one at a time: after each, it sleeps until the first feed is
/// due (at least [`MIN_WAIT`], at most the interval); it pings the watchdog
/// while the loop and the pass move, and on a stop it lets the pass wind
/// down for the grace period before dropping it.
pub struct Scheduler<N: FnMut(&[NotifyState<'_>])> {
    /// `WATCHDOG_USEC` as systemd gave it.
    pub watchdog: Option<Duration>,
    /// How long a stopping pass may take to wind down.
    pub grace: Duration,
    pub notify: N,
}

impl<N: FnMut(&[NotifyState<'_>])> Scheduler<N> {
    /// How long to sleep after a pass.
    pub fn wait(interval: Duration, next_due_in: Option<Duration>) -> Duration {
        next_due_in
            .unwrap_or(interval)
            .min(interval)
            .max(MIN_WAIT.min(interval))
    }

    fn reload<J: Job>(&mut self, job: &mut J) {
        (self.notify)(&[NotifyState::Reloading]);
        match job.reload() {
            Ok(()) => info!("configuration reloaded"),
            Err(err) => warn!(
                error = %format!("{err:#}"),
                "reload failed; keeping the running configuration"
            ),
        }
        (self.notify)(&[NotifyState::Ready]);
    }

    /// Runs until an [`Event::Stop`] (or the end of `events`).
    pub async fn run<J: Job>(&mut self, job: &mut J, events: &mut mpsc::UnboundedReceiver<Event>) {
        let tick_every = self
            .watchdog
            .map(|w| w / 2)
            .unwrap_or(Duration::from_secs(3600))
            .max(Duration::from_millis(10));
        loop {
            // a pass
            let (control, stop_tx) = Control::new();
            let stall = job.stall_limit().max(self.watchdog.unwrap_or_default());
            let mut stop_requested = false;
            let mut reload_pending = false;
            let report = {
                let pass = job.pass(control.clone());
                tokio::pin!(pass);
                let mut tick = tokio::time::interval(tick_every);
                let mut beats = control.beats();
                let mut moved = Instant::now();
                let mut deadline: Option<Instant> = None;
                loop {
                    let until_deadline = async {
                        match deadline {
                            Some(d) => tokio::time::sleep_until(d).await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        biased;
                        r = &mut pass => break Some(r),
                        _ = tick.tick() => {
                            let now_beats = control.beats();
                            if now_beats != beats {
                                beats = now_beats;
                                moved = Instant::now();
                            }
                            // a pass that stopped moving stops the pings, so
                            // systemd restarts a hung daemon
                            if self.watchdog.is_some() && moved.elapsed() <= stall {
                                (self.notify)(&[NotifyState::Watchdog]);
                            }
                        }
                        ev = events.recv(), if !stop_requested => match ev {
                            Some(Event::Reload) => {
                                info!("reload requested; it follows the pass under way");
                                reload_pending = true;
                            }
                            Some(Event::Stop) | None => {
                                stop_requested = true;
                                let _ = stop_tx.send(true);
                                deadline = Some(Instant::now() + self.grace);
                                (self.notify)(&[NotifyState::Stopping]);
                                info!(grace = ?self.grace, "stop requested during a pass; winding it down");
                            }
                        },
                        _ = until_deadline => break None,
                    }
                }
            };
            if self.watchdog.is_some() && report.is_some() {
                // a pass that ended is progress
                (self.notify)(&[NotifyState::Watchdog]);
            }
            match &report {
                Some(r) if !stop_requested => (self.notify)(&[NotifyState::Status(&r.status)]),
                Some(_) => info!("the pass wound down; owed alerts stay owed"),
                None => warn!("the pass did not wind down within the grace period; dropped"),
            }
            if stop_requested {
                return;
            }
            if reload_pending {
                self.reload(job);
            }
            let wait = Self::wait(job.interval(), report.as_ref().and_then(|r| r.next_due_in));
            // the sleep between passes
            let wake = Instant::now() + wait;
            let mut tick = tokio::time::interval_at(Instant::now() + tick_every, tick_every);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => break,
                    _ = tick.tick() => {
                        if self.watchdog.is_some() {
                            (self.notify)(&[NotifyState::Watchdog]);
                        }
                    }
                    ev = events.recv() => match ev {
                        Some(Event::Reload) => self.reload(job),
                        Some(Event::Stop) | None => {
                            (self.notify)(&[NotifyState::Stopping]);
                            return;
                        }
                    },
                }
            }
        }
    }
}

/// Loads everything a pass needs; used at start and on SIGHUP.
pub fn prepare(config_path: &Path) -> Result<(Config, Arc<Engine>)> {
    let cfg = Config::load(config_path)?;
    let engine = Arc::new(Engine::from_config(Some(&cfg))?);
    Ok((cfg, engine))
}

/// The daemon's [`Job`]: the config, the engine and the state database.
struct Daemon {
    config_path: PathBuf,
    cfg: Config,
    engine: Arc<Engine>,
    state: State,
    metrics: Arc<Mutex<Metrics>>,
}

impl Job for Daemon {
    async fn pass(&mut self, control: Control) -> PassReport {
        let opts = Options {
            dry_run: false,
            only_due: true,
            progress: false,
            flush: false,
            control,
        };
        let r = pass::run_once(&self.cfg, self.engine.clone(), &mut self.state, &opts).await;
        metrics::release_free_memory();
        let mut m = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
        match r {
            Ok(summary) => {
                m.record_pass(&summary, &self.state);
                PassReport {
                    status: summary.one_line(),
                    next_due_in: summary
                        .next_due
                        .map(|d| (d - chrono::Utc::now()).to_std().unwrap_or_default()),
                }
            }
            Err(e) => {
                warn!(error = %format!("{e:#}"), "pass failed");
                m.record_failed_pass();
                PassReport {
                    status: format!("last pass failed: {e}"),
                    next_due_in: None,
                }
            }
        }
    }

    fn reload(&mut self) -> Result<()> {
        let (cfg, engine) = prepare(&self.config_path)?;
        if cfg.state_location() != self.cfg.state_location() {
            warn!("reload: [state] path or url changed; it takes effect at the next start");
        }
        crate::init_state(&mut self.state, &engine)?;
        self.cfg = Config {
            state_path: self.cfg.state_path.clone(),
            state_server: self.cfg.state_server.clone(),
            ..cfg
        };
        self.engine = engine;
        Ok(())
    }

    fn interval(&self) -> Duration {
        self.cfg.interval
    }

    fn stall_limit(&self) -> Duration {
        let smtp = match self.cfg.email.as_ref().map(|e| &e.delivery) {
            Some(crate::config::Delivery::Smtp(s)) => s.timeout,
            _ => Duration::ZERO,
        };
        // the slowest thing a pass waits on, twice, and a minute more
        2 * self.cfg.fetch.timeout.max(smtp) + Duration::from_secs(60)
    }
}

/// Runs until a stop signal; returns Ok on a clean stop.
pub async fn run(config_path: &Path) -> Result<()> {
    let (cfg, engine) = prepare(config_path)?;
    let mut state = State::open_at(&cfg.state_access()?)?;
    crate::init_state(&mut state, &engine)?;
    let metrics = Arc::new(Mutex::new(Metrics::new(cfg.feeds.len())));
    if let Some(addr) = cfg.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("daemon.listen {addr}: cannot listen: {e}"))?;
        info!(%addr, "serving /, /shifts.atom, /healthz and /metrics");
        let stale = 3 * cfg.interval + Duration::from_secs(300);
        let pages = metrics::Pages {
            state: cfg.state_access()?,
            engine: engine.clone(),
        };
        tokio::spawn(metrics::serve(
            listener,
            metrics.clone(),
            stale,
            Some(pages),
        ));
    }
    let (tx, mut events) = mpsc::unbounded_channel();
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = term.recv() => Event::Stop,
                _ = int.recv() => Event::Stop,
                _ = hup.recv() => Event::Reload,
            };
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    let grace = cfg.stop_grace;
    info!(config = %config_path.display(), feeds = cfg.feeds.len(), "daemon started");
    let mut job = Daemon {
        config_path: config_path.to_path_buf(),
        cfg,
        engine,
        state,
        metrics,
    };
    let mut scheduler = Scheduler {
        watchdog: sd_notify::watchdog_enabled(),
        grace,
        notify: |s: &[NotifyState<'_>]| {
            let _ = sd_notify::notify(s);
        },
    };
    (scheduler.notify)(&[
        NotifyState::Ready,
        NotifyState::Status("ready; first pass starting"),
    ]);
    scheduler.run(&mut job, &mut events).await;
    info!("daemon stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The scheduler on a paused clock: tokio advances time only when every
    //! task waits, so these run in milliseconds and measure exact instants.

    use super::*;

    struct FakeJob {
        interval: Duration,
        /// Length of one pass, in ten steps with a heartbeat each.
        pass_len: Duration,
        next_due_in: Option<Duration>,
        /// Keeps working after a stop request.
        ignore_stop: bool,
        /// Never makes progress and never ends.
        hang: bool,
        reload_ok: bool,
        starts: Vec<Duration>,
        ends: Vec<Duration>,
        reloads: Vec<Duration>,
        t0: Instant,
    }

    impl FakeJob {
        fn new(interval: Duration, pass_len: Duration) -> FakeJob {
            FakeJob {
                interval,
                pass_len,
                next_due_in: None,
                ignore_stop: false,
                hang: false,
                reload_ok: true,
                starts: vec![],
                ends: vec![],
                reloads: vec![],
                t0: Instant::now(),
            }
        }
    }

    impl Job for FakeJob {
        async fn pass(&mut self, control: Control) -> PassReport {
            self.starts.push(self.t0.elapsed());
            if self.hang {
                std::future::pending::<()>().await;
            }
            for _ in 0..10 {
                if control.stopping() && !self.ignore_stop {
                    break;
                }
                tokio::time::sleep(self.pass_len / 10).await;
                control.beat();
            }
            self.ends.push(self.t0.elapsed());
            PassReport {
                status: format!("pass {}", self.starts.len()),
                next_due_in: self.next_due_in,
            }
        }

        fn reload(&mut self) -> Result<()> {
            self.reloads.push(self.t0.elapsed());
            if self.reload_ok {
                Ok(())
            } else {
                anyhow::bail!("broken config")
            }
        }

        fn interval(&self) -> Duration {
            self.interval
        }

        fn stall_limit(&self) -> Duration {
            Duration::from_secs(30)
        }
    }

    type Log = Arc<Mutex<Vec<(Duration, String)>>>;

    /// Runs the scheduler over `job`, sending each event at its time.
    async fn drive(
        job: &mut FakeJob,
        watchdog: Option<Duration>,
        events: Vec<(Duration, Event)>,
    ) -> (Duration, Vec<(Duration, String)>) {
        let log: Log = Arc::default();
        let t0 = job.t0;
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for (at, ev) in events {
                tokio::time::sleep_until(t0 + at).await;
                let _ = tx.send(ev);
            }
            // keep the channel open: only a Stop ends the run
            std::future::pending::<()>().await;
        });
        let l = log.clone();
        let mut s = Scheduler {
            watchdog,
            grace: Duration::from_secs(5),
            notify: move |states: &[NotifyState<'_>]| {
                for st in states {
                    l.lock().unwrap().push((t0.elapsed(), st.to_string()));
                }
            },
        };
        s.run(job, &mut rx).await;
        let end = t0.elapsed();
        let log = log.lock().unwrap().clone();
        (end, log)
    }

    const MIN: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn passes_follow_the_interval() {
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(10));
        let (end, log) = drive(&mut job, None, vec![(46 * MIN, Event::Stop)]).await;
        let s = |m: u64, sec: u64| m * 60 + sec;
        let starts: Vec<u64> = job.starts.iter().map(Duration::as_secs).collect();
        // each pass starts one interval after the previous one ended
        assert_eq!(starts, vec![0, s(15, 10), s(30, 20), s(45, 30)]);
        // the stop came while the fourth pass ran (45:30–45:40): it wound down
        assert_eq!(end, 46 * MIN);
        assert_eq!(job.ends.len(), 4);
        assert!(log.iter().any(|(_, m)| m == "STATUS=pass 3"), "{log:?}");
        assert_eq!(log.last().unwrap().1, "STOPPING=1");
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_due_feed_brings_the_next_pass_forward() {
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(10));
        // a feed asked (Retry-After, backoff) to be polled again in 2 minutes
        job.next_due_in = Some(2 * MIN);
        drive(&mut job, None, vec![(7 * MIN, Event::Stop)]).await;
        let starts: Vec<u64> = job.starts.iter().map(Duration::as_secs).collect();
        assert_eq!(starts, vec![0, 130, 260, 390]);

        // a feed already due waits the minimum, not zero
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(1));
        job.next_due_in = Some(Duration::ZERO);
        drive(&mut job, None, vec![(Duration::from_secs(20), Event::Stop)]).await;
        let starts: Vec<u64> = job.starts.iter().map(Duration::as_secs).collect();
        assert_eq!(starts, vec![0, 6, 12, 18]);

        // and no feed due later than the interval postpones the pass
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(10));
        job.next_due_in = Some(600 * MIN);
        drive(&mut job, None, vec![(20 * MIN, Event::Stop)]).await;
        assert_eq!(job.starts[1], Duration::from_secs(15 * 60 + 10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_between_passes_ends_the_run_at_once() {
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(10));
        let (end, log) = drive(&mut job, None, vec![(MIN, Event::Stop)]).await;
        assert_eq!(end, MIN);
        assert_eq!(job.starts.len(), 1);
        assert_eq!(log.last().unwrap(), &(MIN, "STOPPING=1".to_string()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopping_pass_gets_the_grace_period_and_no_more() {
        // winds down at its next step: one second after the request
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(100));
        let (end, _) = drive(
            &mut job,
            None,
            vec![(Duration::from_millis(25_500), Event::Stop)],
        )
        .await;
        assert_eq!(end, Duration::from_secs(30));
        assert_eq!(job.ends, vec![Duration::from_secs(30)]);

        // ignores the request: dropped when the grace period ends
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(100));
        job.ignore_stop = true;
        let (end, log) = drive(&mut job, None, vec![(Duration::from_secs(25), Event::Stop)]).await;
        assert_eq!(end, Duration::from_secs(30));
        assert!(job.ends.is_empty(), "the pass was dropped, not finished");
        assert!(
            log.iter()
                .any(|(t, m)| *t == Duration::from_secs(25) && m == "STOPPING=1")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_is_fed_while_the_pass_moves_and_starves_when_it_hangs() {
        let wd = Some(Duration::from_secs(10));
        // a long pass that moves: pings throughout, every 5 s
        let mut job = FakeJob::new(15 * MIN, 2 * MIN);
        let (_, log) = drive(&mut job, wd, vec![(3 * MIN, Event::Stop)]).await;
        let pings: Vec<u64> = log
            .iter()
            .filter(|(_, m)| m == "WATCHDOG=1")
            .map(|(t, _)| t.as_secs())
            .collect();
        assert_eq!(pings.len(), 37, "{pings:?}");
        assert!(pings.windows(2).all(|w| w[1] - w[0] <= 5), "{pings:?}");

        // a pass that hangs: pings stop once it has not moved for the
        // stall limit (30 s), and systemd would restart the service
        let mut job = FakeJob::new(15 * MIN, 2 * MIN);
        job.hang = true;
        let (_, log) = drive(&mut job, wd, vec![(5 * MIN, Event::Stop)]).await;
        let pings: Vec<u64> = log
            .iter()
            .filter(|(_, m)| m == "WATCHDOG=1")
            .map(|(t, _)| t.as_secs())
            .collect();
        assert_eq!(pings, vec![0, 5, 10, 15, 20, 25, 30]);
    }

    #[tokio::test(start_paused = true)]
    async fn reloads_happen_between_passes_and_a_bad_one_changes_nothing() {
        let mut job = FakeJob::new(15 * MIN, Duration::from_secs(10));
        job.reload_ok = false;
        let events = vec![
            // during the first pass: taken up when it ends
            (Duration::from_secs(5), Event::Reload),
            // between passes: at once
            (5 * MIN, Event::Reload),
            (31 * MIN, Event::Stop),
        ];
        let (_, log) = drive(&mut job, None, events).await;
        assert_eq!(
            job.reloads,
            vec![Duration::from_secs(10), Duration::from_secs(300)]
        );
        // the schedule went on as before
        assert_eq!(job.starts.len(), 3);
        let msgs: Vec<&str> = log.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "STATUS=pass 1",
                "RELOADING=1",
                "READY=1",
                "RELOADING=1",
                "READY=1",
                "STATUS=pass 2",
                "STATUS=pass 3",
                "STOPPING=1"
            ]
        );
    }
}
