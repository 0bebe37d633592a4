//! Daemon start and stop: the predefined networks, cleanup after a crash, and leaving nothing
//! of ours behind on a stop with no running containers.

use berth_kernel::{netlink, netns, nft};
use berth_net::{ipam, Subnet};
use chrono::Utc;

use super::kernel_err;
use super::registry::NetworkRecord;
use crate::{Engine, Error, Result};

pub(crate) fn new_network_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn predefined(name: &str, driver: &str) -> NetworkRecord {
    NetworkRecord {
        id: new_network_id(),
        name: name.into(),
        driver: driver.into(),
        created: Utc::now(),
        device: String::new(),
        subnet: None,
        gateway: None,
        ip_range: None,
        internal: false,
        attachable: false,
        labels: Default::default(),
        options: Default::default(),
    }
}

pub(crate) async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Internal(format!("network task: {e}")))
}

impl Engine {
    /// At daemon start (after containers are restored): creates `bridge`, `host` and `none`
    /// when missing, drops endpoints of containers that are not running (a crash or an exit
    /// while the daemon was down), and with containers still running sets up the default bridge
    /// and reloads the ruleset; after a crash with none running, removes our bridges and table. Failures
    /// to touch the kernel are logged: containers without networking still work.
    pub(crate) async fn networks_init(&self) -> Result<()> {
        let routes = run_blocking(netlink::routes).await?.map(|t| ipam::parse_routes(&t)).unwrap_or_default();
        let bridge_name = self.config.bridge_name.clone();
        let bip = self.config.bip.clone();
        let running: Vec<String> =
            self.containers.all().iter().filter(|c| c.status().is_running()).map(|c| c.id.clone()).collect();
        let stale = self.networks.update(|r| {
            if r.find("bridge").is_none() {
                let (subnet, gateway) = match &bip {
                    Some(b) => {
                        let s: Subnet = b.parse().map_err(|e| Error::InvalidArgument(format!("bip: {e}")))?;
                        let gw = if s.addr == s.network() { s.first_host() } else { s.addr };
                        (s.normalized(), gw)
                    }
                    None => {
                        let mut in_use: Vec<Subnet> = routes.clone();
                        in_use.extend(r.subnets());
                        let s = ipam::choose_subnet(&ipam::default_pools(), &in_use).map_err(kernel_err)?;
                        (s, s.first_host())
                    }
                };
                let mut n = predefined("bridge", "bridge");
                n.device = bridge_name.clone();
                n.subnet = Some(subnet);
                n.gateway = Some(gateway);
                n.options.insert("com.docker.network.bridge.name".into(), bridge_name.clone());
                n.options.insert("com.docker.network.bridge.default_bridge".into(), "true".into());
                r.networks.insert(n.id.clone(), n);
            }
            for (name, driver) in [("host", "host"), ("none", "null")] {
                if r.find(name).is_none() {
                    let n = predefined(name, driver);
                    r.networks.insert(n.id.clone(), n);
                }
            }
            let stale: Vec<_> = r.endpoints.keys().filter(|c| !running.contains(c)).cloned().collect();
            let mut removed = Vec::new();
            for c in stale {
                removed.push((c.clone(), r.endpoints.remove(&c).unwrap_or_default()));
            }
            Ok(removed)
        })?;
        let netns_dir = self.networks.netns_dir.clone();
        let reg = self.networks.snapshot();
        let table = self.config.nft_table.clone();
        let live = reg.endpoints.values().any(|e| !e.is_empty());
        let crashed = !stale.is_empty();
        if !live && !crashed {
            // Nothing of ours can be in the kernel: the bridge and ruleset are made on the first
            // attach (so an engine that never runs a container never touches host networking).
            return Ok(());
        }
        self.networks.touched.store(true, std::sync::atomic::Ordering::SeqCst);
        let restored: Vec<String> =
            reg.endpoints.iter().filter(|(_, e)| !e.is_empty()).map(|(c, _)| c.clone()).collect();
        run_blocking(move || {
            for (c, eps) in stale {
                for e in eps {
                    let _ = netlink::link_delete(&e.veth);
                }
                netns::remove(&netns_dir.join(&c));
            }
            if !live {
                return;
            }
            if let Some(b) = reg.find("bridge") {
                if let (Some(s), Some(gw)) = (b.subnet, b.gateway) {
                    let cidr = format!("{gw}/{}", s.prefix);
                    if let Err(e) = netlink::bridge_ensure(&b.device, &cidr, 1500) {
                        tracing::warn!(error = %e, bridge = %b.device, "setting up the default bridge");
                    } else if let Some(cc) = super::congctl::bridge_congctl() {
                        if let Err(e) = netlink::bridge_route_congctl(&b.device, &cidr, cc) {
                            tracing::warn!(error = %e, bridge = %b.device, "setting the bridge route's congestion control");
                        }
                    }
                }
            }
            if let Err(e) = nft::apply(&reg.ruleset(&table).render()) {
                tracing::warn!(error = %e, "loading the nftables ruleset");
            }
        })
        .await?;
        if !live {
            // After a crash with nothing left running: no rule or bridge of ours stays.
            self.networks_shutdown().await;
        }
        // The embedded DNS servers died with the previous daemon: serve the names again.
        for id in restored {
            if let Ok(c) = self.containers.get(&id) {
                self.dns_refresh(&c.record()).await;
            }
        }
        Ok(())
    }

    /// At daemon stop: when no container has an endpoint any more, removes our bridges and
    /// our nftables table (running containers keep theirs: live restore).
    pub(crate) async fn networks_shutdown(&self) {
        let lingering =
            std::mem::take(&mut *self.networks.lingering.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let _ = run_blocking(move || {
            for v in lingering {
                let _ = netlink::link_delete(&v);
            }
        })
        .await;
        let reg = self.networks.snapshot();
        let touched = self.networks.touched.load(std::sync::atomic::Ordering::SeqCst);
        if !touched || reg.endpoints.values().any(|e| !e.is_empty()) {
            return;
        }
        let table = self.config.nft_table.clone();
        self.networks.ready_bridges.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        *self.networks.last_ruleset.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        let _ = run_blocking(move || {
            for n in reg.networks.values().filter(|n| n.driver == "bridge" && !n.device.is_empty()) {
                if let Err(e) = netlink::link_delete(&n.device) {
                    tracing::warn!(error = %e, bridge = %n.device, "removing bridge");
                }
            }
            if let Err(e) = nft::apply(&berth_net::nft::delete_script(&table)) {
                tracing::warn!(error = %e, "removing the nftables table");
            }
        })
        .await;
    }

    /// Loads the ruleset for the current registry, unless it is the one last loaded (a
    /// container without published ports changes nothing).
    pub(crate) async fn apply_firewall(&self) -> Result<()> {
        self.networks.touched.store(true, std::sync::atomic::Ordering::SeqCst);
        let script = self.networks.snapshot().ruleset(&self.config.nft_table).render();
        let last = || self.networks.last_ruleset.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last().as_deref() == Some(script.as_str()) {
            return Ok(());
        }
        let s = script.clone();
        let applied = run_blocking(move || nft::apply(&s)).await?.map_err(kernel_err);
        *last() = applied.is_ok().then_some(script);
        applied
    }

    /// Creates and configures bridge `device` once per daemon run (or again when it is gone).
    pub(crate) async fn ensure_bridge(&self, device: &str, cidr: String) -> Result<()> {
        let ready = || self.networks.ready_bridges.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if ready().contains(device) && netlink::link_exists(device) {
            return Ok(());
        }
        let d = device.to_string();
        run_blocking(move || {
            netlink::bridge_ensure(&d, &cidr, 1500)?;
            if let Some(cc) = super::congctl::bridge_congctl() {
                if let Err(e) = netlink::bridge_route_congctl(&d, &cidr, cc) {
                    tracing::warn!(error = %e, bridge = %d, "setting the bridge route's congestion control");
                }
            }
            Ok::<_, netlink::NetlinkError>(())
        })
        .await?
        .map_err(kernel_err)?;
        ready().insert(device.to_string());
        Ok(())
    }
}
