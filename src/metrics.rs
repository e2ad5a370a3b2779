//! The daemon's optional loopback endpoint: `/healthz` and Prometheus text
//! format `/metrics`. Off unless `[daemon] listen` is set; it serves plain
//! HTTP/1.1 GET requests, one per connection, and nothing else.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use crate::pass::Summary;
use crate::state::State;

/// A memory figure of this process from `/proc/self/status`, in bytes.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The process's peak resident memory so far (Linux `VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

/// The process's resident memory now (Linux `VmRSS`), in bytes.
pub fn rss_bytes() -> Option<u64> {
    proc_status_bytes("VmRSS:")
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    /// glibc: gives free heap memory back to the system.
    fn malloc_trim(pad: usize) -> i32;
}

/// Hands memory freed by a pass back to the system, so a daemon that read
/// thousands of pages once does not keep their heap while it sleeps (glibc
/// keeps freed memory for reuse otherwise; elsewhere this does nothing).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes
    // no pointers from us and is safe to call from any thread at any time.
    unsafe {
        malloc_trim(0);
    }
}

/// Counters and gauges since the daemon started.
#[derive(Debug, Clone)]
pub struct Metrics {
    started: Instant,
    pub passes: u64,
    pub passes_failed: u64,
    pub feeds: usize,
    pub feeds_failing: usize,
    pub entries: u64,
    pub shifts: u64,
    pub alerts_sent: u64,
    pub alerts_owed: i64,
    pub alerts_failed: i64,
    pub last_pass_seconds: f64,
    /// When the last pass ended without error.
    pub last_success: Option<Instant>,
    pub last_success_unix: i64,
}

impl Metrics {
    pub fn new(feeds: usize) -> Metrics {
        Metrics {
            started: Instant::now(),
            passes: 0,
            passes_failed: 0,
            feeds,
            feeds_failing: 0,
            entries: 0,
            shifts: 0,
            alerts_sent: 0,
            alerts_owed: 0,
            alerts_failed: 0,
            last_pass_seconds: 0.0,
            last_success: None,
            last_success_unix: 0,
        }
    }

    /// Folds a finished pass in; feed and outbox figures come from the state.
    pub fn record_pass(&mut self, s: &Summary, state: &State) {
        self.passes += 1;
        self.feeds = s.feeds;
        self.entries += s.entries_new as u64;
        self.shifts += s.shifts.len() as u64;
        self.alerts_sent += s.alerts_sent as u64;
        self.last_pass_seconds = s.elapsed.as_secs_f64();
        self.last_success = Some(Instant::now());
        self.last_success_unix = chrono::Utc::now().timestamp();
        if let Ok(rows) = state.feeds() {
            self.feeds_failing = rows.iter().filter(|r| r.failures > 0).count();
        }
        if let Ok((owed, _sent, failed)) = state.outbox_counts() {
            self.alerts_owed = owed;
            self.alerts_failed = failed;
        }
    }

    pub fn record_failed_pass(&mut self) {
        self.passes += 1;
        self.passes_failed += 1;
    }

    /// Healthy: a pass succeeded within `stale`, or the daemon is younger
    /// than that and none has failed yet.
    pub fn healthy(&self, stale: Duration) -> bool {
        match self.last_success {
            Some(t) => t.elapsed() <= stale,
            None => self.passes_failed == 0 && self.started.elapsed() <= stale,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        const C: &str = "counter";
        const G: &str = "gauge";
        let mut rows: Vec<(&str, &str, &str, String)> = vec![
            (
                "passes_total",
                C,
                "Passes run since start.",
                self.passes.to_string(),
            ),
            (
                "passes_failed_total",
                C,
                "Passes that ended in an error since start.",
                self.passes_failed.to_string(),
            ),
            ("feeds", G, "Configured feeds.", self.feeds.to_string()),
            (
                "feeds_failing",
                G,
                "Feeds whose last poll failed.",
                self.feeds_failing.to_string(),
            ),
            (
                "feeds_ok",
                G,
                "Feeds whose last poll worked.",
                self.feeds.saturating_sub(self.feeds_failing).to_string(),
            ),
            (
                "entries_total",
                C,
                "New feed entries seen since start.",
                self.entries.to_string(),
            ),
            (
                "shifts_total",
                C,
                "Position shifts found since start.",
                self.shifts.to_string(),
            ),
            (
                "alerts_sent_total",
                C,
                "Alert emails accepted by the mail server since start.",
                self.alerts_sent.to_string(),
            ),
            (
                "alerts_owed",
                G,
                "Alerts recorded and not yet delivered.",
                self.alerts_owed.to_string(),
            ),
            (
                "alerts_failed",
                G,
                "Alerts the mail server refused for good.",
                self.alerts_failed.to_string(),
            ),
            (
                "pass_duration_seconds",
                G,
                "Duration of the last pass.",
                format!("{:.3}", self.last_pass_seconds),
            ),
        ];
        if let Some(b) = rss_bytes() {
            rows.push((
                "resident_memory_bytes",
                G,
                "Resident memory of the daemon now.",
                b.to_string(),
            ));
        }
        if let Some(b) = peak_rss_bytes() {
            rows.push((
                "peak_resident_memory_bytes",
                G,
                "Peak resident memory of the daemon since start.",
                b.to_string(),
            ));
        }
        rows.push((
            "last_success_timestamp_seconds",
            G,
            "Unix time of the last pass that ended without error (0: none yet).",
            self.last_success_unix.to_string(),
        ));
        let mut o = String::new();
        for (name, kind, help, value) in rows {
            let _ = writeln!(o, "# HELP stancewatch_{name} {help}");
            let _ = writeln!(o, "# TYPE stancewatch_{name} {kind}");
            let _ = writeln!(o, "stancewatch_{name} {value}");
        }
        o
    }
}

/// What the page (`/`) and the feed (`/shifts.atom`) are read from: the
/// state (opened afresh, read-only work, for each request) and the engine
/// the daemon started with (its baseline and profile).
#[derive(Clone)]
pub struct Pages {
    pub state: crate::state::Location,
    pub engine: Arc<crate::engine::Engine>,
}

impl Pages {
    fn render(&self, what: &str) -> anyhow::Result<String> {
        let state = State::open_at(&self.state)?;
        let now = chrono::Utc::now();
        match what {
            "atom" => {
                crate::review::export(&state, &self.engine, crate::review::ExportFormat::Atom, now)
            }
            _ => crate::review::page(&state, &self.engine, now),
        }
    }
}

/// Sent with every answer: the page carries text from strangers' articles
/// (escaped when rendered), so it may load nothing, run nothing, be framed
/// by nothing, and its type is not to be guessed.
const HARDENING: &str = "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n";

/// Serves the endpoint until the process ends. `stale` is how old the last
/// good pass may be for `/healthz` to answer 200.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Mutex<Metrics>>,
    stale: Duration,
    pages: Option<Pages>,
) {
    // a few scrapers at a time; the rest wait in the listen queue
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut pause = Duration::ZERO;
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (conn, peer) = match listener.accept().await {
            Ok(c) => {
                pause = Duration::ZERO;
                c
            }
            Err(e) => {
                // out of file descriptors, say: wait rather than spin
                pause = (pause * 2).clamp(Duration::from_millis(50), Duration::from_secs(2));
                warn!(error = %e, wait_ms = pause.as_millis() as u64, "metrics: accept failed");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        let pages = pages.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(conn, &metrics, stale, pages).await {
                debug!(%peer, error = %e, "metrics request failed");
            }
            drop(slot);
        });
    }
}

/// Requests the endpoint answers at once.
const MAX_CONNECTIONS: usize = 16;

async fn answer(
    mut conn: TcpStream,
    metrics: &Mutex<Metrics>,
    stale: Duration,
    pages: Option<Pages>,
) -> std::io::Result<()> {
    // the request head only; a slow or oversized request is dropped
    let mut buf = Vec::with_capacity(1024);
    let read = async {
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
            let n = conn.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    if tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .is_err()
    {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let m = metrics.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (status, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/healthz") if m.healthy(stale) => ("200 OK", "text/plain", "ok\n".to_string()),
        ("GET", "/healthz") => (
            "503 Service Unavailable",
            "text/plain",
            "no successful pass recently\n".to_string(),
        ),
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4", m.render()),
        ("GET", p @ ("/" | "/shifts.atom")) if pages.is_some() => {
            let what = if p == "/" { "page" } else { "atom" };
            let pages = pages.clone().expect("checked");
            match tokio::task::spawn_blocking(move || pages.render(what)).await {
                Ok(Ok(body)) if what == "atom" => {
                    ("200 OK", "application/atom+xml; charset=utf-8", body)
                }
                Ok(Ok(body)) => ("200 OK", "text/html; charset=utf-8", body),
                Ok(Err(e)) => {
                    warn!(error = %format!("{e:#}"), "the page could not be made");
                    (
                        "500 Internal Server Error",
                        "text/plain",
                        "the state could not be read\n".to_string(),
                    )
                }
                Err(_) => (
                    "500 Internal Server Error",
                    "text/plain",
                    "internal error\n".to_string(),
                ),
            }
        }
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_string(),
        ),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{HARDENING}Connection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(resp.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_help_type_and_value_for_each_metric() {
        let mut m = Metrics::new(3);
        m.passes = 2;
        m.feeds_failing = 1;
        let text = m.render();
        assert!(text.contains("stancewatch_passes_total 2\n"), "{text}");
        assert!(text.contains("stancewatch_feeds_ok 2\n"), "{text}");
        assert!(
            text.contains("# TYPE stancewatch_alerts_owed gauge\n"),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.split_once(' ').unwrap();
            assert!(name.starts_with("stancewatch_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
        }
    }

    #[test]
    fn health_follows_the_last_good_pass() {
        let mut m = Metrics::new(1);
        assert!(m.healthy(Duration::from_secs(60)));
        m.record_failed_pass();
        assert!(!m.healthy(Duration::from_secs(60)));
        m.last_success = Some(Instant::now());
        assert!(m.healthy(Duration::from_secs(60)));
        m.last_success = Instant::now().checked_sub(Duration::from_secs(120));
        assert!(!m.healthy(Duration::from_secs(60)));
    }
}
