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

/// `ip -batch -`: several commands (one per line) in one process, stopping at the first error.
pub fn ip_batch(commands: &[String]) -> Result<String, NetlinkError> {
    let mut c = Command::new("ip");
    c.args(["-batch", "-"]);
    run_with_input(c, Some(&commands.join("\n")))
}

/// [`ip_batch`] inside the namespace mounted at `netns`.
pub fn ip_batch_in(netns: &Path, commands: &[String]) -> Result<String, NetlinkError> {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net={}", netns.display())).args(["ip", "-batch", "-"]);
    run_with_input(c, Some(&commands.join("\n")))
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

/// Creates and configures the pair described by `v` with two `ip -batch` runs (one per
/// namespace: process start-up is most of the cost). The container end is created inside its
/// namespace (moving a link between namespaces costs the kernel far more). On failure the host
/// end is deleted.
pub fn veth_attach(v: &Veth<'_>) -> Result<(), NetlinkError> {
    let (host, inside) = veth_commands(v);
    let result = (|| {
        link_delete(v.host_name)?;
        ip_batch(&host)?;
        ip_batch_in(v.netns, &inside)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = link_delete(v.host_name);
    }
    result
}

/// The `ip -batch` lines of [`veth_attach`]: in the host's namespace, then in the container's.
pub fn veth_commands(v: &Veth<'_>) -> (Vec<String>, Vec<String>) {
    let (mtu, ns) = (v.mtu, v.netns.display());
    let host = vec![
        format!(
            "link add {} mtu {mtu} type veth peer name {} mtu {mtu} address {} netns {ns}",
            v.host_name, v.ifname, v.mac
        ),
        format!("link set {} master {} up", v.host_name, v.bridge),
    ];
    let mut inside = vec![
        format!("addr add {} dev {}", v.cidr, v.ifname),
        format!("link set {} up", v.ifname),
        "link set lo up".to_string(),
    ];
    if let Some(gw) = v.gateway {
        inside.push(format!("route replace default via {gw} dev {}", v.ifname));
    }
    (host, inside)
}

/// Brings loopback up inside `netns` (a namespace with no other interface).
pub fn loopback_up(netns: &Path) -> Result<(), NetlinkError> {
    ip_in(netns, &["link", "set", "lo", "up"]).map(|_| ())
}

/// Removes interface `ifname` from inside `netns` (disconnect of a running container).
pub fn delete_in(netns: &Path, ifname: &str) -> Result<(), NetlinkError> {
    ip_in(netns, &["link", "del", ifname]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_batches() {
        let ns = Path::new("/run/b/netns/c1");
        let v = Veth {
            host_name: "vbabc",
            bridge: "br0",
            netns: ns,
            ifname: "eth0",
            cidr: "10.0.0.2/24",
            mac: "02:42:0a:00:00:02",
            mtu: 1500,
            gateway: Some("10.0.0.1"),
        };
        let (host, inside) = veth_commands(&v);
        assert_eq!(
            host,
            [
                "link add vbabc mtu 1500 type veth peer name eth0 mtu 1500 address 02:42:0a:00:00:02 netns /run/b/netns/c1",
                "link set vbabc master br0 up",
            ]
        );
        assert_eq!(inside.last().unwrap(), "route replace default via 10.0.0.1 dev eth0");
        assert_eq!(inside[0], "addr add 10.0.0.2/24 dev eth0");
    }
}
