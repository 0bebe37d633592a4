//! End-to-end tests of the networks issue, part 2: embedded DNS (names, aliases, scoping,
//! forwarding), connect/disconnect, `container:` namespaces, `--link`, `--add-host`, UDP and
//! `-P` publishing, and the `berth network` CLI against docker's.

use std::net::UdpSocket;
use std::time::Duration;

use crate::{daemon, eventually, ok, output, stderr};

/// Removes a test's containers and networks when it ends, pass or fail (through the daemon's
/// socket, so the test may still restart the daemon).
pub struct Cleanup {
    host: String,
    containers: Vec<String>,
    networks: Vec<String>,
}

impl Cleanup {
    pub fn new(d: &berth_testkit::TestDaemon, containers: &[&String], networks: &[&String]) -> Cleanup {
        Cleanup {
            host: d.host(),
            containers: containers.iter().map(|c| c.to_string()).collect(),
            networks: networks.iter().map(|n| n.to_string()).collect(),
        }
    }

    fn docker(&self) -> std::process::Command {
        let mut c = std::process::Command::new(std::env::var("BERTH_TEST_DOCKER").unwrap_or_else(|_| "docker".into()));
        c.env("DOCKER_HOST", &self.host);
        c
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.containers.is_empty() {
            let _ = output(self.docker().arg("rm").arg("-f").args(&self.containers));
        }
        for n in &self.networks {
            let _ = output(self.docker().args(["network", "rm", n]));
        }
    }
}

/// A random number (std's randomly keyed hasher: no extra dependency).
pub fn rnd() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now())
}

pub fn tag() -> String {
    format!("{:06x}", rnd() & 0xffffff)
}

/// The first three octets of a /24 for one test network (10.250–254.x: outside testkit's
/// default bridges and Docker's pools, so concurrent test daemons do not collide).
pub fn net24() -> String {
    format!("10.{}.{}", 250 + rnd() % 5, rnd() % 256)
}

fn inspect(d: &berth_testkit::TestDaemon, what: &str, c: &str) -> String {
    ok(d.docker().args(["inspect", "-f", what, c])).trim().to_string()
}

/// Address of `name` as busybox `nslookup` (its own resolver, through /etc/resolv.conf)
/// finds it inside a fresh container on `net`; empty when it does not resolve.
fn lookup_from(d: &berth_testkit::TestDaemon, net: &str, extra: &[&str], name: &str) -> String {
    let script = format!("nslookup -type=a {name} 2>&1 | sed -n 's/^Address: *//p' | grep -v ':53$' | head -n1");
    let mut cmd = d.docker();
    cmd.args(["run", "--rm", "--network", net]).args(extra).args(["busybox", "sh", "-c", &script]);
    String::from_utf8_lossy(&output(&mut cmd).stdout).trim().to_string()
}

/// HTTP GET of `/hostname` on `addr:8080` from a fresh container on `net` (busybox wget's
/// `-T` crashes in Debian's static build: `timeout` bounds it instead).
pub fn fetch_from(d: &berth_testkit::TestDaemon, net: &str, addr: &str) -> String {
    // Not the last command, so the shell stays PID 1 and `timeout` can kill wget.
    let script = format!("timeout 5 wget -q -O - http://{addr}:8080/hostname; true");
    String::from_utf8_lossy(
        &output(d.docker().args(["run", "--rm", "--network", net, "busybox", "sh", "-c", &script])).stdout,
    )
    .into_owned()
}

fn httpd(d: &berth_testkit::TestDaemon, name: &str, extra: &[&str]) {
    let mut cmd = d.docker();
    cmd.args(["run", "-d", "--name", name, "--hostname", name]).args(extra);
    cmd.args(["busybox", "httpd", "-f", "-p", "8080", "-h", "/etc"]);
    ok(&mut cmd);
}

#[test]
fn dns_names_aliases_and_scoping() {
    let Some(d) = daemon("dns_names_aliases_and_scoping") else { return };
    let t = tag();
    let (n1, n2, web) = (format!("dn{t}"), format!("do{t}"), format!("web{t}"));
    let _c = Cleanup::new(&d, &[&web], &[&n1, &n2]);
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &n1]));
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &n2]));
    httpd(&d, &web, &["--network", &n1, "--network-alias", "www", "-l", "com.docker.compose.service=front"]);
    let ip = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{n1}\").IPAddress}}}}"), &web);
    let id = inspect(&d, "{{.Id}}", &web);
    for name in [web.as_str(), "www", "front", &id[..12]] {
        assert_eq!(lookup_from(&d, &n1, &[], name), ip, "{name} on {n1}\n{}", d.log());
    }
    // By name, over HTTP, as the issue asks (busybox wget to busybox httpd).
    assert_eq!(fetch_from(&d, &n1, &web).trim(), web, "{}", d.log());
    let resolv = ok(d.docker().args(["run", "--rm", "--network", &n1, "busybox", "cat", "/etc/resolv.conf"]));
    assert!(resolv.contains("nameserver 127.0.0.11\n") && resolv.contains("ndots:0"), "{resolv}");
    let dns_names = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{n1}\").DNSNames}}}}"), &web);
    assert!(dns_names.contains(&web) && dns_names.contains("www"), "{dns_names}");
    // Not across networks: no name and no route. The forwarder goes to a loopback address
    // where nothing answers, so nothing leaves the host.
    assert_eq!(lookup_from(&d, &n2, &["--dns", "127.0.0.1"], &web), "", "resolved {web} from {n2}");
    assert_eq!(fetch_from(&d, &n2, &ip), "", "reached {ip} across networks");
    // The default bridge has no embedded DNS: the host's resolvers, as on Docker.
    let resolv = ok(d.docker().args(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]));
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
}

#[test]
fn connect_with_alias_then_disconnect() {
    let Some(d) = daemon("connect_with_alias_then_disconnect") else { return };
    let t = tag();
    let (net, web, idle) = (format!("dc{t}"), format!("cw{t}"), format!("ci{t}"));
    let _c = Cleanup::new(&d, &[&web, &idle], &[&net]);
    let sn = net24();
    ok(d.docker().args(["network", "create", "--subnet", &format!("{sn}.0/24"), &net]));
    httpd(&d, &web, &[]);
    let fixed = format!("{sn}.40");
    ok(d.docker().args(["network", "connect", "--alias", "api", "--ip", &fixed, &net, &web]));
    let nets = inspect(&d, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", &web);
    assert!(nets.contains("bridge=") && nets.contains(&format!("{net}={fixed}")), "{nets}");
    let aliases = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{net}\").Aliases}}}}"), &web);
    assert!(aliases.contains("api"), "{aliases}");
    assert_eq!(lookup_from(&d, &net, &[], "api"), fixed, "{}", d.log());
    assert_eq!(fetch_from(&d, &net, "api").trim(), web);
    let links = ok(d.docker().args(["exec", &web, "ls", "/sys/class/net"]));
    assert_eq!(links.split_whitespace().collect::<Vec<_>>(), ["eth0", "eth1", "lo"]);
    // Connecting twice is dockerd's 403.
    let again = output(d.docker().args(["network", "connect", &net, &web]));
    assert!(stderr(&again).contains("already exists in network"), "{}", stderr(&again));

    ok(d.docker().args(["network", "disconnect", &net, &web]));
    assert_eq!(lookup_from(&d, &net, &["--dns", "127.0.0.1"], "api"), "");
    let links = ok(d.docker().args(["exec", &web, "ls", "/sys/class/net"]));
    assert_eq!(links.split_whitespace().collect::<Vec<_>>(), ["eth0", "lo"]);
    let net_json = ok(d.docker().args(["network", "inspect", "-f", "{{len .Containers}}", &net]));
    assert_eq!(net_json.trim(), "0");

    // A stopped container is connected at its next start.
    ok(d.docker().args(["create", "--name", &idle, "busybox", "sleep", "300"]));
    ok(d.docker().args(["network", "connect", &net, &idle]));
    let before = inspect(&d, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", &idle);
    assert!(before.contains(&net) && before.contains("bridge"), "{before}");
    ok(d.docker().args(["start", &idle]));
    let ip = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}"), &idle);
    assert!(ip.starts_with(&format!("{sn}.")), "{ip}");
    let rm = output(d.docker().args(["network", "rm", &net]));
    assert!(!rm.status.success() && stderr(&rm).contains("active endpoints"), "{}", stderr(&rm));
}

#[test]
fn container_mode_link_add_host_and_dns_flags() {
    let Some(d) = daemon("container_mode_link_add_host_and_dns_flags") else { return };
    let t = tag();
    let (net, a) = (format!("dm{t}"), format!("ma{t}"));
    let _c = Cleanup::new(&d, &[&a], &[&net]);
    ok(d.docker().args(["run", "-d", "--name", &a, "busybox", "sleep", "300"]));
    let mac = inspect(&d, "{{.NetworkSettings.Networks.bridge.MacAddress}}", &a);
    let ip = inspect(&d, "{{.NetworkSettings.Networks.bridge.IPAddress}}", &a);
    let shared = ok(d.docker().args([
        "run",
        "--rm",
        "--network",
        &format!("container:{a}"),
        "busybox",
        "cat",
        "/sys/class/net/eth0/address",
    ]));
    assert_eq!(shared.trim(), mac);
    let hosts = ok(d.docker().args(["run", "--rm", "--link", &format!("{a}:db"), "busybox", "cat", "/etc/hosts"]));
    assert!(hosts.lines().any(|l| l.starts_with(&format!("{ip}\tdb "))), "{hosts}");

    let sn = net24();
    let (subnet, gw, fixed) = (format!("{sn}.0/24"), format!("{sn}.254"), format!("{sn}.77"));
    ok(d.docker().args(["network", "create", "--subnet", &subnet, "--gateway", &gw, &net]));
    let out = ok(d.docker().args([
        "run",
        "--rm",
        "--network",
        &net,
        "--ip",
        &fixed,
        "--hostname",
        "box",
        "--dns-search",
        "example.test",
        "--dns-option",
        "ndots:2",
        "--add-host",
        "gw:host-gateway",
        "--add-host",
        "foo:10.1.2.3",
        "busybox",
        "sh",
        "-c",
        "cat /etc/resolv.conf /etc/hosts; ip -4 addr show eth0",
    ]));
    assert!(out.contains("search example.test\nnameserver 127.0.0.11\noptions ndots:2\n"), "{out}");
    assert!(out.contains(&format!("{gw}\tgw\n")) && out.contains("10.1.2.3\tfoo\n"), "{out}");
    assert!(out.contains(&format!("{fixed}\tbox\n")) && out.contains(&format!("inet {fixed}/24")), "{out}");
    let bad = output(d.docker().args(["create", "--ip", &fixed, "busybox", "true"]));
    assert!(!bad.status.success(), "--ip on the default bridge");
    assert!(
        stderr(&bad).contains("user specified IP address is supported on user defined networks only"),
        "{}",
        stderr(&bad)
    );
}

/// A fake upstream DNS server on a loopback address: answers every A query with 192.0.2.7.
fn fake_upstream(addr: &str) -> std::thread::JoinHandle<()> {
    let sock = UdpSocket::bind(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let q = &buf[..n];
            // Question: name labels from byte 12, then type and class.
            let mut i = 12;
            while i < n && q[i] != 0 {
                i += 1 + q[i] as usize;
            }
            let end = i + 5;
            if end > n {
                continue;
            }
            let is_a = q[i + 1] == 0 && q[i + 2] == 1;
            let mut r = q[..2].to_vec();
            r.extend([0x81, 0x80, 0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
            r.extend(&q[12..end]);
            if is_a {
                r.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
            }
            let _ = sock.send_to(&r, from);
        }
    })
}

#[test]
fn dns_forwards_unknown_names_upstream() {
    let Some(d) = daemon("dns_forwards_unknown_names_upstream") else { return };
    let t = tag();
    let net = format!("df{t}");
    let _c = Cleanup::new(&d, &[], &[&net]);
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &net]));
    let upstream = format!("127.77.{}.{}", rnd() % 256, 1 + rnd() % 250);
    let _server = fake_upstream(&format!("{upstream}:53"));
    let got = lookup_from(&d, &net, &["--dns", &upstream], "outside.example");
    assert_eq!(got, "192.0.2.7", "{}", d.log());
}

#[test]
fn publish_all_and_udp() {
    let Some(d) = daemon("publish_all_and_udp") else { return };
    let t = tag();
    let (web, echo) = (format!("pa{t}"), format!("pu{t}"));
    let _c = Cleanup::new(&d, &[&web, &echo], &[]);
    httpd(&d, &web, &["-P", "--expose", "8080"]);
    let port = ok(d.docker().args(["port", &web, "8080/tcp"]));
    let host_port = port.lines().next().and_then(|l| l.rsplit_once(':')).map(|(_, p)| p.to_string()).unwrap();
    assert!(host_port.parse::<u16>().unwrap() > 0, "{port}");
    let url = format!("http://127.0.0.1:{host_port}/hostname");
    assert!(
        eventually(10, || output(std::process::Command::new("curl").args(["-sf", "-m", "2", &url])).status.success()),
        "{url}\n{}",
        d.log()
    );

    // Debian's busybox nc has no UDP mode: the UDP server is a thread of this test that enters
    // the container's network namespace (the published port's DNAT and the reply's path are
    // what is tested).
    let udp_port = 20000 + (rnd() % 20000) as u16;
    let spec = format!("127.0.0.1:{udp_port}:9999/udp");
    ok(d.docker().args(["run", "-d", "--name", &echo, "-p", &spec, "busybox", "sleep", "300"]));
    let pid = inspect(&d, "{{.State.Pid}}", &echo);
    let server = udp_echo_in(&format!("/proc/{pid}/ns/net"), 9999);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut buf = [0u8; 64];
    let seen = eventually(10, || {
        let _ = sock.send_to(b"over-udp", ("127.0.0.1", udp_port));
        matches!(sock.recv_from(&mut buf), Ok((n, _)) if &buf[..n] == b"pong:over-udp")
    });
    assert!(seen, "{}", d.log());
    drop(server);
    assert_eq!(ok(d.docker().args(["port", &echo])).trim(), format!("9999/udp -> 127.0.0.1:{udp_port}"));
}

/// A UDP server bound inside the namespace at `netns`, answering `pong:<datagram>`, for 20 s.
fn udp_echo_in(netns: &str, port: u16) -> std::thread::JoinHandle<()> {
    let file = std::fs::File::open(netns).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let s = UdpSocket::bind(("0.0.0.0", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        tx.send(()).unwrap();
        let mut buf = [0u8; 64];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let mut reply = b"pong:".to_vec();
            reply.extend(&buf[..n]);
            let _ = s.send_to(&reply, from);
        }
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    h
}

#[test]
fn network_cli_matches_docker() {
    let Some(d) = daemon("network_cli_matches_docker") else { return };
    let t = tag();
    let (net, other) = (format!("nc{t}"), format!("nd{t}"));
    let _c = Cleanup::new(&d, &[], &[&net, &other]);
    let sn = net24();
    let (subnet, range, brname) =
        (format!("{sn}.0/24"), format!("{sn}.128/25"), format!("com.docker.network.bridge.name=bn{t}"));
    let id = ok(d.berth().args([
        "network",
        "create",
        "--subnet",
        &subnet,
        "--ip-range",
        &range,
        "--label",
        "team=blue",
        "-o",
        &brname,
        &net,
    ]));
    assert_eq!(id.trim().len(), 64, "{id}");
    ok(d.docker().args(["network", "create", "--internal", "--subnet", &format!("{}.0/24", net24()), &other]));
    for args in [
        vec!["network", "ls"],
        vec!["network", "ls", "-q"],
        vec!["network", "ls", "--no-trunc"],
        vec!["network", "ls", "--filter", "label=team=blue", "--format", "{{.Name}} {{.Driver}} {{.Internal}}"],
        vec!["network", "inspect", "-f", "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.IPRange}}{{end}}", &net],
    ] {
        assert_eq!(ok(d.berth().args(&args)), ok(d.docker().args(&args)), "{args:?}");
    }
    let filtered = ok(d.berth().args(["network", "ls", "--filter", "label=team=blue", "-q"]));
    assert_eq!(filtered.lines().count(), 1, "{filtered}");
    let opts = ok(d.berth().args(["network", "inspect", "-f", "{{.Internal}} {{json .Options}}", &other]));
    assert!(opts.starts_with("true "), "{opts}");
    // berth run's networking flags reach the daemon.
    let c = format!("nr{t}");
    let _cc = Cleanup::new(&d, &[&c], &[]);
    let fixed = format!("{sn}.200");
    ok(d.berth().args([
        "run",
        "-d",
        "--name",
        &c,
        "--network",
        &net,
        "--network-alias",
        "viaberth",
        "--ip",
        &fixed,
        "--add-host",
        "h1:10.9.9.9",
        "busybox",
        "sleep",
        "300",
    ]));
    let got = inspect(
        &d,
        &format!(
            "{{{{with index .NetworkSettings.Networks \"{net}\"}}}}{{{{.Aliases}}}} {{{{.IPAddress}}}}{{{{end}}}}"
        ),
        &c,
    );
    assert_eq!(got, format!("[viaberth] {fixed}"));
    assert!(ok(d.docker().args(["exec", &c, "cat", "/etc/hosts"])).contains("10.9.9.9\th1\n"));
    ok(d.docker().args(["rm", "-f", &c]));
    let missing = output(d.berth().args(["network", "rm", &format!("nope{t}")]));
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("not found"), "{}", stderr(&missing));
    assert_eq!(ok(d.berth().args(["network", "rm", &other])), format!("{other}\n"));
    let pruned = ok(d.berth().args(["network", "prune", "-f", "--filter", "label=team=blue"]));
    assert_eq!(pruned, format!("Deleted Networks:\n{net}\n\n"));
    let ls = ok(d.berth().args(["network", "ls", "--format", "{{.Name}}"]));
    assert_eq!(ls, "bridge\nhost\nnone\n");
}

#[test]
fn dns_survives_daemon_restart() {
    let Some(mut d) = daemon("dns_survives_daemon_restart") else { return };
    let t = tag();
    let (net, web) = (format!("dr{t}"), format!("rw{t}"));
    let _c = Cleanup::new(&d, &[&web], &[&net]);
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &net]));
    httpd(&d, &web, &["--network", &net]);
    let ip = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}"), &web);
    d.restart().unwrap();
    // The running container's own server answers again (it died with the old daemon).
    let got = ok(d.docker().args(["exec", &web, "nslookup", "-type=a", &web]));
    assert!(got.contains(&format!("Address: {ip}")), "{got}\n{}", d.log());
    assert_eq!(fetch_from(&d, &net, &web).trim(), web);
}
