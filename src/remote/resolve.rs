//! Host names to addresses without glibc's NSS, so a static binary in a
//! `scratch` image resolves registries too: IP literals as they are, then
//! `/etc/hosts`, then DNS over UDP to the `/etc/resolv.conf` name servers
//! (A, then AAAA; `search` domains for names without a dot). Plugged into
//! ureq as its resolver; no thread is started.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Most addresses ureq takes from a resolver.
const MAX_ADDRS: usize = 16;

#[derive(Debug, Default)]
pub struct PlainResolver;

impl Resolver for PlainResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri
            .port_u16()
            .or_else(|| match uri.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            })
            .ok_or(ureq::Error::HostNotFound)?;
        let ips = lookup(host.trim_start_matches('[').trim_end_matches(']'));
        let mut out = self.empty();
        for ip in ips.into_iter().take(MAX_ADDRS) {
            out.push(SocketAddr::new(ip, port));
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}

/// The addresses of a host: IPv4 first.
pub fn lookup(host: &str) -> Vec<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return vec![ip];
    }
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let from_file = in_hosts_file(&hosts, host);
    if !from_file.is_empty() {
        return from_file;
    }
    if host.eq_ignore_ascii_case("localhost") {
        return vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let (servers, search) = resolv_conf(&conf);
    let mut names = vec![host.trim_end_matches('.').to_string()];
    if !host.contains('.') {
        names.extend(search.iter().map(|s| format!("{host}.{s}")));
    }
    for name in names {
        let mut found = Vec::new();
        for qtype in [1u16, 28] {
            found.extend(query_servers(&servers, &name, qtype));
        }
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

fn in_hosts_file(text: &str, host: &str) -> Vec<IpAddr> {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) else {
            continue;
        };
        if words.any(|w| w.eq_ignore_ascii_case(host)) {
            match ip {
                IpAddr::V4(_) => v4.push(ip),
                IpAddr::V6(_) => v6.push(ip),
            }
        }
    }
    v4.extend(v6);
    v4
}

/// Name servers (127.0.0.1 when none is listed) and search domains.
fn resolv_conf(text: &str) -> (Vec<IpAddr>, Vec<String>) {
    let mut servers = Vec::new();
    let mut search = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ip) = words
                    .next()
                    .and_then(|w| w.split('%').next())
                    .and_then(|w| w.parse().ok())
                {
                    servers.push(ip);
                }
            }
            Some("search") | Some("domain") => {
                search = words.map(str::to_string).collect();
            }
            _ => {}
        }
    }
    if servers.is_empty() {
        servers.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    servers.truncate(3);
    (servers, search)
}

fn query_servers(servers: &[IpAddr], name: &str, qtype: u16) -> Vec<IpAddr> {
    let Some(packet) = build_query(name, qtype) else {
        return Vec::new();
    };
    for _attempt in 0..2 {
        for server in servers {
            if let Some(answer) = ask(*server, &packet) {
                return parse_answer(&answer, &packet[..2], qtype).unwrap_or_default();
            }
        }
    }
    Vec::new()
}

fn ask(server: IpAddr, packet: &[u8]) -> Option<Vec<u8>> {
    let bind: SocketAddr = match server {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(bind).ok()?;
    sock.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    sock.connect((server, 53)).ok()?;
    sock.send(packet).ok()?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).ok()?;
        // Another query's late answer: keep waiting for ours.
        if n >= 2 && buf[..2] == packet[..2] {
            buf.truncate(n);
            return Some(buf);
        }
    }
}

/// A recursive query for `name` (`qtype` 1 = A, 28 = AAAA).
fn build_query(name: &str, qtype: u16) -> Option<Vec<u8>> {
    let id = query_id();
    let mut p = Vec::with_capacity(32 + name.len());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00]); // recursion desired
    p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&[0, 1]); // class IN
    (p.len() <= 512).then_some(p)
}

fn query_id() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos ^ std::process::id().rotate_left(16)) as u16
}

/// Skips a (possibly compressed) name at `pos`; returns the offset after it.
fn skip_name(p: &[u8], mut pos: usize) -> Option<usize> {
    for _ in 0..128 {
        let len = *p.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return Some(pos + 2),
            l => pos += 1 + l as usize,
        }
    }
    None
}

/// The addresses of type `qtype` in an answer (CNAME chains included: every
/// record of the wanted type in the answer section).
fn parse_answer(p: &[u8], id: &[u8], qtype: u16) -> Option<Vec<IpAddr>> {
    if p.len() < 12 || &p[..2] != id || p[2] & 0x80 == 0 || p[3] & 0x0f != 0 {
        return None;
    }
    let qd = u16::from_be_bytes([p[4], p[5]]) as usize;
    let an = u16::from_be_bytes([p[6], p[7]]) as usize;
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(p, pos)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        pos = skip_name(p, pos)?;
        let rtype = u16::from_be_bytes([*p.get(pos)?, *p.get(pos + 1)?]);
        let rdlen = u16::from_be_bytes([*p.get(pos + 8)?, *p.get(pos + 9)?]) as usize;
        let data = p.get(pos + 10..pos + 10 + rdlen)?;
        if rtype == qtype {
            match (qtype, data.len()) {
                (1, 4) => out.push(IpAddr::V4(Ipv4Addr::new(
                    data[0], data[1], data[2], data[3],
                ))),
                (28, 16) => {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(data);
                    out.push(IpAddr::V6(Ipv6Addr::from(b)));
                }
                _ => {}
            }
        }
        pos += 10 + rdlen;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_and_literals() {
        let hosts = "127.0.0.1 localhost\n# 10.0.0.9 commented\n10.1.2.3 reg.internal reg # x\n::1 localhost ip6-localhost\n";
        assert_eq!(
            in_hosts_file(hosts, "reg"),
            vec!["10.1.2.3".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(in_hosts_file(hosts, "localhost").len(), 2);
        assert!(in_hosts_file(hosts, "commented").is_empty());
        assert_eq!(
            lookup("192.0.2.7"),
            vec!["192.0.2.7".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(lookup("::1"), vec!["::1".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn resolv_conf_lines() {
        let (s, d) = resolv_conf(
            "# x\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nsearch a.example b.example\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(d, vec!["a.example", "b.example"]);
        let (s, _) = resolv_conf("");
        assert_eq!(s, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }

    #[test]
    fn answers_with_cnames_and_compression() {
        let q = build_query("r.example", 1).unwrap();
        let mut a = q.clone();
        a[2] = 0x81;
        a[3] = 0x80;
        a[7] = 2; // two answers
                  // CNAME r.example → x.example (name by pointer to the question)
        a.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 11]);
        a.extend_from_slice(b"\x01x\x07example\x00");
        // A x.example 192.0.2.10
        a.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10]);
        let ips = parse_answer(&a, &q[..2], 1).unwrap();
        assert_eq!(ips, vec!["192.0.2.10".parse::<IpAddr>().unwrap()]);
        // Truncated or wrong id: nothing.
        assert!(parse_answer(&a[..a.len() - 3], &q[..2], 1).is_none());
        assert!(parse_answer(&a, &[0, 0], 1).is_none() || q[..2] == [0, 0]);
        assert!(build_query("a..b", 1).is_none());
    }
}
