//! `POST /networks/{id}/disconnect` (NetworkDisconnect): the endpoint of a running container is
//! removed at once (veth, address, published ports, names); a stopped container just no longer
//! joins that network at start. `Force` also drops endpoints of containers that are gone.

use berth_kernel::netlink;

use super::daemon::run_blocking;
use super::kernel_err;
use super::settings::primary_network;
use crate::{Engine, Error, Result};

impl Engine {
    pub async fn network_disconnect(&self, network: &str, container: &str, force: bool) -> Result<()> {
        let net = self
            .networks
            .snapshot()
            .find(network)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("network {network} not found")))?;
        let c = match self.containers.get(container) {
            Ok(c) => c,
            Err(e) if force => {
                // The container is gone: drop what the network still holds for it.
                let key = container.to_string();
                let gone = self.networks.update(|r| {
                    let ids: Vec<String> = r.endpoints.keys().filter(|id| id.starts_with(&key)).cloned().collect();
                    let mut removed = Vec::new();
                    for id in ids {
                        if let Some(eps) = r.endpoints.get_mut(&id) {
                            removed.extend(eps.iter().filter(|e| e.network_id == net.id).map(|e| e.veth.clone()));
                            eps.retain(|e| e.network_id != net.id);
                        }
                    }
                    Ok(removed)
                })?;
                if gone.is_empty() {
                    return Err(e);
                }
                run_blocking(move || gone.iter().try_for_each(|v| netlink::link_delete(v)))
                    .await?
                    .map_err(kernel_err)?;
                return self.apply_firewall().await;
            }
            Err(e) => return Err(e),
        };
        let _op = c.op.lock().await;
        let record = c.record();
        if record.host.network_mode == "host" || net.driver == "host" {
            return Err(Error::InvalidArgument(
                "container cannot be disconnected from host network or connected to host network".into(),
            ));
        }
        let is_primary = primary_network(&record.host.network_mode)
            .is_some_and(|p| p == net.name || p == net.id || net.id.starts_with(p));
        let requested = if is_primary {
            !record.host.net.primary_disconnected
        } else {
            record.host.net.request(&net.name, &net.id).is_some()
        };
        let live = self.networks.snapshot().endpoint(&c.id, &net.id).is_some();
        if !requested && !live {
            return Err(Error::InvalidArgument(format!("container {} is not connected to network {}", c.id, net.name)));
        }
        let updated = c.update(|r| {
            if is_primary {
                r.host.net.primary_disconnected = true;
            }
            r.host.net.endpoints.remove(&net.name);
            r.host.net.endpoints.remove(&net.id);
            Ok(r.clone())
        })?;
        if live {
            self.detach_endpoint(&c.id, &net.id).await?;
            self.write_net_files(&updated, false)?;
            self.dns_refresh(&updated).await;
        }
        self.emit_network(&net.id, "disconnect", &net.name, &net.driver, Some(&c.id));
        Ok(())
    }

    /// Removes one endpoint of a running container; when it carried the default route, the
    /// next endpoint's gateway takes over.
    async fn detach_endpoint(&self, id: &str, network_id: &str) -> Result<()> {
        let _op = self.networks.ops.lock().await;
        let (removed, was_first, next) = self.networks.update(|r| {
            let eps = r.endpoints.entry(id.to_string()).or_default();
            let pos = eps.iter().position(|e| e.network_id == network_id);
            let removed = pos.map(|i| eps.remove(i));
            Ok((removed, pos == Some(0), eps.first().cloned()))
        })?;
        let Some(removed) = removed else { return Ok(()) };
        if !removed.ports.is_empty() {
            self.networks.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
        }
        let gateway = next.as_ref().and_then(|e| {
            let reg = self.networks.snapshot();
            reg.networks.get(&e.network_id).and_then(|n| n.gateway).map(|g| (g.to_string(), e.ifname.clone()))
        });
        let path = self.netns_path(id);
        // The first endpoint attached carries the default route.
        let had_route = was_first;
        run_blocking(move || -> std::result::Result<(), netlink::NetlinkError> {
            netlink::link_delete(&removed.veth)?;
            if let (true, Some((gw, dev))) = (had_route, gateway) {
                netlink::ip_in(&path, &["route", "replace", "default", "via", &gw, "dev", &dev])?;
            }
            Ok(())
        })
        .await?
        .map_err(kernel_err)?;
        self.apply_firewall().await
    }
}
