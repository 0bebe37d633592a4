//! Attaching a starting container to its networks ([`Engine::network_attach`]), one endpoint at
//! a time ([`Engine::attach_endpoint`], also used by connect), and releasing everything when its
//! process is gone ([`Engine::network_detach`]).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::PathBuf;

use berth_kernel::{netlink, netns};
use berth_net::{ipam, ports};
use berth_runtime::spec::NetworkNamespace;

use super::daemon::run_blocking;
use super::registry::{Endpoint, Published};
use super::settings::primary_network;
use super::{kernel_err, NetworkSetup};
use crate::containers::record::Record;
use crate::{Engine, Error, Result};

/// A socket holding a published host port while the container runs (so another program or
/// container cannot take it, and a conflict is a clear error).
pub(crate) enum HeldPort {
    Tcp(#[allow(dead_code)] TcpListener),
    Udp(#[allow(dead_code)] UdpSocket),
}

fn hold(p: &ports::PortRequest) -> Result<(HeldPort, u16)> {
    let addr = SocketAddrV4::new(p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), p.host_port);
    let failed = |e: std::io::Error| {
        Error::Conflict(format!(
            "driver failed programming external connectivity: Bind for {addr} failed: port is already allocated ({e})"
        ))
    };
    if p.proto == "udp" {
        let s = UdpSocket::bind(addr).map_err(failed)?;
        let port = s.local_addr().map_err(failed)?.port();
        Ok((HeldPort::Udp(s), port))
    } else {
        let s = TcpListener::bind(addr).map_err(failed)?;
        let port = s.local_addr().map_err(failed)?.port();
        Ok((HeldPort::Tcp(s), port))
    }
}

/// The lowest `ethN` not used by `eps`.
fn free_ifname(eps: &[Endpoint]) -> String {
    (0..).map(|i| format!("eth{i}")).find(|n| !eps.iter().any(|e| &e.ifname == n)).unwrap_or_default()
}

/// The networks a bridge-mode container is attached to at start: its `NetworkMode` network
/// (unless disconnected), then the others it was created with or connected to.
pub(crate) fn wanted_networks(record: &Record) -> Vec<String> {
    let n = &record.host.net;
    let mut out = Vec::new();
    if let Some(p) = primary_network(&record.host.network_mode) {
        if !n.primary_disconnected {
            out.push(p.to_string());
        }
    }
    for k in n.endpoints.keys() {
        let is_primary = primary_network(&record.host.network_mode) == Some(k.as_str())
            || (k == "default" && primary_network(&record.host.network_mode) == Some("bridge"));
        // Host and none take no endpoint (the docker CLI names the mode there too).
        if !is_primary && !out.contains(k) && !matches!(k.as_str(), "host" | "none") {
            out.push(k.clone());
        }
    }
    out
}

impl Engine {
    pub(crate) fn netns_path(&self, id: &str) -> PathBuf {
        self.networks.netns_dir.join(id)
    }

    /// Prepares the container's network before its process starts. A container on the default
    /// network whose bridge cannot be set up still starts, with loopback only (and a warning).
    pub(crate) async fn network_attach(&self, record: &Record) -> Result<NetworkSetup> {
        self.network_attach_in(record, false).await
    }

    /// For a container with a namespace of its own on bridge networks: creates that (empty)
    /// namespace and returns it, so the container's process can be created in it while
    /// [`Self::network_attach_premade`] adds the endpoints (the veths, addresses and rules then
    /// cost the start no time of their own). `None` for the other modes.
    pub(crate) async fn network_premake(&self, record: &Record) -> Result<Option<NetworkNamespace>> {
        let mode = record.host.network_mode.as_str();
        if matches!(mode, "host" | "none") || mode.starts_with("container:") {
            return Ok(None);
        }
        let path = self.netns_path(&record.id);
        let p = path.clone();
        run_blocking(move || if p.exists() { Ok(()) } else { netns::create(&p) }).await?.map_err(kernel_err)?;
        Ok(Some(NetworkNamespace::Join(path)))
    }

    /// [`Self::network_attach`] into the namespace made by [`Self::network_premake`], which the
    /// container's process may already have joined (the process is held until this is done).
    pub(crate) async fn network_attach_premade(&self, record: &Record) -> Result<()> {
        self.network_attach_in(record, true).await.map(drop)
    }

    async fn network_attach_in(&self, record: &Record, premade: bool) -> Result<NetworkSetup> {
        let mode = record.host.network_mode.as_str();
        let setup = match mode {
            "host" => {
                self.write_net_files(record, true)?;
                NetworkNamespace::Host
            }
            "none" => {
                self.write_net_files(record, false)?;
                NetworkNamespace::New
            }
            m if m.starts_with("container:") => {
                let other = self.containers.get(&m["container:".len()..])?;
                if !other.status().is_running() {
                    return Err(Error::Conflict(format!(
                        "cannot join network of a non running container: {}",
                        other.id
                    )));
                }
                // The files of the container whose namespace is shared (as dockerd does).
                for f in ["hosts", "resolv.conf"] {
                    let _ = std::fs::copy(other.dir.join(f), self.containers.container_dir(&record.id).join(f));
                }
                let pid = other.record().state.pid;
                NetworkNamespace::Join(PathBuf::from(format!("/proc/{pid}/ns/net")))
            }
            _ => match self.attach_all(record).await {
                Ok(ns) => ns,
                // Only a failure to set up the kernel side falls back; bad requests (a port in
                // use, a wrong address) are the client's error.
                Err(e @ Error::Internal(_)) if mode == "default" => {
                    tracing::warn!(id = %record.id, error = %e, "default bridge unavailable: loopback only");
                    self.network_detach(&record.id).await;
                    self.write_net_files(record, false)?;
                    if premade {
                        // The process joins (or has joined) the namespace file the spec names:
                        // a fresh one with loopback up.
                        let path = self.netns_path(&record.id);
                        let p = path.clone();
                        run_blocking(move || {
                            netns::create(&p).map_err(kernel_err)?;
                            netlink::loopback_up(&p).map_err(kernel_err)
                        })
                        .await??;
                        NetworkNamespace::Join(path)
                    } else {
                        NetworkNamespace::New
                    }
                }
                Err(e) => return Err(e),
            },
        };
        Ok(NetworkSetup { namespace: setup })
    }

    /// A namespace of the container's own with one endpoint per wanted network.
    async fn attach_all(&self, record: &Record) -> Result<NetworkNamespace> {
        let path = self.netns_path(&record.id);
        let p = path.clone();
        let wanted = wanted_networks(record);
        // Each endpoint brings loopback up with its interface; without one, it is done here.
        let lo = wanted.is_empty();
        run_blocking(move || -> Result<()> {
            if !p.exists() {
                netns::create(&p).map_err(kernel_err)?;
            }
            if lo {
                netlink::loopback_up(&p).map_err(kernel_err)?;
            }
            Ok(())
        })
        .await??;
        for name in wanted {
            self.attach_endpoint(record, &name).await?;
        }
        self.write_net_files(record, false)?;
        self.dns_refresh(record).await;
        Ok(NetworkNamespace::Join(path))
    }

    /// Adds an endpoint on `network` to the container's namespace (which exists): address,
    /// veth, default route when it is the first, published ports when it is the first, rules,
    /// and the firewall.
    pub(crate) async fn attach_endpoint(&self, record: &Record, network: &str) -> Result<Endpoint> {
        let _op = self.networks.ops.lock().await;
        let net = self
            .networks
            .snapshot()
            .find(network)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("network {network} not found")))?;
        if net.driver != "bridge" {
            return Err(Error::Forbidden(
                "container cannot be disconnected from host network or connected to host network".into(),
            ));
        }
        let (Some(subnet), Some(gateway)) = (net.subnet, net.gateway) else {
            return Err(Error::Internal(format!("network {network} has no subnet")));
        };
        let existing = self.networks.snapshot().endpoints.get(&record.id).cloned().unwrap_or_default();
        if existing.iter().any(|e| e.network_id == net.id) {
            return Err(Error::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                record.name, net.name
            )));
        }
        self.networks.touched.store(true, std::sync::atomic::Ordering::SeqCst);
        self.ensure_bridge(&net.device, format!("{gateway}/{}", subnet.prefix)).await?;

        let req = record.host.net.request(&net.name, &net.id).cloned().unwrap_or_default();
        let wanted = match req.ipv4.as_deref() {
            Some(s) => {
                Some(s.parse::<Ipv4Addr>().map_err(|_| Error::InvalidArgument(format!("invalid IPv4 address: {s}")))?)
            }
            None => None,
        };
        if wanted.is_some() && net.is_predefined() {
            return Err(Error::InvalidArgument(
                "user specified IP address is supported on user defined networks only".into(),
            ));
        }
        if !req.aliases.is_empty() && net.is_predefined() {
            return Err(Error::InvalidArgument(
                "network-scoped alias is supported only for containers in user defined networks".into(),
            ));
        }
        let mac = match req.mac.as_deref() {
            Some(m) => Some(parse_mac(m)?),
            None => None,
        };
        // Published ports only on the first network (as dockerd publishes on one endpoint).
        let plan = if existing.is_empty() {
            ports::plan(&record.host.net.port_bindings, &record.config.exposed_ports, record.host.net.publish_all)
                .map_err(|e| Error::InvalidArgument(e.to_string()))?
        } else {
            Vec::new()
        };
        let mut held = Vec::new();
        let mut published = Vec::new();
        for p in &plan {
            let (h, port) = hold(p)?;
            held.push(h);
            published.push(Published { proto: p.proto.clone(), port: p.port, host_ip: p.host_ip, host_port: port });
        }

        let id = record.id.clone();
        let veth = format!("vb{}{}", &id[..7.min(id.len())], &net.id[..4.min(net.id.len())]);
        let ep = self.networks.update(|r| {
            let ip = ipam::allocate(&subnet, net.ip_range.as_ref(), &r.used(&net.id), wanted)
                .map_err(|e| Error::InvalidArgument(e.to_string()))?;
            let eps = r.endpoints.entry(id.clone()).or_default();
            let ep = Endpoint {
                network_id: net.id.clone(),
                endpoint_id: super::daemon::new_network_id(),
                ip,
                mac: mac.clone().unwrap_or_else(|| ipam::mac_for(ip)),
                veth: veth.clone(),
                ifname: free_ifname(eps),
                aliases: req.aliases.clone(),
                ports: published,
            };
            eps.push(ep.clone());
            Ok(ep)
        })?;
        self.networks
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id.clone())
            .or_default()
            .extend(held);

        let path = self.netns_path(&id);
        let (e, dev) = (ep.clone(), net.device.clone());
        let gw = gateway.to_string();
        let first = existing.is_empty();
        let congctl = super::congctl::onlink_congctl(&record.host.security.sysctls);
        let attached = run_blocking(move || {
            let cidr = format!("{}/{}", e.ip, subnet.prefix);
            netlink::veth_attach(&netlink::Veth {
                host_name: &e.veth,
                bridge: &dev,
                netns: &path,
                ifname: &e.ifname,
                cidr: &cidr,
                mac: &e.mac,
                mtu: 1500,
                gateway: first.then_some(gw.as_str()),
                onlink_congctl: congctl,
            })
        })
        .await?;
        if let Err(err) = attached {
            // Nothing half-made: the address goes back, the ports are let go.
            let _ = self.networks.update(|r| {
                if let Some(eps) = r.endpoints.get_mut(&id) {
                    eps.retain(|x| x.endpoint_id != ep.endpoint_id);
                }
                Ok(())
            });
            if first {
                self.networks.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
            }
            return Err(kernel_err(err));
        }
        self.apply_firewall().await?;
        self.emit_network(&net.id, "connect", &net.name, &net.driver, Some(&id));
        Ok(ep)
    }

    /// Releases what [`Engine::network_attach`] set up (addresses, veths, rules, DNS).
    pub(crate) async fn network_detach(&self, id: &str) {
        self.dns_stop(id);
        let _op = self.networks.ops.lock().await;
        self.networks.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
        let removed = match self.networks.update(|r| Ok(r.endpoints.remove(id).unwrap_or_default())) {
            Ok(eps) => eps,
            Err(e) => {
                tracing::warn!(%id, error = %e, "releasing network endpoints");
                Vec::new()
            }
        };
        let registry = self.networks.snapshot();
        for e in &removed {
            if let Some(n) = registry.networks.get(&e.network_id) {
                self.emit_network(&n.id, "disconnect", &n.name, &n.driver, Some(id));
            }
        }
        let path = self.netns_path(id);
        let _ = run_blocking(move || netns::remove(&path)).await;
        // With its process gone and the namespace unmounted, the kernel destroys the namespace and
        // its veths; deleting them here as well (synchronously that costs ~20 ms of kernel time
        // per link) is done off the container's exit path. Daemon stop finishes what is left.
        let veths: Vec<String> = removed.iter().map(|e| e.veth.clone()).collect();
        if !veths.is_empty() {
            let mut lingering = self.networks.lingering.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            lingering.retain(|v| netlink::link_exists(v));
            lingering.extend(veths.clone());
            drop(lingering);
            tokio::task::spawn_blocking(move || {
                for v in veths {
                    if let Err(e) = netlink::link_delete(&v) {
                        tracing::debug!(veth = %v, error = %e, "removing veth");
                    }
                }
            });
        }
        if !removed.is_empty() {
            if let Err(e) = self.apply_firewall().await {
                tracing::warn!(%id, error = %e, "reloading the ruleset");
            }
        }
    }
}

/// A MAC address as `ip link` takes it, or dockerd's 400.
fn parse_mac(m: &str) -> Result<String> {
    let parts: Vec<&str> = m.split([':', '-']).collect();
    let ok = parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok());
    if !ok {
        return Err(Error::InvalidArgument(format!("invalid MAC address: {m}")));
    }
    Ok(parts.join(":").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_networks_order_and_primary() {
        let mut r = crate::containers::record::sample(&"a".repeat(64), "x");
        r.host.network_mode = "default".into();
        assert_eq!(wanted_networks(&r), ["bridge"]);
        r.host.network_mode = "front".into();
        r.host.net.endpoints.insert("front".into(), Default::default());
        r.host.net.endpoints.insert("back".into(), Default::default());
        assert_eq!(wanted_networks(&r), ["front", "back"]);
        r.host.net.primary_disconnected = true;
        assert_eq!(wanted_networks(&r), ["back"]);
        r.host.network_mode = "default".into();
        r.host.net.primary_disconnected = false;
        r.host.net.endpoints = [("default".to_string(), Default::default())].into();
        assert_eq!(wanted_networks(&r), ["bridge"]);
        r.host.network_mode = "none".into();
        r.host.net.endpoints.clear();
        assert!(wanted_networks(&r).is_empty());
    }

    #[test]
    fn macs_and_ifnames() {
        assert_eq!(parse_mac("02:42:AC:11:00:09").unwrap(), "02:42:ac:11:00:09");
        assert!(parse_mac("02:42:ac:11:00").is_err());
        assert!(parse_mac("zz:42:ac:11:00:01").is_err());
        let ep = |n: &str| Endpoint {
            network_id: String::new(),
            endpoint_id: String::new(),
            ip: Ipv4Addr::LOCALHOST,
            mac: String::new(),
            veth: String::new(),
            ifname: n.into(),
            aliases: vec![],
            ports: vec![],
        };
        assert_eq!(free_ifname(&[]), "eth0");
        assert_eq!(free_ifname(&[ep("eth1")]), "eth0");
        assert_eq!(free_ifname(&[ep("eth0"), ep("eth1")]), "eth2");
    }
}
