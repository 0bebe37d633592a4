//! Networking flags of `run` and `create` (flattened into `ContainerOpts`): aliases, a fixed
//! address, DNS, extra hosts, links, MAC, `-P`/`--expose`.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, EndpointIpamConfig, EndpointSettings, NetworkingConfig};

use crate::error::CliError;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct NetworkOpts {
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns")]
    pub dns: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", visible_alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Expose a port or a range of ports
    #[arg(long = "expose")]
    pub expose: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long = "ip")]
    pub ip: Option<String>,
    /// Add link to another container
    #[arg(long = "link")]
    pub link: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", visible_alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
}

/// `--add-host name:ip` as docker checks it (`host-gateway` allowed; `name=ip` too).
fn parse_add_host(h: &str) -> Result<String, CliError> {
    let (name, ip) = h.split_once(['=', ':']).ok_or_else(|| {
        CliError::new(
            125,
            format!("invalid argument \"{h}\" for \"--add-host\" flag: bad format for add-host: \"{h}\""),
        )
    })?;
    let ip = ip.trim_matches(['[', ']']);
    if ip != "host-gateway" && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(CliError::new(
            125,
            format!("invalid argument \"{h}\" for \"--add-host\" flag: invalid IP address in add-host: \"{ip}\""),
        ));
    }
    Ok(format!("{name}:{ip}"))
}

/// `--expose 80`, `--expose 7000-7002/udp` → exposed port keys.
fn parse_expose(spec: &str) -> Result<Vec<String>, CliError> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let bad = || CliError::new(125, format!("invalid range format for --expose: {spec}"));
    let (a, b) = ports.split_once('-').unwrap_or((ports, ports));
    let (a, b): (u16, u16) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a > b {
        return Err(bad());
    }
    Ok((a..=b).map(|p| format!("{p}/{proto}")).collect())
}

impl NetworkOpts {
    /// Adds these flags to a create request whose `--network` is `network`.
    pub fn apply(&self, body: &mut ContainerCreateBody, network: Option<&str>) -> Result<(), CliError> {
        for e in &self.expose {
            let ports = parse_expose(e)?;
            let exposed = body.exposed_ports.get_or_insert_with(Vec::new);
            exposed.extend(ports.into_iter().filter(|p| !exposed.contains(p)).collect::<Vec<_>>());
        }
        let hc = body.host_config.get_or_insert_with(Default::default);
        let extra: Vec<String> = self.add_host.iter().map(|h| parse_add_host(h)).collect::<Result<_, _>>()?;
        let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        hc.extra_hosts = (!extra.is_empty()).then_some(extra);
        hc.dns = nonempty(&self.dns);
        hc.dns_search = nonempty(&self.dns_search);
        hc.dns_options = nonempty(&self.dns_option);
        hc.links = nonempty(&self.link);
        if self.publish_all {
            hc.publish_all_ports = Some(true);
        }
        if let Some(ip) = &self.ip {
            if ip.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(CliError::new(
                    125,
                    format!("invalid argument \"{ip}\" for \"--ip\" flag: invalid IPv4 address"),
                ));
            }
        }
        let endpoint = EndpointSettings {
            aliases: nonempty(&self.network_alias),
            ipam_config: self
                .ip
                .as_ref()
                .map(|ip| EndpointIpamConfig { ipv4_address: Some(ip.clone()), ..Default::default() }),
            mac_address: self.mac_address.clone(),
            ..Default::default()
        };
        if endpoint != EndpointSettings::default() {
            let name = network.filter(|n| !n.is_empty()).unwrap_or("default").to_string();
            let cfg = body.networking_config.get_or_insert_with(NetworkingConfig::default);
            cfg.endpoints_config.get_or_insert_with(HashMap::new).insert(name, endpoint);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct T {
        #[command(flatten)]
        n: NetworkOpts,
    }

    #[test]
    fn flags_to_request() {
        let t = T::parse_from([
            "x",
            "--network-alias",
            "db",
            "--ip",
            "10.1.0.9",
            "--dns",
            "10.0.0.53",
            "--dns-search",
            "lan",
            "--dns-option",
            "ndots:2",
            "--add-host",
            "gw:host-gateway",
            "--link",
            "web:w",
            "-P",
            "--expose",
            "7000-7001/udp",
            "--mac-address",
            "02:42:0a:01:00:09",
        ]);
        let mut body = ContainerCreateBody::default();
        t.n.apply(&mut body, Some("front")).unwrap();
        let hc = body.host_config.unwrap();
        assert_eq!(hc.extra_hosts.unwrap(), ["gw:host-gateway"]);
        assert_eq!(hc.dns.unwrap(), ["10.0.0.53"]);
        assert_eq!(hc.dns_options.unwrap(), ["ndots:2"]);
        assert_eq!(hc.links.unwrap(), ["web:w"]);
        assert_eq!(hc.publish_all_ports, Some(true));
        assert_eq!(body.exposed_ports.unwrap(), ["7000/udp", "7001/udp"]);
        let ep = &body.networking_config.unwrap().endpoints_config.unwrap()["front"];
        assert_eq!(ep.aliases.as_deref(), Some(&["db".to_string()][..]));
        assert_eq!(ep.ipam_config.as_ref().unwrap().ipv4_address.as_deref(), Some("10.1.0.9"));
        assert_eq!(ep.mac_address.as_deref(), Some("02:42:0a:01:00:09"));
        assert!(parse_add_host("nohost").is_err());
        assert!(parse_add_host("a:notanip").is_err());
        assert_eq!(parse_add_host("a=10.0.0.1").unwrap(), "a:10.0.0.1");
        let mut plain = ContainerCreateBody::default();
        T::parse_from(["x"]).n.apply(&mut plain, None).unwrap();
        assert!(plain.networking_config.is_none());
    }
}
