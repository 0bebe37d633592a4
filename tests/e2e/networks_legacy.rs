//! Networking details dockerd users rely on: inspect's legacy top-level
//! `NetworkSettings.IPAddress` (and friends) on the default bridge, `--link`'s environment and
//! /etc/hosts line, embedded DNS answering `name.network`, and `network prune` filters.

use crate::networks_dns::{net24, tag, Cleanup};
use crate::{daemon, ok, output, stderr};

fn inspect(d: &berth_testkit::TestDaemon, what: &str, c: &str) -> String {
    ok(d.docker().args(["inspect", "-f", what, c])).trim().to_string()
}

/// busybox `nslookup` of `name` from a fresh container on `net` (loopback forwarder, so
/// nothing leaves the host); the address, or empty when it does not resolve.
fn lookup_from(d: &berth_testkit::TestDaemon, net: &str, name: &str) -> String {
    let script = format!("nslookup -type=a {name} 2>&1 | sed -n 's/^Address: *//p' | grep -v ':53$' | head -n1");
    let mut cmd = d.docker();
    cmd.args(["run", "--rm", "--network", net, "--dns", "127.0.0.1", "busybox", "sh", "-c", &script]);
    String::from_utf8_lossy(&output(&mut cmd).stdout).trim().to_string()
}

#[test]
fn default_bridge_legacy_settings_and_links() {
    let Some(d) = daemon("default_bridge_legacy_settings_and_links") else { return };
    let t = tag();
    let (net, web, other) = (format!("lg{t}"), format!("lw{t}"), format!("lo{t}"));
    let _c = Cleanup::new(&d, &[&web, &other], &[&net]);
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        &web,
        "--hostname",
        "webhost",
        "--expose",
        "8080",
        "-e",
        "GREETING=hi there",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/etc",
    ]));
    // The script idiom: the legacy fields are those of the bridge endpoint.
    let legacy = inspect(
        &d,
        "{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}} \
         {{.NetworkSettings.MacAddress}} {{.NetworkSettings.EndpointID}}",
        &web,
    );
    let bridge = inspect(
        &d,
        "{{with .NetworkSettings.Networks.bridge}}{{.IPAddress}} {{.Gateway}} {{.IPPrefixLen}} {{.MacAddress}} \
         {{.EndpointID}}{{end}}",
        &web,
    );
    assert_eq!(legacy, bridge);
    let fields: Vec<&str> = legacy.split(' ').collect();
    assert!(fields.len() == 5 && fields.iter().all(|f| !f.is_empty()), "{legacy}");
    let ip = fields[0].to_string();
    let ps = ok(d.docker().args(["ps", "--filter", &format!("name={web}"), "--format", "{{.Networks}}"]));
    assert_eq!(ps.trim(), "bridge");

    // On a user-defined network only, they are empty.
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &net]));
    ok(d.docker().args(["run", "-d", "--name", &other, "--network", &net, "busybox", "sleep", "300"]));
    let legacy = inspect(&d, "{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.Gateway}}|{{.NetworkSettings.IPPrefixLen}}|{{.NetworkSettings.MacAddress}}", &other);
    assert_eq!(legacy, "||0|");
    let own = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}"), &other);
    assert!(!own.is_empty());

    // --link: dockerd's variables and hosts line.
    let out = ok(d.docker().args([
        "run",
        "--rm",
        "--name",
        &format!("lc{t}"),
        "--link",
        &format!("{web}:db"),
        "busybox",
        "sh",
        "-c",
        "env; echo ---; cat /etc/hosts; echo ---; wget -q -O - http://db:8080/hostname",
    ]));
    let (env, rest) = out.split_once("---\n").unwrap();
    let (hosts, fetched) = rest.split_once("---\n").unwrap();
    for want in [
        format!("DB_PORT=tcp://{ip}:8080"),
        format!("DB_PORT_8080_TCP=tcp://{ip}:8080"),
        format!("DB_PORT_8080_TCP_ADDR={ip}"),
        "DB_PORT_8080_TCP_PORT=8080".to_string(),
        "DB_PORT_8080_TCP_PROTO=tcp".to_string(),
        format!("DB_NAME=/lc{t}/db"),
        "DB_ENV_GREETING=hi there".to_string(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing from:\n{env}");
    }
    assert!(!env.contains("DB_ENV_PATH=") && !env.contains("DB_ENV_HOME="), "{env}");
    assert!(hosts.lines().any(|l| l == format!("{ip}\tdb webhost {web}")), "{hosts}");
    assert_eq!(fetched.trim(), "webhost");
}

#[test]
fn dns_answers_names_qualified_with_the_network() {
    let Some(d) = daemon("dns_answers_names_qualified_with_the_network") else { return };
    let t = tag();
    let (n1, n2, web) = (format!("qa{t}"), format!("qb{t}"), format!("qw{t}"));
    let _c = Cleanup::new(&d, &[&web], &[&n1, &n2]);
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &n1]));
    ok(d.docker().args(["network", "create", "--subnet", &format!("{}.0/24", net24()), &n2]));
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        &web,
        "--network",
        &n1,
        "--network-alias",
        "www",
        "busybox",
        "sleep",
        "300",
    ]));
    let ip = inspect(&d, &format!("{{{{(index .NetworkSettings.Networks \"{n1}\").IPAddress}}}}"), &web);
    let id = inspect(&d, "{{.Id}}", &web);
    let short = &id[..12];
    for name in [web.clone(), format!("{web}.{n1}"), format!("www.{n1}"), short.to_string(), format!("{short}.{n1}")] {
        assert_eq!(lookup_from(&d, &n1, &name), ip, "{name} on {n1}\n{}", d.log());
    }
    // Reverse lookups answer the qualified name, as Docker's.
    let mut cmd = d.docker();
    cmd.args(["run", "--rm", "--network", &n1, "--dns", "127.0.0.1", "busybox", "nslookup", &ip]);
    let reverse = String::from_utf8_lossy(&output(&mut cmd).stdout).into_owned();
    assert!(reverse.contains(&format!("name = {web}.{n1}")), "{reverse}");
    // Qualified with another network's name, or asked from another network: unknown.
    assert_eq!(lookup_from(&d, &n1, &format!("{web}.{n2}")), "");
    assert_eq!(lookup_from(&d, &n2, &format!("{web}.{n1}")), "");
}

#[test]
fn network_prune_until_and_label_filters() {
    let Some(d) = daemon("network_prune_until_and_label_filters") else { return };
    let t = tag();
    let (a, b, c) = (format!("pa{t}"), format!("pb{t}"), format!("pc{t}"));
    let _c = Cleanup::new(&d, &[], &[&a, &b, &c]);
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 2;
    ok(d.docker().args(["network", "create", "--label", "env=test", &a]));
    ok(d.docker().args(["network", "create", "--label", "env=prod", &b]));
    ok(d.docker().args(["network", "create", "--label", "keep", &c]));
    let names = |d: &berth_testkit::TestDaemon| ok(d.docker().args(["network", "ls", "--format", "{{.Name}}"]));
    // All three were created after `before`: nothing to prune.
    let out = ok(d.docker().args(["network", "prune", "-f", "--filter", &format!("until={before}")]));
    assert_eq!(out.trim(), "", "{out}");
    assert!(names(&d).contains(&a) && names(&d).contains(&b) && names(&d).contains(&c));
    let out = ok(d.docker().args(["network", "prune", "-f", "--filter", "label=env=test"]));
    assert_eq!(out, format!("Deleted Networks:\n{a}\n\n"));
    let out = ok(d.docker().args(["network", "prune", "-f", "--filter", "label!=keep"]));
    assert_eq!(out, format!("Deleted Networks:\n{b}\n\n"));
    let left = names(&d);
    assert!(left.contains(&c) && !left.contains(&a) && !left.contains(&b), "{left}");
    // dockerd's messages for bad filters.
    let bad = output(d.docker().args(["network", "prune", "-f", "--filter", "until=soon"]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains(r#"failed to parse value as time or duration: "soon""#), "{}", stderr(&bad));
    let bad = output(d.docker().args(["network", "prune", "-f", "--filter", "bogus=1"]));
    assert!(stderr(&bad).contains("Invalid filter 'bogus'"), "{}", stderr(&bad));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = ok(d.docker().args(["network", "prune", "-f", "--filter", "until=1s"]));
    assert_eq!(out, format!("Deleted Networks:\n{c}\n\n"));
}
