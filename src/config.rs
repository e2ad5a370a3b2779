//! The configuration file: [`RawConfig`] as written (serde, unknown keys
//! refused) → [`Config`], typed and validated.
//!
//! Every error names the file, the key and the problem. Relative paths (and
//! relative `file:` feed URLs) are taken from the config file's folder.
//! Secrets are never read from the TOML: the SMTP password comes from
//! `password_file`, an environment variable, or systemd's credentials.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use reqwest::Url;
use serde::Deserialize;

/// A configuration error: which file, which key, what is wrong.
#[derive(Debug)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.problem)
        } else {
            write!(f, "{}: key `{}`: {}", self.file, self.key, self.problem)
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub state: RawState,
    #[serde(default)]
    pub poll: RawPoll,
    #[serde(default)]
    pub feeds: Vec<RawFeed>,
    pub email: Option<RawEmail>,
    #[serde(default)]
    pub fetch: RawFetch,
    #[serde(default)]
    pub analysis: RawAnalysis,
    #[serde(default)]
    pub daemon: RawDaemon,
    #[serde(default)]
    pub alerts: RawAlerts,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// Independent outlets that must report a move before it alerts.
    pub sources: Option<u32>,
    /// How long a move waits for more sources.
    pub window: Option<String>,
    /// With one source required: a move below this waits for a second.
    pub min_confidence: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    /// A loopback address for `/healthz` and `/metrics`; off when absent.
    pub listen: Option<String>,
    /// How long a pass may take to wind down after SIGTERM.
    pub stop_grace: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub path: Option<String>,
    pub url: Option<String>,
    pub password_file: Option<String>,
    pub password_env: Option<String>,
    pub password_credential: Option<String>,
    pub lease: Option<String>,
    pub keep: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    pub interval: Option<String>,
    pub jitter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    pub url: String,
    pub name: Option<String>,
    /// The feed's host is on a private network (its pages too, on the same
    /// scheme, host and port).
    #[serde(default)]
    pub allow_private: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEmail {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub tls: Option<String>,
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password_file: Option<String>,
    pub password_env: Option<String>,
    pub password_credential: Option<String>,
    /// With no `smtp_host`, alerts are written here as `.eml` files.
    pub maildir: Option<String>,
    pub timeout: Option<String>,
    /// "immediate" (default) or an interval: "30m", "6h".
    pub digest: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    pub concurrency: Option<usize>,
    pub per_host: Option<usize>,
    pub per_host_delay: Option<String>,
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub max_body: Option<String>,
    pub max_age: Option<String>,
    pub max_redirects: Option<usize>,
    pub user_agent: Option<String>,
    pub contact: Option<String>,
    #[serde(default)]
    pub allow_private_hosts: Vec<String>,
    pub failing_after: Option<usize>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAnalysis {
    pub profile: Option<String>,
    pub seeds: Option<String>,
    pub min_confidence: Option<f64>,
    pub page_budget: Option<String>,
    pub judge: Option<String>,
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    None,
    StartTls,
    Tls,
}

/// A PostgreSQL database for the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateServer {
    pub url: String,
    pub password: Option<PasswordSource>,
}

/// Where a password comes from (never the TOML itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    File(PathBuf),
    Env(String),
    /// A name under `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`).
    Credential(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<PasswordSource>,
    pub timeout: Duration,
}

/// Where alert emails go.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Smtp(Smtp),
    /// Write `.eml` files into this folder.
    Maildir(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub from: String,
    pub to: Vec<String>,
    pub delivery: Delivery,
    /// None: one mail per alert; Some(d): one digest at most every d.
    pub digest: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub url: Url,
    pub name: Option<String>,
    /// The feed's host name may resolve to a private address; its pages may
    /// then be fetched from the same origin. A feed typed as an address or as
    /// `localhost` is trusted with that address without it.
    pub allow_private: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fetch {
    pub concurrency: usize,
    pub per_host: usize,
    pub per_host_delay: Duration,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub max_age: Duration,
    pub max_redirects: usize,
    pub user_agent: String,
    pub allow_private_hosts: Vec<String>,
    /// After this many failures in a row, one "feed failing" alert (and one
    /// "feed recovered" alert when it works again).
    pub failing_after: usize,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub source: PathBuf,
    /// The SQLite file (`state.path`); beside it, with `state.url`, only
    /// the dry-run folder.
    pub state_path: PathBuf,
    /// A PostgreSQL database shared by several processes (`state.url`).
    pub state_server: Option<StateServer>,
    /// When a move is confirmed enough to alert and move the ledger.
    pub alerts: AlertRules,
    /// How long read entries, their claims and delivered alerts are kept
    /// (the ledger and its history are kept whole).
    pub keep: Duration,
    /// How long a claimed feed or alert stays a process's before others may
    /// take it (PostgreSQL), unless the process renews it.
    pub lease: Duration,
    pub interval: Duration,
    pub jitter: Duration,
    pub feeds: Vec<Feed>,
    pub email: Option<Email>,
    pub fetch: Fetch,
    pub profile: Option<PathBuf>,
    pub seeds: Option<PathBuf>,
    pub min_confidence: f64,
    /// How long the analysis of one page may take; a page that needs more
    /// is recorded as failed and not read again.
    pub page_budget: Duration,
    /// Which stance judge reads the claims ("rules").
    pub judge: String,
    /// Where `run` serves `/healthz` and `/metrics` (loopback only).
    pub listen: Option<std::net::SocketAddr>,
    pub stop_grace: Duration,
}

/// Parses "30s", "15m", "1h30m", "7d", "250ms".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a duration (use e.g. 30s, 15m, 2h, 7d)"
            ));
        }
        let n: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{s}` is not a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let secs = match unit {
            "ms" => n / 1000.0,
            "s" | "sec" | "secs" => n,
            "m" | "min" | "mins" => n * 60.0,
            "h" | "hour" | "hours" => n * 3600.0,
            "d" | "day" | "days" => n * 86400.0,
            "w" | "week" | "weeks" => n * 7.0 * 86400.0,
            "" => return Err(format!("`{s}` needs a unit (s, m, h, d)")),
            other => {
                return Err(format!(
                    "`{s}`: unknown unit `{other}` (use ms, s, m, h, d, w)"
                ));
            }
        };
        // a hundred years is longer than any interval, timeout or age means
        let part = Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| *d <= MAX_DURATION)
            .ok_or_else(|| format!("`{s}` is too long (at most 36500d, a hundred years)"))?;
        total = total
            .checked_add(part)
            .filter(|d| *d <= MAX_DURATION)
            .ok_or_else(|| format!("`{s}` is too long (at most 36500d, a hundred years)"))?;
    }
    Ok(total)
}

/// The longest duration a setting may take.
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);

/// Parses "8MiB", "512KiB", "1MB", "1000".
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let n: f64 = t[..digits]
        .parse()
        .map_err(|_| format!("`{s}` is not a size (use e.g. 8MiB)"))?;
    let mult: f64 = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{s}`: unknown unit `{other}` (use B, KiB, MiB, GiB)"
            ));
        }
    };
    Ok((n * mult) as u64)
}

/// When a move alerts: how many independent outlets must report it, within
/// how long, and how sure a single source must be when one is enough.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertRules {
    pub sources: usize,
    pub window: Duration,
    pub min_confidence: f64,
}

impl AlertRules {
    /// How many independent sources a move reported with `confidence` needs.
    pub fn needed(&self, confidence: f64) -> usize {
        if self.sources == 1 && confidence < self.min_confidence {
            2
        } else {
            self.sources
        }
    }
}

/// Is the host `localhost` or a loopback address? (Not any `*.localhost`:
/// a resolver may send such a name off the machine.)
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            key: String::new(),
            problem: format!("cannot read: {e}"),
        })?;
        Ok(Config::parse(&text, path)?)
    }

    /// Parses config text; `path` names it and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let de = toml::Deserializer::parse(text).map_err(|e| ConfigError {
            file: file.clone(),
            key: String::new(),
            problem: e.to_string().trim().to_string(),
        })?;
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner().to_string();
            // toml's message carries a source excerpt; keep its last line (the problem)
            let problem = inner
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            ConfigError {
                file: file.clone(),
                key: if key == "." { String::new() } else { key },
                problem,
            }
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::validate(raw, path, &dir)
    }

    fn validate(raw: RawConfig, path: &Path, dir: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let err = |key: &str, problem: String| ConfigError {
            file: file.clone(),
            key: key.to_string(),
            problem,
        };
        let resolve = |p: &str| -> PathBuf {
            let pb = PathBuf::from(p);
            if pb.is_absolute() { pb } else { dir.join(pb) }
        };
        let dur = |key: &str, v: &Option<String>, default: &str| -> Result<Duration, ConfigError> {
            parse_duration(v.as_deref().unwrap_or(default)).map_err(|e| err(key, e))
        };
        let state_path = resolve(raw.state.path.as_deref().unwrap_or("stancewatch.db"));
        let state_server = match &raw.state.url {
            None => {
                if raw.state.password_file.is_some()
                    || raw.state.password_env.is_some()
                    || raw.state.password_credential.is_some()
                {
                    return Err(err(
                        "state.password_file",
                        "a password source is set but no state.url".into(),
                    ));
                }
                None
            }
            Some(_) if raw.state.path.is_some() => {
                return Err(err(
                    "state.url",
                    "set either state.path (an SQLite file) or state.url (PostgreSQL), not both"
                        .into(),
                ));
            }
            Some(url) => {
                if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
                    return Err(err(
                        "state.url",
                        format!(
                            "{url:?}: not a PostgreSQL address (postgresql://user@host/database)"
                        ),
                    ));
                }
                if let Err(e) = url.parse::<postgres::Config>() {
                    return Err(err("state.url", format!("not a PostgreSQL address: {e}")));
                }
                let password = password_source(
                    "state",
                    &raw.state.password_file,
                    &raw.state.password_env,
                    &raw.state.password_credential,
                    &resolve,
                )
                .map_err(|(k, p)| err(&k, p))?;
                Some(StateServer {
                    url: url.clone(),
                    password,
                })
            }
        };
        let interval = dur("poll.interval", &raw.poll.interval, "15m")?;
        if interval < Duration::from_secs(1) {
            return Err(err("poll.interval", "must be at least 1s".into()));
        }
        // by default a tenth of the interval, at most five minutes
        let jitter = match &raw.poll.jitter {
            None => (interval / 10).min(Duration::from_secs(300)),
            Some(_) => dur("poll.jitter", &raw.poll.jitter, "0s")?,
        };
        let listen = match &raw.daemon.listen {
            None => None,
            Some(l) => {
                let a: std::net::SocketAddr = l.trim().parse().map_err(|_| {
                    err(
                        "daemon.listen",
                        format!("{l:?} is not an address and port such as \"127.0.0.1:9184\""),
                    )
                })?;
                if !a.ip().is_loopback() {
                    return Err(err(
                        "daemon.listen",
                        format!(
                            "{a} is not a loopback address; the endpoint is for the local host only (put a proxy in front to expose it)"
                        ),
                    ));
                }
                Some(a)
            }
        };
        // longer than the SMTP timeout (30 s) by default, so a message under
        // way when a stop comes is finished, sent or timed out, not cut
        let stop_grace = dur("daemon.stop_grace", &raw.daemon.stop_grace, "35s")?;
        if stop_grace > Duration::from_secs(50) {
            return Err(err(
                "daemon.stop_grace",
                "must be at most 50s (the unit's TimeoutStopSec is 60s)".into(),
            ));
        }

        let mut feeds = Vec::new();
        for (i, f) in raw.feeds.iter().enumerate() {
            let key = format!("feeds[{i}].url");
            let url = parse_feed_url(&f.url, dir).map_err(|e| err(&key, e))?;
            if feeds.iter().any(|x: &Feed| x.url == url) {
                return Err(err(&key, format!("`{}` is listed twice", f.url)));
            }
            feeds.push(Feed {
                url,
                name: f.name.clone(),
                allow_private: f.allow_private,
            });
        }

        let email = match raw.email {
            None => None,
            Some(e) => {
                let from = e.from.clone().ok_or_else(|| {
                    err(
                        "email.from",
                        "missing: the sender address is required".into(),
                    )
                })?;
                if !looks_like_address(&from) {
                    return Err(err(
                        "email.from",
                        format!("`{from}` is not an email address"),
                    ));
                }
                if e.to.is_empty() {
                    return Err(err(
                        "email.to",
                        "missing: at least one recipient is required".into(),
                    ));
                }
                for (i, t) in e.to.iter().enumerate() {
                    if !looks_like_address(t) {
                        return Err(err(
                            &format!("email.to[{i}]"),
                            format!("`{t}` is not an email address"),
                        ));
                    }
                }
                let delivery = match &e.smtp_host {
                    None => {
                        if e.smtp_port.is_some() || e.tls.is_some() {
                            return Err(err(
                                "email.smtp_host",
                                "missing: smtp_port/tls are set but no smtp_host".into(),
                            ));
                        }
                        Delivery::Maildir(resolve(e.maildir.as_deref().unwrap_or("mail")))
                    }
                    Some(host) => {
                        if host.trim().is_empty() || host.contains(['/', ' ']) {
                            return Err(err(
                                "email.smtp_host",
                                format!("`{host}` is not a host name"),
                            ));
                        }
                        let tls = match e.tls.as_deref().unwrap_or("starttls") {
                            "none" => Tls::None,
                            "starttls" => Tls::StartTls,
                            "tls" => Tls::Tls,
                            other => {
                                return Err(err(
                                    "email.tls",
                                    format!("`{other}` is not one of none, starttls, tls"),
                                ));
                            }
                        };
                        if tls == Tls::None && !is_loopback_host(host) {
                            return Err(err(
                                "email.tls",
                                format!(
                                    "\"none\" sends mail in clear text and is allowed only for `localhost` or a loopback address as smtp_host, not `{host}`"
                                ),
                            ));
                        }
                        let port = e.smtp_port.unwrap_or(match tls {
                            Tls::None => 25,
                            Tls::StartTls => 587,
                            Tls::Tls => 465,
                        });
                        if port == 0 {
                            return Err(err(
                                "email.smtp_port",
                                "must be between 1 and 65535".into(),
                            ));
                        }
                        let password = password_source(
                            "email",
                            &e.password_file,
                            &e.password_env,
                            &e.password_credential,
                            &resolve,
                        )
                        .map_err(|(k, p)| err(&k, p))?;
                        if password.is_some() && e.username.is_none() {
                            return Err(err(
                                "email.username",
                                "missing: a password source is set but no username".into(),
                            ));
                        }
                        Delivery::Smtp(Smtp {
                            host: host.clone(),
                            port,
                            tls,
                            username: e.username.clone(),
                            password,
                            timeout: dur("email.timeout", &e.timeout, "30s")?,
                        })
                    }
                };
                let digest = match e.digest.as_deref() {
                    None | Some("immediate") => None,
                    Some(d) => {
                        let d = parse_duration(d)
                            .map_err(|p| err("email.digest", format!("{p}; or \"immediate\"")))?;
                        if d.is_zero() { None } else { Some(d) }
                    }
                };
                Some(Email {
                    from,
                    to: e.to.clone(),
                    delivery,
                    digest,
                })
            }
        };

        let f = &raw.fetch;
        let positive = |key: &str, v: Option<usize>, d: usize| -> Result<usize, ConfigError> {
            let v = v.unwrap_or(d);
            if v == 0 {
                Err(err(key, "must be at least 1".into()))
            } else {
                Ok(v)
            }
        };
        let contact = f.contact.clone();
        let user_agent = match (&f.user_agent, &contact) {
            (Some(ua), _) => ua.clone(),
            (None, Some(c)) => format!("stancewatch/{} (+{c})", env!("CARGO_PKG_VERSION")),
            (None, None) => format!(
                "stancewatch/{} (+https://github.com/stancewatch/stancewatch)",
                env!("CARGO_PKG_VERSION")
            ),
        };
        let max_body = parse_size(f.max_body.as_deref().unwrap_or("8MiB"))
            .map_err(|e| err("fetch.max_body", e))?;
        if max_body < 1024 {
            return Err(err("fetch.max_body", "must be at least 1KiB".into()));
        }
        let fetch = Fetch {
            concurrency: positive("fetch.concurrency", f.concurrency, 64)?,
            per_host: positive("fetch.per_host", f.per_host, 4)?,
            per_host_delay: dur("fetch.per_host_delay", &f.per_host_delay, "0s")?,
            timeout: dur("fetch.timeout", &f.timeout, "30s")?,
            connect_timeout: dur("fetch.connect_timeout", &f.connect_timeout, "10s")?,
            max_body,
            max_age: dur("fetch.max_age", &f.max_age, "7d")?,
            max_redirects: f.max_redirects.unwrap_or(5),
            user_agent,
            allow_private_hosts: f.allow_private_hosts.clone(),
            failing_after: positive("fetch.failing_after", f.failing_after, 5)?,
        };
        if fetch.timeout.is_zero() {
            return Err(err("fetch.timeout", "must be above 0s".into()));
        }
        let alerts = AlertRules {
            sources: match raw.alerts.sources {
                None => 1,
                Some(0) => return Err(err("alerts.sources", "must be at least 1".into())),
                Some(n) => n as usize,
            },
            window: dur("alerts.window", &raw.alerts.window, "72h")?,
            min_confidence: match raw.alerts.min_confidence {
                None => 0.0,
                Some(c) if (0.0..=1.0).contains(&c) => c,
                Some(c) => {
                    return Err(err(
                        "alerts.min_confidence",
                        format!("{c} is not between 0 and 1"),
                    ));
                }
            },
        };
        let keep = dur("state.keep", &raw.state.keep, "365d")?;
        let lease = dur("state.lease", &raw.state.lease, "5m")?;
        if lease < Duration::from_secs(1) {
            return Err(err("state.lease", "must be at least 1s".into()));
        }
        if raw.state.lease.is_some() && raw.state.url.is_none() {
            return Err(err(
                "state.lease",
                "only with state.url: an SQLite file is one pass at a time".into(),
            ));
        }
        // an entry forgotten while a feed still lists it would be new again:
        // entries older than max_age are not read, so keep must outlast it
        if keep <= fetch.max_age + Duration::from_secs(86_400) {
            return Err(err(
                "state.keep",
                format!(
                    "must be longer than fetch.max_age ({}s) by a day at least, or entries forgotten would be read again",
                    fetch.max_age.as_secs()
                ),
            ));
        }
        let min_confidence = raw
            .analysis
            .min_confidence
            .unwrap_or(crate::engine::MIN_CONFIDENCE);
        if !(0.0..=1.0).contains(&min_confidence) {
            return Err(err(
                "analysis.min_confidence",
                format!("{min_confidence} is not between 0 and 1"),
            ));
        }
        let page_budget = dur("analysis.page_budget", &raw.analysis.page_budget, "20s")?;
        if page_budget.is_zero() {
            return Err(err("analysis.page_budget", "must be above 0s".into()));
        }
        let profile = raw.analysis.profile.as_deref().map(resolve);
        let seeds = raw.analysis.seeds.as_deref().map(resolve);
        if let Some(p) = &profile
            && !p.is_file()
        {
            return Err(err(
                "analysis.profile",
                format!("{} is not a file", p.display()),
            ));
        }
        if let Some(s) = &seeds
            && !s.is_dir()
        {
            return Err(err(
                "analysis.seeds",
                format!("{} is not a folder", s.display()),
            ));
        }
        Ok(Config {
            source: path.to_path_buf(),
            state_path,
            state_server,
            alerts,
            keep,
            lease,
            interval,
            jitter,
            feeds,
            email,
            fetch,
            profile,
            seeds,
            min_confidence,
            page_budget,
            judge: raw.analysis.judge.clone().unwrap_or_else(|| "rules".into()),
            listen,
            stop_grace,
        })
    }
}

/// Is it an address the mailer will take ("a@b", "Name <a@b>")? The same
/// parser as the one that builds the message decides.
fn looks_like_address(s: &str) -> bool {
    !s.contains(['\r', '\n']) && s.trim().parse::<lettre::message::Mailbox>().is_ok()
}

/// A feed URL: http(s), or `file:` (absolute, or relative to the config).
fn parse_feed_url(s: &str, dir: &Path) -> Result<Url, String> {
    if let Some(rest) = s.strip_prefix("file:")
        && !rest.starts_with("//")
    {
        let p = dir.join(rest);
        let abs = std::path::absolute(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        return Url::from_file_path(&abs).map_err(|_| format!("`{s}` is not a usable file path"));
    }
    let url = Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!("`{s}` has no host"));
            }
            Ok(url)
        }
        "file" => Ok(url),
        other => Err(format!(
            "`{s}`: scheme `{other}` is not supported (use http, https or file)"
        )),
    }
}

/// Checks a config file and returns a one-line description of it.
impl Config {
    /// Can a pass write its state? The state folder (or, when it does not
    /// exist yet, the nearest folder above it, where it will be created)
    /// must take a new file.
    pub fn check_state_folder(&self) -> Result<(), ConfigError> {
        if self.state_server.is_some() {
            return Ok(());
        }
        let err = |problem: String| ConfigError {
            file: self.source.display().to_string(),
            key: "state.path".into(),
            problem,
        };
        let mut dir = self
            .state_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        while !dir.exists() {
            match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
                _ => break,
            }
        }
        let probe = dir.join(format!(".stancewatch-write-test-{}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                Ok(())
            }
            Err(e) => Err(err(format!(
                "{} cannot be written to ({e}), so the state {} cannot be kept",
                dir.display(),
                self.state_path.display()
            ))),
        }
    }
}

pub fn describe(c: &Config) -> String {
    let mail = match &c.email {
        None => "no email".to_string(),
        Some(e) => match &e.delivery {
            Delivery::Smtp(s) => format!(
                "SMTP {}:{} ({:?}) to {}",
                s.host,
                s.port,
                s.tls,
                e.to.join(", ")
            ),
            Delivery::Maildir(d) => format!(".eml files in {}", d.display()),
        },
    };
    format!(
        "{}: ok — {} feeds, every {}s, state {}, {}",
        c.source.display(),
        c.feeds.len(),
        c.interval.as_secs(),
        c.state_location(),
        mail
    )
}

/// The one password source of a section (`email` or `state`), if any:
/// `password_file` (relative to the config's folder), `password_env` or
/// `password_credential`. An error is (key, problem).
fn password_source(
    section: &str,
    file: &Option<String>,
    env: &Option<String>,
    credential: &Option<String>,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Option<PasswordSource>, (String, String)> {
    let set = [file.is_some(), env.is_some(), credential.is_some()];
    if set.iter().filter(|x| **x).count() > 1 {
        return Err((
            format!("{section}.password_file"),
            "set only one of password_file, password_env, password_credential".into(),
        ));
    }
    Ok(if let Some(p) = file {
        Some(PasswordSource::File(resolve(p)))
    } else if let Some(v) = env {
        Some(PasswordSource::Env(v.clone()))
    } else {
        credential
            .as_ref()
            .map(|c| PasswordSource::Credential(c.clone()))
    })
}

impl Config {
    /// Where the state is kept, with the database password read from its
    /// source when one is set.
    pub fn state_location(&self) -> crate::state::Location {
        match &self.state_server {
            None => crate::state::Location::File(self.state_path.clone()),
            Some(s) => crate::state::Location::Server {
                url: s.url.clone(),
                password: None,
            },
        }
    }

    /// [`Config::state_location`] with the password read: what opening the
    /// state needs.
    pub fn state_access(&self) -> anyhow::Result<crate::state::Location> {
        let mut at = self.state_location();
        if let (crate::state::Location::Server { password, .. }, Some(s)) =
            (&mut at, &self.state_server)
            && let Some(src) = &s.password
        {
            let p = crate::notify::mailer::read_password(src)
                .map_err(|e| anyhow::anyhow!("state: {e:#}"))?;
            *password = Some(p.expose().to_string());
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ConfigError> {
        Config::parse(s, Path::new("/etc/stancewatch/test.toml"))
    }

    const MIN: &str = r#"
[state]
path = "/var/lib/stancewatch/state.db"
[poll]
interval = "15m"
[[feeds]]
url = "http://127.0.0.1:8089/feeds/f0.xml"
[email]
smtp_host = "127.0.0.1"
smtp_port = 2525
tls = "none"
from = "stancewatch@localhost"
to = ["analyst@localhost"]
"#;

    #[test]
    fn minimal_config_of_the_spec_parses() {
        let c = parse(MIN).unwrap();
        assert_eq!(c.interval, Duration::from_secs(900));
        assert_eq!(c.feeds.len(), 1);
        assert_eq!(c.fetch.concurrency, 64);
        assert_eq!(c.fetch.per_host, 4);
        assert_eq!(c.fetch.max_body, 8 * 1024 * 1024);
        assert_eq!(c.fetch.max_age, Duration::from_secs(7 * 86400));
        match &c.email.unwrap().delivery {
            Delivery::Smtp(s) => assert_eq!((s.port, s.tls), (2525, Tls::None)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let e = parse(&MIN.replace("[poll]", "[poll]\nintervall = \"1m\"")).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("/etc/stancewatch/test.toml"), "{s}");
        assert!(s.contains("intervall"), "{s}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = parse(&MIN.replace("smtp_port = 2525", "smtp_port = \"x\"")).unwrap_err();
        assert_eq!(e.key, "email.smtp_port", "{e}");
    }

    #[test]
    fn clear_text_smtp_only_on_loopback() {
        let e = parse(&MIN.replace(
            "smtp_host = \"127.0.0.1\"",
            "smtp_host = \"mail.example.com\"",
        ))
        .unwrap_err();
        assert_eq!(e.key, "email.tls");
    }

    #[test]
    fn bad_urls_and_missing_fields() {
        let e = parse(&MIN.replace("http://127.0.0.1:8089/feeds/f0.xml", "ftp://x/y")).unwrap_err();
        assert_eq!(e.key, "feeds[0].url");
        let e = parse(&MIN.replace("from = \"stancewatch@localhost\"\n", "")).unwrap_err();
        assert_eq!(e.key, "email.from");
        let e = parse(&MIN.replace("interval = \"15m\"", "interval = \"soon\"")).unwrap_err();
        assert_eq!(e.key, "poll.interval");
    }

    #[test]
    fn what_is_kept_outlasts_what_is_read() {
        let e = parse(&MIN.replace("[state]\n", "[state]\nkeep = \"3d\"\n")).unwrap_err();
        assert_eq!(e.key, "state.keep");
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("99999999999999999999999w").is_err());
        assert!(parse_duration("36501d").is_err());
        assert!(parse_duration("3000d").is_ok());
        assert!(is_loopback_host("localhost") && is_loopback_host("[::1]"));
        assert!(!is_loopback_host("mail.localhost"));
        assert_eq!(parse_size("512KiB").unwrap(), 512 * 1024);
        assert!(parse_size("1 parsec").is_err());
    }
}
