//! The analyst's loop: a move waits for a second outlet, alerts once with
//! both, shows in `positions`, is undone with `ledger revert`, is listed by
//! `history` and exported as Atom.

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
