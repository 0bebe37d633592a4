//! End-to-end tests of the networks issue.

use crate::{daemon, eventually, ok, output, stderr};

/// Removes a test's user network (and its bridge) when the test ends, pass or fail.
struct NetGuard<'a>(&'a berth_testkit::TestDaemon, String);

impl Drop for NetGuard<'_> {
    fn drop(&mut self) {
        let _ = output(self.0.docker().args(["rm", "-f", &format!("{}-a", self.1), &format!("{}-b", self.1)]));
        let _ = output(self.0.docker().args(["network", "rm", &self.1]));
    }
}

fn addr_of(d: &berth_testkit::TestDaemon, c: &str) -> String {
    ok(d.docker().args(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c]))
        .trim()
        .to_string()
}

#[test]
fn default_bridge_gives_eth0_and_address() {
    let Some(d) = daemon("default_bridge_gives_eth0_and_address") else { return };
    let out = ok(d.docker().args(["run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"]));
    let prefix = d.bip.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap();
    assert!(out.contains(&format!("inet {prefix}.2/24")), "{out}\n{}", d.log());
    let out = ok(d.docker().args(["run", "--rm", "busybox", "ip", "route"]));
    assert!(out.contains("default via"), "{out}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "busybox", "echo", "hi"])), "hi\n");
}

#[test]
fn none_has_only_loopback_and_host_sees_host() {
    let Some(d) = daemon("none_has_only_loopback_and_host_sees_host") else { return };
    let out = ok(d.docker().args(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]));
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    let out = ok(d.docker().args(["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"]));
    let host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(host.iter().filter(|n| *n != "lo").any(|n| out.split_whitespace().any(|o| o == n)), "{out} vs {host:?}");
}

#[test]
fn user_network_name_resolution_and_isolation() {
    let Some(d) = daemon("user_network_name_resolution_and_isolation") else { return };
    let n1 = format!("nt{:06x}", rand_u32() & 0xffffff);
    let n2 = format!("nu{:06x}", rand_u32() & 0xffffff);
    let _g1 = NetGuard(&d, n1.clone());
    let _g2 = NetGuard(&d, n2.clone());
    for n in [&n1, &n2] {
        let subnet = format!("{}.0/24", crate::networks_dns::net24());
        ok(d.docker().args(["network", "create", "--subnet", &subnet, n]));
    }
    let ls = ok(d.docker().args(["network", "ls", "--format", "{{.Name}}"]));
    for n in ["bridge", "host", "none", n1.as_str(), n2.as_str()] {
        assert!(ls.lines().any(|l| l == n), "{n} in {ls}");
    }
    let web = format!("{n1}-a");
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        &web,
        "--hostname",
        &web,
        "--network",
        &n1,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/etc",
    ]));
    // By name through the embedded DNS server: busybox wget to busybox httpd.
    let got = crate::networks_dns::fetch_from(&d, &n1, &web);
    assert_eq!(got.trim(), web, "{}", d.log());
    let ip = addr_of(&d, &web);
    assert_eq!(crate::networks_dns::fetch_from(&d, &n2, &ip), "", "reached {ip} across networks");
    let inspect = ok(d.docker().args(["network", "inspect", &n1]));
    assert!(inspect.contains(&ip), "{inspect}");
    let rm = output(d.docker().args(["network", "rm", &n1]));
    assert!(!rm.status.success(), "removed a network in use");
}

#[test]
fn published_port_serves_localhost_and_conflicts() {
    let Some(d) = daemon("published_port_serves_localhost_and_conflicts") else { return };
    let port = 20000 + (rand_u32() % 10000) as u16;
    let name = format!("pp{port}");
    let _g = NetGuard(&d, name.clone());
    let spec = format!("127.0.0.1:{port}:8080");
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        &format!("{name}-a"),
        "-p",
        &spec,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/etc",
    ]));
    let url = format!("http://127.0.0.1:{port}/hostname");
    assert!(
        eventually(10, || output(std::process::Command::new("wget").args(["-q", "-T", "2", "-O", "-", &url]))
            .status
            .success()
            || output(std::process::Command::new("curl").args(["-sf", "-m", "2", &url])).status.success()),
        "{}",
        d.log()
    );
    let p = ok(d.docker().args(["port", &format!("{name}-a")]));
    assert!(p.contains(&format!("8080/tcp -> 127.0.0.1:{port}")), "{p}");
    assert_eq!(ok(d.berth().args(["port", &format!("{name}-a")])), p, "berth port differs from docker port");
    assert_eq!(ok(d.berth().args(["port", &format!("{name}-a"), "8080"])), format!("127.0.0.1:{port}\n"));
    let none = output(d.berth().args(["port", &format!("{name}-a"), "9999"]));
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("No public port '9999/tcp' published"), "{}", stderr(&none));
    let out =
        output(d.docker().args(["run", "-d", "--name", &format!("{name}-b"), "-p", &spec, "busybox", "sleep", "30"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already allocated"), "{}", stderr(&out));
}

#[test]
fn ipam_survives_restart_and_cleanup_leaves_nothing() {
    let Some(mut d) = daemon("ipam_survives_restart_and_cleanup_leaves_nothing") else { return };
    ok(d.docker().args(["run", "-d", "--name", "r1", "busybox", "sleep", "300"]));
    let ip1 = addr_of(&d, "r1");
    d.restart().unwrap();
    ok(d.docker().args(["run", "-d", "--name", "r2", "busybox", "sleep", "300"]));
    let ip2 = addr_of(&d, "r2");
    assert!(!ip1.is_empty() && ip1 != ip2, "{ip1} {ip2}");
    ok(d.docker().args(["rm", "-f", "r1", "r2"]));
    d.stop().unwrap();
    let links = ok(std::process::Command::new("ip").args(["-br", "link"]));
    assert!(!links.contains(&d.bridge), "{links}");
    assert!(!links.contains("vbr"), "{links}");
    let tables = ok(std::process::Command::new("nft").args(["list", "tables"]));
    assert!(!tables.contains(&d.nft_table), "{tables}");
}

/// The on-link route inside a bridge container uses cubic (or reno) when the host's default
/// congestion control is BBR, unless the container sets its own; the default route never changes.
#[test]
fn onlink_route_congestion_control() {
    let Some(d) = daemon("onlink_route_congestion_control") else { return };
    let _g = NetGuard(&d, "cc".into());
    let host_cc = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control").unwrap();
    let routes = |name: &str, extra: &[&str]| {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "sleep", "60"]);
        ok(d.docker().args(&args));
        let pid = ok(d.docker().args(["inspect", "-f", "{{.State.Pid}}", name])).trim().to_string();
        ok(std::process::Command::new("nsenter").args(["-t", &pid, "-n", "ip", "-4", "route", "show"]))
    };
    let plain = routes("cc-a", &[]);
    let default = plain.lines().find(|l| l.starts_with("default")).unwrap_or_default().to_string();
    let onlink = plain.lines().find(|l| l.contains("scope link")).unwrap_or_default().to_string();
    assert!(default.contains("default via") && !default.contains("congctl"), "{plain}");
    assert!(onlink.contains("dev eth0"), "{plain}");
    let host_side = ok(std::process::Command::new("ip").args(["-4", "route", "show", "dev", &d.bridge]));
    if host_cc.trim().starts_with("bbr") {
        assert!(onlink.contains("congctl cubic") || onlink.contains("congctl reno"), "{plain}");
        assert!(host_side.contains("congctl cubic") || host_side.contains("congctl reno"), "{host_side}");
    } else {
        assert!(!onlink.contains("congctl"), "host default {host_cc}: {plain}");
        assert!(!host_side.contains("congctl"), "host default {host_cc}: {host_side}");
    }
    let own = routes("cc-b", &["--sysctl", "net.ipv4.tcp_congestion_control=reno"]);
    assert!(own.contains("scope link") && !own.contains("congctl"), "{own}");
}

fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    t.subsec_nanos() ^ std::process::id().wrapping_mul(2654435761)
}
