//! The persisted network registry, `<data-root>/network/registry.v1.json`: networks and the
//! endpoints (address, MAC, veth, published ports) of containers on them. Replaced atomically on
//! every change, so an address handed out is never handed out again after a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use berth_net::Subnet;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub const REGISTRY_FILE: &str = "registry.v1.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    pub created: DateTime<Utc>,
    /// Bridge networks: the Linux bridge device.
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub subnet: Option<Subnet>,
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
    #[serde(default)]
    pub ip_range: Option<Subnet>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl NetworkRecord {
    /// The three networks every daemon has, which cannot be removed.
    pub fn is_predefined(&self) -> bool {
        matches!(self.name.as_str(), "bridge" | "host" | "none")
    }
}

/// A published port of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub proto: String,
    pub port: u16,
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network_id: String,
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub mac: String,
    /// The host end of the veth pair.
    pub veth: String,
    /// Interface name inside the container (`eth0`, `eth1`, …).
    pub ifname: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ports: Vec<Published>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    pub networks: BTreeMap<String, NetworkRecord>,
    /// Container id → its endpoints.
    pub endpoints: BTreeMap<String, Vec<Endpoint>>,
}

impl Registry {
    pub fn path(data_root: &Path) -> PathBuf {
        data_root.join("network").join(REGISTRY_FILE)
    }

    pub fn load(path: &Path) -> Result<Registry> {
        match std::fs::read(path) {
            Ok(data) => {
                serde_json::from_slice(&data).map_err(|e| Error::Internal(format!("decoding {}: {e}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let data =
            serde_json::to_vec_pretty(self).map_err(|e| Error::Internal(format!("encoding network registry: {e}")))?;
        crate::fsutil::write_atomic(path, &data).map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// A network by full id, name, or unique id prefix.
    pub fn find(&self, key: &str) -> Option<&NetworkRecord> {
        if let Some(n) = self.networks.get(key) {
            return Some(n);
        }
        if let Some(n) = self.networks.values().find(|n| n.name == key) {
            return Some(n);
        }
        let mut it = self.networks.values().filter(|n| n.id.starts_with(key));
        match (it.next(), it.next()) {
            (Some(n), None) if !key.is_empty() => Some(n),
            _ => None,
        }
    }

    /// Addresses in use on a network (gateway included).
    pub fn used(&self, network_id: &str) -> BTreeSet<Ipv4Addr> {
        let mut used: BTreeSet<Ipv4Addr> =
            self.endpoints.values().flatten().filter(|e| e.network_id == network_id).map(|e| e.ip).collect();
        if let Some(gw) = self.networks.get(network_id).and_then(|n| n.gateway) {
            used.insert(gw);
        }
        used
    }

    /// The endpoint of container `id` on `network_id`.
    pub fn endpoint(&self, id: &str, network_id: &str) -> Option<&Endpoint> {
        self.endpoints.get(id)?.iter().find(|e| e.network_id == network_id)
    }

    /// Container ids with an endpoint on `network_id`.
    pub fn containers_on(&self, network_id: &str) -> Vec<(&String, &Endpoint)> {
        self.endpoints
            .iter()
            .flat_map(|(c, eps)| eps.iter().filter(|e| e.network_id == network_id).map(move |e| (c, e)))
            .collect()
    }

    /// Subnets of all bridge networks.
    pub fn subnets(&self) -> Vec<Subnet> {
        self.networks.values().filter_map(|n| n.subnet).collect()
    }

    /// The firewall plan for the current state.
    pub fn ruleset(&self, table: &str) -> berth_net::nft::Ruleset {
        let bridges = self
            .networks
            .values()
            .filter(|n| n.driver == "bridge")
            .filter_map(|n| {
                n.subnet.map(|s| berth_net::nft::Bridge { device: n.device.clone(), subnet: s, internal: n.internal })
            })
            .collect();
        let forwards = self
            .endpoints
            .values()
            .flatten()
            .flat_map(|e| {
                e.ports.iter().map(|p| berth_net::nft::Forward {
                    proto: p.proto.clone(),
                    host_ip: p.host_ip,
                    host_port: p.host_port,
                    addr: e.ip,
                    port: p.port,
                })
            })
            .collect();
        berth_net::nft::Ruleset { table: table.to_string(), bridges, forwards }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_find() {
        let d = tempfile::tempdir().unwrap();
        let path = Registry::path(d.path());
        let mut r = Registry::default();
        r.networks.insert(
            "abc123".into(),
            NetworkRecord {
                id: "abc123".into(),
                name: "front".into(),
                driver: "bridge".into(),
                created: Utc::now(),
                device: "br-abc123".into(),
                subnet: Some("10.1.0.0/24".parse().unwrap()),
                gateway: Some(Ipv4Addr::new(10, 1, 0, 1)),
                ip_range: None,
                internal: false,
                attachable: false,
                labels: BTreeMap::new(),
                options: BTreeMap::new(),
            },
        );
        r.save(&path).unwrap();
        let back = Registry::load(&path).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.find("front").unwrap().id, "abc123");
        assert_eq!(back.find("abc").unwrap().name, "front");
        assert!(back.find("zzz").is_none());
        assert_eq!(back.used("abc123"), BTreeSet::from([Ipv4Addr::new(10, 1, 0, 1)]));
    }
}
