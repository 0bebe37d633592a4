//! Legacy `--link name:alias` on the default bridge, as dockerd: the linking container gets
//! environment variables describing each linked container (`ALIAS_PORT_8080_TCP_ADDR`, …,
//! `ALIAS_NAME`, `ALIAS_ENV_*`) and an /etc/hosts line (written by `etc_files`).

use std::net::Ipv4Addr;

use crate::containers::record::Record;
use crate::Engine;

/// `name:alias`, `/name:/me/alias` (the API's form) or `name` → (name, alias).
pub(crate) fn parse_link(link: &str) -> (&str, &str) {
    let (name, alias) = link.split_once(':').unwrap_or((link, link));
    let name = name.trim_start_matches('/');
    let alias = alias.rsplit('/').next().unwrap_or(alias);
    (name, alias)
}

/// A linked container as the linking one sees it.
pub(crate) struct Linked {
    pub alias: String,
    /// The address of its endpoint on the default bridge.
    pub ip: Ipv4Addr,
    pub record: Record,
    /// Its current name (without `/`).
    pub name: String,
}

impl Engine {
    /// The containers `record` links to that have an address on the default bridge.
    pub(crate) fn linked(&self, record: &Record) -> Vec<Linked> {
        if record.host.net.links.is_empty() {
            return vec![];
        }
        let reg = self.networks.snapshot();
        let Some(bridge) = reg.find("bridge").map(|n| n.id.clone()) else { return vec![] };
        let mut out = Vec::new();
        for link in &record.host.net.links {
            let (name, alias) = parse_link(link);
            let Ok(c) = self.containers.get(name) else { continue };
            let eps = reg.endpoints.get(&c.id);
            let Some(ep) = eps.and_then(|eps| eps.iter().find(|e| e.network_id == bridge)) else { continue };
            out.push(Linked { alias: alias.to_string(), ip: ep.ip, record: c.record(), name: c.name() });
        }
        out
    }

    /// dockerd's link environment of `record`: for each linked container, its exposed ports,
    /// `/<record's name>/<alias>` as `ALIAS_NAME`, and its Env as `ALIAS_ENV_*`.
    pub(crate) fn link_env(&self, record: &Record) -> Vec<String> {
        if record.host.net.links.is_empty() {
            return vec![];
        }
        let me = self.containers.get(&record.id).map(|c| c.name()).unwrap_or_else(|_| record.name.clone());
        self.linked(record)
            .iter()
            .flat_map(|l| {
                let name = format!("/{me}/{}", l.alias);
                link_vars(&l.alias, &name, l.ip, &l.record.config.env, &l.record.config.exposed_ports)
            })
            .collect()
    }
}

/// `"8080/tcp"` → (8080, "tcp"); a port without protocol is tcp.
fn port_proto(p: &str) -> Option<(u16, String)> {
    let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
    Some((port.parse().ok()?, proto.to_ascii_lowercase()))
}

/// The variables of one link (dockerd's `links.Link.ToEnv`): ports sorted by number (tcp first
/// on a tie), the first as `ALIAS_PORT`, each as `ALIAS_PORT_<n>_<PROTO>{,_ADDR,_PORT,_PROTO}`,
/// runs of consecutive ports also as `_START`/`_END`; then `ALIAS_NAME` and `ALIAS_ENV_*`
/// (without HOME and PATH).
pub(crate) fn link_vars(alias: &str, name: &str, ip: Ipv4Addr, env: &[String], exposed: &[String]) -> Vec<String> {
    let alias = alias.to_ascii_uppercase().replace('-', "_");
    let mut ports: Vec<(u16, String)> = exposed.iter().filter_map(|p| port_proto(p)).collect();
    ports.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| (b.1 == "tcp").cmp(&(a.1 == "tcp"))));
    ports.dedup();
    let mut out = Vec::new();
    let (mut start, mut end) = (0usize, 0usize);
    for (i, (port, proto)) in ports.iter().enumerate() {
        if i == 0 {
            out.push(format!("{alias}_PORT={proto}://{ip}:{port}"));
        }
        let prefix = format!("{alias}_PORT_{port}_{}", proto.to_ascii_uppercase());
        out.push(format!("{prefix}={proto}://{ip}:{port}"));
        out.push(format!("{prefix}_ADDR={ip}"));
        out.push(format!("{prefix}_PORT={port}"));
        out.push(format!("{prefix}_PROTO={proto}"));
        if i > 0 && u32::from(*port) == u32::from(ports[end].0) + 1 && *proto == ports[end].1 {
            end = i;
            if i < ports.len() - 1 {
                continue;
            }
        }
        if end != start {
            let (sp, sproto) = &ports[start];
            let ep = ports[end].0;
            let prefix = format!("{alias}_PORT_{sp}_{}", sproto.to_ascii_uppercase());
            out.push(format!("{prefix}_START={sproto}://{ip}:{sp}"));
            out.push(format!("{prefix}_PORT_START={sp}"));
            out.push(format!("{prefix}_END={sproto}://{ip}:{ep}"));
            out.push(format!("{prefix}_PORT_END={ep}"));
        }
        start = i;
        end = i;
    }
    out.push(format!("{alias}_NAME={name}"));
    for e in env {
        let Some((k, v)) = e.split_once('=') else { continue };
        if k == "HOME" || k == "PATH" {
            continue;
        }
        out.push(format!("{alias}_ENV_{k}={v}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_forms() {
        assert_eq!(parse_link("web:db"), ("web", "db"));
        assert_eq!(parse_link("/web:/me/db"), ("web", "db"));
        assert_eq!(parse_link("web"), ("web", "web"));
    }

    #[test]
    fn env_like_dockerd() {
        let ip = Ipv4Addr::new(172, 17, 0, 2);
        let env = ["PATH=/bin".to_string(), "HOME=/root".into(), "GREETING=hi there".into(), "BAD".into()];
        let v = link_vars("my-db", "/app/my-db", ip, &env, &["8080/tcp".into()]);
        assert_eq!(
            v,
            [
                "MY_DB_PORT=tcp://172.17.0.2:8080",
                "MY_DB_PORT_8080_TCP=tcp://172.17.0.2:8080",
                "MY_DB_PORT_8080_TCP_ADDR=172.17.0.2",
                "MY_DB_PORT_8080_TCP_PORT=8080",
                "MY_DB_PORT_8080_TCP_PROTO=tcp",
                "MY_DB_NAME=/app/my-db",
                "MY_DB_ENV_GREETING=hi there",
            ]
        );
        assert_eq!(link_vars("db", "/a/db", ip, &[], &[]), ["DB_NAME=/a/db"]);
    }

    #[test]
    fn port_ranges_and_protocols() {
        let ip = Ipv4Addr::new(10, 0, 0, 2);
        let exposed: Vec<String> = ["6381/tcp", "6379/tcp", "6380/tcp", "53/udp", "53/tcp"].map(String::from).to_vec();
        let v = link_vars("r", "/a/r", ip, &[], &exposed);
        let want = [
            "R_PORT=tcp://10.0.0.2:53",
            "R_PORT_53_TCP=tcp://10.0.0.2:53",
            "R_PORT_53_TCP_ADDR=10.0.0.2",
            "R_PORT_53_TCP_PORT=53",
            "R_PORT_53_TCP_PROTO=tcp",
            "R_PORT_53_UDP=udp://10.0.0.2:53",
            "R_PORT_53_UDP_ADDR=10.0.0.2",
            "R_PORT_53_UDP_PORT=53",
            "R_PORT_53_UDP_PROTO=udp",
            "R_PORT_6379_TCP=tcp://10.0.0.2:6379",
            "R_PORT_6379_TCP_ADDR=10.0.0.2",
            "R_PORT_6379_TCP_PORT=6379",
            "R_PORT_6379_TCP_PROTO=tcp",
            "R_PORT_6380_TCP=tcp://10.0.0.2:6380",
            "R_PORT_6380_TCP_ADDR=10.0.0.2",
            "R_PORT_6380_TCP_PORT=6380",
            "R_PORT_6380_TCP_PROTO=tcp",
            "R_PORT_6381_TCP=tcp://10.0.0.2:6381",
            "R_PORT_6381_TCP_ADDR=10.0.0.2",
            "R_PORT_6381_TCP_PORT=6381",
            "R_PORT_6381_TCP_PROTO=tcp",
            "R_PORT_6379_TCP_START=tcp://10.0.0.2:6379",
            "R_PORT_6379_TCP_PORT_START=6379",
            "R_PORT_6379_TCP_END=tcp://10.0.0.2:6381",
            "R_PORT_6379_TCP_PORT_END=6381",
            "R_NAME=/a/r",
        ];
        assert_eq!(v, want);
    }
}
