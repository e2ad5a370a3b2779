//! Alert delivery against a real SMTP server on 127.0.0.1: retries,
//! refusals, and hostile text from feeds.

use crate::support::*;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>x</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"
    )
}

const KREMLIN: &str = "Moscow could accept foreign peacekeepers in Ukraine, but only if none of them came from NATO member states, a senior Kremlin adviser told reporters on Friday.";

fn serve_one(http: &HttpServer, item_title: &str, page_title: &str) {
    http.route(
        "/feeds/wire.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("k1", item_title, "/pages/k.html")]),
        ),
    );
    http.route(
        "/pages/k.html",
        Route::ok("text/html", page(page_title, KREMLIN)),
    );
}

fn rewind_retries(dir: &std::path::Path) {
    let db = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    db.execute("UPDATE outbox SET next_attempt = NULL", [])
        .unwrap();
}

fn outbox(dir: &std::path::Path) -> Vec<(String, i64, Option<String>)> {
    let db = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let mut st = db
        .prepare("SELECT status, attempts, last_error FROM outbox ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_temporary_refusal_is_retried_and_delivered_once() {
    let http = HttpServer::start();
    serve_one(&http, "Kremlin on peacekeepers", "Kremlin on peacekeepers");
    let smtp = SmtpServer::start();
    smtp.set_mode(SmtpMode::Temporary);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let cfg = cfg.to_str().unwrap();
    let first = run(&["check", "--config", cfg]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("will retry"), "{}", stdout(&first));
    let ob = outbox(dir.path());
    assert_eq!(ob.len(), 1);
    assert_eq!(ob[0].0, "owed");
    assert!(ob[0].2.as_deref().unwrap_or("").contains("451"), "{ob:?}");

    smtp.set_mode(SmtpMode::Accept);
    // `check` flushes the queue at once, whatever the backoff (the daemon
    // keeps it)
    let second = run(&["check", "--config", cfg]);
    assert!(second.status.success());
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(outbox(dir.path())[0].0, "sent");
    let third = run(&["check", "--config", cfg]);
    assert!(third.status.success());
    assert_eq!(smtp.mails().len(), 1, "delivered exactly once");
}

#[test]
fn a_permanent_refusal_is_kept_as_failed_with_the_servers_words() {
    let http = HttpServer::start();
    serve_one(&http, "Kremlin on peacekeepers", "Kremlin on peacekeepers");
    let smtp = SmtpServer::start();
    smtp.set_mode(SmtpMode::Permanent);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("refused"), "{}", stdout(&out));
    let ob = outbox(dir.path());
    assert_eq!(ob[0].0, "failed");
    assert!(
        ob[0].2.as_deref().unwrap_or("").contains("message refused"),
        "{ob:?}"
    );
    smtp.set_mode(SmtpMode::Accept);
    rewind_retries(dir.path());
    let again = run(&["check", "--config", cfg]);
    assert!(again.status.success());
    assert_eq!(smtp.mails().len(), 0, "a refused alert is not resent");
}

#[test]
fn hostile_titles_inject_no_header_or_recipient_and_html_is_escaped() {
    let http = HttpServer::start();
    // CR/LF and a Bcc line in the feed title; a script in the page title
    serve_one(
        &http,
        "Kremlin&#13;&#10;Bcc: victim@example.com&#13;&#10;X-Evil: 1",
        "Kremlin &lt;script&gt;alert(1)&lt;/script&gt;\r\nBcc: victim@example.com",
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{}", stdout(&out));
    let head = headers(&mails[0]).to_ascii_lowercase();
    assert!(
        !head.contains("\nbcc:") && !head.starts_with("bcc:"),
        "{head}"
    );
    assert!(!head.contains("x-evil"), "{head}");
    assert_eq!(smtp.rcpts(), vec!["analyst@localhost".to_string()]);
    let html = mime_part(&mails[0], "text/html").expect("an HTML part");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    let text = mime_part(&mails[0], "text/plain").expect("a text part");
    assert!(text.contains("[-") && text.contains("{+"), "{text}");
    assert!(text.contains("Positions ("), "{text}");
}

#[test]
fn test_email_reports_what_the_server_said() {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[], smtp.port, "");
    let out = run(&["test-email", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("sent:"), "{}", stdout(&out));
    assert_eq!(smtp.mails().len(), 1);
    smtp.set_mode(SmtpMode::Permanent);
    let out = run(&["test-email", "--config", cfg.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("refused by the server"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_digest_collects_owed_alerts_into_one_message() {
    let http = HttpServer::start();
    http.route(
        "/feeds/wire.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[
                ("k1", "Kremlin on peacekeepers", "/pages/k.html"),
                ("r1", "Rome on soldiers", "/pages/r.html"),
            ]),
        ),
    );
    http.route(
        "/pages/k.html",
        Route::ok("text/html", page("Kremlin on peacekeepers", KREMLIN)),
    );
    http.route(
        "/pages/r.html",
        Route::ok(
            "text/html",
            page(
                "Rome on soldiers",
                "Italy will not deploy its own troops to Ukraine once the fighting ends, Prime Minister Giorgia Meloni told the Senate on Tuesday.",
            ),
        ),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    // the [email] table is last in the file: add the digest interval to it
    let text = std::fs::read_to_string(&cfg).unwrap() + "digest = \"1h\"\n";
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let first = run(&["check", "--config", cfg]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(smtp.mails().len(), 0, "held for the digest");
    assert_eq!(outbox(dir.path()).len(), 2);
    // an hour later (the clock in the database moves back)
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    db.execute("UPDATE outbox SET created_at = '2000-01-01T00:00:00Z'", [])
        .unwrap();
    drop(db);
    let second = run(&["check", "--config", cfg]);
    assert!(second.status.success(), "{}", stderr(&second));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one digest");
    let head = headers(&mails[0]);
    assert!(
        head.contains("X-Stancewatch-Shift: russia/foreign_force/opposes->conditional"),
        "{head}"
    );
    assert!(
        head.contains("X-Stancewatch-Shift: italy/own_troops/none->opposes"),
        "{head}"
    );
    assert!(head.contains("stancewatch digest"), "{head}");
    assert!(outbox(dir.path()).iter().all(|r| r.0 == "sent"));
}

#[test]
fn a_refused_digest_goes_out_as_single_alerts() {
    let http = HttpServer::start();
    http.route(
        "/feeds/wire.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[
                ("k1", "Kremlin on peacekeepers", "/pages/k.html"),
                ("r1", "Rome on soldiers", "/pages/r.html"),
            ]),
        ),
    );
    http.route(
        "/pages/k.html",
        Route::ok("text/html", page("Kremlin on peacekeepers", KREMLIN)),
    );
    http.route(
        "/pages/r.html",
        Route::ok(
            "text/html",
            page(
                "Rome on soldiers",
                "Italy will not deploy its own troops to Ukraine once the fighting ends, Prime Minister Giorgia Meloni told the Senate on Tuesday.",
            ),
        ),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let text = std::fs::read_to_string(&cfg).unwrap() + "digest = \"1h\"\n";
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let first = run(&["check", "--config", cfg]);
    assert!(first.status.success(), "{}", stderr(&first));
    // an hour later, the server refuses the digest (too big, say) and
    // takes what comes after it
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    db.execute("UPDATE outbox SET created_at = '2000-01-01T00:00:00Z'", [])
        .unwrap();
    drop(db);
    smtp.set_mode(SmtpMode::RefuseNext);
    let second = run(&["check", "--config", cfg]);
    assert!(second.status.success(), "{}", stderr(&second));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "each alert alone: {}", stdout(&second));
    assert!(
        mails
            .iter()
            .all(|m| !headers(m).contains("stancewatch digest"))
    );
    assert!(
        outbox(dir.path()).iter().all(|r| r.0 == "sent"),
        "{:?}",
        outbox(dir.path())
    );
}

#[test]
fn the_same_story_elsewhere_is_listed_as_corroboration_not_mailed_twice() {
    let http = HttpServer::start();
    http.route(
        "/feeds/wire.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[
                ("a1", "Kremlin on peacekeepers", "/pages/a.html"),
                ("b1", "Moscow softens", "/pages/b.html"),
            ]),
        ),
    );
    http.route(
        "/pages/a.html",
        Route::ok("text/html", page("Kremlin on peacekeepers", KREMLIN)),
    );
    http.route(
        "/pages/b.html",
        Route::ok("text/html", page("Moscow softens", KREMLIN)),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one story, one alert: {}", stdout(&out));
    let text = mime_part(&mails[0], "text/plain").unwrap();
    assert!(text.contains("Also reported by"), "{text}");
    assert!(
        text.contains("/pages/a.html") && text.contains("/pages/b.html"),
        "{text}"
    );
}

/// A wire story long enough to be fingerprinted, carrying one shift.
fn wire_story(dateline: &str, cut_last: bool) -> String {
    wire_story_with(dateline, cut_last, "")
}

fn wire_story_with(dateline: &str, cut_last: bool, update: &str) -> String {
    let mut paras = vec![
        format!("{dateline} Moscow could accept foreign peacekeepers in Ukraine, but only if none of them came from NATO member states, a senior Kremlin adviser told reporters on Friday."),
        "The remarks came as European envoys gathered in Paris to compare notes on a possible reassurance force, a plan that has divided capitals for months and that officials describe as still far from settled.".to_string(),
        "Diplomats said the talks would continue next week in Brussels, where defence ministers are due to review what each country could contribute to monitoring a ceasefire along the front line.".to_string(),
        "Several ministers cautioned that no decision on troop numbers had been taken and that parliaments would have the final word in many member states.".to_string(),
    ];
    if cut_last {
        paras.pop();
    }
    if !update.is_empty() {
        paras.push(update.to_string());
    }
    let body: String = paras.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!DOCTYPE html><html><head><title>x</title></head><body><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav><article><h1>Moscow sets terms for peacekeepers</h1>{body}</article><footer>All rights reserved.</footer></body></html>"
    )
}

#[test]
fn a_syndicated_wire_story_gives_one_alert_across_outlets_and_passes() {
    let http = HttpServer::start();
    for (feed, page, dateline, cut) in [
        ("/a/feed.xml", "/a/story.html", "MOSCOW (Wire) -", false),
        (
            "/b/feed.xml",
            "/b/2026/story.html",
            "MOSCOW, Nov 20 (Agency) -",
            true,
        ),
        ("/c/feed.xml", "/c/news/story.html", "Moscow —", false),
    ] {
        http.route(
            feed,
            Route::ok(
                "application/rss+xml",
                rss(&[(&format!("{feed}#1"), "Moscow sets terms", page)]),
            ),
        );
        http.route(page, Route::ok("text/html", wire_story(dateline, cut)));
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds = vec![http.url("/a/feed.xml"), http.url("/b/feed.xml")];
    let cfg = write_config(dir.path(), &feeds, smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 repeating a story already read"),
        "{}",
        stdout(&out)
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one story, one alert: {}", stdout(&out));
    let text = mime_part(&mails[0], "text/plain").unwrap();
    assert!(text.contains("Also reported by"), "{text}");
    assert!(
        text.contains("/a/story.html") && text.contains("/b/2026/story.html"),
        "{text}"
    );

    // a third outlet carries the story a pass later, in a new process
    let feeds = vec![
        http.url("/a/feed.xml"),
        http.url("/b/feed.xml"),
        http.url("/c/feed.xml"),
    ];
    let cfg = write_config(dir.path(), &feeds, smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(smtp.mails().len(), 1, "no second alert: {}", stdout(&out));

    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let mut st = db
        .prepare("SELECT link, status, dup_of FROM entries ORDER BY link")
        .unwrap();
    let rows: Vec<(String, String, Option<String>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let original = http.url("/a/story.html");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let by_status = |s: &str| rows.iter().filter(|r| r.1 == s).count();
    assert_eq!(by_status("analysed"), 1, "{rows:?}");
    assert_eq!(by_status("duplicate"), 2, "{rows:?}");
    // the copies point at the story that was read, whichever outlet it was
    let read = rows.iter().find(|r| r.1 == "analysed").unwrap().0.clone();
    for r in rows.iter().filter(|r| r.1 == "duplicate") {
        assert_eq!(r.2.as_deref(), Some(read.as_str()), "{rows:?}");
    }
    assert!(
        read == original || read.ends_with("/b/2026/story.html"),
        "{rows:?}"
    );
}

#[test]
fn an_entry_updated_in_place_is_read_again_once_not_taken_for_a_copy() {
    let http = HttpServer::start();
    let serve = |title: &str, update: &str| {
        http.route(
            "/feed.xml",
            Route::ok(
                "application/rss+xml",
                rss(&[("story-1", title, "/story.html")]),
            ),
        );
        http.route(
            "/story.html",
            Route::ok(
                "text/html",
                wire_story_with("MOSCOW (Wire) -", false, update),
            ),
        );
    };
    serve("Moscow sets terms", "");
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feed.xml")], smtp.port, "");
    let cfg = cfg.to_str().unwrap();
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(smtp.mails().len(), 1, "{}", stdout(&out));

    // the same entry, updated: a paragraph with news of its own
    serve(
        "Moscow sets terms; Rome keeps its soldiers home",
        "Italy will not deploy its own troops to Ukraine once the fighting ends, Prime Minister Giorgia Meloni told the Senate on Tuesday.",
    );
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 repeating a story already read"),
        "{}",
        stdout(&out)
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "{}", stdout(&out));
    assert!(mails[1].contains("italy/own_troops"), "{}", mails[1]);

    // unchanged since: not read a third time
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(http.hits("/story.html").len(), 2);
    assert_eq!(smtp.mails().len(), 2);
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let (status, attempts): (String, i64) = db
        .query_row(
            "SELECT status, attempts FROM entries WHERE entry_id = 'story-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("analysed", 2));
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A small SMTP server that offers AUTH PLAIN on a plain connection and
/// records every line it is sent.
fn auth_smtp_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = lines.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut out = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                let _ = out.write_all(b"220 localhost ESMTP\r\n");
                let mut line = String::new();
                let mut in_data = false;
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    seen.lock().unwrap().push(line.clone());
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            b"250 2.0.0 queued\r\n"
                        } else {
                            b""
                        }
                    } else if cmd.starts_with("EHLO") {
                        b"250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("AUTH") {
                        b"235 2.7.0 authenticated\r\n"
                    } else if cmd.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    if !reply.is_empty() && out.write_all(reply).is_err() {
                        break;
                    }
                    line.clear();
                }
            });
        }
    });
    (port, lines)
}

#[test]
fn the_smtp_password_appears_nowhere_but_in_the_auth_exchange() {
    const PASSWORD: &str = "Zq7-unlikely-Secret-4kP";
    let http = HttpServer::start();
    serve_one(&http, "Kremlin on peacekeepers", "Kremlin on peacekeepers");
    let (port, lines) = auth_smtp_server();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/wire.xml")], port, "")
        .to_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "timeout = \"5s\"",
        "timeout = \"5s\"\nusername = \"desk\"\npassword_env = \"SW_TEST_SMTP_PASSWORD\"",
    );
    std::fs::write(&cfg, text).unwrap();
    for args in [
        vec!["--log", "trace", "check", "--config", &cfg],
        vec!["--log", "trace", "test-email", "--config", &cfg],
        vec!["--log", "trace", "config", "check", "--config", &cfg],
        vec!["--log", "trace", "feeds", "--config", &cfg],
    ] {
        let out = std::process::Command::new(bin())
            .args(&args)
            .env("SW_TEST_SMTP_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            all.contains("TRACE") || args[2] != "check",
            "trace logging was on"
        );
        assert!(!all.contains(PASSWORD), "{args:?} printed the password");
        assert!(!all.contains(&base64(PASSWORD.as_bytes())));
    }
    // the server got it, in the one place it belongs
    let plain = base64(format!("\0desk\0{PASSWORD}").as_bytes());
    let seen = lines.lock().unwrap().clone();
    assert!(
        seen.iter().any(|l| l.contains(&plain)),
        "the password was not used: {seen:?}"
    );
    assert!(seen.iter().any(|l| l.starts_with("X-Stancewatch-Shift")));
    // nowhere in the state: database, its journal, anything in the folder
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for needle in [PASSWORD.as_bytes(), plain.as_bytes()] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} holds the password",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_same_move_made_again_at_one_link_is_mailed_again() {
    let http = HttpServer::start();
    let page = |text: &str| {
        format!(
            "<!DOCTYPE html><html><body><article><h1>Washington</h1><p>{text}</p></article></body></html>"
        )
    };
    let ready = "The United States is ready to send its own troops to Ukraine after a ceasefire, the White House said on Monday.";
    let not = "The United States will not send its own troops to Ukraine under any settlement, the White House said on Friday.";
    http.route("/l.html", Route::ok("text/html", page(ready)));
    http.route("/m.html", Route::ok("text/html", page(not)));
    let feed = |items: &[(&str, &str, &str)]| {
        http.route("/feed.xml", Route::ok("application/rss+xml", rss(items)));
    };
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feed.xml")], smtp.port, "");
    let cfg = cfg.to_str().unwrap();
    let pass = |n: usize| {
        let out = run(&["check", "--config", cfg]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(smtp.mails().len(), n, "{}", stdout(&out));
    };
    // opposes (the baseline) -> supports, at /l.html
    feed(&[("l", "Washington on troops", "/l.html")]);
    pass(1);
    // supports -> opposes, another article
    feed(&[
        ("l", "Washington on troops", "/l.html"),
        ("m", "Washington rules troops out", "/m.html"),
    ]);
    pass(2);
    // opposes -> supports again, at /l.html: the same move, a new alert
    http.route(
        "/l.html",
        Route::ok(
            "text/html",
            page(&format!("{ready} The statement was repeated on Sunday.")),
        ),
    );
    feed(&[
        ("l", "Washington on troops, updated", "/l.html"),
        ("m", "Washington rules troops out", "/m.html"),
    ]);
    pass(3);
}
