//! `check` against a loopback feed server and a loopback SMTP server.

use crate::support::*;

fn page(name: &str) -> Vec<u8> {
    std::fs::read(repo(&format!("config/demo/pages/{name}"))).unwrap()
}

/// A feed with a shift (Kremlin), a new cell (Rome) and an off-topic story.
fn serve_news(http: &HttpServer) {
    http.route(
        "/feeds/wire.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[
                (
                    "k1",
                    "Kremlin signals it could live with neutral peacekeepers",
                    "/pages/kremlin.html",
                ),
                ("r1", "Rome keeps its soldiers at home", "/pages/rome.html"),
                (
                    "h1",
                    "Harbour festival draws record crowds",
                    "/pages/harbour.html",
                ),
            ]),
        )
        .with_etag("\"v1\""),
    );
    http.route(
        "/pages/kremlin.html",
        Route::ok("text/html", page("kremlin-neutral-peacekeepers.html")),
    );
    http.route(
        "/pages/rome.html",
        Route::ok("text/html", page("rome-no-soldiers.html")),
    );
    http.route(
        "/pages/harbour.html",
        Route::ok("text/html", page("harbour-festival.html")),
    );
}

fn shift_headers(mail: &str) -> Vec<String> {
    let head = mail.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .filter_map(|l| l.strip_prefix("X-Stancewatch-Shift: "))
        .map(|s| s.trim().to_string())
        .collect()
}

#[test]
fn shift_is_mailed_once_and_a_second_pass_sends_nothing() {
    let http = HttpServer::start();
    serve_news(&http);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let cfg = cfg.to_str().unwrap();

    let first = run(&["check", "--config", cfg]);
    assert!(first.status.success(), "{}", stderr(&first));
    let mails = smtp.mails();
    assert!(
        !mails.is_empty(),
        "no alert arrived; summary:\n{}",
        stdout(&first)
    );
    let all: Vec<String> = mails.iter().flat_map(|m| shift_headers(m)).collect();
    assert!(
        all.contains(&"russia/foreign_force/opposes->conditional".to_string()),
        "headers seen: {all:?}"
    );
    for m in &mails {
        assert!(
            !shift_headers(m).is_empty(),
            "every alert carries the shift header"
        );
        assert!(m.contains("multipart/alternative"));
        assert!(m.contains("Message-ID: <"));
    }
    // the off-topic page produced nothing
    assert!(!all.iter().any(|h| h.contains("festival")));

    let second = run(&["check", "--config", cfg]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        smtp.mails().len(),
        mails.len(),
        "a second pass must send nothing"
    );
    // the second feed request was conditional and answered 304
    let feed_hits = http.hits("/feeds/wire.xml");
    assert_eq!(feed_hits.len(), 2);
    assert_eq!(
        feed_hits[1]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(feed_hits[1].status, 304);
    // pages were fetched once each
    assert_eq!(http.hits("/pages/kremlin.html").len(), 1);
}

#[test]
fn a_broken_feed_is_reported_and_the_pass_goes_on() {
    let http = HttpServer::start();
    serve_news(&http);
    http.route("/feeds/down.xml", Route::status(500));
    http.route(
        "/feeds/garbage.xml",
        Route::ok("application/xml", vec![0xffu8, 0x00, 0x13, b'<', b'x']),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds = [
        http.url("/feeds/down.xml"),
        http.url("/feeds/garbage.xml"),
        http.url("/feeds/wire.xml"),
    ];
    let cfg = write_config(dir.path(), &feeds, smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("2 failed"), "{s}");
    assert!(s.contains("down.xml: HTTP status 500"), "{s}");
    assert!(s.contains("garbage.xml: not a feed"), "{s}");
    assert!(!smtp.mails().is_empty(), "the good feed still alerts");
}

#[test]
fn smtp_outage_keeps_the_alert_owed_until_it_can_be_delivered() {
    let http = HttpServer::start();
    serve_news(&http);
    // reserve a port, release it: nothing listens there during the first pass
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], port, "");
    let cfg = cfg.to_str().unwrap();
    let down = run(&["check", "--config", cfg]);
    assert!(
        down.status.success(),
        "an SMTP outage is not a failed pass: {}",
        stderr(&down)
    );
    let s = stdout(&down);
    assert!(s.contains("0 sent") && !s.contains(" 0 owed"), "{s}");

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("port still free");
    let smtp = SmtpServer::start_on(listener);
    // `check` tries the owed alert at once, backoff or not
    let up = run(&["check", "--config", cfg]);
    assert!(up.status.success(), "{}", stderr(&up));
    let n = smtp.mails().len();
    assert!(
        n >= 1,
        "owed alerts delivered as soon as the server is back: {}",
        stdout(&up)
    );
    let again = run(&["check", "--config", cfg]);
    assert!(again.status.success());
    assert_eq!(smtp.mails().len(), n, "delivered exactly once");
}

#[test]
fn dry_run_renders_files_and_records_nothing() {
    let http = HttpServer::start();
    serve_news(&http);
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail");
    let c = format!(
        "[state]\npath = \"{}\"\n[[feeds]]\nurl = \"{}\"\n[email]\nfrom = \"sw@localhost\"\nto = [\"a@localhost\"]\nmaildir = \"{}\"\n",
        dir.path().join("state.db").display(),
        http.url("/feeds/wire.xml"),
        mail.display()
    );
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, c).unwrap();
    let out = run(&["check", "--config", cfg.to_str().unwrap(), "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<_> = std::fs::read_dir(&mail).unwrap().collect();
    assert!(!files.is_empty());
    // nothing was recorded: a real pass afterwards finds the same entries new
    let real = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(stdout(&real).contains("3 new"), "{}", stdout(&real));
}

#[test]
fn the_demo_config_finds_a_shift_offline() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(repo("config/demo.toml")).unwrap();
    let demo = demo
        .replace(
            "../target/demo/state.db",
            &dir.path().join("state.db").display().to_string(),
        )
        .replace(
            "../target/demo/mail",
            &dir.path().join("mail").display().to_string(),
        )
        .replace(
            "file:demo/",
            &format!("file:{}/", repo("config/demo").display()),
        );
    let cfg = dir.path().join("demo.toml");
    std::fs::write(&cfg, demo).unwrap();
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("shift russia/foreign_force opposes -> conditional"),
        "{}",
        stdout(&out)
    );
    let emls = std::fs::read_dir(dir.path().join("mail")).unwrap().count();
    assert!(emls >= 1);
    // not a terminal: no progress line
    assert!(!stderr(&out).contains("feeds 2/2"), "{}", stderr(&out));
}
