//! Attaching a starting container to its network ([`Engine::network_attach`]) and releasing it
//! when its process is gone ([`Engine::network_detach`]).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::PathBuf;

use berth_kernel::{netlink, netns};
use berth_net::{hosts, ipam, ports};
use berth_runtime::spec::NetworkNamespace;

use super::daemon::run_blocking;
use super::registry::{Endpoint, NetworkRecord, Published};
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

impl Engine {
    fn netns_path(&self, id: &str) -> PathBuf {
        self.networks.netns_dir.join(id)
    }

    /// Prepares the container's network before its process starts. A container on the default
    /// network whose bridge cannot be set up still starts, with loopback only (and a warning).
    pub(crate) async fn network_attach(&self, record: &Record) -> Result<NetworkSetup> {
        let mode = record.host.network_mode.as_str();
        let setup = match mode {
            "host" => {
                self.write_net_files(record, None, true)?;
                NetworkNamespace::Host
            }
            "none" => {
                self.write_net_files(record, None, false)?;
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
                let pid = other.record().state.pid;
                NetworkNamespace::Join(PathBuf::from(format!("/proc/{pid}/ns/net")))
            }
            "default" | "bridge" => match self.attach_bridge(record, "bridge").await {
                Ok(ns) => ns,
                // Only a failure to set up the kernel side falls back; bad requests (a port in
                // use, a wrong address) are the client's error.
                Err(e @ Error::Internal(_)) if mode == "default" => {
                    tracing::warn!(id = %record.id, error = %e, "default bridge unavailable: loopback only");
                    self.network_detach(&record.id).await;
                    NetworkNamespace::New
                }
                Err(e) => return Err(e),
            },
            name => self.attach_bridge(record, name).await?,
        };
        Ok(NetworkSetup { namespace: setup })
    }

    async fn attach_bridge(&self, record: &Record, network: &str) -> Result<NetworkNamespace> {
        let _op = self.networks.ops.lock().await;
        let net = self
            .networks
            .snapshot()
            .find(network)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("network {network} not found")))?;
        if net.driver != "bridge" {
            return Err(Error::InvalidArgument(format!("network {network} is not a bridge network")));
        }
        let (Some(subnet), Some(gateway)) = (net.subnet, net.gateway) else {
            return Err(Error::Internal(format!("network {network} has no subnet")));
        };
        let (device, cidr) = (net.device.clone(), format!("{gateway}/{}", subnet.prefix));
        self.networks.touched.store(true, std::sync::atomic::Ordering::SeqCst);
        run_blocking(move || netlink::bridge_ensure(&device, &cidr, 1500)).await?.map_err(kernel_err)?;

        let req = record.host.net.endpoints.get(&net.name).or_else(|| record.host.net.endpoints.get(network));
        let wanted = match req.and_then(|r| r.ipv4.as_deref()) {
            Some(s) => {
                Some(s.parse::<Ipv4Addr>().map_err(|_| Error::InvalidArgument(format!("invalid IPv4 address: {s}")))?)
            }
            None => None,
        };
        let aliases = req.map(|r| r.aliases.clone()).unwrap_or_default();
        // Published ports only on the first network (as dockerd publishes on one endpoint).
        let first = self.networks.snapshot().endpoints.get(&record.id).is_none_or(Vec::is_empty);
        let plan = if first {
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
                mac: ipam::mac_for(ip),
                veth: veth.clone(),
                ifname: format!("eth{}", eps.len()),
                aliases,
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
        let (p, e, dev) = (path.clone(), ep.clone(), net.device.clone());
        let gw = gateway.to_string();
        run_blocking(move || -> Result<()> {
            if !p.exists() {
                netns::create(&p).map_err(kernel_err)?;
            }
            let cidr = format!("{}/{}", e.ip, subnet.prefix);
            let first_if = e.ifname == "eth0";
            netlink::veth_attach(&netlink::Veth {
                host_name: &e.veth,
                bridge: &dev,
                netns: &p,
                ifname: &e.ifname,
                cidr: &cidr,
                mac: &e.mac,
                mtu: 1500,
                gateway: first_if.then_some(gw.as_str()),
            })
            .map_err(kernel_err)
        })
        .await??;
        self.apply_firewall().await?;
        self.write_net_files(record, Some(&net), false)?;
        self.refresh_peer_hosts(&net.id, &record.id);
        Ok(NetworkNamespace::Join(path))
    }

    /// Releases what [`Engine::network_attach`] set up (addresses, veths, rules).
    pub(crate) async fn network_detach(&self, id: &str) {
        let _op = self.networks.ops.lock().await;
        self.networks.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
        let removed = match self.networks.update(|r| Ok(r.endpoints.remove(id).unwrap_or_default())) {
            Ok(eps) => eps,
            Err(e) => {
                tracing::warn!(%id, error = %e, "releasing network endpoints");
                Vec::new()
            }
        };
        let path = self.netns_path(id);
        let veths: Vec<String> = removed.iter().map(|e| e.veth.clone()).collect();
        let _ = run_blocking(move || {
            for v in veths {
                if let Err(e) = netlink::link_delete(&v) {
                    tracing::warn!(veth = %v, error = %e, "removing veth");
                }
            }
            netns::remove(&path);
        })
        .await;
        if !removed.is_empty() {
            if let Err(e) = self.apply_firewall().await {
                tracing::warn!(%id, error = %e, "reloading the ruleset");
            }
            for ep in &removed {
                self.refresh_peer_hosts(&ep.network_id, id);
            }
        }
    }

    /// The hosts file of container `id`: its own address and names, `--add-host` entries, and
    /// the other containers on its user-defined networks.
    fn hosts_for(&self, record: &Record, net: Option<&NetworkRecord>) -> hosts::Hosts {
        let reg = self.networks.snapshot();
        let gateway = net.and_then(|n| n.gateway).map(|g| g.to_string()).unwrap_or_default();
        let extra = record
            .host
            .net
            .extra_hosts
            .iter()
            .filter_map(|h| h.split_once(':'))
            .map(|(n, ip)| (n.to_string(), if ip == "host-gateway" { gateway.clone() } else { ip.to_string() }))
            .collect();
        let mine = reg.endpoints.get(&record.id).cloned().unwrap_or_default();
        let own = mine.first().map(|e| (e.ip, vec![record.config.hostname.clone()]));
        let mut peers = Vec::new();
        for ep in &mine {
            let user = reg.networks.get(&ep.network_id).is_some_and(|n| !n.is_predefined());
            if !user {
                continue;
            }
            for (cid, other) in reg.containers_on(&ep.network_id) {
                if cid == &record.id {
                    continue;
                }
                let mut names = Vec::new();
                if let Ok(c) = self.containers.get(cid) {
                    names.push(c.name());
                }
                names.extend(other.aliases.iter().cloned());
                names.push(cid[..12.min(cid.len())].to_string());
                peers.push((other.ip, names));
            }
        }
        hosts::Hosts { extra, own, peers }
    }

    /// Writes `hosts` and `resolv.conf` of a starting container (over the defaults).
    fn write_net_files(&self, record: &Record, net: Option<&NetworkRecord>, host_network: bool) -> Result<()> {
        let dir = self.containers.container_dir(&record.id);
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let n = &record.host.net;
        let resolv = hosts::resolv_conf(&host_resolv, &n.dns, &n.dns_search, &n.dns_options, host_network);
        let hosts_text = if host_network {
            std::fs::read_to_string("/etc/hosts").unwrap_or_else(|_| hosts::DEFAULT_HOSTS.to_string())
        } else {
            self.hosts_for(record, net).render()
        };
        for (name, data) in [("hosts", hosts_text), ("resolv.conf", resolv)] {
            let p = dir.join(name);
            std::fs::write(&p, data).map_err(|e| Error::io(format!("writing {}", p.display()), e))?;
        }
        Ok(())
    }

    /// Rewrites (in place: the files are bind-mounted) the hosts files of the other containers
    /// on `network_id`, after `changed` joined or left it.
    fn refresh_peer_hosts(&self, network_id: &str, changed: &str) {
        let reg = self.networks.snapshot();
        let user = reg.networks.get(network_id).is_some_and(|n| !n.is_predefined());
        if !user {
            return;
        }
        for (cid, _) in reg.containers_on(network_id) {
            if cid == changed {
                continue;
            }
            let Ok(c) = self.containers.get(cid) else { continue };
            let text = self.hosts_for(&c.record(), reg.networks.get(network_id)).render();
            if let Err(e) = std::fs::write(c.dir.join("hosts"), text) {
                tracing::warn!(id = %cid, error = %e, "updating hosts file");
            }
        }
    }
}
