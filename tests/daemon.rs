//! `run` as systemd starts it: notifications on a real NOTIFY_SOCKET, a clean
//! stop on SIGTERM, and a reload on SIGHUP that keeps a good config when the
//! new one is broken.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn recv_until(sock: &UnixDatagram, seen: &mut Vec<String>, want: &str, within: Duration) -> bool {
    let end = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let hit = msg.lines().any(|l| l.starts_with(want));
            seen.push(msg);
            if hit {
                return true;
            }
        }
    }
    false
}

fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn run_notifies_systemd_and_stops_cleanly_on_sigterm() {
    let http = HttpServer::start();
    http.route(
        "/feeds/wire.xml",
        Route::ok("application/rss+xml", rss(&[])),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let mut child = Command::new(bin())
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "1000000")
        .env("STANCEWATCH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    assert!(
        recv_until(&sock, &mut seen, "READY=1", Duration::from_secs(20)),
        "{seen:?}"
    );
    assert!(
        recv_until(&sock, &mut seen, "STATUS=1 feeds", Duration::from_secs(20)),
        "{seen:?}"
    );
    assert!(
        recv_until(&sock, &mut seen, "WATCHDOG=1", Duration::from_secs(5)),
        "{seen:?}"
    );
    let stop = Instant::now();
    signal(child.id(), "TERM");
    assert!(
        recv_until(&sock, &mut seen, "STOPPING=1", Duration::from_secs(10)),
        "{seen:?}"
    );
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            stop.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    println!("notifications seen: {seen:?}");
}

#[test]
fn sighup_with_a_broken_config_keeps_the_running_one() {
    let http = HttpServer::start();
    http.route(
        "/feeds/wire.xml",
        Route::ok("application/rss+xml", rss(&[])),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let mut child = Command::new(bin())
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env("NOTIFY_SOCKET", &sock_path)
        .env("STANCEWATCH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    assert!(
        recv_until(&sock, &mut seen, "STATUS=1 feeds", Duration::from_secs(20)),
        "{seen:?}"
    );
    std::fs::write(&cfg, "[poll]\ninterval = \"never\"\n").unwrap();
    signal(child.id(), "HUP");
    assert!(
        recv_until(&sock, &mut seen, "RELOADING=1", Duration::from_secs(10)),
        "{seen:?}"
    );
    assert!(
        recv_until(&sock, &mut seen, "READY=1", Duration::from_secs(10)),
        "{seen:?}"
    );
    // still alive and still answering
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon died on a bad reload"
    );
    signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("reload failed; keeping the running configuration"),
        "{log}"
    );
    assert!(log.contains("poll.interval"), "the log says why: {log}");
}

/// Fourteen feeds, one story each, each story moving a different cell; the
/// feeds answer with an ETag (a repeat poll is a 304), the pages after
/// `page_delay_ms`.
fn serve_many_shifts(http: &HttpServer, page_delay_ms: u64) -> Vec<String> {
    let countries = [
        "Poland", "Germany", "France", "Turkey", "Britain", "Italy", "China",
    ];
    let mut feeds = Vec::new();
    for c in countries {
        for (kind, sentence) in [
            (
                "troops",
                format!(
                    "The government of {c} said on Monday it would not send troops to Ukraine under any circumstances."
                ),
            ),
            (
                "nato",
                format!("{c} said on Monday it opposes any NATO membership for Ukraine."),
            ),
        ] {
            let feed = format!("/feeds/{kind}-{c}.xml");
            let page = format!("/pages/{kind}-{c}.html");
            http.route(
                &feed,
                Route::ok(
                    "application/rss+xml",
                    rss(&[(&format!("{kind}-{c}"), &format!("{c} and Ukraine"), &page)]),
                )
                .with_etag(&format!("\"{kind}-{c}-1\"")),
            );
            http.route(
                &page,
                Route {
                    delay_ms: page_delay_ms,
                    ..Route::ok(
                        "text/html",
                        format!("<html><body><article><h1>{c} and Ukraine</h1><p>{sentence}</p></article></body></html>"),
                    )
                },
            );
            feeds.push(http.url(&feed));
        }
    }
    feeds
}

fn outbox_status(db: &std::path::Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(db).unwrap();
    let mut st = db
        .prepare("SELECT alert_key, status FROM outbox ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn message_id(mail: &str) -> String {
    headers(mail)
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or("")
        .trim()
        .to_string()
}

#[test]
fn killed_mid_pass_twice_every_owed_alert_is_delivered_once() {
    let http = HttpServer::start();
    let feeds = serve_many_shifts(&http, 0);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &feeds, smtp.port, "");
    let db = dir.path().join("state.db");

    // killed while delivering: the server holds the RCPT of the third mail
    // (then of the seventh), so the kill comes while the client waits for
    // the answer: two (then four more) mails are through, one is under way
    let mut delivered = 0;
    for more in [2, 4] {
        smtp.let_rcpts_through(Some(more));
        let mut child = start_run(&cfg);
        smtp.wait_for_held_rcpt(Duration::from_secs(60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        delivered += more;
        assert_eq!(smtp.mails().len(), delivered);
        let rows = outbox_status(&db);
        let sent = rows.iter().filter(|r| r.1 == "sent").count();
        assert_eq!(sent, delivered, "what went out is recorded as sent");
        assert!(rows.iter().any(|r| r.1 == "owed"), "{rows:?}");
    }
    smtp.let_rcpts_through(None);

    // restarted: it delivers what is owed and reads what it had not read
    let mut child = start_run(&cfg);
    wait_for("an empty outbox", Duration::from_secs(60), || {
        let rows = outbox_status(&db);
        !rows.is_empty() && rows.iter().all(|r| r.1 == "sent")
    });
    signal(child.id(), "TERM");
    assert!(child.wait().unwrap().success());

    let rows = outbox_status(&db);
    let mails = smtp.mails();
    let mut ids: Vec<String> = mails.iter().map(|m| message_id(m)).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "an alert was delivered twice");
    assert_eq!(mails.len(), rows.len(), "every owed alert delivered");
    // one alert per story: all fourteen stories were read in the end
    assert_eq!(rows.len(), 14, "{rows:?}");
    for (key, _) in &rows {
        assert!(
            ids.iter().any(|id| id.contains(key.as_str())),
            "{key} not delivered"
        );
    }
}

#[test]
fn killed_while_reading_pages_the_unread_entries_are_read_after_a_restart() {
    // the feeds answer 304 to a repeat poll: a feed whose entries were not
    // all read must not be taken as read
    let http = HttpServer::start();
    let feeds = serve_many_shifts(&http, 300);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &feeds,
        smtp.port,
        "[fetch]\nconcurrency = 1\nper_host = 1\n",
    );
    let db = dir.path().join("state.db");
    let pages_answered = |http: &HttpServer| {
        http.seen()
            .iter()
            .filter(|s| s.path.starts_with("/pages/"))
            .count()
    };
    let mut child = start_run(&cfg);
    // seven of fourteen: records are committed about once a second, so
    // some are in the database by now
    wait_for("seven pages", Duration::from_secs(60), || {
        pages_answered(&http) >= 7
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let answered = pages_answered(&http);
    assert!(answered < 14, "the kill came after every page was read");

    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let read: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM entries WHERE status = 'analysed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(read, 14, "every story is read in the end");
    assert_eq!(outbox_status(&db).len(), 14);
    // and a third pass finds every feed unchanged
    let before = http.seen().len();
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let repeat: Vec<Seen> = http.seen()[before..].to_vec();
    assert_eq!(repeat.len(), 14, "{repeat:?}");
    assert!(repeat.iter().all(|s| s.status == 304), "{repeat:?}");
}

#[test]
fn sigterm_mid_pass_leaves_owed_alerts_owed_and_exits_within_the_grace() {
    let http = HttpServer::start();
    let feeds = serve_many_shifts(&http, 0);
    let smtp = SmtpServer::start();
    smtp.set_delay(Duration::from_millis(500));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &feeds,
        smtp.port,
        "[daemon]\nstop_grace = \"2s\"\n",
    );
    let db = dir.path().join("state.db");
    let mut child = start_run(&cfg);
    wait_for("a first mail", Duration::from_secs(60), || {
        !smtp.mails().is_empty()
    });
    let stop = Instant::now();
    signal(child.id(), "TERM");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        // the grace period plus room for a loaded machine, far below
        // systemd's 90 s stop timeout
        assert!(stop.elapsed() < Duration::from_secs(20), "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let rows = outbox_status(&db);
    let sent = rows.iter().filter(|r| r.1 == "sent").count();
    let owed = rows.iter().filter(|r| r.1 == "owed").count();
    assert_eq!(sent, smtp.mails().len(), "{rows:?}");
    assert!(owed > 0, "{rows:?}");
    // a one-off check with the same config delivers the rest
    smtp.set_delay(Duration::ZERO);
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(outbox_status(&db).iter().all(|r| r.1 == "sent"));
    assert_eq!(smtp.mails().len(), 14);
}

#[test]
fn healthz_and_metrics_on_loopback_report_the_passes() {
    let http = HttpServer::start();
    let feeds = serve_many_shifts(&http, 0);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(
        dir.path(),
        &feeds[..2],
        smtp.port,
        &format!("[daemon]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let mut child = start_run(&cfg);
    let mut metrics = String::new();
    wait_for("a pass in /metrics", Duration::from_secs(60), || {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            return false;
        }
        metrics = http_get(port, "/metrics").1;
        metrics.contains("stancewatch_passes_total 1\n")
    });
    assert_eq!(http_get(port, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(http_get(port, "/nothing").0, 404);
    signal(child.id(), "TERM");
    assert!(child.wait().unwrap().success());
    for want in [
        "stancewatch_feeds 2\n",
        "stancewatch_feeds_ok 2\n",
        "stancewatch_feeds_failing 0\n",
        // Poland refusing troops moves one cell, opposing NATO membership another
        "stancewatch_shifts_total 2\n",
        "stancewatch_alerts_sent_total 2\n",
        "stancewatch_alerts_owed 0\n",
        "# TYPE stancewatch_pass_duration_seconds gauge\n",
    ] {
        assert!(metrics.contains(want), "{want:?} missing from\n{metrics}");
    }
}

#[test]
fn a_second_pass_on_the_same_state_waits_for_the_first() {
    let http = HttpServer::start();
    let feeds = serve_many_shifts(&http, 0);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &feeds[..1], smtp.port, "");
    // the lock a running pass holds
    let lock = std::fs::File::create(dir.path().join("state.db.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = Command::new(bin())
        .args(["check", "--config", cfg.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "it did not wait");
    assert!(smtp.mails().is_empty());
    assert!(http.hits("/feeds/troops-Poland.xml").is_empty());
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        smtp.mails().len(),
        1,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_feed_ttl_longer_than_the_interval_sets_the_next_poll() {
    let http = HttpServer::start();
    let xml = rss(&[]).replace(
        "<description>test</description>",
        "<description>test</description><ttl>180</ttl>",
    );
    http.route("/feeds/slow.xml", Route::ok("application/rss+xml", xml));
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/slow.xml")], smtp.port, "");
    // interval 15m; jitter set to nothing so the figure is exact
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("interval = \"15m\"", "interval = \"15m\"\njitter = \"0s\"");
    std::fs::write(&cfg, text).unwrap();
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let (last, next, ttl): (String, String, i64) = db
        .query_row("SELECT last_success, next_poll, ttl FROM feeds", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let last = chrono::DateTime::parse_from_rfc3339(&last).unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    assert_eq!(ttl, 180 * 60);
    assert_eq!((next - last).num_minutes(), 180);
}
