//! Links, redirects and feeds that try to reach a private listener: a probe
//! of many spellings of another port of the feed's own host, of other
//! loopback and private addresses, of names that resolve to them, and of
//! redirects of pages and of feeds. None may open a connection to the
//! listener, while the feed's own pages are still read.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::support::*;

/// A listener standing for an internal service: it counts connections and
/// answers each with a page that would make an alert if it were read.
struct Secret {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Secret {
    fn start() -> Secret {
        // on every address of the machine (IPv6 too where there is one), so
        // that any spelling that got through would reach it
        let listener = TcpListener::bind("[::]:0")
            .or_else(|_| TcpListener::bind("0.0.0.0:0"))
            .expect("bind");
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        thread::spawn(move || {
            use std::io::{Read, Write};
            for mut s in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let body = "<html><head><title>INTERNAL-SECRET</title></head><body><article><h1>INTERNAL-SECRET</h1><p>Kremlin spokesman Dmitry Peskov said on Monday that Russia now accepts the deployment of European troops in Ukraine.</p></article></body></html>";
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Secret { port, accepted }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Spellings of the listener's address as a stranger's link might write it.
fn link_forms(p: u16, feed_port: u16) -> Vec<String> {
    let mut v: Vec<String> = [
        "http://127.0.0.1:{p}/secret",
        "http://2130706433:{p}/secret",
        "http://0x7f000001:{p}/secret",
        "http://0x7f.0.0.1:{p}/secret",
        "http://0x7f.0x0.0x0.0x1:{p}/secret",
        "http://0177.0.0.1:{p}/secret",
        "http://017700000001:{p}/secret",
        "http://127.000.000.001:{p}/secret",
        "http://127.1:{p}/secret",
        "http://127.0.1:{p}/secret",
        "http://127.0.0.1.:{p}/secret",
        "http://127%2e0%2e0%2e1:{p}/secret",
        "http://%31%32%37.0.0.1:{p}/secret",
        "http://user@127.0.0.1:{p}/secret",
        "http://user:pass@127.0.0.1:{p}/secret",
        "http://127.0.0.1:{f}@127.0.0.1:{p}/secret",
        "http://127.0.0.1:{p}#@127.0.0.1:{f}/",
        "http://127.0.0.1:{p}?@127.0.0.1:{f}/",
        "//127.0.0.1:{p}/secret",
        "///127.0.0.1:{p}/secret",
        "http:\\\\127.0.0.1:{p}\\secret",
        "http:/\\127.0.0.1:{p}/secret",
        "HTTP://127.0.0.1:{p}/secret",
        "https://127.0.0.1:{p}/secret",
        "https://127.0.0.1:{f}/secret",
        "http://127.0.0.2:{p}/secret",
        "http://127.255.255.254:{p}/secret",
        "http://0.0.0.0:{p}/secret",
        "http://0:{p}/secret",
        "http://[::1]:{p}/secret",
        "http://[::]:{p}/secret",
        "http://[0:0:0:0:0:0:0:1]:{p}/secret",
        "http://[::ffff:127.0.0.1]:{p}/secret",
        "http://[::ffff:7f00:1]:{p}/secret",
        "http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/secret",
        "http://[::127.0.0.1]:{p}/secret",
        "http://[::ffff:127.0.0.1]:{f}/secret",
        "http://[2002:7f00:1::]:{p}/secret",
        "http://[2001:0:7f00:1::]:{p}/secret",
        "http://[64:ff9b::7f00:1]:{p}/secret",
        "http://[fe80::1]:{p}/secret",
        "http://[fec0::1]:{p}/secret",
        "http://[fd00::1]:{p}/secret",
        "http://localhost:{p}/secret",
        "http://LOCALHOST:{p}/secret",
        "http://localhost.:{p}/secret",
        "http://127.0.0.1.nip.invalid:{p}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1:{p}/secret",
        "http://192.168.0.1:{p}/secret",
        "http://172.16.0.1:{p}/secret",
        "http://100.64.0.1:{p}/secret",
        "ftp://127.0.0.1:{p}/secret",
        "gopher://127.0.0.1:{p}/secret",
        "file:///etc/passwd",
        "javascript:fetch('http://127.0.0.1:{p}/')",
    ]
    .iter()
    .map(|t| {
        t.replace("{p}", &p.to_string())
            .replace("{f}", &feed_port.to_string())
    })
    .collect();
    v.dedup();
    v
}

#[test]
fn a_probe_of_link_and_redirect_forms_reaches_no_private_listener() {
    let secret = Secret::start();
    let http = HttpServer::start();
    let sp = secret.port;
    let forms = link_forms(sp, http.port);
    let mut items: Vec<(String, String, String)> = Vec::new();
    for (i, l) in forms.iter().enumerate() {
        items.push((format!("l{i}"), "Kremlin on troops".into(), xml_escape(l)));
    }
    // the feed's own host redirects a page elsewhere, in several spellings
    let redirects = [
        format!("http://127.0.0.1:{sp}/secret"),
        format!("//127.0.0.1:{sp}/secret"),
        format!("http://2130706433:{sp}/secret"),
        format!("http://localhost:{sp}/secret"),
        format!("http://[::ffff:127.0.0.1]:{sp}/secret"),
        format!("https://127.0.0.1:{}/secret", http.port),
        // a hop through another page of the feed's own origin first
        "/r/0".to_string(),
    ];
    for (i, to) in redirects.iter().enumerate() {
        http.route(
            &format!("/r/{i}"),
            Route::status(302).header("Location", to),
        );
        items.push((
            format!("r{i}"),
            "Kremlin on troops".into(),
            format!("/r/{i}"),
        ));
    }
    // and the feed's own good page, which must still be read
    items.push(("good".into(), "Kremlin".into(), "/pages/good.html".into()));
    http.route(
        "/pages/good.html",
        Route::ok(
            "text/html",
            "<html><body><article><h1>Kremlin on peacekeepers</h1><p>Moscow could accept foreign peacekeepers in Ukraine, but only if none of them came from NATO member states, a senior Kremlin adviser told reporters on Friday.</p></article></body></html>",
        ),
    );
    let refs: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    http.route("/feeds/f.xml", Route::ok("application/rss+xml", rss(&refs)));
    // configured feeds whose answer is a redirect to the listener
    let feed_redirects = [
        format!("http://127.0.0.1:{sp}/feed.xml"),
        format!("http://localhost:{sp}/feed.xml"),
        format!("http://0x7f000001:{sp}/feed.xml"),
        format!("//127.0.0.1:{sp}/feed.xml"),
        format!("http://[::1]:{sp}/feed.xml"),
    ];
    let mut feeds = vec![http.url("/feeds/f.xml")];
    for (i, to) in feed_redirects.iter().enumerate() {
        let path = format!("/feeds/redirect-{i}.xml");
        http.route(&path, Route::status(301).header("Location", to));
        feeds.push(http.url(&path));
    }
    // a feed typed as a name: its own origin is trusted, other ports are not
    let named = format!("http://localhost:{}/feeds/named.xml", http.port);
    http.route(
        "/feeds/named.xml",
        Route::ok(
            "application/rss+xml",
            rss(&[
                ("n1", "x", &format!("http://localhost:{sp}/secret")),
                ("n2", "x", &format!("http://127.0.0.1:{sp}/secret")),
            ]),
        ),
    );
    feeds.push(named);
    let probes = forms.len() + redirects.len() + feed_redirects.len() + 2;
    assert!(probes >= 50, "{probes} probes");

    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &feeds, smtp.port, "[fetch]\ntimeout = \"3s\"\n");
    // two passes: a refused page is tried again before its entry gives up
    for _ in 0..3 {
        let out = run(&["check", "--config", cfg.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        secret.accepted.load(Ordering::SeqCst),
        0,
        "the private listener was reached"
    );
    let mails = smtp.mails();
    assert!(mails.iter().all(|m| !m.contains("INTERNAL-SECRET")));
    assert_eq!(mails.len(), 1, "the feed's own page still alerts");
    assert!(!http.hits("/pages/good.html").is_empty());
    println!("{probes} link, redirect and feed forms refused");
}
