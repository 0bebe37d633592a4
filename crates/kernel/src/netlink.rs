//! Links, addresses and routes for bridge networking.
//!
//! Applied with iproute2's `ip` (and `nsenter --net=<path>` inside a container's namespace)
//! rather than the rtnetlink crate: a deliberate fallback to get veths, bridges and routes right
//! quickly; every call goes through [`ip`] here so switching to rtnetlink later is local to this
//! file. Each call is blocking: async callers use `spawn_blocking`.

use std::path::Path;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("running {cmd}: {source}")]
    Spawn { cmd: String, source: std::io::Error },
    #[error("{cmd}: {stderr}")]
    Failed { cmd: String, stderr: String },
}

fn run(mut cmd: Command) -> Result<String, NetlinkError> {
    let text = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|source| NetlinkError::Spawn { cmd: text.clone(), source })?;
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

/// Deletes a link (bridge or veth); absent is fine.
pub fn link_delete(name: &str) -> Result<(), NetlinkError> {
    if !link_exists(name) {
        return Ok(());
    }
    ip(&["link", "del", name]).map(|_| ())
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
}

/// Creates and configures the pair described by `v`; on failure the host end is deleted.
pub fn veth_attach(v: &Veth<'_>) -> Result<(), NetlinkError> {
    let peer = format!("{}p", &v.host_name[..v.host_name.len().min(14)]);
    let mtu = v.mtu.to_string();
    let result = (|| {
        link_delete(v.host_name)?;
        ip(&["link", "add", v.host_name, "mtu", &mtu, "type", "veth", "peer", "name", &peer, "mtu", &mtu])?;
        ip(&["link", "set", v.host_name, "master", v.bridge, "up"])?;
        ip(&["link", "set", &peer, "netns", &v.netns.display().to_string()])?;
        ip_in(v.netns, &["link", "set", &peer, "name", v.ifname, "address", v.mac])?;
        ip_in(v.netns, &["addr", "add", v.cidr, "dev", v.ifname])?;
        ip_in(v.netns, &["link", "set", v.ifname, "up"])?;
        ip_in(v.netns, &["link", "set", "lo", "up"])?;
        if let Some(gw) = v.gateway {
            ip_in(v.netns, &["route", "replace", "default", "via", gw, "dev", v.ifname])?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = link_delete(v.host_name);
    }
    result
}

/// Brings loopback up inside `netns` (a namespace with no other interface).
pub fn loopback_up(netns: &Path) -> Result<(), NetlinkError> {
    ip_in(netns, &["link", "set", "lo", "up"]).map(|_| ())
}

/// Removes interface `ifname` from inside `netns` (disconnect of a running container).
pub fn delete_in(netns: &Path, ifname: &str) -> Result<(), NetlinkError> {
    ip_in(netns, &["link", "del", ifname]).map(|_| ())
}
