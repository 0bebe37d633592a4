//! End-to-end: `POST /containers/prune` (ContainerPrune), `container prune` and `system prune`
//! with the docker CLI and with `berth` (issue 3).

use berth_testkit::TestDaemon;

use crate::{daemon, ok, output, stderr};

/// Removes the test's containers and network however the test ends.
struct Guard<'a>(&'a TestDaemon, &'static [&'static str], String);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        for n in self.1 {
            let _ = output(self.0.docker().args(["rm", "-f", n]));
        }
        if !self.2.is_empty() {
            let _ = output(self.0.docker().args(["network", "rm", &self.2]));
        }
    }
}

fn id(d: &TestDaemon, name: &str) -> String {
    ok(d.docker().args(["inspect", "-f", "{{.Id}}", name])).trim().to_string()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn names(d: &TestDaemon) -> Vec<String> {
    ok(d.docker().args(["ps", "-a", "--format", "{{.Names}}"])).lines().map(String::from).collect()
}

#[test]
fn container_prune_filters_and_event() {
    let Some(d) = daemon("container_prune_filters_and_event") else { return };
    let _g = Guard(&d, &["pr-done", "pr-created", "pr-keep", "pr-run"], String::new());
    ok(d.docker().args(["run", "--name", "pr-done", "busybox", "sh", "-c", "echo data > /written"]));
    ok(d.docker().args(["create", "--name", "pr-created", "busybox", "true"]));
    ok(d.docker().args(["run", "--name", "pr-keep", "--label", "keep=1", "busybox", "true"]));
    ok(d.docker().args(["run", "-d", "--name", "pr-run", "busybox", "sleep", "300"]));
    let (done, created, keep) = (id(&d, "pr-done"), id(&d, "pr-created"), id(&d, "pr-keep"));
    let t0 = unix_now() - 1;

    // Bad filters are refused as dockerd does, and nothing is removed.
    let r = d.request("POST", "/v1.41/containers/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", None);
    assert_eq!(r.status, 400);
    assert_eq!(String::from_utf8_lossy(&r.body), r#"{"message":"Invalid filter 'bogus'"}"#);
    let r = d.request("POST", "/v1.41/containers/prune?filters=%7B%22until%22%3A%5B%22garbage%22%5D%7D", None);
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(names(&d).len(), 4);

    // `until` older than every container: nothing to prune, docker prints only the total.
    let out = ok(d.docker().args(["container", "prune", "-f", "--filter", "until=1h"]));
    assert_eq!(out, "Total reclaimed space: 0B\n");

    // label! keeps pr-keep; the running container is never pruned.
    let out = ok(d.docker().args(["container", "prune", "-f", "--filter", "label!=keep"]));
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"Deleted Containers:"), "{out}");
    assert!(lines.last().is_some_and(|l| l.starts_with("Total reclaimed space: ")), "{out}");
    let mut deleted: Vec<&str> = lines.drain(1..3).collect();
    deleted.sort();
    let mut want = vec![done.as_str(), created.as_str()];
    want.sort();
    assert_eq!(deleted, want, "{out}");
    // pr-done wrote a file into its writable layer: the space is counted.
    assert_ne!(lines.last(), Some(&"Total reclaimed space: 0B"), "{out}");
    let mut left = names(&d);
    left.sort();
    assert_eq!(left, ["pr-keep", "pr-run"]);

    // The prune event, with dockerd's shape: container type, empty actor id, `reclaimed`.
    let t1 = unix_now() + 1;
    let ev = ok(d.docker().args([
        "events",
        "--since",
        &t0.to_string(),
        "--until",
        &t1.to_string(),
        "--filter",
        "event=prune",
        "--format",
        "{{.Type}} {{.Action}} [{{.Actor.ID}}] {{index .Actor.Attributes \"reclaimed\"}}",
    ]));
    let ev: Vec<&str> = ev.lines().collect();
    assert_eq!(ev.len(), 2, "{ev:?}"); // the until=1h prune and the label! prune; refused ones emit none
    assert!(ev.iter().all(|l| l.starts_with("container prune [] ")), "{ev:?}");
    assert_eq!(ev[0], "container prune [] 0", "{ev:?}");

    // berth's own CLI: the same verb, with label filter selecting pr-keep.
    let out = ok(d.berth().args(["container", "prune", "-f", "--filter", "label=keep=1"]));
    assert_eq!(out, format!("Deleted Containers:\n{keep}\n\nTotal reclaimed space: 0B\n"));
    assert_eq!(names(&d), ["pr-run"]);
}

/// Sets up one stopped container and one unused network, as `system prune` finds them.
fn stopped_and_network(d: &TestDaemon, net: &str) -> String {
    let subnet = format!("{}.0/24", crate::networks_dns::net24());
    ok(d.docker().args(["network", "create", "--subnet", &subnet, net]));
    ok(d.docker().args(["run", "--name", "sp-done", "busybox", "true"]));
    id(d, "sp-done")
}

#[test]
fn system_prune_like_docker_cli() {
    let Some(d) = daemon("system_prune_like_docker_cli") else { return };
    let net = format!("sp{:06x}", std::process::id() & 0xffffff);
    let _g = Guard(&d, &["sp-done", "sp-run"], net.clone());
    ok(d.docker().args(["run", "-d", "--name", "sp-run", "busybox", "sleep", "300"]));

    // The docker CLI composes the prune endpoints itself.
    let cid = stopped_and_network(&d, &net);
    let docker_out = ok(d.docker().args(["system", "prune", "-f"]));
    let want = format!("Deleted Containers:\n{cid}\n\nDeleted Networks:\n{net}\n\nTotal reclaimed space: 0B\n");
    assert_eq!(docker_out, want);

    // berth composes them the same way and prints the same text.
    let cid = stopped_and_network(&d, &net);
    let berth_out = ok(d.berth().args(["system", "prune", "-f"]));
    assert_eq!(
        berth_out,
        format!("Deleted Containers:\n{cid}\n\nDeleted Networks:\n{net}\n\nTotal reclaimed space: 0B\n")
    );
    assert_eq!(names(&d), ["sp-run"]);
    assert!(busybox_still_there(&d), "busybox is used by sp-run and tagged: never pruned");

    // Declining the prompt removes nothing; `until` with `--volumes` is refused before it.
    ok(d.docker().args(["run", "--name", "sp-done", "busybox", "true"]));
    let out = output(d.berth().args(["system", "prune"]));
    assert!(out.status.success());
    let prompt = String::from_utf8_lossy(&out.stdout);
    assert!(prompt.starts_with("WARNING! This will remove:\n  - all stopped containers\n"), "{prompt}");
    assert!(prompt.ends_with("Are you sure you want to continue? [y/N] "), "{prompt}");
    assert!(names(&d).contains(&"sp-done".to_string()));
    let out = output(d.berth().args(["system", "prune", "-f", "--volumes", "--filter", "until=1h"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(r#"ERROR: The "until" filter is not supported with "--volumes""#),
        "{}",
        stderr(&out)
    );
    assert!(names(&d).contains(&"sp-done".to_string()));
}

fn busybox_still_there(d: &TestDaemon) -> bool {
    ok(d.docker().args(["images", "--format", "{{.Repository}}"])).lines().any(|l| l == "busybox")
}
