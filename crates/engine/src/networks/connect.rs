//! `POST /networks/{id}/connect` (NetworkConnect): a running container gets a new endpoint at
//! once; a stopped one gets it at its next start. Either way the request is kept in its record.

use berth_api_types::models::NetworkConnectRequest;

use super::settings::{primary_network, EndpointRequest};
use crate::{Engine, Error, Result};

/// The endpoint part of a connect request.
pub fn endpoint_request(req: &NetworkConnectRequest) -> EndpointRequest {
    let e = req.endpoint_config.clone().unwrap_or_default();
    EndpointRequest {
        aliases: e.aliases.unwrap_or_default(),
        ipv4: e.ipam_config.and_then(|c| c.ipv4_address).filter(|s| !s.is_empty()),
        mac: e.mac_address.filter(|m| !m.is_empty()),
    }
}

/// dockerd's refusals for containers whose namespace is not their own.
pub(crate) fn check_mode(mode: &str, target_driver: &str) -> Result<()> {
    if mode.starts_with("container:") {
        return Err(Error::InvalidArgument(
            "container sharing network namespace with another container or host cannot be connected to any other network"
                .into(),
        ));
    }
    if mode == "host" || target_driver == "host" {
        return Err(Error::InvalidArgument(
            "container cannot be disconnected from host network or connected to host network".into(),
        ));
    }
    if mode == "none" || target_driver == "null" {
        return Err(Error::InvalidArgument(
            "container cannot be connected to multiple networks with one of the networks in private (none) mode".into(),
        ));
    }
    Ok(())
}

impl Engine {
    pub async fn network_connect(&self, network: &str, req: NetworkConnectRequest) -> Result<()> {
        let net = self
            .networks
            .snapshot()
            .find(network)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("network {network} not found")))?;
        let c = self.containers.get(&req.container)?;
        let _op = c.op.lock().await;
        let record = c.record();
        check_mode(&record.host.network_mode, &net.driver)?;
        let ep = endpoint_request(&req);
        let is_primary = primary_network(&record.host.network_mode)
            .is_some_and(|p| p == net.name || p == net.id || net.id.starts_with(p));
        let already = if is_primary {
            !record.host.net.primary_disconnected
        } else {
            record.host.net.request(&net.name, &net.id).is_some()
        };
        if already {
            return Err(Error::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                record.name, net.name
            )));
        }
        if net.is_predefined() && (ep.ipv4.is_some() || !ep.aliases.is_empty()) {
            let what = if ep.ipv4.is_some() {
                "user specified IP address is supported on user defined networks only"
            } else {
                "network-scoped alias is supported only for containers in user defined networks"
            };
            return Err(Error::InvalidArgument(what.into()));
        }
        let before = record.host.net.clone();
        let updated = c.update(|r| {
            if is_primary {
                r.host.net.primary_disconnected = false;
            }
            r.host.net.endpoints.insert(net.name.clone(), ep.clone());
            Ok(r.clone())
        })?;
        if !c.status().is_running() {
            // A running container's connect is reported when its endpoint is attached.
            self.emit_network(&net.id, "connect", &net.name, &net.driver, Some(&c.id));
            return Ok(());
        }
        if let Err(e) = self.attach_endpoint(&updated, &net.id).await {
            let _ = c.update(|r| {
                r.host.net = before;
                Ok(())
            });
            return Err(e);
        }
        self.write_net_files(&updated, false)?;
        self.dns_refresh(&updated).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api_types::models::{EndpointIpamConfig, EndpointSettings};

    #[test]
    fn request_and_modes() {
        let req = NetworkConnectRequest {
            container: "c".into(),
            endpoint_config: Some(EndpointSettings {
                aliases: Some(vec!["db".into()]),
                ipam_config: Some(EndpointIpamConfig { ipv4_address: Some("10.1.0.9".into()), ..Default::default() }),
                ..Default::default()
            }),
        };
        let e = endpoint_request(&req);
        assert_eq!(e.aliases, ["db"]);
        assert_eq!(e.ipv4.as_deref(), Some("10.1.0.9"));
        assert!(check_mode("default", "bridge").is_ok());
        assert!(check_mode("host", "bridge").is_err());
        assert!(check_mode("front", "null").is_err());
        assert!(check_mode("container:abc", "bridge").unwrap_err().to_string().contains("sharing network namespace"));
    }
}
