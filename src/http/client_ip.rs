//! Who is asking: the one answer the rate limits, the sessions list and the security events
//! all use.
//!
//! | the TCP peer is…                         | the client is…                                         |
//! |------------------------------------------|--------------------------------------------------------|
//! | not in `TRUSTED_PROXIES` (the default)   | the peer; `X-Forwarded-For` and `Forwarded` are ignored |
//! | a trusted proxy                          | the rightmost forwarded address that is not itself a trusted proxy |
//!
//! Reading from the right matters: a client can write anything into the header it sends, but
//! each proxy appends the address it saw, so only the entries our own proxies added are true,
//! and the first one from the right that is not one of ours is the client. `X-Forwarded-For` is
//! read when present, `Forwarded: for=` (RFC 7239) otherwise; a proxy that speaks only
//! `Forwarded` should drop any `X-Forwarded-For` a client sent.
//!
//! An IPv4 address inside IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address. For rate
//! limits an IPv6 client is its /64 ([`rate_key`]): one subscriber is usually given a whole /64,
//! so a per-address bucket would let them draw from 2^64 buckets.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The client's address for a request, as the table above says; `None` only when the request
/// did not arrive over a connection (never when served by `server::serve`).
pub fn of(extensions: &Extensions, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(client_address(peer.ip(), headers, trusted))
}

/// The client behind `peer`, given the forwarded headers and the trusted proxies.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let mut client = canonical(peer);
    if !is_trusted(client, trusted) {
        return client;
    }
    for hop in forwarded_hops(headers).into_iter().rev() {
        // An entry we cannot read was not written by one of our proxies: stop at the last
        // address we could trust.
        let Some(hop) = hop else { return client };
        client = canonical(hop);
        if !is_trusted(client, trusted) {
            return client;
        }
    }
    client
}

/// What a rate limit counts `ip` as: an IPv4 address itself, an IPv6 address its /64.
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Whether the request carries a forwarding header at all.
pub fn is_forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(X_FORWARDED_FOR) || headers.contains_key(FORWARDED)
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const FORWARDED: &str = "forwarded";

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// Every forwarded address, left (the client's claim) to right (the last proxy's), across
/// repeated headers; `None` for an entry that is not an address (`unknown`, an obfuscated name).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| headers.get_all(name).iter().filter_map(|value| value.to_str().ok());
    if headers.contains_key(X_FORWARDED_FOR) {
        values(X_FORWARDED_FOR).flat_map(|value| value.split(',')).map(parse_node).collect()
    } else {
        values(FORWARDED)
            .flat_map(|value| value.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| parse_node(value))
                })
            })
            .collect()
    }
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `"[2001:db8::1]:4711"`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    node.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().expect("a network")).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let forged = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=203.0.113.9")]);
        assert_eq!(client_address(ip("198.51.100.4"), &forged, &[]), ip("198.51.100.4"));
        assert_eq!(client_address(ip("198.51.100.4"), &forged, &nets(&["10.0.0.0/8"])), ip("198.51.100.4"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(client_address(ip("10.0.0.1"), &chain, &trusted), ip("203.0.113.9"), "1.1.1.1 is a claim");
        let repeated = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(client_address(ip("10.0.0.1"), &repeated, &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, nonsense, 10.0.0.2")]);
        assert_eq!(client_address(ip("10.0.0.1"), &garbage, &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = nets(&["10.0.0.1/32"]);
        let forwarded = headers(&[("forwarded", r#"for=192.0.2.60;proto=https, for="[2001:db8::7]:4711""#)]);
        assert_eq!(client_address(ip("10.0.0.1"), &forwarded, &trusted), ip("2001:db8::7"));
        let both = headers(&[("forwarded", "for=192.0.2.60"), ("x-forwarded-for", "192.0.2.61")]);
        assert_eq!(client_address(ip("10.0.0.1"), &both, &trusted), ip("192.0.2.61"));
    }

    #[test]
    fn mapped_ipv4_is_ipv4_and_ipv6_is_limited_per_64() {
        assert_eq!(client_address(ip("::ffff:192.0.2.1"), &HeaderMap::new(), &[]), ip("192.0.2.1"));
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(rate_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(rate_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
