//! HTTP (and `file:`) fetching: the only module that talks to the network.
//!
//! Every request has a connect timeout and a total deadline; bodies are read
//! as a stream and cut at `max_body` *after* decoding (so a gzip bomb stops
//! early); redirects are limited; feeds are fetched with the validators of
//! the last answer (If-None-Match / If-Modified-Since) so an unchanged feed
//! costs one request and a 304. A global and a per-host semaphore bound the
//! requests in flight. Article links come from strangers: they may use only
//! http(s) and resolve only to public addresses, unless the host is a
//! configured feed host or listed in `allow_private_hosts`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{
    ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
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
    trusted: reqwest::Client,
    untrusted: reqwest::Client,
    cfg: FetchConfig,
    global: Arc<Semaphore>,
    hosts: Arc<Mutex<HashMap<String, HostSlot>>>,
    allowed_private: Arc<HashSet<String>>,
}

#[derive(Clone)]
struct HostSlot {
    sem: Arc<Semaphore>,
    next_at: Arc<tokio::sync::Mutex<Instant>>,
}

/// Is this address one an article link may reach?
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
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// A resolver that drops private addresses of hosts not on the allow list,
/// so the check happens at connect time, after every redirect too.
struct PublicOnly {
    allowed: Arc<HashSet<String>>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allowed = self.allowed.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allowed || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves only to private addresses").into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Checks an article link before any request: scheme and IP literals.
pub fn check_link(url: &Url, allowed: &HashSet<String>) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::Refused(format!(
                "scheme `{other}` is not allowed for article links"
            )));
        }
    }
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if allowed.contains(&host) {
        return Ok(());
    }
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>()
        && !is_public(ip)
    {
        return Err(FetchError::Refused(format!("{ip} is not a public address")));
    }
    Ok(())
}

impl Fetcher {
    /// `feed_hosts`: hosts of the configured feeds, which article links may
    /// reach even on private addresses.
    pub fn new(cfg: &FetchConfig, feed_hosts: &[String]) -> anyhow::Result<Fetcher> {
        let mut allowed: HashSet<String> =
            feed_hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        allowed.extend(
            cfg.allow_private_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase()),
        );
        let allowed = Arc::new(allowed);
        let max_redirects = cfg.max_redirects;
        let base = || {
            reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .timeout(cfg.timeout)
                .pool_idle_timeout(Duration::from_secs(90))
                .pool_max_idle_per_host(cfg.per_host)
                .redirect(reqwest::redirect::Policy::limited(max_redirects))
                .no_proxy()
        };
        let trusted = base().build()?;
        let allowed_r = allowed.clone();
        let untrusted = base()
            .dns_resolver(Arc::new(PublicOnly {
                allowed: allowed.clone(),
            }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= max_redirects {
                    return attempt.error(format!("more than {max_redirects} redirects"));
                }
                match check_link(attempt.url(), &allowed_r) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e.to_string()),
                }
            }))
            .build()?;
        Ok(Fetcher {
            trusted,
            untrusted,
            cfg: cfg.clone(),
            global: Arc::new(Semaphore::new(cfg.concurrency)),
            hosts: Arc::new(Mutex::new(HashMap::new())),
            allowed_private: allowed,
        })
    }

    /// The hosts article links may reach on private addresses.
    pub fn allowed_private(&self) -> &HashSet<String> {
        &self.allowed_private
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

    /// Fetches a configured feed (trusted), conditionally.
    pub async fn fetch_feed(&self, url: &Url, v: &Validators) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            return self.read_file(url);
        }
        self.get(&self.trusted, url, Some(v)).await
    }

    /// Fetches an article page linked from `feed`.
    pub async fn fetch_page(&self, url: &Url, feed: &Url) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            if feed.scheme() == "file" {
                return self.read_file(url);
            }
            return Err(FetchError::Refused("a file: link from a web feed".into()));
        }
        check_link(url, &self.allowed_private)?;
        self.get(&self.untrusted, url, None).await
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

    async fn get(
        &self,
        client: &reqwest::Client,
        url: &Url,
        v: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let _permits = self.permits(url).await;
        let deadline = self.cfg.timeout;
        let fut = async {
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
        };
        // the client's own timeout covers the whole exchange; this one is a backstop
        match tokio::time::timeout(deadline + Duration::from_secs(1), fut).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(deadline)),
        }
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
    fn private_addresses_are_not_public() {
        for a in [
            "169.254.169.254",
            "10.1.2.3",
            "127.0.0.2",
            "192.168.1.1",
            "172.16.0.1",
            "::1",
            "::ffff:127.0.0.2",
            "fd00::1",
            "100.64.0.1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn links_are_checked_before_any_request() {
        let none = HashSet::new();
        for u in [
            "http://169.254.169.254/latest",
            "http://10.0.0.1/",
            "http://[::ffff:127.0.0.2]/",
            "javascript:alert(1)",
            "ftp://example.com/x",
        ] {
            assert!(check_link(&Url::parse(u).unwrap(), &none).is_err(), "{u}");
        }
        assert!(check_link(&Url::parse("https://example.com/a").unwrap(), &none).is_ok());
        let mut allowed = HashSet::new();
        allowed.insert("127.0.0.1".to_string());
        assert!(check_link(&Url::parse("http://127.0.0.1:8080/a").unwrap(), &allowed).is_ok());
    }
}
