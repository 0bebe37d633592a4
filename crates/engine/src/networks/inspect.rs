//! `GET /networks/{id}` (NetworkInspect), and the `NetworkSettings` of a container's inspect.

use std::collections::HashMap;

use berth_api_types::models::{
    EndpointIpamConfig, EndpointResource, EndpointSettings, NetworkInspect, NetworkSettings, PortBinding,
};

use crate::containers::record::Record;
use crate::{Engine, Error, Result};

impl Engine {
    pub async fn network_inspect(&self, key: &str) -> Result<NetworkInspect> {
        let reg = self.networks.snapshot();
        let n = reg.find(key).ok_or_else(|| Error::NotFound(format!("network {key} not found")))?;
        let s = super::list::summary(n);
        let prefix = n.subnet.map(|s| s.prefix).unwrap_or(0);
        let containers = reg
            .containers_on(&n.id)
            .into_iter()
            .map(|(cid, ep)| {
                let name = self.containers.get(cid).map(|c| c.name()).unwrap_or_default();
                let res = EndpointResource {
                    name: Some(name),
                    endpoint_id: Some(ep.endpoint_id.clone()),
                    mac_address: Some(ep.mac.clone()),
                    ipv4_address: Some(format!("{}/{prefix}", ep.ip)),
                    ipv6_address: Some(String::new()),
                };
                (cid.clone(), res)
            })
            .collect();
        Ok(NetworkInspect {
            name: s.name,
            id: s.id,
            created: s.created,
            scope: s.scope,
            driver: s.driver,
            ipam: s.ipam,
            internal: s.internal,
            attachable: s.attachable,
            ingress: s.ingress,
            config_only: s.config_only,
            options: s.options,
            labels: s.labels,
            containers: Some(containers),
            ..Default::default()
        })
    }

    /// A container's `NetworkSettings` as dockerd reports them: one entry per network it is on
    /// (or will join at start) with the address, gateway and MAC while it runs, and its
    /// published ports.
    pub(crate) fn container_network_settings(&self, r: &Record) -> NetworkSettings {
        self.container_network_settings_in(&self.networks.snapshot(), r)
    }

    /// The same from one snapshot `reg` of the network registry (a listing takes one for all).
    pub(crate) fn container_network_settings_in(&self, reg: &super::Registry, r: &Record) -> NetworkSettings {
        let mut networks = HashMap::new();
        let mut ports: HashMap<String, Option<Vec<PortBinding>>> =
            r.config.exposed_ports.iter().map(|p| (p.clone(), None)).collect();
        let eps = reg.endpoints.get(&r.id).cloned().unwrap_or_default();
        let name = self.containers.get(&r.id).map(|c| c.name()).unwrap_or_else(|_| r.name.clone());
        let short = r.id[..12.min(r.id.len())].to_string();
        let service = r.config.labels.get(super::dns::COMPOSE_SERVICE_LABEL).cloned();
        for ep in &eps {
            let Some(n) = reg.networks.get(&ep.network_id) else { continue };
            let req = r.host.net.request(&n.name, &n.id).cloned().unwrap_or_default();
            let dns_names = (!n.is_predefined()).then(|| {
                let mut v = vec![name.clone(), short.clone()];
                v.extend(ep.aliases.iter().cloned());
                v.extend(service.clone());
                v.dedup();
                v
            });
            networks.insert(
                n.name.clone(),
                EndpointSettings {
                    ipam_config: ipam_config(&req),
                    links: (!r.host.net.links.is_empty() && n.name == "bridge").then(|| r.host.net.links.clone()),
                    mac_address: Some(ep.mac.clone()),
                    aliases: (!n.is_predefined()).then(|| ep.aliases.clone()),
                    driver_opts: None,
                    network_id: Some(n.id.clone()),
                    endpoint_id: Some(ep.endpoint_id.clone()),
                    gateway: n.gateway.map(|g| g.to_string()),
                    ip_address: Some(ep.ip.to_string()),
                    ip_prefix_len: n.subnet.map(|s| i64::from(s.prefix)),
                    ipv6_gateway: Some(String::new()),
                    global_ipv6_address: Some(String::new()),
                    global_ipv6_prefix_len: Some(0),
                    dns_names,
                    ..Default::default()
                },
            );
            for p in &ep.ports {
                let b = PortBinding {
                    host_ip: Some(p.host_ip.map_or("0.0.0.0".into(), |i| i.to_string())),
                    host_port: Some(p.host_port.to_string()),
                };
                ports.entry(format!("{}/{}", p.port, p.proto)).or_insert(None).get_or_insert_with(Vec::new).push(b);
            }
        }
        if eps.is_empty() {
            // Not running: the networks it will join, without addresses (as dockerd shows them).
            let mut wanted = super::attach::wanted_networks(r);
            let mode = r.host.network_mode.as_str();
            if mode == "host" || mode == "none" {
                wanted.push(mode.to_string());
            }
            for key in wanted {
                let Some(n) = reg.find(&key) else { continue };
                let req = r.host.net.request(&n.name, &n.id).cloned().unwrap_or_default();
                networks.insert(
                    n.name.clone(),
                    EndpointSettings {
                        ipam_config: ipam_config(&req),
                        links: None,
                        aliases: (!req.aliases.is_empty()).then(|| req.aliases.clone()),
                        mac_address: Some(req.mac.clone().unwrap_or_default()),
                        network_id: Some(n.id.clone()),
                        endpoint_id: Some(String::new()),
                        gateway: Some(String::new()),
                        ip_address: Some(String::new()),
                        ip_prefix_len: Some(0),
                        ipv6_gateway: Some(String::new()),
                        global_ipv6_address: Some(String::new()),
                        global_ipv6_prefix_len: Some(0),
                        ..Default::default()
                    },
                );
            }
        }
        let sandbox = self.networks.netns_dir.join(&r.id);
        NetworkSettings {
            sandbox_id: Some(String::new()),
            sandbox_key: Some(if sandbox.exists() { sandbox.display().to_string() } else { String::new() }),
            ports: Some(ports),
            networks: Some(networks),
        }
    }
}

/// `IPAMConfig` of an endpoint: the requested address, or null.
fn ipam_config(req: &super::settings::EndpointRequest) -> Option<EndpointIpamConfig> {
    req.ipv4.as_ref().map(|ip| EndpointIpamConfig { ipv4_address: Some(ip.clone()), ..Default::default() })
}
