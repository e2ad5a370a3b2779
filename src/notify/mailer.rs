//! Delivery of rendered alerts: SMTP through lettre, or `.eml` files.
//!
//! The only module that talks SMTP. Errors are sorted into transient (retry
//! later), permanent (keep as failed) and fatal for the pass (auth, TLS).

use std::path::PathBuf;

use anyhow::{Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls as LTls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Delivery, Email, PasswordSource, Tls};

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent(String),
    /// Retry on a later pass.
    Transient(String),
    /// The server refused it for good.
    Permanent(String),
    /// Stop sending for this pass (authentication, TLS).
    Fatal(String),
}

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        envelope: Envelope,
    },
    Files {
        dir: PathBuf,
    },
}

/// A secret that never shows itself in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Reads the SMTP password from where the config says; never from the TOML.
pub fn read_password(src: &PasswordSource) -> Result<Secret> {
    let p = match src {
        PasswordSource::File(f) => std::fs::read_to_string(f)
            .with_context(|| format!("{}: cannot read the password file", f.display()))?,
        PasswordSource::Env(v) => {
            std::env::var(v).with_context(|| format!("environment variable {v} is not set"))?
        }
        PasswordSource::Credential(name) => {
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
                .context("CREDENTIALS_DIRECTORY is not set (systemd LoadCredential=)")?;
            let f = PathBuf::from(dir).join(name);
            std::fs::read_to_string(&f)
                .with_context(|| format!("{}: cannot read the credential", f.display()))?
        }
    };
    Ok(Secret::new(p.trim_end_matches(['\r', '\n']).to_string()))
}

impl Mailer {
    pub fn new(email: &Email) -> Result<Mailer> {
        let from: Address = email
            .from
            .trim()
            .trim_start_matches(|c| c != '<')
            .trim_matches(['<', '>'])
            .parse()
            .or_else(|_| email.from.parse())?;
        let to: Vec<Address> = email
            .to
            .iter()
            .map(|t| {
                let t = t.trim();
                let inner = match (t.find('<'), t.rfind('>')) {
                    (Some(a), Some(b)) if a < b => &t[a + 1..b],
                    _ => t,
                };
                inner.parse::<Address>()
            })
            .collect::<Result<_, _>>()?;
        let envelope = Envelope::new(Some(from), to)?;
        match &email.delivery {
            Delivery::Maildir(dir) => Ok(Mailer::Files { dir: dir.clone() }),
            Delivery::Smtp(s) => {
                let tls = match s.tls {
                    Tls::None => LTls::None,
                    Tls::StartTls => LTls::Required(TlsParameters::new(s.host.clone())?),
                    Tls::Tls => LTls::Wrapper(TlsParameters::new(s.host.clone())?),
                };
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
                    .port(s.port)
                    .tls(tls)
                    .timeout(Some(s.timeout));
                if let (Some(user), Some(src)) = (&s.username, &s.password) {
                    let secret = read_password(src)?;
                    b = b.credentials(Credentials::new(user.clone(), secret.expose().to_string()));
                }
                let transport: AsyncSmtpTransport<Tokio1Executor> = b.build();
                Ok(Mailer::Smtp {
                    transport,
                    envelope,
                })
            }
        }
    }

    /// Sends one raw message.
    pub async fn send(&self, key: &str, raw: &[u8]) -> Outcome {
        match self {
            Mailer::Files { dir } => {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    return Outcome::Fatal(format!("{}: {e}", dir.display()));
                }
                let path = dir.join(format!("{key}.eml"));
                match std::fs::write(&path, raw) {
                    Ok(()) => Outcome::Sent(format!("written to {}", path.display())),
                    Err(e) => Outcome::Fatal(format!("{}: {e}", path.display())),
                }
            }
            Mailer::Smtp {
                transport,
                envelope,
            } => match transport.send_raw(envelope, raw).await {
                Ok(resp) => Outcome::Sent(resp.message().collect::<Vec<_>>().join(" ")),
                Err(e) => {
                    let msg = error_chain(&e);
                    if e.is_permanent() {
                        // 5xx: the server's words are kept
                        if e.status().is_some_and(|c| c.to_string().starts_with("53")) {
                            Outcome::Fatal(msg)
                        } else {
                            Outcome::Permanent(msg)
                        }
                    } else if e.is_tls() {
                        Outcome::Fatal(msg)
                    } else {
                        Outcome::Transient(msg)
                    }
                }
            },
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn password_file_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        assert_eq!(
            read_password(&PasswordSource::File(f)).unwrap().expose(),
            "s3cret"
        );
    }
}
