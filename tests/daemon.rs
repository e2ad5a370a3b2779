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
