//! HTTP (and `file:`) fetching: the only module that talks to the network.
//!
//! Every request has a connect timeout and a total deadline; bodies are read
//! as a stream and cut at `max_body` *after* decoding (so a gzip bomb stops
//! early); redirects are limited; feeds are fetched with the validators of
//! the last answer (If-None-Match / If-Modified-Since) so an unchanged feed
//! costs one request and a 304. A global and a per-host semaphore bound the
//! requests in flight.
//!
//! Links and redirects come from strangers. Redirects are followed here, not
//! by the client, so that every hop passes the same [`Guard`]: http(s) only,
//! and public addresses only, except on the exact origin (scheme, host, port)
//! of the configured feed that led there when that feed is on a private
//! address (typed as an address or `localhost`, or marked `allow_private`),
//! or on a host listed in `fetch.allow_private_hosts`. Host names of such
//! trusted origins are resolved when their feed is fetched, and its pages go
//! to the same addresses; every other name resolves to public addresses only.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{
    ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use reqwest::{StatusCode, Url};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Fetch as FetchConfig;

/// Why a fetch failed. Each is a per-feed or per-page error, never fatal.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request failed: {0}")]
    Request(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP status {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("refused: {0}")]
    Refused(String),
    #[error("cannot read file: {0}")]
    File(String),
}

/// The validators a server gave for a feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetched body, or "not modified".
#[derive(Debug)]
pub enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        final_url: Url,
        content_type: Option<String>,
        validators: Validators,
    },
}

/// The fetcher: one HTTP client (connections kept alive) and the limits.
#[derive(Clone)]
pub struct Fetcher {
    public: reqwest::Client,
    pinned: reqwest::Client,
    pins: Arc<Pins>,
    cfg: FetchConfig,
    global: Arc<Semaphore>,
    hosts: Arc<Mutex<HashMap<String, HostSlot>>>,
    guard: Arc<Guard>,
}

#[derive(Clone)]
struct HostSlot {
    sem: Arc<Semaphore>,
    next_at: Arc<tokio::sync::Mutex<Instant>>,
}

/// Is this address one a stranger's link may reach? Loopback, private,
/// link-local, shared, documentation, benchmarking and reserved ranges are
/// refused, and so are IPv6 forms that carry or tunnel an IPv4 address
/// (IPv4-compatible `::/96`, mapped `::ffff:0:0/96`, 6to4 `2002::/16`,
/// Teredo `2001::/32`, NAT64 `64:ff9b::/96`), since the address behind them
/// is not checked, and the old site-local `fec0::/10`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 192 && o[1] == 88 && o[2] == 99)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(s[..6].iter().all(|&x| x == 0)
                || (s[..5].iter().all(|&x| x == 0) && s[5] == 0xffff)
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || s[0] == 0x2002
                || (s[0] == 0x2001 && s[1] == 0)
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b)
                || (s[0] == 0x0100 && s[1..4].iter().all(|&x| x == 0)))
        }
    }
}

/// Which of the fetcher's clients a request goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Anybody's address: host names resolve to public addresses only and an
    /// address literal must be public.
    Public,
    /// The configured origin of a feed trusted with a private address: host
    /// names resolve to the addresses its feed was fetched from.
    Pinned,
}

/// Who may be reached on a private address: the origins (scheme, host and
/// port) of configured feeds that are on one, and the hosts the config lists.
#[derive(Debug, Default)]
pub struct Guard {
    /// The origin of every configured feed, and whether it may be private.
    feeds: HashMap<url::Origin, bool>,
    hosts: HashSet<String>,
}

impl Guard {
    /// `feeds`: each configured feed's URL and its `allow_private`;
    /// `hosts`: `fetch.allow_private_hosts`.
    pub fn new(feeds: &[(Url, bool)], hosts: &[String]) -> Guard {
        let mut map = HashMap::new();
        for (url, allow) in feeds {
            // an address or `localhost` typed into the config is meant
            let typed = matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)))
                || url.host_str() == Some("localhost");
            let private = *allow || typed;
            let e = map.entry(url.origin()).or_insert(false);
            *e |= private;
        }
        Guard {
            feeds: map,
            hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Where a request for `url`, made for the configured feed `feed`, may go
    /// — checked before the first request and again for every redirect. A
    /// private address is reachable only on the very origin of `feed` (when
    /// that feed is trusted with one) or on a host the config lists.
    pub fn route(&self, url: &Url, feed: &Url) -> Result<Route, FetchError> {
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(FetchError::Refused(format!(
                    "scheme `{other}` is not allowed"
                )));
            }
        }
        let Some(host) = url.host() else {
            return Err(FetchError::Refused(format!("{url} has no host")));
        };
        let origin = url.origin();
        if origin == feed.origin() && self.feeds.get(&origin).copied().unwrap_or(false) {
            return Ok(Route::Pinned);
        }
        if let url::Host::Domain(d) = &host
            && self.hosts.contains(&d.to_ascii_lowercase())
        {
            return Ok(Route::Pinned);
        }
        let ip = match host {
            url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = ip {
            if self.hosts.contains(&ip.to_string()) {
                return Ok(Route::Pinned);
            }
            if !is_public(ip) {
                return Err(FetchError::Refused(format!("{ip} is not a public address")));
            }
        }
        Ok(Route::Public)
    }
}

/// A resolver that keeps public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves only to private addresses (a feed on a private network needs `allow_private = true`)"
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// How long the addresses a trusted feed's host resolved to are reused.
const PIN_FOR: Duration = Duration::from_secs(300);

/// The resolver for trusted origins: a host name resolves once, when its
/// feed is fetched, and its pages go to the same addresses, so a name that
/// changes its answer between two requests cannot move a request elsewhere.
#[derive(Default)]
struct Pins {
    map: Mutex<HashMap<String, (Vec<SocketAddr>, Instant)>>,
}

impl Pins {
    fn forget(&self, host: &str) {
        self.map.lock().expect("pins lock").remove(host);
    }
}

/// [`Pins`] as the trusted client's resolver.
struct Pinned(Arc<Pins>);

impl reqwest::dns::Resolve for Pinned {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let pins = self.0.clone();
        Box::pin(async move {
            let pinned = pins
                .map
                .lock()
                .expect("pins lock")
                .get(&host)
                .filter(|(_, at)| at.elapsed() < PIN_FOR)
                .map(|(a, _)| a.clone());
            let addrs = match pinned {
                Some(a) => a,
                None => {
                    let a: Vec<SocketAddr> =
                        tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
                    pins.map
                        .lock()
                        .expect("pins lock")
                        .insert(host.clone(), (a.clone(), Instant::now()));
                    a
                }
            };
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Fetcher {
    /// `feeds`: each configured feed's URL and its `allow_private` flag.
    pub fn new(cfg: &FetchConfig, feeds: &[(Url, bool)]) -> anyhow::Result<Fetcher> {
        let guard = Arc::new(Guard::new(feeds, &cfg.allow_private_hosts));
        let pins = Arc::new(Pins::default());
        // redirects are followed by hand, each checked like the first request
        let base = || {
            reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .timeout(cfg.timeout)
                .pool_idle_timeout(Duration::from_secs(90))
                .pool_max_idle_per_host(cfg.per_host)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
        };
        let public = base().dns_resolver(Arc::new(PublicOnly)).build()?;
        let pinned = base()
            .dns_resolver(Arc::new(Pinned(pins.clone())))
            .build()?;
        Ok(Fetcher {
            public,
            pinned,
            pins,
            cfg: cfg.clone(),
            global: Arc::new(Semaphore::new(cfg.concurrency)),
            hosts: Arc::new(Mutex::new(HashMap::new())),
            guard,
        })
    }

    /// The rule every request of this fetcher is checked against.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    async fn permits(&self, url: &Url) -> (OwnedSemaphorePermit, OwnedSemaphorePermit) {
        let host = url.host_str().unwrap_or("").to_string();
        let slot = {
            let mut map = self.hosts.lock().expect("host map lock");
            map.entry(host)
                .or_insert_with(|| HostSlot {
                    sem: Arc::new(Semaphore::new(self.cfg.per_host)),
                    next_at: Arc::new(tokio::sync::Mutex::new(Instant::now())),
                })
                .clone()
        };
        let g = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let h = slot
            .sem
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        if !self.cfg.per_host_delay.is_zero() {
            let mut next = slot.next_at.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep(*next - now).await;
            }
            *next = Instant::now() + self.cfg.per_host_delay;
        }
        (g, h)
    }

    /// Fetches a configured feed, conditionally. Its host name is resolved
    /// afresh; its pages then go to the addresses found.
    pub async fn fetch_feed(&self, url: &Url, v: &Validators) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            return self.read_file(url);
        }
        if let Some(h) = url.host_str() {
            self.pins.forget(&h.to_ascii_lowercase());
        }
        self.get(url, url, Some(v)).await
    }

    /// Fetches an article page linked from the configured feed `feed`.
    pub async fn fetch_page(&self, url: &Url, feed: &Url) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            if feed.scheme() == "file" {
                return self.read_file(url);
            }
            return Err(FetchError::Refused("a file: link from a web feed".into()));
        }
        self.get(url, feed, None).await
    }

    fn read_file(&self, url: &Url) -> Result<Fetched, FetchError> {
        let path = url
            .to_file_path()
            .map_err(|_| FetchError::File(format!("{url} is not a local path")))?;
        let meta = std::fs::metadata(&path)
            .map_err(|e| FetchError::File(format!("{}: {e}", path.display())))?;
        if meta.len() > self.cfg.max_body {
            return Err(FetchError::TooLarge(self.cfg.max_body));
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| FetchError::File(format!("{}: {e}", path.display())))?;
        Ok(Fetched::Body {
            bytes,
            final_url: url.clone(),
            content_type: None,
            validators: Validators::default(),
        })
    }

    /// One GET and the redirects it leads to, each hop checked by the guard
    /// before it is made, all within one deadline.
    async fn get(
        &self,
        start: &Url,
        feed: &Url,
        v: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let deadline = self.cfg.timeout;
        let fut = async {
            let mut url = start.clone();
            let mut hops = 0usize;
            loop {
                let client = match self.guard.route(&url, feed)? {
                    Route::Public => &self.public,
                    Route::Pinned => &self.pinned,
                };
                let _permits = self.permits(&url).await;
                let mut req = client.get(url.clone());
                if let Some(v) = v {
                    if let Some(e) = &v.etag {
                        req = req.header(IF_NONE_MATCH, e);
                    }
                    if let Some(m) = &v.last_modified {
                        req = req.header(IF_MODIFIED_SINCE, m);
                    }
                }
                let resp = req.send().await.map_err(|e| classify(e, deadline))?;
                let status = resp.status();
                if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                    let Some(next) = resp
                        .headers()
                        .get(LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .and_then(|l| url.join(l).ok())
                    else {
                        return Err(FetchError::Status {
                            status: status.as_u16(),
                            retry_after: None,
                        });
                    };
                    hops += 1;
                    if hops > self.cfg.max_redirects {
                        return Err(FetchError::Request(format!(
                            "more than {} redirects",
                            self.cfg.max_redirects
                        )));
                    }
                    url = next;
                    continue;
                }
                return self.body(resp, deadline).await;
            }
        };
        // the client's own timeout covers each exchange; this one the whole chain
        match tokio::time::timeout(deadline + Duration::from_secs(1), fut).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(deadline)),
        }
    }

    async fn body(
        &self,
        resp: reqwest::Response,
        deadline: Duration,
    ) -> Result<Fetched, FetchError> {
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(resp.headers()),
            });
        }
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        if resp.content_length().is_some_and(|n| n > self.cfg.max_body) {
            return Err(FetchError::TooLarge(self.cfg.max_body));
        }
        let mut stream = resp.bytes_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(e, deadline))?;
            if bytes.len() as u64 + chunk.len() as u64 > self.cfg.max_body {
                return Err(FetchError::TooLarge(self.cfg.max_body));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = |h| {
            headers
                .get(h)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Fetched::Body {
            bytes,
            final_url,
            content_type: text(reqwest::header::CONTENT_TYPE),
            validators: Validators {
                etag: text(ETAG),
                last_modified: text(LAST_MODIFIED),
            },
        })
    }
}

fn classify(e: reqwest::Error, deadline: Duration) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout(deadline)
    } else {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        FetchError::Request(msg)
    }
}

/// Retry-After in seconds (dates are read as "a minute").
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?;
    match v.trim().parse::<u64>() {
        Ok(s) => Some(Duration::from_secs(s.min(86400))),
        Err(_) => Some(Duration::from_secs(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_tunnelling_addresses_are_not_public() {
        for a in [
            "169.254.169.254",
            "10.1.2.3",
            "127.0.0.2",
            "192.168.1.1",
            "172.16.0.1",
            "0.0.0.0",
            "192.88.99.1",
            "::1",
            "::",
            "::127.0.0.1",
            "::ffff:127.0.0.2",
            "::ffff:8.8.8.8",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "2002:7f00:1::",
            "2001:0:4136:e378::1",
            "64:ff9b::7f00:1",
            "100.64.0.1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "93.184.216.34",
            "2606:4700::1111",
            "8.8.8.8",
            "2001:4860::8888",
        ] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_private_feed_trusts_its_own_origin_and_nothing_else() {
        let feed = u("http://127.0.0.1:8080/feed.xml");
        let g = Guard::new(&[(feed.clone(), false)], &[]);
        assert_eq!(
            g.route(&u("http://127.0.0.1:8080/a"), &feed).unwrap(),
            Route::Pinned
        );
        for other in [
            "http://127.0.0.1:8081/a",
            "https://127.0.0.1:8080/a",
            "http://2130706433:8081/",
            "http://0x7f.1:8081/",
            "http://127.0.0.1.:8081/",
            "http://user@127.0.0.1:8081/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest",
            "ftp://127.0.0.1:8080/",
            "file:///etc/passwd",
        ] {
            assert!(g.route(&u(other), &feed).is_err(), "{other}");
        }
        // a name goes out on the public client, whose resolver drops private answers
        assert_eq!(
            g.route(&u("http://localhost:8081/"), &feed).unwrap(),
            Route::Public
        );
        assert_eq!(
            g.route(&u("https://example.org/a"), &feed).unwrap(),
            Route::Public
        );
    }

    #[test]
    fn a_feed_on_a_name_is_public_unless_marked_private() {
        let feed = u("http://news.example/feed.xml");
        let g = Guard::new(&[(feed.clone(), false)], &[]);
        assert_eq!(
            g.route(&u("http://news.example/a"), &feed).unwrap(),
            Route::Public
        );
        let g = Guard::new(&[(feed.clone(), true)], &[]);
        assert_eq!(
            g.route(&u("http://news.example/a"), &feed).unwrap(),
            Route::Pinned
        );
        assert_eq!(
            g.route(&u("http://news.example:81/a"), &feed).unwrap(),
            Route::Public
        );
        // trust is per feed: another feed's pages do not share it
        let other = u("http://127.0.0.1:9000/feed.xml");
        let g = Guard::new(&[(feed.clone(), true), (other.clone(), false)], &[]);
        assert!(g.route(&u("http://127.0.0.1:9000/a"), &feed).is_err());
        assert_eq!(
            g.route(&u("http://127.0.0.1:9000/a"), &other).unwrap(),
            Route::Pinned
        );
    }

    #[test]
    fn listed_hosts_may_be_private() {
        let feed = u("https://news.example/feed.xml");
        let g = Guard::new(
            &[(feed.clone(), false)],
            &["intranet.local".into(), "10.0.0.5".into()],
        );
        assert_eq!(
            g.route(&u("http://intranet.local:8000/"), &feed).unwrap(),
            Route::Pinned
        );
        assert_eq!(
            g.route(&u("http://10.0.0.5/"), &feed).unwrap(),
            Route::Pinned
        );
        assert!(g.route(&u("http://10.0.0.6/"), &feed).is_err());
    }
}
