//! `POST /networks/create` (NetworkCreate).

use std::net::Ipv4Addr;

use berth_api_types::models::{NetworkCreateRequest, NetworkCreateResponse};
use berth_kernel::netlink;
use berth_net::{ipam, Subnet};
use chrono::Utc;

use super::daemon::{new_network_id, run_blocking};
use super::registry::NetworkRecord;
use crate::{Engine, Error, Result};

pub const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";

impl Engine {
    pub async fn network_create(&self, req: NetworkCreateRequest) -> Result<NetworkCreateResponse> {
        let name = req.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::InvalidArgument("network name must not be empty".into()));
        }
        let driver = req.driver.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| "bridge".into());
        if driver != "bridge" {
            return Err(Error::InvalidArgument(format!("plugin \"{driver}\" not found")));
        }
        let parse = |s: &str| s.parse::<Subnet>().map_err(|e| Error::InvalidArgument(e.to_string()));
        let cfg = req.ipam.as_ref().and_then(|i| i.config.as_ref()).and_then(|c| c.first()).cloned();
        let want_subnet = cfg.as_ref().and_then(|c| c.subnet.as_deref()).map(parse).transpose()?;
        let ip_range = cfg.as_ref().and_then(|c| c.ip_range.as_deref()).map(parse).transpose()?;
        let want_gw = match cfg.as_ref().and_then(|c| c.gateway.as_deref()) {
            Some(g) => Some(g.parse::<Ipv4Addr>().map_err(|_| Error::InvalidArgument(format!("invalid gateway {g}")))?),
            None => None,
        };
        let routes = run_blocking(netlink::routes).await?.map(|t| ipam::parse_routes(&t)).unwrap_or_default();
        let id = new_network_id();
        let options: std::collections::BTreeMap<String, String> =
            req.options.clone().unwrap_or_default().into_iter().collect();
        let device = options.get(BRIDGE_NAME_OPTION).cloned().unwrap_or_else(|| format!("br-{}", &id[..12]));
        if device.len() > 15 {
            return Err(Error::InvalidArgument(format!("bridge name {device:?} is longer than 15 characters")));
        }
        self.networks.update(|r| {
            if r.find(&name).is_some_and(|n| n.name == name) {
                return Err(Error::Conflict(format!("network with name {name} already exists")));
            }
            let subnet = match want_subnet {
                Some(s) => {
                    let s = s.normalized();
                    if let Some(o) = r.subnets().iter().find(|o| o.overlaps(&s)) {
                        return Err(Error::Conflict(format!(
                            "invalid pool request: Pool overlaps with other one on this address space ({o})"
                        )));
                    }
                    s
                }
                None => {
                    let mut in_use = routes.clone();
                    in_use.extend(r.subnets());
                    ipam::choose_subnet(&ipam::default_pools(), &in_use).map_err(|e| Error::Forbidden(e.to_string()))?
                }
            };
            let gateway = want_gw.unwrap_or_else(|| subnet.first_host());
            if !subnet.contains(gateway) {
                return Err(Error::InvalidArgument(format!("gateway {gateway} is not in subnet {subnet}")));
            }
            let n = NetworkRecord {
                id: id.clone(),
                name: name.clone(),
                driver: driver.clone(),
                created: Utc::now(),
                device: device.clone(),
                subnet: Some(subnet),
                gateway: Some(gateway),
                ip_range,
                internal: req.internal.unwrap_or(false),
                attachable: req.attachable.unwrap_or(false),
                labels: req.labels.clone().unwrap_or_default().into_iter().collect(),
                options: options.clone(),
            };
            r.networks.insert(id.clone(), n);
            Ok(())
        })?;
        if let Err(e) = self.apply_firewall().await {
            tracing::warn!(error = %e, "reloading the ruleset");
        }
        self.emit_network(&id, "create", &name, &driver, None);
        Ok(NetworkCreateResponse { id, warning: String::new() })
    }
}
