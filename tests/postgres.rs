//! The state on a shared PostgreSQL: a throwaway cluster on loopback,
//! several `stancewatch` processes on one database.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

const COUNTRIES: [&str; 7] = [
    "Poland", "Germany", "France", "Turkey", "Britain", "Italy", "China",
];

/// `feeds` feeds of `per_feed` entries each; the first entries of the first
/// fourteen feeds each move a different cell, the rest report the weather.
/// Pages answer after `delay_ms`.
fn serve(http: &HttpServer, feeds: usize, per_feed: usize, delay_ms: u64) -> Vec<String> {
    serve_with(http, feeds, per_feed, delay_ms, "")
}

/// [`serve`] with `more` after each page's sentence and, when there is
/// more, words of each feed's own (longer stories, each its own).
fn serve_with(
    http: &HttpServer,
    feeds: usize,
    per_feed: usize,
    delay_ms: u64,
    more: &str,
) -> Vec<String> {
    let mut urls = Vec::new();
    for f in 0..feeds {
        let mut items = Vec::new();
        for e in 0..per_feed {
            let page = format!("/pages/{f}-{e}.html");
            let text = if e == 0 && f < 14 {
                let c = COUNTRIES[f % 7];
                if f < 7 {
                    format!(
                        "The government of {c} said on Monday it would not send troops to Ukraine under any circumstances."
                    )
                } else {
                    format!("{c} said on Monday it opposes any NATO membership for Ukraine.")
                }
            } else {
                format!("Rain is expected in district {f} on day {e}, the weather service said.")
            };
            let more = if more.is_empty() {
                String::new()
            } else {
                let own: Vec<String> = (0..70).map(|i| format!("item{f}n{i}")).collect();
                format!("{more} {}", own.join(" "))
            };
            http.route(
                &page,
                Route {
                    delay_ms,
                    ..Route::ok(
                        "text/html",
                        format!("<html><body><article><h1>Report {f}-{e}</h1><p>{text}</p><p>{more}</p></article></body></html>"),
                    )
                },
            );
            items.push((format!("{f}-{e}"), format!("Report {f}-{e}"), page));
        }
        let items: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        let feed = format!("/feeds/{f}.xml");
        http.route(&feed, Route::ok("application/rss+xml", rss(&items)));
        urls.push(http.url(&feed));
    }
    urls
}

/// The shifts the mails carry, with how many mails carry each.
fn shifts_mailed(smtp: &SmtpServer) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for mail in smtp.mails() {
        for l in headers(&mail).lines() {
            if let Some(v) = l.strip_prefix("X-Stancewatch-Shift: ") {
                *m.entry(v.trim().to_string()).or_insert(0) += 1;
            }
        }
    }
    m
}

/// What a single SQLite `check` mails on the same feeds.
fn reference(feeds: usize, per_feed: usize) -> BTreeMap<String, usize> {
    let http = HttpServer::start();
    let urls = serve(&http, feeds, per_feed, 0);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &urls, smtp.port, "");
    let out = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    shifts_mailed(&smtp)
}

/// A config on the database instead of a file; `state` adds to `[state]`.
fn pg_config(
    dir: &std::path::Path,
    pg: &PgServer,
    feeds: &[String],
    smtp: u16,
    state: &str,
    extra: &str,
) -> std::path::PathBuf {
    url_config(dir, &pg.url(), feeds, smtp, state, extra)
}

/// A config whose `[state]` has `url` (and `state`) instead of `path`.
fn url_config(
    dir: &std::path::Path,
    url: &str,
    feeds: &[String],
    smtp: u16,
    state: &str,
    extra: &str,
) -> std::path::PathBuf {
    let p = write_config(dir, feeds, smtp, extra);
    let text = std::fs::read_to_string(&p).unwrap();
    let path_line = text
        .lines()
        .find(|l| l.starts_with("path = "))
        .unwrap()
        .to_string();
    std::fs::write(
        &p,
        text.replace(&path_line, &format!("url = \"{url}\"\n{state}")),
    )
    .unwrap();
    p
}

fn every_path_fetched_once(http: &HttpServer, feeds: usize, per_feed: usize) {
    let mut hits: BTreeMap<String, usize> = BTreeMap::new();
    for s in http.seen() {
        *hits.entry(s.path.clone()).or_insert(0) += 1;
    }
    for f in 0..feeds {
        assert_eq!(
            hits.get(&format!("/feeds/{f}.xml")),
            Some(&1),
            "feed {f}: {hits:?}"
        );
        for e in 0..per_feed {
            assert_eq!(
                hits.get(&format!("/pages/{f}-{e}.html")),
                Some(&1),
                "page {f}-{e}"
            );
        }
    }
}

#[test]
fn a_check_on_postgresql_mails_what_one_on_sqlite_mails_and_a_repeat_nothing() {
    let Some(pg) = PgServer::start() else { return };
    let want = reference(20, 3);
    assert_eq!(want.len(), 14, "{want:?}");
    let http = HttpServer::start();
    let urls = serve(&http, 20, 3, 0);
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = pg_config(dir.path(), &pg, &urls, smtp.port, "", "");
    let cfg = cfg.to_str().unwrap();
    let out = run(&["config", "check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(shifts_mailed(&smtp), want);
    let out = run(&["check", "--config", cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(shifts_mailed(&smtp), want, "a repeat mails nothing");
    assert_eq!(
        pg.query("SELECT COUNT(*) FROM outbox WHERE status = 'sent'"),
        "14"
    );
    assert_eq!(
        pg.query("SELECT value FROM meta WHERE key = 'schema_version'"),
        "1"
    );
    // the analyst's commands read the same database
    let out = run(&["positions", "--config", cfg, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"actor\":\"poland\""),
        "{}",
        stdout(&out)
    );
    let out = run(&["history", "--config", cfg, "poland/own_troops"]);
    assert!(stdout(&out).contains("opposes"), "{}", stdout(&out));
}

#[test]
fn two_daemons_on_one_database_fetch_each_feed_and_page_once_and_mail_each_alert_once() {
    let Some(pg) = PgServer::start() else { return };
    let (feeds, per_feed) = (100, 10);
    let want = reference(feeds, per_feed);
    let http = HttpServer::start();
    let urls = serve(&http, feeds, per_feed, 0);
    let smtp = SmtpServer::start();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c1 = pg_config(d1.path(), &pg, &urls, smtp.port, "", "");
    let c2 = pg_config(d2.path(), &pg, &urls, smtp.port, "", "");
    // their logs tell how many entries each read
    let logged = |cfg: &std::path::Path, log: &std::path::Path| {
        Command::new(bin())
            .args(["run", "--config", cfg.to_str().unwrap()])
            .env("STANCEWATCH_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap()
    };
    let (l1, l2) = (d1.path().join("log"), d2.path().join("log"));
    let mut a = logged(&c1, &l1);
    let mut b = logged(&c2, &l2);
    wait_for(
        "every entry read and alert sent",
        Duration::from_secs(180),
        || {
            smtp.mails().len() >= want.len()
                && pg
                    .try_query("SELECT COUNT(*) FROM outbox WHERE status = 'owed'")
                    .as_deref()
                    == Ok("0")
                && pg.try_query("SELECT COUNT(*) FROM entries")
                    == Ok((feeds * per_feed).to_string())
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    terminate(&mut a);
    terminate(&mut b);
    assert_eq!(shifts_mailed(&smtp), want);
    every_path_fetched_once(&http, feeds, per_feed);
    // and the work was shared
    let read = |log: &std::path::Path| -> usize {
        std::fs::read_to_string(log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("pass finished"))
            .filter_map(|l| {
                l.split("entries=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .sum()
    };
    let (r1, r2) = (read(&l1), read(&l2));
    assert_eq!(r1 + r2, feeds * per_feed);
    assert!(
        r1 > 0 && r2 > 0,
        "one daemon read everything: {r1} and {r2}"
    );
}

#[test]
fn a_daemon_killed_mid_pass_loses_nothing_the_other_takes_over() {
    let Some(pg) = PgServer::start() else { return };
    let (feeds, per_feed) = (30, 4);
    let want = reference(feeds, per_feed);
    let http = HttpServer::start();
    let urls = serve(&http, feeds, per_feed, 150);
    let smtp = SmtpServer::start();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let extra = "[fetch]\nconcurrency = 2\n";
    // a killed process's claims lapse after the lease
    let lease = "lease = \"2s\"";
    let c1 = pg_config(d1.path(), &pg, &urls, smtp.port, lease, extra);
    let c2 = pg_config(d2.path(), &pg, &urls, smtp.port, lease, extra);
    let mut a = start_run(&c1);
    wait_for(
        "the first daemon reading pages",
        Duration::from_secs(60),
        || {
            http.seen()
                .iter()
                .filter(|s| s.path.starts_with("/pages/"))
                .count()
                >= 10
        },
    );
    let mut b = start_run(&c2);
    a.kill().unwrap();
    a.wait().unwrap();
    wait_for(
        "every alert sent by the other",
        Duration::from_secs(120),
        || {
            smtp.mails().len() >= want.len()
                && pg
                    .try_query("SELECT COUNT(*) FROM outbox WHERE status = 'owed'")
                    .as_deref()
                    == Ok("0")
                && pg.try_query("SELECT COUNT(*) FROM entries")
                    == Ok((feeds * per_feed).to_string())
        },
    );
    terminate(&mut b);
    assert_eq!(shifts_mailed(&smtp), want, "each alert once");
}

#[test]
fn path_and_url_together_are_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_config(dir.path(), &[], 25, "");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        text.replacen(
            "[state]\n",
            "[state]\nurl = \"postgresql://sw@127.0.0.1/sw\"\n",
            1,
        ),
    )
    .unwrap();
    let out = run(&["config", "check", "--config", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("state.url"), "{}", stderr(&out));
    assert!(stderr(&out).contains("not both"), "{}", stderr(&out));
}

#[test]
fn the_same_stories_in_two_outlets_read_by_two_daemons_at_once_alert_once() {
    let Some(pg) = PgServer::start() else { return };
    // two outlets carry the same fourteen stories
    let (a, b) = (
        HttpServer::start_at("127.0.0.1"),
        HttpServer::start_at("127.0.0.2"),
    );
    // long enough to be known for copies of each other
    let more = "The statement came after a week of talks between foreign ministers in several capitals, \
        where officials compared notes on the ceasefire plan, the monitoring of the line of contact, \
        the financing of reconstruction and the timetable for elections, and agreed to meet again \
        before the end of the month to settle the questions left open by the earlier rounds.";
    let mut urls = serve_with(&a, 14, 1, 50, more);
    urls.extend(serve_with(&b, 14, 1, 50, more));
    let smtp = SmtpServer::start();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c1 = pg_config(d1.path(), &pg, &urls, smtp.port, "", "");
    let mut reversed = urls.clone();
    reversed.reverse();
    let c2 = pg_config(d2.path(), &pg, &reversed, smtp.port, "", "");
    let mut x = start_run(&c1);
    let mut y = start_run(&c2);
    wait_for("every entry read", Duration::from_secs(120), || {
        pg.try_query("SELECT COUNT(*) FROM entries").as_deref() == Ok("28")
            && pg
                .try_query("SELECT COUNT(*) FROM outbox WHERE status = 'owed'")
                .as_deref()
                == Ok("0")
    });
    std::thread::sleep(Duration::from_millis(500));
    terminate(&mut x);
    terminate(&mut y);
    let mailed = shifts_mailed(&smtp);
    assert_eq!(mailed.len(), 14, "{mailed:?}");
    assert!(
        mailed.values().all(|n| *n == 1),
        "each move once: {mailed:?}"
    );
    assert_eq!(pg.query("SELECT COUNT(*) FROM ledger_history"), "14");
    // each second copy was known for one
    assert_eq!(
        pg.query("SELECT COUNT(*) FROM entries WHERE status = 'duplicate'"),
        "14"
    );
}

#[test]
fn config_check_reaches_the_database_and_names_the_key_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let nobody = format!("postgresql://sw@127.0.0.1:{}/sw", free_port());
    let p = url_config(dir.path(), &nobody, &[], 25, "", "");
    let out = run(&["config", "check", "--config", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("state.url"), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}
