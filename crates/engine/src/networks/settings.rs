//! A container's networking request, kept in its record (`HostSettings.net`), taken from
//! `HostConfig` and `NetworkingConfig` at create.

use std::collections::BTreeMap;

use berth_api_types::models::ContainerCreateBody;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointRequest {
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ipv4: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetSettings {
    /// `"80/tcp"` → `[(HostIp, HostPort)]`.
    #[serde(default)]
    pub port_bindings: BTreeMap<String, Vec<(String, String)>>,
    #[serde(default)]
    pub publish_all: bool,
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `name:ip` (`host-gateway` allowed).
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// Network name → endpoint request (`NetworkingConfig.EndpointsConfig`).
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointRequest>,
}

/// The networking part of a create request.
pub fn from_create(body: &ContainerCreateBody) -> NetSettings {
    let hc = body.host_config.clone().unwrap_or_default();
    let port_bindings = hc
        .port_bindings
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let list = v
                .unwrap_or_default()
                .into_iter()
                .map(|b| (b.host_ip.unwrap_or_default(), b.host_port.unwrap_or_default()))
                .collect();
            (k, list)
        })
        .collect();
    let endpoints = body
        .networking_config
        .clone()
        .and_then(|n| n.endpoints_config)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, e)| {
            let ipv4 = e.ipam_config.and_then(|c| c.ipv4_address).filter(|s| !s.is_empty());
            (name, EndpointRequest { aliases: e.aliases.unwrap_or_default(), ipv4 })
        })
        .collect();
    NetSettings {
        port_bindings,
        publish_all: hc.publish_all_ports.unwrap_or(false),
        dns: hc.dns.unwrap_or_default(),
        dns_search: hc.dns_search.unwrap_or_default(),
        dns_options: hc.dns_options.unwrap_or_default(),
        extra_hosts: hc.extra_hosts.unwrap_or_default(),
        endpoints,
    }
}
