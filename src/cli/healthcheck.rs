//! `gatehouse healthcheck`: asks a running server's `/ready` and exits 0 when it answers 200,
//! 1 otherwise; for a container's `HEALTHCHECK`, where no curl is installed.
//!
//! A minimal HTTP/1.1 GET over a plain TCP connection: the check is local, never TLS.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::config::Config;

/// The whole check (connect, send, read the status line) must fit in this.
const TIMEOUT: Duration = Duration::from_secs(3);
/// A status line longer than this is not one.
const MAX_STATUS_LINE: usize = 1024;

#[derive(Debug, clap::Args)]
pub(super) struct HealthcheckArgs {
    /// The URL to GET (http:// only); by default `/ready` on this configuration's HOST and PORT
    /// (HOST 0.0.0.0 or :: asks the loopback address).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

pub(super) async fn healthcheck_command(
    args: HealthcheckArgs,
    config: &Config,
) -> anyhow::Result<()> {
    let url = args
        .url
        .unwrap_or_else(|| default_url(config.host, config.port));
    let target = Target::parse(&url)?;
    let status = tokio::time::timeout(TIMEOUT, target.get())
        .await
        .map_err(|_| anyhow::anyhow!("{url}: no answer within {} s", TIMEOUT.as_secs()))?
        .with_context(|| url.clone())?;
    if status != 200 {
        bail!("{url}: HTTP {status}, not ready");
    }
    Ok(())
}

fn default_url(host: IpAddr, port: u16) -> String {
    match host {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            format!("http://{}:{port}/ready", Ipv4Addr::LOCALHOST)
        }
        IpAddr::V4(ip) => format!("http://{ip}:{port}/ready"),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            format!("http://[{}]:{port}/ready", Ipv6Addr::LOCALHOST)
        }
        IpAddr::V6(ip) => format!("http://[{ip}]:{port}/ready"),
    }
}

/// Where to connect and what to ask.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// `host:port`, as `TcpStream::connect` takes it (a name is resolved).
    authority: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("{url}: only http:// URLs can be checked");
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') || path.contains(char::is_whitespace) {
            bail!("{url}: not a valid http:// URL");
        }
        let has_port = match authority.rfind(']') {
            Some(bracket) => authority[bracket..].contains(':'),
            None => authority.contains(':'),
        };
        let authority = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Self {
            authority,
            path: path.to_owned(),
        })
    }

    /// The response's status code.
    async fn get(&self) -> anyhow::Result<u16> {
        let mut stream = TcpStream::connect(&self.authority).await?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: gatehouse-healthcheck\r\nConnection: close\r\n\r\n",
            self.path, self.authority
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::with_capacity(128);
        let mut buffer = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") {
            if head.len() > MAX_STATUS_LINE {
                bail!("the answer is not HTTP");
            }
            let read = stream.read(&mut buffer).await?;
            if read == 0 {
                bail!("the connection closed before a status line");
            }
            head.extend_from_slice(&buffer[..read]);
        }
        parse_status(&head).context("the answer is not HTTP")
    }
}

fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_asks_loopback_when_listening_everywhere() {
        assert_eq!(
            default_url("0.0.0.0".parse().unwrap(), 5000),
            "http://127.0.0.1:5000/ready"
        );
        assert_eq!(
            default_url("::".parse().unwrap(), 80),
            "http://[::1]:80/ready"
        );
        assert_eq!(
            default_url("10.0.0.7".parse().unwrap(), 8080),
            "http://10.0.0.7:8080/ready"
        );
    }

    #[test]
    fn urls_parse_into_an_authority_with_a_port_and_a_path() {
        let parsed = |url: &str| Target::parse(url).map(|t| (t.authority, t.path)).ok();

        assert_eq!(
            parsed("http://127.0.0.1:5000/ready"),
            Some(("127.0.0.1:5000".into(), "/ready".into()))
        );
        assert_eq!(
            parsed("http://gatehouse"),
            Some(("gatehouse:80".into(), "/".into()))
        );
        assert_eq!(
            parsed("http://[::1]/live"),
            Some(("[::1]:80".into(), "/live".into()))
        );
        assert_eq!(parsed("https://example.com/ready"), None);
        assert_eq!(parsed("http:///ready"), None);
        assert_eq!(parsed("http://host/a b"), None);
    }

    #[test]
    fn only_an_http_status_line_gives_a_status() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(
            parse_status(b"HTTP/1.1 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
    }
}
