//! Who the client is: the socket's peer, or, when that peer is a proxy listed in
//! `TRUSTED_PROXIES`, the address that proxy saw (from `X-Forwarded-For`).
//!
//! `X-Forwarded-For` is read right to left and the first address not in the trusted list
//! wins: every address to its left was written by the client, or by a proxy nobody vouches
//! for, and could be anything. With no trusted proxies the header is ignored entirely.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma- or space-separated list of CIDRs or single addresses.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split([',', ' '])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{item:?} is not an IP address or CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address, given the socket's `peer` and the request's `X-Forwarded-For`
    /// values (every header line, in order).
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = forwarded_for.rev().flat_map(|line| line.rsplit(','));
        for hop in hops {
            match parse_hop(hop) {
                Some(address) => {
                    client = address;
                    if !self.trusts(address) {
                        break;
                    }
                }
                // Garbage where an address should be: nothing left of it can be believed.
                None => break,
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let address = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))?;
    Some(canonical(address))
}

/// IPv4 clients of a dual-stack socket arrive as `::ffff:a.b.c.d`: one client, one address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), ["10.0.0.1"].into_iter()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8, 192.168.1.1".parse().unwrap();
        let peer = ip("10.1.2.3");
        let client = |header: &[&str]| trusted.client_ip(peer, header.iter().copied());
        // The client put a fake address first; the proxy appended the real one.
        assert_eq!(client(&["6.6.6.6, 198.51.100.7"]), ip("198.51.100.7"));
        // Two proxies, the header split over two lines.
        assert_eq!(client(&["198.51.100.7", "192.168.1.1"]), ip("198.51.100.7"));
        // Every hop trusted: the left-most one is the best there is.
        assert_eq!(client(&["10.9.9.9, 192.168.1.1"]), ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(client(&[]), peer);
        // Garbage stops the walk at the last hop that could be believed.
        assert_eq!(client(&["198.51.100.7, nonsense"]), peer);
        assert_eq!(client(&["[2001:db8::1]:443"]), ip("2001:db8::1"));
    }

    #[test]
    fn an_untrusted_peer_cannot_spoof() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let client = trusted.client_ip(ip("203.0.113.9"), ["10.0.0.1"].into_iter());
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn mapped_ipv4_is_one_address() {
        let trusted: TrustedProxies = "127.0.0.1".parse().unwrap();
        let client = trusted.client_ip(ip("::ffff:127.0.0.1"), ["198.51.100.7"].into_iter());
        assert_eq!(client, ip("198.51.100.7"));
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.internal".parse::<TrustedProxies>().is_err());
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
    }
}
