//! A TCP proxy in front of PostgreSQL that a test can cut, to take the database away from a
//! running server without stopping the shared PostgreSQL other tests use.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Up,
    /// Connections are closed and new ones refused: a database that went away.
    Refused,
    /// Connections stay open but nothing passes: a network partition.
    Blackholed,
}

pub struct TcpProxy {
    pub address: SocketAddr,
    link: watch::Sender<Link>,
    accept_loop: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        let (link, _) = watch::channel(Link::Up);
        let links = link.clone();
        let accept_loop = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream, links.subscribe()));
            }
        });
        Self {
            address,
            link,
            accept_loop,
        }
    }

    pub fn set(&self, state: Link) {
        self.link.send_replace(state);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    let state = *link.borrow_and_update();
    if state == Link::Blackholed {
        // Hold the socket, say nothing, until the link changes; then hang up.
        let _ = link.changed().await;
        return;
    }
    if state == Link::Refused {
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let cut_to = tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => return,
        state = link.wait_for(|state| *state != Link::Up) => state.map(|s| *s).unwrap_or(Link::Refused),
    };
    if cut_to == Link::Blackholed {
        // Keep both sockets open, forward nothing, until the link changes again.
        let _ = link.wait_for(|state| *state != Link::Blackholed).await;
    }
}

/// `postgres://u@host:port/db` with the host and port replaced by `address`.
pub fn via(database_url: &str, address: SocketAddr) -> String {
    let (scheme, rest) = database_url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let userinfo = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{address}/{path}")
}

/// The `host:port` a postgres URL points at.
pub fn upstream_of(database_url: &str) -> SocketAddr {
    let rest = database_url.split_once("://").expect("a URL").1;
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port
        .parse()
        .expect("TEST_DATABASE_URL host must be an IP address or localhost")
}
