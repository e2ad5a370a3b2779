//! Servers that misbehave: each ends as a per-feed error within its
//! deadline while the other feeds of the pass succeed.

use std::io::Write;

use crate::support::*;

fn gzip_of_zeros(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0u8; n]).unwrap();
    e.finish().unwrap()
}

#[test]
fn hostile_feeds_fail_alone_and_the_pass_goes_on() {
    let http = HttpServer::start();
    // a good feed with a shift
    http.route(
        "/feeds/good.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("k1", "Kremlin on peacekeepers", "/pages/k.html")]),
        ),
    );
    http.route(
        "/pages/k.html",
        Route::ok(
            "text/html",
            "<html><body><article><h1>Kremlin</h1><p>Moscow could accept foreign peacekeepers in Ukraine, but only if none of them came from NATO member states, a senior Kremlin adviser told reporters on Friday.</p></article></body></html>",
        ),
    );
    // 256 MiB of zeros behind a quarter MiB of gzip
    http.route(
        "/feeds/bomb.xml",
        Route::ok("application/rss+xml", gzip_of_zeros(256 << 20))
            .header("Content-Encoding", "gzip"),
    );
    let mut drip = Route::ok("application/rss+xml", rss(&[]));
    drip.drip = true;
    http.route("/feeds/drip.xml", drip);
    http.route(
        "/feeds/loop.xml",
        Route::status(302).header("Location", "/feeds/loop.xml"),
    );
    let mut huge = Route::ok("application/rss+xml", vec![]);
    huge.endless = Some(2 << 30);
    http.route("/feeds/huge.xml", huge);
    http.route(
        "/feeds/random.xml",
        Route::ok(
            "application/rss+xml",
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect::<Vec<u8>>(),
        ),
    );
    let deep = format!(
        "<rss version=\"2.0\"><channel>{}</channel></rss>",
        "<item>".repeat(200_000)
    );
    http.route("/feeds/deep.xml", Route::ok("application/rss+xml", deep));

    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let feeds: Vec<String> = ["bomb", "drip", "loop", "huge", "random", "deep", "good"]
        .iter()
        .map(|f| http.url(&format!("/feeds/{f}.xml")))
        .collect();
    let cfg = write_config(
        dir.path(),
        &feeds,
        smtp.port,
        // the default body cap (8 MiB); a short deadline keeps the drip short
        "[fetch]\ntimeout = \"3s\"\n",
    );
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    // the pass ended by itself, and memory stayed bounded
    let mib: f64 = s
        .lines()
        .find_map(|l| l.split("peak memory ").nth(1))
        .and_then(|m| m.trim_end_matches(" MiB").parse().ok())
        .expect("the summary gives the peak memory");
    println!("peak memory over the hostile pass: {mib} MiB");
    assert!(mib < 300.0, "peak memory {mib} MiB");
    assert!(s.contains("bomb.xml: body larger than"), "{s}");
    assert!(s.contains("drip.xml: timed out"), "{s}");
    assert!(s.contains("loop.xml: request failed"), "{s}");
    assert!(s.contains("huge.xml: body larger than"), "{s}");
    assert!(s.contains("random.xml: not a feed"), "{s}");
    assert!(s.contains("deep.xml:"), "{s}");
    assert!(s.contains("6 failed"), "{s}");
    assert_eq!(smtp.mails().len(), 1, "the good feed still alerts: {s}");
}

#[test]
fn article_links_to_private_addresses_are_refused() {
    let http = HttpServer::start();
    let port = http.port;
    let links = [
        ("m", "http://169.254.169.254/latest/meta-data/".to_string()),
        ("t", "http://10.1.2.3/internal".to_string()),
        (
            "v",
            format!("http://[::ffff:127.0.0.2]:{port}/pages/k.html"),
        ),
        // a name that resolves to a private address, not the feed's own host
        ("d", format!("http://localhost:{port}/pages/k.html")),
        ("j", "javascript:alert(1)".to_string()),
    ];
    let items: Vec<(&str, &str, &str)> = links
        .iter()
        .map(|(g, l)| (*g, "Kremlin on peacekeepers", l.as_str()))
        .collect();
    http.route(
        "/feeds/f.xml",
        Route::ok("application/rss+xml", rss(&items)),
    );
    http.route(
        "/pages/k.html",
        Route::ok(
            "text/html",
            "<html><body><p>should never be fetched</p></body></html>",
        ),
    );
    let pass = check_feed(&http, "[fetch]\ntimeout = \"3s\"\n");
    let s = stdout(&pass.out);
    for host in ["169.254.169.254", "10.1.2.3", "[::ffff:", "localhost"] {
        let line = s
            .lines()
            .find(|x| x.trim_start().starts_with("page") && x.contains(host));
        assert!(
            line.is_some_and(|x| x.contains("refused") || x.contains("private")),
            "{host} not refused:\n{s}"
        );
    }
    assert!(
        http.hits("/pages/k.html").is_empty(),
        "a private link was fetched"
    );
    // a javascript: link is no article link at all: the entry is read from
    // the feed's own text, nothing is fetched
    assert!(!s.contains("javascript:"), "{s}");
    assert!(s.contains("articles: 1 analysed"), "{s}");
}

#[test]
fn too_many_requests_with_retry_after_delays_the_next_poll() {
    let http = HttpServer::start();
    http.route(
        "/feeds/busy.xml",
        Route::status(429).header("Retry-After", "7200"),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/busy.xml")], smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("HTTP status 429"), "{}", stdout(&out));
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let (next, err_at): (String, String) = db
        .query_row("SELECT next_poll, last_error_at FROM feeds", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(&err_at).unwrap();
    assert!(
        next - at >= chrono::Duration::seconds(7200),
        "next poll {next} only {} after the 429",
        next - at
    );
    let feeds = run(&["feeds", "--config", cfg.to_str().unwrap()]);
    assert!(
        stdout(&feeds).contains("HTTP status 429"),
        "{}",
        stdout(&feeds)
    );
}

#[test]
fn requests_to_one_host_never_exceed_the_per_host_limit() {
    let http = HttpServer::start();
    let items: Vec<(String, String)> = (0..16)
        .map(|i| (format!("g{i}"), format!("/pages/p{i}.html")))
        .collect();
    let refs: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|(g, l)| (g.as_str(), "A story", l.as_str()))
        .collect();
    http.route("/feeds/f.xml", Route::ok("application/rss+xml", rss(&refs)));
    for (_, l) in &items {
        let mut r = Route::ok(
            "text/html",
            "<html><body><p>Nothing to see.</p></body></html>",
        );
        r.delay_ms = 150;
        http.route(l, r);
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &[http.url("/feeds/f.xml")],
        smtp.port,
        "[fetch]\nper_host = 2\nconcurrency = 16\n",
    );
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        http.seen()
            .iter()
            .filter(|s| s.path.starts_with("/pages/"))
            .count(),
        16
    );
    let max = http.max_in_flight();
    assert!(max <= 2, "{max} requests at once to one host");
    assert!(
        max >= 2,
        "the pages were fetched one by one ({max}); the limit was not exercised"
    );
}

#[test]
fn a_failing_feed_gives_one_failing_and_one_recovered_notice() {
    let http = HttpServer::start();
    http.route("/feeds/f.xml", Route::status(500));
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &[http.url("/feeds/f.xml")],
        smtp.port,
        "[fetch]\nfailing_after = 2\n",
    );
    let cfg = cfg.to_str().unwrap();
    for _ in 0..4 {
        assert!(run(&["check", "--config", cfg]).status.success());
    }
    http.route("/feeds/f.xml", Route::ok("application/rss+xml", rss(&[])));
    for _ in 0..2 {
        assert!(run(&["check", "--config", cfg]).status.success());
    }
    let notices: Vec<String> = smtp
        .mails()
        .iter()
        .filter_map(|m| {
            headers(m)
                .lines()
                .find(|l| l.starts_with("X-Stancewatch-Feed: "))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].starts_with("X-Stancewatch-Feed: failing http://127.0.0.1"),
        "{notices:?}"
    );
    assert!(
        notices[1].starts_with("X-Stancewatch-Feed: recovered http://127.0.0.1"),
        "{notices:?}"
    );
}

#[test]
fn costly_pages_are_cut_or_given_up_and_the_good_alert_still_goes_out() {
    let http = HttpServer::start();
    let good = "<html><body><article><h1>Kremlin</h1><p>Moscow could accept foreign peacekeepers in Ukraine, but only if none of them came from NATO member states, a senior Kremlin adviser told reporters on Friday.</p></article></body></html>";
    http.route("/pages/good.html", Route::ok("text/html", good));
    // 200,000 sibling paragraphs
    let mut paras = String::from("<html><body><div>");
    for i in 0..200_000 {
        paras.push_str(&format!("<p>Paragraph {i}</p>"));
    }
    paras.push_str("</div></body></html>");
    http.route("/pages/paras.html", Route::ok("text/html", paras));
    // 100,000 nested elements
    let deep = format!(
        "<html><body>{}<p>Deep</p>{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    http.route("/pages/deep.html", Route::ok("text/html", deep));
    // one 450 KB sentence without punctuation, in the words the engine looks for
    let words = [
        "Russia",
        "Ukraine",
        "troops",
        "security",
        "guarantees",
        "the",
        "and",
        "Kremlin",
        "would",
        "not",
        "accept",
        "peacekeepers",
        "only",
        "if",
        "NATO",
        "Europe",
        "said",
        "could",
        "deploy",
        "force",
    ];
    let mut long = String::new();
    let mut x: u32 = 7;
    while long.len() < 450_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        long.push_str(words[(x >> 16) as usize % words.len()]);
        long.push(' ');
    }
    serve_article(&http, "/pages/long.html", &long);
    http.route(
        "/feeds/f.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[
                ("p", "Paragraphs", "/pages/paras.html"),
                ("d", "Deep", "/pages/deep.html"),
                ("l", "Kremlin on troops", "/pages/long.html"),
                ("g", "Kremlin on peacekeepers", "/pages/good.html"),
            ]),
        ),
    );
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/f.xml")], smtp.port, "");
    let started = std::time::Instant::now();
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    println!(
        "pass over the costly pages: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("4 new"), "{s}");
    assert!(s.contains("4 analysed"), "{s}");
    let mails = smtp.mails();
    assert!(
        mails
            .iter()
            .any(|m| decode_qp(m).contains("/pages/good.html")),
        "{s}"
    );
    // a second pass reads none of them again
    let sent = mails.len();
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 new"), "{}", stdout(&out));
    assert_eq!(smtp.mails().len(), sent);
}

#[test]
fn a_page_over_its_time_budget_is_recorded_failed_and_not_read_again() {
    let http = HttpServer::start();
    let mut long = String::new();
    for i in 0..40_000 {
        long.push_str(&format!(
            "Russia said troops {i} could be deployed in Ukraine only if NATO agreed. "
        ));
    }
    serve_article(&http, "/pages/long.html", &long);
    http.route(
        "/feeds/f.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[("l", "Kremlin on troops", "/pages/long.html")]),
        ),
    );
    let pass = check_feed(&http, "[analysis]\npage_budget = \"1ms\"\n");
    let s = stdout(&pass.out);
    assert!(s.contains("over the page's time budget"), "{s}");
    let out = run(&["check", "--config", pass.cfg.to_str().unwrap()]);
    assert!(stdout(&out).contains("0 new"), "{}", stdout(&out));
    assert_eq!(http.hits("/pages/long.html").len(), 1);
}

/// Serves one paragraph as an article page.
fn serve_article(http: &HttpServer, path: &str, text: &str) {
    http.route(
        path,
        Route::ok(
            "text/html",
            format!("<html><body><article><p>{text}</p></article></body></html>"),
        ),
    );
}

/// One `check` pass over the feed at `/feeds/f.xml`, with `extra` config.
struct Pass {
    _smtp: SmtpServer,
    _dir: tempfile::TempDir,
    cfg: std::path::PathBuf,
    out: std::process::Output,
}

fn check_feed(http: &HttpServer, extra: &str) -> Pass {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &[http.url("/feeds/f.xml")], smtp.port, extra);
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    Pass {
        _smtp: smtp,
        _dir: dir,
        cfg,
        out,
    }
}
