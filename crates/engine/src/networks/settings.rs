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
    /// `--mac-address` (EndpointSettings.MacAddress).
    #[serde(default)]
    pub mac: Option<String>,
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
    /// Network name → endpoint request (`NetworkingConfig.EndpointsConfig`), and the networks
    /// connected later (`POST /networks/{id}/connect`).
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointRequest>,
    /// The network of `NetworkMode` was disconnected: the container starts without it.
    #[serde(default)]
    pub primary_disconnected: bool,
    /// `--link name:alias` (default bridge only).
    #[serde(default)]
    pub links: Vec<String>,
}

impl NetSettings {
    /// The endpoint request for network `name` (or its id; `default` names `bridge`).
    pub fn request(&self, name: &str, id: &str) -> Option<&EndpointRequest> {
        self.endpoints.get(name).or_else(|| self.endpoints.get(id)).or_else(|| {
            if name == "bridge" {
                self.endpoints.get("default")
            } else {
                None
            }
        })
    }
}

impl crate::Engine {
    /// dockerd's create-time checks of the networking request: the network exists, and fixed
    /// addresses and aliases are asked for on user-defined networks only.
    pub(crate) fn check_network_request(&self, mode: &str, net: &NetSettings) -> crate::Result<()> {
        let reg = self.networks.snapshot();
        if let Some(p) = primary_network(mode) {
            if reg.find(p).is_none() {
                return Err(crate::Error::NotFound(format!("network {p} not found")));
            }
        }
        for (name, e) in &net.endpoints {
            let predefined = matches!(name.as_str(), "bridge" | "host" | "none")
                || reg.find(name).is_some_and(|n| n.is_predefined());
            if predefined && e.ipv4.is_some() {
                return Err(crate::Error::InvalidArgument(
                    "user specified IP address is supported on user defined networks only".into(),
                ));
            }
            if predefined && !e.aliases.is_empty() {
                return Err(crate::Error::InvalidArgument(
                    "network-scoped alias is supported only for containers in user defined networks".into(),
                ));
            }
        }
        Ok(())
    }
}

/// The network a `NetworkMode` names (`default` is `bridge`); `None` for host, none and
/// container modes.
pub fn primary_network(mode: &str) -> Option<&str> {
    match mode {
        "host" | "none" => None,
        m if m.starts_with("container:") => None,
        "" | "default" => Some("bridge"),
        m => Some(m),
    }
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
    let endpoints: BTreeMap<String, EndpointRequest> = body
        .networking_config
        .clone()
        .and_then(|n| n.endpoints_config)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, e)| {
            let ipv4 = e.ipam_config.and_then(|c| c.ipv4_address).filter(|s| !s.is_empty());
            let mac = e.mac_address.filter(|m| !m.is_empty());
            // The docker CLI names the default network `default`.
            let name = if name == "default" { "bridge".to_string() } else { name };
            (name, EndpointRequest { aliases: e.aliases.unwrap_or_default(), ipv4, mac })
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
        primary_disconnected: false,
        links: hc.links.unwrap_or_default(),
    }
}
