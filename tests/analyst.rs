//! The analyst's loop: a move waits for a second outlet, alerts once with
//! both, shows in `positions`, is undone with `ledger revert`, is listed by
//! `history` and exported as Atom.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

const TUSK: &str = "Poland is ready to send its own troops to Ukraine once a ceasefire holds, Prime Minister Donald Tusk said on Monday.";
const MINISTER: &str = "Warsaw will contribute soldiers to a peacekeeping force in Ukraine, the Polish defence minister told reporters on Thursday.";

fn page(title: &str, text: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{text}</p></article></body></html>"
    )
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(stdout(out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn a_move_waits_for_a_second_outlet_alerts_once_and_can_be_undone() {
    // two outlets: two sites on loopback
    let a = HttpServer::start_at("127.0.0.1");
    let b = HttpServer::start_at("127.0.0.2");
    a.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("a1", "Warsaw on troops", "/a1.html")]),
        ),
    );
    a.route(
        "/a1.html",
        Route::ok("text/html", page("Warsaw on troops", TUSK)),
    );
    b.route("/feed.xml", Route::ok("application/rss+xml", rss(&[])));
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &[a.url("/feed.xml"), b.url("/feed.xml")],
        smtp.port,
        "[alerts]\nsources = 2\nwindow = \"72h\"\n",
    );
    let cfg = cfg.to_str().unwrap();
    let check = || {
        let out = run(&["check", "--config", cfg]);
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };

    // one outlet: no mail, a pending move
    check();
    assert_eq!(smtp.mails().len(), 0, "one source is not enough");
    let p = json(&run(&["positions", "--config", cfg, "--format", "json"]));
    let pending = p["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{p}");
    assert_eq!(pending[0]["actor"], "poland");
    assert_eq!(pending[0]["topic"], "own_troops");
    assert_eq!(pending[0]["to"], "supports");
    assert!(pending[0]["from"].is_null());
    assert_eq!(pending[0]["sources"].as_array().unwrap().len(), 1);

    // a second outlet, other wording: one mail citing both
    b.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("b1", "Polish soldiers for Ukraine", "/b1.html")]),
        ),
    );
    b.route(
        "/b1.html",
        Route::ok("text/html", page("Polish soldiers for Ukraine", MINISTER)),
    );
    check();
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "exactly one alert");
    let mail = decode_qp(&mails[0]);
    assert!(
        headers(&mails[0]).contains("X-Stancewatch-Shift: poland/own_troops/none->supports"),
        "{}",
        headers(&mails[0])
    );
    assert!(mail.contains(&a.url("/a1.html")), "{mail}");
    assert!(mail.contains(&b.url("/b1.html")), "{mail}");
    let p = json(&run(&["positions", "--config", cfg, "--format", "json"]));
    assert!(p["pending"].as_array().unwrap().is_empty(), "{p}");
    let cell = p["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["actor"] == "poland" && c["topic"] == "own_troops")
        .unwrap_or_else(|| panic!("{p}"))
        .clone();
    assert_eq!(cell["stance"], "supports");
    assert_eq!(cell["sources"].as_array().unwrap().len(), 2, "{cell}");

    // a repeat pass sends nothing
    check();
    assert_eq!(smtp.mails().len(), 1);

    // the analyst undoes it; history shows both changes
    let out = run(&[
        "ledger",
        "revert",
        "--config",
        cfg,
        "poland/own_troops",
        "--note",
        "one misreading copied",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = json(&run(&["positions", "--config", cfg, "--format", "json"]));
    assert!(
        !p["positions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["actor"] == "poland" && c["topic"] == "own_troops"),
        "{p}"
    );
    let out = run(&[
        "history",
        "--config",
        cfg,
        "--format",
        "json",
        "poland/own_troops",
    ]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&out));
    assert_eq!(lines[0]["by"], "engine");
    assert_eq!(lines[0]["to"], "supports");
    assert_eq!(lines[0]["sources"].as_array().unwrap().len(), 2);
    assert_eq!(lines[1]["by"], "analyst");
    assert!(lines[1]["to"].is_null());
    assert_eq!(lines[1]["note"], "one misreading copied");

    // the same sources, read again, do not bring the move back
    a.route(
        "/a1.html",
        Route::ok(
            "text/html",
            page(
                "Warsaw on troops",
                &format!("{TUSK} The statement was repeated."),
            ),
        ),
    );
    a.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("a1", "Warsaw on troops, updated", "/a1.html")]),
        ),
    );
    check();
    assert_eq!(
        smtp.mails().len(),
        1,
        "a reverted move from the same sources alerts no more"
    );
    let p = json(&run(&["positions", "--config", cfg, "--format", "json"]));
    assert!(p["pending"].as_array().unwrap().is_empty(), "{p}");

    // the confirmed shift as an Atom feed a reader parses
    let out = run(&["export", "--config", cfg, "--format", "atom"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let feed = feed_rs::parser::parse(stdout(&out).as_bytes()).expect("valid Atom");
    assert_eq!(feed.entries.len(), 1);
    let e = &feed.entries[0];
    assert!(
        e.title.as_ref().unwrap().content.contains("Poland"),
        "{e:?}"
    );
    assert!(
        e.links
            .iter()
            .any(|l| l.href.starts_with("http://127.0.0.")),
        "{e:?}"
    );
    let out = run(&["export", "--config", cfg, "--format", "csv"]);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
}

#[test]
fn review_commands_refuse_unknown_cells_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[], 25, "");
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["ledger", "revert", "--config", cfg, "atlantis/own_troops"],
        vec![
            "ledger",
            "set",
            "--config",
            cfg,
            "poland/own_troops",
            "maybe",
        ],
        vec!["history", "--config", cfg, "poland/weather"],
        vec!["ledger", "revert", "--config", cfg, "poland/own_troops"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
}

/// The header lines of an HTTP answer's head, lower-cased names.
fn header_of<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn the_daemon_serves_the_positions_page_and_the_feed_of_confirmed_shifts() {
    let a = HttpServer::start_at("127.0.0.1");
    let b = HttpServer::start_at("127.0.0.2");
    // an outlet's name is a stranger's text: it must reach the page as text
    let hostile = "Wire <script>document.title='run'</script>";
    a.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("a1", "Warsaw on troops", "/a1.html")]).replace(
                "<title>Loopback Wire</title>",
                &format!("<title>{}</title>", hostile.replace('<', "&lt;")),
            ),
        ),
    );
    a.route(
        "/a1.html",
        Route::ok("text/html", page("Warsaw on troops", TUSK)),
    );
    b.route("/feed.xml", Route::ok("application/rss+xml", rss(&[])));
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(
        dir.path(),
        &[a.url("/feed.xml"), b.url("/feed.xml")],
        smtp.port,
        &format!("[alerts]\nsources = 2\n\n[daemon]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let mut child = start_run(&cfg);
    let mut html = String::new();
    wait_for(
        "the pending move on the page",
        Duration::from_secs(60),
        || {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                return false;
            }
            html = http_get(port, "/").1;
            html.contains("id=\"pending\"") && !html.contains("Nothing is waiting")
        },
    );
    let (code, head, _) = http_fetch(port, "/");
    assert_eq!(code, 200);
    assert_eq!(
        header_of(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = header_of(&head, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{head}");
    assert_eq!(header_of(&head, "x-content-type-options"), Some("nosniff"));
    assert!(html.contains(TUSK), "{html}");
    assert!(html.contains("Wire &lt;script&gt;"), "{html}");
    assert!(html.contains(&a.url("/a1.html")), "{html}");
    assert!(
        !html.contains("<script"),
        "nothing from a feed is markup: {html}"
    );
    assert!(html.contains("No change since the baseline"), "{html}");

    // a second outlet, read by a one-shot check on the same state: the
    // page, read afresh, shows the change with both sources
    b.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("b1", "Polish soldiers for Ukraine", "/b1.html")]),
        ),
    );
    b.route(
        "/b1.html",
        Route::ok("text/html", page("Polish soldiers for Ukraine", MINISTER)),
    );
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(smtp.mails().len(), 1);
    let (code, html) = http_get(port, "/");
    assert_eq!(code, 200);
    assert!(html.contains("id=\"cell-poland-own_troops\""), "{html}");
    assert!(html.contains("Nothing is waiting"), "{html}");
    assert!(html.contains(&b.url("/b1.html")), "{html}");

    let (code, head, body) = http_fetch(port, "/shifts.atom");
    assert_eq!(code, 200);
    assert_eq!(
        header_of(&head, "content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("valid Atom");
    assert_eq!(feed.entries.len(), 1);

    let browser = browser();
    assert!(
        browser.is_some() || std::env::var_os("STANCEWATCH_TEST_BROWSER").is_none(),
        "STANCEWATCH_TEST_BROWSER is set and no Chromium was found"
    );
    if let Some(browser) = browser {
        // what a reader's browser makes of it: the matrix and the timeline
        // are there, and nothing from the feed ran
        let dom = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-dev-shm-usage",
                &format!("--user-data-dir={}", dir.path().join("browser").display()),
                "--dump-dom",
                &format!("http://127.0.0.1:{port}/"),
            ])
            .output()
            .expect("run the browser");
        let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
        assert!(dom.contains("<table"), "{dom}");
        assert!(dom.contains("id=\"cell-poland-own_troops\""), "{dom}");
        assert!(dom.contains("<title>stancewatch"), "{dom}");
        assert!(!dom.contains("<title>run"), "{dom}");
    }
    terminate(&mut child);
}

/// A headless browser, if the machine has one. CI installs Chromium and sets
/// `STANCEWATCH_TEST_BROWSER`, so there the browser's part cannot be skipped.
fn browser() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn a_move_nobody_confirms_within_the_window_is_dropped_and_shown_in_history() {
    let a = HttpServer::start_at("127.0.0.1");
    a.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("a1", "Warsaw on troops", "/a1.html")]),
        ),
    );
    a.route(
        "/a1.html",
        Route::ok("text/html", page("Warsaw on troops", TUSK)),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &[a.url("/feed.xml")],
        smtp.port,
        "[alerts]\nsources = 2\nwindow = \"1s\"\n",
    );
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = json(&run(&["positions", "--config", cfg, "--format", "json"]));
    assert_eq!(p["pending"].as_array().unwrap().len(), 1, "{p}");
    std::thread::sleep(Duration::from_millis(1500));
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = json(&run(&["positions", "--config", cfg, "--format", "json"]));
    assert!(p["pending"].as_array().unwrap().is_empty(), "{p}");
    assert_eq!(smtp.mails().len(), 0);

    let out = run(&["history", "--config", cfg, "--format", "json"]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    assert_eq!(lines[0]["expired"], true);
    assert_eq!(lines[0]["actor"], "poland");
    assert_eq!(lines[0]["to"], "supports");
    assert_eq!(lines[0]["sources"][0]["url"], a.url("/a1.html"));
    let text = stdout(&run(&["history", "--config", cfg, "poland/own_troops"]));
    assert!(text.contains("not corroborated"), "{text}");
    assert!(text.contains(TUSK), "{text}");
}
