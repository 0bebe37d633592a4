//! Links, addresses and routes for bridge networking.
//!
//! A container's veth pair and loopback (the start path) and link deletes (every exit) go over
//! rtnetlink ([`crate::rtnl`]); the rarer operations (bridges once per daemon, disconnect, route
//! listing) still run iproute2's `ip` (and `nsenter --net=<path>` inside a container's
//! namespace). Each call is blocking: async callers use `spawn_blocking`.

use std::path::Path;
use std::process::Command;

use crate::rtnl::{self, Rtnl};

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("running {cmd}: {source}")]
    Spawn { cmd: String, source: std::io::Error },
    #[error("{cmd}: {stderr}")]
    Failed { cmd: String, stderr: String },
    #[error("netlink: {cmd}: {source}")]
    Rtnl { cmd: String, source: std::io::Error },
}

fn run(cmd: Command) -> Result<String, NetlinkError> {
    run_with_input(cmd, None)
}

fn run_with_input(mut cmd: Command, input: Option<&str>) -> Result<String, NetlinkError> {
    use std::io::Write;
    let mut text = format!("{cmd:?}").replace('"', "");
    let out = if let Some(input) = input {
        text = format!("{text} <<< {}", input.replace('\n', "; "));
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| NetlinkError::Spawn { cmd: text.clone(), source })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).map_err(|source| NetlinkError::Spawn { cmd: text.clone(), source })?;
        }
        child.wait_with_output()
    } else {
        cmd.output()
    }
    .map_err(|source| NetlinkError::Spawn { cmd: text.clone(), source })?;
    if !out.status.success() {
        return Err(NetlinkError::Failed { cmd: text, stderr: String::from_utf8_lossy(&out.stderr).trim().into() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ip <args>` in the host's namespace.
pub fn ip(args: &[&str]) -> Result<String, NetlinkError> {
    let mut c = Command::new("ip");
    c.args(args);
    run(c)
}

/// `ip <args>` inside the namespace mounted at `netns`.
pub fn ip_in(netns: &Path, args: &[&str]) -> Result<String, NetlinkError> {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net={}", netns.display())).arg("ip").args(args);
    run(c)
}

pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Creates (if absent) the bridge `name` with address `cidr` (gateway/prefix), brings it up, and
/// enables `route_localnet` on it so DNAT from 127.0.0.1 can reach its containers.
pub fn bridge_ensure(name: &str, cidr: &str, mtu: u32) -> Result<(), NetlinkError> {
    if !link_exists(name) {
        ip(&["link", "add", "name", name, "type", "bridge"])?;
    }
    ip(&["addr", "replace", cidr, "dev", name])?;
    ip(&["link", "set", name, "mtu", &mtu.to_string(), "up"])?;
    let sysctl = format!("/proc/sys/net/ipv4/conf/{name}/route_localnet");
    std::fs::write(&sysctl, "1").map_err(|source| NetlinkError::Spawn { cmd: format!("write {sysctl}"), source })?;
    Ok(())
}

/// Replaces the on-link route of bridge `name`'s address `cidr` (gateway/prefix) with the same
/// route using TCP congestion control `congctl`: traffic between the host and the bridge's
/// containers (see `Veth::onlink_congctl` for the container side).
pub fn bridge_route_congctl(name: &str, cidr: &str, congctl: &str) -> Result<(), NetlinkError> {
    let invalid = || NetlinkError::Failed { cmd: format!("route of {name}"), stderr: format!("invalid CIDR {cidr}") };
    let (addr, prefix) = cidr
        .split_once('/')
        .and_then(|(a, p)| Some((a.parse::<std::net::Ipv4Addr>().ok()?, p.parse::<u8>().ok()?)))
        .ok_or_else(invalid)?;
    let mask = 32u32.checked_sub(u32::from(prefix)).and_then(|s| u32::MAX.checked_shl(s)).unwrap_or(0);
    let network = format!("{}/{prefix}", std::net::Ipv4Addr::from(u32::from(addr) & mask));
    let src = addr.to_string();
    let args = ["route", "replace", &network, "dev", name, "proto", "kernel", "scope", "link", "src", &src];
    ip(&[&args[..], &["congctl", congctl]].concat()).map(drop)
}

/// Deletes a link (bridge or veth) over rtnetlink; absent is fine (the kernel's ENODEV, see
/// [`Rtnl::link_delete`]). (This runs once per container exit: an `ip` process cost ~10 ms of
/// CPU each time, on the cores the next containers start on.)
pub fn link_delete(name: &str) -> Result<(), NetlinkError> {
    let fail = |source| NetlinkError::Rtnl { cmd: format!("deleting link {name}"), source };
    Rtnl::new().and_then(|mut nl| nl.link_delete(name)).map(drop).map_err(fail)
}

/// `ip -4 route show` of the host.
pub fn routes() -> Result<String, NetlinkError> {
    ip(&["-4", "route", "show"])
}

/// One container interface: a veth pair, the host end on `bridge`, the other end moved into
/// `netns` and named `ifname` with `cidr`, `mac`, `mtu`, and (when given) the default route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veth<'a> {
    pub host_name: &'a str,
    pub bridge: &'a str,
    pub netns: &'a Path,
    pub ifname: &'a str,
    pub cidr: &'a str,
    pub mac: &'a str,
    pub mtu: u32,
    pub gateway: Option<&'a str>,
    /// TCP congestion control for the on-link subnet route inside the namespace (traffic that
    /// stays on this host: the bridge's address and the other endpoints); `None` keeps the
    /// namespace's default. A failure to set it is logged, not fatal.
    pub onlink_congctl: Option<&'a str>,
}

/// Creates and configures the pair described by `v` over rtnetlink (a few round trips on two
/// sockets, one per namespace; spawning `ip` cost milliseconds per run). The container end is
/// created inside its namespace (moving a link between namespaces costs the kernel far more).
/// On failure the host end is deleted.
pub fn veth_attach(v: &Veth<'_>) -> Result<(), NetlinkError> {
    let result = (|| {
        link_delete(v.host_name)?;
        veth_attach_rtnl(v)
    })();
    if result.is_err() {
        let _ = link_delete(v.host_name);
    }
    result
}

fn veth_attach_rtnl(v: &Veth<'_>) -> Result<(), NetlinkError> {
    let what = |op: &str| format!("{op} ({} ↔ {} in {})", v.host_name, v.ifname, v.netns.display());
    let fail = |op: &str| {
        let cmd = what(op);
        move |source| NetlinkError::Rtnl { cmd, source }
    };
    let (addr, prefix) = v
        .cidr
        .split_once('/')
        .and_then(|(a, p)| Some((a.parse::<std::net::Ipv4Addr>().ok()?, p.parse::<u8>().ok()?)))
        .ok_or_else(|| NetlinkError::Failed { cmd: what("address"), stderr: format!("invalid CIDR {}", v.cidr) })?;
    let mac = rtnl::parse_mac(v.mac)
        .ok_or_else(|| NetlinkError::Failed { cmd: what("address"), stderr: format!("invalid MAC {}", v.mac) })?;
    let gateway = match v.gateway {
        Some(g) => Some(
            g.parse::<std::net::Ipv4Addr>()
                .map_err(|_| NetlinkError::Failed { cmd: what("route"), stderr: format!("invalid gateway {g}") })?,
        ),
        None => None,
    };
    let mut host = Rtnl::new().map_err(fail("netlink socket"))?;
    let master = host.link_index(v.bridge).map_err(fail("finding the bridge"))?;
    let peer = rtnl::Peer { name: v.ifname, mac, netns: v.netns };
    host.veth_create(v.host_name, v.mtu, master, &peer).map_err(fail("creating the veth pair"))?;
    let mut inside = Rtnl::in_netns(v.netns).map_err(fail("netlink socket in the namespace"))?;
    let index = inside.link_index(v.ifname).map_err(fail("finding the container end"))?;
    inside.addr_add(index, addr, prefix).map_err(fail("adding the address"))?;
    inside.link_up(index).map_err(fail("bringing the interface up"))?;
    if let Some(cc) = v.onlink_congctl {
        let mask = 32u32.checked_sub(u32::from(prefix)).and_then(|s| u32::MAX.checked_shl(s)).unwrap_or(0);
        let network = std::net::Ipv4Addr::from(u32::from(addr) & mask);
        if let Err(e) = inside.onlink_route_congctl(index, network, prefix, addr, cc) {
            tracing::warn!(error = %e, congctl = cc, "{}", what("setting the on-link route's congestion control"));
        }
    }
    let lo = inside.link_index("lo").map_err(fail("finding loopback"))?;
    inside.link_up(lo).map_err(fail("bringing loopback up"))?;
    if let Some(gw) = gateway {
        inside.default_route_replace(gw, index).map_err(fail("adding the default route"))?;
    }
    Ok(())
}

/// Brings loopback up inside `netns` (a namespace with no other interface).
pub fn loopback_up(netns: &Path) -> Result<(), NetlinkError> {
    let fail = |source| NetlinkError::Rtnl { cmd: format!("bringing lo up in {}", netns.display()), source };
    let mut nl = Rtnl::in_netns(netns).map_err(fail)?;
    let lo = nl.link_index("lo").map_err(fail)?;
    nl.link_up(lo).map_err(fail)
}

/// Removes interface `ifname` from inside `netns` (disconnect of a running container).
pub fn delete_in(netns: &Path, ifname: &str) -> Result<(), NetlinkError> {
    ip_in(netns, &["link", "del", ifname]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_plans_fail_before_touching_the_kernel() {
        let v = Veth {
            host_name: "vbnotcreated",
            bridge: "br-none",
            netns: Path::new("/nonexistent/netns"),
            ifname: "eth0",
            cidr: "10.0.0.2",
            mac: "02:42:0a:00:00:02",
            mtu: 1500,
            gateway: Some("10.0.0.1"),
            onlink_congctl: None,
        };
        let e = veth_attach_rtnl(&v).unwrap_err();
        assert!(e.to_string().contains("invalid CIDR 10.0.0.2"), "{e}");
        let e = veth_attach_rtnl(&Veth { cidr: "10.0.0.2/24", mac: "02:42", ..v.clone() }).unwrap_err();
        assert!(e.to_string().contains("invalid MAC"), "{e}");
        let e = veth_attach_rtnl(&Veth { cidr: "10.0.0.2/24", gateway: Some("x"), ..v }).unwrap_err();
        assert!(e.to_string().contains("invalid gateway x"), "{e}");
    }
}
