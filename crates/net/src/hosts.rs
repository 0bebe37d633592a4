//! The container's `/etc/hosts` and `/etc/resolv.conf`, as dockerd writes them.

use std::net::Ipv4Addr;

pub const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n\
::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\n\
ff00::0\tip6-mcastprefix\n\
ff02::1\tip6-allnodes\n\
ff02::2\tip6-allrouters\n";

/// What goes into a container's hosts file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    /// `--add-host` entries as `(name, address)`, `host-gateway` already resolved.
    pub extra: Vec<(String, String)>,
    /// The container's own address and names (hostname first).
    pub own: Option<(Ipv4Addr, Vec<String>)>,
    /// Other containers, by `--link`: address and names (alias, name, short id).
    pub peers: Vec<(Ipv4Addr, Vec<String>)>,
}

impl Hosts {
    pub fn render(&self) -> String {
        let mut o = DEFAULT_HOSTS.to_string();
        for (name, addr) in &self.extra {
            o.push_str(&format!("{addr}\t{name}\n"));
        }
        if let Some((ip, names)) = &self.own {
            o.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
        for (ip, names) in &self.peers {
            o.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
        o
    }
}

/// Docker's resolv.conf for a container. With `dns`/`search`/`options` given, those replace the
/// host's; otherwise the host's, without localhost (`127.x`) nameservers (unreachable from the
/// container's network namespace), and Google's public DNS when none remain. `host_network`
/// keeps the host's file as it is.
pub fn resolv_conf(host: &str, dns: &[String], search: &[String], options: &[String], host_network: bool) -> String {
    if host_network && dns.is_empty() && search.is_empty() && options.is_empty() {
        return host.to_string();
    }
    let mut out = String::new();
    let mut nameservers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                let addr = words.next().unwrap_or("");
                if !dns.is_empty() || addr.starts_with("127.") || addr.is_empty() {
                    continue;
                }
                nameservers += 1;
            }
            Some("search" | "domain") if !search.is_empty() => continue,
            Some("options") if !options.is_empty() => continue,
            _ => {}
        }
        out.push_str(line);
        out.push('\n');
    }
    for d in dns {
        out.push_str(&format!("nameserver {d}\n"));
        nameservers += 1;
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    if nameservers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

/// resolv.conf of a container on a user-defined network, as libnetwork builds it: the embedded
/// server as the only nameserver, the host's (or `--dns-search`) search domains and options (or
/// `--dns-option`), and `ndots:0` unless an ndots option is given. The real upstreams (the
/// host's or `--dns`) are where the embedded server forwards to.
pub fn resolv_conf_embedded(host: &str, search: &[String], options: &[String]) -> String {
    let words = |key: &str| -> Vec<String> {
        host.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(key)).then(|| w.map(str::to_string).collect::<Vec<_>>())
            })
            .flatten()
            .collect()
    };
    let search = if search.is_empty() { words("search") } else { search.to_vec() };
    let mut options = if options.is_empty() { words("options") } else { options.to_vec() };
    if !options.iter().any(|o| o.starts_with("ndots:")) {
        options.push("ndots:0".into());
    }
    let mut out = String::new();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    out.push_str(&format!("nameserver {}\n", crate::dns::DNS_ADDR));
    out.push_str(&format!("options {}\n", options.join(" ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_entries() {
        let h = Hosts {
            extra: vec![("gw".into(), "10.0.0.1".into())],
            own: Some((Ipv4Addr::new(10, 0, 0, 2), vec!["abc".into()])),
            peers: vec![(Ipv4Addr::new(10, 0, 0, 3), vec!["web".into(), "www".into()])],
        };
        let t = h.render();
        assert!(t.starts_with(DEFAULT_HOSTS));
        assert!(t.ends_with("10.0.0.1\tgw\n10.0.0.2\tabc\n10.0.0.3\tweb www\n"), "{t}");
    }

    #[test]
    fn resolv_like_docker() {
        let host = "# c\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch lan\n";
        assert_eq!(resolv_conf(host, &[], &[], &[], false), "# c\nnameserver 10.0.0.2\nsearch lan\n");
        assert_eq!(resolv_conf("", &[], &[], &[], false), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        assert_eq!(
            resolv_conf(host, &["1.1.1.1".into()], &["x.y".into()], &["ndots:2".into()], false),
            "# c\nnameserver 1.1.1.1\nsearch x.y\noptions ndots:2\n"
        );
        assert_eq!(resolv_conf(host, &[], &[], &[], true), host);
    }

    #[test]
    fn resolv_embedded_like_libnetwork() {
        let host = "nameserver 10.0.0.2\nsearch lan corp\noptions edns0\n";
        assert_eq!(
            resolv_conf_embedded(host, &[], &[]),
            "search lan corp\nnameserver 127.0.0.11\noptions edns0 ndots:0\n"
        );
        assert_eq!(
            resolv_conf_embedded(host, &["x.y".into()], &["ndots:3".into()]),
            "search x.y\nnameserver 127.0.0.11\noptions ndots:3\n"
        );
        assert_eq!(resolv_conf_embedded("", &[], &[]), "nameserver 127.0.0.11\noptions ndots:0\n");
    }
}
