//! Real servers on 127.0.0.1 for the integration tests: a small HTTP/1.1
//! server with per-path routes (ETag-aware), and an SMTP server
//! (mailin-embedded) that keeps every message it accepts.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// One canned response.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    /// Send the body one byte a second.
    pub drip: bool,
    /// Announce this length but send zeros until the client hangs up.
    pub endless: Option<u64>,
    /// Wait this long before answering.
    pub delay_ms: u64,
}

impl Route {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
            etag: None,
            extra_headers: vec![],
            drip: false,
            endless: None,
            delay_ms: 0,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Route {
        self.extra_headers.push((k.into(), v.into()));
        self
    }
    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }
    pub fn status(status: u16) -> Route {
        Route {
            status,
            content_type: "text/plain".into(),
            body: b"error".to_vec(),
            etag: None,
            extra_headers: vec![],
            drip: false,
            endless: None,
            delay_ms: 0,
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

#[derive(Clone)]
pub struct HttpServer {
    pub host: String,
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    max_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl HttpServer {
    pub fn start() -> HttpServer {
        HttpServer::start_at("127.0.0.1")
    }

    /// A server on another loopback address ("127.0.0.2"): another site.
    pub fn start_at(ip: &str) -> HttpServer {
        let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer {
            host: ip.to_string(),
            port,
            routes: Arc::new(Mutex::new(HashMap::new())),
            seen: Arc::new(Mutex::new(Vec::new())),
            in_flight: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            max_in_flight: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        };
        let s = server.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                thread::spawn(move || s.handle(stream));
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{}", self.host, self.port, path)
    }

    pub fn route(&self, path: &str, r: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), r);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The most requests this server was answering at one time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn hits(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    fn handle(&self, stream: TcpStream) {
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut headers = HashMap::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            if let Some(n) = headers
                .get("content-length")
                .and_then(|n| n.parse::<usize>().ok())
            {
                let mut body = vec![0; n];
                let _ = reader.read_exact(&mut body);
            }
            let route = self
                .routes
                .lock()
                .unwrap()
                .get(&path)
                .cloned()
                .unwrap_or(Route::status(404));
            if route.delay_ms > 0 {
                use std::sync::atomic::Ordering::SeqCst;
                let now = self.in_flight.fetch_add(1, SeqCst) + 1;
                self.max_in_flight.fetch_max(now, SeqCst);
                thread::sleep(Duration::from_millis(route.delay_ms));
                self.in_flight.fetch_sub(1, SeqCst);
            }
            let not_modified =
                route.etag.is_some() && headers.get("if-none-match") == route.etag.as_ref();
            let status = if not_modified { 304 } else { route.status };
            self.seen.lock().unwrap().push(Seen {
                path: path.clone(),
                headers: headers.clone(),
                status,
            });
            let mut out = stream.try_clone().unwrap();
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {}\r\n",
                route.content_type
            );
            if let Some(e) = &route.etag {
                head.push_str(&format!("ETag: {e}\r\n"));
            }
            for (k, v) in &route.extra_headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let body: &[u8] = if not_modified { b"" } else { &route.body };
            let len = route.endless.unwrap_or(body.len() as u64);
            head.push_str(&format!("Content-Length: {len}\r\n\r\n"));
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
            if let Some(n) = route.endless {
                let chunk = vec![0u8; 64 * 1024];
                let mut sent = 0u64;
                while sent < n {
                    if out.write_all(&chunk).is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                }
                return;
            }
            if route.drip {
                for b in body {
                    if out.write_all(&[*b]).is_err() || out.flush().is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_secs(1));
                }
                return;
            }
            if out.write_all(body).is_err() {
                return;
            }
            let _ = out.flush();
        }
    }
}

/// How the SMTP server answers the end of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpMode {
    Accept,
    Temporary,
    Permanent,
    /// Refuse the next message for good (552, as a size or policy limit
    /// does), then accept.
    RefuseNext,
}

#[derive(Clone)]
struct Handler {
    mails: Arc<Mutex<Vec<String>>>,
    rcpts: Arc<Mutex<Vec<String>>>,
    mode: Arc<Mutex<SmtpMode>>,
    delay: Arc<Mutex<Duration>>,
    gate: Arc<Gate>,
    cur: Vec<u8>,
}

/// Holds RCPT commands beyond a limit until the limit is raised, so a test
/// can stop a client at a known point of its delivery.
#[derive(Default)]
struct Gate {
    /// (RCPT commands begun so far, the limit if any)
    state: Mutex<(usize, Option<usize>)>,
    moved: Condvar,
}

impl mailin_embedded::Handler for Handler {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        // a slow server is slow before it has the message, so a client
        // killed while it waits has delivered nothing
        let delay = *self.delay.lock().unwrap();
        thread::sleep(delay);
        {
            let mut g = self.gate.state.lock().unwrap();
            g.0 += 1;
            let me = g.0;
            self.gate.moved.notify_all();
            while g.1.is_some_and(|limit| me > limit) {
                g = self.gate.moved.wait(g).unwrap();
            }
        }
        self.rcpts.lock().unwrap().push(to.to_string());
        // refusals come at RCPT, as greylisting and policy servers answer
        let mut mode = self.mode.lock().unwrap();
        if *mode == SmtpMode::RefuseNext {
            *mode = SmtpMode::Accept;
            return mailin_embedded::Response::custom(552, "5.3.4 message too big".into());
        }
        match *mode {
            SmtpMode::Accept | SmtpMode::RefuseNext => mailin_embedded::response::OK,
            SmtpMode::Temporary => {
                mailin_embedded::Response::custom(451, "4.3.0 try again later".into())
            }
            SmtpMode::Permanent => {
                mailin_embedded::Response::custom(554, "5.7.1 message refused".into())
            }
        }
    }
    fn data_start(
        &mut self,
        _d: &str,
        _f: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> mailin_embedded::Response {
        self.cur.clear();
        mailin_embedded::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.cur.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> mailin_embedded::Response {
        match *self.mode.lock().unwrap() {
            SmtpMode::Accept | SmtpMode::RefuseNext => {
                self.mails
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&self.cur).into_owned());
                mailin_embedded::response::OK
            }
            SmtpMode::Temporary => {
                mailin_embedded::Response::custom(451, "4.3.0 try again later".into())
            }
            SmtpMode::Permanent => {
                mailin_embedded::Response::custom(554, "5.7.1 message refused".into())
            }
        }
    }
}

pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<String>>>,
    rcpts: Arc<Mutex<Vec<String>>>,
    mode: Arc<Mutex<SmtpMode>>,
    delay: Arc<Mutex<Duration>>,
    gate: Arc<Gate>,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::start_on(listener)
    }

    pub fn start_on(listener: TcpListener) -> SmtpServer {
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let rcpts = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(SmtpMode::Accept));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let gate = Arc::new(Gate::default());
        let h = Handler {
            mails: mails.clone(),
            rcpts: rcpts.clone(),
            mode: mode.clone(),
            delay: delay.clone(),
            gate: gate.clone(),
            cur: vec![],
        };
        thread::spawn(move || {
            let mut server = mailin_embedded::Server::new(h);
            server
                .with_name("localhost")
                .with_num_threads(2)
                .with_tcp_listener(listener);
            let _ = server.serve();
        });
        SmtpServer {
            port,
            mails,
            rcpts,
            mode,
            delay,
            gate,
        }
    }

    pub fn mails(&self) -> Vec<String> {
        self.mails.lock().unwrap().clone()
    }

    /// Every RCPT TO the server was given.
    pub fn rcpts(&self) -> Vec<String> {
        self.rcpts.lock().unwrap().clone()
    }

    pub fn set_mode(&self, m: SmtpMode) {
        *self.mode.lock().unwrap() = m;
    }

    /// Makes the server wait this long before answering each RCPT.
    pub fn set_delay(&self, d: Duration) {
        *self.delay.lock().unwrap() = d;
    }

    /// Lets `more` further RCPT commands through and holds any after them
    /// (`None`: holds nothing); held commands go on when the limit rises.
    pub fn let_rcpts_through(&self, more: Option<usize>) {
        let mut g = self.gate.state.lock().unwrap();
        g.1 = more.map(|n| g.0 + n);
        self.gate.moved.notify_all();
    }

    /// Waits until an RCPT command is being held.
    pub fn wait_for_held_rcpt(&self, within: Duration) {
        let end = std::time::Instant::now() + within;
        let mut g = self.gate.state.lock().unwrap();
        while g.1.is_none_or(|limit| g.0 <= limit) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "no RCPT reached the gate");
            g = self.gate.moved.wait_timeout(g, left).unwrap().0;
        }
    }
}

/// A port that nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stancewatch"))
}

pub fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("STANCEWATCH_LOG", "warn")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .expect("run stancewatch")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The repository's own files.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// An RSS feed with the given (guid, title, link) items.
pub fn rss(items: &[(&str, &str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Loopback Wire</title><link>http://127.0.0.1/</link><description>test</description>",
    );
    for (guid, title, link) in items {
        s.push_str(&format!("<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid></item>"));
    }
    s.push_str("</channel></rss>");
    s
}

/// Writes a config file for a loopback run and returns its path.
pub fn write_config(dir: &Path, feeds: &[String], smtp_port: u16, extra: &str) -> PathBuf {
    let mut c = format!(
        "[state]\npath = \"{}\"\n\n[poll]\ninterval = \"15m\"\n\n",
        dir.join("state.db").display()
    );
    for f in feeds {
        c.push_str(&format!("[[feeds]]\nurl = \"{f}\"\n\n"));
    }
    c.push_str(&format!(
        "[email]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {smtp_port}\ntls = \"none\"\nfrom = \"stancewatch@localhost\"\nto = [\"analyst@localhost\"]\ntimeout = \"5s\"\n\n{extra}"
    ));
    let p = dir.join("stancewatch.toml");
    std::fs::write(&p, c).unwrap();
    p
}

/// Decodes quoted-printable text (soft line breaks and =XX escapes).
pub fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded body of the MIME part with this content type.
pub fn mime_part(mail: &str, content_type: &str) -> Option<String> {
    let start = mail.find(&format!("Content-Type: {content_type}"))?;
    let rest = &mail[start..];
    let body_start = rest.find("\r\n\r\n")? + 4;
    let body = &rest[body_start..];
    let end = body.find("\r\n--").unwrap_or(body.len());
    Some(decode_qp(&body[..end]))
}

/// The header block of a raw message.
pub fn headers(mail: &str) -> String {
    mail.split("\r\n\r\n").next().unwrap_or("").to_string()
}

/// `stancewatch run` on a config, quiet, as a child to signal.
pub fn start_run(cfg: &Path) -> std::process::Child {
    Command::new(bin())
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env("STANCEWATCH_LOG", "warn")
        .env_remove("NOTIFY_SOCKET")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// SIGTERM to a `run` child; it must exit cleanly.
pub fn terminate(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
}

/// Polls `f` until it holds; fails the test after `within`.
pub fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + within;
    while !f() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A GET on loopback: status, head and body.
pub fn http_fetch(port: u16, path: &str) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (code, head.to_string(), body.to_string())
}

/// A GET on loopback: status and body.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let (code, _, body) = http_fetch(port, path);
    (code, body)
}

/// A throwaway PostgreSQL cluster on a free loopback port, in a temporary
/// folder, stopped when dropped. `None` when the machine has no PostgreSQL
/// (CI installs it and sets `STANCEWATCH_TEST_POSTGRES`, so there a test
/// cannot skip it).
pub struct PgServer {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl PgServer {
    pub fn start() -> Option<PgServer> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| {
                let mut v: Vec<PathBuf> = d.flatten().map(|e| e.path().join("bin")).collect();
                v.sort();
                v.pop()
            })
            .filter(|b| b.join("initdb").exists());
        let Some(bin) = bin else {
            assert!(
                std::env::var_os("STANCEWATCH_TEST_POSTGRES").is_none(),
                "STANCEWATCH_TEST_POSTGRES is set and no PostgreSQL was found"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let root = running_as_root();
        if root {
            // PostgreSQL refuses to run as root: its files belong to `postgres`
            let ok = Command::new("chown")
                .args(["-R", "postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown to postgres");
        }
        let as_owner = |prog: &str| -> Command {
            if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin.join(prog));
                c
            } else {
                Command::new(bin.join(prog))
            }
        };
        let out = as_owner("initdb")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            dir.path().display()
        );
        let out = as_owner("pg_ctl")
            .args(["-D", data.to_str().unwrap(), "-o", &opts, "-w", "-l"])
            .arg(dir.path().join("log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
        Some(PgServer {
            port,
            bin,
            data,
            _dir: dir,
        })
    }

    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One value of a query, through `psql`.
    pub fn query(&self, sql: &str) -> String {
        self.try_query(sql).unwrap_or_else(|e| panic!("psql: {e}"))
    }

    /// One value of a query, or what went wrong (say, no schema yet).
    pub fn try_query(&self, sql: &str) -> Result<String, String> {
        let port = self.port.to_string();
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
            .args(["-d", "postgres", "-At", "-c", sql])
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let mut c = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = c
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

/// Whether the tests run as root (then PostgreSQL runs as `postgres`).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
